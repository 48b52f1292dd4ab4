use super::*;
use crate::graph::Category;
use std::collections::BTreeSet;

mod model;

/// Builds a graph with string helpers, so tests read like topologies.
struct Fixture {
    g: Graph,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture { g: Graph::new() }
    }

    fn add(&mut self, ty: &str, id: &str) -> VertexId {
        self.try_add(ty, id).expect("vertex is added")
    }

    fn try_add(&mut self, ty: &str, id: &str) -> Result<VertexId, GraphError> {
        let vitrage_type = self.g.intern(ty)?;
        let entity_id = self.g.intern(id)?;
        self.g.add_vertex(NewVertex {
            category: Category::Resource,
            vitrage_type,
            entity_id,
            is_placeholder: false,
            props: Props::from_pairs([(names::ID, Value::Str(entity_id))]),
        })
    }

    fn ty(&self, ty: &str) -> Vec<VertexId> {
        self.g.interner().get(ty).map(|t| self.g.vertices_of_type(t).collect()).unwrap_or_default()
    }

    fn pairs(&self, label: Label) -> Vec<(VertexId, VertexId)> {
        self.g.edges_with_label(label).collect()
    }
}

fn edge(source: VertexId, label: Label, target: VertexId) -> EdgeKey {
    EdgeKey { source, target, label }
}

/// Recomputes every index from vertex storage and checks the graph's indexes, counts and
/// mirrored adjacency entries against it.
pub(super) fn check_indexes(g: &Graph) {
    let mut by_type: BTreeMap<Sym, BTreeSet<VertexId>> = BTreeMap::new();
    let mut by_label: BTreeMap<Label, BTreeSet<(VertexId, VertexId)>> = BTreeMap::new();
    let mut live_vertices = 0;
    for (id, v) in g.vertices() {
        let list = v.adj.as_slice();
        assert!(list.windows(2).all(|w| w[0].order() < w[1].order()), "{id} adjacency sorted");
        if !v.is_deleted {
            live_vertices += 1;
            by_type.entry(v.vitrage_type).or_default().insert(id);
        }
        assert_eq!(matches!(v.adj, AdjList::Many(_)), list.len() > 1, "{id} inline when small");
        for a in list {
            let key = a.edge_key(id);
            let mirror = match a.dir {
                Dir::Out => in_probe(key),
                Dir::In => out_probe(key),
            };
            let owner = g.vertex(mirror_owner(key, a.dir)).expect("edge end is stored");
            let found = owner.adj.position(&mirror).map(|p| owner.adj.as_slice()[p].is_deleted);
            assert_eq!(found, Some(a.is_deleted), "{key} mirrored with the same flag");
            if a.dir == Dir::Out && !a.is_deleted {
                assert!(!v.is_deleted, "live edge {key} leaves a deleted vertex");
                by_label.entry(a.label).or_default().insert((key.source, key.target));
            }
        }
    }
    let types: BTreeMap<Sym, Vec<VertexId>> =
        g.by_type.iter().map(|(&t, set)| (t, set.iter().collect())).collect();
    let expected: BTreeMap<Sym, Vec<VertexId>> =
        by_type.into_iter().map(|(t, set)| (t, set.into_iter().collect())).collect();
    assert_eq!(types, expected);
    assert_eq!(g.labels().collect::<Vec<_>>(), by_label.keys().copied().collect::<Vec<_>>());
    for (&label, pairs) in &by_label {
        let got: Vec<_> = g.edges_with_label(label).collect();
        assert_eq!(got, pairs.iter().copied().collect::<Vec<_>>(), "{label:?} edges");
        assert_eq!(g.by_label[&label].count, pairs.len(), "{label:?} counted");
        let sources: BTreeSet<VertexId> = pairs.iter().map(|&(s, _)| s).collect();
        let indexed: BTreeSet<VertexId> = g.by_label[&label].sources.iter().collect();
        assert_eq!(indexed, sources, "{label:?} sources");
    }
    assert_eq!(g.live_vertices, live_vertices);
    assert_eq!(g.live_edges, by_label.values().map(BTreeSet::len).sum::<usize>());
    for &id in g.by_key.iter() {
        let v = g.vertex(id).expect("the key index holds stored vertices");
        assert_eq!(g.vertex_by_key(v.vitrage_type, v.entity_id), Some(id), "{id} is found by key");
    }
}

fn mirror_owner(key: EdgeKey, dir: Dir) -> VertexId {
    match dir {
        Dir::Out => key.target,
        Dir::In => key.source,
    }
}

#[test]
fn vertices_are_indexed_by_type_and_key() {
    let mut f = Fixture::new();
    let h1 = f.add("nova.host", "h1");
    let h2 = f.add("nova.host", "h2");
    let vm = f.add("nova.instance", "vm");
    assert_eq!(f.ty("nova.host"), [h1, h2]);
    assert_eq!(f.ty("nova.instance"), [vm]);
    assert_eq!(f.g.find_vertex("nova.host", "h2"), Some(h2));
    assert_eq!(f.g.find_vertex("nova.host", "h3"), None);
    let v = f.g.vertex(h1).expect("stored");
    assert_eq!(v.get(names::VITRAGE_CATEGORY), Some(Value::Str(names::CATEGORY_RESOURCE)));
    assert_eq!(v.get(names::VITRAGE_IS_DELETED), Some(Value::Bool(false)));
    assert_eq!(v.get(names::VITRAGE_IS_PLACEHOLDER), Some(Value::Bool(false)));
    assert_eq!(f.g.resolve(v.get_str(names::VITRAGE_TYPE).expect("type")), "nova.host");
    assert_eq!(f.g.resolve(v.get_str(names::ID).expect("id")), "h1");
    assert!(v.is_matchable());
    check_indexes(&f.g);
}

#[test]
fn a_live_key_cannot_be_added_twice() {
    let mut f = Fixture::new();
    let h = f.add("nova.host", "h1");
    let err = f.try_add("nova.host", "h1");
    assert_eq!(
        err,
        Err(GraphError::DuplicateKey {
            vitrage_type: "nova.host".to_owned(),
            entity_id: "h1".to_owned(),
            existing: h
        })
    );
    assert_eq!(f.g.take_changes(), [GraphChange::VertexAdded(h)]);
}

#[test]
fn reserved_properties_are_refused() {
    let mut g = Graph::new();
    let key = g.intern("k").expect("intern");
    let new = |props| NewVertex {
        category: Category::Alarm,
        vitrage_type: key,
        entity_id: key,
        is_placeholder: false,
        props,
    };
    let bad = Props::from_pairs([(names::VITRAGE_IS_DELETED, Value::Bool(true))]);
    assert_eq!(g.add_vertex(new(bad)), Err(GraphError::ReservedProperty("vitrage_is_deleted")));
    let id = g.add_vertex(new(Props::default())).expect("added");
    let bad = Props::from_pairs([(names::VITRAGE_TYPE, Value::Str(key))]);
    assert_eq!(g.update_vertex(id, bad), Err(GraphError::ReservedProperty("vitrage_type")));
    let bad = Props::from_pairs([(names::VITRAGE_IS_PLACEHOLDER, Value::Str(key))]);
    assert_eq!(
        g.update_vertex(id, bad),
        Err(GraphError::ReservedProperty("vitrage_is_placeholder"))
    );
}

#[test]
fn edges_form_a_multigraph_over_labels() {
    let mut f = Fixture::new();
    let (zone, h1, h2) =
        (f.add("nova.zone", "z"), f.add("nova.host", "h1"), f.add("nova.host", "h2"));
    let connect = f.g.label("connect").expect("label");
    assert_eq!(connect, Label::CONNECT);
    assert_eq!(f.g.add_edge(edge(zone, Label::CONTAINS, h2)), Ok(true));
    assert_eq!(f.g.add_edge(edge(zone, Label::CONTAINS, h1)), Ok(true));
    assert_eq!(f.g.add_edge(edge(zone, Label::CONTAINS, h1)), Ok(false), "already live");
    assert_eq!(f.g.add_edge(edge(zone, connect, h1)), Ok(true));
    assert_eq!(f.g.add_edge(edge(h1, connect, zone)), Ok(true));
    assert_eq!(f.pairs(Label::CONTAINS), [(zone, h1), (zone, h2)]);
    assert_eq!(f.g.out_neighbours(zone, Label::CONTAINS).collect::<Vec<_>>(), [h1, h2]);
    assert_eq!(f.g.in_neighbours(h1, Label::CONTAINS).collect::<Vec<_>>(), [zone]);
    assert_eq!(f.g.in_neighbours(h1, connect).collect::<Vec<_>>(), [zone]);
    assert_eq!(f.g.out_neighbours(h1, connect).collect::<Vec<_>>(), [zone]);
    assert_eq!(f.g.out_neighbours(h1, Label::CONTAINS).count(), 0);
    assert_eq!(f.g.labels().collect::<Vec<_>>(), [Label::CONTAINS, Label::CONNECT]);
    assert_eq!(f.g.live_edge_count(), 4);
    let e = f.g.edge(edge(zone, connect, h1)).expect("stored");
    assert_eq!(e.get(names::RELATIONSHIP_TYPE), Some(Value::Str(Label::CONNECT.sym())));
    assert_eq!(f.g.edge(edge(h1, Label::CONTAINS, zone)), None);
    check_indexes(&f.g);
}

#[test]
fn soft_deleted_edges_leave_live_indexes_and_can_return() {
    let mut f = Fixture::new();
    let (h, vm) = (f.add("nova.host", "h"), f.add("nova.instance", "vm"));
    let e = edge(h, Label::CONTAINS, vm);
    f.g.add_edge(e).expect("added");
    f.g.take_changes();
    assert_eq!(f.g.delete_edge(e), Ok(true));
    assert_eq!(f.g.delete_edge(e), Ok(false));
    assert_eq!(f.pairs(Label::CONTAINS), []);
    assert_eq!(f.g.out_neighbours(h, Label::CONTAINS).count(), 0);
    assert_eq!(f.g.labels().count(), 0);
    let stored = f.g.edge(e).expect("still stored");
    assert_eq!(stored.get(names::VITRAGE_IS_DELETED), Some(Value::Bool(true)));
    check_indexes(&f.g);
    assert_eq!(f.g.add_edge(e), Ok(true));
    assert_eq!(f.pairs(Label::CONTAINS), [(h, vm)]);
    assert_eq!(f.g.take_changes(), [GraphChange::EdgeDeleted(e), GraphChange::EdgeAdded(e)]);
    let missing = edge(vm, Label::CONTAINS, h);
    assert_eq!(f.g.delete_edge(missing), Err(GraphError::NoSuchEdge(missing)));
    check_indexes(&f.g);
}

#[test]
fn deleting_a_vertex_soft_deletes_its_edges_first() {
    let mut f = Fixture::new();
    let (h, vm, vol) =
        (f.add("nova.host", "h"), f.add("nova.instance", "vm"), f.add("cinder.volume", "v"));
    let (contains, attached) = (edge(h, Label::CONTAINS, vm), edge(vol, Label::ATTACHED, vm));
    let loop_edge = edge(vm, Label::CONNECT, vm);
    for e in [contains, attached, loop_edge] {
        f.g.add_edge(e).expect("added");
    }
    f.g.delete_edge(attached).expect("deleted");
    f.g.take_changes();

    assert_eq!(f.g.delete_vertex(vm), Ok(true));
    assert_eq!(
        f.g.take_changes(),
        [
            GraphChange::EdgeDeleted(loop_edge),
            GraphChange::EdgeDeleted(contains),
            GraphChange::VertexDeleted(vm),
        ]
    );
    assert_eq!(f.g.delete_vertex(vm), Ok(false));
    assert_eq!(f.ty("nova.instance"), []);
    assert_eq!(f.g.live_edge_count(), 0);
    assert_eq!(f.g.live_vertex_count(), 2);
    let v = f.g.vertex(vm).expect("still stored");
    assert_eq!(v.get(names::VITRAGE_IS_DELETED), Some(Value::Bool(true)));
    assert!(!v.is_matchable());
    assert_eq!(f.g.incident_edges(vm).filter(|e| !e.is_deleted).count(), 0);
    assert_eq!(f.g.add_edge(contains), Err(GraphError::VertexDeleted(vm)));
    let props = Props::from_pairs([(names::NAME, Value::Null)]);
    assert_eq!(f.g.update_vertex(vm, props), Err(GraphError::VertexDeleted(vm)));
    assert!(f.g.take_changes().is_empty(), "refused operations record nothing");
    check_indexes(&f.g);
}

#[test]
fn a_deleted_key_is_re_added_as_a_new_vertex() {
    let mut f = Fixture::new();
    let old = f.add("nova.host", "h");
    f.g.delete_vertex(old).expect("deleted");
    let new = f.add("nova.host", "h");
    assert_ne!(old, new);
    assert_eq!(f.g.find_vertex("nova.host", "h"), Some(new));
    assert_eq!(f.ty("nova.host"), [new]);
    assert!(f.g.vertex(old).is_some_and(Vertex::is_deleted));
    // Removing the old vertex must not drop the key of the new one.
    f.g.remove_vertex(old).expect("removed");
    assert_eq!(f.g.find_vertex("nova.host", "h"), Some(new));
    check_indexes(&f.g);
}

#[test]
fn removing_a_live_vertex_records_the_delete_then_the_removal() {
    let mut f = Fixture::new();
    let (h, vm) = (f.add("nova.host", "h"), f.add("nova.instance", "vm"));
    let e = edge(h, Label::CONTAINS, vm);
    let self_loop = edge(h, Label::CONNECT, h);
    f.g.add_edge(e).expect("added");
    f.g.add_edge(self_loop).expect("added");
    f.g.take_changes();
    let (vitrage_type, entity_id) =
        f.g.vertex(h).map(|v| (v.vitrage_type(), v.entity_id())).expect("stored");

    assert_eq!(f.g.remove_vertex(h), Ok(()));
    assert_eq!(
        f.g.take_changes(),
        [
            GraphChange::EdgeDeleted(e),
            GraphChange::EdgeDeleted(self_loop),
            GraphChange::VertexDeleted(h),
            GraphChange::EdgeRemoved(e),
            GraphChange::EdgeRemoved(self_loop),
            GraphChange::VertexRemoved { id: h, vitrage_type, entity_id },
        ]
    );
    assert!(f.g.vertex(h).is_none());
    assert_eq!(f.g.incident_edges(vm).count(), 0);
    assert_eq!(f.g.find_vertex("nova.host", "h"), None);
    assert_eq!(f.g.vertex_count(), 1);
    assert_eq!(f.g.remove_vertex(h), Err(GraphError::NoSuchVertex(h)));
    check_indexes(&f.g);

    let reused = f.add("nova.host", "h2");
    assert_eq!(reused, h, "freed ids are reused");
    check_indexes(&f.g);
}

#[test]
fn remove_edge_frees_both_ends() {
    let mut f = Fixture::new();
    let (h, vm) = (f.add("nova.host", "h"), f.add("nova.instance", "vm"));
    let e = edge(h, Label::CONTAINS, vm);
    f.g.add_edge(e).expect("added");
    f.g.take_changes();
    assert_eq!(f.g.remove_edge(e), Ok(()));
    assert_eq!(f.g.take_changes(), [GraphChange::EdgeDeleted(e), GraphChange::EdgeRemoved(e)]);
    assert_eq!(f.g.edge(e), None);
    assert_eq!(f.g.remove_edge(e), Err(GraphError::NoSuchEdge(e)));
    check_indexes(&f.g);
}

#[test]
fn updates_record_the_previous_properties() {
    let mut f = Fixture::new();
    let h = f.add("nova.host", "h");
    let before = f.g.vertex(h).map(|v| v.props().clone()).expect("stored");
    f.g.take_changes();
    let error = f.g.str_value("ERROR").expect("intern");

    let set = Props::from_pairs([(names::VITRAGE_STATE, error)]);
    assert_eq!(f.g.update_vertex(h, set.clone()), Ok(true));
    assert_eq!(f.g.update_vertex(h, set), Ok(false), "same value, no change");
    let after = f.g.vertex(h).map(|v| v.props().clone()).expect("stored");
    assert_eq!(after.get(names::VITRAGE_STATE), Some(error));

    let unset = Props::from_pairs([(names::VITRAGE_STATE, Value::Null)]);
    assert_eq!(f.g.update_vertex(h, unset), Ok(true));
    assert_eq!(
        f.g.take_changes(),
        [
            GraphChange::VertexUpdated { id: h, before: before.clone(), was_placeholder: false },
            GraphChange::VertexUpdated { id: h, before: after, was_placeholder: false },
        ]
    );
    assert_eq!(f.g.vertex(h).map(|v| v.props().clone()), Some(before));
}

#[test]
fn the_placeholder_flag_is_updated_as_a_property() {
    let mut g = Graph::new();
    let entity_id = g.intern("h").expect("intern");
    let ty = g.intern("nova.host").expect("intern");
    let h = g
        .add_vertex(NewVertex {
            category: Category::Resource,
            vitrage_type: ty,
            entity_id,
            is_placeholder: true,
            props: Props::default(),
        })
        .expect("added");
    assert_eq!(g.vertices_of_type(ty).collect::<Vec<_>>(), [h], "placeholders are indexed");
    assert!(!g.vertex(h).is_some_and(Vertex::is_matchable));
    g.take_changes();
    let clear = Props::from_pairs([(names::VITRAGE_IS_PLACEHOLDER, Value::Bool(false))]);
    assert_eq!(g.update_vertex(h, clear.clone()), Ok(true));
    assert_eq!(g.update_vertex(h, clear), Ok(false));
    assert!(g.vertex(h).is_some_and(Vertex::is_matchable));
    assert_eq!(
        g.take_changes(),
        [GraphChange::VertexUpdated { id: h, before: Props::default(), was_placeholder: true }]
    );
}

#[test]
fn unknown_vertices_are_errors() {
    let mut f = Fixture::new();
    let h = f.add("nova.host", "h");
    let ghost = VertexId(42);
    assert_eq!(f.g.add_edge(edge(h, Label::ON, ghost)), Err(GraphError::NoSuchVertex(ghost)));
    assert_eq!(f.g.delete_vertex(ghost), Err(GraphError::NoSuchVertex(ghost)));
    assert_eq!(f.g.out_neighbours(ghost, Label::ON).count(), 0);
    assert_eq!(f.g.incident_edges(ghost).count(), 0);
    assert!(f.g.take_changes().iter().all(|c| *c == GraphChange::VertexAdded(h)));
}

/// The resident set size of this process, from `/proc/self/status` (Linux only).
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Builds a cloud of a million resources (10 zones, 10,000 hosts, 990,000 instances with
/// uuid ids) with their `contains` edges and normalised states, and reports the memory it
/// takes. The engine's budget is 512 MiB for the whole service at this size.
///
/// Run with `cargo test --release -- --ignored --nocapture one_million`.
#[test]
#[ignore = "allocates a few hundred MiB; run on demand"]
fn one_million_resources_fit_the_memory_budget() -> Result<(), GraphError> {
    let tables = crate::graph::values::ValueTables::builtin().expect("shipped tables parse");
    let mut values = crate::graph::values::Normaliser::new(tables);
    let before = rss_kib();
    let mut f = Fixture::new();
    let mut add = |f: &mut Fixture, ty: &str, id: String, name: String, state: &str| {
        let entity_id = f.g.intern(&id)?;
        let vitrage_type = f.g.intern(ty)?;
        let props = Props::from_pairs([
            (names::ID, Value::Str(entity_id)),
            (names::NAME, f.g.str_value(&name)?),
            (names::STATE, f.g.str_value(state)?),
            (names::PROJECT_ID, f.g.str_value(&format!("project-{}", id.len() % 7))?),
        ]);
        let v = f.g.add_vertex(NewVertex {
            category: Category::Resource,
            vitrage_type,
            entity_id,
            is_placeholder: false,
            props,
        })?;
        values.refresh_vertex(&mut f.g, v)?;
        Ok::<_, GraphError>(v)
    };
    let cluster = add(&mut f, "openstack.cluster", "OpenStack Cluster".into(), "c".into(), "")?;
    let mut instances = 0u64;
    for z in 0..10 {
        let zone = add(&mut f, "nova.zone", format!("zone-{z}"), format!("zone-{z}"), "available")?;
        f.g.add_edge(edge(cluster, Label::CONTAINS, zone))?;
        for h in 0..1000 {
            let id = format!("compute-{z}-{h}");
            let host = add(&mut f, "nova.host", id.clone(), id, "available")?;
            f.g.add_edge(edge(zone, Label::CONTAINS, host))?;
            for _ in 0..99 {
                let id = format!("{instances:08x}-5c1e-4b7a-9f3d-{instances:012x}");
                let vm = add(&mut f, "nova.instance", id, format!("vm-{instances}"), "ACTIVE")?;
                f.g.add_edge(edge(host, Label::CONTAINS, vm))?;
                instances += 1;
            }
        }
        f.g.take_changes();
    }
    let after = rss_kib();
    let vertices = f.g.live_vertex_count() as u64;
    let edges = f.g.live_edge_count() as u64;
    if let (Some(before), Some(after)) = (before, after) {
        let bytes = (after - before) * 1024;
        println!(
            "{vertices} vertices, {edges} edges, {} interned strings: {} MiB, {} bytes per vertex \
             with its edge",
            f.g.interner().len(),
            bytes >> 20,
            bytes / vertices,
        );
        assert!(bytes < 512 << 20);
    }
    Ok(())
}

//! Model-based property test: random mutation sequences applied to the graph and to a naive
//! model must agree on every result, every index and the live graph rebuilt from the change
//! log.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::super::persist::same_state;
use super::{check_indexes, edge};
use crate::graph::{
    Category, EdgeKey, Graph, GraphChange, GraphError, Label, NewVertex, Props, Sym, Value,
    VertexId,
};

const KEYS: u8 = 6;
const TYPES: [&str; 2] = ["nova.host", "nova.instance"];

#[derive(Clone, Debug)]
enum Op {
    AddVertex { key: u8 },
    Update { key: u8, name: Option<u8> },
    DeleteVertex { key: u8 },
    RemoveVertex { key: u8 },
    AddEdge { source: u8, target: u8, label: usize },
    DeleteEdge { source: u8, target: u8, label: usize },
    RemoveEdge { source: u8, target: u8, label: usize },
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0..KEYS;
    let edge = (0..KEYS, 0..KEYS, 0..3usize);
    prop_oneof![
        3 => key.clone().prop_map(|key| Op::AddVertex { key }),
        1 => (key.clone(), proptest::option::of(0..3u8))
            .prop_map(|(key, name)| Op::Update { key, name }),
        1 => key.clone().prop_map(|key| Op::DeleteVertex { key }),
        1 => key.prop_map(|key| Op::RemoveVertex { key }),
        5 => edge.clone().prop_map(|(source, target, label)| Op::AddEdge { source, target, label }),
        2 => edge.clone().prop_map(|(source, target, label)| Op::DeleteEdge { source, target, label }),
        1 => edge.prop_map(|(source, target, label)| Op::RemoveEdge { source, target, label }),
    ]
}

/// The naive model: stored vertices and edges with their deleted flags.
#[derive(Default)]
struct Model {
    vertices: BTreeMap<VertexId, (Sym, bool)>,
    edges: BTreeMap<EdgeKey, bool>,
}

impl Model {
    fn live(&self, id: VertexId) -> Result<(), GraphError> {
        match self.vertices.get(&id) {
            None => Err(GraphError::NoSuchVertex(id)),
            Some((_, true)) => Err(GraphError::VertexDeleted(id)),
            Some((_, false)) => Ok(()),
        }
    }

    fn delete_vertex(&mut self, id: VertexId) -> Result<bool, GraphError> {
        let (_, deleted) = self.vertices.get_mut(&id).ok_or(GraphError::NoSuchVertex(id))?;
        if *deleted {
            return Ok(false);
        }
        *deleted = true;
        for (key, deleted) in &mut self.edges {
            if key.source == id || key.target == id {
                *deleted = true;
            }
        }
        Ok(true)
    }

    fn remove_vertex(&mut self, id: VertexId) -> Result<(), GraphError> {
        self.vertices.remove(&id).ok_or(GraphError::NoSuchVertex(id))?;
        self.edges.retain(|key, _| key.source != id && key.target != id);
        Ok(())
    }

    fn add_edge(&mut self, key: EdgeKey) -> Result<bool, GraphError> {
        self.live(key.source)?;
        self.live(key.target)?;
        Ok(self.edges.insert(key, false) != Some(false))
    }

    fn delete_edge(&mut self, key: EdgeKey) -> Result<bool, GraphError> {
        let deleted = self.edges.get_mut(&key).ok_or(GraphError::NoSuchEdge(key))?;
        Ok(!std::mem::replace(deleted, true))
    }

    fn live_edges(&self) -> impl Iterator<Item = EdgeKey> + '_ {
        self.edges.iter().filter(|(_, deleted)| !**deleted).map(|(key, _)| *key)
    }
}

struct Harness {
    g: Graph,
    model: Model,
    labels: [Label; 3],
    types: Vec<Sym>,
    /// The live graph rebuilt from nothing but the change log.
    replay_vertices: BTreeSet<VertexId>,
    replay_edges: BTreeSet<EdgeKey>,
}

impl Harness {
    fn new() -> Result<Harness, GraphError> {
        let mut g = Graph::new();
        let labels = [Label::ON, Label::CONTAINS, g.label("x")?];
        let types = TYPES.iter().map(|t| g.intern(t)).collect::<Result<_, _>>()?;
        Ok(Harness {
            g,
            model: Model::default(),
            labels,
            types,
            replay_vertices: BTreeSet::new(),
            replay_edges: BTreeSet::new(),
        })
    }

    /// The type of the vertices with entity id `k<key>`: the key picks it, so that the key
    /// alone names a vertex.
    fn type_of(key: u8) -> usize {
        usize::from(key) % TYPES.len()
    }

    /// The vertex currently holding `key`, or an id that was never allocated.
    fn id(&self, key: u8) -> VertexId {
        let ty = TYPES[Self::type_of(key)];
        self.g.find_vertex(ty, &format!("k{key}")).unwrap_or(VertexId(1000 + u32::from(key)))
    }

    fn edge_key(&self, source: u8, target: u8, label: usize) -> EdgeKey {
        edge(self.id(source), self.labels[label], self.id(target))
    }

    fn apply(&mut self, op: &Op) -> Result<(), GraphError> {
        match *op {
            Op::AddVertex { key } => {
                let ty = self.types[Self::type_of(key)];
                let entity_id = self.g.intern(&format!("k{key}"))?;
                let existing = self.g.vertex_by_key(ty, entity_id);
                let expect_ok = existing.is_none_or(|id| self.model.live(id).is_err());
                let new = NewVertex {
                    category: Category::Resource,
                    vitrage_type: ty,
                    entity_id,
                    is_placeholder: false,
                    props: Props::default(),
                };
                let got = self.g.add_vertex(new);
                assert_eq!(got.is_ok(), expect_ok, "{op:?}: {got:?}");
                if let Ok(id) = got {
                    assert!(!self.model.vertices.contains_key(&id), "{id} was still stored");
                    self.model.vertices.insert(id, (ty, false));
                }
            }
            Op::Update { key, name } => {
                let id = self.id(key);
                let value = match name {
                    Some(n) => self.g.str_value(&format!("name{n}"))?,
                    None => Value::Null,
                };
                let got =
                    self.g.update_vertex(id, Props::from_pairs([(super::names::NAME, value)]));
                assert_eq!(got.is_ok(), self.model.live(id).is_ok(), "{op:?}: {got:?}");
            }
            Op::DeleteVertex { key } => {
                let id = self.id(key);
                assert_eq!(self.g.delete_vertex(id), self.model.delete_vertex(id), "{op:?}");
            }
            Op::RemoveVertex { key } => {
                let id = self.id(key);
                assert_eq!(self.g.remove_vertex(id), self.model.remove_vertex(id), "{op:?}");
            }
            Op::AddEdge { source, target, label } => {
                let key = self.edge_key(source, target, label);
                assert_eq!(self.g.add_edge(key), self.model.add_edge(key), "{op:?}");
            }
            Op::DeleteEdge { source, target, label } => {
                let key = self.edge_key(source, target, label);
                assert_eq!(self.g.delete_edge(key), self.model.delete_edge(key), "{op:?}");
            }
            Op::RemoveEdge { source, target, label } => {
                let key = self.edge_key(source, target, label);
                let expected = match self.model.edges.remove(&key) {
                    Some(_) => Ok(()),
                    None => Err(GraphError::NoSuchEdge(key)),
                };
                assert_eq!(self.g.remove_edge(key), expected, "{op:?}");
            }
        }
        Ok(())
    }

    fn replay_changes(&mut self) {
        for change in self.g.take_changes() {
            match change {
                GraphChange::VertexAdded(id) => assert!(self.replay_vertices.insert(id)),
                GraphChange::VertexUpdated { id, .. } => {
                    assert!(self.replay_vertices.contains(&id));
                }
                GraphChange::VertexDeleted(id) => {
                    assert!(self.replay_vertices.remove(&id));
                    let dangling =
                        self.replay_edges.iter().any(|e| e.source == id || e.target == id);
                    assert!(!dangling, "{id} deleted before its edges");
                }
                GraphChange::VertexRemoved { id, .. } => {
                    assert!(!self.replay_vertices.contains(&id))
                }
                GraphChange::EdgeAdded(key) => {
                    assert!(self.replay_vertices.contains(&key.source));
                    assert!(self.replay_vertices.contains(&key.target));
                    assert!(self.replay_edges.insert(key));
                }
                GraphChange::EdgeDeleted(key) => assert!(self.replay_edges.remove(&key)),
                GraphChange::EdgeRemoved(key) => assert!(!self.replay_edges.contains(&key)),
            }
        }
    }

    fn check(&self) {
        check_indexes(&self.g);
        for &label in &self.labels {
            let expected: Vec<_> = self
                .model
                .live_edges()
                .filter(|e| e.label == label)
                .map(|e| (e.source, e.target))
                .collect();
            let got: Vec<_> = self.g.edges_with_label(label).collect();
            assert_eq!(got, expected, "label index of {label:?}");
            for &v in self.model.vertices.keys() {
                let out: Vec<_> = self.g.out_neighbours(v, label).collect();
                let expected: Vec<_> = self
                    .model
                    .live_edges()
                    .filter(|e| e.label == label && e.source == v)
                    .map(|e| e.target)
                    .collect();
                assert_eq!(out, expected, "out-neighbours of {v}");
                let mut inc: Vec<_> = self.g.in_neighbours(v, label).collect();
                let mut expected: Vec<_> = self
                    .model
                    .live_edges()
                    .filter(|e| e.label == label && e.target == v)
                    .map(|e| e.source)
                    .collect();
                inc.sort();
                expected.sort();
                assert_eq!(inc, expected, "in-neighbours of {v}");
            }
        }
        for &ty in &self.types {
            let expected: Vec<_> = self
                .model
                .vertices
                .iter()
                .filter(|(_, (t, deleted))| *t == ty && !deleted)
                .map(|(id, _)| *id)
                .collect();
            assert_eq!(self.g.vertices_of_type(ty).collect::<Vec<_>>(), expected);
        }
        for (&key, &deleted) in &self.model.edges {
            assert_eq!(self.g.edge(key).map(|e| e.is_deleted), Some(deleted), "{key}");
        }
        let live: BTreeSet<_> =
            self.model.vertices.iter().filter(|(_, (_, d))| !d).map(|(id, _)| *id).collect();
        assert_eq!(self.replay_vertices, live, "change log replay of vertices");
        let edges: BTreeSet<_> = self.model.live_edges().collect();
        assert_eq!(self.replay_edges, edges, "change log replay of edges");
        assert_eq!(self.g.live_edge_count(), edges.len());
        assert_eq!(self.g.vertex_count(), self.model.vertices.len());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn indexes_match_a_naive_model(ops in proptest::collection::vec(op(), 1..80)) {
        let mut harness = Harness::new().map_err(|e| TestCaseError::fail(e.to_string()))?;
        for op in &ops {
            harness.apply(op).map_err(|e| TestCaseError::fail(e.to_string()))?;
            harness.replay_changes();
            harness.check();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// A graph saved after random mutations (hard removals and slot reuse included) reads
    /// back with the same state, and further mutations give the same changes and state.
    #[test]
    fn a_saved_graph_reads_back_exactly_and_evolves_the_same(
        ops in proptest::collection::vec(op(), 1..80),
        more in proptest::collection::vec(op(), 1..40),
    ) {
        let fail = |e: &dyn std::fmt::Display| TestCaseError::fail(e.to_string());
        let mut harness = Harness::new().map_err(|e| fail(&e))?;
        let mut twin = Harness::new().map_err(|e| fail(&e))?;
        for op in &ops {
            harness.apply(op).map_err(|e| fail(&e))?;
            harness.replay_changes();
            twin.apply(op).map_err(|e| fail(&e))?;
            twin.replay_changes();
        }
        let bytes = postcard::to_allocvec(&harness.g).map_err(|e| fail(&e))?;
        let saved: crate::graph::SavedGraph = postcard::from_bytes(&bytes).map_err(|e| fail(&e))?;
        twin.g = Graph::restore(saved).map_err(|e| fail(&e))?;
        prop_assert!(same_state(&harness.g, &twin.g));
        prop_assert_eq!(postcard::to_allocvec(&twin.g).map_err(|e| fail(&e))?, bytes);
        for op in &more {
            harness.apply(op).map_err(|e| fail(&e))?;
            twin.apply(op).map_err(|e| fail(&e))?;
            prop_assert_eq!(harness.g.changes(), twin.g.changes());
            harness.replay_changes();
            twin.replay_changes();
            twin.check();
            prop_assert!(same_state(&harness.g, &twin.g));
        }
    }
}

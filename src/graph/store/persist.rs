//! Saving a graph and reading it back exactly: the same symbols, vertex slots (soft-deleted
//! ones included), free list, edges and key table, so that every later mutation gives the same
//! ids and changes as it would have in the graph that was saved.
//!
//! What is saved is what cannot be derived: the interner, the slots with their properties and
//! outgoing edges, the free list in order (slots are reused from its end) and which vertex the
//! key table holds for each key (the newest of a type and entity id is not always the highest
//! slot). Incoming edges, the indexes by type and by label and the live counts follow from
//! those and are rebuilt. Reading checks every invariant the graph relies on, so that bytes
//! that decode but were never a graph are an error and not a panic later.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::BuildHasher;

use crate::graph::sharded::{SeededHasher, ShardedTable};
use serde::{Deserialize, Serialize, Serializer};

use super::{Graph, LabelEdges, Slots, is_reserved, key_hash};
use crate::graph::element::{Adj, AdjList, Dir};
use crate::graph::vertex_set::VertexSet;
use crate::graph::{Category, Interner, Label, Props, Sym, Value, Vertex, VertexId, names};

/// A graph with pending changes has not been evaluated: its saved state would lose them.
impl Serialize for Graph {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if !self.changes.is_empty() {
            return Err(serde::ser::Error::custom("the graph has changes not yet taken"));
        }
        let mut by_key: Vec<VertexId> = self.by_key.iter().copied().collect();
        by_key.sort_unstable();
        let saved = SavedRef {
            interner: &self.interner,
            slots: SlotsRef(&self.slots),
            free: &self.free,
            by_key,
        };
        saved.serialize(s)
    }
}

/// A saved [`Graph`] as read, before [`Graph::restore`] checks it and rebuilds its indexes.
#[derive(Deserialize)]
pub struct SavedGraph(Saved);

impl Graph {
    /// The graph that was saved, with its derived indexes rebuilt; an error naming what does
    /// not hold when the saved state is not one a graph can be in.
    pub fn restore(saved: SavedGraph) -> Result<Graph, String> {
        restore(saved.0)
    }
}

#[derive(Serialize)]
struct SavedRef<'a> {
    interner: &'a Interner,
    slots: SlotsRef<'a>,
    free: &'a [VertexId],
    by_key: Vec<VertexId>,
}

#[derive(Deserialize)]
struct Saved {
    interner: Interner,
    slots: Vec<Option<SavedVertex>>,
    free: Vec<VertexId>,
    by_key: Vec<VertexId>,
}

/// The slots, written without copying them.
struct SlotsRef<'a>(&'a Slots);

impl Serialize for SlotsRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        // Chunks flattened do not know their length; the format needs it ahead.
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for slot in self.0.iter() {
            seq.serialize_element(&slot.as_ref().map(|v| VertexRef {
                vitrage_type: v.vitrage_type,
                entity_id: v.entity_id,
                category: v.category,
                is_deleted: v.is_deleted,
                is_placeholder: v.is_placeholder,
                props: &v.props,
                out: Out(v.adj.as_slice()),
            }))?;
        }
        seq.end()
    }
}

#[derive(Serialize)]
struct VertexRef<'a> {
    vitrage_type: Sym,
    entity_id: Sym,
    category: Category,
    is_deleted: bool,
    is_placeholder: bool,
    props: &'a Props,
    out: Out<'a>,
}

/// The outgoing entries of an adjacency list as `(label, target, deleted)`, in list order.
struct Out<'a>(&'a [Adj]);

impl Serialize for Out<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        // The list is sorted with outgoing entries first; the format needs the length ahead.
        let out = &self.0[..self.0.partition_point(|a| a.dir == Dir::Out)];
        let mut seq = s.serialize_seq(Some(out.len()))?;
        for a in out {
            seq.serialize_element(&(a.label, a.other, a.is_deleted))?;
        }
        seq.end()
    }
}

#[derive(Deserialize)]
struct SavedVertex {
    vitrage_type: Sym,
    entity_id: Sym,
    category: Category,
    is_deleted: bool,
    is_placeholder: bool,
    props: Props,
    out: Vec<(Label, VertexId, bool)>,
}

/// Rebuilds a graph from what was saved, checking it on the way.
fn restore(saved: Saved) -> Result<Graph, String> {
    let Saved { interner, slots: saved_slots, free, by_key: saved_keys } = saved;
    if interner.len() < names::SEED.len()
        || names::SEED.iter().enumerate().any(|(i, name)| interner.resolve(Sym(i as u32)) != *name)
    {
        return Err("the interner does not start with the well-known names".into());
    }
    let symbols = interner.len();
    let sym_ok = |s: Sym| (s.0 as usize) < symbols;
    let n = saved_slots.len();
    u32::try_from(n).map_err(|_| "too many vertices")?;
    let exists = |v: VertexId| saved_slots.get(v.0 as usize).is_some_and(Option::is_some);
    let live = |v: VertexId| {
        saved_slots.get(v.0 as usize).and_then(Option::as_ref).is_some_and(|x| !x.is_deleted)
    };
    let mut adj: Vec<Vec<Adj>> = vec![Vec::new(); n];
    for (i, slot) in saved_slots.iter().enumerate() {
        let Some(v) = slot else { continue };
        let id = VertexId(i as u32);
        if !sym_ok(v.vitrage_type) || !sym_ok(v.entity_id) {
            return Err(format!("{id}: a symbol out of range"));
        }
        let mut previous: Option<Sym> = None;
        for (key, value) in v.props.iter() {
            let value_ok = match value {
                Value::Str(s) | Value::Num(s) => sym_ok(s),
                Value::Null | Value::Bool(_) => true,
            };
            if !sym_ok(key) || !value_ok || is_reserved(key) || previous >= Some(key) {
                return Err(format!("{id}: properties are not a sorted list of known symbols"));
            }
            previous = Some(key);
        }
        let mut previous: Option<(Label, VertexId)> = None;
        for &(label, target, is_deleted) in &v.out {
            if !sym_ok(label.0) || !exists(target) || previous >= Some((label, target)) {
                return Err(format!("{id}: edges are not a sorted list to stored vertices"));
            }
            let ends_live = live(id) && live(target);
            if !is_deleted && !ends_live {
                return Err(format!("{id}: a live edge has a deleted end"));
            }
            previous = Some((label, target));
            adj[i].push(Adj { dir: Dir::Out, label, other: target, is_deleted });
            adj[target.0 as usize].push(Adj { dir: Dir::In, label, other: id, is_deleted });
        }
    }
    let mut by_type: BTreeMap<Sym, VertexSet> = BTreeMap::new();
    let mut by_label: BTreeMap<Label, LabelEdges> = BTreeMap::new();
    let (mut live_vertices, mut live_edges) = (0, 0);
    let mut slots = Slots::default();
    slots.reserve(n);
    for (i, (slot, mut entries)) in saved_slots.into_iter().zip(adj).enumerate() {
        let Some(v) = slot else {
            slots.push(None);
            continue;
        };
        let id = VertexId(i as u32);
        entries.sort_unstable_by_key(Adj::order);
        for a in entries.iter().filter(|a| a.dir == Dir::Out && !a.is_deleted) {
            let edges = by_label.entry(a.label).or_default();
            edges.sources.insert(id);
            edges.count += 1;
            live_edges += 1;
        }
        if !v.is_deleted {
            by_type.entry(v.vitrage_type).or_default().insert(id);
            live_vertices += 1;
        }
        let adj = match entries.len() {
            0 => AdjList::Empty,
            1 => AdjList::One(entries[0]),
            _ => AdjList::Many(entries),
        };
        slots.push(Some(Vertex {
            vitrage_type: v.vitrage_type,
            entity_id: v.entity_id,
            category: v.category,
            is_deleted: v.is_deleted,
            is_placeholder: v.is_placeholder,
            props: v.props,
            adj,
        }));
    }
    let mut freed = BTreeSet::new();
    for &v in &free {
        if slots.get(v.0 as usize).is_none_or(Option::is_some) || !freed.insert(v) {
            return Err(format!("free slot {v} is not an empty slot, or is listed twice"));
        }
    }
    if freed.len() != slots.iter().filter(|s| s.is_none()).count() {
        return Err("an empty slot is not in the free list".into());
    }
    let key_hasher = SeededHasher::default();
    let mut by_key = ShardedTable::with_capacity(saved_keys.len());
    for v in saved_keys {
        let Some(vertex) = slots.get(v.0 as usize).and_then(Option::as_ref) else {
            return Err(format!("the key table holds {v}, which is not stored"));
        };
        let key = (vertex.vitrage_type, vertex.entity_id);
        let hash = key_hasher.hash_one(key);
        let same = |&w: &VertexId| {
            slots
                .get(w.0 as usize)
                .and_then(Option::as_ref)
                .is_some_and(|x| (x.vitrage_type, x.entity_id) == key)
        };
        if by_key.find(hash, same).is_some() {
            return Err(format!("the key table holds two vertices of the key of {v}"));
        }
        by_key.insert_unique(hash, v, |&w| key_hash(&key_hasher, &slots, w));
    }
    let graph = Graph {
        interner,
        slots,
        free,
        by_key,
        key_hasher,
        by_type,
        by_label,
        live_vertices,
        live_edges,
        changes: Vec::new(),
    };
    for (id, v) in graph.vertices() {
        if !v.is_deleted && graph.vertex_by_key(v.vitrage_type, v.entity_id) != Some(id) {
            return Err(format!("live vertex {id} is not the one its key finds"));
        }
    }
    Ok(graph)
}

/// Whether two graphs hold the same state, derived indexes included (for tests).
#[cfg(test)]
pub(crate) fn same_state(a: &Graph, b: &Graph) -> bool {
    let strings = |g: &Graph| {
        (0..g.interner.len()).map(|i| g.resolve(Sym(i as u32)).to_string()).collect::<Vec<_>>()
    };
    let keys = |g: &Graph| {
        let mut k: Vec<VertexId> = g.by_key.iter().copied().collect();
        k.sort_unstable();
        k
    };
    strings(a) == strings(b)
        && a.slots == b.slots
        && a.free == b.free
        && keys(a) == keys(b)
        && a.by_type == b.by_type
        && a.by_label == b.by_label
        && a.live_vertices == b.live_vertices
        && a.live_edges == b.live_edges
        && a.changes == b.changes
}

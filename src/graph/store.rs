//! The graph itself: vertex storage, adjacency, indexes, mutations and the change log.

use std::collections::BTreeMap;
use std::hash::BuildHasher;

use super::chunked::Chunked;
use super::element::{Adj, AdjList, Dir};
use super::intern::Interner;
use super::names;
use super::sharded::{SeededHasher, ShardedTable};
use super::vertex_set::VertexSet;
use super::{
    Edge, EdgeKey, GraphChange, GraphError, Label, NewVertex, Props, Sym, Value, Vertex, VertexId,
};

/// The entity graph: resources and alarms as vertices, directed labelled edges between them.
///
/// Deletes are soft by default, as in Vitrage: a deleted vertex or edge keeps its data with
/// `vitrage_is_deleted: true` but leaves the live indexes (by type, by label, live neighbours).
/// Hard removal ([`Graph::remove_vertex`], [`Graph::remove_edge`]) frees it.
///
/// Every mutation appends what it did to a change log ([`GraphChange`]); the evaluator drains
/// it with [`Graph::take_changes`] after each batch.
#[derive(Debug)]
pub struct Graph {
    interner: Interner,
    /// Vertex storage indexed by [`VertexId`]; `None` marks a freed slot.
    slots: Slots,
    /// Freed slots, reused before the storage grows.
    free: Vec<VertexId>,
    /// The newest vertex of each `(vitrage_type, entity_id)`, live or soft-deleted. The table
    /// holds only ids (4 bytes an entry) and compares keys through vertex storage; it is
    /// sharded, so adding a vertex never rehashes all of them.
    by_key: ShardedTable<VertexId>,
    key_hasher: SeededHasher,
    /// Live vertices (placeholders included) by `vitrage_type`.
    by_type: BTreeMap<Sym, VertexSet>,
    /// Live edges by label: the vertices they leave, whose adjacency lists them.
    by_label: BTreeMap<Label, LabelEdges>,
    live_vertices: usize,
    live_edges: usize,
    changes: Vec<GraphChange>,
}

/// The live edges of one label. Each is listed once, in its source's adjacency, so the index
/// keeps only which vertices to look at: the sources in id order, each with its targets in
/// id order, give the edges sorted as `(source, target)`.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct LabelEdges {
    /// The vertices with a live edge of the label leaving them.
    pub(crate) sources: VertexSet,
    /// The number of live edges of the label.
    pub(crate) count: usize,
}

impl Default for Graph {
    fn default() -> Self {
        Graph::new()
    }
}

impl Graph {
    /// An empty graph whose interner holds the well-known names of [`super::names`].
    pub fn new() -> Graph {
        Graph {
            interner: Interner::with_seed(names::SEED),
            slots: Slots::default(),
            free: Vec::new(),
            by_key: ShardedTable::new(),
            key_hasher: SeededHasher::default(),
            by_type: BTreeMap::new(),
            by_label: BTreeMap::new(),
            live_vertices: 0,
            live_edges: 0,
            changes: Vec::new(),
        }
    }

    /// The interner, for looking strings up without adding them.
    pub fn interner(&self) -> &Interner {
        &self.interner
    }

    /// Interns `s`; see [`Interner::intern`].
    pub fn intern(&mut self, s: &str) -> Result<Sym, GraphError> {
        self.interner.intern(s)
    }

    /// Interns a constant of the program; see [`Interner::intern_static`].
    pub fn intern_static(&mut self, s: &'static str) -> Result<Sym, GraphError> {
        self.interner.intern_static(s)
    }

    /// Interns a shared string such as a template's literal; see [`Interner::intern_shared`].
    pub fn intern_shared(&mut self, s: &std::sync::Arc<str>) -> Result<Sym, GraphError> {
        self.interner.intern_shared(s)
    }

    /// Interns `s` as a string [`Value`].
    pub fn str_value(&mut self, s: &str) -> Result<Value, GraphError> {
        Ok(Value::Str(self.interner.intern(s)?))
    }

    /// Interns `s` as an edge label.
    pub fn label(&mut self, s: &str) -> Result<Label, GraphError> {
        Ok(Label(self.interner.intern(s)?))
    }

    /// The label `s`, if it was ever interned (no edge can have it otherwise).
    pub fn find_label(&self, s: &str) -> Option<Label> {
        self.interner.get(s).map(Label)
    }

    /// The text of `sym`.
    pub fn resolve(&self, sym: Sym) -> &str {
        self.interner.resolve(sym)
    }

    // ----- Vertices -----------------------------------------------------------------------

    /// Adds a live vertex and records [`GraphChange::VertexAdded`].
    ///
    /// The type and entity id of a soft-deleted vertex may be reused: the new vertex gets a new
    /// id, and the key now finds it, as Vitrage gives a re-raised alarm a new `vitrage_id`.
    pub fn add_vertex(&mut self, new: NewVertex) -> Result<VertexId, GraphError> {
        if let Some((key, _)) = new.props.iter().find(|&(key, _)| is_reserved(key)) {
            return Err(GraphError::ReservedProperty(reserved_name(key)));
        }
        let previous = self.vertex_by_key(new.vitrage_type, new.entity_id);
        if let Some(existing) = previous
            && self.vertex(existing).is_some_and(|v| !v.is_deleted)
        {
            return Err(GraphError::DuplicateKey {
                vitrage_type: self.resolve(new.vitrage_type).to_owned(),
                entity_id: self.resolve(new.entity_id).to_owned(),
                existing,
            });
        }
        let vertex = Vertex {
            vitrage_type: new.vitrage_type,
            entity_id: new.entity_id,
            category: new.category,
            is_deleted: false,
            is_placeholder: new.is_placeholder,
            props: new.props,
            adj: AdjList::Empty,
        };
        let id = match self.free.pop() {
            Some(id) => {
                if let Some(slot) = self.slots.get_mut(id.0 as usize) {
                    *slot = Some(vertex);
                }
                id
            }
            None => {
                let id = VertexId(
                    u32::try_from(self.slots.len()).map_err(|_| GraphError::TooManyVertices)?,
                );
                self.slots.push(Some(vertex));
                id
            }
        };
        let hash = self.key_hasher.hash_one((new.vitrage_type, new.entity_id));
        match previous.and_then(|old| self.by_key.find_mut(hash, |&v| v == old)) {
            Some(slot) => *slot = id,
            None => {
                let (slots, hasher) = (&self.slots, &self.key_hasher);
                self.by_key.insert_unique(hash, id, |&v| key_hash(hasher, slots, v));
            }
        }
        self.by_type.entry(new.vitrage_type).or_default().insert(id);
        self.live_vertices += 1;
        self.changes.push(GraphChange::VertexAdded(id));
        Ok(id)
    }

    /// Merges `updates` into a live vertex's properties and records
    /// [`GraphChange::VertexUpdated`] if anything changed; returns whether it did.
    ///
    /// As in Vitrage, a [`Value::Null`] update removes the property. `vitrage_is_placeholder`
    /// may be given as a boolean (`set_state` clears it); the other properties held by the
    /// vertex itself are refused.
    pub fn update_vertex(&mut self, id: VertexId, updates: Props) -> Result<bool, GraphError> {
        let mut placeholder = None;
        for (key, value) in updates.iter().filter(|&(key, _)| is_reserved(key)) {
            match (key, value) {
                (names::VITRAGE_IS_PLACEHOLDER, Value::Bool(b)) => placeholder = Some(b),
                _ => return Err(GraphError::ReservedProperty(reserved_name(key))),
            }
        }
        let vertex = self.live_vertex_mut(id)?;
        let updates = if placeholder.is_some() {
            Props::from_pairs(updates.iter().filter(|&(key, _)| !is_reserved(key)))
        } else {
            updates
        };
        let merged = vertex.props.merged(&updates);
        let was_placeholder = vertex.is_placeholder;
        let new_placeholder = placeholder.unwrap_or(was_placeholder);
        if merged.is_none() && new_placeholder == was_placeholder {
            return Ok(false);
        }
        vertex.is_placeholder = new_placeholder;
        let before = match merged {
            Some(props) => std::mem::replace(&mut vertex.props, props),
            None => vertex.props.clone(),
        };
        self.changes.push(GraphChange::VertexUpdated { id, before, was_placeholder });
        Ok(true)
    }

    /// Soft-deletes a vertex and its live edges; returns `false` if it was already deleted.
    pub fn delete_vertex(&mut self, id: VertexId) -> Result<bool, GraphError> {
        let vertex = self.vertex(id).ok_or(GraphError::NoSuchVertex(id))?;
        if vertex.is_deleted {
            return Ok(false);
        }
        // Deleting an edge only flags entries, so the list keeps its order and length while
        // it is walked: no copy of the keys is needed.
        let mut at = 0;
        while let Some(&a) = self.vertex(id).and_then(|v| v.adj.as_slice().get(at)) {
            if !a.is_deleted && !a.is_loop_mirror(id) {
                self.set_edge_deleted(a.edge_key(id), true)?;
            }
            at += 1;
        }
        let vertex = self.live_vertex_mut(id)?;
        vertex.is_deleted = true;
        let vitrage_type = vertex.vitrage_type;
        if let Some(set) = self.by_type.get_mut(&vitrage_type) {
            set.remove(id);
            if set.is_empty() {
                self.by_type.remove(&vitrage_type);
            }
        }
        self.live_vertices -= 1;
        self.changes.push(GraphChange::VertexDeleted(id));
        Ok(true)
    }

    /// Removes a vertex and all its edges from the graph, soft-deleting it first if it is
    /// live, so the change log shows the live graph shrinking before storage is freed.
    pub fn remove_vertex(&mut self, id: VertexId) -> Result<(), GraphError> {
        self.delete_vertex(id)?;
        let vertex = self.vertex(id).ok_or(GraphError::NoSuchVertex(id))?;
        let (vitrage_type, entity_id) = (vertex.vitrage_type, vertex.entity_id);
        let edges: Vec<EdgeKey> = vertex
            .adj
            .as_slice()
            .iter()
            .filter(|a| !a.is_loop_mirror(id))
            .map(|a| a.edge_key(id))
            .collect();
        for edge in edges {
            self.remove_edge(edge)?;
        }
        // The key may already find a newer vertex, whose entry must stay.
        let hash = self.key_hasher.hash_one((vitrage_type, entity_id));
        self.by_key.remove(hash, |&v| v == id);
        if let Some(slot) = self.slots.get_mut(id.0 as usize) {
            *slot = None;
        }
        self.free.push(id);
        self.changes.push(GraphChange::VertexRemoved { id, vitrage_type, entity_id });
        Ok(())
    }

    // ----- Edges --------------------------------------------------------------------------

    /// Adds a live edge between two live vertices, or makes a soft-deleted one live again, and
    /// records [`GraphChange::EdgeAdded`]; returns `false` if the edge was already live.
    pub fn add_edge(&mut self, key: EdgeKey) -> Result<bool, GraphError> {
        self.live_vertex(key.source)?;
        self.live_vertex(key.target)?;
        if self.find_out(key).is_some() {
            return self.set_edge_deleted(key, false);
        }
        let out = Adj { dir: Dir::Out, label: key.label, other: key.target, is_deleted: false };
        let inc = Adj { dir: Dir::In, label: key.label, other: key.source, is_deleted: false };
        self.live_vertex_mut(key.source)?.adj.insert(out);
        self.live_vertex_mut(key.target)?.adj.insert(inc);
        self.index_edge(key, true, true);
        self.changes.push(GraphChange::EdgeAdded(key));
        Ok(true)
    }

    /// Soft-deletes an edge; returns `false` if it was already deleted.
    pub fn delete_edge(&mut self, key: EdgeKey) -> Result<bool, GraphError> {
        self.set_edge_deleted(key, true)
    }

    /// Removes an edge from the graph, soft-deleting it first if it is live.
    pub fn remove_edge(&mut self, key: EdgeKey) -> Result<(), GraphError> {
        self.set_edge_deleted(key, true)?;
        for (owner, probe) in [(key.source, out_probe(key)), (key.target, in_probe(key))] {
            let adj = &mut self.vertex_mut(owner)?.adj;
            if let Some(pos) = adj.position(&probe) {
                adj.remove(pos);
            }
        }
        self.changes.push(GraphChange::EdgeRemoved(key));
        Ok(())
    }

    // ----- Change log ---------------------------------------------------------------------

    /// The changes recorded since the last [`Graph::take_changes`].
    pub fn changes(&self) -> &[GraphChange] {
        &self.changes
    }

    /// Makes room for about `vertices` more vertices and `edges` more edges, each with an id
    /// and a name of its own: a topology loaded whole then fills its tables without growing
    /// them step by step. Room only; nothing a caller sees changes.
    pub fn reserve(&mut self, vertices: usize, edges: usize) {
        self.slots.reserve(vertices);
        self.changes.reserve(vertices + edges);
        self.interner.reserve(2 * vertices, 2 * vertices * NAME_BYTES);
        let (slots, hasher) = (&self.slots, &self.key_hasher);
        self.by_key.reserve(vertices, |&v| key_hash(hasher, slots, v));
    }

    /// Returns and clears the recorded changes. Drain them after every batch: the log grows
    /// with every mutation until it is taken.
    pub fn take_changes(&mut self) -> Vec<GraphChange> {
        std::mem::take(&mut self.changes)
    }

    /// Gives back a list [`Graph::take_changes`] returned, once read, so that the next
    /// changes are recorded in its room instead of a list grown again from empty.
    ///
    /// The room of the largest batch is kept, that of a whole topology loaded at once too
    /// (16 bytes an element: 33 MB at a million resources, within the peak the load reached
    /// anyway). Dropped, it was returned to the system by the allocator's delayed purge
    /// ~10 ms later, in the middle of an event: a 5–8 ms pause at a million resources.
    pub fn recycle_changes(&mut self, mut used: Vec<GraphChange>) {
        let room = used.capacity();
        if self.changes.is_empty() && room > self.changes.capacity() {
            used.clear();
            self.changes = used;
        }
    }

    // ----- Queries ------------------------------------------------------------------------

    /// A stored vertex, live or soft-deleted.
    pub fn vertex(&self, id: VertexId) -> Option<&Vertex> {
        self.slots.get(id.0 as usize)?.as_ref()
    }

    /// The newest vertex with this type and entity id, live or soft-deleted.
    pub fn vertex_by_key(&self, vitrage_type: Sym, entity_id: Sym) -> Option<VertexId> {
        let hash = self.key_hasher.hash_one((vitrage_type, entity_id));
        let found = self.by_key.find(hash, |&v| {
            self.vertex(v)
                .is_some_and(|v| v.vitrage_type == vitrage_type && v.entity_id == entity_id)
        });
        found.copied()
    }

    /// [`Graph::vertex_by_key`] by text.
    pub fn find_vertex(&self, vitrage_type: &str, entity_id: &str) -> Option<VertexId> {
        self.vertex_by_key(self.interner.get(vitrage_type)?, self.interner.get(entity_id)?)
    }

    /// Every stored vertex, live or soft-deleted, in id order.
    pub fn vertices(&self) -> impl Iterator<Item = (VertexId, &Vertex)> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, slot)| Some((VertexId(i as u32), slot.as_ref()?)))
    }

    /// The live vertices (placeholders included) of a type, in id order.
    pub fn vertices_of_type(&self, vitrage_type: Sym) -> impl Iterator<Item = VertexId> + '_ {
        self.by_type.get(&vitrage_type).into_iter().flat_map(VertexSet::iter)
    }

    /// The types that have live vertices.
    pub fn vertex_types(&self) -> impl Iterator<Item = Sym> + '_ {
        self.by_type.keys().copied()
    }

    /// A stored edge, live or soft-deleted.
    pub fn edge(&self, key: EdgeKey) -> Option<Edge> {
        let adj = self.find_out(key)?;
        Some(Edge { key, is_deleted: adj.is_deleted })
    }

    /// Every live edge with `label`, as `(source, target)` pairs in sorted order.
    pub fn edges_with_label(
        &self,
        label: Label,
    ) -> impl Iterator<Item = (VertexId, VertexId)> + '_ {
        let sources = self.by_label.get(&label).into_iter().flat_map(|e| e.sources.iter());
        sources.flat_map(move |s| self.live_adj(s, Dir::Out, label).map(move |t| (s, t)))
    }

    /// The labels that have live edges.
    pub fn labels(&self) -> impl Iterator<Item = Label> + '_ {
        self.by_label.keys().copied()
    }

    /// Targets of the live edges with `label` leaving `id`, in id order.
    pub fn out_neighbours(
        &self,
        id: VertexId,
        label: Label,
    ) -> impl Iterator<Item = VertexId> + '_ {
        self.live_adj(id, Dir::Out, label)
    }

    /// Sources of the live edges with `label` entering `id`, in id order.
    pub fn in_neighbours(&self, id: VertexId, label: Label) -> impl Iterator<Item = VertexId> + '_ {
        self.live_adj(id, Dir::In, label)
    }

    /// Every stored edge at `id`, in either direction, live or soft-deleted. A self-loop is
    /// listed twice.
    pub fn incident_edges(&self, id: VertexId) -> impl Iterator<Item = Edge> + '_ {
        let adj = self.vertex(id).map(|v| v.adj.as_slice()).unwrap_or_default();
        adj.iter().map(move |a| Edge { key: a.edge_key(id), is_deleted: a.is_deleted })
    }

    /// The number of live vertices.
    pub fn live_vertex_count(&self) -> usize {
        self.live_vertices
    }

    /// The number of live edges.
    pub fn live_edge_count(&self) -> usize {
        self.live_edges
    }

    /// The number of vertex slots: every vertex id's index is below it.
    pub fn vertex_slots(&self) -> usize {
        self.slots.len()
    }

    /// The number of stored vertices, live or soft-deleted.
    pub fn vertex_count(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    // ----- Internals ----------------------------------------------------------------------

    fn vertex_mut(&mut self, id: VertexId) -> Result<&mut Vertex, GraphError> {
        self.slots
            .get_mut(id.0 as usize)
            .and_then(Option::as_mut)
            .ok_or(GraphError::NoSuchVertex(id))
    }

    fn live_vertex(&self, id: VertexId) -> Result<&Vertex, GraphError> {
        let vertex = self.vertex(id).ok_or(GraphError::NoSuchVertex(id))?;
        if vertex.is_deleted {
            return Err(GraphError::VertexDeleted(id));
        }
        Ok(vertex)
    }

    fn live_vertex_mut(&mut self, id: VertexId) -> Result<&mut Vertex, GraphError> {
        let vertex = self.vertex_mut(id)?;
        if vertex.is_deleted {
            return Err(GraphError::VertexDeleted(id));
        }
        Ok(vertex)
    }

    /// The source's entry for `key`, which holds the edge's deleted flag.
    fn find_out(&self, key: EdgeKey) -> Option<&Adj> {
        let adj = &self.vertex(key.source)?.adj;
        adj.as_slice().get(adj.position(&out_probe(key))?)
    }

    /// Sets the deleted flag of a stored edge at both ends, keeps the label index and counts
    /// in step, and records the change; returns whether the flag changed.
    fn set_edge_deleted(&mut self, key: EdgeKey, deleted: bool) -> Result<bool, GraphError> {
        let missing = GraphError::NoSuchEdge(key);
        let source = &mut self.vertex_mut(key.source).map_err(|_| missing.clone())?.adj;
        let at = source.position(&out_probe(key)).ok_or(missing)?;
        if source.as_slice().get(at).is_some_and(|a| a.is_deleted == deleted) {
            return Ok(false);
        }
        source.set_deleted(at, deleted);
        // Read by the label index only when the edge leaves it.
        let still_leaves = !deleted || source.live_near(at);
        let target = &mut self.vertex_mut(key.target)?.adj;
        if let Some(pos) = target.position(&in_probe(key)) {
            target.set_deleted(pos, deleted);
        }
        self.index_edge(key, !deleted, still_leaves);
        let change =
            if deleted { GraphChange::EdgeDeleted(key) } else { GraphChange::EdgeAdded(key) };
        self.changes.push(change);
        Ok(true)
    }

    /// Counts an edge whose adjacency entries were just made live (or deleted) into (or out
    /// of) the label index; for a deletion, `still_leaves` when its source has another live
    /// edge of its label (a live edge is counted in whatever it says).
    fn index_edge(&mut self, key: EdgeKey, live: bool, still_leaves: bool) {
        if live {
            let edges = self.by_label.entry(key.label).or_default();
            edges.sources.insert(key.source);
            edges.count += 1;
            self.live_edges += 1;
            return;
        }
        if let Some(edges) = self.by_label.get_mut(&key.label) {
            if !still_leaves {
                edges.sources.remove(key.source);
            }
            edges.count -= 1;
            if edges.count == 0 {
                self.by_label.remove(&key.label);
            }
        }
        self.live_edges -= 1;
    }

    fn live_adj(
        &self,
        id: VertexId,
        dir: Dir,
        label: Label,
    ) -> impl Iterator<Item = VertexId> + '_ {
        let adj = self.vertex(id).map(|v| v.adj.as_slice()).unwrap_or_default();
        let start = adj.partition_point(|a| (a.dir, a.label) < (dir, label));
        let len = adj[start..].partition_point(|a| (a.dir, a.label) == (dir, label));
        adj[start..start + len].iter().filter(|a| !a.is_deleted).map(|a| a.other)
    }
}

/// Vertex slots: they never move, so a graph grows without copying its vertices.
pub(crate) type Slots = Chunked<Option<Vertex>>;

/// The length [`Graph::reserve`] assumes for an id or a name.
const NAME_BYTES: usize = 16;

/// The hash of a stored vertex's key, for growing the key table.
fn key_hash(hasher: &SeededHasher, slots: &Slots, id: VertexId) -> u64 {
    match slots.get(id.0 as usize) {
        Some(Some(v)) => hasher.hash_one((v.vitrage_type, v.entity_id)),
        // The table holds only stored vertices; any value keeps the table sound.
        _ => 0,
    }
}

/// Whether `key` is one of the properties a vertex holds in fields.
fn is_reserved(key: Sym) -> bool {
    matches!(
        key,
        names::VITRAGE_CATEGORY
            | names::VITRAGE_TYPE
            | names::VITRAGE_IS_DELETED
            | names::VITRAGE_IS_PLACEHOLDER
    )
}

fn reserved_name(key: Sym) -> &'static str {
    match key {
        names::VITRAGE_CATEGORY => "vitrage_category",
        names::VITRAGE_TYPE => "vitrage_type",
        names::VITRAGE_IS_DELETED => "vitrage_is_deleted",
        _ => "vitrage_is_placeholder",
    }
}

fn out_probe(key: EdgeKey) -> Adj {
    Adj { dir: Dir::Out, label: key.label, other: key.target, is_deleted: false }
}

fn in_probe(key: EdgeKey) -> Adj {
    Adj { dir: Dir::In, label: key.label, other: key.source, is_deleted: false }
}

mod persist;

pub use persist::SavedGraph;

#[cfg(test)]
mod tests;

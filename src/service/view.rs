//! The seam between the evaluation task and the API: an immutable snapshot of the entity graph
//! as Vitrage shows it.
//!
//! The evaluation task owns the runner and is the only writer. After each batch it builds a
//! [`View`] and publishes it through a `tokio::sync::watch` channel as an `Arc<View>`; handlers
//! clone the `Arc` and compute their answer from it, so a large topology read never holds a lock
//! the evaluation needs.

use hashbrown::HashTable;
use serde_json::{Map, Value};
use std::hash::BuildHasher;
use std::sync::Arc;

/// What the evaluation task publishes after each batch; handlers read it without touching the
/// runner.
///
/// Built with [`View::new`], which checks the edges and indexes the vertices once, so every
/// handler can look a vertex up by `vitrage_id` and walk its edges without rebuilding anything.
/// Vertices and edges are shared between views ([`View::shared`]): the publisher redraws only
/// what a batch changed, and a new view costs a pointer per vertex and edge.
#[derive(Debug, Clone, Default)]
pub struct View {
    /// How many batches were applied before this view was taken. Generation 0 is the placeholder
    /// a channel starts with: the API answers 503 `vitrage-graph is not ready` until a view with a
    /// generation of at least 1 is published (Vitrage's `is_alive` check).
    pub generation: u64,
    /// Every vertex of the graph, in the order the API lists them.
    pub vertices: Vec<Arc<VertexView>>,
    /// Every edge of the graph; `source` and `target` index [`View::vertices`].
    pub edges: Vec<Arc<EdgeView>>,
    index: Index,
}

/// One live vertex as Vitrage shows it: its full property dict (vitrage_id, vitrage_category,
/// vitrage_type, id, name, state, vitrage_operational_state, vitrage_aggregated_state,
/// vitrage_is_deleted, vitrage_is_placeholder, vitrage_sample_timestamp, update_timestamp,
/// project_id, and for alarms severity, vitrage_operational_severity,
/// vitrage_aggregated_severity, vitrage_resource_id, vitrage_resource_type,
/// vitrage_resource_project_id, start_timestamp, ...).
///
/// The API returns these dicts as they are, so the publisher decides every key and its order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VertexView {
    /// The vertex's properties, `vitrage_id` (a string) required.
    pub props: Map<String, Value>,
}

/// A live edge between two vertices (indices into [`View::vertices`]), with its label and
/// properties.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeView {
    /// Index of the source vertex (for `on`, the alarm; for `contains`, the container).
    pub source: usize,
    /// Index of the target vertex.
    pub target: usize,
    /// The edge label (`contains`, `on`, `causes`, ...), which is also its multigraph key.
    pub relationship_type: String,
    /// The edge's other properties (`vitrage_is_deleted`, `update_timestamp`, ...).
    pub props: Map<String, Value>,
}

/// Why a set of vertices and edges is not a view.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ViewError {
    /// A vertex has no string `vitrage_id`, so nothing could ever look it up.
    #[error("vertex {index} has no string vitrage_id")]
    MissingVitrageId {
        /// Position of the vertex in the list.
        index: usize,
    },
    /// Two vertices share a `vitrage_id`.
    #[error("vitrage_id {0} appears twice")]
    DuplicateVitrageId(String),
    /// An edge points outside the vertex list.
    #[error("edge {index} refers to vertex {vertex}, but there are only {count} vertices")]
    EdgeOutOfRange {
        /// Position of the edge in the list.
        index: usize,
        /// The offending vertex index.
        vertex: usize,
        /// How many vertices there are.
        count: usize,
    },
}

/// Lookups built once per view: positions by `vitrage_id` (hashed, no copy of the ids), and
/// each vertex's edges as ranges of two flat lists.
#[derive(Debug, Clone, Default)]
struct Index {
    by_vitrage_id: HashTable<usize>,
    out_start: Vec<usize>,
    out_edges: Vec<usize>,
    in_start: Vec<usize>,
    in_edges: Vec<usize>,
}

fn id_hash(id: &str) -> u64 {
    rustc_hash::FxBuildHasher.hash_one(id)
}

/// Vertex `v`'s range of an [`adjacency`] list; empty for a vertex out of range.
fn edges_of<'a>(start: &[usize], list: &'a [usize], v: usize) -> &'a [usize] {
    match (start.get(v), start.get(v.saturating_add(1))) {
        (Some(&from), Some(&to)) => &list[from..to],
        _ => &[],
    }
}

/// The edges of each vertex, in edge order, as `(start, list)`: vertex `v`'s edges are
/// `list[start[v]..start[v + 1]]`.
fn adjacency(count: usize, ends: impl Iterator<Item = usize> + Clone) -> (Vec<usize>, Vec<usize>) {
    let mut start = vec![0; count + 1];
    for v in ends.clone() {
        start[v + 1] += 1;
    }
    for v in 0..count {
        start[v + 1] += start[v];
    }
    let mut next = start.clone();
    let mut list = vec![0; start[count]];
    for (e, v) in ends.enumerate() {
        list[next[v]] = e;
        next[v] += 1;
    }
    (start, list)
}

impl View {
    /// Checks and indexes a snapshot.
    ///
    /// Vitrage's default queries compare `vitrage_is_deleted` and `vitrage_is_placeholder` with
    /// `== false`, so a vertex that lacks one of them would silently vanish from every listing:
    /// missing flags are added as `false`. Edges get `relationship_type` (the label) and
    /// `vitrage_is_deleted: false` in their props when they lack them, since the node-link output
    /// and the edge filters read them there.
    pub fn new(
        generation: u64,
        mut vertices: Vec<VertexView>,
        mut edges: Vec<EdgeView>,
    ) -> Result<View, ViewError> {
        for vertex in &mut vertices {
            for flag in ["vitrage_is_deleted", "vitrage_is_placeholder"] {
                vertex.props.entry(flag).or_insert(Value::Bool(false));
            }
        }
        for edge in &mut edges {
            if !edge.props.contains_key("relationship_type") {
                edge.props.insert(
                    "relationship_type".to_owned(),
                    Value::String(edge.relationship_type.clone()),
                );
            }
            edge.props.entry("vitrage_is_deleted").or_insert(Value::Bool(false));
        }
        View::shared(
            generation,
            vertices.into_iter().map(Arc::new).collect(),
            edges.into_iter().map(Arc::new).collect(),
        )
    }

    /// Checks and indexes a snapshot whose vertices and edges may be shared with other views.
    /// Nothing is added to them: each vertex must already have its `vitrage_is_deleted` and
    /// `vitrage_is_placeholder` flags and each edge its `relationship_type` and
    /// `vitrage_is_deleted` props, as [`View::new`] would add them.
    pub fn shared(
        generation: u64,
        vertices: Vec<Arc<VertexView>>,
        edges: Vec<Arc<EdgeView>>,
    ) -> Result<View, ViewError> {
        let count = vertices.len();
        let mut by_vitrage_id = HashTable::with_capacity(count);
        let id_of = |i: usize| vertices[i].vitrage_id().unwrap_or_default();
        for (i, vertex) in vertices.iter().enumerate() {
            let Some(id) = vertex.vitrage_id() else {
                return Err(ViewError::MissingVitrageId { index: i });
            };
            let hash = id_hash(id);
            if by_vitrage_id.find(hash, |&j| id_of(j) == id).is_some() {
                return Err(ViewError::DuplicateVitrageId(id.to_owned()));
            }
            by_vitrage_id.insert_unique(hash, i, |&j| id_hash(id_of(j)));
        }
        for (i, edge) in edges.iter().enumerate() {
            for vertex in [edge.source, edge.target] {
                if vertex >= count {
                    return Err(ViewError::EdgeOutOfRange { index: i, vertex, count });
                }
            }
        }
        let (out_start, out_edges) = adjacency(count, edges.iter().map(|e| e.source));
        let (in_start, in_edges) = adjacency(count, edges.iter().map(|e| e.target));
        let index = Index { by_vitrage_id, out_start, out_edges, in_start, in_edges };
        Ok(View { generation, vertices, edges, index })
    }

    /// The placeholder a channel starts with, before the first batch (generation 0).
    pub fn empty() -> View {
        View::default()
    }

    /// Whether the evaluation task has published a real view yet.
    pub fn is_ready(&self) -> bool {
        self.generation > 0
    }

    /// The index of the vertex with this `vitrage_id`.
    pub fn find(&self, vitrage_id: &str) -> Option<usize> {
        let same = |&i: &usize| self.vertices[i].vitrage_id() == Some(vitrage_id);
        self.index.by_vitrage_id.find(id_hash(vitrage_id), same).copied()
    }

    /// The properties of vertex `i`; an index out of range reads as an empty dict.
    pub fn props(&self, i: usize) -> &Map<String, Value> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        self.vertices.get(i).map_or_else(|| EMPTY.get_or_init(Map::new), |v| &v.props)
    }

    /// The edges leaving vertex `i` (indices into [`View::edges`]), in publication order.
    pub fn out_edges(&self, i: usize) -> &[usize] {
        edges_of(&self.index.out_start, &self.index.out_edges, i)
    }

    /// The edges entering vertex `i`, in publication order.
    pub fn in_edges(&self, i: usize) -> &[usize] {
        edges_of(&self.index.in_start, &self.index.in_edges, i)
    }
}

impl VertexView {
    /// A string property, if present and a string.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.props.get(key).and_then(Value::as_str)
    }

    /// The `vitrage_id`, found at once where the publisher puts it: first.
    fn vitrage_id(&self) -> Option<&str> {
        match self.props.iter().next() {
            Some((k, v)) if k == "vitrage_id" => v.as_str(),
            _ => self.str("vitrage_id"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::testing::{edge, vertex};
    use serde_json::json;

    #[test]
    fn indexes_vertices_and_edges() {
        let view = View::new(
            1,
            vec![vertex(json!({"vitrage_id": "a"})), vertex(json!({"vitrage_id": "b"}))],
            vec![edge(0, 1, "contains")],
        )
        .expect("valid view");
        assert_eq!(view.find("b"), Some(1));
        assert_eq!(view.find("c"), None);
        assert_eq!(view.out_edges(0), &[0]);
        assert_eq!(view.in_edges(1), &[0]);
        assert!(view.out_edges(7).is_empty());
        assert_eq!(view.props(0)["vitrage_is_deleted"], json!(false));
        assert_eq!(view.props(9).len(), 0);
        assert_eq!(
            Value::Object(view.edges[0].props.clone()),
            json!({"relationship_type": "contains", "vitrage_is_deleted": false})
        );
    }

    #[test]
    fn rejects_bad_snapshots() {
        let missing = View::new(1, vec![vertex(json!({"id": "x"}))], vec![]);
        assert_eq!(missing.err(), Some(ViewError::MissingVitrageId { index: 0 }));
        let twice = View::new(
            1,
            vec![vertex(json!({"vitrage_id": "a"})), vertex(json!({"vitrage_id": "a"}))],
            vec![],
        );
        assert_eq!(twice.err(), Some(ViewError::DuplicateVitrageId("a".into())));
        let out = View::new(1, vec![vertex(json!({"vitrage_id": "a"}))], vec![edge(0, 3, "on")]);
        assert_eq!(out.err(), Some(ViewError::EdgeOutOfRange { index: 0, vertex: 3, count: 1 }));
    }

    #[test]
    fn generation_zero_is_not_ready() {
        assert!(!View::empty().is_ready());
    }
}

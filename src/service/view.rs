//! The seam between the evaluation task and the API: an immutable snapshot of the entity graph
//! as Vitrage shows it.
//!
//! The evaluation task owns the runner and is the only writer. After each batch it builds a
//! [`View`] and publishes it through a `tokio::sync::watch` channel as an `Arc<View>`; handlers
//! clone the `Arc` and compute their answer from it, so a large topology read never holds a lock
//! the evaluation needs.

use rustc_hash::FxHashMap as HashMap;
use serde_json::{Map, Value};

/// What the evaluation task publishes after each batch; handlers read it without touching the
/// runner.
///
/// Built with [`View::new`], which checks the edges and indexes the vertices once, so every
/// handler can look a vertex up by `vitrage_id` and walk its edges without rebuilding anything.
#[derive(Debug, Clone, Default)]
pub struct View {
    /// How many batches were applied before this view was taken. Generation 0 is the placeholder
    /// a channel starts with: the API answers 503 `vitrage-graph is not ready` until a view with a
    /// generation of at least 1 is published (Vitrage's `is_alive` check).
    pub generation: u64,
    /// Every vertex of the graph, in the order the API lists them.
    pub vertices: Vec<VertexView>,
    /// Every edge of the graph; `source` and `target` index [`View::vertices`].
    pub edges: Vec<EdgeView>,
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

/// Lookups built once per view.
#[derive(Debug, Clone, Default)]
struct Index {
    by_vitrage_id: HashMap<String, usize>,
    out_edges: Vec<Vec<usize>>,
    in_edges: Vec<Vec<usize>>,
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
        let count = vertices.len();
        let mut index = Index {
            by_vitrage_id: HashMap::default(),
            out_edges: vec![Vec::new(); count],
            in_edges: vec![Vec::new(); count],
        };
        for (i, vertex) in vertices.iter_mut().enumerate() {
            let Some(id) = vertex.props.get("vitrage_id").and_then(Value::as_str) else {
                return Err(ViewError::MissingVitrageId { index: i });
            };
            if index.by_vitrage_id.insert(id.to_owned(), i).is_some() {
                return Err(ViewError::DuplicateVitrageId(id.to_owned()));
            }
            for flag in ["vitrage_is_deleted", "vitrage_is_placeholder"] {
                vertex.props.entry(flag).or_insert(Value::Bool(false));
            }
        }
        for (i, edge) in edges.iter_mut().enumerate() {
            for vertex in [edge.source, edge.target] {
                if vertex >= count {
                    return Err(ViewError::EdgeOutOfRange { index: i, vertex, count });
                }
            }
            index.out_edges[edge.source].push(i);
            index.in_edges[edge.target].push(i);
            if !edge.props.contains_key("relationship_type") {
                edge.props.insert(
                    "relationship_type".to_owned(),
                    Value::String(edge.relationship_type.clone()),
                );
            }
            edge.props.entry("vitrage_is_deleted").or_insert(Value::Bool(false));
        }
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
        self.index.by_vitrage_id.get(vitrage_id).copied()
    }

    /// The properties of vertex `i`; an index out of range reads as an empty dict.
    pub fn props(&self, i: usize) -> &Map<String, Value> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        self.vertices.get(i).map_or_else(|| EMPTY.get_or_init(Map::new), |v| &v.props)
    }

    /// The edges leaving vertex `i` (indices into [`View::edges`]), in publication order.
    pub fn out_edges(&self, i: usize) -> &[usize] {
        self.index.out_edges.get(i).map_or(&[], Vec::as_slice)
    }

    /// The edges entering vertex `i`, in publication order.
    pub fn in_edges(&self, i: usize) -> &[usize] {
        self.index.in_edges.get(i).map_or(&[], Vec::as_slice)
    }
}

impl VertexView {
    /// A string property, if present and a string.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.props.get(key).and_then(Value::as_str)
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

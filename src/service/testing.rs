//! Builders shared by the handlers' unit tests.

use super::view::{EdgeView, VertexView, View};
use serde_json::{Map, Value};

/// A vertex from a JSON object.
pub fn vertex(props: Value) -> VertexView {
    VertexView { props: props.as_object().cloned().unwrap_or_default() }
}

/// A vertex from a JSON object with more properties merged in.
pub fn vertex_with(props: Value, extra: Value) -> VertexView {
    let mut vertex = vertex(props);
    vertex.props.extend(extra.as_object().cloned().unwrap_or_default());
    vertex
}

/// An edge without properties of its own.
pub fn edge(source: usize, target: usize, label: &str) -> EdgeView {
    EdgeView { source, target, relationship_type: label.to_owned(), props: Map::new() }
}

/// A published view (generation 1) of these vertices and edges.
pub fn view(vertices: Vec<VertexView>, edges: Vec<EdgeView>) -> View {
    View::new(1, vertices, edges).expect("valid test view")
}

/// The `vitrage_id`s of a list of dicts, or of a node-link graph's nodes.
pub fn ids(value: &Value) -> Vec<&str> {
    let list = value.get("nodes").unwrap_or(value);
    list.as_array()
        .map_or_else(Vec::new, |a| a.iter().filter_map(|x| x["vitrage_id"].as_str()).collect())
}

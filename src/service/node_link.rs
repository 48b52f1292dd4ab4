//! networkx node-link JSON, as Vitrage's `json_output_graph` shapes it, and the `tree` form.
//!
//! Nodes carry every vertex property, with `id` the vertex's own `id` property and `graph_index`
//! its position (both only when the vertex has an `id`; otherwise `id` is the `vitrage_id`, as
//! networkx leaves it). Links carry the edge properties plus `source` and `target` (indices into
//! `nodes`) and `key` (the label). The list is emitted as `links`, which Vitrage's networkx
//! wrote, and again as `edges`, which networkx 3.6 (what the client installs today) reads.

use super::error::ApiError;
use super::view::View;
use serde_json::{Map, Value, json};

/// A subgraph of a view: vertices in output order and edges in insertion order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subgraph {
    /// Vertex indices, each once.
    pub vertices: Vec<usize>,
    /// Edge indices, each once, both ends among `vertices`.
    pub edges: Vec<usize>,
}

/// The node-link dict of a subgraph, with the top-level keys networkx writes
/// (`directed`, `multigraph`, `graph`, `nodes`, `links`) plus `edges`.
pub fn node_link(view: &View, graph: &Subgraph) -> Map<String, Value> {
    let mut position = vec![usize::MAX; view.vertices.len()];
    let mut nodes = Vec::with_capacity(graph.vertices.len());
    for (i, &v) in graph.vertices.iter().enumerate() {
        position[v] = i;
        let mut node = view.props(v).clone();
        match node.get("id").cloned() {
            Some(id) => {
                node.insert("id".to_owned(), id);
                node.insert("graph_index".to_owned(), json!(i));
            }
            None => {
                let vitrage_id = node.get("vitrage_id").cloned().unwrap_or(Value::Null);
                node.insert("id".to_owned(), vitrage_id);
            }
        }
        nodes.push(Value::Object(node));
    }
    // networkx lists edges by source node, in node order.
    let placed = |&e: &usize| {
        view.edges.get(e).filter(|edge| {
            position[edge.source] != usize::MAX && position[edge.target] != usize::MAX
        })
    };
    let mut edges: Vec<usize> =
        graph.edges.iter().filter(|e| placed(e).is_some()).copied().collect();
    edges.sort_by_key(|e| placed(e).map_or(usize::MAX, |edge| position[edge.source]));
    let links: Vec<Value> = edges
        .iter()
        .filter_map(placed)
        .map(|edge| {
            let mut link = edge.props.clone();
            link.insert("source".to_owned(), json!(position[edge.source]));
            link.insert("target".to_owned(), json!(position[edge.target]));
            link.insert("key".to_owned(), json!(edge.relationship_type));
            Value::Object(link)
        })
        .collect();
    let mut out = Map::new();
    out.insert("directed".to_owned(), json!(true));
    out.insert("multigraph".to_owned(), json!(true));
    out.insert("graph".to_owned(), json!({}));
    out.insert("nodes".to_owned(), Value::Array(nodes));
    out.insert("links".to_owned(), Value::Array(links.clone()));
    out.insert("edges".to_owned(), Value::Array(links));
    out
}

/// networkx `tree_data(node_link_graph(data, name="graph_index"), root, ident="graph_index",
/// children="children")`: the root's dict with its successors nested under `children` (a node
/// without successors has no `children` key; the root always has one). An empty graph is `{}`.
/// The graph must be a tree: one edge fewer than nodes, weakly connected, every node with a
/// `graph_index`; otherwise Vitrage fails the request.
pub fn tree(data: &Map<String, Value>, root: usize, failure: &str) -> Result<Value, ApiError> {
    let fail = |why: &str| ApiError::not_found(format!("{failure} {why}"));
    let nodes = data.get("nodes").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    let links = data.get("links").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    if nodes.is_empty() {
        return Ok(json!({}));
    }
    if nodes.iter().any(|n| n.get("graph_index").is_none()) {
        return Err(fail("A vertex has no 'id' property."));
    }
    if nodes.len() != links.len() + 1 {
        return Err(fail("The graph is not a tree."));
    }
    if root >= nodes.len() {
        return Err(fail("The root is not in the graph."));
    }
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    let mut neighbours: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for link in links {
        let end = |key: &str| link.get(key).and_then(Value::as_u64).map(|i| i as usize);
        let (Some(s), Some(t)) = (end("source"), end("target")) else {
            return Err(fail("A link has no source or target."));
        };
        if s >= nodes.len() || t >= nodes.len() {
            return Err(fail("A link points outside the graph."));
        }
        if !children[s].contains(&t) {
            children[s].push(t);
        }
        neighbours[s].push(t);
        neighbours[t].push(s);
    }
    if !connected(&neighbours) {
        return Err(fail("The graph is not weakly connected."));
    }
    Ok(Value::Object(build(nodes, &children, root)))
}

fn connected(neighbours: &[Vec<usize>]) -> bool {
    let mut seen = vec![false; neighbours.len()];
    let mut stack = vec![0];
    seen[0] = true;
    while let Some(n) = stack.pop() {
        for &m in &neighbours[n] {
            if !seen[m] {
                seen[m] = true;
                stack.push(m);
            }
        }
    }
    seen.iter().all(|&s| s)
}

/// Builds the nested dicts without recursion, so a long chain cannot overflow the stack. The
/// graph is an undirected tree here, so following successors never revisits a node.
fn build(nodes: &[Value], children: &[Vec<usize>], root: usize) -> Map<String, Value> {
    let dict = |i: usize| {
        let mut node = nodes[i].as_object().cloned().unwrap_or_default();
        node.remove("graph_index");
        node.insert("graph_index".to_owned(), json!(i));
        node
    };
    // Post-order: a node is finished once all its children are.
    let mut done: Vec<Option<Map<String, Value>>> = vec![None; nodes.len()];
    let mut stack = vec![(root, false)];
    while let Some((n, expanded)) = stack.pop() {
        if !expanded {
            stack.push((n, true));
            stack.extend(children[n].iter().rev().map(|&c| (c, false)));
            continue;
        }
        let mut node = dict(n);
        let kids: Vec<Value> =
            children[n].iter().filter_map(|&c| done[c].take()).map(Value::Object).collect();
        if !kids.is_empty() || n == root {
            node.insert("children".to_owned(), Value::Array(kids));
        }
        done[n] = Some(node);
    }
    done[root].take().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::testing::{edge, vertex, view as build};

    fn view() -> View {
        build(
            vec![
                vertex(json!({"vitrage_id": "c", "id": "OpenStack Cluster"})),
                vertex(json!({"vitrage_id": "h", "id": "host-1"})),
                vertex(json!({"vitrage_id": "x"})),
            ],
            vec![edge(1, 2, "contains"), edge(0, 1, "contains")],
        )
    }

    #[test]
    fn node_link_shape() {
        let view = view();
        let data = node_link(&view, &Subgraph { vertices: vec![0, 1, 2], edges: vec![0, 1] });
        assert_eq!(
            Value::Object(data.clone()),
            json!({
                "directed": true, "multigraph": true, "graph": {},
                "nodes": [
                    {"vitrage_id": "c", "id": "OpenStack Cluster", "vitrage_is_deleted": false,
                     "vitrage_is_placeholder": false, "graph_index": 0},
                    {"vitrage_id": "h", "id": "host-1", "vitrage_is_deleted": false,
                     "vitrage_is_placeholder": false, "graph_index": 1},
                    {"vitrage_id": "x", "vitrage_is_deleted": false, "vitrage_is_placeholder": false,
                     "id": "x"}
                ],
                "links": [
                    {"relationship_type": "contains", "vitrage_is_deleted": false,
                     "source": 0, "target": 1, "key": "contains"},
                    {"relationship_type": "contains", "vitrage_is_deleted": false,
                     "source": 1, "target": 2, "key": "contains"}
                ],
                "edges": data["links"].clone()
            })
        );
        let refused = tree(&data, 0, "Failed to get topology.").expect_err("x has no id");
        assert_eq!(refused.description, "Failed to get topology. A vertex has no 'id' property.");
    }

    #[test]
    fn tree_nests_successors() {
        let view = view();
        let data = node_link(&view, &Subgraph { vertices: vec![0, 1], edges: vec![1] });
        let tree = tree(&data, 0, "Failed.").expect("a tree");
        assert_eq!(tree["graph_index"], json!(0));
        assert_eq!(tree["children"][0]["id"], json!("host-1"));
        assert_eq!(tree["children"][0].get("children"), None);
        let lonely = node_link(&view, &Subgraph { vertices: vec![1], edges: vec![] });
        assert_eq!(super::tree(&lonely, 0, "F.").expect("one node")["children"], json!([]));
        assert_eq!(super::tree(&Map::new(), 0, "F.").expect("empty"), json!({}));
    }

    #[test]
    fn tree_refuses_non_trees() {
        let view = view();
        let split = node_link(&view, &Subgraph { vertices: vec![0, 1], edges: vec![] });
        assert!(tree(&split, 0, "F.").is_err());
    }
}

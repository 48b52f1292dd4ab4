//! `POST /v1/topology/`: the entity graph, or a part of it, as node-link JSON or a tree
//! (`vitrage/api_handler/apis/topology.py` and `api/controllers/v1/topology.py`).
//!
//! Three ways to pick the vertices, as Vitrage does:
//! - `tree`, or `root` together with `depth`: a breadth-first walk from the root over edges in
//!   both directions, keeping the neighbours that match `query` (required here) and, unless
//!   `all_tenants`, belong to the caller's project or to none; `depth` limits the walk.
//! - `graph` with `all_tenants`: every vertex matching `query` (default: live resources and
//!   alarms).
//! - `graph` for one tenant: the vertices in the caller's scope matching `query`, plus every
//!   vertex on a shortest directed path from the root to them (so an instance brings its host
//!   and zone), minus the project-less alarms of another tenant's resources.
//!
//! The root defaults to the single `openstack.cluster` vertex. Edges marked deleted never show.

use super::caller::Caller;
use super::error::ApiError;
use super::node_link::{Subgraph, node_link, tree};
use super::params::Params;
use super::query::{
    Query, QueryError, category_in_scope, equals, not_deleted, project_condition,
    topology_and_alarms, with_condition,
};
use super::view::View;
use serde_json::{Value, json};
use std::collections::VecDeque;

/// The `vitrage_type` of the default root.
pub const CLUSTER_TYPE: &str = "openstack.cluster";
/// The `id` of the cluster vertex, which the tree form roots at when no `root` is given.
pub const CLUSTER_ID: &str = "OpenStack Cluster";
const FAILED: &str = "Failed to get topology.";

/// `POST /v1/topology/` with `graph_type`, `depth`, `query`, `root`, `all_tenants`.
pub fn topology(view: &View, caller: &Caller, params: &Params) -> Result<Value, ApiError> {
    let all_tenants = caller.authorize(params.bool("all_tenants", false))?;
    let depth = params.int("depth")?;
    let is_tree = match params.string("graph_type")? {
        None | Some("graph") => false,
        Some("tree") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Unknown graph_type '{other}': use 'graph' or 'tree'"
            )));
        }
    };
    let query = params.query("query")?;
    let root = params.string("root")?;
    if !is_tree && depth.is_some() && root.is_none() {
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "Graph-type 'graph' requires a 'root' with 'depth'",
        ));
    }
    let fail = |e: QueryError| ApiError::not_found(format!("{FAILED} {e}"));
    let root_index = match root {
        Some(id) => {
            Some(view.find(id).ok_or_else(|| fail(QueryError(format!("Unknown root {id}."))))?)
        }
        None => default_root(view).map_err(fail)?,
    };
    let graph = if is_tree || (root.is_some() && depth.is_some()) {
        let Some(query) = query else {
            return Err(fail(QueryError("Graph-type 'tree' requires a filter.".to_owned())));
        };
        let query = if all_tenants {
            query
        } else {
            let project = caller.project_id.as_deref();
            json!({"and": [query, project_condition(project, true)]})
        };
        let Some(root) = root_index else {
            return Err(fail(QueryError("No root vertex found.".to_owned())));
        };
        walk(view, root, &Query::compile(&query).map_err(fail)?, depth).map_err(fail)?
    } else if all_tenants {
        let query = Query::compile(&query.unwrap_or_else(topology_and_alarms)).map_err(fail)?;
        let vertices = matching(view, &query).map_err(fail)?;
        induced(view, vertices).map_err(fail)?
    } else {
        tenant_graph(view, caller, query, root_index).map_err(fail)?
    };
    let mut data = node_link(view, &graph);
    if !is_tree {
        // `json_output_graph(raw=True)` merges its keyword arguments into the output.
        data.insert("raw".to_owned(), json!(true));
        return Ok(Value::Object(data));
    }
    let nodes = data.get("nodes").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    let position = nodes.iter().position(|node| match root {
        Some(root) => node.get("vitrage_id").and_then(Value::as_str) == Some(root),
        None => node.get("id").and_then(Value::as_str) == Some(CLUSTER_ID),
    });
    tree(&data, position.unwrap_or(usize::MAX), FAILED)
}

/// The single `openstack.cluster` vertex; two of them is an error.
fn default_root(view: &View) -> Result<Option<usize>, QueryError> {
    let mut roots = (0..view.vertices.len()).filter(|&v| {
        view.props(v).get("vitrage_type").and_then(Value::as_str) == Some(CLUSTER_TYPE)
    });
    let first = roots.next();
    if roots.next().is_some() {
        return Err(QueryError("Multiple root vertices found.".to_owned()));
    }
    Ok(first)
}

/// `graph_query_vertices`: breadth-first from `root` over live edges in both directions (incoming
/// first), keeping matching neighbours. A node at `depth` is listed but not expanded; a depth of
/// 0 or none means no limit.
fn walk(
    view: &View,
    root: usize,
    query: &Query,
    depth: Option<i64>,
) -> Result<Subgraph, QueryError> {
    if !query.matches(view.props(root))? {
        return Ok(Subgraph::default());
    }
    let live = Query::compile(&not_deleted())?;
    let limit = depth.filter(|&d| d != 0);
    let mut listed = vec![false; view.vertices.len()];
    let mut visited = vec![false; view.vertices.len()];
    let mut edge_listed = vec![false; view.edges.len()];
    let mut graph = Subgraph { vertices: vec![root], edges: Vec::new() };
    listed[root] = true;
    let mut queue = VecDeque::from([(root, 0i64)]);
    while let Some((node, level)) = queue.pop_front() {
        if visited[node] || limit.is_some_and(|d| level >= d) {
            continue;
        }
        visited[node] = true;
        for &e in view.in_edges(node).iter().chain(view.out_edges(node)) {
            let edge = &view.edges[e];
            if !live.matches(&edge.props)? {
                continue;
            }
            let other = if edge.target == node { edge.source } else { edge.target };
            if !query.matches(view.props(other))? {
                continue;
            }
            if !listed[other] {
                listed[other] = true;
                graph.vertices.push(other);
            }
            if !edge_listed[e] {
                edge_listed[e] = true;
                graph.edges.push(e);
            }
            queue.push_back((other, level + 1));
        }
    }
    Ok(graph)
}

/// The vertices matching a query, in view order.
pub(crate) fn matching(view: &View, query: &Query) -> Result<Vec<bool>, QueryError> {
    (0..view.vertices.len()).map(|v| query.matches(view.props(v))).collect()
}

/// The subgraph on the chosen vertices with their live edges.
fn induced(view: &View, chosen: Vec<bool>) -> Result<Subgraph, QueryError> {
    let live = Query::compile(&not_deleted())?;
    let mut edges = Vec::new();
    for (e, edge) in view.edges.iter().enumerate() {
        if chosen[edge.source] && chosen[edge.target] && live.matches(&edge.props)? {
            edges.push(e);
        }
    }
    let vertices = (0..chosen.len()).filter(|&v| chosen[v]).collect();
    Ok(Subgraph { vertices, edges })
}

/// `_get_topology_for_specific_project`.
fn tenant_graph(
    view: &View,
    caller: &Caller,
    query: Option<Value>,
    root: Option<usize>,
) -> Result<Subgraph, QueryError> {
    let project = caller.project_id.as_deref();
    let query = match query {
        Some(query) => with_condition(query, project_condition(project, caller.is_admin))?,
        None => json!({"or": [
            category_in_scope("RESOURCE", project, caller.is_admin),
            category_in_scope("ALARM", project, true),
        ]}),
    };
    let mut chosen = matching(view, &Query::compile(&query)?)?;
    if let Some(root) = root {
        add_shortest_paths(view, root, &mut chosen);
    }
    let alarms = Query::compile(
        &json!({"and": [equals("vitrage_category", json!("ALARM")), not_deleted()]}),
    )?;
    for (v, keep) in chosen.iter_mut().enumerate() {
        if *keep && alarms.matches(view.props(v))? && foreign_alarm(view, caller, v) {
            *keep = false;
        }
    }
    induced(view, chosen)
}

/// Adds every vertex on the shortest directed path (networkx's breadth-first
/// `shortest_path(G, source=root)`) from `root` to a chosen vertex.
fn add_shortest_paths(view: &View, root: usize, chosen: &mut [bool]) {
    let mut parent = vec![usize::MAX; view.vertices.len()];
    let mut reached = vec![false; view.vertices.len()];
    reached[root] = true;
    let mut queue = VecDeque::from([root]);
    while let Some(node) = queue.pop_front() {
        for &e in view.out_edges(node) {
            let next = view.edges[e].target;
            if !reached[next] {
                reached[next] = true;
                parent[next] = node;
                queue.push_back(next);
            }
        }
    }
    let targets: Vec<usize> = (0..chosen.len()).filter(|&v| chosen[v] && reached[v]).collect();
    if targets.is_empty() {
        return;
    }
    // Every reached vertex but the root has a parent, so each walk ends at the root or at a vertex
    // whose own path is already marked.
    let mut on_path = vec![false; chosen.len()];
    on_path[root] = true;
    for mut v in targets {
        while v < on_path.len() && !on_path[v] {
            on_path[v] = true;
            v = parent[v];
        }
    }
    for (v, on) in on_path.into_iter().enumerate() {
        chosen[v] |= on;
    }
}

/// `_remove_alarms_of_other_projects`: an alarm of no project whose resource (its first resource
/// neighbour) belongs to another project, or for a non-admin to no project, is hidden.
fn foreign_alarm(view: &View, caller: &Caller, alarm: usize) -> bool {
    let text = |v: usize, key: &str| {
        view.props(v).get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
    };
    if text(alarm, "project_id").is_some() {
        return false;
    }
    let neighbours = view.in_edges(alarm).iter().chain(view.out_edges(alarm)).map(|&e| {
        let edge = &view.edges[e];
        if edge.target == alarm { edge.source } else { edge.target }
    });
    let Some(resource) = neighbours.into_iter().find(|&v| {
        view.props(v).get("vitrage_category").and_then(Value::as_str) == Some("RESOURCE")
    }) else {
        return false;
    };
    let theirs = text(resource, "project_id");
    let mine = caller.project_id.as_deref();
    match theirs {
        Some(theirs) => Some(theirs) != mine,
        None => !caller.is_admin,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::testing::{edge as e, ids, vertex, vertex_with, view};

    /// cluster → zone → host-1 → vm-a (project p1), host-1 → vm-b (p2); a zabbix alarm on host-1,
    /// a deduced alarm on vm-a.
    fn cloud() -> View {
        let resource = |vid: &str, kind: &str, id: &str, extra: Value| {
            let props = json!({"vitrage_id": vid, "vitrage_category": "RESOURCE", "vitrage_type": kind, "id": id});
            vertex_with(props, extra)
        };
        view(
            vec![
                resource("cluster", CLUSTER_TYPE, CLUSTER_ID, json!({})),
                resource("zone", "nova.zone", "zone-1", json!({})),
                resource("host", "nova.host", "host-1", json!({})),
                resource("vm-a", "nova.instance", "a", json!({"project_id": "p1"})),
                resource("vm-b", "nova.instance", "b", json!({"project_id": "p2"})),
                vertex(
                    json!({"vitrage_id": "nic", "vitrage_category": "ALARM", "vitrage_type": "zabbix",
                              "id": "nic-alarm", "name": "NIC down"}),
                ),
                vertex(
                    json!({"vitrage_id": "deduced", "vitrage_category": "ALARM", "vitrage_type": "vitrage",
                              "id": "d1", "name": "instance down", "project_id": "p1"}),
                ),
            ],
            vec![
                e(0, 1, "contains"),
                e(1, 2, "contains"),
                e(2, 3, "contains"),
                e(2, 4, "contains"),
                e(5, 2, "on"),
                e(6, 3, "on"),
                e(5, 6, "causes"),
            ],
        )
    }

    fn run(caller: &Caller, params: Value) -> Result<Value, ApiError> {
        topology(&cloud(), caller, &Params::json(params))
    }

    #[test]
    fn all_tenants_graph_is_everything_live() {
        let data = run(&Caller::admin("p1"), json!({"graph_type": "graph", "all_tenants": true}))
            .expect("topology");
        assert_eq!(ids(&data), ["cluster", "zone", "host", "vm-a", "vm-b", "nic", "deduced"]);
        assert_eq!(data["links"].as_array().map(Vec::len), Some(7));
        assert_eq!(data["links"], data["edges"]);
        assert_eq!(data["raw"], json!(true));
        assert_eq!(data["nodes"][0]["id"], json!(CLUSTER_ID));
        assert_eq!(data["nodes"][0]["graph_index"], json!(0));
        let on = &data["links"].as_array().expect("links")[4];
        assert_eq!(
            (on["source"].clone(), on["target"].clone(), on["key"].clone()),
            (json!(5), json!(2), json!("on"))
        );
    }

    #[test]
    fn tenant_graph_brings_paths_and_hides_foreign_alarms() {
        let member = run(&Caller::member("p1"), json!({"all_tenants": "False"})).expect("topology");
        // vm-a is p1's; the path from the cluster brings zone and host; the NIC alarm is on a host
        // of no project, which a non-admin does not see.
        assert_eq!(ids(&member), ["cluster", "zone", "host", "vm-a", "deduced"]);
        let admin = run(&Caller::admin("p1"), json!({})).expect("topology");
        assert_eq!(ids(&admin), ["cluster", "zone", "host", "vm-a", "nic", "deduced"]);
        let other = run(&Caller::member("p2"), json!({})).expect("topology");
        assert_eq!(ids(&other), ["cluster", "zone", "host", "vm-b"]);
    }

    #[test]
    fn tree_and_depth() {
        let q = json!({"or": [{"==": {"vitrage_category": "RESOURCE"}}]}).to_string();
        let tree = run(
            &Caller::admin("p1"),
            json!({"graph_type": "tree", "query": q, "all_tenants": true}),
        )
        .expect("tree");
        assert_eq!(tree["id"], json!(CLUSTER_ID));
        assert_eq!(
            tree["children"][0]["children"][0]["children"].as_array().map(Vec::len),
            Some(2)
        );
        let shallow = run(&Caller::admin("p1"), json!({"root": "host", "depth": "1", "query": q}))
            .expect("graph");
        assert_eq!(ids(&shallow), ["host", "zone", "vm-a"]);
        let none =
            run(&Caller::admin("p1"), json!({"graph_type": "tree"})).expect_err("needs a filter");
        assert_eq!(none.status, axum::http::StatusCode::NOT_FOUND);
    }

    #[test]
    fn refusals() {
        let depth = run(&Caller::admin("p"), json!({"depth": 2})).expect_err("403");
        assert_eq!(depth.description, "Graph-type 'graph' requires a 'root' with 'depth'");
        assert_eq!(depth.status, axum::http::StatusCode::FORBIDDEN);
        let tenants = run(&Caller::member("p"), json!({"all_tenants": true})).expect_err("403");
        assert_eq!(tenants, ApiError::forbidden());
        let root = run(&Caller::admin("p"), json!({"root": "nope"})).expect_err("404");
        assert_eq!(root.status, axum::http::StatusCode::NOT_FOUND);
        let bad = run(&Caller::admin("p"), json!({"query": "{\"not\": {}}"})).expect_err("404");
        assert!(bad.description.starts_with(FAILED));
        let kind = run(&Caller::admin("p"), json!({"graph_type": "ring"})).expect_err("400");
        assert_eq!(kind.status, axum::http::StatusCode::BAD_REQUEST);
    }
}

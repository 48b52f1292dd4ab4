//! `GET /v1/rca/?alarm_id=X` (also `/v1/rca/X`): the causal chain of an alarm
//! (`vitrage/api_handler/apis/rca.py`, `storage/history_facade.py::alarm_rca`).
//!
//! From the alarm, a breadth-first walk forwards along outgoing `causes` edges (what it causes)
//! and another backwards along incoming ones (what causes it), so the answer is the alarm, its
//! causes and its effects, not its siblings. Without `all_tenants`, an edge is followed only when
//! the alarm it points at is in the caller's project (its own or its resource's; for an admin
//! also an alarm of no project), as Vitrage's join on the edge target does. The answer is
//! node-link JSON plus `inspected_index`, the position of the asked-for alarm.
//!
//! Vitrage walks its history database, so ended alarms take part there; causeway walks the live
//! view, whose alarms are all active.

use super::caller::Caller;
use super::error::ApiError;
use super::node_link::{Subgraph, node_link};
use super::paging::alarm_in_project;
use super::params::Params;
use super::view::View;
use serde_json::{Value, json};

/// The edge label RCA follows.
pub const CAUSES: &str = "causes";

/// `GET /v1/rca/` with `alarm_id` and `all_tenants`. An id that is not an alarm of the view is
/// 404 `Failed to get RCA`.
pub fn rca(
    view: &View,
    caller: &Caller,
    alarm_id: Option<&str>,
    params: &Params,
) -> Result<Value, ApiError> {
    let all_tenants = caller.authorize(params.bool("all_tenants", false))?;
    let alarm_id = match alarm_id {
        Some(id) => Some(id),
        None => params.string("alarm_id")?,
    };
    let Some(alarm_id) = alarm_id else {
        return Err(ApiError::bad_request("Missing argument: alarm_id"));
    };
    let failed = || ApiError::not_found("Failed to get RCA");
    let root = view.find(alarm_id).ok_or_else(failed)?;
    if view.props(root).get("vitrage_category").and_then(Value::as_str) != Some("ALARM") {
        return Err(failed());
    }
    let project = caller.project_id.as_deref().filter(|p| !all_tenants && !p.is_empty());
    let mut reached = vec![false; view.vertices.len()];
    let mut edge_used = vec![false; view.edges.len()];
    reached[root] = true;
    let mut order = Vec::new();
    for forward in [true, false] {
        let mut frontier = vec![root];
        let mut seen = vec![false; view.vertices.len()];
        seen[root] = true;
        while !frontier.is_empty() {
            let mut next = Vec::new();
            for &node in &frontier {
                let edges = if forward { view.out_edges(node) } else { view.in_edges(node) };
                for &e in edges {
                    let edge = &view.edges[e];
                    if edge.relationship_type != CAUSES || is_deleted(&edge.props) {
                        continue;
                    }
                    if project.is_some_and(|p| {
                        !alarm_in_project(view.props(edge.target), p, caller.is_admin)
                    }) {
                        continue;
                    }
                    if !edge_used[e] {
                        edge_used[e] = true;
                        order.push(e);
                    }
                    let other = if forward { edge.target } else { edge.source };
                    reached[other] = true;
                    if !seen[other] {
                        seen[other] = true;
                        next.push(other);
                    }
                }
            }
            frontier = next;
        }
    }
    let vertices: Vec<usize> = (0..view.vertices.len()).filter(|&v| reached[v]).collect();
    let inspected = vertices.iter().position(|&v| v == root).unwrap_or(0);
    let mut data = node_link(view, &Subgraph { vertices, edges: order });
    data.insert("inspected_index".to_owned(), json!(inspected));
    Ok(Value::Object(data))
}

fn is_deleted(props: &serde_json::Map<String, Value>) -> bool {
    props.get("vitrage_is_deleted").is_some_and(|v| !super::params::is_falsy(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::testing::{edge, ids, vertex, vertex_with, view as build};

    /// nic → host → vm-a, host → vm-b (whose resource is p2's); an unrelated alarm; a resource.
    fn view() -> View {
        let alarm = |id: &str, extra: Value| {
            vertex_with(
                json!({"vitrage_id": id, "vitrage_category": "ALARM", "id": id, "name": id}),
                extra,
            )
        };
        build(
            vec![
                alarm("vm-a", json!({})),
                alarm("nic", json!({})),
                alarm("host", json!({})),
                alarm("vm-b", json!({"vitrage_resource_project_id": "p2"})),
                alarm("other", json!({})),
                vertex(json!({"vitrage_id": "r", "vitrage_category": "RESOURCE"})),
            ],
            vec![edge(1, 2, CAUSES), edge(2, 0, CAUSES), edge(2, 3, CAUSES)],
        )
    }

    #[test]
    fn follows_causes_both_ways() {
        let all = Params::json(json!({"all_tenants": "True"}));
        let data = rca(&view(), &Caller::admin("p1"), Some("vm-a"), &all).expect("rca");
        // vm-a's causes are host and nic; vm-b is a sibling, not a cause.
        assert_eq!(ids(&data), ["vm-a", "nic", "host"]);
        assert_eq!(data["inspected_index"], json!(0));
        assert_eq!(data["links"].as_array().map(Vec::len), Some(2));
        assert_eq!(data["links"], data["edges"]);
        let from_host = rca(&view(), &Caller::admin("p1"), Some("host"), &all).expect("rca");
        assert_eq!(ids(&from_host), ["vm-a", "nic", "host", "vm-b"]);
        assert_eq!(from_host["inspected_index"], json!(2));
        assert_eq!(from_host["links"][0]["key"], json!(CAUSES));
    }

    #[test]
    fn tenant_scope_and_errors() {
        let q = Params::json(json!({"alarm_id": "host"}));
        let scoped = rca(&view(), &Caller::member("p1"), None, &q).expect("rca");
        // A member of p1 follows only edges into alarms of p1: none here, so only the alarm.
        assert_eq!(ids(&scoped), ["host"]);
        let admin = rca(&view(), &Caller::admin("p1"), None, &q).expect("rca");
        assert_eq!(ids(&admin), ["vm-a", "nic", "host"]);
        for id in ["r", "missing"] {
            assert_eq!(
                rca(&view(), &Caller::admin("p"), Some(id), &Params::default()),
                Err(ApiError::not_found("Failed to get RCA"))
            );
        }
        assert_eq!(
            rca(&view(), &Caller::admin("p"), None, &Params::default()).expect_err("id").status,
            axum::http::StatusCode::BAD_REQUEST
        );
        let all = Params::json(json!({"all_tenants": true}));
        assert_eq!(
            rca(&view(), &Caller::member("p"), Some("host"), &all),
            Err(ApiError::forbidden())
        );
    }
}

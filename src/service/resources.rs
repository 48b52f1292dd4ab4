//! `/v1/resources/`: list, show and count resource vertices
//! (`vitrage/api_handler/apis/resource.py`, `api/controllers/v1/resource.py` and `count.py`).
//!
//! The listing is the live resources in the caller's scope (its project, and for an admin also
//! resources of no project; every project with `all_tenants`), narrowed by `resource_type` and a
//! `query`, each returned as its full property dict.

use super::caller::Caller;
use super::error::ApiError;
use super::params::Params;
use super::query::{Query, all_resources, category_in_scope, equals};
use super::view::View;
use serde_json::{Map, Value, json};

/// `GET` or `POST /v1/resources/` with `resource_type`, `all_tenants`, `query`.
///
/// Vitrage runs the policy check inside the block that turns every failure into 404
/// `Failed to list resources.`, so that is also what a forbidden `all_tenants` gets.
pub fn list(view: &View, caller: &Caller, params: &Params) -> Result<Value, ApiError> {
    const FAILED: &str = "Failed to list resources.";
    let query = scoped_query(caller, params).map_err(|e| match e.status {
        axum::http::StatusCode::BAD_REQUEST => e,
        _ => ApiError::not_found(FAILED),
    })?;
    let fail = |e: super::query::QueryError| ApiError::not_found(format!("{FAILED} {e}"));
    let query = Query::compile(&query).map_err(fail)?;
    let mut out = Vec::new();
    for vertex in &view.vertices {
        if query.matches(&vertex.props).map_err(fail)? {
            out.push(Value::Object(vertex.props.clone()));
        }
    }
    Ok(Value::Array(out))
}

/// `GET /v1/resources/<vitrage_id>`: the vertex's dict; 404 `Failed to show resource.` unless it
/// is a RESOURCE the caller may see (its project, or any for an admin).
pub fn show(view: &View, caller: &Caller, vitrage_id: &str) -> Result<Value, ApiError> {
    let failed = || ApiError::not_found("Failed to show resource.");
    let props = view.find(vitrage_id).map(|v| view.props(v)).ok_or_else(failed)?;
    if props.get("vitrage_category").and_then(Value::as_str) != Some("RESOURCE") {
        return Err(failed());
    }
    let theirs = props.get("project_id").and_then(Value::as_str);
    if !caller.is_admin && caller.project_id.as_deref() != theirs {
        return Err(failed());
    }
    Ok(Value::Object(props.clone()))
}

/// `POST /v1/resources/count/` with `resource_type`, `all_tenants`, `query`, `group_by` (default
/// `vitrage_type`): `{value: count}` in order of first appearance; a vertex without the property
/// counts under `""`.
pub fn count(view: &View, caller: &Caller, params: &Params) -> Result<Value, ApiError> {
    const FAILED: &str = "Failed to get resource count.";
    let query = scoped_query(caller, params)?;
    let group_by = params.string("group_by")?.unwrap_or("vitrage_type");
    let fail = |e: String| ApiError::not_found(format!("{FAILED} {e}"));
    let query = Query::compile(&query).map_err(|e| fail(e.0))?;
    let mut counts = Map::new();
    for vertex in &view.vertices {
        if !query.matches(&vertex.props).map_err(|e| fail(e.0))? {
            continue;
        }
        let key = match vertex.props.get(group_by) {
            None => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) => "null".to_owned(),
            Some(v @ (Value::Bool(_) | Value::Number(_))) => v.to_string(),
            Some(other) => return Err(fail(format!("unhashable type: {other}"))),
        };
        let slot = counts.entry(key).or_insert(json!(0));
        *slot = json!(slot.as_u64().unwrap_or(0) + 1);
    }
    Ok(Value::Object(counts))
}

/// `_get_query`: the tenant scope, then the type, then the caller's query, all under one `and`.
fn scoped_query(caller: &Caller, params: &Params) -> Result<Value, ApiError> {
    let all_tenants = caller.authorize(params.bool("all_tenants", false))?;
    let mut query = if all_tenants {
        all_resources()
    } else {
        category_in_scope("RESOURCE", caller.project_id.as_deref(), caller.is_admin)
    };
    let mut extra = Vec::new();
    if let Some(kind) = params.string("resource_type")?.filter(|t| !t.is_empty()) {
        extra.push(equals("vitrage_type", json!(kind)));
    }
    if let Some(user) = params.query("query")? {
        extra.push(user);
    }
    if let Some(list) = query.get_mut("and").and_then(Value::as_array_mut) {
        list.extend(extra);
    }
    Ok(query)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::testing::{ids, vertex, view};

    fn cloud() -> View {
        let resource = |id: &str, kind: &str, extra: Value| {
            let props =
                json!({"vitrage_id": id, "vitrage_category": "RESOURCE", "vitrage_type": kind});
            crate::service::testing::vertex_with(props, extra)
        };
        view(
            vec![
                resource("h1", "nova.host", json!({"id": "host-1"})),
                resource(
                    "h2",
                    "nova.host",
                    json!({"id": "host-2", "vitrage_is_placeholder": true}),
                ),
                resource("i1", "nova.instance", json!({"id": "vm-1", "project_id": "p1"})),
                resource("i2", "nova.instance", json!({"id": "vm-2", "project_id": "p2"})),
                vertex(json!({"vitrage_id": "a1", "vitrage_category": "ALARM", "id": "z"})),
            ],
            vec![],
        )
    }

    #[test]
    fn lists_by_scope_type_and_query() {
        let view = cloud();
        let admin = Caller::admin("p1");
        assert_eq!(ids(&list(&view, &admin, &Params::default()).expect("list")), ["h1", "i1"]);
        let member = Caller::member("p1");
        assert_eq!(ids(&list(&view, &member, &Params::default()).expect("list")), ["i1"]);
        let all = Params::json(json!({"all_tenants": "true", "resource_type": "nova.instance"}));
        assert_eq!(ids(&list(&view, &admin, &all).expect("list")), ["i1", "i2"]);
        let q = Params::json(json!({"all_tenants": true, "query": "{\"==\": {\"id\": \"vm-2\"}}"}));
        assert_eq!(ids(&list(&view, &admin, &q).expect("list")), ["i2"]);
        let forbidden = list(&view, &member, &all).expect_err("member");
        assert_eq!(forbidden, ApiError::not_found("Failed to list resources."));
        let malformed = Params::json(json!({"query": "{oops"}));
        assert_eq!(
            list(&view, &admin, &malformed).expect_err("bad").status,
            axum::http::StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn shows_what_the_caller_may_see() {
        let view = cloud();
        assert_eq!(show(&view, &Caller::admin("p9"), "h1").expect("host")["id"], json!("host-1"));
        assert_eq!(show(&view, &Caller::member("p1"), "i1").expect("own")["id"], json!("vm-1"));
        for (caller, id) in [
            (Caller::member("p1"), "i2"),
            (Caller::member("p1"), "h1"),
            (Caller::admin("p"), "a1"),
            (Caller::admin("p"), "zz"),
        ] {
            assert_eq!(
                show(&view, &caller, id),
                Err(ApiError::not_found("Failed to show resource."))
            );
        }
    }

    #[test]
    fn counts_by_group() {
        let view = cloud();
        let all = Params::json(json!({"all_tenants": true}));
        assert_eq!(
            count(&view, &Caller::admin("p"), &all).expect("count"),
            json!({"nova.host": 1, "nova.instance": 2})
        );
        let by_project = Params::json(json!({"all_tenants": true, "group_by": "project_id"}));
        assert_eq!(
            count(&view, &Caller::admin("p"), &by_project).expect("count"),
            json!({"": 1, "p1": 1, "p2": 1})
        );
        assert_eq!(count(&view, &Caller::member("p"), &all), Err(ApiError::forbidden()));
    }
}

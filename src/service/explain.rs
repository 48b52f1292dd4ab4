//! `GET /v1/causeway/explain/{alarm_id}`: why an alarm exists, for the page's root-cause panel.
//!
//! A monitor's alarm exists because the monitor raised it. A deduced alarm exists because a
//! scenario's `raise_alarm` fired: this answer names the templates and scenarios whose
//! `raise_alarm` gives the alarm's name, with their condition, and the vertices the alarm is
//! bound to in the graph (the resource it is on, the alarms that cause it and their resources).
//! It is derived from the active template set and the published view, the two things a reader
//! has, not from the evaluation task's own record of each activation (which lives with the
//! runner); with two scenarios raising the same name both are listed.

use super::caller::Caller;
use super::error::ApiError;
use super::paging::alarm_in_project;
use super::params::Params;
use super::rca::CAUSES;
use super::view::View;
use super::{AppState, templates};
use crate::compile::ir::RuleSet;
use crate::store::StoredTemplate;
use crate::template::model::{ActionKind, Expr};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

/// The explanation route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/causeway/explain/{alarm_id}", get(explain_route))
}

async fn explain_route(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let Path(id) = path?;
    let view = state.current_view();
    if !view.is_ready() {
        return Err(ApiError::not_ready());
    }
    let mut set: Vec<StoredTemplate> = state.writer.templates.borrow().as_ref().clone();
    let answer = tokio::task::spawn_blocking(move || {
        let rules = templates::compile(&mut set);
        explain(&view, &rules, &set, &caller, &params, &id)
    });
    answer.await.map_err(|_| ApiError::internal("Internal error"))?.map(Json)
}

/// Why alarm `alarm_id` exists; 404 when it is not an alarm the caller may see.
pub fn explain(
    view: &View,
    rules: &RuleSet,
    set: &[StoredTemplate],
    caller: &Caller,
    params: &Params,
    alarm_id: &str,
) -> Result<Value, ApiError> {
    let all_tenants = caller.authorize(params.bool("all_tenants", false))?;
    let missing = || ApiError::not_found(format!("No alarm {alarm_id}"));
    let alarm = view.find(alarm_id).ok_or_else(missing)?;
    let props = view.props(alarm);
    if props.get("vitrage_category").and_then(Value::as_str) != Some("ALARM") {
        return Err(missing());
    }
    let project = caller.project_id.as_deref().filter(|p| !all_tenants && !p.is_empty());
    if project.is_some_and(|p| !alarm_in_project(props, p, caller.is_admin)) {
        return Err(missing());
    }
    let text = |k: &str| props.get(k).and_then(Value::as_str).unwrap_or_default();
    let deduced = text("vitrage_type") == "vitrage";
    let causes: Vec<Value> = view
        .in_edges(alarm)
        .iter()
        .map(|&e| &view.edges[e])
        .filter(|e| e.relationship_type == CAUSES && !is_deleted(&e.props))
        .map(|e| alarm_summary(view, e.source))
        .collect();
    let scenarios = if deduced { raising(rules, set, text("name")) } else { Vec::new() };
    let why = if deduced {
        "a template's raise_alarm deduced it".to_string()
    } else {
        format!("the {} monitor raised it", text("vitrage_type"))
    };
    Ok(json!({
        "alarm": alarm_summary(view, alarm),
        "deduced": deduced,
        "why": why,
        "caused_by": causes,
        "scenarios": scenarios,
    }))
}

/// The scenarios whose `raise_alarm` gives an alarm named `name` (or a name read with
/// `get_attr`, which may be it).
fn raising(rules: &RuleSet, set: &[StoredTemplate], name: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for scenario in &rules.scenarios {
        let Some(template) = rules.templates.get(scenario.template.0 as usize) else { continue };
        let stored = set.iter().find(|t| t.uuid == template.file);
        for action in &scenario.actions {
            let ActionKind::RaiseAlarm { alarm_name, severity, causing_alarm } = &action.kind
            else {
                continue;
            };
            if matches!(alarm_name, Expr::Literal(n) if n != name) {
                continue;
            }
            out.push(json!({
                "template": template.name,
                "template_uuid": template.file,
                "file_name": stored.map(|t| t.file_name.as_str()),
                "scenario": scenario.id,
                "condition": scenario.condition,
                "action": action.id,
                "target_entity": action.target,
                "causing_entity": causing_alarm,
                "severity": expr_text(severity),
            }));
        }
    }
    out
}

fn expr_text(e: &Expr) -> String {
    match e {
        Expr::Literal(s) => s.clone(),
        Expr::GetAttr { entity, attr } => format!("get_attr({entity}, {attr})"),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// An alarm with the resource it is on.
fn alarm_summary(view: &View, alarm: usize) -> Value {
    let props = view.props(alarm);
    let resource = props
        .get("vitrage_resource_id")
        .and_then(Value::as_str)
        .and_then(|id| view.find(id))
        .map(|r| resource_summary(view.props(r)));
    json!({
        "vitrage_id": props.get("vitrage_id"),
        "name": props.get("name"),
        "vitrage_type": props.get("vitrage_type"),
        "severity": props.get("vitrage_operational_severity").or(props.get("severity")),
        "resource": resource,
    })
}

fn resource_summary(props: &Map<String, Value>) -> Value {
    json!({
        "vitrage_id": props.get("vitrage_id"),
        "id": props.get("id"),
        "name": props.get("name"),
        "vitrage_type": props.get("vitrage_type"),
    })
}

fn is_deleted(props: &Map<String, Value>) -> bool {
    props.get("vitrage_is_deleted").and_then(Value::as_bool).unwrap_or(false)
}

//! `GET /v1/causeway/explain/{alarm_id}`: why an alarm exists, for the page's root-cause panel.
//!
//! A monitor's alarm exists because the monitor raised it. A deduced alarm exists because live
//! activations of scenarios raise it: the evaluation task answers which, from the runner's own
//! record (template, scenario, action, the vertices of the match, and which activation is in
//! effect when several overlap), the provenance `causeway run --explain` prints. The answer
//! adds each scenario's condition from the active template set, and the alarms that cause it
//! from the published view.

use super::caller::Caller;
use super::core::Command;
use super::error::ApiError;
use super::paging::alarm_in_project;
use super::params::Params;
use super::rca::CAUSES;
use super::view::View;
use super::{AppState, publish, templates};
use crate::compile::ir::RuleSet;
use crate::graph::{Label, VertexId, names};
use crate::runner::Runner;
use crate::store::StoredTemplate;
use crate::template::model::{ActionKind, Expr};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};
use tokio::sync::oneshot;

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
    let asked = view.find(&id).and_then(|a| Asked::of(&view, a));
    let live = match asked {
        Some(asked) => {
            let (reply, answer) = oneshot::channel();
            let sent = state.writer.commands.send(Command::Explain(asked, reply)).await;
            sent.map_err(|_| ApiError::not_ready())?;
            answer.await.map_err(|_| ApiError::not_ready())?
        }
        None => Vec::new(),
    };
    let mut set: Vec<StoredTemplate> = state.writer.templates.borrow().as_ref().clone();
    let answer = tokio::task::spawn_blocking(move || {
        let rules = templates::compile(&mut set);
        explain(&view, &rules, &set, &caller, &params, &id, live)
    });
    answer.await.map_err(|_| ApiError::internal("Internal error"))?.map(Json)
}

/// A deduced alarm as the evaluation task finds it: its `vitrage_id` among the alarms on the
/// resource of that type, id and `vitrage_id`, so that no graph-wide search is needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asked {
    alarm: String,
    resource_type: String,
    resource_id: String,
    resource: String,
}

impl Asked {
    /// The question for view vertex `alarm`; `None` unless it is a deduced alarm on a resource.
    fn of(view: &View, alarm: usize) -> Option<Asked> {
        let props = view.props(alarm);
        let text =
            |p: &Map<String, Value>, k: &str| p.get(k).and_then(Value::as_str).map(String::from);
        if text(props, "vitrage_type").as_deref() != Some("vitrage") {
            return None;
        }
        let resource = text(props, "vitrage_resource_id")?;
        let r = view.props(view.find(&resource)?);
        Some(Asked {
            alarm: text(props, "vitrage_id")?,
            resource_type: text(r, "vitrage_type")?,
            resource_id: text(r, "id")?,
            resource,
        })
    }
}

/// The live activations raising the alarm `asked` names, the one in effect first, each with
/// the vertices of its match (`vitrage_id`, type, id, name).
pub fn activations(runner: &Runner, asked: &Asked) -> Vec<Value> {
    let graph = runner.graph();
    let Some(resource) = graph.find_vertex(&asked.resource_type, &asked.resource_id) else {
        return Vec::new();
    };
    if publish::vitrage_id(graph, resource) != asked.resource {
        return Vec::new();
    }
    let alarm = graph
        .in_neighbours(resource, Label::ON)
        .find(|&a| publish::vitrage_id(graph, a) == asked.alarm);
    let Some(alarm) = alarm else { return Vec::new() };
    let vertex = |v: VertexId| {
        let Some(x) = graph.vertex(v) else { return Value::Null };
        let prop = |k| x.get_str(k).map(|s| graph.resolve(s).to_string());
        json!({
            "vitrage_id": publish::vitrage_id(graph, v),
            "vitrage_type": graph.resolve(x.vitrage_type()),
            "id": prop(names::ID).unwrap_or_else(|| graph.resolve(x.entity_id()).to_string()),
            "name": prop(names::NAME),
        })
    };
    runner
        .raised_by(alarm)
        .into_iter()
        .map(|p| {
            json!({
                "template": p.template,
                "scenario": p.scenario,
                "action": p.action,
                "in_effect": p.in_effect,
                "matched": p.matched.into_iter().map(vertex).collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// Why alarm `alarm_id` exists; 404 when it is not an alarm the caller may see.
pub fn explain(
    view: &View,
    rules: &RuleSet,
    set: &[StoredTemplate],
    caller: &Caller,
    params: &Params,
    alarm_id: &str,
    live: Vec<Value>,
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
    let scenarios = if live.is_empty() { scenarios } else { with_matches(scenarios, live) };
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
            if matches!(alarm_name, Expr::Literal(n) if **n != *name) {
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

/// The scenarios of the live activations, each with its match, in the evaluation task's order.
fn with_matches(scenarios: Vec<Value>, live: Vec<Value>) -> Vec<Value> {
    live.into_iter()
        .map(|mut activation| {
            let same = |s: &&Value| {
                s["scenario"] == activation["scenario"] && s["action"] == activation["action"]
            };
            if let (Some(s), Some(a)) = (scenarios.iter().find(same), activation.as_object_mut()) {
                for (k, v) in s.as_object().into_iter().flatten() {
                    a.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
            activation
        })
        .collect()
}

fn expr_text(e: &Expr) -> String {
    match e {
        Expr::Literal(s) => s.to_string(),
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

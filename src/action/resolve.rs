//! Binding an action spec to the vertices of an activation.

use crate::compile::ir::{ActionSpec, Rule};
use crate::graph::{Graph, Value, VertexId};
use crate::template::model::{ActionKind, Expr};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::sync::Arc;

/// An action bound to vertices, with its values resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resolved {
    /// `<scenario id>-action<j>`.
    pub id: super::ActionId,
    /// What to do.
    pub kind: ResolvedKind,
    /// The target vertex (none for execute_mistral).
    pub target: Option<VertexId>,
    /// The source vertex of add_causal_relationship.
    pub source: Option<VertexId>,
}

/// The resolved action types.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ResolvedKind {
    /// A deduced alarm.
    RaiseAlarm {
        /// Alarm name.
        name: Arc<str>,
        /// Severity as written.
        severity: Arc<str>,
        /// The alarm vertex bound to `causing_alarm`, if any.
        causing: Option<VertexId>,
    },
    /// A deduced state.
    SetState {
        /// The state as written.
        state: Arc<str>,
    },
    /// `is_marked_down`.
    MarkDown,
    /// A `causes` edge.
    AddCausalRelationship,
    /// A workflow run: boxed, as every action instance the tracker keeps is a [`Resolved`]
    /// and none of them is a workflow run (inline, its name and input took 48 of each one's
    /// 120 bytes). Saved as the struct variant it was before.
    ExecuteMistral(Box<WorkflowRun>),
}

/// The workflow and input of an `execute_mistral`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowRun {
    /// Workflow name.
    pub workflow: String,
    /// Input with functions evaluated (null where they fail).
    #[serde(with = "crate::persist::json_text")]
    pub input: serde_json::Map<String, Json>,
}

/// Binds `spec` to the activation of `rule` with `binding`, whose vertices at the spec's
/// target and source entities are `(target, source)` (the runner finds their variables once
/// for the rules); warnings for `get_attr` that give null are pushed to `warnings`.
pub fn resolve(
    id: super::ActionId,
    spec: &ActionSpec,
    rule: &Rule,
    binding: &[VertexId],
    (target, source): (Option<VertexId>, Option<VertexId>),
    graph: &Graph,
    warnings: &mut Vec<String>,
) -> Option<Resolved> {
    let vertex_of = |entity: &str| rule.var_of(entity).and_then(|i| binding.get(i).copied());
    if spec.target.is_some() && target.is_none() || spec.source.is_some() && source.is_none() {
        // The clause does not bind the target: this clause does not fire the action.
        return None;
    }
    let mut text = |e: &Expr| match eval(e, &vertex_of, graph, &spec.id, warnings) {
        Json::String(s) => s,
        Json::Null => String::new(),
        other => other.to_string(),
    };
    // A literal is shared with the template rather than copied into every activation.
    let mut shared = |e: &Expr| match e {
        Expr::Literal(s) => s.clone(),
        other => Arc::from(text(other)),
    };
    let kind = match &spec.kind {
        ActionKind::RaiseAlarm { alarm_name, severity, causing_alarm } => {
            ResolvedKind::RaiseAlarm {
                name: shared(alarm_name),
                severity: shared(severity),
                causing: causing_alarm.as_deref().and_then(vertex_of),
            }
        }
        ActionKind::SetState { state } => ResolvedKind::SetState { state: shared(state) },
        ActionKind::MarkDown => ResolvedKind::MarkDown,
        ActionKind::AddCausalRelationship => ResolvedKind::AddCausalRelationship,
        ActionKind::ExecuteMistral { workflow, input } => {
            let workflow = text(workflow);
            let mut map = serde_json::Map::with_capacity(input.len());
            for (k, v) in input {
                map.insert(k.clone(), eval(v, &vertex_of, graph, &spec.id, warnings));
            }
            ResolvedKind::ExecuteMistral(Box::new(WorkflowRun { workflow, input: map }))
        }
    };
    Some(Resolved { id, kind, target, source })
}

fn eval(
    e: &Expr,
    vertex_of: &dyn Fn(&str) -> Option<VertexId>,
    graph: &Graph,
    action: &str,
    warnings: &mut Vec<String>,
) -> Json {
    match e {
        // Not `to_string`: on an `Arc<str>` that goes through `Display`, padding and all.
        Expr::Literal(s) => Json::String(String::from(&**s)),
        Expr::Null { text } => {
            warnings
                .push(format!("{action}: `{text}` is not a valid get_attr call; it gives null"));
            Json::Null
        }
        Expr::GetAttr { entity, attr } => {
            let value = vertex_of(entity).and_then(|v| {
                let vertex = graph.vertex(v)?;
                let key = graph.interner().get(attr)?;
                match vertex.get(key)? {
                    Value::Str(s) | Value::Num(s) => {
                        Some(Json::String(graph.resolve(s).to_string()))
                    }
                    Value::Bool(b) => Some(Json::Bool(b)),
                    Value::Null => None,
                }
            });
            value.unwrap_or_else(|| {
                warnings.push(format!(
                    "{action}: get_attr({entity}, {attr}) has no value; it gives null"
                ));
                Json::Null
            })
        }
        Expr::Map(m) => Json::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), eval(v, vertex_of, graph, action, warnings)))
                .collect(),
        ),
        Expr::List(l) => {
            Json::Array(l.iter().map(|v| eval(v, vertex_of, graph, action, warnings)).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run() -> Resolved {
        let mut input = serde_json::Map::new();
        input.insert("instance_id".into(), Json::String("vm-1".into()));
        let run = WorkflowRun { workflow: "migrate_instance".into(), input };
        Resolved {
            id: crate::action::ActionId::new("t-scenario0-action1"),
            kind: ResolvedKind::ExecuteMistral(Box::new(run)),
            target: None,
            source: None,
        }
    }

    #[test]
    fn a_workflow_run_is_saved_as_the_struct_variant_it_was() {
        let text = serde_json::to_string(&run()).expect("saves");
        let saved = r#"{"id":"t-scenario0-action1","kind":{"ExecuteMistral":{"workflow":"migrate_instance","input":"{\"instance_id\":\"vm-1\"}"}},"target":null,"source":null}"#;
        assert_eq!(text, saved);
        assert_eq!(serde_json::from_str::<Resolved>(saved).expect("reads"), run());
    }

    #[test]
    fn a_resolved_action_stays_small() {
        // The tracker keeps one per action instance: 120 bytes with the workflow inline.
        assert!(std::mem::size_of::<Resolved>() <= 72, "{}", std::mem::size_of::<Resolved>());
    }
}

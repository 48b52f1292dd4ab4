//! A validated standard template in one shape for every version: entities with their match
//! properties, scenarios with their DNF, and actions with typed targets.
//!
//! Built only from templates that passed validation, so missing pieces are reported as
//! shape errors instead of being assumed.

use super::codes;
use super::content::Index;
use super::params::is_function;
use super::yaml::{Node, Pos, Value};
use crate::condition::{Dnf, Term};
use crate::diagnostic::{Diagnostic, Stage};
use serde::Serialize;

/// A standard template, ready to compile.
#[derive(Debug, Clone, Serialize)]
pub struct Template {
    /// The file it came from.
    pub file: String,
    /// `metadata.name` (after parameters are resolved).
    pub name: String,
    /// 1, 2 or 3.
    pub version: u8,
    /// Entities by template id, in definition order.
    pub entities: Vec<Entity>,
    /// v1/v2 relationships by template id (v3 relationships live in the conditions).
    pub relationships: Vec<Relationship>,
    /// Scenarios in order.
    pub scenarios: Vec<Scenario>,
}

/// A template entity: what a graph vertex must look like to match it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Entity {
    /// Template id.
    pub id: String,
    /// Match properties, graph names (`category` is `vitrage_category`, ...).
    pub props: Vec<Prop>,
    /// Where it is defined.
    pub pos: Pos,
}

/// One match property.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Prop {
    /// Graph property name (for a regex, without `.regex`).
    pub key: String,
    /// Expected value, or the pattern.
    pub value: String,
    /// Whether `value` is a start-anchored regex.
    pub regex: bool,
}

/// A v1/v2 relationship definition.
#[derive(Debug, Clone, Serialize)]
pub struct Relationship {
    /// Template id.
    pub id: String,
    /// Source entity id.
    pub source: String,
    /// Edge label.
    pub label: String,
    /// Target entity id.
    pub target: String,
}

/// A scenario: a condition in DNF and the actions it fires.
#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    /// `<template name>-scenario<i>`.
    pub id: String,
    /// The condition text as written.
    pub condition: String,
    /// Where the condition is.
    pub pos: Pos,
    /// The clauses, over entities and edges.
    pub clauses: Vec<Vec<Literal>>,
    /// Actions in order.
    pub actions: Vec<Action>,
}

/// A term of a clause.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub enum Literal {
    /// An entity must be bound (entities are never negated).
    Entity(String),
    /// An edge `source -label-> target` must (or, negated, must not) exist.
    Edge {
        /// Source entity id.
        source: String,
        /// Edge label.
        label: String,
        /// Target entity id.
        target: String,
        /// False under `not`.
        positive: bool,
    },
}

/// An action of a scenario.
#[derive(Debug, Clone, Serialize)]
pub struct Action {
    /// `<scenario id>-action<j>`.
    pub id: String,
    /// What it does.
    pub kind: ActionKind,
    /// The target entity; `None` for execute_mistral without one.
    pub target: Option<String>,
    /// The source entity of add_causal_relationship.
    pub source: Option<String>,
    /// Where the action is.
    pub pos: Pos,
}

/// The action types and their properties.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// A deduced alarm on the target.
    RaiseAlarm {
        /// Alarm name.
        alarm_name: Expr,
        /// Severity as written.
        severity: Expr,
        /// The entity whose alarm causes this one.
        causing_alarm: Option<String>,
    },
    /// A deduced state of the target.
    SetState {
        /// The state as written.
        state: Expr,
    },
    /// `is_marked_down` on the target.
    MarkDown,
    /// A `causes` edge from source to target.
    AddCausalRelationship,
    /// A Mistral workflow run.
    ExecuteMistral {
        /// Workflow name.
        workflow: Expr,
        /// Workflow input, in order.
        input: Vec<(String, Expr)>,
    },
}

/// A property value: a literal or a `get_attr` resolved against the binding.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Expr {
    /// A string as written; shared, so every action resolved from it refers to one copy.
    Literal(std::sync::Arc<str>),
    /// `get_attr(entity, attribute)`.
    GetAttr {
        /// Template entity id.
        entity: String,
        /// Graph property name.
        attr: String,
    },
    /// A malformed function call: null at run time, as in Vitrage.
    Null {
        /// The text as written.
        text: String,
    },
    /// A nested mapping (Mistral inputs may be structured).
    Map(Vec<(String, Expr)>),
    /// A list.
    List(Vec<Expr>),
}

impl Expr {
    fn from_node(node: &Node) -> Expr {
        match &node.value {
            Value::Str(s) => Expr::from_str(s),
            Value::Seq(items) => Expr::List(items.iter().map(Expr::from_node).collect()),
            Value::Map(entries) => {
                Expr::Map(entries.iter().map(|(k, v)| (k.py_str(), Expr::from_node(v))).collect())
            }
        }
    }

    /// Vitrage's function detection and `re.split('[(),]', value)` argument parsing.
    fn from_str(s: &str) -> Expr {
        if !is_function(s) {
            return Expr::Literal(s.into());
        }
        let mut pieces = s.split(['(', ')', ',']);
        let name = pieces.next().unwrap_or("").trim();
        let args: Vec<&str> = pieces.map(str::trim).filter(|a| !a.is_empty()).collect();
        match (name, args.as_slice()) {
            ("get_attr", [entity, attr]) => {
                Expr::GetAttr { entity: entity.to_string(), attr: attr.to_string() }
            }
            ("get_attr", _) => Expr::Null { text: s.to_string() },
            _ => Expr::Literal(s.into()),
        }
    }
}

/// Vitrage's `PropsConverter`: template keys that name `vitrage_*` graph properties.
pub fn graph_key(key: &str) -> String {
    match key {
        "category"
        | "type"
        | "resource_id"
        | "sample_timestamp"
        | "is_deleted"
        | "is_placeholder"
        | "aggregated_state"
        | "operational_state"
        | "aggregated_severity"
        | "operational_severity" => format!("vitrage_{key}"),
        _ => key.to_string(),
    }
}

/// Match properties of an entity mapping, without `ignore`d keys.
pub fn props_of(entity: &Node, ignore: &[&str]) -> Vec<Prop> {
    let mut props = Vec::new();
    for (k, v) in entity.as_map().unwrap_or_default() {
        let key = k.py_str();
        if ignore.contains(&key.as_str()) {
            continue;
        }
        let (key, regex) = if key.to_lowercase().ends_with(".regex") {
            (key[..key.len() - ".regex".len()].to_string(), true)
        } else {
            (key, false)
        };
        props.push(Prop { key: graph_key(&key), value: v.py_str(), regex });
    }
    props
}

/// Builds the model of a validated v1/v2 template.
pub fn from_v2(
    file: &str,
    t: &Node,
    version: u8,
    index: &Index<'_>,
    dnfs: &[Dnf],
) -> Result<Template, Diagnostic> {
    let name = metadata_name(t)?;
    let entities = index
        .entities
        .iter()
        .map(|(id, e)| Entity {
            id: id.clone(),
            props: props_of(e, &["template_id", "source", "target"]),
            pos: e.pos,
        })
        .collect();
    let relationships: Vec<Relationship> = index
        .relationships
        .iter()
        .map(|(id, r)| Relationship {
            id: id.clone(),
            source: r.get("source").map(Node::py_str).unwrap_or_default(),
            label: r.get("relationship_type").map(Node::py_str).unwrap_or_default(),
            target: r.get("target").map(Node::py_str).unwrap_or_default(),
        })
        .collect();
    let mut scenarios = Vec::new();
    let items = t.get("scenarios").and_then(Node::as_seq).unwrap_or_default();
    for (i, (item, dnf)) in items.iter().zip(dnfs).enumerate() {
        let s = item.get("scenario").ok_or_else(|| shape(item))?;
        let condition = s.get("condition").ok_or_else(|| shape(s))?;
        let id = format!("{name}-scenario{i}");
        let clauses = lower_clauses(dnf, |lit| {
            let symbol = lit.term.symbol();
            match relationships.iter().find(|r| r.id == symbol) {
                Some(r) => Literal::Edge {
                    source: r.source.clone(),
                    label: r.label.clone(),
                    target: r.target.clone(),
                    positive: lit.positive,
                },
                None => Literal::Entity(symbol),
            }
        });
        let mut actions = Vec::new();
        for (j, a) in s.get("actions").and_then(Node::as_seq).unwrap_or_default().iter().enumerate()
        {
            let a = a.get("action").ok_or_else(|| shape(a))?;
            actions.push(action_v2(a, version, format!("{id}-action{j}"))?);
        }
        scenarios.push(Scenario {
            id,
            condition: condition.py_str(),
            pos: condition.pos,
            clauses,
            actions,
        });
    }
    Ok(Template { file: file.to_string(), name, version, entities, relationships, scenarios })
}

fn action_v2(a: &Node, version: u8, id: String) -> Result<Action, Diagnostic> {
    let ty = a.get_str("action_type").unwrap_or_default();
    let target = a.get("action_target").and_then(|t| t.get_str("target")).map(str::to_string);
    let source = a.get("action_target").and_then(|t| t.get_str("source")).map(str::to_string);
    let props = a.get("properties");
    let prop = |k: &str| props.and_then(|p| p.get(k)).map(Expr::from_node);
    let required = |k: &str| prop(k).ok_or_else(|| shape(a));
    let kind = match ty {
        "raise_alarm" => ActionKind::RaiseAlarm {
            alarm_name: required("alarm_name")?,
            severity: required("severity")?,
            causing_alarm: None,
        },
        "set_state" => ActionKind::SetState { state: required("state")? },
        "mark_down" => ActionKind::MarkDown,
        "add_causal_relationship" => ActionKind::AddCausalRelationship,
        "execute_mistral" => {
            let p = props.ok_or_else(|| shape(a))?;
            let entries = p.as_map().unwrap_or_default();
            let input = if version == 1 {
                // v1 moves every property but `workflow` under `input`.
                entries
                    .iter()
                    .filter(|(k, _)| k.as_str() != Some("workflow"))
                    .map(|(k, v)| (k.py_str(), Expr::from_node(v)))
                    .collect()
            } else {
                match p.get("input").map(Expr::from_node) {
                    Some(Expr::Map(m)) => m,
                    _ => Vec::new(),
                }
            };
            ActionKind::ExecuteMistral { workflow: required("workflow")?, input }
        }
        _ => return Err(Diagnostic::new(120, Stage::Content, a.pos)),
    };
    Ok(Action { id, kind, target, source, pos: a.pos })
}

/// Builds the model of a validated v3 template.
pub fn from_v3(file: &str, t: &Node, dnfs: &[Dnf]) -> Result<Template, Diagnostic> {
    let name = metadata_name(t)?;
    let entities = t
        .get("entities")
        .and_then(Node::as_map)
        .unwrap_or_default()
        .iter()
        .map(|(k, e)| Entity { id: k.py_str(), props: props_of(e, &[]), pos: k.pos })
        .collect();
    let mut scenarios = Vec::new();
    let items = t.get("scenarios").and_then(Node::as_seq).unwrap_or_default();
    for (i, (s, dnf)) in items.iter().zip(dnfs).enumerate() {
        let condition = s.get("condition").ok_or_else(|| shape(s))?;
        let id = format!("{name}-scenario{i}");
        let clauses = lower_clauses(dnf, |lit| match &lit.term {
            Term::Id(e) => Literal::Entity(e.clone()),
            Term::Relationship { source, label, target } => Literal::Edge {
                source: source.clone(),
                label: label.clone(),
                target: target.clone(),
                positive: lit.positive,
            },
        });
        let mut actions = Vec::new();
        for (j, item) in
            s.get("actions").and_then(Node::as_seq).unwrap_or_default().iter().enumerate()
        {
            let Some([(ty, body)]) = item.as_map() else {
                return Err(Diagnostic::new(codes::EMPTY_ACTION, Stage::Template, item.pos));
            };
            actions.push(action_v3(ty, body, format!("{id}-action{j}"))?);
        }
        scenarios.push(Scenario {
            id,
            condition: condition.py_str(),
            pos: condition.pos,
            clauses,
            actions,
        });
    }
    Ok(Template {
        file: file.to_string(),
        name,
        version: 3,
        entities,
        relationships: Vec::new(),
        scenarios,
    })
}

fn action_v3(ty: &Node, body: &Node, id: String) -> Result<Action, Diagnostic> {
    let get = |k: &str| body.get(k).map(Expr::from_node);
    let required = |k: &str| get(k).ok_or_else(|| shape(body));
    let kind = match ty.as_str().unwrap_or_default() {
        "raise_alarm" => ActionKind::RaiseAlarm {
            alarm_name: required("alarm_name")?,
            severity: required("severity")?,
            causing_alarm: body.get_str("causing_alarm").map(str::to_string),
        },
        "set_state" => ActionKind::SetState { state: required("state")? },
        "mark_down" => ActionKind::MarkDown,
        "add_causal_relationship" => ActionKind::AddCausalRelationship,
        "execute_mistral" => ActionKind::ExecuteMistral {
            workflow: required("workflow")?,
            input: match get("input") {
                Some(Expr::Map(m)) => m,
                _ => Vec::new(),
            },
        },
        _ => return Err(Diagnostic::new(codes::EMPTY_ACTION, Stage::Template, ty.pos)),
    };
    Ok(Action {
        id,
        kind,
        target: body.get_str("target").map(str::to_string),
        source: body.get_str("source").map(str::to_string),
        pos: ty.pos,
    })
}

/// The model's clauses: each DNF literal mapped to an entity or an edge.
fn lower_clauses(
    dnf: &Dnf,
    literal: impl Fn(&crate::condition::Literal) -> Literal,
) -> Vec<Vec<Literal>> {
    dnf.iter().map(|clause| clause.iter().map(&literal).collect()).collect()
}

fn metadata_name(t: &Node) -> Result<String, Diagnostic> {
    t.get("metadata").and_then(|m| m.get("name")).map(Node::py_str).ok_or_else(|| shape(t))
}

fn shape(node: &Node) -> Diagnostic {
    Diagnostic::new(codes::BAD_SHAPE, Stage::Template, node.pos)
}

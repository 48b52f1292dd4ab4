//! v3 validation (Vitrage's `template_syntax_validator_v3.py`, `template_content_validator_v3.py`
//! and the trial load that finds code 135).

use super::codes;
use super::conditions;
use super::params::{self, ParamSupport, Params, is_function};
use super::pyregex;
use super::schema::{self, MapSchema, Schema};
use super::yaml::Node;
use crate::condition::Dnf;
use crate::diagnostic::{Diagnostic, ECHO_LIMIT, Stage, clip};

/// Checks a v3 template; the DNF of each scenario's condition when it is valid.
pub fn validate(t: &Node, actual: Option<&Params>) -> Result<Vec<Dnf>, Diagnostic> {
    let entity_ids = entity_ids(t)?;
    syntax(t, &entity_ids)?;
    let entities = t.get("entities").and_then(Node::as_map).unwrap_or_default();
    for (_, entity) in entities {
        for (key, value) in entity.as_map().unwrap_or_default() {
            if key.py_str().to_lowercase().ends_with(".regex")
                && !value.as_str().is_some_and(pyregex::compiles)
            {
                let m = codes::message(47).unwrap_or("");
                let (k, v) = (key.py_str(), value.py_str());
                let message = format!("{m} - {},{}", clip(&k, ECHO_LIMIT), clip(&v, ECHO_LIMIT));
                return Err(Diagnostic::with_message(47, Stage::Template, value.pos, message));
            }
        }
    }
    let scenarios = t.get("scenarios").and_then(Node::as_seq).unwrap_or_default();
    for scenario in scenarios {
        let condition = scenario.get("condition").ok_or_else(|| shape(scenario))?;
        conditions::check_v3_text(condition, &entity_ids)?;
    }
    params::validate(t, ParamSupport::Supported, actual)?;
    let mut dnfs = Vec::with_capacity(scenarios.len());
    for (i, scenario) in scenarios.iter().enumerate() {
        let condition = scenario.get("condition").ok_or_else(|| shape(scenario))?;
        dnfs.push(conditions::load_v3(condition, i, &entity_ids)?);
        let actions = scenario.get("actions");
        if actions.is_some_and(|a| a.alias) {
            // The loader empties each action while reading it; an aliased list is read twice.
            return Err(Diagnostic::new(codes::BAD_SHAPE, Stage::Template, scenario.pos));
        }
        for action in actions.and_then(Node::as_seq).unwrap_or_default() {
            if action.alias {
                return Err(Diagnostic::new(codes::BAD_SHAPE, Stage::Template, action.pos));
            }
            if action.as_map().is_none_or(<[_]>::is_empty) {
                return Err(Diagnostic::new(codes::EMPTY_ACTION, Stage::Template, action.pos));
            }
        }
    }
    Ok(dnfs)
}

/// The keys of `entities`; Vitrage builds its target checks from them before validating.
fn entity_ids(t: &Node) -> Result<Vec<String>, Diagnostic> {
    match t.get("entities") {
        None => Ok(Vec::new()),
        Some(e) => match e.as_map() {
            Some(entries) => Ok(entries.iter().map(|(k, _)| k.py_str()).collect()),
            None => Err(shape(e)),
        },
    }
}

fn syntax(t: &Node, entity_ids: &[String]) -> Result<(), Diagnostic> {
    let ids = || Vec::from(entity_ids);
    let target = |s: MapSchema| s.required("target", 10100, Schema::In(ids(), "10101".into()));
    let action = |name: &'static str, body: MapSchema| {
        Schema::Map(MapSchema::new().optional(name, Schema::Map(body)))
    };
    let actions = Schema::Seq(vec![Schema::AnyOf(vec![
        action(
            "raise_alarm",
            target(MapSchema::new().required("severity", 126, Schema::Str))
                .required("alarm_name", 10104, Schema::Str)
                .optional("causing_alarm", Schema::In(ids(), "10107".into())),
        ),
        action("set_state", target(MapSchema::new().required("state", 128, Schema::Str))),
        action(
            "add_causal_relationship",
            target(MapSchema::new().required("source", 10102, Schema::In(ids(), "10103".into()))),
        ),
        action("mark_down", target(MapSchema::new())),
        action(
            "execute_mistral",
            MapSchema::new().required("workflow", 10105, Schema::Str).optional(
                "input",
                Schema::Map(MapSchema::new().any_key(Schema::Check(Box::new(proper_function)))),
            ),
        ),
    ])]);
    let scenario =
        MapSchema::new().required("actions", 84, actions).required("condition", 83, Schema::Str);
    let params = Schema::Map(MapSchema::new().any_key(Schema::AnyOf(vec![
        Schema::Str,
        Schema::Map(
            MapSchema::new().optional("description", Schema::Str).optional("default", Schema::Str),
        ),
    ])));
    let types = vec!["standard".into(), "definition".into(), "equivalence".into()];
    let metadata = MapSchema::new()
        .required(
            "version",
            63,
            Schema::In(
                vec!["1".into(), "2".into(), "3".into()],
                "value must be one of ['1', '2', '3']".into(),
            ),
        )
        .required("name", 60, Schema::Str)
        .optional("description", Schema::Str)
        .required("type", 64, Schema::In(types, "64".into()));
    let entity = Schema::Map(MapSchema::new().any_key(Schema::Str));
    let top = MapSchema::new()
        .required("entities", 10000, Schema::Map(MapSchema::new().any_key(entity)))
        .required("metadata", 62, Schema::Map(metadata))
        .required("scenarios", 80, Schema::Seq(vec![Schema::Map(scenario)]))
        .optional("parameters", params);
    let errors = schema::validate(&Schema::Map(top), t);
    if let Some(crash) = errors.iter().find(|e| e.msg == schema::CRASH) {
        return Err(Diagnostic::new(codes::BAD_SHAPE, Stage::Template, crash.pos));
    }
    let Some(e) = errors.into_iter().next() else {
        return Ok(());
    };
    let code = e.status_code();
    if code == 10000 {
        return Err(Diagnostic::new(codes::NO_ENTITIES, Stage::Template, e.pos));
    }
    match codes::message(code) {
        Some(m) => {
            Err(Diagnostic::with_message(code, Stage::Template, e.pos, format!("{m} - {e}")))
        }
        None => Err(Diagnostic::new(codes::BAD_SHAPE, Stage::Template, e.pos)),
    }
}

/// Vitrage's `IsProperFunction`: a value with `(`, `)` or `,` must be a function call.
fn proper_function(v: &Node) -> Option<String> {
    match v.as_str() {
        Some(s) if s.contains(['(', ')', ',']) && !is_function(s) => Some("138".into()),
        Some(_) => None,
        None => Some(schema::CRASH.into()),
    }
}

fn shape(node: &Node) -> Diagnostic {
    Diagnostic::new(codes::BAD_SHAPE, Stage::Template, node.pos)
}

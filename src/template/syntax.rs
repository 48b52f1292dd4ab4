//! v1/v2 syntax validation (Vitrage's `template_syntax_validator.py`), in Vitrage's order.
//!
//! The quirks are Vitrage's and kept on purpose: an error in a `scenario:` or `relationship:`
//! wrapper of one item is forgotten when a later item is fine (Vitrage overwrites its result
//! in the loop), relationships are only checked when `entities` is present, and the
//! definitions schema is skipped when relationships come with includes.

use super::codes;
use super::schema::{self, Invalid, MapSchema, Schema};
use super::yaml::Node;
use crate::diagnostic::{Diagnostic, Stage};

type Outcome = Result<(), Diagnostic>;

/// Checks a v1/v2 standard template's structure.
pub fn standard(t: &Node) -> Outcome {
    sections(t)?;
    let metadata = t.get("metadata").ok_or_else(|| shape(t))?;
    metadata_section(metadata)?;
    if let Some(includes) = t.get("includes") {
        includes_section(includes)?;
    }
    if let Some(definitions) = t.get("definitions") {
        definitions_section(definitions, t.has("includes"))?;
    }
    scenarios_section(t.get("scenarios").ok_or_else(|| shape(t))?)
}

/// Checks a definition template's structure.
pub fn definition(t: &Node) -> Outcome {
    let result = apply(
        &Schema::Map(MapSchema::new().required("definitions", 21, Schema::Dict).required(
            "metadata",
            62,
            Schema::Dict,
        )),
        t,
    );
    if let Some((key, _)) = t.entry("includes").or_else(|| t.entry("scenarios")) {
        return Err(Diagnostic::new(143, Stage::Syntax, key.pos));
    }
    result?;
    metadata_section(t.get("metadata").ok_or_else(|| shape(t))?)?;
    definitions_section(t.get("definitions").ok_or_else(|| shape(t))?, false)
}

fn sections(t: &Node) -> Outcome {
    let params = Schema::Map(MapSchema::new().any_key(Schema::AnyOf(vec![
        Schema::Str,
        Schema::Map(
            MapSchema::new().optional("description", Schema::Str).optional("default", Schema::Str),
        ),
    ])));
    let definitions = if t.has("includes") {
        MapSchema::new().optional("definitions", Schema::Dict)
    } else {
        MapSchema::new().required("definitions", 21, Schema::Dict)
    };
    let schema = definitions
        .required("metadata", 62, Schema::Dict)
        .required("scenarios", 80, Schema::List)
        .optional("includes", Schema::List)
        .optional("parameters", params);
    apply(&Schema::Map(schema), t)
}

fn metadata_section(metadata: &Node) -> Outcome {
    let schema = MapSchema::new()
        .optional("version", Schema::Str)
        .required("name", 60, Schema::Str)
        .optional("description", Schema::Str)
        .optional("type", Schema::Str);
    apply(&Schema::Map(schema), metadata)
}

fn includes_section(includes: &Node) -> Outcome {
    if !includes.truthy() {
        return Err(Diagnostic::new(140, Stage::Syntax, includes.pos));
    }
    for include in includes.py_iter() {
        let schema = MapSchema::new().required("name", 141, Schema::Str);
        if let Some(e) = schema::validate(&Schema::Map(schema), &include).into_iter().next() {
            // Vitrage's `_validate_name_schema` reports the bare message of the code.
            let code = e.status_code();
            return Err(Diagnostic::new(code, Stage::Syntax, e.pos));
        }
    }
    Ok(())
}

fn definitions_section(definitions: &Node, has_includes: bool) -> Outcome {
    let relationships = definitions.get("relationships");
    let needs_schema = match relationships {
        None => true,
        Some(r) => r.truthy() && !has_includes,
    };
    if needs_schema {
        let schema = MapSchema::new()
            .required("entities", 20, Schema::List)
            .optional("relationships", Schema::List);
        apply(&Schema::Map(schema), definitions)?;
    }
    let Some(entities) = definitions.get("entities") else {
        return Ok(());
    };
    entities_list(entities, has_includes)?;
    match relationships {
        Some(r) if r.truthy() => relationships_list(r),
        _ => Ok(()),
    }
}

fn entities_list(entities: &Node, has_includes: bool) -> Outcome {
    if !entities.truthy() && !has_includes {
        return Err(Diagnostic::new(43, Stage::Syntax, entities.pos));
    }
    let items = entities.py_iter();
    if items.is_empty() {
        // Vitrage returns a result its loop never assigned (UnboundLocalError).
        return Err(shape(entities));
    }
    for item in items {
        apply(&Schema::Map(MapSchema::new().required("entity", 46, Schema::Dict)), &item)?;
        let entity = item.get("entity").ok_or_else(|| shape(&item))?;
        let schema = MapSchema::new()
            .required("category", 42, Schema::Check(Box::new(category)))
            .optional("type", Schema::Str)
            .required("template_id", 41, Schema::Check(Box::new(template_id)))
            .allow_extra();
        apply(&Schema::Map(schema), entity)?;
    }
    Ok(())
}

fn relationships_list(relationships: &Node) -> Outcome {
    let mut last: Outcome = Ok(());
    for item in relationships.py_iter() {
        last = apply(
            &Schema::Map(MapSchema::new().required("relationship", 101, Schema::Dict)),
            &item,
        );
        if last.is_ok() {
            let relationship = item.get("relationship").ok_or_else(|| shape(&item))?;
            let schema = MapSchema::new()
                .required("source", 102, Schema::Str)
                .required("target", 103, Schema::Str)
                .required("relationship_type", 100, Schema::Str)
                .required("template_id", 104, Schema::Check(Box::new(template_id)));
            apply(&Schema::Map(schema), relationship)?;
        }
    }
    last
}

fn scenarios_section(scenarios: &Node) -> Outcome {
    if !scenarios.truthy() {
        return Err(Diagnostic::new(81, Stage::Syntax, scenarios.pos));
    }
    let mut last: Outcome = Ok(());
    for item in scenarios.py_iter() {
        last = apply(&Schema::Map(MapSchema::new().required("scenario", 82, Schema::Dict)), &item);
        if last.is_ok() {
            let scenario = item.get("scenario").ok_or_else(|| shape(&item))?;
            let schema = MapSchema::new().required("condition", 83, Schema::Str).required(
                "actions",
                84,
                Schema::List,
            );
            apply(&Schema::Map(schema), scenario)?;
            actions_list(scenario.get("actions").ok_or_else(|| shape(scenario))?)?;
        }
    }
    last
}

fn actions_list(actions: &Node) -> Outcome {
    if !actions.truthy() {
        return Err(Diagnostic::new(121, Stage::Syntax, actions.pos));
    }
    for item in actions.py_iter() {
        apply(&Schema::Map(MapSchema::new().required("action", 122, Schema::Dict)), &item)?;
        let action = item.get("action").ok_or_else(|| shape(&item))?;
        let schema = MapSchema::new()
            .required("action_type", 123, Schema::Check(Box::new(action_type)))
            .optional("properties", Schema::Dict)
            .optional("action_target", Schema::Dict);
        apply(&Schema::Map(schema), action)?;
    }
    Ok(())
}

/// Python's `str(v)` of a value, as Vitrage's custom validators see it.
fn py_str(v: &Node) -> String {
    v.py_str()
}

fn template_id(v: &Node) -> Option<String> {
    let s = py_str(v);
    let rest = s.trim_start_matches('_');
    let ok = rest.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    if ok { None } else { Some("1".into()) }
}

fn category(v: &Node) -> Option<String> {
    let s = py_str(v);
    if s == "RESOURCE" || s == "ALARM" { None } else { Some("45".into()) }
}

fn action_type(v: &Node) -> Option<String> {
    let s = py_str(v);
    let known =
        ["set_state", "raise_alarm", "add_causal_relationship", "mark_down", "execute_mistral"];
    if known.contains(&s.as_str()) { None } else { Some("120".into()) }
}

/// Runs a schema and turns its first error into Vitrage's syntax result.
fn apply(schema: &Schema, node: &Node) -> Outcome {
    match schema::validate(schema, node).into_iter().next() {
        None => Ok(()),
        Some(e) => Err(syntax_error(&e)),
    }
}

/// `status_msgs[code] + str(error)`; Vitrage has no message for 100 and crashes there.
pub fn syntax_error(e: &Invalid) -> Diagnostic {
    let code = e.status_code();
    if code == 100 {
        return Diagnostic::new(codes::NO_RELATIONSHIP_TYPE, Stage::Syntax, e.pos);
    }
    match codes::message(code) {
        Some(m) => Diagnostic::with_message(code, Stage::Syntax, e.pos, format!("{m}{e}")),
        None => Diagnostic::new(codes::BAD_SHAPE, Stage::Syntax, e.pos),
    }
}

fn shape(node: &Node) -> Diagnostic {
    Diagnostic::new(codes::BAD_SHAPE, Stage::Syntax, node.pos)
}

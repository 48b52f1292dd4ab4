//! v1/v2 content validation (Vitrage's `template_content_validator.py` and `content/v1/*`),
//! and the content check of definition templates.

use super::codes;
use super::params::{self, ParamSupport, Params, is_function};
use super::pyregex;
use super::yaml::{Node, Value};
use super::{DefTemplate, conditions};
use crate::condition::Dnf;
use crate::diagnostic::{Diagnostic, ECHO_LIMIT, Stage, clip};

type Outcome = Result<(), Diagnostic>;

/// Entity and relationship dicts by template id, as Vitrage's `definitions_index`.
#[derive(Default)]
pub struct Index<'a> {
    /// Entities (template id → entity dict), template first, then includes.
    pub entities: Vec<(String, &'a Node)>,
    /// Relationships (template id → relationship dict).
    pub relationships: Vec<(String, &'a Node)>,
}

impl<'a> Index<'a> {
    /// The entity or relationship dict with this id.
    pub fn get(&self, id: &str) -> Option<&'a Node> {
        self.entities
            .iter()
            .chain(self.relationships.iter())
            .find(|(k, _)| k == id)
            .map(|(_, v)| *v)
    }

    fn has_entity(&self, id: &str) -> bool {
        self.entities.iter().any(|(k, _)| k == id)
    }

    fn has_relationship(&self, id: &str) -> bool {
        self.relationships.iter().any(|(k, _)| k == id)
    }
}

/// Checks a v1/v2 standard template after its syntax passed.
pub fn standard<'a>(
    t: &'a Node,
    version: &str,
    defs: &'a [DefTemplate],
    actual: Option<&Params>,
) -> Result<(Index<'a>, Vec<Dnf>), Diagnostic> {
    let metadata = t.get("metadata").ok_or_else(|| shape(t))?;
    metadata_check(metadata, version)?;
    let support = if version == "1" { ParamSupport::Unsupported } else { ParamSupport::Supported };
    params::validate(t, support, actual)?;
    let mut index = Index::default();
    let definitions = t.get("definitions");
    if let Some(entities) = definitions.and_then(|d| d.get("entities")) {
        entities_check(entities, &mut index)?;
    }
    let includes = t.get("includes").map(Node::py_iter).unwrap_or_default();
    for include in &includes {
        let def = find_include(include, defs)?;
        let entities =
            def.get("definitions").and_then(|d| d.get("entities")).ok_or_else(|| shape(include))?;
        include_entities_check(entities, &mut index)?;
    }
    if let Some(relationships) = definitions.and_then(|d| d.get("relationships")) {
        relationships_check(relationships, &mut index)?;
    }
    for include in &includes {
        let def = find_include(include, defs)?;
        let relationships =
            def.get("definitions").and_then(|d| d.get("relationships")).ok_or_else(|| {
                Diagnostic::new(codes::INCLUDE_WITHOUT_RELATIONSHIPS, Stage::Content, include.pos)
            })?;
        include_relationships_check(relationships, &mut index)?;
    }
    let scenarios = t.get("scenarios").ok_or_else(|| shape(t))?;
    let mut dnfs = Vec::new();
    for item in items(scenarios)? {
        let scenario = item.get("scenario").ok_or_else(|| shape(item))?;
        let condition = scenario.get("condition").ok_or_else(|| shape(scenario))?;
        dnfs.push(conditions::check_v2(condition, &index)?);
        for action in items(scenario.get("actions").ok_or_else(|| shape(scenario))?)? {
            let action = action.get("action").ok_or_else(|| shape(action))?;
            action_check(action, version, &index)?;
        }
    }
    Ok((index, dnfs))
}

/// Checks a definition template's entities and relationships after its syntax passed.
pub fn definition(t: &Node) -> Outcome {
    let definitions = t.get("definitions").ok_or_else(|| shape(t))?;
    let mut index = Index::default();
    let entities = definitions.get("entities").ok_or_else(|| shape(definitions))?;
    entities_check(entities, &mut index)?;
    if let Some(relationships) = definitions.get("relationships") {
        relationships_check(relationships, &mut index)?;
    }
    Ok(())
}

fn metadata_check(metadata: &Node, version: &str) -> Outcome {
    if !metadata.truthy() {
        return Err(Diagnostic::new(62, Stage::Content, metadata.pos));
    }
    if version == "1" {
        return Ok(());
    }
    match metadata.get("type") {
        Some(ty) if ty.truthy() => match ty.as_str() {
            Some("standard" | "definition" | "equivalence") => Ok(()),
            _ => Err(Diagnostic::new(65, Stage::Content, ty.pos)),
        },
        _ => Err(Diagnostic::new(64, Stage::Content, metadata.pos)),
    }
}

fn find_include<'a>(include: &Node, defs: &'a [DefTemplate]) -> Result<&'a Node, Diagnostic> {
    let name = include.get_str("name").unwrap_or_default();
    defs.iter()
        .find(|d| d.name == name)
        .map(|d| &d.doc)
        .ok_or_else(|| Diagnostic::new(142, Stage::Content, include.pos))
}

fn entities_check<'a>(entities: &'a Node, index: &mut Index<'a>) -> Outcome {
    for item in items(entities)? {
        let entity = item.get("entity").ok_or_else(|| shape(item))?;
        let id = entity_check(entity, index)?;
        index.entities.push((id, entity));
    }
    Ok(())
}

fn include_entities_check<'a>(entities: &'a Node, index: &mut Index<'a>) -> Outcome {
    for item in items(entities)? {
        let entity = item.get("entity").ok_or_else(|| shape(item))?;
        let id = entity_check(entity, index)?;
        if !index.has_entity(&id) {
            index.entities.push((id, entity));
        }
    }
    Ok(())
}

/// Duplicate id (2), then regexes (47); the entity's template id.
fn entity_check(entity: &Node, index: &Index<'_>) -> Result<String, Diagnostic> {
    let id_node = entity.get("template_id").ok_or_else(|| shape(entity))?;
    let id = id_node.py_str();
    if index.has_entity(&id) {
        return Err(Diagnostic::new(2, Stage::Content, id_node.pos));
    }
    for (key, value) in entity.as_map().unwrap_or_default() {
        if key.py_str().to_lowercase().ends_with(".regex") {
            let ok = value.as_str().is_some_and(pyregex::compiles);
            if !ok {
                return Err(Diagnostic::new(47, Stage::Content, value.pos));
            }
        }
    }
    Ok(id)
}

fn relationships_check<'a>(relationships: &'a Node, index: &mut Index<'a>) -> Outcome {
    for item in items(relationships)? {
        let rel = item.get("relationship").ok_or_else(|| shape(item))?;
        let id_node = rel.get("template_id").ok_or_else(|| shape(rel))?;
        let id = id_node.py_str();
        if index.has_relationship(&id) || index.has_entity(&id) {
            return Err(Diagnostic::new(2, Stage::Content, id_node.pos));
        }
        endpoints_check(rel, index)?;
        index.relationships.push((id, rel));
    }
    Ok(())
}

fn include_relationships_check<'a>(relationships: &'a Node, index: &mut Index<'a>) -> Outcome {
    for item in items(relationships)? {
        let rel = item.get("relationship").ok_or_else(|| shape(item))?;
        let id = rel.get("template_id").ok_or_else(|| shape(rel))?.py_str();
        if !index.has_relationship(&id) {
            endpoints_check(rel, index)?;
            index.relationships.push((id, rel));
        }
    }
    Ok(())
}

fn endpoints_check(rel: &Node, index: &Index<'_>) -> Outcome {
    for end in ["target", "source"] {
        let node = rel.get(end).ok_or_else(|| shape(rel))?;
        if !index.has_entity(&node.py_str()) {
            return Err(unknown_id(&node.py_str(), node));
        }
    }
    Ok(())
}

/// Code 3 with Vitrage's ` template id: X` suffix.
pub fn unknown_id(id: &str, at: &Node) -> Diagnostic {
    let message =
        format!("{} template id: {}", codes::message(3).unwrap_or(""), clip(id, ECHO_LIMIT));
    Diagnostic::with_message(3, Stage::Content, at.pos, message).focused(id)
}

fn action_check(action: &Node, version: &str, index: &Index<'_>) -> Outcome {
    let ty = action.get_str("action_type").unwrap_or_default();
    let fail = |code: u32, at: &Node| Err(Diagnostic::new(code, Stage::Content, at.pos));
    let needs_target = ty != "execute_mistral";
    let target_block = action.get("action_target");
    if needs_target && target_block.is_none() {
        return fail(124, action);
    }
    let props = || {
        action
            .get("properties")
            .ok_or_else(|| Diagnostic::new(codes::NO_PROPERTIES, Stage::Content, action.pos))
    };
    let target_check = |missing: u32| -> Outcome {
        let block = target_block.ok_or_else(|| shape(action))?;
        match block.get("target") {
            None => fail(missing, block),
            Some(t) => known(t, index),
        }
    };
    match ty {
        "raise_alarm" => {
            let p = props()?;
            if !p.has("alarm_name") {
                return fail(125, p);
            }
            if !p.has("severity") {
                return fail(126, p);
            }
            target_check(127)
        }
        "set_state" => {
            let p = props()?;
            if !p.has("state") {
                return fail(128, p);
            }
            target_check(129)
        }
        "mark_down" => target_check(131),
        "add_causal_relationship" => {
            let block = target_block.ok_or_else(|| shape(action))?;
            for key in ["target", "source"] {
                let Some(id) = block.get(key) else {
                    return fail(130, block);
                };
                known(id, index)?;
                let entity = index.get(&id.py_str()).ok_or_else(|| shape(id))?;
                if entity.get_str("category") != Some("ALARM") {
                    let message = format!(
                        "{} expect {} to be ALARM",
                        codes::message(132).unwrap_or(""),
                        entity.py_repr()
                    );
                    return Err(Diagnostic::with_message(132, Stage::Content, id.pos, message));
                }
            }
            Ok(())
        }
        "execute_mistral" => mistral_check(props()?, version),
        _ => fail(120, action),
    }
}

fn known(id: &Node, index: &Index<'_>) -> Outcome {
    match id.as_str() {
        Some(s) if index.get(s).is_some() => Ok(()),
        Some(s) => Err(unknown_id(s, id)),
        None => Err(shape(id)),
    }
}

fn mistral_check(p: &Node, version: &str) -> Outcome {
    let fail = |code: u32, at: &Node| Err(Diagnostic::new(code, Stage::Content, at.pos));
    match p.get("workflow") {
        Some(w) if w.truthy() => {}
        _ => return fail(133, p),
    }
    if version == "1" {
        for (_, value) in p.as_map().unwrap_or_default() {
            match &value.value {
                Value::Map(_) => {}
                Value::Str(s) if is_function(s) => return fail(137, value),
                Value::Str(_) => {}
                Value::Seq(_) => return Err(shape(value)),
            }
        }
        return Ok(());
    }
    for (key, _) in p.as_map().unwrap_or_default() {
        if !matches!(key.as_str(), Some("workflow" | "input")) {
            return fail(136, key);
        }
    }
    if let Some(input) = p.get("input") {
        let Some(entries) = input.as_map() else {
            return Err(shape(input));
        };
        for (_, value) in entries {
            // A stray parenthesis is only a warning (138) in v2, and Vitrage drops warnings.
            if value.as_str().is_none() {
                return Err(shape(value));
            }
        }
    }
    Ok(())
}

fn shape(node: &Node) -> Diagnostic {
    Diagnostic::new(codes::BAD_SHAPE, Stage::Content, node.pos)
}

/// The items Vitrage's loops visit: a list's items, nothing for an empty value; any other
/// value makes Vitrage crash, reported as a shape error.
fn items(node: &Node) -> Result<&[Node], Diagnostic> {
    match &node.value {
        Value::Seq(items) => Ok(items),
        _ if !node.truthy() => Ok(&[]),
        _ => Err(shape(node)),
    }
}

//! Topology files: Vitrage's static datasource YAML, or the scenario format's JSON.
//!
//! A static file lists `definitions.entities` (each with `static_id`, `type`, `id`, `name`,
//! `state` and any other keys as properties; every scalar a string, as PyYAML's BaseLoader
//! reads them) and `definitions.relationships` between `static_id`s. Each entity becomes a
//! resource whose id is its `id` (its `static_id` when it has none), each relationship an
//! edge. Vitrage makes an entity of a type another datasource owns (`nova.host`) a placeholder
//! for that datasource's vertex; causeway has no such datasource yet, so it is a resource.

use crate::runner::{Change, is_reserved_property};
use crate::scenario::Resource;
use serde_json::Value;
use std::collections::BTreeMap;

/// Why a topology file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct TopologyError {
    /// The file.
    pub file: String,
    /// What is wrong, with its place.
    pub message: String,
}

/// The changes that load `text` (JSON in the scenario format, else static YAML).
pub fn changes(file: &str, text: &str) -> Result<Vec<Change>, TopologyError> {
    let error = |message: String| TopologyError { file: file.into(), message };
    if text.trim_start().starts_with('{') {
        let s = crate::scenario::parse(text).map_err(|e| error(e.to_string()))?;
        let mut out: Vec<Change> =
            s.resources.into_iter().map(|resource| Change::AddResource { resource }).collect();
        out.extend(s.edges.into_iter().map(|e| Change::AddEdge {
            source: e.source,
            target: e.target,
            relationship_type: e.relationship_type,
        }));
        out.extend(s.alarms.into_iter().map(|alarm| Change::RaiseAlarm { alarm }));
        return Ok(out);
    }
    let doc: Value = serde_saphyr::from_str(text).map_err(|e| error(e.to_string()))?;
    static_changes(&doc).map_err(error)
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "True" } else { "False" }.into()),
        _ => None,
    }
}

fn static_changes(doc: &Value) -> Result<Vec<Change>, String> {
    let defs = doc.get("definitions").ok_or("definitions: required")?;
    let entities = defs
        .get("entities")
        .and_then(Value::as_array)
        .ok_or("definitions.entities: a list is required")?;
    let relationships = defs
        .get("relationships")
        .and_then(Value::as_array)
        .ok_or("definitions.relationships: a list is required")?;
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    let mut out = Vec::new();
    for (i, e) in entities.iter().enumerate() {
        let place = format!("definitions.entities[{i}]");
        let get = |k: &str| e.get(k).and_then(scalar);
        let static_id = get("static_id").ok_or(format!("{place}.static_id: required"))?;
        let kind = get("type").ok_or(format!("{place}.type: required"))?;
        let id = get("id").unwrap_or_else(|| static_id.clone());
        if ids.insert(static_id.clone(), id.clone()).is_some() {
            return Err(format!("{place}.static_id: duplicate {static_id:?}"));
        }
        let mut properties = BTreeMap::new();
        for (k, v) in e.as_object().into_iter().flatten() {
            if matches!(k.as_str(), "static_id" | "type" | "id" | "name" | "state")
                || is_reserved_property(k)
            {
                continue;
            }
            properties.insert(k.clone(), Value::String(scalar(v).unwrap_or_else(|| v.to_string())));
        }
        let resource = Resource { id, kind, name: get("name"), state: get("state"), properties };
        out.push(Change::AddResource { resource });
    }
    for (i, r) in relationships.iter().enumerate() {
        let place = format!("definitions.relationships[{i}]");
        let end = |k: &str| -> Result<String, String> {
            let sid = r.get(k).and_then(scalar).ok_or(format!("{place}.{k}: required"))?;
            ids.get(&sid).cloned().ok_or(format!("{place}.{k}: no entity with static_id {sid:?}"))
        };
        let label = r
            .get("relationship_type")
            .and_then(scalar)
            .ok_or(format!("{place}.relationship_type: required"))?;
        out.push(Change::AddEdge {
            source: end("source")?,
            target: end("target")?,
            relationship_type: label,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_static_file_gives_resources_then_edges() {
        let text = "metadata: {name: switches}\ndefinitions:\n  entities:\n    - static_id: s1\n      type: switch\n      id: 12345\n      name: switch-1\n      purpose: CI\n    - static_id: h1\n      type: nova.host\n      id: compute-1\n  relationships:\n    - source: s1\n      target: h1\n      relationship_type: attached\n";
        let changes = changes("static.yaml", text).expect("valid");
        assert_eq!(changes.len(), 3);
        let Change::AddResource { resource } = &changes[0] else { panic!("{changes:?}") };
        assert_eq!(
            (resource.id.as_str(), resource.properties["purpose"].as_str()),
            ("12345", Some("CI"))
        );
        assert_eq!(changes[2].edge().map(|(e, _)| e.target), Some("compute-1".to_string()));
        let e = super::changes("bad.yaml", "definitions:\n  entities: []\n")
            .expect_err("no relationships");
        assert!(e.message.contains("relationships"), "{e}");
    }
}

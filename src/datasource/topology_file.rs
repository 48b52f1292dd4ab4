//! Topology files: Vitrage's static datasource YAML, or the scenario format's JSON.
//!
//! A static file lists `definitions.entities` (each with `static_id`, `type`, `id`, `name`,
//! `state` and any other keys as properties; every scalar a string, as PyYAML's BaseLoader
//! reads them) and `definitions.relationships` between `static_id`s. Each entity becomes a
//! resource whose id is its `id` (its `static_id` when it has none), each relationship an
//! edge. A file that is not valid says where (`file:line:col`), so an operator can fix the
//! line the static directory skipped.
//!
//! [`changes`] loads a file as it is (`causeway serve --topology`, where nothing else reports
//! resources); the static directory ([`super::static_dir`]) makes the entities of types other
//! datasources own placeholders instead, as Vitrage does.

use crate::runner::{Change, is_reserved_property};
use crate::scenario::{Edge, Resource};
use crate::template::yaml::{self, Node, Pos};
use serde_json::Value;
use std::collections::BTreeMap;

/// Why a topology file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{}{message}", pos.map(|p| format!("{p}: ")).unwrap_or_else(|| " ".into()))]
pub struct TopologyError {
    /// The file.
    pub file: String,
    /// Where in it, when known.
    pub pos: Option<Pos>,
    /// What is wrong.
    pub message: String,
}

/// What a topology file describes.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Topology {
    /// Its resources, in file order.
    pub resources: Vec<Resource>,
    /// Its edges, in file order.
    pub edges: Vec<Edge>,
}

impl Topology {
    /// The changes that add it: resources, then edges.
    pub fn into_changes(self) -> Vec<Change> {
        let mut out: Vec<Change> =
            self.resources.into_iter().map(|resource| Change::AddResource { resource }).collect();
        out.extend(self.edges.into_iter().map(|e| Change::AddEdge {
            source: e.source,
            target: e.target,
            relationship_type: e.relationship_type,
        }));
        out
    }
}

/// The changes that load `text` (JSON in the scenario format, else static YAML).
pub fn changes(file: &str, text: &str) -> Result<Vec<Change>, TopologyError> {
    if text.trim_start().starts_with('{') {
        let s = crate::scenario::parse(text).map_err(|e| TopologyError {
            file: file.into(),
            pos: None,
            message: e.to_string(),
        })?;
        let mut out = Topology { resources: s.resources, edges: s.edges }.into_changes();
        out.extend(s.alarms.into_iter().map(|alarm| Change::RaiseAlarm { alarm }));
        return Ok(out);
    }
    Ok(parse_static(file, text)?.into_changes())
}

/// Reads a static datasource file.
pub fn parse_static(file: &str, text: &str) -> Result<Topology, TopologyError> {
    let error =
        |pos: Option<Pos>, message: String| TopologyError { file: file.into(), pos, message };
    let doc = yaml::parse(text).map_err(|e| error(e.pos, e.message))?;
    static_topology(&doc).map_err(|(pos, message)| error(Some(pos), message))
}

type Failure = (Pos, String);

fn static_topology(doc: &Node) -> Result<Topology, Failure> {
    let defs = doc.get("definitions").ok_or((doc.pos, "definitions: required".into()))?;
    let list = |k: &str| -> Result<&[Node], Failure> {
        let node = defs.get(k).ok_or((defs.pos, format!("definitions.{k}: required")))?;
        node.as_seq().ok_or((node.pos, format!("definitions.{k}: a list is required")))
    };
    let (entities, relationships) = (list("entities")?, list("relationships")?);
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    let mut topology = Topology::default();
    for (i, e) in entities.iter().enumerate() {
        let resource = entity(e, &format!("definitions.entities[{i}]"))?;
        let static_id = e.get_str("static_id").unwrap_or_default().to_string();
        if ids.insert(static_id.clone(), resource.id.clone()).is_some() {
            let at = e.get("static_id").map_or(e.pos, |n| n.pos);
            return Err((
                at,
                format!("definitions.entities[{i}].static_id: duplicate {static_id:?}"),
            ));
        }
        topology.resources.push(resource);
    }
    for (i, r) in relationships.iter().enumerate() {
        let place = format!("definitions.relationships[{i}]");
        let end = |k: &str| -> Result<String, Failure> {
            let sid = string(r, k, &place)?;
            let missing = || {
                (
                    r.get(k).map_or(r.pos, |n| n.pos),
                    format!("{place}.{k}: no entity with static_id {sid:?}"),
                )
            };
            ids.get(&sid).cloned().ok_or_else(missing)
        };
        let (source, target) = (end("source")?, end("target")?);
        let relationship_type = string(r, "relationship_type", &place)?;
        topology.edges.push(Edge { source, target, relationship_type });
    }
    Ok(topology)
}

/// A required string field of a mapping.
fn string(node: &Node, key: &str, place: &str) -> Result<String, Failure> {
    match node.get(key) {
        Some(v) => v
            .as_str()
            .map(str::to_string)
            .ok_or((v.pos, format!("{place}.{key}: a string is required"))),
        None => Err((node.pos, format!("{place}.{key}: required"))),
    }
}

fn entity(e: &Node, place: &str) -> Result<Resource, Failure> {
    let entries = e.as_map().ok_or((e.pos, format!("{place}: a mapping is required")))?;
    let static_id = string(e, "static_id", place)?;
    let kind = string(e, "type", place)?;
    let optional = |k: &str| -> Result<Option<String>, Failure> {
        e.get(k).map(|_| string(e, k, place)).transpose()
    };
    let id = optional("id")?.unwrap_or(static_id);
    let (name, state) = (optional("name")?, optional("state")?);
    let mut properties = BTreeMap::new();
    for (k, v) in entries {
        let Some(k) = k.as_str() else { continue };
        if matches!(k, "static_id" | "type" | "id" | "name" | "state") || is_reserved_property(k) {
            continue;
        }
        let text = match v.as_str() {
            Some(s) => s.to_string(),
            None => return Err((v.pos, format!("{place}.{k}: a string is required"))),
        };
        properties.insert(k.to_string(), Value::String(text));
    }
    Ok(Resource { id, kind, name, state, properties })
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

    #[test]
    fn an_invalid_static_file_says_file_line_and_column() {
        let text = "definitions:\n  entities:\n    - static_id: s1\n      type: switch\n      name: [a, b]\n  relationships: []\n";
        let e = parse_static("dir/a.yaml", text).expect_err("a list name");
        assert_eq!(
            e.to_string(),
            "dir/a.yaml:5:13: definitions.entities[0].name: a string is required"
        );
        let e = parse_static("b.yaml", "definitions: [unclosed\n").expect_err("not YAML");
        assert!(e.to_string().starts_with("b.yaml:"), "{e}");
        assert!(e.pos.is_some(), "{e}");
    }

    #[test]
    fn every_scalar_is_a_string_as_baseloader_reads_it() {
        let text = "definitions:\n  entities:\n    - {static_id: s1, type: switch, id: 012, on: yes, size: 1.50}\n  relationships: []\n";
        let t = parse_static("a.yaml", text).expect("valid");
        let r = &t.resources[0];
        assert_eq!(r.id, "012");
        assert_eq!(r.properties["on"], Value::String("yes".into()));
        assert_eq!(r.properties["size"], Value::String("1.50".into()));
    }
}

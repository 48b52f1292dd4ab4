//! The changes a runner accepts: the operations of the scenario format's steps, which are also
//! what datasources and the topology push endpoint produce and what the event log records.
//!
//! [`Runner::check`](super::Runner::check) tells whether a list of changes would all apply
//! before any is applied, so that a request is accepted or refused whole.

use crate::scenario::{Alarm, Edge, Resource};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};

/// One change to the cloud as monitors and inventories see it. The JSON form is the scenario
/// format's step (`{"op": "add_resource", "resource": {...}}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Change {
    /// A new resource.
    AddResource {
        /// The resource.
        resource: Resource,
    },
    /// New state, name or properties of a resource (properties are merged).
    UpdateResource {
        /// Resource id.
        id: String,
        /// New raw state.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        state: Option<String>,
        /// New name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// Properties to merge.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        properties: BTreeMap<String, Json>,
    },
    /// A resource and its edges go.
    DeleteResource {
        /// Resource id.
        id: String,
    },
    /// A new edge between two resources.
    AddEdge {
        /// Source resource id.
        source: String,
        /// Target resource id.
        target: String,
        /// Edge label.
        relationship_type: String,
    },
    /// An edge goes.
    DeleteEdge {
        /// Source resource id.
        source: String,
        /// Target resource id.
        target: String,
        /// Edge label.
        relationship_type: String,
    },
    /// An external alarm is raised, or raised again with a new severity.
    RaiseAlarm {
        /// The alarm.
        alarm: Alarm,
    },
    /// An external alarm clears.
    ClearAlarm {
        /// The alarm.
        alarm: Alarm,
    },
}

impl Change {
    /// The edge of an `add_edge` or `delete_edge`, and whether it is added.
    pub fn edge(&self) -> Option<(Edge, bool)> {
        let (source, target, relationship_type, add) = match self {
            Change::AddEdge { source, target, relationship_type } => {
                (source, target, relationship_type, true)
            }
            Change::DeleteEdge { source, target, relationship_type } => {
                (source, target, relationship_type, false)
            }
            _ => return None,
        };
        let edge = Edge {
            source: source.clone(),
            target: target.clone(),
            relationship_type: relationship_type.clone(),
        };
        Some((edge, add))
    }
}

/// The reserved property names a resource's `properties` may not use.
pub fn is_reserved_property(key: &str) -> bool {
    matches!(key, "id" | "type" | "name" | "state" | "category") || key.starts_with("vitrage_")
}

/// What exists, as far as checking a list of changes needs: live resource ids, live edges and
/// raised alarms, before the list and as each change of it would leave them.
pub(super) struct Overlay<'a> {
    pub resources: &'a dyn Fn(&str) -> bool,
    pub edge: &'a dyn Fn(&Edge) -> bool,
    pub alarm: &'a dyn Fn(&Alarm) -> bool,
    added: BTreeSet<String>,
    deleted: BTreeSet<String>,
    edges: BTreeMap<(String, String, String), bool>,
    alarms: BTreeMap<(String, String, String, String), bool>,
}

impl<'a> Overlay<'a> {
    pub fn new(
        resources: &'a dyn Fn(&str) -> bool,
        edge: &'a dyn Fn(&Edge) -> bool,
        alarm: &'a dyn Fn(&Alarm) -> bool,
    ) -> Overlay<'a> {
        Overlay {
            resources,
            edge,
            alarm,
            added: BTreeSet::new(),
            deleted: BTreeSet::new(),
            edges: BTreeMap::new(),
            alarms: BTreeMap::new(),
        }
    }

    fn has_resource(&self, id: &str) -> bool {
        self.added.contains(id) || (!self.deleted.contains(id) && (self.resources)(id))
    }

    fn has_edge(&self, e: &Edge) -> bool {
        if !self.has_resource(&e.source) || !self.has_resource(&e.target) {
            return false;
        }
        let gone = |id: &str| self.deleted.contains(id) || self.added.contains(id);
        match self.edges.get(&edge_key(e)) {
            Some(&live) => live,
            None => !gone(&e.source) && !gone(&e.target) && (self.edge)(e),
        }
    }

    fn has_alarm(&self, a: &Alarm) -> bool {
        self.alarms.get(&alarm_key(a)).copied().unwrap_or_else(|| (self.alarm)(a))
    }

    /// Checks one change against what exists and records its effect; the reason it would
    /// fail, as (field, message).
    pub fn apply(&mut self, change: &Change) -> Result<(), (String, String)> {
        let no = |field: &str, message: String| Err((field.to_string(), message));
        match change {
            Change::AddResource { resource } => {
                if self.has_resource(&resource.id) {
                    return no("resource.id", format!("duplicate resource id {:?}", resource.id));
                }
                check_properties(&resource.properties)?;
                self.added.insert(resource.id.clone());
            }
            Change::UpdateResource { id, properties, .. } => {
                if !self.has_resource(id) {
                    return no("id", format!("unknown resource {id:?}"));
                }
                check_properties(properties)?;
            }
            Change::DeleteResource { id } => {
                if !self.has_resource(id) {
                    return no("id", format!("unknown resource {id:?}"));
                }
                self.added.remove(id);
                self.deleted.insert(id.clone());
                self.edges.retain(|(s, _, t), _| s != id && t != id);
            }
            Change::AddEdge { .. } | Change::DeleteEdge { .. } => {
                let Some((e, add)) = change.edge() else { return Ok(()) };
                let e = &e;
                if !self.has_resource(&e.source) {
                    return no("source", format!("unknown resource {:?}", e.source));
                }
                if !self.has_resource(&e.target) {
                    return no("target", format!("unknown resource {:?}", e.target));
                }
                if e.relationship_type.is_empty() {
                    return no("relationship_type", "empty label".into());
                }
                if !add && !self.has_edge(e) {
                    let text =
                        format!("no edge {} -{}-> {}", e.source, e.relationship_type, e.target);
                    return no("relationship_type", text);
                }
                self.edges.insert(edge_key(e), add);
            }
            Change::RaiseAlarm { alarm } => {
                if !self.has_resource(&alarm.target) {
                    return no("alarm.target", format!("unknown resource {:?}", alarm.target));
                }
                self.alarms.insert(alarm_key(alarm), true);
            }
            Change::ClearAlarm { alarm } => {
                if !self.has_alarm(alarm) {
                    let text = format!("no active alarm {:?} on {:?}", alarm.name, alarm.target);
                    return no("alarm", text);
                }
                self.alarms.insert(alarm_key(alarm), false);
            }
        }
        Ok(())
    }
}

fn check_properties(properties: &BTreeMap<String, Json>) -> Result<(), (String, String)> {
    match properties.keys().find(|k| is_reserved_property(k)) {
        Some(k) => Err((format!("properties.{k}"), "reserved property name".into())),
        None => Ok(()),
    }
}

fn edge_key(e: &Edge) -> (String, String, String) {
    (e.source.clone(), e.relationship_type.clone(), e.target.clone())
}

/// (type, name, target, id): what identifies an external alarm.
pub(super) fn alarm_key(a: &Alarm) -> (String, String, String, String) {
    let (k, name, target, id) = a.key();
    (k.as_str().to_string(), name.to_string(), target.to_string(), id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_form_is_the_scenario_step() {
        let c: Change = serde_json::from_str(
            r#"{"op": "add_edge", "source": "a", "target": "b", "relationship_type": "contains"}"#,
        )
        .expect("edge");
        assert_eq!(
            c.edge().map(|(e, add)| (e.relationship_type, add)),
            Some(("contains".into(), true))
        );
        let back: Change =
            serde_json::from_value(serde_json::to_value(&c).expect("json")).expect("round trip");
        assert_eq!(back, c);
        let bad = serde_json::from_str::<Change>(r#"{"op": "delete_resource", "id": "a", "x": 1}"#);
        assert!(bad.is_err());
    }
}

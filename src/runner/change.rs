//! Checking [`Change`]s before any is applied, so that a request is accepted or refused whole
//! ([`Runner::check`](super::Runner::check)).

pub use crate::scenario::Change;
use crate::scenario::{Alarm, EdgeRef};
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};

/// The reserved property names a resource's `properties` may not use.
pub fn is_reserved_property(key: &str) -> bool {
    matches!(key, "id" | "type" | "name" | "state" | "category") || key.starts_with("vitrage_")
}

/// The property of an `add_resource` that makes it a placeholder: a vertex of that type and id
/// that some source mentioned and its owner has not reported yet. It sets the vertex's
/// `vitrage_is_placeholder` flag (an `update_resource` with `false` clears it) and is never a
/// property of its own.
pub const PLACEHOLDER: &str = "is_placeholder";

/// Whether `resource` is a placeholder.
pub fn is_placeholder(resource: &crate::scenario::Resource) -> bool {
    resource.properties.get(PLACEHOLDER) == Some(&Json::Bool(true))
}

/// What exists, as far as checking a list of changes needs: live resource ids, live edges and
/// raised alarms, before the list and as each change of it would leave them.
pub(super) struct Overlay<'a> {
    pub resources: &'a dyn Fn(&str) -> bool,
    pub edge: &'a dyn Fn(EdgeRef<'_>) -> bool,
    pub alarm: &'a dyn Fn(&Alarm) -> bool,
    added: BTreeSet<String>,
    deleted: BTreeSet<String>,
    edges: BTreeMap<(String, String, String), bool>,
    alarms: BTreeMap<(String, String, String, String), bool>,
}

impl<'a> Overlay<'a> {
    pub fn new(
        resources: &'a dyn Fn(&str) -> bool,
        edge: &'a dyn Fn(EdgeRef<'_>) -> bool,
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

    fn has_edge(&self, e: EdgeRef<'_>) -> bool {
        if !self.has_resource(e.source) || !self.has_resource(e.target) {
            return false;
        }
        let gone = |id: &str| self.deleted.contains(id) || self.added.contains(id);
        match self.edges.get(&edge_key(e)) {
            Some(&live) => live,
            None => !gone(e.source) && !gone(e.target) && (self.edge)(e),
        }
    }

    fn has_alarm(&self, a: &Alarm) -> bool {
        self.alarms.get(&alarm_key(a)).copied().unwrap_or_else(|| (self.alarm)(a))
    }

    /// Checks one change against what exists and records its effect; the reason it would
    /// fail, as (field, message).
    pub fn apply(&mut self, change: &Change) -> Result<(), (String, String)> {
        self.check(change)?;
        self.record(change);
        Ok(())
    }

    /// Checks one change against what exists, without recording it: for the last change of a
    /// list, whose effect no later change looks at (a list of one is how a scenario's
    /// initial topology is staged, element by element).
    pub fn check(&self, change: &Change) -> Result<(), (String, String)> {
        let no = |field: &str, message: String| Err((field.to_string(), message));
        match change {
            Change::AddResource { resource } => {
                if self.has_resource(&resource.id) {
                    return no("resource.id", format!("duplicate resource id {:?}", resource.id));
                }
                check_properties(&resource.properties)?;
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
            }
            Change::AddEdge { .. } | Change::DeleteEdge { .. } => {
                let Some((e, add)) = change.edge_ref() else { return Ok(()) };
                if !self.has_resource(e.source) {
                    return no("source", format!("unknown resource {:?}", e.source));
                }
                if !self.has_resource(e.target) {
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
            }
            Change::RaiseAlarm { alarm } => {
                if !self.has_resource(&alarm.target) {
                    return no("alarm.target", format!("unknown resource {:?}", alarm.target));
                }
                if let Some(k) = alarm.properties.keys().find(|k| is_alarm_own_property(k)) {
                    return no(&format!("alarm.properties.{k}"), "reserved property name".into());
                }
            }
            Change::ClearAlarm { alarm } => {
                if !self.has_alarm(alarm) {
                    let text = format!("no active alarm {:?} on {:?}", alarm.name, alarm.target);
                    return no("alarm", text);
                }
            }
        }
        Ok(())
    }

    /// Records the effect of a change [`Overlay::check`] accepted.
    fn record(&mut self, change: &Change) {
        match change {
            Change::AddResource { resource } => {
                self.added.insert(resource.id.clone());
            }
            Change::UpdateResource { .. } => {}
            Change::DeleteResource { id } => {
                self.added.remove(id);
                self.deleted.insert(id.clone());
                self.edges.retain(|(s, _, t), _| s != id && t != id);
            }
            Change::AddEdge { .. } | Change::DeleteEdge { .. } => {
                if let Some((e, add)) = change.edge_ref() {
                    self.edges.insert(edge_key(e), add);
                }
            }
            Change::RaiseAlarm { alarm } => {
                self.alarms.insert(alarm_key(alarm), true);
            }
            Change::ClearAlarm { alarm } => {
                self.alarms.insert(alarm_key(alarm), false);
            }
        }
    }
}

/// The property names an alarm's `properties` may not use: a resource's reserved names, and
/// what the alarm vertex holds of its own.
pub fn is_alarm_own_property(key: &str) -> bool {
    is_reserved_property(key) || matches!(key, PLACEHOLDER | "severity" | "resource_id")
}

fn check_properties(properties: &BTreeMap<String, Json>) -> Result<(), (String, String)> {
    match properties.keys().find(|k| is_reserved_property(k)) {
        Some(k) => Err((format!("properties.{k}"), "reserved property name".into())),
        None => Ok(()),
    }
}

fn edge_key(e: EdgeRef<'_>) -> (String, String, String) {
    (e.source.to_string(), e.relationship_type.to_string(), e.target.to_string())
}

/// (type, name, target, id): what identifies an external alarm.
pub(super) fn alarm_key(a: &Alarm) -> (String, String, String, String) {
    let (k, name, target, id) = a.key();
    (k.as_str().to_string(), name.to_string(), target.to_string(), id.to_string())
}

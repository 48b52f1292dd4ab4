//! One vertex per resource, whichever source mentions it first.
//!
//! Sources overlap: an instance notification names its host, a Zabbix problem names a host by
//! name, a static file links a switch to a `nova.host`. None of them owns everything it
//! mentions, and none knows what the graph already holds. Vitrage answers this with
//! placeholders: a source that mentions a resource it does not own ensures a vertex of that
//! type and id exists, and the owner's later report fills it in.
//!
//! [`resolve`] rewrites a datasource batch against what exists, before it is staged, so that a
//! source never has to ask: a placeholder `add_resource` for what exists is dropped, an
//! `add_resource` for what exists becomes an `update_resource` (filling a placeholder in), and
//! the removal of what is absent or the addition of an edge that exists is dropped. The
//! resolved changes are what the event log records, so replay applies exactly them and stays
//! deterministic whatever the graph held when they arrived.

use crate::graph::EdgeKey;
use crate::runner::{Change, Runner};
pub use crate::runner::{PLACEHOLDER, is_placeholder};
use crate::scenario::{Alarm, Edge, Resource};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// How a resource is present in the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Only mentioned so far, by a source that does not own it.
    Placeholder,
    /// Reported by its owner.
    Reported,
}

/// What [`resolve`] needs to know of the graph.
pub trait Known {
    /// Whether a live resource has this id, and how.
    fn resource(&self, id: &str) -> Option<Presence>;
    /// Whether this edge is live.
    fn edge(&self, edge: &Edge) -> bool;
    /// Whether this external alarm is raised.
    fn alarm(&self, alarm: &Alarm) -> bool;
}

/// A placeholder for the resource of `kind` and `id`: what a source emits, before an edge or
/// an alarm, for a resource another source owns.
pub fn placeholder(kind: &str, id: &str) -> Change {
    let properties = BTreeMap::from([(PLACEHOLDER.to_string(), Value::Bool(true))]);
    let resource =
        Resource { id: id.into(), kind: kind.into(), name: None, state: None, properties };
    Change::AddResource { resource }
}

/// `changes` as they apply to what `known` holds, each seen after the ones before it.
pub fn resolve(known: &impl Known, changes: Vec<Change>) -> Vec<Change> {
    let mut seen = Seen {
        known,
        resources: BTreeMap::new(),
        deleted: BTreeSet::new(),
        edges: BTreeMap::new(),
    };
    let mut alarms: BTreeMap<String, bool> = BTreeMap::new();
    let mut out = Vec::with_capacity(changes.len());
    for change in changes {
        let kept = match change {
            Change::AddResource { resource } => seen.add(resource),
            Change::DeleteResource { id } => seen.resource(&id).map(|_| seen.delete(id)),
            Change::AddEdge { .. } | Change::DeleteEdge { .. } => seen.edge(change),
            Change::RaiseAlarm { alarm } => {
                alarms.insert(alarm_key(&alarm), true);
                Some(Change::RaiseAlarm { alarm })
            }
            Change::ClearAlarm { alarm } => {
                let key = alarm_key(&alarm);
                let raised = alarms.get(&key).copied().unwrap_or_else(|| known.alarm(&alarm));
                alarms.insert(key, false);
                raised.then_some(Change::ClearAlarm { alarm })
            }
            other @ Change::UpdateResource { .. } => Some(other),
        };
        out.extend(kept);
    }
    out
}

/// What the graph holds as the batch so far leaves it, on top of `known`: resources added or
/// filled in (`Some`) or deleted (`None`), the ids deleted at some point (their earlier edges
/// are gone), and edges added or deleted.
struct Seen<'a, K> {
    known: &'a K,
    resources: BTreeMap<String, Option<Presence>>,
    deleted: BTreeSet<String>,
    edges: BTreeMap<(String, String, String), bool>,
}

impl<K: Known> Seen<'_, K> {
    fn resource(&self, id: &str) -> Option<Presence> {
        match self.resources.get(id) {
            Some(p) => *p,
            None => self.known.resource(id),
        }
    }

    fn add(&mut self, mut resource: Resource) -> Option<Change> {
        let placeholder = is_placeholder(&resource);
        match self.resource(&resource.id) {
            None => {
                let presence = if placeholder { Presence::Placeholder } else { Presence::Reported };
                self.resources.insert(resource.id.clone(), Some(presence));
                Some(Change::AddResource { resource })
            }
            Some(_) if placeholder => None,
            Some(was) => {
                resource.properties.remove(PLACEHOLDER);
                if was == Presence::Placeholder {
                    resource.properties.insert(PLACEHOLDER.into(), Value::Bool(false));
                    self.resources.insert(resource.id.clone(), Some(Presence::Reported));
                }
                let Resource { id, name, state, properties, .. } = resource;
                Some(Change::UpdateResource { id, state, name, properties })
            }
        }
    }

    /// Marks `id` deleted: its edges go with it.
    fn delete(&mut self, id: String) -> Change {
        self.edges.retain(|(s, _, t), _| *s != id && *t != id);
        self.resources.insert(id.clone(), None);
        self.deleted.insert(id.clone());
        Change::DeleteResource { id }
    }

    fn edge(&mut self, change: Change) -> Option<Change> {
        let (edge, add) = change.edge()?;
        let live = self.has_edge(&edge);
        self.edges.insert(edge_key(&edge), add);
        // An edge to an absent end is kept, so that the batch is refused as it would be.
        let ends = self.resource(&edge.source).is_some() && self.resource(&edge.target).is_some();
        (add != live || !ends).then_some(change)
    }

    fn has_edge(&self, e: &Edge) -> bool {
        if self.resource(&e.source).is_none() || self.resource(&e.target).is_none() {
            return false;
        }
        if let Some(&live) = self.edges.get(&edge_key(e)) {
            return live;
        }
        // An end deleted in this batch has none of the edges it had before.
        let gone = |id: &str| self.deleted.contains(id);
        !gone(&e.source) && !gone(&e.target) && self.known.edge(e)
    }
}

fn edge_key(e: &Edge) -> (String, String, String) {
    (e.source.clone(), e.relationship_type.clone(), e.target.clone())
}

fn alarm_key(a: &Alarm) -> String {
    let (kind, name, target, id) = a.key();
    format!("{}\u{0}{name}\u{0}{target}\u{0}{id}", kind.as_str())
}

impl Known for Runner {
    fn resource(&self, id: &str) -> Option<Presence> {
        let vertex = self.graph().vertex(Runner::resource(self, id)?)?;
        Some(if vertex.is_placeholder() { Presence::Placeholder } else { Presence::Reported })
    }

    fn edge(&self, e: &Edge) -> bool {
        let (Some(source), Some(target)) =
            (Runner::resource(self, &e.source), Runner::resource(self, &e.target))
        else {
            return false;
        };
        let Some(label) = self.graph().find_label(&e.relationship_type) else { return false };
        self.graph().edge(EdgeKey { source, target, label }).is_some_and(|e| !e.is_deleted)
    }

    fn alarm(&self, alarm: &Alarm) -> bool {
        self.external_alarm(alarm).is_some()
    }
}

#[cfg(test)]
mod tests;

//! Vitrage's static datasource: a directory of static topology files, kept in step with the
//! graph as the files change.
//!
//! Operators describe what no inventory reports (switches, racks, the links between them and
//! hosts) in YAML files, and edit them while the service runs. Each scan reads every file
//! again and [`plan`]s the changes from what the directory loaded before to what it holds
//! now: new entities and edges are added, changed ones updated (a property that went is
//! removed), and those no file holds any more deleted. A file that does not parse keeps what it
//! loaded before, so a typo never deletes a rack. An entity of a type another datasource owns
//! (`nova.host`) is a placeholder for that datasource's vertex, never deleted by the directory:
//! it belongs to its owner.

use super::topology_file::{Topology, TopologyError, parse_static};
use super::{Batch, Datasource, SourceName, identity};
use crate::runner::Change;
use crate::scenario::Resource;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// What the directory has loaded: each file's topology, by the file's path.
pub type Loaded = BTreeMap<String, Topology>;

/// The types other datasources own: Vitrage has a transformer for each, so a static entity of
/// one only links to that datasource's vertex.
pub const OWNED_ELSEWHERE: &[&str] = &[
    "openstack.cluster",
    "nova.zone",
    "nova.host",
    "nova.instance",
    "neutron.network",
    "neutron.port",
    "cinder.volume",
    "heat.stack",
    "trove.instance",
    "trove.cluster",
];

/// One read of the directory: every `*.yaml` file's text (or why it could not be read).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scan {
    /// Text by path.
    pub files: BTreeMap<String, Result<String, String>>,
    /// Add everything the files hold, not only what changed: the first scan after a start,
    /// or after a batch that was not stored, when the graph may lag what was loaded.
    pub full: bool,
}

/// What a scan means.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// What the directory holds once the changes are applied.
    pub loaded: Loaded,
    /// The changes, in order: edges and resources that went, then resources, then edges.
    pub changes: Vec<Change>,
    /// The files skipped, each keeping what it loaded before.
    pub errors: Vec<TopologyError>,
}

/// The changes from `before` to the files of `scan`.
pub fn plan(before: &Loaded, scan: &Scan) -> Plan {
    let mut loaded = Loaded::new();
    let mut errors = Vec::new();
    for (path, text) in &scan.files {
        let parsed = text
            .as_ref()
            .map_err(|e| TopologyError { file: path.clone(), pos: None, message: e.clone() })
            .and_then(|t| parse_static(path, t));
        match parsed {
            Ok(t) => {
                loaded.insert(path.clone(), t);
            }
            Err(e) => {
                if let Some(old) = before.get(path) {
                    loaded.insert(path.clone(), old.clone());
                }
                errors.push(e);
            }
        }
    }
    let changes = diff(before, &loaded, scan.full);
    Plan { loaded, changes, errors }
}

/// Whether an entity of `kind` is a placeholder for another datasource's vertex.
pub fn owned_elsewhere(kind: &str) -> bool {
    OWNED_ELSEWHERE.contains(&kind)
}

/// An edge as (source, label, target).
type EdgeKey = (String, String, String);

/// The resources of every file by id (a later file's entity wins), and all edges.
fn union(loaded: &Loaded) -> (BTreeMap<String, Resource>, BTreeSet<EdgeKey>) {
    let mut resources = BTreeMap::new();
    let mut edges = BTreeSet::new();
    for t in loaded.values() {
        for r in &t.resources {
            resources.insert(r.id.clone(), r.clone());
        }
        for e in &t.edges {
            edges.insert((e.source.clone(), e.relationship_type.clone(), e.target.clone()));
        }
    }
    (resources, edges)
}

fn diff(before: &Loaded, after: &Loaded, full: bool) -> Vec<Change> {
    let (old, old_edges) = union(before);
    let (new, new_edges) = union(after);
    let mut out = Vec::new();
    for (source, relationship_type, target) in old_edges.difference(&new_edges) {
        let (source, target, relationship_type) =
            (source.clone(), target.clone(), relationship_type.clone());
        out.push(Change::DeleteEdge { source, target, relationship_type });
    }
    for (id, r) in &old {
        if !new.contains_key(id) && !owned_elsewhere(&r.kind) {
            out.push(Change::DeleteResource { id: id.clone() });
        }
    }
    for (id, r) in &new {
        if owned_elsewhere(&r.kind) {
            out.push(identity::placeholder(&r.kind, id));
            continue;
        }
        match old.get(id) {
            Some(was) if was == r && !full => {}
            Some(was) => out.push(Change::AddResource { resource: with_removals(r, was) }),
            None => out.push(Change::AddResource { resource: r.clone() }),
        }
    }
    for (source, relationship_type, target) in &new_edges {
        let key = (source.clone(), relationship_type.clone(), target.clone());
        if full || !old_edges.contains(&key) {
            let (source, target, relationship_type) =
                (source.clone(), target.clone(), relationship_type.clone());
            out.push(Change::AddEdge { source, target, relationship_type });
        }
    }
    out
}

/// `r`, with each property `was` had and `r` has not set to null: the update removes it.
fn with_removals(r: &Resource, was: &Resource) -> Resource {
    let mut r = r.clone();
    for k in was.properties.keys() {
        r.properties.entry(k.clone()).or_insert(Value::Null);
    }
    r
}

/// The static datasource: what the directory has loaded, and what the last scan would load
/// once its batch is stored.
#[derive(Debug, Default)]
pub struct StaticDir {
    /// What is in the graph from the directory.
    pub loaded: Loaded,
    /// What the last scan's batch loads, until the service says it is stored.
    pub pending: Option<Loaded>,
    /// The files the last scan skipped.
    pub errors: Vec<TopologyError>,
}

impl StaticDir {
    /// The directory starting from `loaded` (what a previous process stored).
    pub fn new(loaded: Loaded) -> StaticDir {
        StaticDir { loaded, pending: None, errors: Vec::new() }
    }

    /// The last scan's batch is stored: what it loads is what is loaded.
    pub fn stored(&mut self) {
        if let Some(p) = self.pending.take() {
            self.loaded = p;
        }
    }

    /// Everything the graph may hold from the directory: what is loaded and what is pending,
    /// file by file. Saved before a batch is submitted, it lets the next start delete what a
    /// batch stored without an answer left behind.
    pub fn at_most(&self) -> Loaded {
        let mut all = self.loaded.clone();
        for (path, t) in self.pending.iter().flatten() {
            let entry = all.entry(path.clone()).or_default();
            entry.resources.extend(t.resources.iter().cloned());
            entry.edges.extend(t.edges.iter().cloned());
        }
        all
    }
}

impl Datasource for StaticDir {
    type Input = Scan;
    type Error = std::convert::Infallible;

    fn name(&self) -> SourceName {
        "static"
    }

    /// At most one batch; the skipped files are in [`StaticDir::errors`].
    fn translate(&mut self, scan: Scan) -> Result<Vec<Batch>, Self::Error> {
        let plan = plan(&self.loaded, &scan);
        self.errors = plan.errors;
        self.pending = Some(plan.loaded);
        if plan.changes.is_empty() {
            self.stored();
            return Ok(Vec::new());
        }
        Ok(vec![Batch::new(self.name(), plan.changes)])
    }
}

#[cfg(test)]
mod tests;

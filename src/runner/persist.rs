//! Saving a settled runner and restoring it exactly, so that a service restarts from a
//! snapshot and replays only the log entries after it.
//!
//! A snapshot holds everything that decides future evaluation: the graph (interner, slots with
//! soft-deleted vertices, free list, edges, key table), the incremental evaluator's activations
//! and membership bits, the tracker's groups with their rows' scores, sequence numbers and
//! actions (also listed per instance, as the performed actions), the workflow supports and
//! appearance counts (which number the next Mistral request), the shared action ids, the
//! resource and alarm maps, and the causal edge counts. The rules are not in it: the caller
//! compiles them again from the templates it keeps, and [`Runner::restore`] refuses rules
//! other than the ones the snapshot was saved with (a fingerprint, and the check that
//! compiling them interns nothing new, since an interned string would shift every symbol
//! after it). [`Compiled`] and the evaluator's uses of relations and labels are derived from
//! the rules and the graph, and rebuilt.
//!
//! Only a settled runner is saved: pending graph changes or an outcome not yet taken belong
//! to an evaluation in progress, which a snapshot cannot resume.
//!
//! The encoding is [`crate::persist`]'s frame around postcard, with maps written sorted: the
//! same state always gives the same bytes.

use super::{CauseKey, Outcome, Runner};
use crate::action::{Instance, Resolved, Tracker, mistral::Workflows};
use crate::compile::ir::RuleSet;
use crate::engine::{Compiled, Incremental, SavedIncremental};
use crate::graph::values::{Normaliser, ValueTables};
use crate::graph::{Graph, SavedGraph, VertexId};
use crate::persist::{self, DecodeError, Format};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The frame of runner snapshots. The version changes whenever what is saved changes shape.
pub const FORMAT: Format = Format { magic: *b"CWRN", version: 1 };

/// Why a runner could not be saved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SaveError {
    /// Changes are staged but not evaluated, or a runaway evaluation left work behind.
    #[error("the runner is not settled: evaluate what was staged before saving it")]
    Unsettled,
    /// The encoder failed.
    #[error("the state does not encode: {0}")]
    Encode(String),
}

/// Why a snapshot could not be restored. None of these is a panic: snapshot bytes are input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestoreError {
    /// The bytes are not a runner snapshot.
    #[error("not a runner snapshot")]
    NotASnapshot,
    /// The snapshot is of another format version; replay the log instead.
    #[error("runner snapshot format version {found}; this build reads version {supported}")]
    Version {
        /// The version in the snapshot.
        found: u8,
        /// The version this build reads.
        supported: u8,
    },
    /// The bytes are truncated, fail their checksum or do not decode.
    #[error("runner snapshot is corrupt: {0}")]
    Corrupt(String),
    /// The bytes decode to a state the runner cannot be in.
    #[error("runner snapshot is invalid: {0}")]
    Invalid(String),
    /// The rules given are not the ones the snapshot was saved with.
    #[error("the runner snapshot was saved with other rules")]
    Rules,
}

impl From<DecodeError> for RestoreError {
    fn from(e: DecodeError) -> RestoreError {
        match e {
            DecodeError::NotASnapshot { .. } => RestoreError::NotASnapshot,
            DecodeError::Version { found, supported } => RestoreError::Version { found, supported },
            DecodeError::Corrupt(why) => RestoreError::Corrupt(why),
        }
    }
}

/// What is written, borrowed from the runner.
#[derive(Serialize)]
struct SavedRef<'a> {
    rules: u32,
    graph: &'a Graph,
    inc: &'a Incremental,
    tracker: &'a Tracker,
    performed: Vec<(Instance, &'a Resolved)>,
    workflows: &'a Workflows,
    action_ids: Vec<&'a str>,
    resources: super::index::SavingIndex<'a>,
    alarms: &'a BTreeMap<(String, String, String, String), VertexId>,
    causes: Vec<(&'a CauseKey, u32)>,
    explain: bool,
}

/// What is read, in the same order.
#[derive(Deserialize)]
struct Saved {
    rules: u32,
    graph: SavedGraph,
    inc: SavedIncremental,
    tracker: Tracker,
    performed: Vec<(Instance, Resolved)>,
    workflows: Workflows,
    action_ids: Vec<String>,
    resources: BTreeMap<String, VertexId>,
    alarms: BTreeMap<(String, String, String, String), VertexId>,
    causes: Vec<(CauseKey, u32)>,
    explain: bool,
}

impl Runner {
    /// The runner's state as bytes, for [`Runner::restore`]; refused while it is not settled
    /// (after [`Runner::stage`] without [`Runner::evaluate`], or a runaway evaluation).
    pub fn save(&self) -> Result<Vec<u8>, SaveError> {
        if !self.graph.changes().is_empty() || !self.outcome.is_empty() {
            return Err(SaveError::Unsettled);
        }
        let performed = self.tracker.performed();
        let mut action_ids: Vec<&str> = self.action_ids.iter().map(|id| id.as_ref()).collect();
        action_ids.sort_unstable();
        let mut causes: Vec<(&CauseKey, u32)> = self.causes.iter().map(|(k, &n)| (k, n)).collect();
        causes.sort_unstable();
        let saved = SavedRef {
            rules: fingerprint(&self.rules),
            graph: &self.graph,
            inc: &self.inc,
            tracker: &self.tracker,
            performed,
            workflows: &self.workflows,
            action_ids,
            resources: super::index::SavingIndex(self.resources.sorted(&self.graph)),
            alarms: &self.alarms,
            causes,
            explain: self.explain,
        };
        persist::encode(FORMAT, &saved).map_err(|e| SaveError::Encode(e.to_string()))
    }

    /// The runner saved in `bytes`, for `rules` compiled again from the templates it ran:
    /// evaluating the same changes on it gives the same outcomes, ids and workflow requests as
    /// on the runner that was saved.
    pub fn restore(bytes: &[u8], rules: RuleSet) -> Result<Runner, RestoreError> {
        let (saved, rest): (Saved, &[u8]) = persist::decode(FORMAT, bytes)?;
        if !rest.is_empty() {
            return Err(RestoreError::Corrupt(format!("{} bytes after the snapshot", rest.len())));
        }
        if saved.rules != fingerprint(&rules) {
            return Err(RestoreError::Rules);
        }
        let mut graph = Graph::restore(saved.graph).map_err(RestoreError::Invalid)?;
        let interned = graph.interner().len();
        let compiled = Compiled::new(&rules, &mut graph).map_err(|_| RestoreError::Rules)?;
        if graph.interner().len() != interned {
            return Err(RestoreError::Rules);
        }
        let inc = Incremental::restore(&compiled, &graph, saved.inc)
            .map_err(|e| RestoreError::Invalid(format!("evaluator: {e}")))?;
        saved.tracker.check().map_err(|e| RestoreError::Invalid(format!("tracker: {e}")))?;
        let stored = |v: &VertexId| graph.vertex(*v).is_some();
        let invalid = |what: &str| Err(RestoreError::Invalid(what.to_string()));
        let tracker = saved.tracker;
        // The tracker holds each instance's action with its row; the list saved beside it
        // (kept so the format stays the same) must say the same.
        let same =
            |(a, b): (&(Instance, Resolved), (Instance, &Resolved))| a.0 == b.0 && a.1 == *b.1;
        let performed = tracker.performed();
        if saved.performed.len() != performed.len()
            || !saved.performed.iter().zip(performed).all(same)
        {
            return invalid("performed actions are not the tracker's instances");
        }
        if !saved.resources.values().chain(saved.alarms.values()).all(stored) {
            return invalid("a resource or alarm id names a vertex not stored");
        }
        if !saved.causes.iter().all(|(k, n)| *n > 0 && stored(&k.target) && stored(&k.causing)) {
            return invalid("a causal edge count is zero or names a vertex not stored");
        }
        let causes = saved.causes.into_iter().collect();
        let resources = super::index::ResourceIndex::from_saved(&mut graph, &saved.resources)
            .map_err(RestoreError::Invalid)?;
        let mut action_ids: rustc_hash::FxHashSet<_> =
            saved.action_ids.iter().map(|id| crate::action::ActionId::new(id)).collect();
        let names = super::scenario_names(&rules, &mut action_ids);
        let ends = super::action_ends(&rules);
        let tables = ValueTables::builtin()
            .map_err(|e| RestoreError::Invalid(format!("datasource values: {e:?}")))?;
        Ok(Runner {
            graph,
            // Made with the graph: what it remembers is in the graph's symbols.
            values: Normaliser::new(tables),
            rules,
            compiled,
            inc,
            tracker,
            workflows: saved.workflows,
            action_ids,
            names,
            ends,
            resources,
            alarms: saved.alarms,
            causes,
            explain: saved.explain,
            outcome: Outcome::default(),
            round: super::Round::default(),
        })
    }
}

/// A checksum of the rules' JSON form: what tells the rules a snapshot was saved with from
/// others. File names and positions are part of it, so the same templates compile to it.
fn fingerprint(rules: &RuleSet) -> u32 {
    crc32fast::hash(&serde_json::to_vec(rules).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{Input, Options, check_set};
    use crate::generate::{Element, Size, nic_alarm, topology};
    use crate::runner::Change;

    fn shipped() -> RuleSet {
        let inputs = [
            ("nic_failure.yaml", include_str!("../../templates/nic_failure.yaml")),
            ("host_down.yaml", include_str!("../../templates/host_down.yaml")),
        ];
        let inputs: Vec<Input> = inputs
            .iter()
            .map(|(file, text)| Input { file: (*file).into(), bytes: text.as_bytes().to_vec() })
            .collect();
        check_set(&inputs, &Options::default()).compiled.rules
    }

    #[test]
    fn compiling_the_rules_on_a_restored_graph_gives_the_same_symbols() {
        let size = Size { zones: 1, hosts: 3, instances_per_host: 2, alarms: 1 };
        let mut r = Runner::new(shipped()).expect("runner");
        topology(size, |e| {
            let change = match e {
                Element::Resource(resource) => Change::AddResource { resource },
                Element::Edge(e) => Change::AddEdge {
                    source: e.source,
                    target: e.target,
                    relationship_type: e.relationship_type,
                },
            };
            r.stage(&[change]).expect("stages");
        });
        r.apply(&[Change::RaiseAlarm { alarm: nic_alarm(size, 0) }]).expect("raises");
        let restored = Runner::restore(&r.save().expect("saves"), shipped()).expect("restores");
        assert_eq!(format!("{:?}", restored.compiled), format!("{:?}", r.compiled));
        assert_eq!(restored.graph.interner().len(), r.graph.interner().len());
        assert_eq!(restored.inc.activations(), r.inc.activations());
        assert_eq!(restored.workflows, r.workflows);
        assert_eq!(restored.tracker.performed(), r.tracker.performed());
    }
}

//! What one evaluation did, as the service needs it: alarms that appeared, changed and went,
//! resources whose deduced state changed, causal edges, and the workflow runs it asks for.
//!
//! It is read off the graph's change log while the runner settles, so it costs one pass over
//! what changed and nothing when nobody looks at it. Vertices are named by [`VertexId`]: a
//! deleted vertex stays readable in the graph, so a caller can still describe an alarm that
//! went.

use super::Explanation;
use crate::action::mistral::MistralRequest;
use crate::graph::{Category, EdgeKey, Graph, GraphChange, Label, VertexId, names};

/// The effects of one evaluation (a batch of changes to its fixpoint, or a template change).
///
/// Lists are in the order things happened. A vertex that appeared and went in the same
/// evaluation is in both lists.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// Alarm vertices (external and deduced) that became live.
    pub alarms_activated: Vec<VertexId>,
    /// Live alarm vertices whose properties (severity) changed.
    pub alarms_updated: Vec<VertexId>,
    /// Alarm vertices that were deleted (cleared, undone, or their resource deleted).
    pub alarms_deactivated: Vec<VertexId>,
    /// Resources whose state, deduced state or marked-down flag changed, once each.
    pub resources_changed: Vec<VertexId>,
    /// Resources added or deleted.
    pub resources_added: Vec<VertexId>,
    /// Resources deleted.
    pub resources_deleted: Vec<VertexId>,
    /// `causes` edges that became live.
    pub causes_added: Vec<EdgeKey>,
    /// `causes` edges that went.
    pub causes_removed: Vec<EdgeKey>,
    /// Workflow runs to request, once each.
    pub mistral: Vec<MistralRequest>,
    /// Why each effect happened (only when the runner explains).
    pub explanations: Vec<Explanation>,
    /// Warnings from actions (`get_attr` without a value, ...).
    pub warnings: Vec<String>,
    /// Every vertex that was added, updated or deleted or gained or lost an edge, with
    /// repeats: what a copy of the graph (the service's view) has to redraw.
    pub touched: Vec<VertexId>,
}

impl Outcome {
    /// Whether nothing happened.
    pub fn is_empty(&self) -> bool {
        self == &Outcome::default()
    }

    /// Empties every list and keeps its room. Every field is named: a list added to the
    /// outcome does not compile here until it is, and one named but not cleared is an unused
    /// variable (a warning, which the project's clippy run refuses).
    pub fn clear(&mut self) {
        let Outcome {
            alarms_activated,
            alarms_updated,
            alarms_deactivated,
            resources_changed,
            resources_added,
            resources_deleted,
            causes_added,
            causes_removed,
            mistral,
            explanations,
            warnings,
            touched,
        } = self;
        alarms_activated.clear();
        alarms_updated.clear();
        alarms_deactivated.clear();
        resources_changed.clear();
        resources_added.clear();
        resources_deleted.clear();
        causes_added.clear();
        causes_removed.clear();
        mistral.clear();
        explanations.clear();
        warnings.clear();
        touched.clear();
    }

    /// Records what `changes` did; `graph` holds the state after them.
    pub(super) fn record(&mut self, graph: &Graph, changes: &[GraphChange]) {
        let category = |v: VertexId| graph.vertex(v).map(|x| x.category());
        // Each list at most one entry per change: room made at once rather than by doubling,
        // whose freed lists the allocator returned to the system inside the first event after
        // a million resources loaded.
        self.touched.reserve(changes.len() * 2);
        self.resources_added.reserve(changes.len());
        for change in changes {
            match change {
                GraphChange::VertexAdded(v) | GraphChange::VertexDeleted(v) => {
                    self.touched.push(*v)
                }
                GraphChange::VertexUpdated { id, .. } | GraphChange::VertexRemoved { id, .. } => {
                    self.touched.push(*id)
                }
                GraphChange::EdgeAdded(k)
                | GraphChange::EdgeDeleted(k)
                | GraphChange::EdgeRemoved(k) => self.touched.extend([k.source, k.target]),
            }
            match change {
                GraphChange::VertexAdded(v) => match category(*v) {
                    Some(Category::Alarm) => self.alarms_activated.push(*v),
                    Some(_) => self.resources_added.push(*v),
                    None => {}
                },
                GraphChange::VertexDeleted(v) => match category(*v) {
                    Some(Category::Alarm) => self.alarms_deactivated.push(*v),
                    Some(_) => self.resources_deleted.push(*v),
                    None => {}
                },
                GraphChange::VertexUpdated { id, before, .. } => {
                    let Some(vertex) = graph.vertex(*id) else { continue };
                    let changed = |k| before.get(k) != vertex.get(k);
                    if vertex.category() == Category::Alarm {
                        if changed(names::SEVERITY) && !self.alarms_updated.contains(id) {
                            self.alarms_updated.push(*id);
                        }
                    } else if [names::STATE, names::VITRAGE_STATE, names::IS_MARKED_DOWN]
                        .into_iter()
                        .any(changed)
                        && !self.resources_changed.contains(id)
                    {
                        self.resources_changed.push(*id);
                    }
                }
                GraphChange::EdgeAdded(k) if k.label == Label::CAUSES => self.causes_added.push(*k),
                GraphChange::EdgeDeleted(k) if k.label == Label::CAUSES => {
                    self.causes_removed.push(*k)
                }
                _ => {}
            }
        }
    }
}

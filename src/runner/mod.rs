//! The state machine over the graph, the engine and the action layer: changes in, the
//! [`Outcome`] of evaluating them to a fixpoint out. `causeway run` is a loop over it, and
//! the service's evaluation task owns one.
//!
//! A batch of [`Change`]s is checked whole, applied to the graph ([`Runner::stage`]), then
//! evaluated ([`Runner::evaluate`]): the incremental evaluator reports the activations that
//! appeared and disappeared, the tracker decides the actions (undo before do), their effects
//! are written back to the graph, and this repeats until nothing changes. A cap on rounds
//! turns a runaway loop into an error naming the templates involved.
//!
//! Evaluation is deterministic: the same rules and the same batches give the same state,
//! the same alarms and the same workflow requests, which is what lets the service rebuild its
//! state by replaying its event log.

mod change;
mod index;
mod outcome;
mod persist;
mod provenance;
mod replay;
mod result;
#[cfg(test)]
mod tests;
mod why_not;
mod write;

pub use change::{
    Change, PLACEHOLDER, is_alarm_own_property, is_placeholder, is_reserved_property,
};
pub use outcome::Outcome;
pub use persist::{FORMAT as SNAPSHOT_FORMAT, RestoreError, SaveError};
pub use provenance::Provenance;
pub use replay::{
    Checkpoint, Replay, ResultDoc, replay, replay_keeping, replay_stream, replay_text,
    templates_report,
};
pub use result::{Call, Causal, Deduced, External, ResourceState, Snapshot};
pub use write::write_result;

use crate::action::mistral::{Appearing, Workflows};
use crate::action::{self, Decision, Instance, Resolved, ResolvedKind, Tracker};
use crate::compile::ir::RuleSet;
use crate::engine::{Activation, Compiled, Incremental};
use crate::graph::values::{Normaliser, ValueTables};
use crate::graph::{
    Category, EdgeKey, Graph, GraphChange, GraphError, Label, NewVertex, Props, Value, VertexId,
    names,
};
use crate::scenario::{Alarm, EdgeRef, Resource};
use crate::template::model::ActionKind;
use change::{Overlay, alarm_key};
use rustc_hash::FxHashMap as HashMap;
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};

/// How many evaluate-act rounds one change may take before it is called a runaway loop.
pub const MAX_ROUNDS: usize = 100;

/// Why a change could not be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunError {
    /// The change refers to something that does not exist, or repeats an id.
    #[error("{field}: {message}")]
    BadChange {
        /// The field at fault (`resource.id`, `edge.target`, ...).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// Actions kept re-triggering templates.
    #[error("no fixpoint after {MAX_ROUNDS} rounds; templates still firing: {templates}")]
    Runaway {
        /// The templates whose rules fired in the last round.
        templates: String,
    },
    /// The graph refused a change.
    #[error(transparent)]
    Graph(#[from] GraphError),
}

fn bad(field: &str, message: impl Into<String>) -> RunError {
    RunError::BadChange { field: field.to_string(), message: message.into() }
}

/// Why an effect exists: the rule and binding that caused it (for `--explain`).
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// `do` or `undo`.
    pub mode: &'static str,
    /// Action id.
    pub action: String,
    /// The rule (`fire_s0_c0`) and its binding as `Var=vertex id`.
    pub rule: String,
}

/// The running state. The graph is read through [`Runner::graph`] and changed only through
/// [`Change`]s and template changes, so every effect passes through evaluation.
pub struct Runner {
    graph: Graph,
    /// The value tables, with the normalisations of `graph` remembered.
    values: Normaliser,
    rules: RuleSet,
    compiled: Compiled,
    inc: Incremental,
    tracker: Tracker,
    workflows: Workflows,
    action_ids: rustc_hash::FxHashSet<action::ActionId>,
    /// The shared names of the current rules' scenarios, by scenario index.
    names: Vec<ScenarioNames>,
    /// Per rule, the variables its scenario's actions target, by action.
    ends: Vec<Vec<ActionEnds>>,
    resources: index::ResourceIndex,
    alarms: BTreeMap<(String, String, String, String), VertexId>,
    /// Live `raise_alarm` instances per causal edge they ask for.
    causes: HashMap<CauseKey, u32>,
    /// Whether to record [`Explanation`]s (off by default: they cost time per action).
    pub explain: bool,
    /// What the evaluation in progress did.
    outcome: Outcome,
    /// The buffers of an evaluation round, empty between rounds and kept for the next.
    round: Round,
}

impl Runner {
    /// A runner with an empty graph for `rules`.
    pub fn new(rules: RuleSet) -> Result<Runner, RunError> {
        let mut graph = Graph::new();
        let compiled = Compiled::new(&rules, &mut graph)?;
        let inc = Incremental::new(&compiled);
        let tables =
            ValueTables::builtin().map_err(|e| bad("datasource values", format!("{e:?}")))?;
        let mut action_ids = rustc_hash::FxHashSet::default();
        let names = scenario_names(&rules, &mut action_ids);
        let ends = action_ends(&rules);
        Ok(Runner {
            graph,
            // Made with the graph: what it remembers is in the graph's symbols.
            values: Normaliser::new(tables),
            rules,
            compiled,
            inc,
            tracker: Tracker::new(),
            workflows: Workflows::default(),
            action_ids,
            names,
            ends,
            resources: index::ResourceIndex::default(),
            alarms: BTreeMap::new(),
            causes: HashMap::default(),
            explain: false,
            outcome: Outcome::default(),
            round: Round::default(),
        })
    }

    /// The entity graph.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The live vertex of a resource id.
    pub fn resource(&self, id: &str) -> Option<VertexId> {
        self.resources.get(&self.graph, id)
    }

    /// The vertex of a raised external alarm.
    pub fn external_alarm(&self, a: &Alarm) -> Option<VertexId> {
        self.alarms.get(&alarm_key(a)).copied()
    }

    /// Checks that every change of `changes` would apply, in order, to the current state;
    /// the index of the first that would not, and why. Nothing changes.
    pub fn check(&self, changes: &[Change]) -> Result<(), (usize, RunError)> {
        let resources = |id: &str| self.resource(id).is_some();
        let edge = |e: EdgeRef<'_>| {
            let (Some(source), Some(target)) = (self.resource(e.source), self.resource(e.target))
            else {
                return false;
            };
            let Some(label) = self.graph.find_label(e.relationship_type) else {
                return false;
            };
            self.graph.edge(EdgeKey { source, target, label }).is_some_and(|e| !e.is_deleted)
        };
        let alarm = |a: &Alarm| self.alarms.contains_key(&alarm_key(a));
        let mut overlay = Overlay::new(&resources, &edge, &alarm);
        let bad = |i: usize| move |(field, message)| (i, RunError::BadChange { field, message });
        let Some((last, before)) = changes.split_last() else { return Ok(()) };
        for (i, c) in before.iter().enumerate() {
            overlay.apply(c).map_err(bad(i))?;
        }
        overlay.check(last).map_err(bad(before.len()))
    }

    /// Makes room for about `resources` more resources and as many edges, for a topology about
    /// to be staged whole. Room only: what the runner holds does not change.
    pub fn reserve(&mut self, resources: usize) {
        self.graph.reserve(resources, resources);
        self.resources.reserve(resources);
    }

    /// Checks `changes` whole, then applies them to the graph without evaluating: either all
    /// apply or none does. [`Runner::evaluate`] evaluates what was staged.
    ///
    /// A list of one is applied without the check: each change refuses what the check would,
    /// with the same field and message, before it changes anything (interned strings
    /// included). That is how the initial topology is staged, element by element.
    pub fn stage(&mut self, changes: &[Change]) -> Result<(), (usize, RunError)> {
        if let [one] = changes {
            return self.change(one).map_err(|e| (0, e));
        }
        self.check(changes)?;
        for (i, c) in changes.iter().enumerate() {
            self.change(c).map_err(|e| (i, e))?;
        }
        Ok(())
    }

    /// Applies `changes` whole and evaluates them to the fixpoint.
    pub fn apply(&mut self, changes: &[Change]) -> Result<Outcome, RunError> {
        self.stage(changes).map_err(|(i, e)| match e {
            RunError::BadChange { field, message } if changes.len() > 1 => {
                RunError::BadChange { field: format!("[{i}].{field}"), message }
            }
            e => e,
        })?;
        self.evaluate()
    }

    fn change(&mut self, c: &Change) -> Result<(), RunError> {
        match c {
            Change::AddResource { resource } => self.add_resource(resource),
            Change::UpdateResource { id, state, name, properties } => {
                self.update_resource(id, state.as_deref(), name.as_deref(), properties)
            }
            Change::DeleteResource { id } => self.delete_resource(id),
            Change::AddEdge { .. } | Change::DeleteEdge { .. } => match c.edge_ref() {
                Some((e, add)) => self.edge(e, add),
                None => Ok(()),
            },
            Change::RaiseAlarm { alarm } => self.raise_alarm(alarm),
            Change::ClearAlarm { alarm } => self.clear_alarm(alarm),
        }
    }

    fn add_resource(&mut self, r: &Resource) -> Result<(), RunError> {
        if self.resource(&r.id).is_some() {
            return Err(bad("resource.id", format!("duplicate resource id {:?}", r.id)));
        }
        let mut props =
            self.resource_props(Some(&r.id), r.name.as_deref(), r.state.as_deref(), &r.properties)?;
        let vitrage_type = self.graph.intern(&r.kind)?;
        // The id is the first property, interned already.
        let entity_id = match props.first() {
            Some(&(names::ID, Value::Str(id))) => id,
            _ => self.graph.intern(&r.id)?,
        };
        let category = Category::Resource;
        let normalised =
            self.values.normalised_props(&mut self.graph, category, vitrage_type, &props)?;
        props.extend(normalised.into_iter().filter(|(_, v)| *v != Value::Null));
        let v = self.graph.add_vertex(NewVertex {
            category,
            vitrage_type,
            entity_id,
            is_placeholder: change::is_placeholder(r),
            props: Props::from_pairs(props),
        })?;
        self.resources.insert(entity_id, v);
        Ok(())
    }

    fn update_resource(
        &mut self,
        id: &str,
        state: Option<&str>,
        name: Option<&str>,
        properties: &BTreeMap<String, Json>,
    ) -> Result<(), RunError> {
        let v = self.resource(id).ok_or_else(|| bad("id", format!("unknown resource {id:?}")))?;
        let props = self.resource_props(None, name, state, properties)?;
        self.graph.update_vertex(v, Props::from_pairs(props))?;
        self.values.refresh_vertex(&mut self.graph, v)?;
        Ok(())
    }

    fn delete_resource(&mut self, id: &str) -> Result<(), RunError> {
        let v = self
            .resources
            .remove(&self.graph, id)
            .ok_or_else(|| bad("id", format!("unknown resource {id:?}")))?;
        self.graph.delete_vertex(v)?;
        Ok(())
    }

    fn edge(&mut self, e: EdgeRef<'_>, add: bool) -> Result<(), RunError> {
        let source = self
            .resource(e.source)
            .ok_or_else(|| bad("source", format!("unknown resource {:?}", e.source)))?;
        let target = self
            .resource(e.target)
            .ok_or_else(|| bad("target", format!("unknown resource {:?}", e.target)))?;
        if e.relationship_type.is_empty() {
            return Err(bad("relationship_type", "empty label"));
        }
        if add {
            let label = self.graph.label(e.relationship_type)?;
            self.graph.add_edge(EdgeKey { source, target, label })?;
            return Ok(());
        }
        // A label never seen has no edge, and is not interned for a refused delete.
        let deleted = match self.graph.find_label(e.relationship_type) {
            Some(label) => self.graph.delete_edge(EdgeKey { source, target, label }),
            None => Ok(false),
        };
        match deleted {
            Ok(true) => Ok(()),
            Ok(false) | Err(GraphError::NoSuchEdge(_)) => Err(bad(
                "relationship_type",
                format!("no edge {} -{}-> {}", e.source, e.relationship_type, e.target),
            )),
            Err(other) => Err(other.into()),
        }
    }

    /// Raises (or re-raises with a new severity) an external alarm.
    fn raise_alarm(&mut self, a: &Alarm) -> Result<(), RunError> {
        let target = self
            .resource(&a.target)
            .ok_or_else(|| bad("alarm.target", format!("unknown resource {:?}", a.target)))?;
        let key = alarm_key(a);
        let severity = match a.kind {
            crate::scenario::AlarmType::Zabbix | crate::scenario::AlarmType::Nagios => {
                a.severity().to_uppercase()
            }
            _ => a.severity().to_string(),
        };
        if let Some(k) = a.properties.keys().find(|k| is_alarm_own_property(k)) {
            return Err(bad(&format!("alarm.properties.{k}"), "reserved property name"));
        }
        let mut extra = self.resource_props(None, None, None, &a.properties)?;
        if let Some(&v) = self.alarms.get(&key) {
            extra.push((names::SEVERITY, self.graph.str_value(&severity)?));
            self.graph.update_vertex(v, Props::from_pairs(extra))?;
            self.values.refresh_vertex(&mut self.graph, v)?;
            return Ok(());
        }
        if a.kind == crate::scenario::AlarmType::Zabbix && !a.properties.contains_key("rawtext") {
            // Vitrage's zabbix driver keeps the trigger text in `rawtext` too.
            extra.push((names::RAWTEXT, self.graph.str_value(&a.name)?));
        }
        let entity_id = self.graph.intern(&format!("{}:{}:{}", key.1, key.2, key.3))?;
        let spec = action::effects::AlarmSpec {
            kind: self.graph.intern(a.kind.as_str())?,
            entity_id,
            name: self.graph.intern(&a.name)?,
            severity: self.graph.intern(&severity)?,
            target,
            extra: &extra,
        };
        let v = action::effects::add_alarm(&mut self.graph, &mut self.values, spec)?;
        self.alarms.insert(key, v);
        Ok(())
    }

    fn clear_alarm(&mut self, a: &Alarm) -> Result<(), RunError> {
        let v = self.alarms.remove(&alarm_key(a)).ok_or_else(|| {
            bad("alarm", format!("no active alarm {:?} on {:?}", a.name, a.target))
        })?;
        self.graph.delete_vertex(v)?;
        Ok(())
    }

    /// Properties a normalised vertex has besides its own: `vitrage_aggregated_*` and
    /// `vitrage_operational_*`.
    const NORMALISED: usize = 2;

    fn resource_props(
        &mut self,
        id: Option<&str>,
        name: Option<&str>,
        state: Option<&str>,
        properties: &BTreeMap<String, Json>,
    ) -> Result<Vec<(crate::graph::Sym, Value)>, RunError> {
        // Refused before anything is interned.
        if let Some(k) = properties.keys().find(|k| is_reserved_property(k)) {
            return Err(bad(&format!("properties.{k}"), "reserved property name"));
        }
        // Room for the normalised pair an added vertex gets too: its list is then built
        // without growing, and handed to `Props::from_pairs` at its exact length.
        let own = [id, name, state].iter().flatten().count();
        let mut props = Vec::with_capacity(own + properties.len() + Self::NORMALISED);
        if let Some(id) = id {
            props.push((names::ID, self.graph.str_value(id)?));
        }
        if let Some(n) = name {
            props.push((names::NAME, self.graph.str_value(n)?));
        }
        if let Some(s) = state {
            props.push((names::STATE, self.graph.str_value(s)?));
        }
        for (k, v) in properties {
            if k == change::PLACEHOLDER {
                // The vertex's own flag: only an update sets it (an add reads it itself).
                if let (None, Json::Bool(b)) = (id, v) {
                    props.push((names::VITRAGE_IS_PLACEHOLDER, Value::Bool(*b)));
                }
                continue;
            }
            let key = self.graph.intern(k)?;
            let value = match v {
                Json::Null => Value::Null,
                Json::Bool(b) => Value::Bool(*b),
                Json::Number(n) => Value::Num(self.graph.intern(&n.to_string())?),
                Json::String(s) => self.graph.str_value(s)?,
                other => self.graph.str_value(&other.to_string())?,
            };
            props.push((key, value));
        }
        Ok(props)
    }

    /// Replaces the template set at run time, as Vitrage's template add and delete do: the
    /// scenarios that are gone undo their effects (workflows already run stay run), the new
    /// ones are evaluated over the existing graph and act, and the rest carry on unchanged.
    /// Scenarios are told apart by id (`<template name>-scenario<i>`).
    pub fn replace_rules(&mut self, rules: RuleSet) -> Result<Outcome, RunError> {
        self.settle()?;
        let compiled = Compiled::new(&rules, &mut self.graph)?;
        let old_ids: BTreeSet<String> = self.rules.scenarios.iter().map(|s| s.id.clone()).collect();
        let new_ids: BTreeSet<String> = rules.scenarios.iter().map(|s| s.id.clone()).collect();
        let mut decisions = Decisions::default();
        let scenario_of = |set: &RuleSet, a: &Activation| {
            let rule = &set.rules[a.rule as usize];
            set.scenarios[rule.scenario.0 as usize].id.clone()
        };
        let removed: Vec<Activation> = self
            .inc
            .activations()
            .into_iter()
            .filter(|a| !new_ids.contains(&scenario_of(&self.rules, a)))
            .collect();
        for a in &removed {
            self.react(a, false, &mut decisions);
        }
        // A fresh evaluator sees the whole graph as just added: its initial evaluation.
        let mut everything: Vec<GraphChange> = self
            .graph
            .vertices()
            .filter(|(_, v)| !v.is_deleted())
            .map(|(id, _)| GraphChange::VertexAdded(id))
            .collect();
        let labels: Vec<Label> = self.graph.labels().collect();
        for label in labels {
            everything.extend(
                self.graph.edges_with_label(label).map(|(source, target)| {
                    GraphChange::EdgeAdded(EdgeKey { source, target, label })
                }),
            );
        }
        let mut inc = Incremental::new(&compiled);
        let delta = inc.apply(&compiled, &self.graph, &everything);
        let added: Vec<Activation> = delta
            .appeared
            .into_iter()
            .filter(|a| !old_ids.contains(&scenario_of(&rules, a)))
            .collect();
        self.names = scenario_names(&rules, &mut self.action_ids);
        self.ends = action_ends(&rules);
        self.rules = rules;
        self.compiled = compiled;
        self.inc = inc;
        for a in &added {
            self.react(a, true, &mut decisions);
        }
        self.carry_out(&mut decisions)?;
        self.evaluate()
    }

    /// Evaluates what was staged to the fixpoint; what it did, and (with the changes staged
    /// since the last evaluation) what they did.
    pub fn evaluate(&mut self) -> Result<Outcome, RunError> {
        self.settle()?;
        Ok(std::mem::take(&mut self.outcome))
    }

    /// Takes back an outcome its caller is done with, so that its lists' room serves the next
    /// evaluations. The evaluation of a freshly loaded topology touches every vertex (23 MB of
    /// lists at a million resources): freed, that memory went back to the system 10 ms later
    /// (the allocator's purge delay), inside whichever event was running then (+1.5 ms).
    pub fn recycle(&mut self, mut used: Outcome) {
        if self.outcome.is_empty() {
            used.clear();
            self.outcome = used;
        }
    }

    fn settle(&mut self) -> Result<(), RunError> {
        for _ in 0..MAX_ROUNDS {
            let changes = self.graph.take_changes();
            if changes.is_empty() {
                return Ok(());
            }
            self.outcome.record(&self.graph, &changes);
            let Round { mut delta, mut decisions } = std::mem::take(&mut self.round);
            self.inc.apply_into(&self.compiled, &self.graph, &changes, &mut delta);
            self.graph.recycle_changes(changes);
            for a in &delta.disappeared {
                self.react(a, false, &mut decisions);
            }
            for a in &delta.appeared {
                self.react(a, true, &mut decisions);
            }
            let done = self.carry_out(&mut decisions);
            self.round = Round { delta, decisions };
            done?;
            if self.graph.changes().is_empty() {
                return Ok(());
            }
        }
        let mut templates = BTreeSet::new();
        for a in self.inc.activations() {
            let rule = &self.rules.rules[a.rule as usize];
            let scenario = &self.rules.scenarios[rule.scenario.0 as usize];
            templates.insert(self.rules.templates[scenario.template.0 as usize].file.clone());
        }
        Err(RunError::Runaway { templates: templates.into_iter().collect::<Vec<_>>().join(", ") })
    }

    /// Applies a round's tracker decisions, then brings the causal edges of deduced alarms
    /// in line with the live `raise_alarm` instances; `decisions` is left empty (its list's
    /// room kept for the next round), whatever the result.
    fn carry_out(&mut self, decisions: &mut Decisions) -> Result<(), RunError> {
        let done = self.carry_out_each(decisions);
        decisions.tracker.clear();
        decisions.causes.clear();
        done
    }

    fn carry_out_each(&mut self, decisions: &Decisions) -> Result<(), RunError> {
        for d in &decisions.tracker {
            action::effects::apply(&mut self.graph, &mut self.values, d)?;
        }
        for key in &decisions.causes {
            let wanted = self.causes.contains_key(key);
            action::effects::set_cause(
                &mut self.graph,
                key.target,
                &key.name,
                key.causing,
                wanted,
            )?;
        }
        Ok(())
    }

    /// Counts a `raise_alarm` instance's causing alarm in or out.
    ///
    /// Rule: `causes(C, A)` holds for deduced alarm `A` (name N on target T) while some live
    /// activation raises N on T with `causing_alarm` bound to C. The edges are thus a function
    /// of the live activations, whatever order they arrived in and whichever of them is on
    /// top of the tracker (Vitrage draws only the edge of the activation that last acted).
    fn count_cause(
        causes: &mut HashMap<CauseKey, u32>,
        resolved: &Resolved,
        appeared: bool,
        decisions: &mut Decisions,
    ) {
        let (ResolvedKind::RaiseAlarm { name, causing: Some(causing), .. }, Some(target)) =
            (&resolved.kind, resolved.target)
        else {
            return;
        };
        let key = CauseKey { target, name: name.clone(), causing: *causing };
        if appeared {
            *causes.entry(key.clone()).or_insert(0) += 1;
        } else if let Some(count) = causes.get_mut(&key) {
            *count -= 1;
            if *count == 0 {
                causes.remove(&key);
            }
        }
        decisions.causes.insert(key);
    }

    fn react(&mut self, a: &Activation, appeared: bool, decisions: &mut Decisions) {
        let rule = &self.rules.rules[a.rule as usize];
        let scenario = &self.rules.scenarios[rule.scenario.0 as usize];
        let names = &self.names[rule.scenario.0 as usize];
        let trigger = sorted(&a.binding);
        let ends = self.ends.get(a.rule as usize).map_or(&[][..], Vec::as_slice);
        let actions = scenario.actions.iter().zip(&names.actions);
        for ((spec, id), spec_ends) in actions.zip(ends) {
            let id = id.clone();
            let bound = |var: Option<usize>| a.binding.get(var?).copied();
            let targets = (bound(spec_ends.target), bound(spec_ends.source));
            let why = || {
                let binding: Vec<String> = rule
                    .vars
                    .iter()
                    .zip(a.binding.iter())
                    .map(|(v, id)| format!("{}={}", v.name, vertex_name(&self.graph, *id)))
                    .collect();
                format!("{}({})", rule.name, binding.join(", "))
            };
            if let ActionKind::ExecuteMistral { .. } = spec.kind {
                // Once per activation when it appears; never undone, never re-sent.
                if !appeared {
                    self.workflows.disappeared(&id, &trigger);
                    continue;
                }
                let graph = &self.graph;
                let warnings = &mut self.outcome.warnings;
                let identity = || Appearing {
                    template: names.template.clone(),
                    scenario: names.scenario.clone(),
                    bound: external_ids(graph, &trigger),
                };
                let resolved = || match action::resolve(
                    id.clone(),
                    spec,
                    rule,
                    &a.binding,
                    targets,
                    graph,
                    warnings,
                ) {
                    Some(Resolved { kind: ResolvedKind::ExecuteMistral(run), .. }) => {
                        let action::WorkflowRun { workflow, input } = *run;
                        Some((workflow, input, a.binding.clone()))
                    }
                    _ => None,
                };
                if let Some(request) = self.workflows.appeared(&id, &trigger, identity, resolved) {
                    if self.explain {
                        let rule = why();
                        self.outcome.explanations.push(Explanation {
                            mode: "do",
                            action: spec.id.clone(),
                            rule,
                        });
                    }
                    self.outcome.mistral.push(request);
                }
                continue;
            }
            let made = if appeared {
                let Some(resolved) = action::resolve(
                    id,
                    spec,
                    rule,
                    &a.binding,
                    targets,
                    &self.graph,
                    &mut self.outcome.warnings,
                ) else {
                    continue;
                };
                let score = self.score(&resolved);
                Self::count_cause(&mut self.causes, &resolved, true, decisions);
                self.tracker.do_action(trigger.clone(), std::sync::Arc::new(resolved), score)
            } else {
                let instance = Instance { action: id, trigger: trigger.clone(), targets };
                let kind = action::Kind::of_spec(&spec.kind);
                let Some((resolved, made)) = self.tracker.undo_action(&instance, kind) else {
                    continue;
                };
                Self::count_cause(&mut self.causes, &resolved, false, decisions);
                made
            };
            if made.is_some() && self.explain {
                let mode = if appeared { "do" } else { "undo" };
                let rule = why();
                self.outcome.explanations.push(Explanation { mode, action: spec.id.clone(), rule });
            }
            decisions.tracker.extend(made);
        }
    }

    fn score(&self, a: &Resolved) -> u32 {
        match &a.kind {
            ResolvedKind::SetState { state } => {
                let ty = a
                    .target
                    .and_then(|t| self.graph.vertex(t))
                    .map(|v| self.graph.resolve(v.vitrage_type()))
                    .unwrap_or("");
                self.values.tables().set_state_score(ty, state)
            }
            ResolvedKind::RaiseAlarm { severity, .. } => {
                self.values.tables().raise_alarm_score(severity)
            }
            _ => 1,
        }
    }

    /// Recomputes every activation from the whole graph with the reference evaluator (the
    /// baseline the incremental evaluator is measured against); their number.
    pub fn reference_activations(&self) -> usize {
        crate::engine::reference(&self.compiled, &self.graph).len()
    }

    /// The number of current activations (incremental evaluator).
    pub fn activations(&self) -> usize {
        self.inc.activations().len()
    }

    /// The rule set.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }
}

/// A causal edge a `raise_alarm` asks for: from `causing` to the deduced alarm `name` on
/// `target`.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
struct CauseKey {
    target: VertexId,
    name: std::sync::Arc<str>,
    causing: VertexId,
}

/// An evaluation round's delta and decisions.
#[derive(Default)]
struct Round {
    delta: crate::engine::Delta,
    decisions: Decisions,
}

/// What one evaluation round decided: the tracker's decisions in order, and the causal edges
/// whose support changed.
#[derive(Default)]
struct Decisions {
    tracker: Vec<Decision>,
    causes: BTreeSet<CauseKey>,
}

fn vertex_name(graph: &Graph, v: VertexId) -> String {
    let Some(vertex) = graph.vertex(v) else { return format!("#{}", v.index()) };
    let id = vertex
        .get_str(names::ID)
        .or_else(|| vertex.get_str(names::NAME))
        .unwrap_or(vertex.entity_id());
    graph.resolve(id).to_string()
}

/// The shared id of an action, made once per id.
fn shared_id(ids: &mut rustc_hash::FxHashSet<action::ActionId>, id: &str) -> action::ActionId {
    let id = action::ActionId::new(id);
    if let Some(shared) = ids.get(&id) {
        return shared.clone();
    }
    ids.insert(id.clone());
    id
}

/// A scenario's names, shared rather than copied into every action instance and workflow
/// request: made once per rule set, so an activation copies no string and hashes none.
struct ScenarioNames {
    template: std::sync::Arc<str>,
    scenario: std::sync::Arc<str>,
    /// The ids of its actions, in order.
    actions: Vec<action::ActionId>,
}

/// The variables of a rule that one of its scenario's actions targets: found once for the
/// rules rather than by entity name for every action instance.
#[derive(Debug, Clone, Copy)]
struct ActionEnds {
    target: Option<usize>,
    source: Option<usize>,
}

fn action_ends(rules: &RuleSet) -> Vec<Vec<ActionEnds>> {
    let actions = |rule: &crate::compile::ir::Rule| {
        let var = |entity: &Option<String>| rule.var_of(entity.as_deref()?);
        let scenario = rules.scenarios.get(rule.scenario.0 as usize);
        let specs = scenario.map_or(&[][..], |s| s.actions.as_slice());
        specs
            .iter()
            .map(|a| ActionEnds { target: var(&a.target), source: var(&a.source) })
            .collect()
    };
    rules.rules.iter().map(actions).collect()
}

fn scenario_names(
    rules: &RuleSet,
    ids: &mut rustc_hash::FxHashSet<action::ActionId>,
) -> Vec<ScenarioNames> {
    let template = |s: &crate::compile::ir::ScenarioSpec| {
        rules.templates.get(s.template.0 as usize).map_or("", |t| t.name.as_str())
    };
    rules
        .scenarios
        .iter()
        .map(|s| ScenarioNames {
            template: template(s).into(),
            scenario: s.id.as_str().into(),
            actions: s.actions.iter().map(|a| shared_id(ids, &a.id)).collect(),
        })
        .collect()
}

/// An activation's vertices, sorted: the trigger of its action instances. Sorted on the
/// stack, so the only allocation is the shared slice itself.
fn sorted(binding: &[VertexId]) -> std::sync::Arc<[VertexId]> {
    let mut buf = [VertexId(0); 16];
    match buf.get_mut(..binding.len()) {
        Some(sorted) => {
            sorted.copy_from_slice(binding);
            sorted.sort_unstable();
            std::sync::Arc::from(&*sorted)
        }
        None => {
            let mut sorted = binding.to_vec();
            sorted.sort_unstable();
            sorted.into()
        }
    }
}

/// The external identities (`<vitrage_type>:<entity id>`) of `vertices`, sorted: what names
/// an activation across restarts, where slot ids may differ. The (type, id) pairs are
/// gathered on the stack; the identities are written once, into the key's one allocation.
fn external_ids(graph: &Graph, vertices: &[VertexId]) -> action::BoundIds {
    let pair = |&v: &VertexId| {
        let v = graph.vertex(v)?;
        Some((graph.resolve(v.vitrage_type()), graph.resolve(v.entity_id())))
    };
    let mut buf = [("", ""); 16];
    if vertices.len() <= buf.len() {
        let mut n = 0;
        for (slot, p) in buf.iter_mut().zip(vertices.iter().filter_map(pair)) {
            *slot = p;
            n += 1;
        }
        return action::BoundIds::of(&mut buf[..n]);
    }
    let mut pairs: Vec<(&str, &str)> = vertices.iter().filter_map(pair).collect();
    action::BoundIds::of(&mut pairs)
}

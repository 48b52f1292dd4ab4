//! Replaying a scenario: the initial topology, then every step to its fixpoint, with
//! checkpoints and timings.

use super::{RunError, Runner, Snapshot};
use crate::compile::ir::RuleSet;
use crate::scenario::{Edge, Initial, Scenario, Step};
use serde::Serialize;
use serde_json::{Value as Json, json};
use std::time::Instant;

/// What a replay produced.
#[derive(Debug)]
pub struct Replay {
    /// The final state.
    pub state: Snapshot,
    /// The states recorded at checkpoints.
    pub checkpoints: Vec<Checkpoint>,
    /// The first error, with the step it happened in; the result holds everything before it.
    pub error: Option<(Json, RunError)>,
    /// Nanoseconds of the initial evaluation.
    pub initial_eval_ns: u128,
    /// Nanoseconds of each step, from applying its change to its fixpoint.
    pub step_ns: Vec<u128>,
    /// Lines explaining every effect (`--explain`).
    pub explanations: Vec<String>,
    /// Warnings from actions (get_attr without value, ...).
    pub warnings: Vec<String>,
}

/// The state at a checkpoint step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Checkpoint {
    /// Its label.
    pub label: String,
    /// The state.
    pub state: Snapshot,
    /// The step index.
    pub step: usize,
}

/// The RESULT.json document.
#[derive(Debug, Serialize)]
pub struct ResultDoc<'a> {
    /// The final state, flattened into the document.
    #[serde(flatten)]
    pub state: &'a Snapshot,
    /// Checkpoints in order.
    pub checkpoints: &'a [Checkpoint],
    /// The templates and their status.
    pub templates: Json,
}

/// Replays `scenario` with `rules`.
pub fn replay(rules: RuleSet, scenario: &Scenario, explain: bool) -> Replay {
    let mut replay = Replay {
        state: Snapshot::default(),
        checkpoints: Vec::new(),
        error: None,
        initial_eval_ns: 0,
        step_ns: Vec::new(),
        explanations: Vec::new(),
        warnings: Vec::new(),
    };
    let mut runner = match Runner::new(rules) {
        Ok(r) => r,
        Err(e) => {
            replay.error = Some((Json::String("initial".into()), e));
            return replay;
        }
    };
    runner.explain = explain;
    let started = Instant::now();
    if let Err(e) = initial(&mut runner, scenario) {
        replay.error = Some((Json::String("initial".into()), e));
    }
    replay.initial_eval_ns = started.elapsed().as_nanos();
    if replay.error.is_none() {
        for (i, step) in scenario.steps.iter().enumerate() {
            runner.at_step(json!(i));
            let t = Instant::now();
            let outcome = apply(&mut runner, step).and_then(|()| runner.settle());
            replay.step_ns.push(t.elapsed().as_nanos());
            if let Err(e) = outcome {
                replay.error = Some((json!(i), e));
                break;
            }
            if let Step::Checkpoint { label } = step {
                replay.checkpoints.push(Checkpoint {
                    label: label.clone(),
                    state: runner.snapshot(),
                    step: i,
                });
            }
        }
    }
    replay.state = runner.snapshot();
    replay.explanations = runner
        .explanations
        .iter()
        .map(|e| format!("step {}: {} {} because {}", e.step, e.mode, e.action, e.rule))
        .collect();
    replay.warnings = runner.warnings.clone();
    replay
}

fn initial(runner: &mut Runner, scenario: &Scenario) -> Result<(), RunError> {
    let each = scenario.initial == Initial::Incremental;
    for r in &scenario.resources {
        runner.add_resource(r)?;
        if each {
            runner.settle()?;
        }
    }
    for e in &scenario.edges {
        runner.edge(e, true)?;
        if each {
            runner.settle()?;
        }
    }
    for a in &scenario.alarms {
        runner.raise_alarm(a)?;
        if each {
            runner.settle()?;
        }
    }
    runner.settle()
}

fn apply(runner: &mut Runner, step: &Step) -> Result<(), RunError> {
    match step {
        Step::AddResource { resource } => runner.add_resource(resource),
        Step::UpdateResource { id, state, name, properties } => {
            runner.update_resource(id, state.as_deref(), name.as_deref(), properties)
        }
        Step::DeleteResource { id } => runner.delete_resource(id),
        Step::AddEdge { source, target, relationship_type } => runner.edge(
            &Edge {
                source: source.clone(),
                target: target.clone(),
                relationship_type: relationship_type.clone(),
            },
            true,
        ),
        Step::DeleteEdge { source, target, relationship_type } => runner.edge(
            &Edge {
                source: source.clone(),
                target: target.clone(),
                relationship_type: relationship_type.clone(),
            },
            false,
        ),
        Step::RaiseAlarm { alarm } => runner.raise_alarm(alarm),
        Step::ClearAlarm { alarm } => runner.clear_alarm(alarm),
        Step::Checkpoint { .. } => Ok(()),
    }
}

/// The `templates` key of RESULT.json: every template file in load order (definition
/// templates, then equivalences, then standard templates, each by file name), with its
/// status and Vitrage's details (`No Validation` for a valid equivalence, as Vitrage says).
pub fn templates_report(inputs: &[crate::check::Input], checked: &crate::check::SetResult) -> Json {
    use crate::template::TemplateType;
    let mut items: Vec<(u8, String, Json)> = inputs
        .iter()
        .zip(&checked.files)
        .map(|(input, f)| {
            let name = crate::template::load(&input.file, &input.bytes)
                .ok()
                .and_then(|d| d.get("metadata").and_then(|m| m.get("name")).map(|n| n.py_str()))
                .unwrap_or_default();
            let file = std::path::Path::new(&input.file)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let order = match f.template_type {
                Some(TemplateType::Definition) => 0,
                Some(TemplateType::Equivalence) => 1,
                _ => 2,
            };
            let (status, details) = match (&f.error, f.template_type) {
                (None, Some(TemplateType::Equivalence)) => ("ACTIVE", "No Validation".to_string()),
                (None, _) => ("ACTIVE", "Template validation is OK".to_string()),
                (Some(d), _) => ("ERROR", d.message.clone()),
            };
            let ty = f.template_type.map_or(Json::Null, |t| serde_json::to_value(t).unwrap_or_default());
            let item = json!({"details": details, "file": file.clone(), "name": name, "status": status, "type": ty});
            (order, file, item)
        })
        .collect();
    items.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    Json::Array(items.into_iter().map(|(_, _, item)| item).collect())
}

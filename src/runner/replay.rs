//! Replaying a scenario: the initial topology, then every step to its fixpoint, with
//! checkpoints and timings.

use super::{Call, Outcome, RunError, Runner, Snapshot};
use crate::compile::ir::RuleSet;
use crate::scenario::{Initial, Scenario, Step};
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
    replay_keeping(rules, scenario, explain).0
}

/// [`replay`], keeping the runner in its final state for questions about it (`--why-not`).
pub fn replay_keeping(
    rules: RuleSet,
    scenario: &Scenario,
    explain: bool,
) -> (Replay, Option<Runner>) {
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
            return (replay, None);
        }
    };
    runner.explain = explain;
    let mut calls = Vec::new();
    let started = Instant::now();
    let outcomes = initial(&mut runner, scenario);
    replay.initial_eval_ns = started.elapsed().as_nanos();
    match outcomes {
        Ok(outcomes) => {
            for o in outcomes {
                record(&mut replay, &mut calls, &json!("initial"), o);
            }
        }
        Err(e) => replay.error = Some((Json::String("initial".into()), e)),
    }
    if replay.error.is_none() {
        for (i, step) in scenario.steps.iter().enumerate() {
            let t = Instant::now();
            let outcome = match step {
                Step::Change(c) => runner.apply(std::slice::from_ref(c)),
                Step::Checkpoint { .. } => Ok(Outcome::default()),
            };
            replay.step_ns.push(t.elapsed().as_nanos());
            match outcome {
                Ok(o) => record(&mut replay, &mut calls, &json!(i), o),
                Err(e) => {
                    replay.error = Some((json!(i), e));
                    break;
                }
            }
            if let Step::Checkpoint { label } = step {
                let mut state = runner.snapshot();
                state.mistral_calls = calls.clone();
                replay.checkpoints.push(Checkpoint { label: label.clone(), state, step: i });
            }
        }
    }
    replay.state = runner.snapshot();
    replay.state.mistral_calls = calls;
    (replay, Some(runner))
}

/// Keeps what the result shows of one outcome: workflow calls, explanations, warnings.
fn record(replay: &mut Replay, calls: &mut Vec<Call>, step: &Json, o: Outcome) {
    for e in o.explanations {
        replay
            .explanations
            .push(format!("step {step}: {} {} because {}", e.mode, e.action, e.rule));
    }
    replay.warnings.extend(o.warnings);
    for m in o.mistral {
        calls.push(Call { input: m.input, step: step.clone(), workflow: m.workflow });
    }
}

/// The initial topology, evaluated once or after every element; the outcomes in order.
fn initial(runner: &mut Runner, scenario: &Scenario) -> Result<Vec<Outcome>, RunError> {
    let each = scenario.initial == Initial::Incremental;
    let changes = scenario.initial_changes();
    let mut outcomes = Vec::new();
    for c in changes {
        runner.stage(std::slice::from_ref(&c)).map_err(|(_, e)| e)?;
        if each {
            outcomes.push(runner.evaluate()?);
        }
    }
    outcomes.push(runner.evaluate()?);
    Ok(outcomes)
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

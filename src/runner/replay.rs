//! Replaying a scenario: the initial topology, then every step to its fixpoint, with
//! checkpoints and timings.

use super::{Call, Outcome, RunError, Runner, Snapshot};
use crate::compile::ir::RuleSet;
use crate::scenario::{Initial, Scenario, ScenarioError, Step, Streamed};
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
    /// Nanoseconds reading a streamed scenario and staging its initial topology, outside the
    /// initial evaluation ([`replay_stream`]; 0 for a scenario parsed beforehand).
    pub load_ns: u128,
    /// Nanoseconds evaluating the initial topology: the evaluation that ends it, and in
    /// `incremental` mode those after each element.
    pub initial_eval_ns: u128,
    /// Of those, the evaluation that ends the initial topology (all of it, in `startup`
    /// mode).
    pub first_eval_ns: u128,
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
    let mut r = Replayer::new(rules, explain);
    r.initial(Streamed::Initial(scenario.initial));
    for c in scenario.initial_changes() {
        r.initial(Streamed::Change(&c));
    }
    r.steps(&scenario.steps);
    r.finish(Runner::snapshot)
}

/// Replays the scenario `reader` holds, read as a stream ([`crate::scenario::stream`]): the
/// topology is staged as it is read and only the steps are held. The state kept is
/// [`Runner::summary`], without the resources and edges, which [`super::write_result`]
/// writes from the runner. A scenario that does not parse is an error, as with
/// [`crate::scenario::parse`].
pub fn replay_stream<R: std::io::Read>(
    rules: RuleSet,
    reader: R,
    explain: bool,
) -> Result<(Replay, Option<Runner>), ScenarioError> {
    replay_read(rules, explain, 0, |each| crate::scenario::stream(reader, each))
}

/// [`replay_stream`] of a scenario's text already in memory.
pub fn replay_text(
    rules: RuleSet,
    text: &[u8],
    explain: bool,
) -> Result<(Replay, Option<Runner>), ScenarioError> {
    let room = text.len() / TEXT_BYTES_PER_RESOURCE;
    replay_read(rules, explain, room, |each| crate::scenario::stream_slice(text, each))
}

/// The bytes of scenario text [`replay_text`] reserves one resource for. A resource with its
/// edge and a few properties takes about this much (~165 in the 10k cloud of `gen_scale.py`),
/// so a plain topology fills what is reserved and one with large properties leaves room.
const TEXT_BYTES_PER_RESOURCE: usize = 160;

/// Replays what `read` hands on, with room made for `room` resources.
fn replay_read(
    rules: RuleSet,
    explain: bool,
    room: usize,
    read: impl FnOnce(&mut dyn FnMut(Streamed)) -> Result<Vec<Step>, ScenarioError>,
) -> Result<(Replay, Option<Runner>), ScenarioError> {
    let started = Instant::now();
    let mut r = Replayer::new(rules, explain);
    if let Some(runner) = r.runner.as_mut() {
        runner.reserve(room);
    }
    let steps = read(&mut |s| r.initial(s))?;
    r.finish_initial();
    r.replay.load_ns = started.elapsed().as_nanos().saturating_sub(r.replay.initial_eval_ns);
    r.steps(&steps);
    Ok(r.finish(Runner::summary))
}

/// A replay in progress: the runner, what the result shows so far and the first error.
struct Replayer {
    replay: Replay,
    runner: Option<Runner>,
    calls: Vec<Call>,
    /// Evaluate after every initial element (`"initial": "incremental"`).
    each: bool,
    /// Outcomes of the initial topology, kept only if all of it applies.
    pending: Vec<Outcome>,
    initial_done: bool,
}

impl Replayer {
    fn new(rules: RuleSet, explain: bool) -> Replayer {
        let mut replay = Replay {
            state: Snapshot::default(),
            checkpoints: Vec::new(),
            error: None,
            load_ns: 0,
            initial_eval_ns: 0,
            first_eval_ns: 0,
            step_ns: Vec::new(),
            explanations: Vec::new(),
            warnings: Vec::new(),
        };
        let runner = match Runner::new(rules) {
            Ok(mut r) => {
                r.explain = explain;
                Some(r)
            }
            Err(e) => {
                replay.error = Some((Json::String("initial".into()), e));
                None
            }
        };
        let (calls, pending) = (Vec::new(), Vec::new());
        Replayer { replay, runner, calls, each: false, pending, initial_done: false }
    }

    /// The live runner, while nothing has failed.
    fn running(&mut self) -> Option<&mut Runner> {
        self.runner.as_mut().filter(|_| self.replay.error.is_none())
    }

    /// One part of the initial topology: staged, and evaluated when the mode says so.
    fn initial(&mut self, s: Streamed<'_>) {
        let c = match s {
            Streamed::Initial(mode) => {
                self.each = mode == Initial::Incremental;
                return;
            }
            Streamed::Change(c) => c,
        };
        let each = self.each;
        let Some(runner) = self.running() else { return };
        // Staging counts as loading, and is not timed on its own: two clock reads per element
        // cost a tenth of staging it.
        let staged = runner.stage(std::slice::from_ref(c)).map_err(|(_, e)| e);
        let t = each.then(Instant::now);
        let outcome =
            staged.and_then(|()| if each { runner.evaluate().map(Some) } else { Ok(None) });
        self.replay.initial_eval_ns += t.map_or(0, |t| t.elapsed().as_nanos());
        match outcome {
            Ok(o) => self.pending.extend(o),
            Err(e) => self.replay.error = Some((Json::String("initial".into()), e)),
        }
    }

    /// The evaluation that ends the initial topology; its outcomes go to the result if all
    /// of it applied.
    fn finish_initial(&mut self) {
        if std::mem::replace(&mut self.initial_done, true) {
            return;
        }
        let Some(runner) = self.running() else { return };
        let t = Instant::now();
        let outcome = runner.evaluate();
        self.replay.first_eval_ns = t.elapsed().as_nanos();
        self.replay.initial_eval_ns += self.replay.first_eval_ns;
        match outcome {
            Ok(o) => {
                self.pending.push(o);
                for mut o in std::mem::take(&mut self.pending) {
                    record(&mut self.replay, &mut self.calls, &json!("initial"), &mut o);
                    if let Some(runner) = self.runner.as_mut() {
                        runner.recycle(o);
                    }
                }
            }
            Err(e) => self.replay.error = Some((Json::String("initial".into()), e)),
        }
    }

    fn steps(&mut self, steps: &[Step]) {
        self.finish_initial();
        if self.running().is_none() {
            return;
        }
        let (replay, calls) = (&mut self.replay, &mut self.calls);
        let Some(runner) = self.runner.as_mut() else { return };
        for (i, step) in steps.iter().enumerate() {
            let t = Instant::now();
            let outcome = match step {
                Step::Change(c) => runner.apply(std::slice::from_ref(c)),
                Step::Checkpoint { .. } => Ok(Outcome::default()),
            };
            replay.step_ns.push(t.elapsed().as_nanos());
            match outcome {
                Ok(mut o) => {
                    record(replay, calls, &json!(i), &mut o);
                    runner.recycle(o);
                }
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

    /// The replay with its final state as `state` gives it, and the runner.
    fn finish(mut self, state: fn(&Runner) -> Snapshot) -> (Replay, Option<Runner>) {
        self.finish_initial();
        self.replay.state = self.runner.as_ref().map(state).unwrap_or_default();
        self.replay.state.mistral_calls = self.calls;
        (self.replay, self.runner)
    }
}

/// Keeps what the result shows of one outcome: workflow calls, explanations, warnings.
fn record(replay: &mut Replay, calls: &mut Vec<Call>, step: &Json, o: &mut Outcome) {
    for e in o.explanations.drain(..) {
        replay
            .explanations
            .push(format!("step {step}: {} {} because {}", e.mode, e.action, e.rule));
    }
    replay.warnings.append(&mut o.warnings);
    for m in o.mistral.drain(..) {
        calls.push(Call { input: m.input, step: step.clone(), workflow: m.workflow });
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

//! `causeway test`: rule-set tests, like `promtool test rules`, for Vitrage templates.
//!
//! A test file names a template set and a topology, then lists tests: steps of the scenario
//! format, with `expect` blocks between them. Each test starts from the topology evaluated as a
//! freshly started service does, and runs through the same [`Runner`] as `causeway run` and the
//! service, so what a test shows is what production does.
//!
//! ```yaml
//! templates: ..                       # directory, relative to this file
//! topology: ../../tests/fixtures/nic_failure.json   # scenario JSON or static YAML, or inline
//! tests:
//!   - name: a NIC failure takes the host down and migrates its instances
//!     snapshot: true                  # compare the whole final state with a stored snapshot
//!     steps:
//!       - {op: raise_alarm, alarm: {type: zabbix, name: nic failure, target: host-1}}
//!       - expect:
//!           alarms: [{name: host nic failure, target: host-1, severity: CRITICAL}]
//!           absent: [{name: instance unreachable, target: vm-3}]
//!           states: {host-1: ERROR}
//!           marked_down: [host-1]
//!           causes: [{causing: [nic failure, host-1], caused: [host nic failure, host-1]}]
//!           mistral: [{workflow: migrate_instance, input: {instance_id: vm-1}}]
//! ```
//!
//! Unlisted alarms, states and calls are ignored, unless the block says `exact: true`: then the
//! kinds it lists must match exactly.

use super::files;
use crate::compile::ir::RuleSet;
use crate::runner::{Call, Change, Runner, Snapshot};
use serde::Deserialize;
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A test file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    /// The templates directory, relative to the test file.
    pub templates: PathBuf,
    /// Directories of definition templates.
    #[serde(default)]
    pub def_templates: Vec<PathBuf>,
    /// Template parameters.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// The initial topology.
    #[serde(default)]
    pub topology: Option<Topology>,
    /// The tests.
    pub tests: Vec<Test>,
}

/// A topology file, or the scenario format's `resources`, `edges` and `alarms` inline.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Topology {
    /// A file relative to the test file.
    File(PathBuf),
    /// Inline.
    Inline {
        /// Resources.
        #[serde(default)]
        resources: Vec<crate::scenario::Resource>,
        /// Edges.
        #[serde(default)]
        edges: Vec<crate::scenario::Edge>,
        /// External alarms.
        #[serde(default)]
        alarms: Vec<crate::scenario::Alarm>,
    },
}

/// One test.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Test {
    /// What it shows.
    pub name: String,
    /// Compare the final state with the stored snapshot.
    #[serde(default)]
    pub snapshot: bool,
    /// Changes and expectations, in order.
    pub steps: Vec<TestStep>,
}

/// A change, or what must hold at that point.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum TestStep {
    /// Expectations.
    Expect {
        /// What must hold.
        expect: Expect,
    },
    /// A change (a step of the scenario format).
    Change(Change),
}

/// What must hold after the steps so far.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Alarms that must be live (deduced or external).
    #[serde(default)]
    pub alarms: Vec<AlarmExpect>,
    /// Alarms that must not be live.
    #[serde(default)]
    pub absent: Vec<AlarmExpect>,
    /// Aggregated state per resource id.
    #[serde(default)]
    pub states: BTreeMap<String, String>,
    /// Resources marked down.
    #[serde(default)]
    pub marked_down: Vec<String>,
    /// Causal edges.
    #[serde(default)]
    pub causes: Vec<CauseExpect>,
    /// Mistral calls made so far (workflow and input).
    #[serde(default)]
    pub mistral: Vec<CallExpect>,
    /// The kinds listed here must match exactly (nothing unlisted).
    #[serde(default)]
    pub exact: bool,
}

/// An alarm by name and resource id, with an optional severity (as raised).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmExpect {
    /// Alarm name.
    pub name: String,
    /// Id of the resource it is on.
    pub target: String,
    /// Severity.
    #[serde(default)]
    pub severity: Option<String>,
}

/// A causal edge between two alarms named by (alarm name, resource id).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CauseExpect {
    /// The cause.
    pub causing: (String, String),
    /// The effect.
    pub caused: (String, String),
}

/// A Mistral call.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallExpect {
    /// Workflow.
    pub workflow: String,
    /// Input (only the keys listed are compared).
    #[serde(default)]
    pub input: serde_json::Map<String, Json>,
}

/// How one test went.
#[derive(Debug, Clone, PartialEq)]
pub struct TestResult {
    /// `file: name`.
    pub name: String,
    /// What did not hold, as lines of text; empty when it passed.
    pub failures: Vec<String>,
    /// Why each effect happened, for a failure's report.
    pub provenance: Vec<String>,
}

/// What `--update` does with snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Snapshots {
    /// Compare; a missing or different snapshot fails and is written as a pending `.new` file.
    Check,
    /// Write (or rewrite) every snapshot, accepting pending ones.
    Update,
}

/// Runs every test of the file at `path`.
pub fn run_file(path: &Path, snapshots: Snapshots) -> Result<Vec<TestResult>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file: TestFile =
        serde_saphyr::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let rules = files::rules(
        &base.join(&file.templates),
        &file.def_templates.iter().map(|d| base.join(d)).collect::<Vec<_>>(),
        &file.params,
    )?;
    let topology = match &file.topology {
        None => Vec::new(),
        Some(Topology::File(f)) => files::topology(&base.join(f))?,
        Some(Topology::Inline { resources, edges, alarms }) => crate::scenario::Scenario {
            initial: crate::scenario::Initial::Startup,
            resources: resources.clone(),
            edges: edges.clone(),
            alarms: alarms.clone(),
            steps: Vec::new(),
        }
        .initial_changes(),
    };
    let display = path.display().to_string();
    file.tests.iter().map(|t| run_test(&display, path, t, &rules, &topology, snapshots)).collect()
}

fn run_test(
    file: &str,
    path: &Path,
    test: &Test,
    rules: &RuleSet,
    topology: &[Change],
    snapshots: Snapshots,
) -> Result<TestResult, String> {
    let mut result = TestResult {
        name: format!("{file}: {}", test.name),
        failures: Vec::new(),
        provenance: Vec::new(),
    };
    let mut runner = Runner::new(rules.clone()).map_err(|e| e.to_string())?;
    runner.explain = true;
    let mut calls: Vec<Call> = Vec::new();
    let record =
        |step: &Json, o: crate::runner::Outcome, result: &mut TestResult, calls: &mut Vec<Call>| {
            for e in o.explanations {
                result
                    .provenance
                    .push(format!("step {step}: {} {} because {}", e.mode, e.action, e.rule));
            }
            for m in o.mistral {
                calls.push(Call { input: m.input, step: step.clone(), workflow: m.workflow });
            }
        };
    match runner.apply(topology) {
        Ok(o) => record(&json!("initial"), o, &mut result, &mut calls),
        Err(e) => result.failures.push(format!("the topology does not load: {e}")),
    }
    for (i, step) in test.steps.iter().enumerate() {
        match step {
            TestStep::Change(c) => match runner.apply(std::slice::from_ref(c)) {
                Ok(o) => record(&json!(i), o, &mut result, &mut calls),
                Err(e) => result.failures.push(format!("step {i}: {e}")),
            },
            TestStep::Expect { expect } => {
                let mut state = runner.snapshot();
                state.mistral_calls = calls.clone();
                for f in check(expect, &state) {
                    result.failures.push(format!("step {i}: {f}"));
                }
            }
        }
    }
    if test.snapshot {
        let mut state = runner.snapshot();
        state.mistral_calls = calls.clone();
        if let Some(f) = compare_snapshot(path, &test.name, &state, snapshots)? {
            result.failures.push(f);
        }
    }
    Ok(result)
}

/// What does not hold of `expect` in `state`, one line each.
pub fn check(expect: &Expect, state: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    let live: Vec<AlarmExpect> = state
        .deduced_alarms
        .iter()
        .map(|a| (&a.name, &a.target, &a.severity))
        .chain(state.external_alarms.iter().map(|a| (&a.name, &a.target, &a.severity)))
        .map(|(n, t, s)| AlarmExpect { name: text(n), target: text(t), severity: Some(text(s)) })
        .collect();
    let shown = |a: &AlarmExpect| match &a.severity {
        Some(s) => format!("{:?} on {} ({s})", a.name, a.target),
        None => format!("{:?} on {}", a.name, a.target),
    };
    for want in &expect.alarms {
        let same = |a: &&AlarmExpect| a.name == want.name && a.target == want.target;
        match live.iter().find(same) {
            None => out.push(format!("expected alarm {}, got none", shown(want))),
            Some(got) if want.severity.is_some() && got.severity != want.severity => {
                out.push(format!("expected alarm {}, got {}", shown(want), shown(got)))
            }
            Some(_) => {}
        }
    }
    for gone in &expect.absent {
        if let Some(got) = live.iter().find(|a| a.name == gone.name && a.target == gone.target) {
            out.push(format!(
                "expected no alarm {:?} on {}, got {}",
                gone.name,
                gone.target,
                shown(got)
            ));
        }
    }
    if expect.exact && !expect.alarms.is_empty() {
        for got in &live {
            if !expect.alarms.iter().any(|w| w.name == got.name && w.target == got.target) {
                out.push(format!("unexpected alarm {}", shown(got)));
            }
        }
    }
    for (id, want) in &expect.states {
        match state.resources.iter().find(|r| r.id == *id) {
            None => out
                .push(format!("expected {id} in state {want}, but there is no live resource {id}")),
            Some(r) if !text(&r.aggregated_state).eq_ignore_ascii_case(want) => out.push(format!(
                "expected {id} in state {want}, got {} (set by templates: {})",
                text(&r.aggregated_state),
                r.vitrage_state.as_str().unwrap_or("none")
            )),
            Some(_) => {}
        }
    }
    let down: Vec<String> = state.marked_down.iter().map(text).collect();
    for id in &expect.marked_down {
        if !down.contains(id) {
            out.push(format!("expected {id} marked down, it is not"));
        }
    }
    if expect.exact && !expect.marked_down.is_empty() {
        for id in down.iter().filter(|d| !expect.marked_down.contains(d)) {
            out.push(format!("unexpected: {id} marked down"));
        }
    }
    let causes: Vec<((String, String), (String, String))> = state
        .causal_edges
        .iter()
        .map(|c| ((text(&c.causing.0), text(&c.causing.1)), (text(&c.caused.0), text(&c.caused.1))))
        .collect();
    for want in &expect.causes {
        if !causes.contains(&(want.causing.clone(), want.caused.clone())) {
            out.push(format!(
                "expected {:?} on {} to cause {:?} on {}, it does not",
                want.causing.0, want.causing.1, want.caused.0, want.caused.1
            ));
        }
    }
    for want in &expect.mistral {
        let matches = |c: &&Call| {
            c.workflow == want.workflow && want.input.iter().all(|(k, v)| c.input.get(k) == Some(v))
        };
        if !state.mistral_calls.iter().any(|c| matches(&c)) {
            out.push(format!(
                "expected a {} call with input {}, got none",
                want.workflow,
                Json::Object(want.input.clone())
            ));
        }
    }
    if expect.exact
        && !expect.mistral.is_empty()
        && state.mistral_calls.len() != expect.mistral.len()
    {
        out.push(format!(
            "expected {} Mistral calls, got {}",
            expect.mistral.len(),
            state.mistral_calls.len()
        ));
    }
    out
}

fn text(v: &Json) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

/// Where the snapshot of test `name` of the file at `path` is kept.
pub fn snapshot_path(path: &Path, name: &str) -> PathBuf {
    let slug: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
        .collect();
    let stem = path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!("{stem}.snapshots")).join(format!("{slug}.json"))
}

fn compare_snapshot(
    path: &Path,
    name: &str,
    state: &Snapshot,
    mode: Snapshots,
) -> Result<Option<String>, String> {
    let file = snapshot_path(path, name);
    let got = serde_json::to_string_pretty(state).map_err(|e| e.to_string())? + "\n";
    let write = |to: &Path| -> Result<(), String> {
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::write(to, &got).map_err(|e| format!("{}: {e}", to.display()))
    };
    let pending = file.with_extension("json.new");
    if mode == Snapshots::Update {
        write(&file)?;
        let _ = std::fs::remove_file(&pending);
        return Ok(None);
    }
    match std::fs::read_to_string(&file) {
        Ok(stored) if stored == got => {
            let _ = std::fs::remove_file(&pending);
            Ok(None)
        }
        Ok(stored) => {
            write(&pending)?;
            Ok(Some(format!(
                "the state differs from the snapshot {}:\n{}(the new state is in {}; `causeway test --update` accepts it)",
                file.display(),
                line_diff(&stored, &got),
                pending.display()
            )))
        }
        Err(_) => {
            write(&pending)?;
            Ok(Some(format!(
                "no snapshot {} yet: the state is in {}; `causeway test --update` accepts it",
                file.display(),
                pending.display()
            )))
        }
    }
}

/// The lines only in `a` (`-`) and only in `b` (`+`), in order.
fn line_diff(a: &str, b: &str) -> String {
    let (left, right): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let mut out = String::new();
    for l in left.iter().filter(|l| !right.contains(l)) {
        out.push_str(&format!("  - {}\n", l.trim()));
    }
    for r in right.iter().filter(|r| !left.contains(r)) {
        out.push_str(&format!("  + {}\n", r.trim()));
    }
    out
}

//! `causeway diff`: the same events through two template sets, and every effect that differs.
//!
//! Both sets replay the scenario step by step through their own [`Runner`]. After each step the
//! two states are compared as sets of facts (alarms with severities, resource states, marked
//! down, causal edges) and the Mistral calls of that step; a fact is reported at the step where
//! it starts or stops differing, with the rules that acted on that side in that step.

use crate::compile::ir::RuleSet;
use crate::runner::{Change, Outcome, Runner, Snapshot};
use crate::scenario::{Scenario, Step};
use serde::Serialize;
use serde_json::{Value as Json, json};
use std::collections::BTreeSet;

/// One effect that differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    /// The step (`"initial"` or its index).
    pub step: Json,
    /// `before` or `after`: the set that has it.
    pub only_in: &'static str,
    /// The effect (`alarm "host nic failure" on host-1 (CRITICAL)`).
    pub what: String,
    /// Why it happened on that side: the rules and bindings that acted in that step.
    pub why: Vec<String>,
}

fn facts(s: &Snapshot) -> BTreeSet<String> {
    let text = |v: &Json| v.as_str().map_or_else(|| v.to_string(), str::to_string);
    let mut out = BTreeSet::new();
    for a in &s.deduced_alarms {
        out.insert(format!(
            "alarm {:?} on {} ({})",
            text(&a.name),
            text(&a.target),
            text(&a.severity)
        ));
    }
    for r in &s.resources {
        if !r.vitrage_state.is_null() {
            out.insert(format!("state of {} set to {}", text(&r.id), text(&r.vitrage_state)));
        }
    }
    for id in &s.marked_down {
        out.insert(format!("{} marked down", text(id)));
    }
    for c in &s.causal_edges {
        out.insert(format!(
            "{:?} on {} causes {:?} on {}",
            text(&c.causing.0),
            text(&c.causing.1),
            text(&c.caused.0),
            text(&c.caused.1)
        ));
    }
    out
}

fn calls(o: &Outcome) -> BTreeSet<String> {
    o.mistral
        .iter()
        .map(|m| format!("Mistral {} with {}", m.workflow, Json::Object(m.input.clone())))
        .collect()
}

fn why(o: &Outcome) -> Vec<String> {
    o.explanations.iter().map(|e| format!("{} {} because {}", e.mode, e.action, e.rule)).collect()
}

struct Side {
    runner: Runner,
    outcome: Outcome,
}

impl Side {
    fn new(rules: RuleSet) -> Result<Side, String> {
        let mut runner = Runner::new(rules).map_err(|e| e.to_string())?;
        runner.explain = true;
        Ok(Side { runner, outcome: Outcome::default() })
    }

    fn apply(&mut self, changes: &[Change], step: &Json) -> Result<(), String> {
        self.outcome = self.runner.apply(changes).map_err(|e| format!("step {step}: {e}"))?;
        Ok(())
    }
}

/// Replays `scenario` through `before` and `after`; what differs, in step order.
pub fn diff(
    before: RuleSet,
    after: RuleSet,
    scenario: &Scenario,
) -> Result<Vec<Difference>, String> {
    let mut sides = [Side::new(before)?, Side::new(after)?];
    let initial = scenario.initial_changes();
    let mut out = Vec::new();
    let mut differing: [BTreeSet<String>; 2] = Default::default();
    let steps = std::iter::once((json!("initial"), Some(initial))).chain(
        scenario.steps.iter().enumerate().map(|(i, s)| match s {
            Step::Change(c) => (json!(i), Some(vec![c.clone()])),
            Step::Checkpoint { .. } => (json!(i), None),
        }),
    );
    for (step, changes) in steps {
        let Some(changes) = changes else { continue };
        for side in &mut sides {
            side.apply(&changes, &step)?;
        }
        let state = [facts(&sides[0].runner.snapshot()), facts(&sides[1].runner.snapshot())];
        for (k, name) in [(0, "before"), (1, "after")] {
            let other = 1 - k;
            let only: BTreeSet<String> = state[k].difference(&state[other]).cloned().collect();
            for what in only.difference(&differing[k]) {
                out.push(Difference {
                    step: step.clone(),
                    only_in: name,
                    what: what.clone(),
                    why: why(&sides[k].outcome),
                });
            }
            differing[k] = only;
            let made = [calls(&sides[0].outcome), calls(&sides[1].outcome)];
            for what in made[k].difference(&made[other]) {
                out.push(Difference {
                    step: step.clone(),
                    only_in: name,
                    what: what.clone(),
                    why: why(&sides[k].outcome),
                });
            }
        }
    }
    Ok(out)
}

/// The differences as text, one block per difference.
pub fn render(differences: &[Difference]) -> String {
    let mut out = String::new();
    for d in differences {
        out.push_str(&format!("step {}: only {}: {}\n", d.step, d.only_in, d.what));
        for w in &d.why {
            out.push_str(&format!("    {w}\n"));
        }
    }
    out
}

/// The service's event log as a scenario: every logged change a step, in log order (the
/// service evaluated some of them together in one batch; here each is its own step).
pub fn scenario_from_log(data_dir: &std::path::Path) -> Result<Json, String> {
    let reader = crate::store::Reader::open(data_dir).map_err(|e| e.to_string())?;
    let mut steps = Vec::new();
    let mut after = crate::store::Seq(0);
    loop {
        let entries = reader.entries_after(after, 4096).map_err(|e| e.to_string())?;
        let Some(last) = entries.last() else { break };
        after = last.seq;
        for e in entries.iter().filter(|e| e.kind == "changes") {
            steps.extend(e.body["changes"].as_array().into_iter().flatten().cloned());
        }
    }
    Ok(json!({"resources": [], "edges": [], "alarms": [], "steps": steps}))
}

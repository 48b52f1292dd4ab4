//! Helpers shared by behaviour tests that write their templates inline.
#![allow(dead_code)] // each test crate uses a part of it

pub mod cli;
pub mod service;

use causeway::check::{Input, Options, check_set};
use causeway::compile::ir::RuleSet;
use causeway::runner::replay;
use serde_json::Value;

pub mod generators;

/// The rules of inline templates `(file name, text)`; every one must be valid.
pub fn rules(templates: &[(&str, &str)]) -> RuleSet {
    let inputs: Vec<Input> = templates
        .iter()
        .map(|(file, text)| Input { file: file.to_string(), bytes: text.as_bytes().to_vec() })
        .collect();
    let checked = check_set(&inputs, &Options::default());
    for f in &checked.files {
        assert!(f.error.is_none(), "{}: {:?}", f.file, f.error);
    }
    checked.compiled.rules
}

/// Replays `scenario` (the `causeway run` format) to its end, which must be reached without
/// error; the RESULT document.
pub fn run(templates: &[(&str, &str)], scenario: Value) -> Value {
    run_rules(rules(templates), scenario)
}

/// [`run`] with rules compiled already.
pub fn run_rules(rules: RuleSet, scenario: Value) -> Value {
    let scenario = causeway::scenario::parse(&scenario.to_string()).expect("scenario");
    let r = replay(rules, &scenario, true);
    assert!(r.error.is_none(), "{:?}", r.error);
    let doc = causeway::runner::ResultDoc {
        state: &r.state,
        checkpoints: &r.checkpoints,
        templates: Value::Null,
    };
    serde_json::to_value(&doc).expect("json")
}

/// The state recorded at checkpoint `label`.
pub fn checkpoint<'a>(result: &'a Value, label: &str) -> &'a Value {
    result["checkpoints"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["label"] == label))
        .map(|c| &c["state"])
        .unwrap_or_else(|| panic!("no checkpoint {label}"))
}

/// The live resource `id` of a state.
pub fn resource<'a>(state: &'a Value, id: &str) -> &'a Value {
    state["resources"].as_array().and_then(|r| r.iter().find(|r| r["id"] == id)).expect("resource")
}

/// The deduced alarms of a state as (name, target, severity).
pub fn deduced(state: &Value) -> Vec<(String, String, String)> {
    let text = |v: &Value| v.as_str().unwrap_or("").to_string();
    state["deduced_alarms"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| (text(&a["name"]), text(&a["target"]), text(&a["severity"])))
        .collect()
}

/// The causal edges of a state as (causing alarm name, caused alarm name).
pub fn causes(state: &Value) -> Vec<(String, String)> {
    let text = |v: &Value| v.as_str().unwrap_or("").to_string();
    state["causal_edges"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| (text(&c["causing"][0]), text(&c["caused"][0])))
        .collect()
}

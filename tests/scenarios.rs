//! Scenario fixtures with results from Vitrage 15.0.1's real evaluator
//! (`tests/fixtures/scenarios/<case>/`, see the README there): `causeway run` must produce
//! `expected.causeway.json` where Vitrage's bugs make causeway differ on purpose, else
//! `expected.json`, key for key (the oracle's own bookkeeping keys aside).

use causeway::runner::{ResultDoc, replay, templates_report};
use serde_json::Value;
use std::path::{Path, PathBuf};

#[path = "common/template_dir.rs"]
mod template_dir;

const ORACLE_ONLY: &[&str] =
    &["template_actions", "errors", "vitrage_errors", "oracle", "description"];

fn cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scenarios");
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.join("scenario.json").exists())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn run(case: &Path) -> Value {
    let (inputs, checked) = template_dir::load(&case.join("templates"));
    let text = std::fs::read_to_string(case.join("scenario.json")).expect("scenario");
    let scenario = causeway::scenario::parse(&text).expect("scenario parses");
    let r = replay(checked.compiled.rules.clone(), &scenario, false);
    let doc = ResultDoc {
        state: &r.state,
        checkpoints: &r.checkpoints,
        templates: templates_report(&inputs, &checked),
    };
    serde_json::to_value(&doc).expect("json")
}

fn differences(ours: &Value, theirs: &Value, path: &str, out: &mut Vec<String>) {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            for key in a.keys().chain(b.keys()).collect::<std::collections::BTreeSet<_>>() {
                if path.is_empty() && ORACLE_ONLY.contains(&key.as_str()) {
                    continue;
                }
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => differences(x, y, &format!("{path}.{key}"), out),
                    (None, _) => out.push(format!("{path}.{key}: missing")),
                    (_, None) => out.push(format!("{path}.{key}: not expected")),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                differences(x, y, &format!("{path}[{i}]"), out);
            }
        }
        _ if ours != theirs => out.push(format!("{path}: causeway {ours} | expected {theirs}")),
        _ => {}
    }
}

#[test]
fn every_scenario_fixture_gives_the_expected_result() {
    let cases = cases();
    assert!(cases.len() >= 20, "only {} scenario fixtures found", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let expected_file = if case.join("expected.causeway.json").exists() {
            "expected.causeway.json"
        } else {
            "expected.json"
        };
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(case.join(expected_file)).expect("expected"),
        )
        .expect("json");
        let mut diff = Vec::new();
        differences(&run(case), &expected, "", &mut diff);
        if !diff.is_empty() {
            let name =
                case.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            failures.push(format!(
                "{name} ({expected_file}):\n  {}",
                diff.iter().take(8).cloned().collect::<Vec<_>>().join("\n  ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

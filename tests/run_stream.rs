//! `causeway run` reads its scenario as a stream and writes its result as one: for every
//! scenario fixture, and for a scenario whose keys come in the opposite of the documented
//! order, the streamed replay writes byte for byte what the whole-document replay does.

use causeway::runner::{
    ResultDoc, replay, replay_stream, replay_text, templates_report, write_result,
};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

#[path = "common/template_dir.rs"]
mod template_dir;

/// The result text of the whole-document replay, and of the streamed one.
fn both(templates_dir: &Path, text: &str) -> (String, String) {
    let (inputs, checked) = template_dir::load(templates_dir);
    let report = templates_report(&inputs, &checked);
    let scenario = causeway::scenario::parse(text).expect("scenario parses");
    let whole = replay(checked.compiled.rules.clone(), &scenario, false);
    let doc = ResultDoc {
        state: &whole.state,
        checkpoints: &whole.checkpoints,
        templates: report.clone(),
    };
    let expected = serde_json::to_string_pretty(&doc).expect("json");
    let (streamed, runner) =
        replay_stream(checked.compiled.rules.clone(), text.as_bytes(), false).expect("streams");
    let mut out = Vec::new();
    write_result(&mut out, &runner.expect("a runner"), &streamed, &report).expect("writes");
    assert_eq!(streamed.step_ns.len(), whole.step_ns.len());
    let (from_text, runner) =
        replay_text(checked.compiled.rules.clone(), text.as_bytes(), false).expect("reads");
    let mut again = Vec::new();
    write_result(&mut again, &runner.expect("a runner"), &from_text, &report).expect("writes");
    assert_eq!(out, again, "read from a slice, the result is the same");
    (expected, String::from_utf8(out).expect("utf-8"))
}

#[test]
fn every_scenario_fixture_streams_to_the_same_result_text() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cases: Vec<PathBuf> = std::fs::read_dir(root.join("tests/fixtures/scenarios"))
        .expect("fixtures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("scenario.json").exists())
        .collect();
    cases.sort();
    assert!(cases.len() >= 20, "only {} scenario fixtures found", cases.len());
    for case in &cases {
        let text = std::fs::read_to_string(case.join("scenario.json")).expect("scenario");
        let (expected, streamed) = both(&case.join("templates"), &text);
        assert!(expected == streamed, "{} differs when streamed", case.display());
    }
    let text = std::fs::read_to_string(root.join("tests/fixtures/nic_failure.json")).expect("nic");
    let (expected, streamed) = both(&root.join("templates"), &text);
    assert_eq!(expected, streamed);
}

#[test]
fn keys_out_of_order_and_ids_that_need_escapes_stream_to_the_same_result() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ids = ["host b", "host-a", "host\"q", "host\\z", "host", "hos", "hôst", "host!"];
    let resources: Vec<Value> = ids
        .iter()
        .map(|id| json!({"id": id, "type": "nova.host", "name": id, "state": "AVAILABLE"}))
        .chain(std::iter::once(json!({"id": "zone", "type": "nova.zone"})))
        .collect();
    let edges: Vec<Value> = ids
        .iter()
        .map(|id| json!({"source": "zone", "target": id, "relationship_type": "contains"}))
        .collect();
    let alarm = json!({"type": "zabbix", "name": "nic failure", "target": "host\"q"});
    // Steps first, then alarms, edges, resources and the mode last: everything is held back.
    let text = format!(
        r#"{{"steps": {}, "alarms": {}, "edges": {}, "resources": {}, "initial": "incremental"}}"#,
        json!([{"op": "checkpoint", "label": "up"}, {"op": "clear_alarm", "alarm": alarm}]),
        json!([alarm]),
        Value::Array(edges),
        Value::Array(resources),
    );
    let (expected, streamed) = both(&root.join("templates"), &text);
    assert_eq!(expected, streamed);
    assert!(expected.contains("host nic failure"), "the alarm acted: {expected}");
}

#[test]
fn a_streamed_scenario_fails_as_the_parsed_one_does() {
    let (_, checked) = template_dir::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"));
    for text in [
        r#"{"steps": [{"op": "raise_alarm", "alarm": {"type": "snmp"}}], "resources": [{"type": "x"}]}"#,
        r#"{"resources": [{"id": "a", "type": "t"}], "edges": [{"source": "a"}]}"#,
        r#"{"resources": [], "resources": []}"#,
        r#"{"resources": 5}"#,
        r#"{"initial": "sometimes"}"#,
        r#"{"resources": [1,"#,
        r#"{"resources": [{"id": "a", "type": "t"}]} trailing"#,
    ] {
        let parsed = causeway::scenario::parse(text).expect_err("invalid");
        let streamed = replay_stream(checked.compiled.rules.clone(), text.as_bytes(), false)
            .err()
            .unwrap_or_else(|| panic!("{text} streams"));
        // Read from a file, serde_json counts a peeked byte into the column of an error
        // found between tokens (a duplicate key), so the line and column are not compared.
        let at = |e: &causeway::scenario::ScenarioError| {
            let message = e.message.rsplit_once(" at line ").map_or(&*e.message, |(m, _)| m);
            (e.place.clone(), message.to_string(), e.step)
        };
        assert_eq!(at(&streamed), at(&parsed), "{text}");
        let from_text = replay_text(checked.compiled.rules.clone(), text.as_bytes(), false)
            .err()
            .unwrap_or_else(|| panic!("{text} reads"));
        assert_eq!(from_text, parsed, "{text}");
    }
}

//! The `causeway` binary: exit codes, output formats, and the set checks it runs.

mod common;

use common::cli::{causeway, scratch, stdout};
use std::path::Path;

#[test]
fn shipped_templates_validate_and_exit_zero() {
    let out = causeway(&["validate", "templates"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(stdout(&out).matches(": OK").count(), 3);
}

#[test]
fn an_invalid_template_exits_one_with_vitrages_json_and_its_position() {
    let out =
        causeway(&["validate", "--format", "json", "tests/fixtures/invalid/v2_not_on_entity.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let r = &json["results"][0];
    assert_eq!(r["file path"], "tests/fixtures/invalid/v2_not_on_entity.yaml");
    assert_eq!(r["status"], "validation failed");
    assert_eq!(r["status code"], 86);
    assert_eq!(r["message"], "Not operator can be used only on relationships. template id: host");
    assert_eq!(r["description"], "Template content validation");
    assert_eq!(r["line"], 13);
    assert!(r["column"].as_u64().is_some_and(|c| c > 1));
}

#[test]
fn usage_errors_exit_two() {
    assert_eq!(causeway(&["validate"]).status.code(), Some(2));
    assert_eq!(causeway(&["validate", "--param", "novalue", "templates"]).status.code(), Some(2));
    assert_eq!(causeway(&["validate", "no/such/file.yaml"]).status.code(), Some(2));
}

#[test]
fn a_type_that_contradicts_metadata_is_code_66() {
    let out = causeway(&[
        "validate",
        "--format",
        "json",
        "--type",
        "definition",
        "templates/nic_failure.yaml",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["results"][0]["status code"], 66);
    assert_eq!(json["results"][0]["message"], "Unknown template type");
}

#[test]
fn recursion_through_negation_is_rejected_naming_the_cycle() {
    let out = causeway(&["compile", "tests/fixtures/sets/negation_cycle"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("[9300]"), "{text}");
    assert!(text.contains("a_unless_b-scenario0") && text.contains("b_from_a-scenario0"), "{text}");
}

#[test]
fn positive_recursion_is_accepted() {
    let out = causeway(&["compile", "tests/fixtures/sets/positive_cycle"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("fire_s1_c0"));
}

#[test]
fn unused_entities_are_warned_about() {
    let out = causeway(&["compile", "tests/fixtures/sets/positive_cycle"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("[9400]") && err.contains("entity zone"), "{err}");
}

#[test]
fn compile_rejects_a_target_the_condition_never_binds_but_validate_warns() {
    let file = "tests/fixtures/invalid/target_outside_condition.yaml";
    assert_eq!(causeway(&["validate", file]).status.code(), Some(0));
    let out = causeway(&["compile", file]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("[9102]"));
}

#[test]
fn params_resolve_get_param_and_json_ir_carries_provenance() {
    let file = "tests/fixtures/compile/v2_params_and_functions.yaml";
    let out = causeway(&["compile", "--emit", "json", "--param", "workflow=drain_host", file]);
    assert_eq!(out.status.code(), Some(0));
    let ir: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let action = &ir["scenarios"][0]["actions"][0];
    assert_eq!(action["id"], "v2_params_and_functions-scenario0-action0");
    assert_eq!(action["kind"]["execute_mistral"]["workflow"]["literal"], "drain_host");
    assert!(Path::new(file).exists());
}

#[test]
fn run_writes_the_result_format_and_stats() {
    let dir = scratch("causeway-cli");
    let (out, stats) = (dir.join("result.json"), dir.join("stats.json"));
    let o = causeway(&[
        "run",
        "--templates",
        "templates",
        "--scenario",
        "tests/fixtures/nic_failure.json",
        "--out",
        out.to_str().expect("utf-8"),
        "--stats",
        stats.to_str().expect("utf-8"),
        "--explain",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("because fire_s"));
    let result: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out).expect("result")).expect("json");
    for key in [
        "resources",
        "deleted_resources",
        "edges",
        "deduced_alarms",
        "external_alarms",
        "causal_edges",
        "marked_down",
        "mistral_calls",
        "checkpoints",
        "templates",
    ] {
        assert!(result.get(key).is_some(), "{key}");
    }
    assert_eq!(result["checkpoints"][1]["label"], "nic_failed");
    assert_eq!(result["checkpoints"][1]["step"], 2);
    assert_eq!(result["templates"].as_array().map(Vec::len), Some(3));
    let stats: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&stats).expect("stats")).expect("json");
    assert_eq!(stats["step_ns"].as_array().map(Vec::len), Some(5));
    assert!(stats["peak_rss_bytes"].as_u64().is_some_and(|b| b > 0));
}

#[test]
fn gen_writes_a_scenario_that_runs() {
    let dir = scratch("causeway-gen");
    let scenario = dir.join("s.json");
    let o = causeway(&[
        "gen",
        "--hosts",
        "6",
        "--instances",
        "3",
        "--alarms",
        "2",
        "--out",
        scenario.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let o = causeway(&[
        "run",
        "--templates",
        "templates",
        "--scenario",
        scenario.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let result: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(
        result["mistral_calls"].as_array().map(Vec::len),
        Some(6),
        "3 instances on each of 2 failed hosts"
    );
}

#[test]
fn a_malformed_scenario_is_a_clear_error() {
    let dir = scratch("causeway-bad");
    let scenario = dir.join("s.json");
    std::fs::write(&scenario, r#"{"steps": [{"op": "raise_alarm", "alarm": {"type": "snmp"}}]}"#)
        .expect("write");
    let o = causeway(&[
        "run",
        "--templates",
        "templates",
        "--scenario",
        scenario.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("steps[0]"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

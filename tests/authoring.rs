//! The template author's commands as an author uses them: `causeway test` with expectations
//! and snapshots, `causeway diff` between two template sets, and SARIF from `validate`.

mod common;

use common::cli::{causeway, scratch, stdout};
use std::path::Path;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write");
}

fn copy_templates(to: &Path) {
    std::fs::create_dir_all(to).expect("dir");
    for name in ["host_down.yaml", "nic_failure.yaml", "port_down.yaml"] {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("templates").join(name),
        )
        .expect("template");
        write(to, name, &text);
    }
}

/// A test file over the NIC template in `dir/templates`, expecting `severity` on the host.
fn nic_test(severity: &str) -> String {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo_cloud.json");
    format!(
        "templates: templates\ntopology: {}\ntests:\n  - name: the host alarm\n    steps:\n      \
         - {{op: raise_alarm, alarm: {{type: zabbix, name: nic failure, target: compute-1}}}}\n      \
         - expect:\n          alarms: [{{name: host nic failure, target: compute-1, severity: {severity}}}]\n          \
         states: {{compute-1: ERROR}}\n",
        demo.display()
    )
}

#[test]
fn the_shipped_templates_pass_their_rule_set_tests() {
    let out = causeway(&["test", "templates/tests"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).ends_with("4 passed, 0 failed\n"), "{}", stdout(&out));
}

#[test]
fn a_failing_expectation_shows_expected_against_got_and_what_fired() {
    let dir = scratch("authoring-fail");
    copy_templates(&dir.join("templates"));
    write(&dir, "nic.test.yaml", &nic_test("WARNING"));
    let file = dir.join("nic.test.yaml");
    let out = causeway(&["test", file.to_str().unwrap_or("")]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out).replace(&file.display().to_string(), "nic.test.yaml");
    insta::with_settings!({snapshot_path => "../snapshots"}, { insta::assert_snapshot!(text) });
    write(&dir, "nic.test.yaml", &nic_test("CRITICAL"));
    let out = causeway(&["test", file.to_str().unwrap_or("")]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).ends_with("1 passed, 0 failed\n"));
}

#[test]
fn update_writes_a_snapshot_and_a_changed_state_is_caught_against_it() {
    let dir = scratch("authoring-snap");
    copy_templates(&dir.join("templates"));
    write(
        &dir,
        "nic.test.yaml",
        &nic_test("CRITICAL").replace("    steps:", "    snapshot: true\n    steps:"),
    );
    let file = dir.join("nic.test.yaml");
    let path = file.to_str().unwrap_or("");
    let snapshot = dir.join("nic.test.yaml.snapshots/the_host_alarm.json");
    let first = causeway(&["test", path]);
    assert_eq!(first.status.code(), Some(1), "no snapshot yet: {}", stdout(&first));
    assert!(snapshot.with_extension("json.new").exists(), "pending snapshot written");
    assert_eq!(causeway(&["test", "--update", path]).status.code(), Some(0));
    assert!(snapshot.exists() && !snapshot.with_extension("json.new").exists());
    assert_eq!(causeway(&["test", path]).status.code(), Some(0));
    // The template changes: the snapshot catches what the expectation does not list.
    let nic = std::fs::read_to_string(dir.join("templates/nic_failure.yaml")).expect("read");
    write(
        &dir.join("templates"),
        "nic_failure.yaml",
        &nic.replace("severity: WARNING", "severity: MAJOR"),
    );
    let changed = causeway(&["test", path]);
    assert_eq!(changed.status.code(), Some(1));
    let text = stdout(&changed);
    assert!(
        text.contains("- \"severity\": \"WARNING\"") && text.contains("+ \"severity\": \"MAJOR\""),
        "{text}"
    );
}

#[test]
fn diff_shows_a_changed_severity_a_removed_action_and_an_added_scenario() {
    let dir = scratch("authoring-diff");
    copy_templates(&dir.join("before"));
    copy_templates(&dir.join("after"));
    let nic = std::fs::read_to_string(dir.join("before/nic_failure.yaml")).expect("read");
    let changed = nic
        .replace(
            "alarm_name: application degraded\n          severity: WARNING",
            "alarm_name: application degraded\n          severity: CRITICAL",
        )
        .replace("      - mark_down:\n          target: host\n", "")
        + "  - condition: nic_alarm [on] host AND host [contains] instance\n    actions:\n      - set_state:\n          target: instance\n          state: SUBOPTIMAL\n";
    write(&dir.join("after"), "nic_failure.yaml", &changed);
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nic_failure.json");
    let (before, after) = (dir.join("before"), dir.join("after"));
    let args = [
        "diff",
        "--before",
        before.to_str().unwrap_or(""),
        "--after",
        after.to_str().unwrap_or(""),
    ];
    let out = causeway(&[&args[..], &["--scenario", scenario.to_str().unwrap_or("")]].concat());
    assert_eq!(out.status.code(), Some(1), "they differ");
    let text = stdout(&out);
    assert!(
        text.contains("only before: alarm \"application degraded\" on shop (WARNING)"),
        "{text}"
    );
    assert!(
        text.contains("only after: alarm \"application degraded\" on shop (CRITICAL)"),
        "{text}"
    );
    assert!(text.contains("only before: host-1 marked down"), "{text}");
    assert!(text.contains("only after: state of vm-1 set to SUBOPTIMAL"), "{text}");
    assert!(text.contains("because fire_"), "each difference names the rule: {text}");
    let same = causeway(&[
        "diff",
        "--before",
        "templates",
        "--after",
        "templates",
        "--scenario",
        scenario.to_str().unwrap_or(""),
    ]);
    assert_eq!((same.status.code(), stdout(&same)), (Some(0), String::new()));
}

#[test]
fn validate_speaks_sarif_2_1_0_with_the_position_of_each_error() {
    let out = causeway(&[
        "validate",
        "--format",
        "sarif",
        "tests/fixtures/invalid/v1_unknown_id.yaml",
        "templates",
    ]);
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let schema_text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sarif/sarif-2.1.0-rtm.5.json"),
    )
    .expect("schema");
    let schema: serde_json::Value = serde_json::from_str(&schema_text).expect("schema json");
    let validator = jsonschema::draft4::new(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator.iter_errors(&log).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "SARIF 2.1.0 schema: {errors:?}");
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(log["runs"][0]["tool"]["driver"]["name"], "causeway");
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 1, "only the invalid file has a result");
    let r = &results[0];
    assert_eq!((r["ruleId"].as_str(), r["level"].as_str()), (Some("vitrage/3"), Some("error")));
    let region = &r["locations"][0]["physicalLocation"]["region"];
    assert_eq!((region["startLine"].as_u64(), region["startColumn"].as_u64()), (Some(8), Some(23)));
    let rules = log["runs"][0]["tool"]["driver"]["rules"].as_array().expect("rules");
    assert!(rules.iter().any(|rule| rule["id"] == "vitrage/3"));
}

const NEAR: &str = "metadata: {version: 3, name: near, type: standard}
entities:
  host: {category: RESOURCE, type: nova.host}
  vm: {category: RESOURCE, type: nova.instance}
  nic: {category: ALARM, type: zabbix, name: nic failure}
  quiet: {category: ALARM, type: nagios}
  zone: {category: RESOURCE, type: nova.zone}
scenarios:
  - condition: nic [on] host AND host [contains] vm
    actions: [{set_state: {target: vm, state: ERROR}}]
  - condition: host [contains] vm AND NOT quiet [on] host
    actions: [{set_state: {target: vm, state: SUBOPTIMAL}}]
  - condition: host [contains] vm AND zone
    actions: [{mark_down: {target: vm}}]
";

/// The runner after the scenario with `alarms` raised on host-1.
fn near_miss_runner(alarms: serde_json::Value) -> causeway::runner::Runner {
    let scenario = serde_json::json!({
        "resources": [
            {"id": "zone-1", "type": "nova.zone"},
            {"id": "host-1", "type": "nova.host"},
            {"id": "vm-1", "type": "nova.instance"}
        ],
        "edges": [{"source": "host-1", "target": "vm-1", "relationship_type": "contains"}],
        "alarms": alarms
    });
    let parsed = causeway::scenario::parse(&scenario.to_string()).expect("scenario");
    let rules = common::rules(&[("near.yaml", NEAR)]);
    causeway::runner::replay_keeping(rules, &parsed, false).1.expect("runner")
}

fn why(runner: &causeway::runner::Runner, scenario: &str, target: &str) -> String {
    runner.why_not(scenario, target).expect("why not").join("\n")
}

#[test]
fn why_not_names_the_missing_edge_the_property_that_differs_and_the_entity_mismatch() {
    let none = near_miss_runner(serde_json::json!([]));
    assert_eq!(
        why(&none, "near-scenario0", "vm-1"),
        "clause 0 with vm=vm-1: no `on` edge from a `nic` to host-1 (matched vm=vm-1, host=host-1)"
    );
    assert_eq!(
        why(&none, "near-scenario0", "host-1"),
        "clause 0 with vm=host-1: host-1 is not the entity: vitrage_type: \"nova.host\" != \"nova.instance\""
    );
    let other = near_miss_runner(
        serde_json::json!([{"type": "zabbix", "name": "nic down", "target": "host-1"}]),
    );
    assert_eq!(
        why(&other, "near-scenario0", "vm-1"),
        "clause 0 with vm=vm-1: no vertex reached is `nic`: nic down \
         (name: \"nic down\" != \"nic failure\") (matched vm=vm-1, host=host-1)"
    );
    let fired = near_miss_runner(
        serde_json::json!([{"type": "zabbix", "name": "nic failure", "target": "host-1"}]),
    );
    assert!(
        why(&fired, "near-scenario0", "vm-1").ends_with("it matches, so the scenario acts on vm-1")
    );
}

#[test]
fn why_not_names_the_vertex_that_blocks_a_not_and_a_clause_that_is_not_connected() {
    let quiet = near_miss_runner(
        serde_json::json!([{"type": "nagios", "name": "hot", "target": "host-1"}]),
    );
    assert_eq!(
        why(&quiet, "near-scenario1", "vm-1"),
        "clause 0 with vm=vm-1: NOT quiet [on] host is blocked by hot -on-> host-1 \
         (matched vm=vm-1, host=host-1)"
    );
    assert_eq!(
        why(&quiet, "near-scenario2", "vm-1"),
        "clause 0 with vm=vm-1: [9401] The clause's entities are not connected by its relationships. It never matches."
    );
    assert!(quiet.why_not("near-scenario9", "vm-1").is_err());
}

#[test]
fn run_why_not_prints_the_near_misses() {
    let out = causeway(&[
        "run",
        "--templates",
        "templates",
        "--scenario",
        "tests/fixtures/nic_failure.json",
        "--out",
        "/dev/null",
        "--why-not",
        "nic_failure-scenario1",
        "--target",
        "vm-3",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "why not: clause 0 with instance=vm-3: no `on` edge from a `host_alarm` to host-2"
        ),
        "{err}"
    );
}

//! Use cases end to end through the runner: topology, event, expected alarms, states,
//! causal links and workflows.

mod common;

use causeway::check::{Input, Options, check_set};
use causeway::runner::replay;
use common::{checkpoint, resource};
use serde_json::{Value, json};
use std::path::Path;

fn run(templates: &[&str], scenario: Value) -> Value {
    common::run_rules(rules(templates), scenario)
}

fn deduced(state: &Value) -> Vec<(String, String)> {
    state["deduced_alarms"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            (
                a["name"].as_str().unwrap_or("").to_string(),
                a["target"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn nic_topology(steps: Value) -> Value {
    json!({
        "resources": [
            {"id": "cluster", "type": "openstack.cluster", "state": "AVAILABLE"},
            {"id": "zone-1", "type": "nova.zone", "state": "AVAILABLE"},
            {"id": "host-1", "type": "nova.host", "name": "compute-1", "state": "AVAILABLE"},
            {"id": "host-2", "type": "nova.host", "name": "compute-2", "state": "AVAILABLE"},
            {"id": "vm-1", "type": "nova.instance", "state": "ACTIVE"},
            {"id": "vm-2", "type": "nova.instance", "state": "ACTIVE"},
            {"id": "vm-3", "type": "nova.instance", "state": "ACTIVE"},
            {"id": "shop", "type": "heat.stack", "state": "CREATE_COMPLETE"}
        ],
        "edges": [
            {"source": "cluster", "target": "zone-1", "relationship_type": "contains"},
            {"source": "zone-1", "target": "host-1", "relationship_type": "contains"},
            {"source": "zone-1", "target": "host-2", "relationship_type": "contains"},
            {"source": "host-1", "target": "vm-1", "relationship_type": "contains"},
            {"source": "host-1", "target": "vm-2", "relationship_type": "contains"},
            {"source": "host-2", "target": "vm-3", "relationship_type": "contains"},
            {"source": "shop", "target": "vm-1", "relationship_type": "comprised"}
        ],
        "steps": steps
    })
}

const NIC: &str = r#"{"type": "zabbix", "name": "nic failure", "target": "host-1"}"#;

#[test]
fn nic_failure_raises_alarms_on_host_instances_and_applications_and_migrates_each_instance() {
    let nic: Value = serde_json::from_str(NIC).expect("alarm");
    let result = run(
        &["templates/nic_failure.yaml"],
        nic_topology(json!([
            {"op": "raise_alarm", "alarm": nic},
            {"op": "checkpoint", "label": "raised"},
            {"op": "clear_alarm", "alarm": nic},
            {"op": "checkpoint", "label": "cleared"}
        ])),
    );
    let raised = checkpoint(&result, "raised");
    let mut alarms = deduced(raised);
    alarms.sort();
    let want = [
        ("application degraded", "shop"),
        ("host nic failure", "host-1"),
        ("instance unreachable", "vm-1"),
        ("instance unreachable", "vm-2"),
    ];
    assert_eq!(alarms, want.map(|(a, b)| (a.to_string(), b.to_string())));
    let host = resource(raised, "host-1");
    assert_eq!(
        (host["vitrage_state"].as_str(), host["operational_state"].as_str()),
        (Some("ERROR"), Some("ERROR"))
    );
    assert_eq!(raised["marked_down"], json!(["host-1"]));
    assert_eq!(resource(raised, "host-2")["vitrage_state"], Value::Null);
    let causal = raised["causal_edges"].as_array().expect("causal");
    for (causing, caused) in [
        (["nic failure", "host-1"], ["host nic failure", "host-1"]),
        (["host nic failure", "host-1"], ["instance unreachable", "vm-1"]),
        (["host nic failure", "host-1"], ["instance unreachable", "vm-2"]),
        (["instance unreachable", "vm-1"], ["application degraded", "shop"]),
    ] {
        assert!(
            causal.contains(&json!({"causing": causing, "caused": caused})),
            "{causing:?} -> {caused:?}"
        );
    }
    assert_eq!(
        raised["mistral_calls"],
        json!([
            {"input": {"instance_id": "vm-1"}, "step": 0, "workflow": "migrate_instance"},
            {"input": {"instance_id": "vm-2"}, "step": 0, "workflow": "migrate_instance"}
        ])
    );
    let cleared = checkpoint(&result, "cleared");
    assert!(deduced(cleared).is_empty());
    assert_eq!(cleared["causal_edges"], json!([]));
    assert_eq!(cleared["marked_down"], json!([]));
    assert_eq!(resource(cleared, "host-1")["vitrage_state"], Value::Null);
    assert_eq!(resource(cleared, "host-1")["marked_down"], json!(false));
    assert_eq!(
        cleared["mistral_calls"].as_array().map(Vec::len),
        Some(2),
        "calls are never undone"
    );
}

#[test]
fn an_instance_added_to_a_failed_host_is_migrated_too() {
    let nic: Value = serde_json::from_str(NIC).expect("alarm");
    let result = run(
        &["templates/nic_failure.yaml"],
        nic_topology(json!([
            {"op": "raise_alarm", "alarm": nic},
            {"op": "add_resource", "resource": {"id": "vm-4", "type": "nova.instance", "state": "ACTIVE"}},
            {"op": "add_edge", "source": "host-1", "target": "vm-4", "relationship_type": "contains"},
            {"op": "checkpoint", "label": "added"}
        ])),
    );
    let calls = &checkpoint(&result, "added")["mistral_calls"];
    assert_eq!(calls.as_array().map(Vec::len), Some(3));
    assert_eq!(
        calls[2],
        json!({"input": {"instance_id": "vm-4"}, "step": 2, "workflow": "migrate_instance"})
    );
    assert!(
        deduced(checkpoint(&result, "added"))
            .contains(&("instance unreachable".into(), "vm-4".into()))
    );
}

#[test]
fn raising_the_alarm_again_after_it_cleared_migrates_again_with_new_alarms() {
    let nic: Value = serde_json::from_str(NIC).expect("alarm");
    let result = run(
        &["templates/nic_failure.yaml"],
        nic_topology(json!([
            {"op": "raise_alarm", "alarm": nic},
            {"op": "clear_alarm", "alarm": nic},
            {"op": "raise_alarm", "alarm": nic},
            {"op": "checkpoint", "label": "again"}
        ])),
    );
    let again = checkpoint(&result, "again");
    assert_eq!(again["mistral_calls"].as_array().map(Vec::len), Some(4));
    assert_eq!(deduced(again).len(), 4);
}

#[test]
fn host_down_marks_the_host_and_degrades_its_instances() {
    let down = json!({"type": "doctor", "name": "compute.host.down", "target": "host-2"});
    let result = run(
        &["templates/host_down.yaml"],
        nic_topology(
            json!([{"op": "raise_alarm", "alarm": down}, {"op": "checkpoint", "label": "down"}]),
        ),
    );
    let state = checkpoint(&result, "down");
    assert_eq!(state["marked_down"], json!(["host-2"]));
    assert_eq!(resource(state, "vm-3")["vitrage_state"], "SUBOPTIMAL");
    assert_eq!(deduced(state), [("instance on down host".to_string(), "vm-3".to_string())]);
}

#[test]
fn port_down_alarms_attached_instances_unless_the_network_is_alarmed() {
    let port_down = json!({"type": "prometheus", "name": "port down", "target": "port-1"});
    let net_down = json!({"type": "prometheus", "name": "network down", "target": "net-1"});
    let result = run(
        &["templates/port_down.yaml"],
        json!({
            "resources": [
                {"id": "net-1", "type": "neutron.network", "state": "ACTIVE"},
                {"id": "port-1", "type": "neutron.port", "state": "ACTIVE"},
                {"id": "vm-1", "type": "nova.instance", "state": "ACTIVE"}
            ],
            "edges": [
                {"source": "net-1", "target": "port-1", "relationship_type": "contains"},
                {"source": "port-1", "target": "vm-1", "relationship_type": "attached"}
            ],
            "steps": [
                {"op": "raise_alarm", "alarm": port_down},
                {"op": "checkpoint", "label": "port"},
                {"op": "raise_alarm", "alarm": net_down},
                {"op": "checkpoint", "label": "network"}
            ]
        }),
    );
    let port = checkpoint(&result, "port");
    assert_eq!(deduced(port), [("instance network degraded".to_string(), "vm-1".to_string())]);
    assert_eq!(resource(port, "port-1")["operational_state"], "ERROR");
    assert!(deduced(checkpoint(&result, "network")).is_empty());
}

#[test]
fn a_bad_step_names_the_step_and_keeps_what_was_applied() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let input = Input {
        file: "nic.yaml".into(),
        bytes: std::fs::read(root.join("templates/nic_failure.yaml")).expect("read"),
    };
    let checked = check_set(&[input], &Options::default());
    let nic: Value = serde_json::from_str(NIC).expect("alarm");
    let scenario = nic_topology(json!([
        {"op": "raise_alarm", "alarm": nic},
        {"op": "add_edge", "source": "host-1", "target": "vm-9", "relationship_type": "contains"}
    ]));
    let parsed = causeway::scenario::parse(&scenario.to_string()).expect("scenario");
    let r = replay(checked.compiled.rules, &parsed, false);
    let (step, error) = r.error.expect("an error");
    assert_eq!(step, json!(1));
    assert!(error.to_string().starts_with("target: unknown resource \"vm-9\""), "{error}");
    assert_eq!(r.state.marked_down, [json!("host-1")], "step 0 is kept");
}

fn rules(templates: &[&str]) -> causeway::compile::ir::RuleSet {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let inputs: Vec<Input> = templates
        .iter()
        .map(|t| Input {
            file: t.to_string(),
            bytes: std::fs::read(root.join(t)).expect("template"),
        })
        .collect();
    let checked = check_set(&inputs, &Options::default());
    for f in &checked.files {
        assert!(f.error.is_none(), "{}: {:?}", f.file, f.error);
    }
    checked.compiled.rules
}

#[test]
fn a_template_added_after_the_alarm_acts_on_it_and_deleting_it_undoes_its_effects() {
    use causeway::runner::Runner;
    let mut r = Runner::new(rules(&["templates/host_down.yaml"])).expect("runner");
    use causeway::runner::Change;
    let topology =
        causeway::scenario::parse(&nic_topology(json!([])).to_string()).expect("topology");
    let mut changes: Vec<Change> =
        topology.resources.iter().map(|r| Change::AddResource { resource: r.clone() }).collect();
    changes.extend(topology.edges.iter().map(|e| Change::AddEdge {
        source: e.source.clone(),
        target: e.target.clone(),
        relationship_type: e.relationship_type.clone(),
    }));
    let nic: causeway::scenario::Alarm = serde_json::from_str(NIC).expect("alarm");
    changes.push(Change::RaiseAlarm { alarm: nic });
    r.apply(&changes).expect("topology and alarm");
    assert!(r.snapshot().deduced_alarms.is_empty(), "no NIC template yet");

    let added = r
        .replace_rules(rules(&["templates/host_down.yaml", "templates/nic_failure.yaml"]))
        .expect("add");
    let state = r.snapshot();
    assert_eq!(state.deduced_alarms.len(), 4);
    assert_eq!(state.marked_down, [json!("host-1")]);
    assert_eq!(added.mistral.len(), 2);

    let undone = r.replace_rules(rules(&["templates/host_down.yaml"])).expect("delete");
    let deleted = r.snapshot();
    assert!(deleted.deduced_alarms.is_empty());
    assert!(deleted.marked_down.is_empty());
    assert!(deleted.causal_edges.is_empty());
    assert!(undone.mistral.is_empty(), "workflows already run stay run and none is re-sent");
    assert_eq!(undone.alarms_deactivated.len(), 4);
}

#[test]
fn a_workflow_runs_again_each_time_its_activation_reappears_and_never_on_undo() {
    let result = run(
        &["tests/fixtures/behaviour/attach_volume_backup.yaml"],
        json!({
            "resources": [
                {"id": "vol-1", "type": "cinder.volume", "state": "IN-USE"},
                {"id": "vm-1", "type": "nova.instance", "name": "web-1", "state": "ACTIVE"}
            ],
            "steps": [
                {"op": "add_edge", "source": "vol-1", "target": "vm-1", "relationship_type": "attached"},
                {"op": "delete_edge", "source": "vol-1", "target": "vm-1", "relationship_type": "attached"},
                {"op": "add_edge", "source": "vol-1", "target": "vm-1", "relationship_type": "attached"},
                {"op": "checkpoint", "label": "end"}
            ]
        }),
    );
    let call = |step: u32| json!({"input": {"instance": "web-1", "missing": null, "volume_id": "vol-1"}, "step": step, "workflow": "backup_volume"});
    assert_eq!(checkpoint(&result, "end")["mistral_calls"], json!([call(0), call(2)]));
}

fn hosts_scenario(steps: Value) -> Value {
    json!({
        "resources": [
            {"id": "host-1", "type": "nova.host", "state": "AVAILABLE"},
            {"id": "vm-1", "type": "nova.instance", "state": "ACTIVE"},
            {"id": "vm-2", "type": "nova.instance", "state": "ACTIVE"}
        ],
        "edges": [{"source": "host-1", "target": "vm-1", "relationship_type": "contains"}],
        "steps": steps
    })
}

#[test]
fn regexes_match_from_the_start_only() {
    let result = run(
        &["tests/fixtures/behaviour/regex_cpu.yaml"],
        hosts_scenario(json!([
            {"op": "raise_alarm", "alarm": {"type": "nagios", "name": "high cpu", "target": "host-1"}},
            {"op": "checkpoint", "label": "suffix"},
            {"op": "raise_alarm", "alarm": {"type": "nagios", "name": "cpu high", "target": "host-1"}},
            {"op": "checkpoint", "label": "prefix"}
        ])),
    );
    assert_eq!(resource(checkpoint(&result, "suffix"), "host-1")["vitrage_state"], Value::Null);
    assert_eq!(resource(checkpoint(&result, "prefix"), "host-1")["vitrage_state"], "SUBOPTIMAL");
}

#[test]
fn two_entities_never_bind_the_same_vertex() {
    let result = run(
        &["tests/fixtures/behaviour/two_instances.yaml"],
        hosts_scenario(json!([
            {"op": "checkpoint", "label": "one"},
            {"op": "add_edge", "source": "host-1", "target": "vm-2", "relationship_type": "contains"},
            {"op": "checkpoint", "label": "two"}
        ])),
    );
    assert!(deduced(checkpoint(&result, "one")).is_empty());
    assert_eq!(
        deduced(checkpoint(&result, "two")),
        [("host has two instances".to_string(), "host-1".to_string())]
    );
}

#[test]
fn an_equivalent_alarm_fires_the_same_scenario() {
    let result = run(
        &[
            "tests/fixtures/behaviour/equivalence/host_problem_equivalence.yaml",
            "tests/fixtures/behaviour/equivalence/host_problem.yaml",
        ],
        hosts_scenario(json!([
            {"op": "raise_alarm", "alarm": {"type": "zabbix", "name": "host fail", "target": "host-1"}},
            {"op": "checkpoint", "label": "zabbix"}
        ])),
    );
    assert_eq!(resource(checkpoint(&result, "zabbix"), "host-1")["vitrage_state"], "ERROR");
}

#[test]
fn a_template_using_an_included_definition_acts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = [
        "tests/fixtures/behaviour/includes/host_definitions.yaml",
        "tests/fixtures/behaviour/includes/mark_host_down.yaml",
    ];
    let inputs: Vec<Input> = files
        .iter()
        .map(|t| Input { file: t.to_string(), bytes: std::fs::read(root.join(t)).expect("read") })
        .collect();
    let checked =
        check_set(&inputs, &Options { def_templates: inputs.clone(), ..Options::default() });
    assert!(checked.files.iter().all(|f| f.error.is_none()), "{:?}", checked.files);
    let scenario = hosts_scenario(json!([
        {"op": "raise_alarm", "alarm": {"type": "nagios", "name": "host down", "target": "host-1"}}
    ]));
    let parsed = causeway::scenario::parse(&scenario.to_string()).expect("scenario");
    let r = replay(checked.compiled.rules, &parsed, false);
    assert_eq!(r.state.marked_down, [json!("host-1")]);
}

#[test]
fn incremental_initial_loading_reaches_the_same_state_as_startup() {
    let alarms = json!([{"type": "zabbix", "name": "nic failure", "target": "host-1"}]);
    let mut startup = nic_topology(json!([{"op": "checkpoint", "label": "end"}]));
    startup["alarms"] = alarms.clone();
    let mut incremental = startup.clone();
    incremental["initial"] = json!("incremental");
    let a = run(&["templates/nic_failure.yaml"], startup);
    let b = run(&["templates/nic_failure.yaml"], incremental);
    assert_eq!(checkpoint(&a, "end"), checkpoint(&b, "end"));
    assert_eq!(deduced(checkpoint(&a, "end")).len(), 4);
    assert_eq!(a["mistral_calls"][0]["step"], "initial");
}

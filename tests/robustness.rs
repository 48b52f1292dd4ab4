//! Issue 11: inputs that used to stop the engine. Each test is named after the input that
//! stopped it, and replays it to the end.

mod common;

use common::{resource, run};
use serde_json::{Value, json};

fn host_with_vms(action: &str) -> String {
    format!(
        "metadata: {{version: 3, name: host_with_vms, type: standard}}\n\
         entities:\n  host: {{type: nova.host}}\n  vm: {{type: nova.instance}}\n\
         scenarios:\n  - condition: host [contains] vm\n    actions:\n      - {action}\n"
    )
}

fn two_vms_then_delete_host() -> Value {
    json!({
        "resources": [
            {"id": "host-1", "type": "nova.host"},
            {"id": "host-2", "type": "nova.host"},
            {"id": "vm-1", "type": "nova.instance"},
            {"id": "vm-2", "type": "nova.instance"},
            {"id": "vm-3", "type": "nova.instance"}
        ],
        "edges": [
            {"source": "host-1", "target": "vm-1", "relationship_type": "contains"},
            {"source": "host-1", "target": "vm-2", "relationship_type": "contains"}
        ],
        "steps": [
            {"op": "delete_resource", "id": "host-1"},
            {"op": "add_edge", "source": "host-2", "target": "vm-3", "relationship_type": "contains"},
            {"op": "checkpoint", "label": "after"}
        ]
    })
}

#[test]
fn r11_deleting_a_host_whose_state_two_matches_set_goes_on_to_the_next_step() {
    let template = host_with_vms("set_state: {target: host, state: SUBOPTIMAL}");
    let result = run(&[("host_with_vms.yaml", &template)], two_vms_then_delete_host());
    assert_eq!(result["deleted_resources"], json!(["host-1"]));
    assert_eq!(resource(&result, "host-2")["vitrage_state"], "SUBOPTIMAL");
}

#[test]
fn r11_deleting_a_host_that_two_matches_mark_down_goes_on_to_the_next_step() {
    let template = host_with_vms("mark_down: {target: host}");
    let result = run(&[("host_with_vms.yaml", &template)], two_vms_then_delete_host());
    assert_eq!(result["marked_down"], json!(["host-2"]));
}

#[test]
fn r11_deleting_a_host_that_two_matches_raise_an_alarm_on_goes_on_to_the_next_step() {
    let template =
        host_with_vms("raise_alarm: {target: host, alarm_name: busy, severity: WARNING}");
    let result = run(&[("host_with_vms.yaml", &template)], two_vms_then_delete_host());
    let targets: Vec<&Value> =
        result["deduced_alarms"].as_array().into_iter().flatten().map(|a| &a["target"]).collect();
    assert_eq!(targets, vec!["host-2"]);
}

#[test]
fn r11_deleting_an_instance_that_is_the_source_of_two_causal_links_goes_on() {
    let template = "metadata: {version: 3, name: links, type: standard}\n\
        entities:\n  host: {type: nova.host}\n  vm: {type: nova.instance}\n\
        \x20 a: {category: ALARM, name: hot}\n  b: {category: ALARM, name: cold}\n\
        scenarios:\n  - condition: host [contains] vm AND a [on] host AND b [on] vm\n\
        \x20   actions:\n      - add_causal_relationship: {source: a, target: b}\n";
    let scenario = json!({
        "resources": [
            {"id": "host-1", "type": "nova.host"},
            {"id": "vm-1", "type": "nova.instance"}
        ],
        "edges": [{"source": "host-1", "target": "vm-1", "relationship_type": "contains"}],
        "alarms": [
            {"type": "nagios", "name": "hot", "target": "host-1"},
            {"type": "nagios", "name": "cold", "target": "vm-1"}
        ],
        "steps": [
            {"op": "delete_resource", "id": "vm-1"},
            {"op": "delete_resource", "id": "host-1"}
        ]
    });
    let result = run(&[("links.yaml", template)], scenario);
    assert_eq!(result["causal_edges"], json!([]));
}

#[test]
fn a_batch_with_one_bad_change_applies_nothing_and_names_the_change() {
    use causeway::runner::{Change, RunError, Runner};
    let template = host_with_vms("set_state: {target: host, state: SUBOPTIMAL}");
    let mut r = Runner::new(common::rules(&[("t.yaml", &template)])).expect("runner");
    let batch: Vec<Change> = serde_json::from_value(json!([
        {"op": "add_resource", "resource": {"id": "host-1", "type": "nova.host"}},
        {"op": "add_resource", "resource": {"id": "vm-1", "type": "nova.instance"}},
        {"op": "add_edge", "source": "host-1", "target": "vm-1", "relationship_type": "contains"},
        {"op": "delete_edge", "source": "host-1", "target": "vm-9", "relationship_type": "contains"}
    ]))
    .expect("changes");
    let err = r.apply(&batch).expect_err("vm-9 does not exist");
    assert_eq!(
        err,
        RunError::BadChange {
            field: "[3].target".into(),
            message: "unknown resource \"vm-9\"".into()
        }
    );
    assert!(r.snapshot().resources.is_empty());
    let outcome = r.apply(&batch[..3]).expect("the valid part");
    assert_eq!(outcome.resources_added.len(), 2);
    assert_eq!(outcome.resources_changed.len(), 1, "host-1 became SUBOPTIMAL");
    assert_eq!(
        resource(&serde_json::to_value(r.snapshot()).expect("json"), "host-1")["vitrage_state"],
        "SUBOPTIMAL"
    );
}

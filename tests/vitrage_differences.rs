//! Where Vitrage 15.0.1's evaluator has a bug and causeway does the intended thing (README,
//! "Differences from Vitrage"). Each was checked against Vitrage's real evaluator; each test
//! reads as the use case: topology, event, expected alarms, states and causes.

mod common;

use common::{causes, checkpoint, deduced, resource, run};
use serde_json::{Value, json};

fn host_with(vms: usize, steps: Value) -> Value {
    let mut resources = vec![json!({"id": "host-1", "type": "nova.host"})];
    let mut edges = Vec::new();
    for i in 1..=vms {
        resources.push(json!({"id": format!("vm-{i}"), "type": "nova.instance"}));
        edges.push(json!({"source": "host-1", "target": format!("vm-{i}"), "relationship_type": "contains"}));
    }
    json!({"resources": resources, "edges": edges, "steps": steps})
}

const NIC: &str = r#"{"type": "zabbix", "name": "nic failure", "target": "host-1"}"#;
const HOT: &str = r#"{"type": "nagios", "name": "hot", "target": "host-1"}"#;

fn alarm(text: &str) -> Value {
    serde_json::from_str(text).expect("alarm")
}

const TWO_CAUSES: &str = "metadata: {version: 3, name: two_causes, type: standard}
entities:
  host: {category: RESOURCE, type: nova.host}
  nic: {category: ALARM, type: zabbix, name: nic failure}
  hot: {category: ALARM, type: nagios, name: hot}
scenarios:
  - condition: nic [on] host
    actions:
      - raise_alarm: {target: host, alarm_name: host problem, severity: CRITICAL, causing_alarm: nic}
  - condition: hot [on] host
    actions:
      - raise_alarm: {target: host, alarm_name: host problem, severity: WARNING, causing_alarm: hot}
";

#[test]
fn the_highest_of_several_actions_decided_in_one_evaluation_wins() {
    // Vitrage applies them in order and the last one wins: WARNING over CRITICAL.
    let template = "metadata: {version: 3, name: many, type: standard}
entities:
  host: {category: RESOURCE, type: nova.host}
  nic: {category: ALARM, type: zabbix, name: nic failure}
scenarios:
  - condition: nic [on] host
    actions:
      - raise_alarm: {target: host, alarm_name: host problem, severity: CRITICAL}
      - set_state: {target: host, state: ERROR}
  - condition: nic [on] host
    actions:
      - raise_alarm: {target: host, alarm_name: host problem, severity: WARNING}
      - set_state: {target: host, state: SUBOPTIMAL}
";
    let result = run(
        &[("many.yaml", template)],
        host_with(
            1,
            json!([
                {"op": "raise_alarm", "alarm": alarm(NIC)}
            ]),
        ),
    );
    assert_eq!(deduced(&result), [("host problem".into(), "host-1".into(), "CRITICAL".into())]);
    assert_eq!(resource(&result, "host-1")["vitrage_state"], "ERROR");
}

#[test]
fn an_alarm_two_templates_raise_stays_while_the_other_template_still_holds() {
    // Vitrage keeps one tracker row for both, so the alarm went with the first condition.
    let nic = "metadata: {version: 3, name: by_nic, type: standard}
entities:
  host: {category: RESOURCE, type: nova.host}
  nic: {category: ALARM, type: zabbix, name: nic failure}
scenarios:
  - condition: nic [on] host
    actions: [{raise_alarm: {target: host, alarm_name: host problem, severity: CRITICAL}}]
";
    let hot = nic
        .replace("by_nic", "by_hot")
        .replace("zabbix, name: nic failure", "nagios, name: hot")
        .replace("nic:", "hot:")
        .replace("nic [on]", "hot [on]");
    let result = run(
        &[("by_nic.yaml", nic), ("by_hot.yaml", &hot)],
        host_with(
            1,
            json!([
                {"op": "raise_alarm", "alarm": alarm(NIC)},
                {"op": "raise_alarm", "alarm": alarm(HOT)},
                {"op": "clear_alarm", "alarm": alarm(NIC)}
            ]),
        ),
    );
    assert_eq!(deduced(&result), [("host problem".into(), "host-1".into(), "CRITICAL".into())]);
}

const NOT_ANOTHER_VM: &str = "metadata: {version: 3, name: lonely, type: standard}
entities:
  host: {category: RESOURCE, type: nova.host}
  vm: {category: RESOURCE, type: nova.instance}
  vm2: {category: RESOURCE, type: nova.instance}
scenarios:
  - condition: host [contains] vm AND NOT host [contains] vm2
    actions: [{mark_down: {target: host}}]
";

#[test]
fn deleting_one_witness_of_a_not_leaves_the_others_blocking_it() {
    // With three instances, Vitrage marked the host down when one contains edge went.
    let result = run(
        &[("lonely.yaml", NOT_ANOTHER_VM)],
        host_with(
            3,
            json!([
                {"op": "delete_edge", "source": "host-1", "target": "vm-3", "relationship_type": "contains"},
                {"op": "checkpoint", "label": "two_left"},
                {"op": "delete_edge", "source": "host-1", "target": "vm-2", "relationship_type": "contains"}
            ]),
        ),
    );
    assert_eq!(checkpoint(&result, "two_left")["marked_down"], json!([]));
    assert_eq!(result["marked_down"], json!(["host-1"]));
}

#[test]
fn clearing_one_of_two_alarms_under_a_not_leaves_the_other_blocking_it() {
    let template = "metadata: {version: 3, name: quiet, type: standard}
entities:
  host: {category: RESOURCE, type: nova.host}
  vm: {category: RESOURCE, type: nova.instance}
  hot: {category: ALARM, type: nagios}
scenarios:
  - condition: host [contains] vm AND NOT hot [on] host
    actions: [{set_state: {target: host, state: SUBOPTIMAL}}]
";
    let other = r#"{"type": "nagios", "name": "warm", "target": "host-1"}"#;
    let result = run(
        &[("quiet.yaml", template)],
        json!({
            "resources": [{"id": "host-1", "type": "nova.host"}, {"id": "vm-1", "type": "nova.instance"}],
            "edges": [{"source": "host-1", "target": "vm-1", "relationship_type": "contains"}],
            "alarms": [alarm(HOT), alarm(other)],
            "steps": [
                {"op": "clear_alarm", "alarm": alarm(HOT)},
                {"op": "checkpoint", "label": "one_left"},
                {"op": "clear_alarm", "alarm": alarm(other)}
            ]
        }),
    );
    assert_eq!(resource(checkpoint(&result, "one_left"), "host-1")["vitrage_state"], Value::Null);
    assert_eq!(resource(&result, "host-1")["vitrage_state"], "SUBOPTIMAL");
}

#[test]
fn an_alarm_becomes_and_stops_being_a_witness_of_a_not_by_its_severity() {
    // Vitrage reacted in neither direction, since no edge changed.
    let template = "metadata: {version: 3, name: critical, type: standard}
entities:
  host: {category: RESOURCE, type: nova.host}
  vm: {category: RESOURCE, type: nova.instance}
  crit: {category: ALARM, type: nagios, severity: CRITICAL}
scenarios:
  - condition: host [contains] vm AND NOT crit [on] host
    actions: [{mark_down: {target: host}}]
";
    let with = |severity: &str| json!({"type": "nagios", "name": "hot", "target": "host-1", "severity": severity});
    let result = run(
        &[("critical.yaml", template)],
        host_with(
            1,
            json!([
                {"op": "raise_alarm", "alarm": with("WARNING")},
                {"op": "checkpoint", "label": "warning"},
                {"op": "raise_alarm", "alarm": with("CRITICAL")},
                {"op": "checkpoint", "label": "critical"},
                {"op": "raise_alarm", "alarm": with("WARNING")}
            ]),
        ),
    );
    assert_eq!(checkpoint(&result, "warning")["marked_down"], json!(["host-1"]));
    assert_eq!(checkpoint(&result, "critical")["marked_down"], json!([]));
    assert_eq!(result["marked_down"], json!(["host-1"]));
}

#[test]
fn when_the_best_raise_is_undone_the_next_keeps_its_causal_edge() {
    // Vitrage re-did the second best with its raw properties: no causing alarm, no edge.
    let result = run(
        &[("two_causes.yaml", TWO_CAUSES)],
        host_with(
            1,
            json!([
                {"op": "raise_alarm", "alarm": alarm(NIC)},
                {"op": "raise_alarm", "alarm": alarm(HOT)},
                {"op": "clear_alarm", "alarm": alarm(NIC)}
            ]),
        ),
    );
    assert_eq!(deduced(&result), [("host problem".into(), "host-1".into(), "WARNING".into())]);
    assert_eq!(causes(&result), [("hot".into(), "host problem".into())]);
}

#[test]
fn every_live_activation_causing_a_deduced_alarm_is_a_cause_whatever_the_order() {
    // Vitrage draws the edges of the activations that acted, so the order decides.
    let both = [
        ("hot".to_string(), "host problem".to_string()),
        ("nic failure".into(), "host problem".into()),
    ];
    for (first, second) in [(NIC, HOT), (HOT, NIC)] {
        let result = run(
            &[("two_causes.yaml", TWO_CAUSES)],
            host_with(
                1,
                json!([
                    {"op": "raise_alarm", "alarm": alarm(first)},
                    {"op": "raise_alarm", "alarm": alarm(second)}
                ]),
            ),
        );
        assert_eq!(deduced(&result), [("host problem".into(), "host-1".into(), "CRITICAL".into())]);
        assert_eq!(causes(&result), both);
    }
}

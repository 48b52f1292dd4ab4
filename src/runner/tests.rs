//! A list of one change is staged without [`Runner::check`]: what that relies on; an outcome
//! handed back serves the next evaluation.

use super::{Change, RunError, Runner};
use crate::compile::ir::RuleSet;
use serde_json::json;

fn change(v: serde_json::Value) -> Change {
    match serde_json::from_value(v) {
        Ok(c) => c,
        Err(e) => panic!("test change does not parse: {e}"),
    }
}

/// A runner with two hosts, an edge between them and a raised alarm, settled.
fn runner() -> Runner {
    let Ok(mut r) = Runner::new(RuleSet::default()) else { panic!("empty rules load") };
    let setup = [
        json!({"op": "add_resource", "resource": {"id": "h1", "type": "nova.host", "state": "AVAILABLE"}}),
        json!({"op": "add_resource", "resource": {"id": "h2", "type": "nova.host"}}),
        json!({"op": "add_edge", "source": "h1", "target": "h2", "relationship_type": "contains"}),
        json!({"op": "raise_alarm", "alarm": {"type": "zabbix", "name": "nic", "target": "h1"}}),
    ];
    for c in setup {
        if let Err(e) = r.apply(&[change(c)]) {
            panic!("setup applies: {e}");
        }
    }
    r
}

fn saved(r: &Runner) -> Vec<u8> {
    r.save().unwrap_or_else(|e| panic!("a settled runner saves: {e}"))
}

fn field_and_message(e: RunError) -> (String, String) {
    match e {
        RunError::BadChange { field, message } => (field, message),
        e => panic!("not a bad change: {e}"),
    }
}

#[test]
fn a_refused_single_change_says_what_the_check_says_and_changes_nothing() {
    let refused = [
        json!({"op": "add_resource", "resource": {"id": "h1", "type": "nova.host"}}),
        json!({"op": "add_resource", "resource": {"id": "h3", "type": "nova.host", "name": "new name",
            "properties": {"a new key": "a new value", "vitrage_x": 1}}}),
        json!({"op": "update_resource", "id": "nobody", "state": "ERROR"}),
        json!({"op": "update_resource", "id": "h2", "state": "A NEW STATE", "properties": {"zz": 1, "category": "x"}}),
        json!({"op": "delete_resource", "id": "nobody"}),
        json!({"op": "add_edge", "source": "nobody", "target": "h2", "relationship_type": "contains"}),
        json!({"op": "add_edge", "source": "h1", "target": "nobody", "relationship_type": "contains"}),
        json!({"op": "add_edge", "source": "h1", "target": "h2", "relationship_type": ""}),
        json!({"op": "delete_edge", "source": "h2", "target": "h1", "relationship_type": "contains"}),
        json!({"op": "delete_edge", "source": "h1", "target": "h2", "relationship_type": "a new label"}),
        json!({"op": "raise_alarm", "alarm": {"type": "zabbix", "name": "x", "target": "nobody"}}),
        json!({"op": "raise_alarm", "alarm": {"type": "zabbix", "name": "a new alarm", "target": "h2",
            "properties": {"a new key": 1, "severity": "high"}}}),
        json!({"op": "clear_alarm", "alarm": {"type": "zabbix", "name": "other", "target": "h1"}}),
    ];
    for c in refused {
        let c = change(c);
        let mut r = runner();
        let before = saved(&r);
        let Err((at, checked)) = r.check(std::slice::from_ref(&c)) else {
            panic!("the check refuses {c:?}")
        };
        let Err((staged_at, staged)) = r.stage(std::slice::from_ref(&c)) else {
            panic!("staging refuses {c:?}")
        };
        assert_eq!(
            (at, field_and_message(checked)),
            (staged_at, field_and_message(staged)),
            "{c:?}"
        );
        assert_eq!(saved(&r), before, "{c:?} changed the runner");
    }
}

#[test]
fn an_outcome_handed_back_keeps_its_room_and_none_of_its_contents() {
    let mut r = runner();
    let Ok(first) = r.apply(&[change(
        json!({"op": "add_resource", "resource": {"id": "h3", "type": "nova.host"}}),
    )]) else {
        panic!("adds a host")
    };
    assert!(first.resources_added.len() == 1 && !first.touched.is_empty());
    let room = first.touched.capacity();
    r.recycle(first);
    let cleared = change(
        json!({"op": "clear_alarm", "alarm": {"type": "zabbix", "name": "nic", "target": "h1"}}),
    );
    let Ok(next) = r.apply(&[cleared]) else { panic!("clears the alarm") };
    assert!(next.resources_added.is_empty(), "the first outcome's host came back: {next:?}");
    assert_eq!(next.alarms_deactivated.len(), 1);
    assert!(next.touched.capacity() >= room);
}

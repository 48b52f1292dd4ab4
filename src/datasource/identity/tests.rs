use super::*;
use crate::compile::ir::RuleSet;
use crate::scenario::AlarmType;

fn runner() -> Runner {
    Runner::new(RuleSet::default()).expect("runner")
}

fn host(id: &str, name: &str) -> Change {
    let resource = Resource {
        id: id.into(),
        kind: "nova.host".into(),
        name: Some(name.into()),
        state: Some("available".into()),
        properties: BTreeMap::new(),
    };
    Change::AddResource { resource }
}

fn contains(source: &str, target: &str) -> Change {
    Change::AddEdge {
        source: source.into(),
        target: target.into(),
        relationship_type: "contains".into(),
    }
}

fn alarm(target: &str) -> Alarm {
    Alarm {
        kind: AlarmType::Zabbix,
        name: "nic down".into(),
        target: target.into(),
        severity: None,
        id: None,
        properties: BTreeMap::new(),
    }
}

/// Resolves `changes` against `r` and stages what comes out, as the evaluation task does.
fn apply(r: &mut Runner, changes: Vec<Change>) -> Vec<Change> {
    let resolved = resolve(&*r, changes);
    r.stage(&resolved).expect("resolved changes apply");
    resolved
}

fn is_placeholder_vertex(r: &Runner, id: &str) -> bool {
    let v = r.resource(id).expect("vertex");
    r.graph().vertex(v).expect("live").is_placeholder()
}

#[test]
fn a_placeholder_for_an_unknown_id_adds_a_placeholder_vertex() {
    let mut r = runner();
    let out = apply(&mut r, vec![placeholder("nova.host", "compute-1")]);
    assert_eq!(out, vec![placeholder("nova.host", "compute-1")]);
    assert!(is_placeholder_vertex(&r, "compute-1"));
}

#[test]
fn a_placeholder_for_a_known_id_is_dropped() {
    let mut r = runner();
    apply(&mut r, vec![host("compute-1", "c1")]);
    let out = apply(&mut r, vec![placeholder("nova.host", "compute-1")]);
    assert!(out.is_empty(), "{out:?}");
    assert!(!is_placeholder_vertex(&r, "compute-1"));
}

#[test]
fn the_owners_report_fills_a_placeholder_in_and_keeps_its_edges() {
    let mut r = runner();
    apply(
        &mut r,
        vec![
            placeholder("nova.host", "compute-1"),
            placeholder("nova.zone", "zone-1"),
            contains("zone-1", "compute-1"),
        ],
    );
    let out = apply(&mut r, vec![host("compute-1", "c1"), contains("zone-1", "compute-1")]);
    let Change::UpdateResource { id, name, properties, .. } = &out[0] else { panic!("{out:?}") };
    assert_eq!((id.as_str(), name.as_deref()), ("compute-1", Some("c1")));
    assert_eq!(properties.get(PLACEHOLDER), Some(&Value::Bool(false)));
    assert_eq!(out.len(), 1, "the edge exists already: {out:?}");
    assert!(!is_placeholder_vertex(&r, "compute-1"));
    assert!(Known::edge(&r, &contains("zone-1", "compute-1").edge().expect("edge").0));
}

#[test]
fn a_second_report_of_a_known_resource_updates_it() {
    let mut r = runner();
    apply(&mut r, vec![host("compute-1", "c1")]);
    let out = apply(&mut r, vec![host("compute-1", "renamed")]);
    let Change::UpdateResource { name, properties, .. } = &out[0] else { panic!("{out:?}") };
    assert_eq!(name.as_deref(), Some("renamed"));
    assert!(properties.is_empty(), "no placeholder flag to clear: {properties:?}");
}

#[test]
fn removing_what_is_absent_changes_nothing() {
    let mut r = runner();
    apply(&mut r, vec![host("compute-1", "c1")]);
    let out = apply(
        &mut r,
        vec![
            Change::DeleteResource { id: "compute-9".into() },
            Change::DeleteEdge {
                source: "compute-1".into(),
                target: "compute-1".into(),
                relationship_type: "contains".into(),
            },
            Change::ClearAlarm { alarm: alarm("compute-1") },
        ],
    );
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn earlier_changes_of_the_same_batch_count() {
    let mut r = runner();
    let out = apply(
        &mut r,
        vec![
            placeholder("nova.host", "compute-1"),
            host("compute-1", "c1"),
            placeholder("nova.host", "compute-1"),
            placeholder("nova.zone", "zone-1"),
            contains("zone-1", "compute-1"),
            contains("zone-1", "compute-1"),
            Change::RaiseAlarm { alarm: alarm("compute-1") },
            Change::ClearAlarm { alarm: alarm("compute-1") },
            Change::ClearAlarm { alarm: alarm("compute-1") },
            Change::DeleteResource { id: "zone-1".into() },
            Change::DeleteResource { id: "zone-1".into() },
        ],
    );
    let ops: Vec<String> =
        out.iter().map(|c| serde_json::to_value(c).expect("json")["op"].to_string()).collect();
    assert_eq!(
        ops,
        [
            "\"add_resource\"",
            "\"update_resource\"",
            "\"add_resource\"",
            "\"add_edge\"",
            "\"raise_alarm\"",
            "\"clear_alarm\"",
            "\"delete_resource\""
        ]
    );
    assert!(!is_placeholder_vertex(&r, "compute-1"));
    assert!(r.resource("zone-1").is_none());
}

#[test]
fn an_edge_deleted_with_its_end_is_gone_when_the_end_comes_back() {
    let mut r = runner();
    apply(&mut r, vec![host("compute-1", "c1"), host("compute-2", "c2")]);
    apply(&mut r, vec![contains("compute-1", "compute-2")]);
    let out = apply(
        &mut r,
        vec![
            Change::DeleteResource { id: "compute-2".into() },
            host("compute-2", "c2"),
            contains("compute-1", "compute-2"),
        ],
    );
    assert_eq!(out.len(), 3, "the edge went with its end, so it is added again: {out:?}");
}

#[test]
fn an_edge_to_an_absent_end_is_kept_so_that_the_batch_is_refused() {
    let r = runner();
    let out = resolve(&r, vec![contains("zone-1", "compute-1")]);
    assert_eq!(out.len(), 1);
    assert!(r.check(&out).is_err());
}

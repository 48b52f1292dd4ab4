use super::*;
use serde_json::json;

/// Vitrage's mapping example (doc/source/contributor/prometheus-datasource.rst), read as
/// BaseLoader reads it.
const MAPPING: &str = "alerts:\n- key:\n    alertname: HighCpuOnVmAlert\n    job: libvirt\n  resource:\n    instance_name: domain\n    host_id: instance\n- key:\n    alertname: NicDown\n  resource:\n    id: host\n";

/// A version 4 body as Alertmanager's notify/webhook sends it.
fn notification(status: &str, ends_at: &str) -> Value {
    json!({
        "version": "4", "groupKey": "{}:{alertname=\"NicDown\"}", "truncatedAlerts": 0,
        "status": status, "receiver": "causeway",
        "groupLabels": {"alertname": "NicDown"}, "commonLabels": {"alertname": "NicDown"},
        "commonAnnotations": {}, "externalURL": "http://am:9093",
        "alerts": [{
            "status": status,
            "labels": {"alertname": "NicDown", "host": "compute-1", "severity": "critical", "port": "1"},
            "annotations": {"summary": "NIC down"},
            "startsAt": "2023-02-06T13:08:45.828Z", "endsAt": ends_at,
            "generatorURL": "http://prom/graph", "fingerprint": "1a30ba71cca2921f"
        }]
    })
}

fn parse(v: Value) -> Notification {
    serde_json::from_value(v).expect("a v4 body")
}

#[test]
fn the_first_entry_whose_key_the_labels_include_gives_the_resource() {
    let mapping = Mapping::parse("prometheus_conf.yaml", MAPPING).expect("valid");
    let n = parse(notification("firing", "0001-01-01T00:00:00Z"));
    let want = Resource::from([("id".to_string(), "compute-1".to_string())]);
    assert_eq!(mapping.resource(&n.alerts[0]), Some(want));
    let mut other = n.alerts[0].clone();
    other.labels.insert("alertname".into(), "HighCpuOnVmAlert".into());
    assert_eq!(mapping.resource(&other), None, "no job label: the first entry does not match");
    other.labels.insert("job".into(), "libvirt".into());
    assert_eq!(mapping.resource(&other), None, "no domain label: nothing to look for");
}

#[test]
fn a_mapping_value_that_is_not_a_scalar_is_refused_with_its_place() {
    let e = Mapping::parse("m.yaml", "alerts:\n- key: {alertname: [a]}\n  resource: {id: host}\n")
        .expect_err("a list value");
    assert!(e.to_string().contains("alerts[0].key.alertname"), "{e}");
    assert_eq!(Mapping::parse("m.yaml", "").map(|m| m.alerts.len()), Ok(0));
}

#[test]
fn matching_compares_the_vertex_properties_as_strings() {
    let props = json!({"id": "compute-1", "port": 1}).as_object().cloned().expect("object");
    let r = |k: &str, v: &str| Resource::from([(k.to_string(), v.to_string())]);
    assert!(matches(&props, &r("id", "compute-1")));
    assert!(matches(&props, &r("port", "1")));
    assert!(!matches(&props, &r("id", "compute-2")));
    assert!(!matches(&props, &Resource::new()), "an empty resource matches nothing");
}

#[test]
fn a_firing_alert_raises_its_alarm_on_every_target_and_a_resolved_one_clears_it() {
    let n = parse(notification("firing", "0001-01-01T00:00:00Z"));
    Alertmanager::check(&n).expect("valid");
    let targets = vec!["compute-1".to_string(), "compute-2".to_string()];
    let routed = vec![Routed { alert: n.alerts[0].clone(), targets: targets.clone() }];
    let batches = Alertmanager.translate(routed).expect("translates");
    let [batch] = &batches[..] else { panic!("{batches:?}") };
    assert_eq!(batch.changes.len(), 2);
    let Change::RaiseAlarm { alarm } = &batch.changes[1] else { panic!("{batch:?}") };
    assert_eq!((alarm.name.as_str(), alarm.target.as_str()), ("NicDown", "compute-2"));
    assert_eq!((alarm.kind, alarm.severity()), (AlarmType::Prometheus, "critical"));
    assert_eq!(alarm.properties[FINGERPRINT], json!("1a30ba71cca2921f"));
    assert_eq!(alarm.properties["summary"], json!("NIC down"));
    assert_eq!(alarm.properties["port"], json!("1"));

    let r = parse(notification("resolved", "2023-02-06T13:18:45.828Z"));
    let routed = vec![Routed { alert: r.alerts[0].clone(), targets }];
    let cleared = Alertmanager.translate(routed).expect("translates");
    let Change::ClearAlarm { alarm: gone } = &cleared[0].changes[1] else { panic!("{cleared:?}") };
    assert_eq!(gone.key(), alarm.key(), "the clear names the alarm the firing raised");
    assert_ne!(cleared[0].request_id, batch.request_id);
}

#[test]
fn the_same_alert_sent_twice_carries_the_same_request_id() {
    let route = |n: Notification| vec![Routed { alert: n.alerts[0].clone(), targets: vec![] }];
    let a = Alertmanager.translate(route(parse(notification("firing", "x")))).expect("a");
    let b = Alertmanager.translate(route(parse(notification("firing", "y")))).expect("b");
    assert!(a[0].request_id.is_some());
    assert_eq!(a[0].request_id, b[0].request_id, "a firing alert is keyed by startsAt");
}

#[test]
fn bodies_that_are_not_version_4_alerts_are_refused() {
    let mut v = notification("firing", "x");
    v["version"] = json!("3");
    assert!(matches!(Alertmanager::check(&parse(v)), Err(AlertmanagerError::Version(_))));
    let mut v = notification("firing", "x");
    v["alerts"][0]["status"] = json!("pending");
    assert!(matches!(Alertmanager::check(&parse(v)), Err(AlertmanagerError::Status { .. })));
    let mut v = notification("firing", "x");
    v["alerts"][0]["labels"].as_object_mut().expect("labels").remove("alertname");
    assert!(matches!(Alertmanager::check(&parse(v)), Err(AlertmanagerError::Name(_))));
}

use super::*;
use serde_json::json;

/// The event `vitrage event post` sends for a host going down (Vitrage's own example).
fn event(status: &str, time: Option<&str>) -> Event {
    let details = json!({
        "hostname": "compute-1", "source": "sample_monitor", "cause": "link-down",
        "severity": "critical", "status": status, "monitor_id": "monitor-1",
        "monitor_event_id": "123",
    });
    let Value::Object(details) = details else { unreachable!() };
    Event { kind: "compute.host.down".into(), time: time.map(str::to_string), details }
}

fn one(event: Event) -> Batch {
    let mut batches = Doctor.translate(event).expect("translates");
    assert_eq!(batches.len(), 1);
    batches.remove(0)
}

#[test]
fn a_down_event_raises_the_alarm_named_by_its_type_on_a_host_placeholder() {
    let batch = one(event("down", Some("2016-04-12T08:00:00.12345")));
    assert_eq!(batch.changes[0], identity::placeholder("nova.host", "compute-1"));
    let Change::RaiseAlarm { alarm } = &batch.changes[1] else { panic!("{batch:?}") };
    assert_eq!((alarm.kind, alarm.name.as_str()), (AlarmType::Doctor, "compute.host.down"));
    assert_eq!((alarm.target.as_str(), alarm.severity()), ("compute-1", "critical"));
    assert_eq!(alarm.properties["cause"], json!("link-down"));
    assert_eq!(alarm.properties["monitor_event_id"], json!("123"));
    assert_eq!(alarm.properties["time"], json!("2016-04-12T08:00:00Z"));
    assert!(!alarm.properties.contains_key("severity"), "severity is the alarm's own");
}

#[test]
fn an_up_event_clears_the_alarm_and_mentions_no_host() {
    let batch = one(event("up", None));
    assert!(
        matches!(&batch.changes[..], [Change::ClearAlarm { alarm }] if alarm.target == "compute-1")
    );
}

#[test]
fn the_same_event_twice_carries_the_same_request_id() {
    let a = one(event("down", Some("2016-04-12T08:00:00")));
    let b = one(event("down", Some("2016-04-12T08:00:00")));
    let c = one(event("up", Some("2016-04-12T08:00:00")));
    assert!(a.request_id.is_some());
    assert_eq!(a.request_id, b.request_id);
    assert_ne!(a.request_id, c.request_id);
}

#[test]
fn an_event_without_status_or_hostname_means_nothing() {
    let mut e = event("down", None);
    e.details.remove("hostname");
    assert_eq!(Doctor.translate(e), Ok(Vec::new()));
}

#[test]
fn a_status_other_than_down_or_up_is_refused() {
    assert_eq!(
        Doctor.translate(event("sideways", None)),
        Err(DoctorError::Status("sideways".into()))
    );
}

#[test]
fn times_are_shown_as_vitrage_shows_them() {
    for (sent, shown) in [
        ("2016-04-12T08:00:00.12345", "2016-04-12T08:00:00Z"),
        ("2016-04-12T08:00:00", "2016-04-12T08:00:00Z"),
        ("2016-04-12 08:00:00.5Z", "2016-04-12T08:00:00Z"),
        ("2016-04-12T08:00:00+02:00", "2016-04-12T08:00:00Z"),
    ] {
        assert_eq!(vertex_time(sent).as_deref(), Ok(shown), "{sent}");
    }
    for bad in [
        "yesterday",
        "2016-04-12",
        "2016-04-12T08:00",
        "2016-4-12T08:00:00",
        "2016-04-12T08:00:00.",
        "2016-04-12T08:00:00 PM",
    ] {
        assert!(vertex_time(bad).is_err(), "{bad}");
    }
}

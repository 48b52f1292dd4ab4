//! Doctor and custom events on `POST /v1/event`, in-process over a real store: what
//! `vitrage event post` sends raises the alarm named by the event type on the host, an unknown
//! host becomes a placeholder the inventory fills in later, `status: up` clears the alarm.

mod common;

use axum::http::{Method, StatusCode};
use causeway::service::serve::{self, Running, ServeConfig};
use common::service::call;
use serde_json::{Value, json};

fn start(dir: &std::path::Path) -> Running {
    let _ = std::fs::remove_dir_all(dir);
    let config = ServeConfig { data_dir: dir.into(), ..ServeConfig::default() };
    serve::open(&config).expect("service starts")
}

/// The body `vitrage event post --type compute.host.down --details ...` sends: a zone-less
/// local time and the details as a JSON object.
fn event(host: &str, status: &str) -> Value {
    json!({
        "time": "2026-12-02T06:01:02.123456",
        "type": "compute.host.down",
        "details": {"hostname": host, "status": status, "source": "sample_monitor",
                    "cause": "link-down", "severity": "critical", "monitor_id": "monitor-1"},
    })
}

async fn doctor_alarms(running: &Running) -> Vec<Value> {
    let (_, alarms) =
        call(running, Method::GET, "/v1/alarm/?vitrage_id=all&all_tenants=true", None).await;
    let all = alarms.as_array().cloned().unwrap_or_default();
    all.into_iter().filter(|a| a["vitrage_type"] == "doctor").collect()
}

/// The resource the doctor alarm is on, as `vitrage resource show` shows it (lists and the
/// topology leave placeholders out, as Vitrage's do).
async fn alarmed_host(running: &Running) -> Value {
    let alarms = doctor_alarms(running).await;
    let [alarm] = &alarms[..] else { panic!("one doctor alarm: {alarms:?}") };
    let vitrage_id = alarm["vitrage_resource_id"].as_str().unwrap_or("");
    call(running, Method::GET, &format!("/v1/resources/{vitrage_id}"), None).await.1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_down_event_raises_the_doctor_alarm_with_its_details_and_up_clears_it() {
    let dir = std::env::temp_dir().join(format!("causeway-doctor-{}", std::process::id()));
    let running = start(&dir);
    let (status, answer) =
        call(&running, Method::POST, "/v1/event", Some(event("compute-1", "down"))).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let alarms = doctor_alarms(&running).await;
    let [alarm] = &alarms[..] else { panic!("{alarms:?}") };
    assert_eq!(alarm["name"], "compute.host.down");
    assert_eq!(alarm["resource_id"], "compute-1");
    assert_eq!(alarm["vitrage_operational_severity"], "CRITICAL");
    let (_, shown) = call(
        &running,
        Method::GET,
        &format!("/v1/alarm/{}", alarm["vitrage_id"].as_str().unwrap_or("")),
        None,
    )
    .await;
    assert_eq!(shown["cause"], "link-down", "{shown}");
    assert_eq!(shown["time"], "2026-12-02T06:01:02Z", "{shown}");

    let (status, _) =
        call(&running, Method::POST, "/v1/event", Some(event("compute-1", "up"))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doctor_alarms(&running).await.is_empty());
    // An up with nothing raised changes nothing and is still accepted.
    let (status, _) =
        call(&running, Method::POST, "/v1/event", Some(event("compute-1", "up"))).await;
    assert_eq!(status, StatusCode::OK);
    drop(running);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_on_an_unknown_host_raises_its_alarm_on_a_placeholder_the_inventory_fills_in() {
    let dir = std::env::temp_dir().join(format!("causeway-doctor-new-{}", std::process::id()));
    let running = start(&dir);
    let (status, answer) =
        call(&running, Method::POST, "/v1/event", Some(event("compute-9", "down"))).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let host = alarmed_host(&running).await;
    assert_eq!(
        (&host["id"], &host["vitrage_type"], &host["vitrage_is_placeholder"]),
        (&json!("compute-9"), &json!("nova.host"), &json!(true)),
        "{host}"
    );
    assert_eq!(doctor_alarms(&running).await.len(), 1);
    let (status, answer) = call(
        &running,
        Method::POST,
        "/v1/causeway/changes",
        Some(json!({"changes": [{"op": "update_resource", "id": "compute-9", "name": "compute-9", "properties": {"is_placeholder": false}}]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let host = alarmed_host(&running).await;
    assert_eq!(
        (&host["name"], &host["vitrage_is_placeholder"]),
        (&json!("compute-9"), &json!(false))
    );
    drop(running);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_events_get_a_json_400_and_change_nothing() {
    let dir = std::env::temp_dir().join(format!("causeway-doctor-bad-{}", std::process::id()));
    let running = start(&dir);
    let mut bad_time = event("compute-1", "down");
    bad_time["time"] = json!("yesterday");
    for body in [
        event("compute-1", "sideways"),
        bad_time,
        json!({"type": "compute.host.down", "details": "not json"}),
        json!({"details": {"hostname": "compute-1", "status": "down"}}),
    ] {
        let (status, answer) = call(&running, Method::POST, "/v1/event", Some(body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert!(answer["description"].as_str().is_some_and(|d| !d.is_empty()), "{answer}");
    }
    assert!(doctor_alarms(&running).await.is_empty());
    drop(running);
    let _ = std::fs::remove_dir_all(&dir);
}

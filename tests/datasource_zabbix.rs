//! Zabbix problem and recovery events, in the shape the media type of `tools/zabbix/` posts
//! them, on `POST /v1/causeway/zabbix` over a real store: the NIC use case of the shipped
//! templates fires from a problem on the demo cloud's host and clears on its recovery, and a
//! retried event changes nothing.

mod common;

use axum::http::{Method, StatusCode};
use causeway::service::serve::{self, Running, ServeConfig};
use common::service::call;
use serde_json::{Value, json};

fn start(dir: &std::path::Path, hosts: &str) -> Running {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("scratch");
    let file = dir.join("zabbix_conf.yaml");
    std::fs::write(&file, hosts).expect("host file");
    let mut config = ServeConfig { data_dir: dir.join("data"), ..ServeConfig::default() };
    config.zabbix.config_file = Some(file);
    serve::open(&config).expect("service starts")
}

/// The body the media type sends: each macro expanded by Zabbix to a string.
fn event(value: &str, event_id: &str) -> Value {
    json!({
        "host": "zbx-compute-1", "trigger_id": "13491", "trigger_name": "nic failure",
        "rawtext": "nic failure", "severity": "5", "event_id": event_id, "value": value,
        "time": "2026.12.02 06:01:02",
    })
}

async fn alarms(running: &Running) -> Vec<(String, String, String)> {
    let (_, list) =
        call(running, Method::GET, "/v1/alarm/?vitrage_id=all&all_tenants=true", None).await;
    let text = |a: &Value, k: &str| a[k].as_str().unwrap_or_default().to_string();
    let mut out: Vec<_> = list
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| (text(a, "vitrage_type"), text(a, "name"), text(a, "resource_id")))
        .collect();
    out.sort();
    out
}

async fn post(running: &Running, body: Value) -> (StatusCode, Value) {
    call(running, Method::POST, "/v1/causeway/zabbix", Some(body)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_problem_fires_the_nic_use_case_a_retry_changes_nothing_and_the_recovery_clears_it() {
    let dir = std::env::temp_dir().join(format!("causeway-zabbix-{}", std::process::id()));
    let hosts =
        "zabbix:\n  - zabbix_host: zbx-compute-1\n    type: nova.host\n    name: compute-1\n";
    let running = start(&dir, hosts);
    let (status, first) = post(&running, event("1", "2217")).await;
    assert_eq!((status, &first["duplicate"]), (StatusCode::OK, &json!(false)), "{first}");
    let now = alarms(&running).await;
    let nic = ("zabbix".to_string(), "nic failure".to_string(), "compute-1".to_string());
    assert!(now.contains(&nic), "{now:?}");
    let host = ("vitrage".to_string(), "host nic failure".to_string(), "compute-1".to_string());
    assert!(now.contains(&host), "the use case fires: {now:?}");
    let (_, shown) =
        call(&running, Method::GET, "/v1/alarm/?vitrage_id=all&all_tenants=true", None).await;
    let raw =
        shown.as_array().into_iter().flatten().find(|a| a["vitrage_type"] == "zabbix").cloned();
    assert_eq!(
        raw.map(|a| a["vitrage_operational_severity"].clone()),
        Some(json!("CRITICAL")),
        "DISASTER"
    );

    let (status, again) = post(&running, event("1", "2217")).await;
    assert_eq!(
        (status, &again["duplicate"], &again["seq"]),
        (StatusCode::OK, &json!(true), &first["seq"])
    );
    assert_eq!(alarms(&running).await, now, "a retry changes nothing");

    let (status, answer) = post(&running, event("0", "2217")).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(alarms(&running).await.is_empty(), "the recovery clears every alarm of the use case");
    drop(running);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_problem_on_a_host_the_inventory_has_not_reported_goes_on_a_placeholder() {
    let dir = std::env::temp_dir().join(format!("causeway-zabbix-new-{}", std::process::id()));
    let running = start(&dir, "zabbix: []\n");
    let mut body = event("1", "3001");
    body["host"] = json!("compute-7");
    let (status, answer) = post(&running, body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let now = alarms(&running).await;
    assert!(now.contains(&("zabbix".into(), "nic failure".into(), "compute-7".into())), "{now:?}");
    assert!(
        !now.iter().any(|a| a.1 == "host nic failure"),
        "a placeholder matches no template: {now:?}"
    );
    drop(running);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_zabbix_events_get_a_json_400() {
    let dir = std::env::temp_dir().join(format!("causeway-zabbix-bad-{}", std::process::id()));
    let running = start(&dir, "zabbix: []\n");
    let mut unknown = event("1", "1");
    unknown["colour"] = json!("red");
    let mut value = event("1", "1");
    value["value"] = json!("PROBLEM");
    let mut severity = event("1", "1");
    severity["severity"] = json!("9");
    for body in [json!({"host": "a"}), unknown, value, severity, json!([1, 2])] {
        let (status, answer) = post(&running, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert!(answer["description"].as_str().is_some_and(|d| !d.is_empty()), "{answer}");
    }
    assert!(alarms(&running).await.is_empty());
    drop(running);
    let _ = std::fs::remove_dir_all(&dir);
}

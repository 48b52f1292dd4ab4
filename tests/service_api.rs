//! The service in-process: the write side of the API over a real store in a scratch
//! directory. Bad requests get Vitrage's JSON error body and change nothing; template changes
//! evaluate over the current graph; a restart shows exactly what was there; webhooks get the
//! alarm notifications they filter for, retried when the receiver fails.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use causeway::service::serve::{self, Running, ServeConfig};
use common::service::call;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tower::ServiceExt;

/// A scratch data directory, removed at the end.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("causeway-api-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn start(dir: &Scratch) -> Running {
    let config =
        ServeConfig { data_dir: dir.0.clone(), body_limit: 64 * 1024, ..ServeConfig::default() };
    serve::open(&config).expect("service starts")
}

async fn push(running: &Running, changes: Value) -> (StatusCode, Value) {
    call(running, Method::POST, "/v1/causeway/changes", Some(json!({"changes": changes}))).await
}

fn nic(op: &str) -> Value {
    json!({"op": op, "alarm": {"type": "zabbix", "name": "nic failure", "target": "compute-1"}})
}

async fn alarm_names(running: &Running) -> Vec<String> {
    let (_, alarms) =
        call(running, Method::GET, "/v1/alarm/?vitrage_id=all&all_tenants=true", None).await;
    let mut names: Vec<String> = alarms
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            format!(
                "{} on {}",
                a["name"].as_str().unwrap_or(""),
                a["resource_id"].as_str().unwrap_or("")
            )
        })
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_a_4xx_json_body_and_change_nothing() {
    let dir = Scratch::new("bad");
    let running = start(&dir);
    let cases = [
        (
            Method::POST,
            "/v1/causeway/changes",
            Some(json!({"changes": "not a list"})),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/v1/causeway/changes",
            Some(json!({"nothing": []})),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/v1/causeway/changes",
            Some(
                json!({"changes": [nic("raise_alarm"), {"op": "delete_resource", "id": "compute-9"}]}),
            ),
            StatusCode::BAD_REQUEST,
        ),
        (Method::GET, "/v1/alarm/no-such-alarm", None, StatusCode::NOT_FOUND),
        (
            Method::DELETE,
            "/v1/template",
            Some(json!({"id": ["no-such-template"]})),
            StatusCode::NOT_FOUND,
        ),
        (Method::POST, "/v1/webhook", Some(json!({"url": "not a url"})), StatusCode::BAD_REQUEST),
        (Method::POST, "/v1/event", Some(json!({"details": {}})), StatusCode::BAD_REQUEST),
    ];
    for (method, path, body, want) in cases {
        let (status, answer) = call(&running, method.clone(), path, body).await;
        assert_eq!(status, want, "{method} {path}: {answer}");
        assert_eq!(answer["code"], want.as_u16(), "{answer}");
        assert!(answer["description"].as_str().is_some_and(|d| !d.is_empty()), "{answer}");
    }
    let (status, answer) =
        push(&running, json!([{"op": "delete_resource", "id": "compute-9"}])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["description"], "change 0: id: unknown resource \"compute-9\"");
    let oversized = "x".repeat(70 * 1024);
    let (status, answer) = call(
        &running,
        Method::POST,
        "/v1/causeway/changes",
        Some(json!({"changes": [], "pad": oversized})),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    // The refused batch raised nothing, and the service still serves.
    assert!(alarm_names(&running).await.is_empty());
    assert_eq!(push(&running, json!([nic("raise_alarm")])).await.0, StatusCode::OK);
    assert!(alarm_names(&running).await.contains(&"nic failure on compute-1".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resent_request_id_is_applied_once() {
    let dir = Scratch::new("resend");
    let running = start(&dir);
    let body = json!({"changes": [nic("raise_alarm")], "request_id": "monitor-42"});
    let (_, first) = call(&running, Method::POST, "/v1/causeway/changes", Some(body.clone())).await;
    let (_, again) = call(&running, Method::POST, "/v1/causeway/changes", Some(body)).await;
    assert_eq!(
        (first["duplicate"].clone(), again["duplicate"].clone()),
        (json!(false), json!(true))
    );
    assert_eq!(first["seq"], again["seq"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_service_shows_exactly_what_it_showed_before() {
    let dir = Scratch::new("restart");
    let before = {
        let running = start(&dir);
        push(&running, json!([nic("raise_alarm")])).await;
        let (_, alarms) = call(&running, Method::GET, "/v1/alarm/?all_tenants=true", None).await;
        let (_, topology) =
            call(&running, Method::POST, "/v1/topology/", Some(json!({"all_tenants": true}))).await;
        (alarms, topology)
    };
    let running = start(&dir);
    let (_, alarms) = call(&running, Method::GET, "/v1/alarm/?all_tenants=true", None).await;
    let (_, topology) =
        call(&running, Method::POST, "/v1/topology/", Some(json!({"all_tenants": true}))).await;
    assert!(alarms.as_array().is_some_and(|a| a.len() >= 5), "{alarms}");
    assert_eq!((alarms, topology), before, "ids, timestamps, states and edges are the same");
}

const QUIET_HOSTS: &str = "metadata:\n  version: 3\n  name: quiet_host\n  type: standard\nentities:\n  host:\n    category: RESOURCE\n    type: nova.host\n  nic:\n    category: ALARM\n    type: zabbix\nscenarios:\n  - condition: nic [on] host\n    actions:\n      - raise_alarm:\n          target: host\n          alarm_name: host needs a look\n          severity: WARNING\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_added_acts_on_the_current_graph_and_its_deletion_undoes_it() {
    let dir = Scratch::new("templates");
    let running = start(&dir);
    push(&running, json!([nic("raise_alarm")])).await;
    let add =
        json!({"templates": [["quiet.yaml", QUIET_HOSTS]], "template_type": null, "params": {}});
    let (status, added) = call(&running, Method::PUT, "/v1/template/", Some(add)).await;
    assert_eq!(status, StatusCode::OK, "{added}");
    assert_eq!(added[0]["status"], "ACTIVE", "{added}");
    assert!(alarm_names(&running).await.contains(&"host needs a look on compute-1".to_string()));
    let broken =
        QUIET_HOSTS.replace("quiet_host", "broken").replace("nic [on] host", "nic [on] nobody");
    let (_, refused) = call(
        &running,
        Method::PUT,
        "/v1/template/",
        Some(json!({"templates": [["broken.yaml", broken]], "template_type": null})),
    )
    .await;
    assert_eq!(refused[0]["status"], "ERROR", "{refused}");
    let (_, listed) = call(&running, Method::GET, "/v1/template/", None).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(5), "3 shipped, 1 added, 1 broken: {listed}");
    let (status, _) =
        call(&running, Method::DELETE, "/v1/template/", Some(json!({"id": ["quiet_host"]}))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!alarm_names(&running).await.contains(&"host needs a look on compute-1".to_string()));
}

/// A webhook receiver that fails its first `failures` requests with 500.
async fn receiver(failures: usize) -> (String, Arc<Mutex<Vec<Value>>>) {
    let got: Arc<Mutex<Vec<Value>>> = Arc::default();
    let tries = Arc::new(Mutex::new(0usize));
    let (g, t) = (got.clone(), tries.clone());
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let (g, t) = (g.clone(), t.clone());
            async move {
                let mut n = t.lock().expect("lock");
                *n += 1;
                if *n <= failures {
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                g.lock().expect("lock").push(body);
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_get_the_alarms_they_filter_for_and_are_retried_when_the_receiver_fails() {
    let dir = Scratch::new("webhooks");
    let running = start(&dir);
    let (url, got) = receiver(2).await;
    let hook = json!({"url": url, "regex_filter": "{'name': 'host nic'}", "headers": "{'X-Token': 'abc'}"});
    let (status, added) = call(&running, Method::POST, "/v1/webhook/", Some(hook)).await;
    assert_eq!(status, StatusCode::OK, "{added}");
    let (_, listed) = call(&running, Method::GET, "/v1/webhook/", None).await;
    assert_eq!(listed[0]["url"], url);
    push(&running, json!([nic("raise_alarm")])).await;
    push(&running, json!([nic("clear_alarm")])).await;
    let mut seen = Vec::new();
    for _ in 0..100 {
        seen = got.lock().expect("lock").clone();
        if seen.len() >= 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let kinds: Vec<(String, String)> = seen
        .iter()
        .map(|n| {
            (
                n["notification"].as_str().unwrap_or("").into(),
                n["payload"]["name"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    // Only "host nic failure" matches the filter: activated then deactivated, each as an
    // alarm and as a deduced alarm; the first two tries failed and were retried.
    let all = [
        "vitrage.alarm.activate",
        "vitrage.deduced_alarm.activate",
        "vitrage.alarm.deactivate",
        "vitrage.deduced_alarm.deactivate",
    ];
    for want in all {
        assert!(kinds.contains(&(want.into(), "host nic failure".into())), "{want} in {kinds:?}");
    }
    assert!(kinds.iter().all(|(_, name)| name == "host nic failure"), "{kinds:?}");
    let scraped = causeway::service::service(running.state.clone())
        .oneshot(Request::builder().uri("/metrics").body(Body::empty()).expect("request"))
        .await
        .expect("metrics");
    let bytes =
        http_body_util::BodyExt::collect(scraped.into_body()).await.expect("body").to_bytes();
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("causeway_webhook_deliveries_total{outcome=\"retried\"} 2"), "{text}");
    assert!(text.contains("causeway_events_total{source=\"push\"} 2"), "{text}");
    let id = added["id"].as_str().unwrap_or("");
    let (status, deleted) =
        call(&running, Method::DELETE, &format!("/v1/webhook/{id}"), None).await;
    assert_eq!((status, deleted["SUCCESS"].as_str().is_some()), (StatusCode::OK, true));
}

fn execution_ids(dir: &Scratch) -> Vec<String> {
    let reader = causeway::store::Reader::open(&dir.0).expect("reader");
    let mut ids: Vec<String> = reader
        .outbox_requests()
        .expect("outbox")
        .into_iter()
        .map(|r| r.request.execution_id)
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_data_directory_has_its_own_execution_ids_and_keeps_them_across_restarts() {
    let (one, two) = (Scratch::new("deploy-one"), Scratch::new("deploy-two"));
    for dir in [&one, &two] {
        let running = start(dir);
        push(&running, json!([nic("raise_alarm")])).await;
    }
    let (first, second) = (execution_ids(&one), execution_ids(&two));
    assert_eq!(first.len(), 3, "one migration per instance of compute-1");
    assert!(
        first.iter().all(|id| !second.contains(id)),
        "a fresh start must not reuse ids Mistral knows"
    );
    let running = start(&one);
    push(&running, json!([nic("clear_alarm")])).await;
    assert_eq!(execution_ids(&one), first, "a restart re-derives the same ids");
}

//! Benchmarks (ignored by default; README "Mistral" shows the figures and the command):
//!
//! - alarm `POST` to causeway → Mistral `POST /v2/executions` issued, p50/p99, against the real
//!   Mistral (`CAUSEWAY_MISTRAL_URL`) behind a recording proxy in this process;
//! - the dispatch rate against a stand-in that answers at once.

mod mistral_support;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use mistral_support::*;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Proxy {
    arrivals: Mutex<Vec<Instant>>,
    upstream: Option<String>,
    http: reqwest::Client,
}

async fn executions(State(p): State<Arc<Proxy>>, body: Bytes) -> (StatusCode, Bytes) {
    p.arrivals.lock().expect("lock").push(Instant::now());
    let Some(up) = &p.upstream else {
        let v: Value = serde_json::from_slice(&body).unwrap_or_default();
        let answer = json!({"id": v["id"], "state": "SUCCESS", "state_info": null});
        return (StatusCode::CREATED, Bytes::from(answer.to_string()));
    };
    let r = p
        .http
        .post(format!("{up}/v2/executions"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await;
    match r {
        Ok(r) => (
            StatusCode::from_u16(r.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY),
            r.bytes().await.unwrap_or_default(),
        ),
        Err(_) => (StatusCode::BAD_GATEWAY, Bytes::new()),
    }
}

async fn execution(State(p): State<Arc<Proxy>>, Path(id): Path<String>) -> (StatusCode, Bytes) {
    let Some(up) = &p.upstream else {
        return (StatusCode::OK, Bytes::from(json!({"id": id, "state": "SUCCESS"}).to_string()));
    };
    match p.http.get(format!("{up}/v2/executions/{id}")).send().await {
        Ok(r) => (
            StatusCode::from_u16(r.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY),
            r.bytes().await.unwrap_or_default(),
        ),
        Err(_) => (StatusCode::BAD_GATEWAY, Bytes::new()),
    }
}

fn proxy(upstream: Option<String>) -> (Arc<Proxy>, String, tokio::runtime::Runtime) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let p = Arc::new(Proxy {
        arrivals: Mutex::new(Vec::new()),
        upstream,
        http: reqwest::Client::new(),
    });
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let app = Router::new()
        .route("/v2/executions", post(executions))
        .route("/v2/executions/{id}", get(execution))
        .route("/v2/workflows", get(|| async { Json(json!({"workflows": []})) }))
        .with_state(p.clone());
    runtime.spawn(async move { axum::serve(listener, app).await });
    (p, url, runtime)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[test]
#[ignore = "benchmark"]
fn bench_alarm_to_mistral_post_latency() {
    let Some(url) = real_mistral("bench_latency") else { return };
    Mistral(url.clone()).workflow("migrate_bench");
    latency("real Mistral", Some(url));
}

/// The same cycles against a stand-in that answers at once: what causeway itself adds, without
/// Mistral's own work competing for the machine's two cores.
#[test]
#[ignore = "benchmark"]
fn bench_alarm_to_post_latency_against_a_stand_in() {
    latency("stand-in", None);
}

fn latency(against: &str, upstream: Option<String>) {
    let dir = Scratch::new("bench-latency");
    let templates = nic_template(dir.path(), "nic_failure_bench", "migrate_bench");
    let (proxy, purl, _rt) = proxy(upstream);
    let data = dir.path().join("data");
    let args = ["--mistral-url", &purl, "--templates", templates.to_str().expect("path")];
    let serve = Serve::start(&data, &args, &[]);
    let mut first = Vec::new();
    let mut third = Vec::new();
    for _ in 0..40 {
        let before = proxy.arrivals.lock().expect("lock").len();
        let sent = Instant::now();
        assert_eq!(serve.post("/v1/causeway/changes", RAISE).0, 200);
        let arrived = eventually(Duration::from_secs(10), "three POSTs", || {
            let a = proxy.arrivals.lock().expect("lock");
            (a.len() >= before + 3).then(|| (a[before], a[before + 2]))
        });
        first.push(arrived.0 - sent);
        third.push(arrived.1 - sent);
        assert_eq!(serve.post("/v1/causeway/changes", CLEAR).0, 200);
    }
    first.sort();
    third.sort();
    let (_, metrics) = http(&serve.url(), "GET", "/metrics", "", "text/plain");
    let totals = ["causeway_mistral_queued_seconds_", "causeway_mistral_dispatch_seconds_"];
    let total = |l: &&str| {
        totals
            .iter()
            .any(|t| l.starts_with(&format!("{t}sum")) || l.starts_with(&format!("{t}count")))
    };
    for line in metrics.lines().filter(total) {
        println!("{line}");
    }
    println!(
        "{against}: alarm -> first POST /v2/executions: p50 {:?} p99 {:?}; -> third: p50 {:?} p99 {:?} (n={})",
        percentile(&first, 0.5),
        percentile(&first, 0.99),
        percentile(&third, 0.5),
        percentile(&third, 0.99),
        first.len()
    );
}

#[test]
#[ignore = "benchmark"]
fn bench_dispatch_rate() {
    let (proxy, purl, _rt) = proxy(None);
    let dir = Scratch::new("bench-rate");
    let n = 2000;
    let mut changes =
        vec![json!({"op": "add_resource", "resource": {"id": "big-host", "type": "nova.host"}})];
    for i in 0..n {
        changes.push(json!({"op": "add_resource", "resource": {"id": format!("vm-{i}"), "type": "nova.instance"}}));
        changes.push(json!({"op": "add_edge", "source": "big-host", "target": format!("vm-{i}"), "relationship_type": "contains"}));
    }
    let serve = Serve::start(dir.path(), &["--mistral-url", &purl], &[]);
    assert_eq!(serve.post("/v1/causeway/changes", &json!({"changes": changes}).to_string()).0, 200);
    let started = Instant::now();
    assert_eq!(serve.post("/v1/causeway/changes", &RAISE.replace("compute-1", "big-host")).0, 200);
    eventually(Duration::from_secs(120), "every POST", || {
        (proxy.arrivals.lock().expect("lock").len() >= n).then_some(())
    });
    let a = proxy.arrivals.lock().expect("lock").clone();
    let span = a[n - 1] - a[0];
    println!(
        "dispatch rate: {n} executions in {span:?} from first to last POST ({:.0}/s); alarm to last POST {:?}",
        n as f64 / span.as_secs_f64(),
        a[n - 1] - started
    );
}

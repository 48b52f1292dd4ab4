//! The page's server side in-process, without a browser: `GET /` by `Accept`, the embedded
//! assets, the auth token (the page open, data behind the token, the stream taking it in its
//! query), the event stream's hints for alarms and executions, and the explanation of an alarm;
//! and, with the real binary, that an open stream does not keep SIGTERM from stopping it.

mod common;
mod mistral_support;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use causeway::service::serve::{self, Running, ServeConfig};
use common::service::call;
use http_body_util::BodyExt;
use mistral_support::Scratch;
use serde_json::{Value, json};
use std::time::Duration;
use tower::ServiceExt;

fn start(dir: &Scratch, auth_token: Option<&str>) -> Running {
    let config = ServeConfig {
        data_dir: dir.path().join("data"),
        auth_token: auth_token.map(str::to_string),
        ..ServeConfig::default()
    };
    serve::open(&config).expect("service starts")
}

/// A GET with `headers`; the response.
async fn get(running: &Running, path: &str, headers: &[(&str, &str)]) -> axum::response::Response {
    let mut request = Request::builder().method(Method::GET).uri(path);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let request = request.body(Body::empty()).expect("request");
    causeway::service::service(running.state.clone()).oneshot(request).await.expect("answer")
}

async fn text(response: axum::response::Response) -> String {
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    String::from_utf8_lossy(&bytes).to_string()
}

fn content_type(response: &axum::response::Response) -> String {
    let value = response.headers().get(header::CONTENT_TYPE);
    value.and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

const RAISE: &str = r#"{"changes": [{"op": "raise_alarm", "alarm": {"type": "zabbix", "name": "nic failure", "target": "compute-1"}}]}"#;

async fn raise(running: &Running) {
    let body: Value = serde_json::from_str(RAISE).expect("json");
    let (code, answer) = call(running, Method::POST, "/v1/causeway/changes", Some(body)).await;
    assert_eq!(code, StatusCode::OK, "{answer}");
}

/// The `vitrage_id` of the alarm `name` on resource `resource`.
async fn alarm_id(running: &Running, name: &str, resource: &str) -> String {
    let (_, alarms) = call(running, Method::GET, "/v1/alarm/?all_tenants=true", None).await;
    let list = alarms.as_array().cloned().unwrap_or_default();
    let found = list.iter().find(|a| a["name"] == name && a["resource_id"] == resource);
    let found = found.unwrap_or_else(|| panic!("no {name} on {resource} in {alarms}"));
    found["vitrage_id"].as_str().expect("vitrage_id").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_gets_the_page_at_the_root_and_the_vitrage_client_its_versions() {
    let dir = Scratch::new("web-root");
    let running = start(&dir, None);
    let page = get(&running, "/", &[("accept", "text/html,application/xhtml+xml,*/*;q=0.8")]).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(content_type(&page).starts_with("text/html"), "{}", content_type(&page));
    assert!(text(page).await.contains("<title>causeway"));
    let (code, versions) = call(&running, Method::GET, "/", None).await;
    assert_eq!(code, StatusCode::OK);
    assert!(versions["versions"].is_array(), "{versions}");
    let script = get(&running, "/web/vendor/cytoscape.min.js", &[]).await;
    assert_eq!(script.status(), StatusCode::OK);
    assert!(content_type(&script).starts_with("text/javascript"));
    let (code, missing) = call(&running, Method::GET, "/web/nothing.js", None).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert!(missing["description"].as_str().unwrap_or("").contains("nothing.js"), "{missing}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_token_the_page_loads_its_data_needs_the_token_and_only_the_stream_takes_it_in_the_query()
 {
    let dir = Scratch::new("web-token");
    let running = start(&dir, Some("s3cret"));
    let html = [("accept", "text/html")];
    assert_eq!(get(&running, "/", &html).await.status(), StatusCode::OK);
    assert_eq!(get(&running, "/web/app.js", &[]).await.status(), StatusCode::OK);
    let status = |path: &'static str, headers: &'static [(&'static str, &'static str)]| {
        let running = &running;
        async move { get(running, path, headers).await.status() }
    };
    assert_eq!(status("/v1/causeway/stream", &[]).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status("/v1/causeway/stream?token=guess", &[]).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status("/v1/alarm?token=s3cret", &[]).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status("/v1/alarm", &[("x-auth-token", "s3cret")]).await, StatusCode::OK);
    let stream = get(&running, "/v1/causeway/stream?token=s3cret", &[]).await;
    assert_eq!(stream.status(), StatusCode::OK);
    assert!(content_type(&stream).starts_with("text/event-stream"));
}

/// Reads server-sent events from `body` until one named `kind` whose data satisfies `wanted`,
/// and takes it out of `seen`.
async fn until_event(
    body: &mut Body,
    seen: &mut String,
    kind: &str,
    wanted: impl Fn(&Value) -> bool,
) -> Value {
    // A hang guard, not a speed assertion: the event comes after a local evaluation. It bounds
    // the whole wait, since keep-alive comments arrive every 15 s.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        for block in seen.split("\n\n").map(str::to_string).collect::<Vec<_>>() {
            let field = |name: &str| {
                block.lines().find_map(|l| l.strip_prefix(name)).map(|v| v.trim().to_string())
            };
            if field("event:").as_deref() == Some(kind) {
                let data: Value =
                    field("data:").and_then(|d| serde_json::from_str(&d).ok()).unwrap_or_default();
                if wanted(&data) {
                    // Only this event is taken: the others stay for later waits, since the
                    // stream may send a view's `graph` before or after its alarms' events.
                    *seen = seen.replacen(&format!("{block}\n\n"), "", 1);
                    return data;
                }
            }
        }
        let frame = tokio::time::timeout_at(deadline, body.frame()).await;
        let frame = frame.unwrap_or_else(|_| panic!("no {kind} event in: {seen}"));
        let frame = frame.expect("the stream stays open").expect("a frame");
        if let Ok(data) = frame.into_data() {
            seen.push_str(&String::from_utf8_lossy(&data));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_tells_of_new_alarms_a_new_view_and_a_manual_run_request() {
    let dir = Scratch::new("web-stream");
    let running = start(&dir, None);
    let response = get(&running, "/v1/causeway/stream", &[]).await;
    let mut body = response.into_body();
    let mut seen = String::new();
    let hello = until_event(&mut body, &mut seen, "hello", |_| true).await;
    let before = hello["generation"].as_u64().expect("generation");
    raise(&running).await;
    let deduced = until_event(&mut body, &mut seen, "alarm", |d| {
        d["type"] == "vitrage.deduced_alarm.activate"
    })
    .await;
    assert!(deduced["vitrage_id"].is_string() && deduced["resource"].is_string(), "{deduced}");
    let graph = until_event(&mut body, &mut seen, "graph", |_| true).await;
    assert!(graph["generation"].as_u64() > Some(before), "{graph} after {hello}");

    let (_, resources) = call(&running, Method::GET, "/v1/resources/?all_tenants=true", None).await;
    let web1 = resources.as_array().into_iter().flatten().find(|r| r["id"] == "web-1");
    let web1 = web1.expect("web-1")["vitrage_id"].clone();
    let run = json!({"resource_id": web1, "workflow": "migrate_instance", "input": {"instance_id": "web-1"}});
    let (code, request) = call(&running, Method::POST, "/v1/causeway/executions", Some(run)).await;
    assert_eq!(code, StatusCode::ACCEPTED, "{request}");
    let id = request["execution_id"].clone();
    let execution =
        until_event(&mut body, &mut seen, "execution", |d| d["execution_id"] == id).await;
    assert_eq!(execution["state"], "PENDING", "{execution}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deduced_alarm_is_explained_by_its_template_scenario_and_bound_resources() {
    let dir = Scratch::new("web-explain");
    let running = start(&dir, None);
    raise(&running).await;
    let instance = alarm_id(&running, "instance unreachable", "web-1").await;
    let path = format!("/v1/causeway/explain/{instance}?all_tenants=true");
    let (code, why) = call(&running, Method::GET, &path, None).await;
    assert_eq!(code, StatusCode::OK, "{why}");
    assert_eq!(why["deduced"], true);
    assert_eq!(why["alarm"]["resource"]["id"], "web-1", "{why}");
    let causes: Vec<&Value> = why["caused_by"].as_array().into_iter().flatten().collect();
    assert_eq!(causes.len(), 1, "{why}");
    assert_eq!(causes[0]["name"], "host nic failure");
    assert_eq!(causes[0]["resource"]["id"], "compute-1");
    let scenarios = why["scenarios"].as_array().cloned().unwrap_or_default();
    assert_eq!(scenarios.len(), 1, "{why}");
    assert_eq!(scenarios[0]["template"], "nic_failure");
    assert_eq!(scenarios[0]["scenario"], "nic_failure-scenario1");
    assert_eq!(scenarios[0]["causing_entity"], "host_alarm");
    // The engine's own record of the match: the instance, its host and the host's alarm.
    assert_eq!(scenarios[0]["in_effect"], true, "{why}");
    let matched: Vec<String> = scenarios[0]["matched"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            format!(
                "{}:{}",
                m["vitrage_type"].as_str().unwrap_or(""),
                m["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    for wanted in ["nova.instance:web-1", "nova.host:compute-1", "vitrage:host nic failure"] {
        assert!(matched.iter().any(|m| m == wanted), "{wanted} not in {matched:?}");
    }

    let nic = alarm_id(&running, "nic failure", "compute-1").await;
    let path = format!("/v1/causeway/explain/{nic}?all_tenants=true");
    let (_, external) = call(&running, Method::GET, &path, None).await;
    assert_eq!(external["deduced"], false, "{external}");
    assert!(external["why"].as_str().unwrap_or("").contains("zabbix"), "{external}");
    assert_eq!(external["scenarios"], json!([]));

    let (code, missing) = call(&running, Method::GET, "/v1/causeway/explain/nope", None).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert!(missing["description"].as_str().unwrap_or("").contains("nope"), "{missing}");
}

#[test]
fn sigterm_stops_the_service_while_a_page_holds_its_event_stream_open() {
    use std::io::{BufRead, BufReader, Write};
    let dir = Scratch::new("web-sigterm");
    let serve = mistral_support::Serve::start(&dir.path().join("data"), &[], &[]);
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", serve.port)).expect("connect");
    let request = "GET /v1/causeway/stream HTTP/1.1\r\nHost: localhost\r\n\r\n";
    stream.write_all(request.as_bytes()).expect("send");
    let mut lines = BufReader::new(stream.try_clone().expect("clone"));
    let mut line = String::new();
    while !line.starts_with("event: hello") {
        line.clear();
        assert!(lines.read_line(&mut line).expect("read") > 0, "the stream ended before hello");
    }
    let pid = serve.child.id().to_string();
    let killed = std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    assert!(killed.success());
    serve.wait_exit(Duration::from_secs(30));
}

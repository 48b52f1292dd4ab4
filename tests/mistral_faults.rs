//! Mistral faults a real Mistral cannot be made to show, against a stand-in (an axum server in
//! the test process): down then up, 5xx for a while, answers slower than the timeout, a 4xx,
//! no Mistral configured, and Keystone v3 tokens with renewal on expiry and on a 401.

mod mistral_support;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use mistral_support::*;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Copy)]
enum Mode {
    Accept,
    /// 500 for the first n POSTs of each id.
    Fail(usize),
    /// The first POST of each id creates it but answers after this long.
    Slow(Duration),
    Refuse,
}

struct Seen {
    mode: Mode,
    executions: HashMap<String, Value>,
    posts: Vec<(String, Instant)>,
    tokens: Vec<String>,
    revoked: HashSet<String>,
    keystone: bool,
    lifetime_s: i64,
    base: String,
}

type Shared = Arc<Mutex<Seen>>;

struct StandIn {
    seen: Shared,
    _runtime: tokio::runtime::Runtime,
}

impl StandIn {
    fn start(addr: SocketAddr, mode: Mode) -> (StandIn, String) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let listener = runtime.block_on(tokio::net::TcpListener::bind(addr)).expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let seen = Arc::new(Mutex::new(Seen {
            mode,
            executions: HashMap::new(),
            posts: Vec::new(),
            tokens: Vec::new(),
            revoked: HashSet::new(),
            keystone: false,
            lifetime_s: 3600,
            base: base.clone(),
        }));
        let app = Router::new()
            .route("/v2/executions", post(start_execution))
            .route("/v2/executions/{id}", get(show_execution))
            .route(
                "/v2/workflows",
                get(|| async { Json(json!({"workflows": [{"name": "stand_in"}]})) }),
            )
            .route("/v3/auth/tokens", post(issue_token))
            .with_state(seen.clone());
        runtime.spawn(async move { axum::serve(listener, app).await });
        (StandIn { seen, _runtime: runtime }, base)
    }

    fn posts_of(&self, id: &str) -> Vec<Instant> {
        self.seen
            .lock()
            .expect("lock")
            .posts
            .iter()
            .filter(|(i, _)| i == id)
            .map(|(_, t)| *t)
            .collect()
    }
    fn created(&self) -> usize {
        self.seen.lock().expect("lock").executions.len()
    }
}

fn authorized(seen: &Seen, headers: &HeaderMap) -> bool {
    let token = headers.get("x-auth-token").and_then(|v| v.to_str().ok()).unwrap_or("");
    !seen.keystone || (seen.tokens.iter().any(|t| t == token) && !seen.revoked.contains(token))
}

async fn start_execution(
    State(seen): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let id = body["id"].as_str().unwrap_or_default().to_string();
    let (mode, first, answer) = {
        let mut s = seen.lock().expect("lock");
        if !authorized(&s, &headers) {
            return (StatusCode::UNAUTHORIZED, Json(json!({"faultstring": "unauthorized"})));
        }
        s.posts.push((id.clone(), Instant::now()));
        let tries = s.posts.iter().filter(|(i, _)| *i == id).count();
        let answer = json!({"id": id, "state": "RUNNING", "state_info": null});
        (s.mode, tries == 1, (tries, answer))
    };
    let create = || {
        seen.lock().expect("lock").executions.entry(id.clone()).or_insert(answer.1.clone()).clone()
    };
    match mode {
        Mode::Refuse => (
            StatusCode::BAD_REQUEST,
            Json(
                json!({"faultcode": "Client", "faultstring": "Invalid input [name=w, missing=['host']]"}),
            ),
        ),
        Mode::Fail(n) if answer.0 <= n => {
            (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"faultstring": "boom"})))
        }
        Mode::Slow(d) if first => {
            let e = create();
            tokio::time::sleep(d).await;
            (StatusCode::CREATED, Json(e))
        }
        _ => (StatusCode::CREATED, Json(create())),
    }
}

async fn show_execution(
    State(seen): State<Shared>,
    Path(id): Path<String>,
) -> (StatusCode, Json<Value>) {
    match seen.lock().expect("lock").executions.get(&id) {
        Some(_) => {
            (StatusCode::OK, Json(json!({"id": id, "state": "SUCCESS", "state_info": null})))
        }
        None => {
            (StatusCode::NOT_FOUND, Json(json!({"faultstring": "WorkflowExecution not found"})))
        }
    }
}

async fn issue_token(State(seen): State<Shared>) -> (StatusCode, HeaderMap, Json<Value>) {
    let mut s = seen.lock().expect("lock");
    let token = format!("token-{}", s.tokens.len() + 1);
    s.tokens.push(token.clone());
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_micros() as i64
        + s.lifetime_s * 1_000_000;
    let expires = causeway::store::Timestamp::from_unix_micros(micros).expect("time");
    let mut headers = HeaderMap::new();
    headers.insert("x-subject-token", token.parse().expect("header"));
    let body = json!({"token": {"expires_at": expires.as_str(), "catalog": [
        {"type": "identity", "endpoints": [{"interface": "public", "url": "http://127.0.0.1:1/"}]},
        {"type": "workflowv2", "endpoints": [
            {"interface": "internal", "url": "http://127.0.0.1:1/v2"},
            {"interface": "public", "url": format!("{}/v2", s.base)}]},
    ]}});
    (StatusCode::CREATED, headers, Json(body))
}

fn free_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}

fn settle(serve: &Serve, n: usize, state: &str) -> Vec<Value> {
    eventually(Duration::from_secs(30), &format!("{n} executions {state}"), || {
        let list = serve.executions("");
        (list.len() == n && list.iter().all(|e| e["state"] == state)).then_some(list)
    })
}

fn serve_against(dir: &Scratch, url: &str, extra: &[&str]) -> Serve {
    let mut args = vec![
        "--mistral-url",
        url,
        "--mistral-poll-ms",
        "50",
        "--mistral-backoff-min-ms",
        "100",
        "--mistral-backoff-max-ms",
        "400",
    ];
    args.extend_from_slice(extra);
    Serve::start(dir.path(), &args, &[])
}

#[test]
fn mistral_down_then_up_every_request_is_sent_once_and_evaluation_goes_on() {
    let dir = Scratch::new("down-up");
    let addr = free_addr();
    let serve = serve_against(&dir, &format!("http://{addr}"), &[]);
    assert_eq!(serve.post("/v1/causeway/changes", RAISE).0, 200);
    let waiting = eventually(Duration::from_secs(20), "retried while down", || {
        let list = serve.executions("");
        (list.len() == 3 && list.iter().all(|e| e["attempts"].as_u64() >= Some(3))).then_some(list)
    });
    assert!(waiting.iter().all(|e| e["state"] == "DISPATCHED"), "{waiting:?}");
    // Nothing blocks evaluation meanwhile.
    let started = Instant::now();
    let other = RAISE.replace("compute-1", "compute-2");
    assert_eq!(serve.post("/v1/causeway/changes", &other).0, 200);
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    let (stand_in, _) = StandIn::start(addr, Mode::Accept);
    let done = settle(&serve, 5, "SUCCESS");
    assert_eq!(stand_in.created(), 5);
    for e in &done {
        assert_eq!(stand_in.posts_of(e["execution_id"].as_str().expect("id")).len(), 1, "{e}");
    }
}

#[test]
fn five_hundreds_for_a_while_are_retried_within_the_backoff_bounds() {
    let dir = Scratch::new("5xx");
    let (stand_in, url) = StandIn::start(free_addr(), Mode::Fail(3));
    let serve = serve_against(&dir, &url, &[]);
    assert_eq!(serve.post("/v1/causeway/changes", RAISE).0, 200);
    for e in settle(&serve, 3, "SUCCESS") {
        assert_eq!(e["attempts"], 4, "{e}");
        let posts = stand_in.posts_of(e["execution_id"].as_str().expect("id"));
        assert_eq!(posts.len(), 4);
        for gap in posts.windows(2).map(|w| w[1] - w[0]) {
            assert!(
                gap >= Duration::from_millis(95) && gap <= Duration::from_millis(400 + 300),
                "{gap:?}"
            );
        }
    }
}

#[test]
fn failed_answers_are_capped_and_then_recorded_as_refused() {
    let dir = Scratch::new("cap");
    let (stand_in, url) = StandIn::start(free_addr(), Mode::Fail(1000));
    let serve = serve_against(&dir, &url, &["--mistral-max-attempts", "3"]);
    assert_eq!(serve.post("/v1/causeway/changes", RAISE).0, 200);
    for e in settle(&serve, 3, "REFUSED") {
        assert!(
            e["state_info"]
                .as_str()
                .unwrap_or("")
                .contains("gave up after 3 failed answers; last: 500: boom"),
            "{e}"
        );
        assert_eq!(stand_in.posts_of(e["execution_id"].as_str().expect("id")).len(), 3);
    }
}

#[test]
fn answers_slower_than_the_timeout_are_retried_and_find_the_execution_started() {
    let dir = Scratch::new("slow");
    let (stand_in, url) = StandIn::start(free_addr(), Mode::Slow(Duration::from_millis(1500)));
    let serve = serve_against(&dir, &url, &["--mistral-timeout-ms", "300"]);
    assert_eq!(serve.post("/v1/causeway/changes", RAISE).0, 200);
    for e in settle(&serve, 3, "SUCCESS") {
        assert!(e["attempts"].as_u64() >= Some(2), "{e}");
    }
    assert_eq!(stand_in.created(), 3, "one execution each, however often it was sent");
}

#[test]
fn a_4xx_is_recorded_as_refused_with_the_faultstring_and_not_retried() {
    let dir = Scratch::new("4xx");
    let (stand_in, url) = StandIn::start(free_addr(), Mode::Refuse);
    let serve = serve_against(&dir, &url, &[]);
    assert_eq!(serve.post("/v1/causeway/changes", RAISE).0, 200);
    let refused = settle(&serve, 3, "REFUSED");
    std::thread::sleep(Duration::from_millis(500));
    for e in refused {
        assert_eq!(e["state_info"], "400: Invalid input [name=w, missing=['host']]", "{e}");
        assert_eq!(e["attempts"], 1);
        assert_eq!(stand_in.posts_of(e["execution_id"].as_str().expect("id")).len(), 1);
    }
}

#[test]
fn without_a_mistral_requests_stay_pending_and_are_sent_once_one_is_configured() {
    let dir = Scratch::new("unconfigured");
    let serve = Serve::start(dir.path(), &[], &[]);
    assert_eq!(serve.post("/v1/causeway/changes", RAISE).0, 200);
    let pending = settle(&serve, 3, "PENDING");
    assert!(
        pending[0]["state_info"].as_str().unwrap_or("").contains("no Mistral is configured"),
        "{pending:?}"
    );
    let (code, body) = http(&serve.url(), "GET", "/v1/causeway/workflows", "", "application/json");
    assert_eq!(code, 503, "{body}");
    assert!(body.contains("no Mistral is configured"), "{body}");
    serve.kill9();
    let (stand_in, url) = StandIn::start(free_addr(), Mode::Accept);
    let serve = serve_against(&dir, &url, &[]);
    settle(&serve, 3, "SUCCESS");
    assert_eq!(stand_in.created(), 3);
    let (code, body) = http(&serve.url(), "GET", "/v1/causeway/workflows", "", "application/json");
    assert_eq!((code, body.contains("stand_in")), (200, true), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keystone_tokens_are_cached_renewed_before_expiry_and_after_a_401() {
    let (stand_in, base) =
        tokio::task::spawn_blocking(|| StandIn::start(free_addr(), Mode::Accept))
            .await
            .expect("stand-in");
    {
        let mut s = stand_in.seen.lock().expect("lock");
        s.keystone = true;
        s.lifetime_s = 2;
    }
    let config: causeway::mistral::MistralConfig = toml::from_str(&format!(
        "[keystone]\nauth_url = \"{base}/v3\"\nusername = \"causeway\"\npassword = \"secret\"\nproject_name = \"service\"\nrenew_before_s = 1\n"
    ))
    .expect("config");
    let client = causeway::mistral::Client::new(&config).expect("client").expect("configured");
    let tokens = || stand_in.seen.lock().expect("lock").tokens.len();
    // The Mistral URL comes from the catalog's public workflowv2 endpoint.
    assert!(client.workflows().await.is_ok());
    assert!(client.workflows().await.is_ok());
    assert_eq!(tokens(), 1, "cached");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(client.workflows().await.is_ok());
    assert_eq!(tokens(), 2, "renewed before expiry");
    let current = stand_in.seen.lock().expect("lock").tokens[1].clone();
    stand_in.seen.lock().expect("lock").revoked.insert(current);
    let request = causeway::store::OutboxRequest {
        execution_id: "11111111-2222-5333-8444-555555555555".into(),
        key: "k".into(),
        workflow: "w".into(),
        input: json!({}),
        description: None,
        origin: causeway::store::Origin::Manual,
        requested_by: None,
        created_at: causeway::store::Timestamp::now(),
        resource_ids: vec![],
    };
    let started = client.start(&request).await.expect("accepted after a new token");
    assert_eq!(started.state, "RUNNING");
    assert_eq!(tokens(), 3, "renewed after the 401");
    drop(client);
    tokio::task::spawn_blocking(move || drop(stand_in)).await.expect("drop");
}

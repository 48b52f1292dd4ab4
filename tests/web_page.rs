//! The entity graph page in a real headless Chromium, driven through chromedriver with plain
//! W3C WebDriver calls, against `causeway serve` and a real Mistral 23: use case 2 from the
//! browser. A NIC failure raised through the API appears on the open page without a reload, an
//! instance alarm's root cause is the NIC alarm, `migrate_instance` run from the page ends in
//! SUCCESS on the page, and a workflow Mistral does not know shows Mistral's refusal. Without a
//! token, and without a Mistral, the page says so in words.
//!
//! Screenshots of each stage go to `target/screenshots/`. Without chromium and chromedriver
//! (or without `CAUSEWAY_MISTRAL_URL`) the test says `skipped`, except under `CI`, where it
//! fails.

mod mistral_support;

use mistral_support::*;
use serde_json::{Value, json};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
const SETTLE: Duration = Duration::from_secs(60);
/// The W3C name of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Whether the browser is here; under CI its absence fails the test.
fn browser_available() -> bool {
    let missing: Vec<&str> =
        [CHROMEDRIVER, CHROMIUM].into_iter().filter(|p| !Path::new(p).exists()).collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but {missing:?} are missing (.ci/run installs chromium chromium-driver)"
    );
    println!("skipped: web_page: {missing:?} missing (apt-get install chromium chromium-driver)");
    false
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

/// A chromedriver process, ended when dropped (even when the test fails while starting).
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One browser session in a chromedriver, ended when dropped. Fields drop in order: the
/// session (in `drop`), the client, then the driver.
struct Browser {
    wire: Wire,
    session: String,
    _driver: Driver,
    _profile: Scratch,
}

impl Drop for Browser {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let shot = self.call("GET", "/screenshot", &json!({}));
            if let Ok(png) = shot {
                let path = save_screenshot("web-failure", png.as_str().unwrap_or_default());
                eprintln!("the page when the test failed: {}", path.display());
            }
        }
        let _ = self.wire.send("DELETE", &format!("/session/{}", self.session), &json!({}));
    }
}

/// WebDriver's JSON over HTTP (chromedriver keeps connections open, so a client that reads to
/// the end of the connection would wait for its timeout).
struct Wire {
    base: String,
    client: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

impl Wire {
    fn new(base: String) -> Wire {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the WebDriver client");
        // reqwest is built without a TLS provider of its own; plain HTTP still needs one set.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .expect("an HTTP client");
        Wire { base, client, runtime }
    }

    /// The status and JSON answer of one command.
    fn send(&self, method: &str, path: &str, body: &Value) -> Result<(u16, Value), String> {
        let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
        let url = format!("{}{path}", self.base);
        let mut request = self.client.request(method.clone(), &url);
        if method != reqwest::Method::GET && method != reqwest::Method::DELETE {
            request = request.json(body);
        }
        self.runtime.block_on(async {
            let response = request.send().await.map_err(|e| format!("{url}: {e}"))?;
            let status = response.status().as_u16();
            let answer = response.json::<Value>().await.map_err(|e| format!("{url}: {e}"))?;
            Ok((status, answer))
        })
    }
}

impl Browser {
    fn start() -> Browser {
        let port = free_port();
        let driver = Driver(
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("chromedriver starts"),
        );
        let base = format!("http://127.0.0.1:{port}");
        eventually(Duration::from_secs(20), "chromedriver answers", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).ok()
        });
        // One profile per browser: tests run in parallel in one process, and two Chromiums
        // given the same user-data-dir hand their windows to one browser process, so the other
        // session's window closes under it ("no such window: target window already closed").
        static BROWSERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = BROWSERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let profile = Scratch::new(&format!("web-profile-{n}"));
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=1400,1000",
        ]
        .iter()
        .map(|a| a.to_string())
        .chain([format!("--user-data-dir={}", profile.path().display())])
        .collect::<Vec<_>>();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
        }}});
        let wire = Wire::new(base);
        let (code, answer) = wire.send("POST", "/session", &caps).expect("new session");
        assert_eq!(code, 200, "new session: {answer}");
        let session = answer["value"]["sessionId"].as_str().expect("session id").to_string();
        Browser { wire, session, _driver: driver, _profile: profile }
    }

    /// One WebDriver command of this session; its `value`, or the driver's error.
    fn call(&self, method: &str, path: &str, body: &Value) -> Result<Value, String> {
        let path = format!("/session/{}{path}", self.session);
        let (code, answer) = self.wire.send(method, &path, body)?;
        match code {
            200 => Ok(answer["value"].clone()),
            _ => Err(format!("{method} {path}: {code} {}", answer["value"])),
        }
    }

    fn goto(&self, url: &str) {
        self.call("POST", "/url", &json!({"url": url})).expect("navigate");
    }

    /// Runs `script` in the page with `args`; what it returns. A page busy re-rendering on a
    /// loaded machine can fail a script call; it is tried again until [`SETTLE`], each error
    /// printed.
    fn script(&self, script: &str, args: Value) -> Value {
        let body = json!({"script": script, "args": args});
        eventually(SETTLE, "a script call that succeeds", || {
            self.call("POST", "/execute/sync", &body)
                .map_err(|e| eprintln!("script call failed, trying again: {e}"))
                .ok()
        })
    }

    /// The element `css` matches, waiting for it.
    fn element(&self, css: &str) -> String {
        eventually(SETTLE, &format!("an element {css}"), || {
            let found =
                self.call("POST", "/element", &json!({"using": "css selector", "value": css}));
            found.ok().and_then(|v| v[ELEMENT].as_str().map(str::to_string))
        })
    }

    fn click(&self, css: &str) {
        let id = self.element(css);
        self.call("POST", &format!("/element/{id}/click"), &json!({})).expect("click");
    }

    /// Replaces the text of input `css` with `text`, as typed keys (so input events fire).
    fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css);
        self.call("POST", &format!("/element/{id}/clear"), &json!({})).expect("clear");
        self.call("POST", &format!("/element/{id}/value"), &json!({"text": text})).expect("type");
    }

    /// The text of the first element `css` matches, or `None` while there is none.
    fn text(&self, css: &str) -> Option<String> {
        let v = self.script(
            "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;",
            json!([css]),
        );
        v.as_str().map(str::to_string)
    }

    /// Waits until the text of `css` satisfies `wanted`; that text.
    fn wait_text(&self, css: &str, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        eventually(SETTLE, what, || self.text(css).filter(|t| wanted(t)))
    }

    fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.call("GET", "/screenshot", &json!({})).expect("screenshot");
        save_screenshot(name, png.as_str().expect("base64 text"))
    }
}

/// Writes a WebDriver screenshot (base64 PNG) to `target/screenshots/<name>.png`.
fn save_screenshot(name: &str, base64: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, decode_base64(base64)).expect("screenshot written");
    path
}

/// Standard base64 (what WebDriver screenshots are), without a crate for it.
fn decode_base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let digits: Vec<u8> = text.bytes().filter_map(value).collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n =
            chunk.iter().enumerate().fold(0u32, |n, (i, &d)| n | (u32::from(d) << (18 - 6 * i)));
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}

/// The shipped NIC template without its `execute_mistral`: use case 2, where an operator
/// decides what to run.
fn manual_templates(dir: &Path) -> PathBuf {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/nic_failure.yaml"))
            .expect("shipped template");
    let action = "      - execute_mistral:\n          workflow: migrate_instance\n          input:\n            instance_id: get_attr(instance, id)\n";
    assert!(text.contains(action), "the shipped template's execute_mistral block moved");
    let templates = dir.join("templates");
    std::fs::create_dir_all(&templates).expect("templates dir");
    std::fs::write(templates.join("nic.yaml"), text.replace(action, "")).expect("template");
    templates
}

/// The `vitrage_id` of resource `id`.
fn vitrage_id(serve: &Serve, id: &str) -> String {
    let (code, body) =
        http(&serve.url(), "GET", "/v1/resources/?all_tenants=true", "", "application/json");
    assert_eq!(code, 200, "{body}");
    let list: Vec<Value> = serde_json::from_str(&body).expect("json");
    let found = list.iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("no {id}"));
    found["vitrage_id"].as_str().expect("vitrage_id").to_string()
}

#[test]
fn an_operator_sees_the_root_cause_and_migrates_an_instance_from_the_page() {
    let _turn = one_at_a_time();
    if !browser_available() {
        return;
    }
    let Some(url) = real_mistral("web_page") else { return };
    let mistral = Mistral(url.clone());
    mistral.workflow("migrate_instance");
    let dir = Scratch::new("web-page");
    let templates = manual_templates(dir.path());
    let templates = templates.to_str().expect("utf-8 path");
    let data = dir.path().join("data");
    let args = ["--mistral-url", &url, "--mistral-poll-ms", "100", "--templates", templates];
    let serve = Serve::start(&data, &args, &[]);
    let browser = Browser::start();

    // The page, live, with the demo cloud and no alarm.
    browser.goto(&format!("{}/", serve.url()));
    browser.wait_text("#live", "the event stream is open", |t| t == "live");
    eventually(SETTLE, "the demo cloud is drawn", || {
        let nodes = browser.script("return Number(document.body.dataset.nodes || 0);", json!([]));
        (nodes.as_u64() >= Some(20)).then_some(())
    });
    browser.wait_text("#alarm-list", "no alarm yet", |t| t.contains("none"));
    browser.script("window.notReloaded = true;", json!([]));

    // A NIC failure through the API: the deduced alarms appear on the open page.
    let (code, body) = serve.post("/v1/causeway/changes", RAISE);
    assert_eq!(code, 200, "{body}");
    let instance_alarm =
        r#"#alarm-list button[data-name="instance unreachable"][data-resource="web-1"]"#;
    browser.element(instance_alarm);
    browser
        .element(r#"#alarm-list button[data-name="host nic failure"][data-resource="compute-1"]"#);
    let kept = browser.script("return window.notReloaded === true;", json!([]));
    assert_eq!(kept, json!(true), "the page updated without a reload");
    browser.screenshot("web-graph");

    // The instance alarm's root cause is the NIC alarm, and the page says why it exists.
    browser.click(instance_alarm);
    let root = browser
        .wait_text("#rca-list li:first-child", "the chain is listed", |t| t.contains("root cause"));
    assert!(root.contains("nic failure") && root.contains("compute-1"), "root: {root}");
    let chain = browser.text("#rca-list").unwrap_or_default();
    let (host, instance) = (chain.find("host nic failure"), chain.find("instance unreachable"));
    assert!(host.is_some() && host < instance, "root first, then the host alarm: {chain}");
    let why = browser.wait_text("#why", "the explanation", |t| t.contains("scenario"));
    assert!(why.contains("nic_failure-scenario1"), "{why}");
    assert!(why.contains("host_alarm [on] host AND host [contains] instance"), "{why}");
    browser.screenshot("web-root-cause");

    // Select the instance, run migrate_instance with the input the page fills in.
    let web1 = vitrage_id(&serve, "web-1");
    browser.type_into("#search", "web-1");
    browser.click(&format!(r#"#results button[data-id="{web1}"]"#));
    browser.click("#run-workflow");
    browser.wait_text("#workflow-note", "Mistral's workflows are listed", |t| {
        t.contains("workflows in Mistral")
    });
    browser.type_into("#workflow", "migrate_instance");
    let filled = browser.script(
        "const i = document.querySelector('#inputs input[name=instance_id]'); return i && i.value;",
        json!([]),
    );
    assert_eq!(filled, json!("web-1"), "the input is filled from the resource");
    browser.click("#run-confirm");
    let row = r#"#executions tr[data-workflow="migrate_instance"][data-origin="manual"]"#;
    browser.wait_text(&format!("{row} .state"), "the run succeeds on the page", |t| t == "SUCCESS");
    browser.wait_text("#resource-executions", "the resource shows it", |t| {
        t.contains("migrate_instance") && t.contains("SUCCESS")
    });
    let held = mistral.executions("migrate_instance");
    assert_eq!(held.len(), 1, "one execution, the manual one: {held:?}");
    assert_eq!(instance_of(&held[0]), "web-1");
    browser.screenshot("web-execution");

    // The operator zooms in; the NIC recovers and fails again: the alarms go and come without
    // a reload, and the zoom and the selection stay.
    let wheel = json!({"actions": [{"type": "wheel", "id": "wheel", "actions": [
        {"type": "scroll", "x": 650, "y": 300, "deltaX": 0, "deltaY": -400, "origin": "viewport"},
    ]}]});
    let zoom_now = || browser.script("return document.body.dataset.zoom;", json!([]));
    let before = zoom_now();
    browser.call("POST", "/actions", &wheel).expect("wheel");
    let zoom = eventually(SETTLE, "the wheel zooms", || {
        let now = zoom_now();
        (now.is_string() && now != before).then_some(now)
    });
    let (code, body) = serve.post("/v1/causeway/changes", CLEAR);
    assert_eq!(code, 200, "{body}");
    browser.wait_text("#alarm-list", "the alarms are gone", |t| t.contains("none"));
    // It fails again: new alarms are drawn (and laid out) within the user's viewport.
    let (code, body) = serve.post("/v1/causeway/changes", RAISE);
    assert_eq!(code, 200, "{body}");
    browser.element(instance_alarm);
    assert_eq!(zoom_now(), zoom, "the redraws kept the zoom");
    let shown = browser.text("#details h2").unwrap_or_default();
    assert_eq!(shown, "web-1", "the redraw kept the selection");

    // A workflow Mistral does not know: the page shows Mistral's refusal.
    browser.click("#run-workflow");
    browser.wait_text("#workflow-note", "Mistral's workflows are listed", |t| {
        t.contains("workflows in Mistral")
    });
    browser.type_into("#workflow", "no_such_workflow");
    browser.click("#run-confirm");
    let refused = r#"#executions tr[data-workflow="no_such_workflow"]"#;
    browser.wait_text(&format!("{refused} .state"), "the run is refused", |t| t == "REFUSED");
    let reason = browser.text(&format!("{refused} .info")).unwrap_or_default();
    assert!(reason.contains("Workflow not found"), "Mistral's words: {reason}");
    let kept = browser.script("return window.notReloaded === true;", json!([]));
    assert_eq!(kept, json!(true), "still the same page");
}

#[test]
fn without_the_token_or_a_mistral_the_page_says_what_is_wrong() {
    if !browser_available() {
        return;
    }
    let dir = Scratch::new("web-words");
    let serve = Serve::start(&dir.path().join("data"), &["--auth-token", "s3cret"], &[]);
    let browser = Browser::start();
    browser.goto(&format!("{}/", serve.url()));
    let refused = browser.wait_text("#error", "the refusal is shown", |t| t.contains("401"));
    assert!(refused.contains("auth token"), "it says what to do: {refused}");

    browser.click("#connection summary");
    browser.type_into("#token", "s3cret");
    browser.click("#login button[type=submit]");
    browser.wait_text("#live", "the stream opens with the token", |t| t == "live");
    browser.wait_text("#error", "the error is gone", str::is_empty);
    let notice = browser.wait_text("#notice", "no Mistral", |t| !t.is_empty());
    assert!(notice.contains("No Mistral is configured"), "{notice}");

    browser.type_into("#search", "web-1");
    let web1 = eventually(SETTLE, "web-1 is listed", || {
        let found = browser.script(
            "const b = [...document.querySelectorAll('#results button')].find(b => b.textContent.startsWith('web-1 ')); return b && b.dataset.id;",
            json!([]),
        );
        found.as_str().map(str::to_string)
    });
    browser.click(&format!(r#"#results button[data-id="{web1}"]"#));
    let all = browser.script("return Number(document.body.dataset.nodes);", json!([]));
    browser.click("#focus");
    eventually(SETTLE, "focus shows the neighbourhood alone", || {
        let now = browser.script("return Number(document.body.dataset.nodes);", json!([]));
        (now.as_u64() < all.as_u64() && now.as_u64() > Some(1)).then_some(())
    });
    browser.click("#run-workflow");
    let why = browser.wait_text("#run-error", "the dialog says why", |t| !t.is_empty());
    assert!(why.contains("503") && why.contains("no Mistral is configured"), "{why}");
    browser.screenshot("web-no-mistral");
}

//! The media-type script of `tools/zabbix/`, run as Zabbix runs it (under node, with Zabbix's
//! `HttpRequest` made synchronous: `tests/fixtures/zabbix/run-media-type.js`), against a real
//! causeway listener: a problem it sends raises the NIC use case, its recovery clears it, and
//! an answer that is not 2xx makes the script fail, so Zabbix retries.
//!
//! Needs `node` (or `CAUSEWAY_NODE`); without it the test says so and passes, except under
//! `CI=true`, where it fails.

#[path = "common/http.rs"]
mod http;

use causeway::service::serve::{self, ServeConfig};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn node() -> Option<PathBuf> {
    let node =
        std::env::var_os("CAUSEWAY_NODE").map_or_else(|| PathBuf::from("node"), PathBuf::from);
    if Command::new(&node).arg("--version").output().is_ok_and(|o| o.status.success()) {
        return Some(node);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "node is missing under CI (.ci/run installs nodejs)"
    );
    eprintln!("skipped: node is not installed");
    None
}

/// Runs the media type with Zabbix's parameters for an event; whether the script succeeded,
/// and what it printed.
fn media_type(node: &Path, url: &str, value: &str) -> (bool, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let params = json!({
        "url": url, "token": "", "host": "compute-1", "trigger_id": "13491",
        "trigger_name": "nic failure", "rawtext": "nic failure", "severity": "4",
        "event_id": "2217", "value": value, "time": "2026.12.02 06:01:02",
    });
    let out = Command::new(node)
        .arg(root.join("tests/fixtures/zabbix/run-media-type.js"))
        .arg(root.join("tools/zabbix/causeway-media-type.js"))
        .arg(params.to_string())
        .output()
        .expect("node runs");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

fn alarm_names(causeway: SocketAddr) -> Vec<String> {
    let mut c = http::Conn::connect(causeway, Duration::from_secs(10)).expect("connects");
    let r = c.get("/v1/alarm/?vitrage_id=all&all_tenants=true").expect("answers");
    let list: Value = r.json();
    let mut names: Vec<String> = list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["name"].as_str().map(str::to_string))
        .collect();
    names.sort();
    names
}

#[test]
fn the_media_type_script_raises_and_clears_the_nic_use_case() {
    let Some(node) = node() else { return };
    let dir = std::env::temp_dir().join(format!("causeway-zabbix-js-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = ServeConfig { data_dir: dir.clone(), ..ServeConfig::default() };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("a port");
    let causeway = listener.local_addr().expect("address");
    let running = runtime.block_on(async { serve::open(&config) }).expect("causeway starts");
    let service = causeway::service::make_service(running.state.clone());
    runtime.spawn(async move { axum::serve(listener, service).await });
    let url = format!("http://{causeway}/v1/causeway/zabbix");

    let (ok, out) = media_type(&node, &url, "1");
    assert!(ok, "{out}");
    let names = alarm_names(causeway);
    assert!(names.contains(&"nic failure".to_string()), "{names:?}");
    assert!(names.contains(&"host nic failure".to_string()), "the use case fires: {names:?}");

    let (ok, out) = media_type(&node, &url, "0");
    assert!(ok, "{out}");
    assert!(alarm_names(causeway).is_empty());

    let (ok, out) = media_type(&node, &url, "PROBLEM");
    assert!(!ok, "a 400 fails the step: {out}");
    assert!(out.contains("causeway answered 400"), "{out}");

    drop(running);
    runtime.shutdown_timeout(Duration::from_secs(5));
    let _ = std::fs::remove_dir_all(&dir);
}

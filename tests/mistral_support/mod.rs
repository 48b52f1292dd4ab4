//! What the Mistral tests share: `causeway serve` as a child process (tests/common/serve.rs),
//! a tiny HTTP/1.1 client, the real Mistral's URL (or the decision to skip), and template
//! copies.
#![allow(dead_code)]

use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub const RAISE: &str = r#"{"changes": [{"op": "raise_alarm", "alarm": {"type": "zabbix", "name": "nic failure", "target": "compute-1"}}]}"#;
pub const CLEAR: &str = r#"{"changes": [{"op": "clear_alarm", "alarm": {"type": "zabbix", "name": "nic failure", "target": "compute-1"}}]}"#;
pub const INSTANCES: [&str; 3] = ["blog-1", "cache-1", "web-1"];

/// The real Mistral's base URL from `CAUSEWAY_MISTRAL_URL`; `None` (after printing why) when it
/// is not set and `CI` is not either. Under CI a missing Mistral fails the test.
pub fn real_mistral(test: &str) -> Option<String> {
    match std::env::var("CAUSEWAY_MISTRAL_URL") {
        Ok(url) if !url.is_empty() => Some(url.trim_end_matches('/').to_string()),
        _ if std::env::var_os("CI").is_some() => {
            panic!("{test}: CI is set but CAUSEWAY_MISTRAL_URL is not (.ci/run starts Mistral)")
        }
        _ => {
            println!(
                "skipped: {test}: CAUSEWAY_MISTRAL_URL is not set (tools/mistral/mistral.sh start DIR)"
            );
            None
        }
    }
}

/// A scratch directory, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("causeway-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes the shipped NIC template into `dir` under another name and workflow.
pub fn nic_template(dir: &Path, name: &str, workflow: &str) -> PathBuf {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/nic_failure.yaml"))
            .expect("shipped template")
            .replace("name: nic_failure\n", &format!("name: {name}\n"))
            .replace("workflow: migrate_instance", &format!("workflow: {workflow}"));
    let templates = dir.join("templates");
    std::fs::create_dir_all(&templates).expect("templates dir");
    std::fs::write(templates.join("nic.yaml"), text).expect("template");
    templates
}

#[path = "../common/serve.rs"]
mod serve;
pub use serve::Serve;

/// What the Mistral tests ask of the service.
impl Serve {
    /// causeway's executions, filtered by a query string.
    pub fn executions(&self, query: &str) -> Vec<Value> {
        let (code, body) = http(
            &self.url(),
            "GET",
            &format!("/v1/causeway/executions{query}"),
            "",
            "application/json",
        );
        assert_eq!(code, 200, "{body}");
        let v: Value = serde_json::from_str(&body).expect("json");
        v["executions"].as_array().cloned().unwrap_or_default()
    }

    pub fn post(&self, path: &str, body: &str) -> (u16, String) {
        http(&self.url(), "POST", path, body, "application/json")
    }
}

/// One HTTP/1.1 request (`Connection: close`); the status and the body.
pub fn http(base: &str, method: &str, path: &str, body: &str, content_type: &str) -> (u16, String) {
    let host = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(host).unwrap_or_else(|e| panic!("connect {host}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(60))).expect("timeout");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n\
         X-Project-Id: admin\r\nX-User-Id: tester\r\nX-Roles: admin\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes()).expect("send");
    let mut answer = Vec::new();
    // A reset (the process was killed mid-answer) leaves status 0.
    let _ = s.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer).to_string();
    let status = answer.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        dechunk(body)
    } else {
        body.to_string()
    };
    (status, body)
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// Polls `check` every 50 ms until it gives `Some`, or panics with `what` after `within`.
pub fn eventually<T>(within: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < deadline, "not within {within:?}: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A turn at the one real Mistral the tests share. Once, while two tests registered and ran
/// workflows on it at the same time, Mistral 23 (SQLite, one process) answered a registration
/// with `Parse error: unexpected end of statement`; the tests take turns since.
pub fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The real Mistral.
pub struct Mistral(pub String);

impl Mistral {
    /// Registers (or replaces) a workflow that echoes its `instance_id`, and deletes its
    /// executions from earlier runs.
    pub fn workflow(&self, name: &str) {
        let yaml = format!(
            "---\nversion: '2.0'\n\n{name}:\n  type: direct\n  input:\n    - instance_id\n  output:\n    migrated: <% $.migrated %>\n  tasks:\n    migrate:\n      action: std.echo\n      input:\n        output: \"migrating <% $.instance_id %>\"\n      publish:\n        migrated: <% task().result %>\n"
        );
        let (code, body) = http(&self.0, "POST", "/v2/workflows", &yaml, "text/plain");
        if code == 409 {
            let (code, body) = http(&self.0, "PUT", "/v2/workflows", &yaml, "text/plain");
            assert_eq!(code, 200, "{body}");
        } else {
            assert_eq!(code, 201, "{body}");
        }
        for e in self.executions(name) {
            let id = e["id"].as_str().unwrap_or_default();
            http(
                &self.0,
                "DELETE",
                &format!("/v2/executions/{id}?force=true"),
                "",
                "application/json",
            );
        }
    }

    /// Mistral's executions of `workflow`, with their input and state.
    pub fn executions(&self, workflow: &str) -> Vec<Value> {
        let path = format!(
            "/v2/executions?workflow_name={workflow}&limit=1000&fields=id,state,input,state_info"
        );
        let (code, body) = http(&self.0, "GET", &path, "", "application/json");
        assert_eq!(code, 200, "{body}");
        let v: Value = serde_json::from_str(&body).expect("json");
        v["executions"].as_array().cloned().unwrap_or_default()
    }
}

/// The `instance_id` input of a Mistral execution (its input is JSON in a string).
pub fn instance_of(e: &Value) -> String {
    let input: Value =
        e["input"].as_str().and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default();
    input["instance_id"].as_str().unwrap_or_default().to_string()
}

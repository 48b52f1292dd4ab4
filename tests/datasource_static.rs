//! The static topology directory on disk: files added, edited, broken and deleted while the
//! service runs, and deleted while it is down, with the graph following through the API.

mod common;

use axum::http::Method;
use causeway::service::serve::{self, Running, ServeConfig};
use common::service::call;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const RACK: &str = "metadata:\n  name: rack 1\ndefinitions:\n  entities:\n    - static_id: s1\n      type: switch\n      id: switch-1\n      name: switch-1\n      state: available\n      rack: r1\n    - static_id: h1\n      type: nova.host\n      id: compute-1\n  relationships:\n    - source: s1\n      target: h1\n      relationship_type: attached\n";

const ROUTER: &str = "definitions:\n  entities:\n    - static_id: r\n      type: router\n      id: router-1\n    - static_id: s\n      type: switch\n      id: switch-1\n  relationships:\n    - source: r\n      target: s\n      relationship_type: contains\n";

/// A service on its own runtime, so that stopping it stops the watcher too.
struct Service {
    runtime: tokio::runtime::Runtime,
    running: Option<Running>,
}

impl Service {
    fn start(data: &Path, directory: &Path) -> Service {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let mut config = ServeConfig { data_dir: data.into(), ..ServeConfig::default() };
        config.static_dir.directory = Some(directory.into());
        config.static_dir.changes_interval = 1;
        let running = runtime.block_on(async { serve::open(&config) }).expect("starts");
        Service { runtime, running: Some(running) }
    }

    fn get(&self, path: &str) -> Value {
        let running = self.running.as_ref().expect("running");
        self.runtime.block_on(call(running, Method::GET, path, None)).1
    }

    /// Polls `check` on `(resources, edges, status)` until it holds; the deadline only turns
    /// a hang into a failure.
    fn until(&self, what: &str, check: impl Fn(&Graph) -> bool) -> Graph {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let g = self.graph();
            if check(&g) {
                return g;
            }
            assert!(Instant::now() < deadline, "gave up waiting for {what}: {g:?}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The resources, edges and status of one moment: the resource list is read before and
    /// after the topology and the status, and again until two lists in a row agree (the
    /// watcher applies a file between two reads now and then).
    fn graph(&self) -> Graph {
        let mut before = self.get("/v1/resources/?all_tenants=true");
        for _ in 0..100 {
            let g = self.graph_once(&before);
            let after = self.get("/v1/resources/?all_tenants=true");
            if after == before {
                return g;
            }
            before = after;
        }
        panic!("the resource list changed on each of 100 reads: {before}");
    }

    fn graph_once(&self, list: &Value) -> Graph {
        let resources: Vec<Value> = list.as_array().cloned().unwrap_or_default();
        let running = self.running.as_ref().expect("running");
        let body = serde_json::json!({"graph_type": "graph", "all_tenants": true});
        let topo = self.runtime.block_on(call(running, Method::POST, "/v1/topology", Some(body))).1;
        let nodes = topo["nodes"].as_array().cloned().unwrap_or_default();
        let id = |i: &Value| {
            let i = i.as_u64().unwrap_or(u64::MAX) as usize;
            nodes.get(i).and_then(|n| n["id"].as_str()).unwrap_or_default().to_string()
        };
        let edges = topo["links"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|l| {
                (
                    id(&l["source"]),
                    l["relationship_type"].as_str().unwrap_or("").to_string(),
                    id(&l["target"]),
                )
            })
            .collect();
        Graph { resources, edges, status: self.get("/v1/status") }
    }

    /// Stops as `causeway serve` stops: the handlers' state goes, and the evaluation task must
    /// end although the watcher still runs.
    fn stop(mut self) {
        let running = self.running.take().expect("running");
        drop(running.state);
        let (done, ended) = std::sync::mpsc::channel();
        std::thread::spawn(move || done.send(running.evaluation.join().is_ok()));
        let joined = ended.recv_timeout(Duration::from_secs(60));
        assert_eq!(joined, Ok(true), "the evaluation task ended with the watcher running");
        self.runtime.shutdown_timeout(Duration::from_secs(5));
    }
}

#[derive(Debug)]
struct Graph {
    resources: Vec<Value>,
    edges: Vec<(String, String, String)>,
    status: Value,
}

impl Graph {
    fn resource(&self, id: &str) -> Option<&Value> {
        self.resources.iter().find(|r| r["id"] == id)
    }

    fn edge(&self, source: &str, label: &str, target: &str) -> bool {
        self.edges.iter().any(|(s, l, t)| s == source && l == label && t == target)
    }

    fn static_error(&self) -> String {
        self.status["datasources"]["static"]["last_error"].as_str().unwrap_or("").to_string()
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("causeway-static-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("static/nested")).expect("scratch");
    dir
}

/// Writes a file so that its modification time or length changes even within one second.
fn write(path: &Path, text: &str) {
    std::fs::write(path, text).expect("written");
}

#[test]
fn the_graph_follows_the_files_and_a_broken_file_keeps_its_last_good_state() {
    let dir = scratch("follow");
    let files = dir.join("static");
    write(&files.join("rack.yaml"), RACK);
    let service = Service::start(&dir.join("data"), &files);
    let g = service.until("the rack", |g| g.edge("switch-1", "attached", "compute-1"));
    let switch = g.resource("switch-1").expect("the switch");
    assert_eq!((&switch["rack"], &switch["state"]), (&"r1".into(), &"available".into()));
    assert_eq!(
        g.resource("compute-1").and_then(|h| h["name"].as_str()),
        Some("compute-1"),
        "the demo host stays itself"
    );

    write(
        &files.join("rack.yaml"),
        &RACK.replace("      state: available\n      rack: r1\n", "      state: down\n"),
    );
    let g =
        service.until("the edit", |g| g.resource("switch-1").is_some_and(|s| s["state"] == "down"));
    assert!(g.resource("switch-1").is_some_and(|s| s.get("rack").is_none()), "a removed key goes");

    write(&files.join("nested/router.yaml"), ROUTER);
    service.until("the nested file", |g| g.edge("router-1", "contains", "switch-1"));

    write(
        &files.join("rack.yaml"),
        "definitions:\n  entities:\n    - static_id: s1\n      type: [switch\n",
    );
    let g = service.until("the error", |g| g.static_error().contains("rack.yaml:"));
    assert!(g.static_error().contains(":4:"), "file:line:col: {}", g.static_error());
    assert!(g.edge("switch-1", "attached", "compute-1"), "the broken file's entities stay");

    std::fs::remove_file(files.join("nested/router.yaml")).expect("removed");
    let g = service.until("the deletion", |g| g.resource("router-1").is_none());
    assert!(g.resource("switch-1").is_some(), "still in the broken rack file");
    service.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn what_was_deleted_while_the_service_was_down_is_gone_after_a_restart() {
    let dir = scratch("restart");
    let files = dir.join("static");
    write(&files.join("rack.yaml"), RACK);
    write(&files.join("router.yaml"), ROUTER);
    let service = Service::start(&dir.join("data"), &files);
    service.until("both files", |g| {
        g.edge("router-1", "contains", "switch-1") && g.edge("switch-1", "attached", "compute-1")
    });
    service.stop();

    std::fs::remove_file(files.join("router.yaml")).expect("removed");
    write(&files.join("rack.yaml"), &RACK.replace("rack: r1", "rack: r2"));
    let service = Service::start(&dir.join("data"), &files);
    let g = service.until("the restart's diff", |g| {
        g.resource("router-1").is_none()
            && g.resource("switch-1").is_some_and(|s| s["rack"] == "r2")
    });
    assert!(g.edge("switch-1", "attached", "compute-1"));
    assert!(g.resource("compute-1").is_some(), "a placeholder's owner keeps its host");
    service.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

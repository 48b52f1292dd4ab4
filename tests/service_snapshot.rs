//! Service snapshots, in-process over a real store: with a snapshot every few log entries, a
//! service restarted from its newest snapshot shows exactly what it showed before, goes on
//! exactly as a full replay of its log does, and really starts from the snapshot (it starts
//! right with the entries before the snapshot deleted from the log). A snapshot this build
//! cannot read is skipped for the one before it, or for a full replay.
//!
//! The interval is read once per process from `CAUSEWAY_SNAPSHOT_EVERY`, so each test runs
//! its body in a child process of this test binary with the variable set.

mod common;

use axum::http::{Method, StatusCode};
use causeway::service::core::SNAPSHOT_EVERY_VAR;
use causeway::service::serve::{self, Running, ServeConfig};
use causeway::store::{Reader, Seq, Store};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// A snapshot every this many log entries.
const EVERY: &str = "4";

/// Whether this is the child process that runs `name` with a small snapshot interval; in the
/// parent, runs that child and checks that it passed.
fn in_child(name: &str) -> bool {
    if std::env::var_os(SNAPSHOT_EVERY_VAR).is_some() {
        // What the service logs (snapshots saved and used, entries replayed) shows with
        // `--nocapture`.
        let filter = tracing_subscriber::EnvFilter::new("causeway=info");
        let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
        return true;
    }
    let status = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(SNAPSHOT_EVERY_VAR, EVERY)
        .status()
        .expect("the test binary runs");
    assert!(status.success(), "{name} failed in its child process");
    false
}

/// A scratch data directory, removed at the end.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("causeway-snapshot-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Scratch(dir)
    }

    /// A copy of a stopped service's data directory.
    fn copy_of(&self, name: &str) -> Scratch {
        let copy = Scratch::new(name);
        std::fs::create_dir_all(&copy.0).expect("copy dir");
        for entry in std::fs::read_dir(&self.0).expect("data dir") {
            let path = entry.expect("entry").path();
            let to = copy.0.join(path.file_name().expect("file name"));
            std::fs::copy(&path, to).expect("copies");
        }
        copy
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn start(dir: &Path) -> Running {
    let config = ServeConfig {
        data_dir: dir.to_path_buf(),
        body_limit: 64 * 1024,
        ..ServeConfig::default()
    };
    serve::open(&config).expect("service starts")
}

/// Stops a service: its evaluation task ends once the state is gone.
fn stop(running: Running) {
    let Running { state, evaluation } = running;
    drop(state);
    evaluation.join().expect("the evaluation task ends");
}

async fn call(running: &Running, method: Method, path: &str, body: Option<Value>) -> Value {
    let (status, body) = common::service::call(running, method, path, body).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

async fn push(running: &Running, changes: Value) {
    call(running, Method::POST, "/v1/causeway/changes", Some(json!({"changes": changes}))).await;
}

fn nic(op: &str, host: &str) -> Value {
    json!({"op": op, "alarm": {"type": "zabbix", "name": "nic failure", "target": host}})
}

/// What a client sees: every alarm and the whole topology.
async fn seen(running: &Running) -> (Value, Value) {
    let alarms = call(running, Method::GET, "/v1/alarm/?all_tenants=true", None).await;
    let topology =
        call(running, Method::POST, "/v1/topology/", Some(json!({"all_tenants": true}))).await;
    (alarms, topology)
}

const QUIET_HOSTS: &str = "metadata:\n  version: 3\n  name: quiet_host\n  type: standard\nentities:\n  host:\n    category: RESOURCE\n    type: nova.host\n  nic:\n    category: ALARM\n    type: zabbix\nscenarios:\n  - condition: nic [on] host\n    actions:\n      - raise_alarm:\n          target: host\n          alarm_name: host needs a look\n          severity: WARNING\n";

/// Alarms raised and cleared, a resource added, a template added: ten entries.
async fn first_part(running: &Running) {
    push(running, json!([nic("raise_alarm", "compute-1")])).await;
    push(running, json!([nic("raise_alarm", "compute-2")])).await;
    push(running, json!([nic("clear_alarm", "compute-1")])).await;
    let vm = json!({"id": "web-9", "type": "nova.instance", "name": "web-9", "state": "ACTIVE"});
    push(running, json!([{"op": "add_resource", "resource": vm}])).await;
    let edge = json!({"op": "add_edge", "source": "compute-2", "target": "web-9", "relationship_type": "contains"});
    push(running, json!([edge])).await;
    let add =
        json!({"templates": [["quiet.yaml", QUIET_HOSTS]], "template_type": null, "params": {}});
    call(running, Method::PUT, "/v1/template/", Some(add)).await;
    push(running, json!([nic("raise_alarm", "compute-1")])).await;
    push(running, json!([nic("raise_alarm", "compute-3")])).await;
}

/// More of the same after a restart: the re-raised alarm asks for its workflows again.
async fn second_part(running: &Running) {
    push(running, json!([nic("clear_alarm", "compute-2")])).await;
    push(running, json!([nic("raise_alarm", "compute-2")])).await;
    push(running, json!([{"op": "delete_resource", "id": "web-1"}])).await;
    push(running, json!([nic("clear_alarm", "compute-3")])).await;
    call(running, Method::DELETE, "/v1/template", Some(json!({"id": ["quiet_host"]}))).await;
    push(running, json!([nic("raise_alarm", "compute-3")])).await;
}

/// The newest snapshot's position and the log's end.
fn positions(dir: &Path) -> (Seq, Seq) {
    let reader = Reader::open(dir).expect("reader");
    let newest = reader.snapshots().expect("snapshots").first().copied().expect("a snapshot");
    (newest, reader.last_seq().expect("last seq"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_restarted_from_a_snapshot_equals_the_uninterrupted_one() {
    if !in_child("a_service_restarted_from_a_snapshot_equals_the_uninterrupted_one") {
        return;
    }
    let dir = Scratch::new("restart");
    let running = start(&dir.0);
    first_part(&running).await;
    let before = seen(&running).await;
    stop(running);
    let (newest, last) = positions(&dir.0);
    assert!(newest > Seq(0) && newest < last, "a snapshot with entries after it: {newest} {last}");

    let running = start(&dir.0);
    assert_eq!(seen(&running).await, before, "restarted from the snapshot at {newest}");
    second_part(&running).await;
    let mut after = seen(&running).await;
    stop(running);
    if positions(&dir.0).0 == positions(&dir.0).1 {
        // The replays below must read entries after the newest snapshot: one more (a snapshot
        // is only saved after the log grew by several).
        let running = start(&dir.0);
        assert_eq!(seen(&running).await, after, "restarted from a snapshot at the log's end");
        let update = json!({"op": "update_resource", "id": "web-9", "state": "SUBOPTIMAL"});
        push(&running, json!([update])).await;
        after = seen(&running).await;
        stop(running);
    }
    let (newest, last) = positions(&dir.0);
    assert!(newest < last, "entries after the newest snapshot: {newest} {last}");

    // The same log from the snapshot before, the newest being unreadable, goes where this did.
    let older = dir.copy_of("older");
    Store::open(&older.0).expect("store").save_snapshot(newest, b"garbage").expect("saved");
    let running = start(&older.0);
    assert_eq!(seen(&running).await, after, "from the snapshot before the newest");
    stop(running);

    // So does a full replay of the log, no snapshot being usable.
    let replayed = dir.copy_of("replayed");
    let db = rusqlite::Connection::open(replayed.0.join(causeway::store::FILE_NAME)).expect("db");
    let garbled = db.execute("UPDATE snapshots SET data = x'00'", []).expect("garbles");
    assert_eq!(garbled, 2, "two snapshots are kept");
    drop(db);
    let running = start(&replayed.0);
    assert_eq!(seen(&running).await, after, "a full replay of the log");
    stop(running);

    // Without the entries the snapshot covers, only a start from it can be right.
    let deleted =
        Store::open(&dir.0).expect("store").compact_log_before(Seq(newest.0 + 1)).expect("compact");
    assert!(deleted > 0);
    let running = start(&dir.0);
    assert_eq!(seen(&running).await, after, "restarted from the snapshot at {newest}");
    stop(running);
}

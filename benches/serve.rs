//! Benchmark of `causeway serve` over loopback HTTP (issue 6, "Speed"), with the durable log on
//! (a data directory on disk, SQLite in WAL mode with `synchronous=FULL`).
//!
//! ```text
//! cargo bench --bench serve
//! ```
//!
//! `cargo bench` builds the `causeway` binary with the bench profile (optimised) and runs this
//! file's `main`, which starts that binary on loopback and measures:
//!
//! 1. **Latency**, one client: `POST /v1/causeway/changes` raising the Zabbix NIC failure on a
//!    host (which the shipped `nic_failure` template turns into host, instance and application
//!    alarms, a state and Mistral requests), then `GET /v1/alarm/` until the alarm shows, then
//!    the clear. The acknowledgement comes after evaluation, commit and publication, so
//!    "ack" is event → evaluated, durable and readable; "ack → visible" is the first read that
//!    shows it.
//! 2. **Throughput**: many client threads with keep-alive connections post one-change requests
//!    (NIC failures on their own hosts, Nagios alarms on instances, raised and cleared) for
//!    `CAUSEWAY_BENCH_SECS`, so that batches form; the server's RSS (`VmRSS`) is sampled every
//!    second.
//!
//! Environment: `CAUSEWAY_BENCH_SECS` (throughput phase, default 60), `CAUSEWAY_BENCH_CLIENTS`
//! (default 64), `CAUSEWAY_BENCH_SAMPLES` (latency round trips, default 1000),
//! `CAUSEWAY_BENCH_HOSTS` (0, the default, for the demo cloud; N for a `causeway gen --hosts N`
//! cloud of N hosts with 10 instances each), `CAUSEWAY_BENCH_DIR` (where the data directory
//! goes, default `target/bench-serve`).

#[path = "../tests/common/http.rs"]
mod http;

use http::Conn;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(30);

fn main() {
    let secs = env("CAUSEWAY_BENCH_SECS", 60);
    let clients = env("CAUSEWAY_BENCH_CLIENTS", 64).max(1);
    let samples = env("CAUSEWAY_BENCH_SAMPLES", 1000);
    let hosts = env("CAUSEWAY_BENCH_HOSTS", 0);
    let root = std::env::var_os("CAUSEWAY_BENCH_DIR").map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("bench-serve")
    });
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("bench directory");
    let (cloud, topology) = cloud(&root, hosts);
    let cloud_text =
        if hosts == 0 { "demo cloud".to_string() } else { format!("gen --hosts {hosts}") };
    println!(
        "serve bench: {} ({} hosts, {} instances), data in {}",
        cloud_text,
        cloud.hosts.len(),
        cloud.instances.len(),
        root.display()
    );
    let server = Server::start(&root.join("data"), topology.as_deref());
    println!("serve bench: started in {:.2}s", server.started.as_secs_f64());
    latency(server.addr, &cloud, samples);
    throughput(&server, &cloud, clients, Duration::from_secs(secs));
    drop(server);
    let _ = std::fs::remove_dir_all(&root);
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The hosts and instances of the cloud the server starts with.
struct Cloud {
    hosts: Vec<String>,
    instances: Vec<String>,
}

/// The demo cloud, or a generated one written under `root` (its path is the second value).
fn cloud(root: &Path, hosts: u64) -> (Cloud, Option<PathBuf>) {
    let (text, path) = if hosts == 0 {
        let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo_cloud.json");
        (std::fs::read_to_string(demo).expect("demo cloud"), None)
    } else {
        let path = root.join("cloud.json");
        let status = Command::new(env!("CARGO_BIN_EXE_causeway"))
            .args(["gen", "--hosts", &hosts.to_string(), "--instances", "10", "--alarms", "0"])
            .arg("--out")
            .arg(&path)
            .status()
            .expect("causeway gen");
        assert!(status.success(), "causeway gen failed");
        (std::fs::read_to_string(&path).expect("generated cloud"), Some(path))
    };
    let doc: Value = serde_json::from_str(&text).expect("cloud JSON");
    let of_type = |t: &str| -> Vec<String> {
        let resources = doc["resources"].as_array().expect("resources");
        resources
            .iter()
            .filter(|r| r["type"] == t)
            .filter_map(|r| r["id"].as_str())
            .map(String::from)
            .collect()
    };
    (Cloud { hosts: of_type("nova.host"), instances: of_type("nova.instance") }, path)
}

/// The server process.
struct Server {
    child: Child,
    addr: SocketAddr,
    started: Duration,
}

impl Server {
    fn start(data: &Path, topology: Option<&Path>) -> Server {
        let began = Instant::now();
        let mut command = Command::new(env!("CARGO_BIN_EXE_causeway"));
        command.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(data);
        if let Some(t) = topology {
            command.arg("--topology").arg(t);
        }
        let mut child = command
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start causeway serve");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let addr = loop {
            let line = lines.next().expect("causeway serve exited").expect("read stdout");
            if let Some(addr) = line.strip_prefix("causeway serving on http://") {
                break addr.trim().parse().expect("address");
            }
        };
        std::thread::spawn(move || lines.for_each(drop));
        Server { child, addr, started: began.elapsed() }
    }

    /// CPU seconds (user and system) of the server's threads named `name`, or of the whole
    /// process when `name` is `None`.
    fn cpu_secs(&self, name: Option<&str>) -> f64 {
        let ticks = |stat: &str| -> Option<f64> {
            // The fields after the parenthesised command: utime and stime are the 12th and 13th.
            let rest = stat.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            Some(fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?)
        };
        let pid = self.child.id();
        let total: f64 = match name {
            None => std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| ticks(&s))
                .unwrap_or(0.0),
            Some(name) => std::fs::read_dir(format!("/proc/{pid}/task"))
                .into_iter()
                .flatten()
                .filter_map(Result::ok)
                .filter_map(|task| std::fs::read_to_string(task.path().join("stat")).ok())
                .filter(|stat| stat.contains(&format!("({name})")))
                .filter_map(|stat| ticks(&stat))
                .sum(),
        };
        // Clock ticks are 1/100 s on Linux.
        total / 100.0
    }

    /// The server's resident set size in KiB.
    fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn alarm_change(op: &str, kind: &str, name: &str, target: &str) -> Value {
    json!({"op": op, "alarm": {"type": kind, "name": name, "target": target}})
}

fn post(conn: &mut Conn, id: &str, change: Value) {
    let body = json!({"changes": [change], "request_id": id}).to_string();
    let r = conn.post("/v1/causeway/changes", body.as_bytes()).expect("POST changes");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
}

/// Phase 1: one client, event → acknowledged → visible.
fn latency(addr: SocketAddr, cloud: &Cloud, samples: u64) {
    let mut conn = Conn::connect(addr, TIMEOUT).expect("connect");
    let (mut raise, mut clear, mut visible, mut total) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let warmup = 50;
    for k in 0..warmup + samples {
        let host = &cloud.hosts[k as usize % cloud.hosts.len()];
        let t0 = Instant::now();
        post(
            &mut conn,
            &format!("lat-{k}-raise"),
            alarm_change("raise_alarm", "zabbix", "nic failure", host),
        );
        let t1 = Instant::now();
        let mut polls = 0;
        loop {
            polls += 1;
            let r = conn.get("/v1/alarm/?all_tenants=true").expect("GET alarms");
            let shown = r.json().as_array().is_some_and(|alarms| {
                alarms
                    .iter()
                    .any(|a| a["name"] == "nic failure" && a["resource_id"] == host.as_str())
            });
            if shown {
                break;
            }
            assert!(polls < 100_000, "the alarm never showed");
        }
        let t2 = Instant::now();
        post(
            &mut conn,
            &format!("lat-{k}-clear"),
            alarm_change("clear_alarm", "zabbix", "nic failure", host),
        );
        let t3 = Instant::now();
        if k >= warmup {
            raise.push(t1 - t0);
            visible.push(t2 - t1);
            total.push(t2 - t0);
            clear.push(t3 - t2);
        }
    }
    println!("latency, one client, {samples} NIC failures raised and cleared:");
    report("  POST raise -> ack", &mut raise);
    report("  ack -> visible in GET /v1/alarm", &mut visible);
    report("  POST raise -> visible", &mut total);
    report("  POST clear -> ack", &mut clear);
}

fn report(what: &str, samples: &mut [Duration]) {
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "{what}: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} samples)",
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0),
        samples.len()
    );
}

/// Phase 2: `clients` connections posting as fast as they are answered, for `length`.
fn throughput(server: &Server, cloud: &Cloud, clients: u64, length: Duration) {
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let nic_threads = (cloud.hosts.len() as u64).min(clients / 4).max(1);
    let cpu_before = (server.cpu_secs(None), server.cpu_secs(Some("evaluation")));
    let began = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|t| {
            let (done, stop, latencies) = (done.clone(), stop.clone(), latencies.clone());
            let targets: Vec<String> = if t < nic_threads {
                vec![cloud.hosts[t as usize].clone()]
            } else {
                cloud
                    .instances
                    .iter()
                    .skip(t as usize % cloud.instances.len())
                    .step_by(7)
                    .cloned()
                    .collect()
            };
            let addr = server.addr;
            std::thread::spawn(move || {
                let mut conn = Conn::connect(addr, TIMEOUT).expect("connect");
                let (kind, name) = if t < nic_threads {
                    ("zabbix", "nic failure".to_string())
                } else {
                    ("nagios", format!("bench load {t}"))
                };
                let mut mine = Vec::new();
                let mut n = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    let target = &targets[(n / 2) % targets.len()];
                    let op = if n.is_multiple_of(2) { "raise_alarm" } else { "clear_alarm" };
                    let t0 = Instant::now();
                    post(&mut conn, &format!("tp-{t}-{n}"), alarm_change(op, kind, &name, target));
                    mine.push(t0.elapsed());
                    done.fetch_add(1, Ordering::Relaxed);
                    n += 1;
                }
                // Leave nothing raised, whatever the next run does.
                if n % 2 == 1 {
                    let target = &targets[(n / 2) % targets.len()];
                    post(
                        &mut conn,
                        &format!("tp-{t}-{n}"),
                        alarm_change("clear_alarm", kind, &name, target),
                    );
                }
                latencies.lock().unwrap().extend(mine);
            })
        })
        .collect();
    let mut rates = Vec::new();
    let mut rss = Vec::new();
    let mut last = 0;
    while began.elapsed() < length {
        std::thread::sleep(Duration::from_secs(1));
        let now = done.load(Ordering::Relaxed);
        rates.push(now - last);
        last = now;
        rss.extend(server.rss_kib());
    }
    stop.store(true, Ordering::Relaxed);
    let elapsed = began.elapsed();
    let cpu =
        (server.cpu_secs(None) - cpu_before.0, server.cpu_secs(Some("evaluation")) - cpu_before.1);
    for t in threads {
        t.join().expect("client thread");
    }
    let total = done.load(Ordering::Relaxed);
    println!(
        "throughput, {clients} clients ({nic_threads} toggling NIC failures, the others Nagios alarms), {:.0}s:",
        elapsed.as_secs_f64()
    );
    println!(
        "  {total} events acknowledged, {:.0} events/s; per second min {} max {}",
        total as f64 / elapsed.as_secs_f64(),
        rates.iter().min().unwrap_or(&0),
        rates.iter().max().unwrap_or(&0)
    );
    report("  POST -> ack under load", &mut latencies.lock().unwrap());
    println!(
        "  server CPU {:.1}s ({:.0} us per event), of which the evaluation thread {:.1}s ({:.0}% of the time)",
        cpu.0,
        cpu.0 * 1e6 / total.max(1) as f64,
        cpu.1,
        cpu.1 * 100.0 / elapsed.as_secs_f64()
    );
    let mib = |k: &u64| *k as f64 / 1024.0;
    if let (Some(min), Some(max), Some(end)) = (rss.iter().min(), rss.iter().max(), rss.last()) {
        println!(
            "  server RSS: first {:.1} MiB, min {:.1} MiB, max {:.1} MiB, last {:.1} MiB",
            mib(&rss[0]),
            mib(min),
            mib(max),
            mib(end)
        );
        let every = (rss.len() / 12).max(1);
        let series: Vec<String> =
            rss.iter().step_by(every).map(|k| format!("{:.0}", mib(k))).collect();
        println!("  RSS every {every}s (MiB): {}", series.join(" "));
    }
}

//! Crash test of `causeway serve` (issue 6): a seeded stream of a few thousand changes goes over
//! loopback HTTP to the real binary, which is killed with SIGKILL at random points (during
//! requests, and during the replay of a restart) and restarted on the same data directory. The
//! client resends, with the same `request_id`, every request it has no acknowledgement for.
//!
//! An uninterrupted run of the same stream on a fresh data directory runs beside it. At the end
//! both must show the same topology (resources, edges, causal edges, states), the same alarms
//! with the same `vitrage_id`s, the same alarm history, the same recorded Mistral requests
//! (execution ids and keys) and the same event log, and the crashed run's log must hold every
//! request exactly once. Only timestamps may differ: they are the clock of each run.
//!
//! The stream is sent one request at a time: the log records which requests were evaluated
//! together, and the `vitrage_id`s follow the order vertices were made in, so the two runs are
//! comparable only if both see the same batches.
//!
//! The seed is printed; `CAUSEWAY_CRASH_SEED=N` replays one, `CAUSEWAY_CRASH_REQUESTS=N`
//! changes the stream's length (default 1500).

#[path = "common/http.rs"]
mod http;

use causeway::store::{HistoryQuery, Reader, Seq};
use http::Conn;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// How many requests the stream has unless `CAUSEWAY_CRASH_REQUESTS` says otherwise.
const DEFAULT_REQUESTS: usize = 1500;
/// Kills while requests are in flight; one more lands during a restart's replay, and a last
/// one before the final comparison.
const KILLS_IN_FLIGHT: usize = 6;
/// The whole test gives up after this long.
const DEADLINE: Duration = Duration::from_secs(300);
/// How long one request or one start may take.
const TIMEOUT: Duration = Duration::from_secs(60);

#[test]
fn kill_9_loses_no_acknowledged_change_and_changes_no_result() {
    let seed = std::env::var("CAUSEWAY_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(clock_seed);
    let requests = std::env::var("CAUSEWAY_CRASH_REQUESTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_REQUESTS);
    eprintln!(
        "service_crash: seed {seed} (replay with CAUSEWAY_CRASH_SEED={seed}), {requests} requests"
    );
    let started = Instant::now();
    let stream = generate(seed, requests);
    let changes: usize = stream.iter().map(|r| r.changes).sum();
    let root = scratch_root().join(format!("causeway-crash-{}-{seed}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("scratch directory");

    let reference = {
        let (stream, dir) = (stream.clone(), root.join("reference"));
        std::thread::spawn(move || run(&dir, &stream, None))
    };
    let plan = KillPlan::new(seed, requests);
    let crashed = run(&root.join("crashed"), &stream, Some(plan));
    let reference = reference.join().expect("the reference run");

    compare(&reference, &crashed);
    check_log(&crashed, &stream);
    assert!(crashed.kills >= 5, "only {} kills", crashed.kills);
    eprintln!(
        "service_crash: {} requests ({changes} changes), {} kills, {} restarts, {} resends \
         answered duplicate, {:.1}s",
        stream.len(),
        crashed.kills,
        crashed.starts - 1,
        crashed.duplicates,
        started.elapsed().as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&root);
}

/// One request of the stream.
#[derive(Clone)]
struct Request {
    id: String,
    body: Vec<u8>,
    changes: usize,
}

/// What one run ended with.
struct Outcome {
    dir: PathBuf,
    /// The API's answers read before the last kill and after the restart that followed it.
    live: State,
    replayed: State,
    /// The acknowledged seq of each request.
    acks: Vec<Seq>,
    duplicates: usize,
    kills: usize,
    starts: usize,
}

/// What the API shows, timestamps taken out.
#[derive(Debug, PartialEq)]
struct State {
    topology: Value,
    alarms: Value,
}

/// Where the crashed run is killed: after sending request `at` (by a timer of `delay`), and
/// during the replay of start number `replay_start`.
struct KillPlan {
    in_flight: BTreeMap<usize, Duration>,
    replay_start: usize,
    rng: Rng,
}

impl KillPlan {
    fn new(seed: u64, requests: usize) -> KillPlan {
        let mut rng = Rng(seed ^ 0x6b69_6c6c);
        let mut in_flight = BTreeMap::new();
        let span = requests.saturating_sub(60).max(1);
        while in_flight.len() < KILLS_IN_FLIGHT.min(span) {
            let at = 10 + rng.below(span);
            in_flight.insert(at, Duration::from_micros(rng.below(4000) as u64));
        }
        let replay_start = 2 + rng.below(KILLS_IN_FLIGHT - 1);
        KillPlan { in_flight, replay_start, rng }
    }
}

/// The service under test: the current process, shared with the killer thread.
struct Service {
    dir: PathBuf,
    child: Arc<Mutex<Option<Child>>>,
    starts: usize,
    last_start: Duration,
}

impl Service {
    /// Starts the binary (after reaping the previous one) and waits until it serves; `None` if
    /// it died first.
    fn start(
        &mut self,
        kill_during: Option<(&mpsc::Sender<Duration>, Duration)>,
    ) -> Option<SocketAddr> {
        self.reap();
        self.starts += 1;
        let out = self.dir.join(format!("start-{}.out", self.starts));
        let err = File::options().create(true).append(true).open(self.dir.join("stderr.log"));
        let child = Command::new(env!("CARGO_BIN_EXE_causeway"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(self.dir.join("data"))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(File::create(&out).expect("stdout file"))
            .stderr(err.map(Stdio::from).unwrap_or_else(|_| Stdio::null()))
            .spawn()
            .expect("start causeway serve");
        let began = Instant::now();
        *self.child.lock().unwrap() = Some(child);
        if let Some((killer, delay)) = kill_during {
            killer.send(delay).expect("killer thread");
        }
        loop {
            let text = std::fs::read_to_string(&out).unwrap_or_default();
            if let Some(addr) = text.lines().find_map(announced) {
                self.last_start = began.elapsed();
                return Some(addr);
            }
            let mut guard = self.child.lock().unwrap();
            let exited = guard.as_mut().is_some_and(|c| c.try_wait().ok().flatten().is_some());
            drop(guard);
            if exited {
                return None;
            }
            assert!(began.elapsed() < TIMEOUT, "causeway serve did not start in {TIMEOUT:?}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Kills the process now.
    fn kill(&mut self) {
        if let Some(c) = self.child.lock().unwrap().as_mut() {
            let _ = c.kill();
        }
    }

    /// Waits for the process to end. A process that is still running has lost a connection
    /// without being killed: that is a failure of the service.
    fn reap(&mut self) {
        let Some(mut child) = self.child.lock().unwrap().take() else { return };
        let began = Instant::now();
        while child.try_wait().ok().flatten().is_none() {
            assert!(began.elapsed() < TIMEOUT, "causeway serve dropped a connection and runs on");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

fn announced(line: &str) -> Option<SocketAddr> {
    line.strip_prefix("causeway serving on http://")?.trim().parse().ok()
}

/// Sends `stream` in order to a service on `dir`, killing it as `plan` says (never, for the
/// reference run), and reads the final state.
fn run(dir: &Path, stream: &[Request], plan: Option<KillPlan>) -> Outcome {
    std::fs::create_dir_all(dir).expect("run directory");
    let deadline = Instant::now() + DEADLINE;
    let mut service = Service {
        dir: dir.to_path_buf(),
        child: Arc::new(Mutex::new(None)),
        starts: 0,
        last_start: Duration::ZERO,
    };
    let kills = Arc::new(AtomicUsize::new(0));
    let (killer, timers) = mpsc::channel::<Duration>();
    let killer_thread = {
        let (child, kills) = (service.child.clone(), kills.clone());
        std::thread::spawn(move || {
            for delay in timers {
                std::thread::sleep(delay);
                if let Some(c) = child.lock().unwrap().as_mut()
                    && c.kill().is_ok()
                {
                    kills.fetch_add(1, Ordering::SeqCst);
                }
            }
        })
    };
    let mut plan = plan;
    let mut acks = Vec::with_capacity(stream.len());
    let mut duplicates = 0;
    let mut conn: Option<Conn> = None;
    let mut i = 0;
    while i < stream.len() {
        assert!(Instant::now() < deadline, "the crash test ran past {DEADLINE:?}");
        let Some(c) = conn.as_mut() else {
            conn = connect(&mut service, plan.as_mut(), &killer);
            continue;
        };
        if let Some(delay) = plan.as_mut().and_then(|p| p.in_flight.remove(&i)) {
            killer.send(delay).expect("killer thread");
        }
        match c.post("/v1/causeway/changes", &stream[i].body) {
            Ok(r) if r.status == 200 => {
                let answer = r.json();
                let seq = answer["seq"].as_u64().expect("seq in the answer");
                duplicates += usize::from(answer["duplicate"] == true);
                acks.push(Seq(seq));
                i += 1;
            }
            Ok(r) => panic!(
                "request {} ({}) answered {}: {}\n{}",
                i,
                stream[i].id,
                r.status,
                String::from_utf8_lossy(&r.body),
                String::from_utf8_lossy(&stream[i].body)
            ),
            // The service was killed: restart it and resend.
            Err(_) => conn = None,
        }
    }
    drop(killer);
    killer_thread.join().expect("killer thread");
    eprintln!(
        "service_crash: {}: {} requests sent in {:.1}s, {} starts, the last took {:.2}s",
        dir.display(),
        stream.len(),
        (Instant::now() + DEADLINE - deadline).as_secs_f64(),
        service.starts,
        service.last_start.as_secs_f64()
    );
    let live = read_state(&mut serving(&mut service, conn));
    // A last kill, so that the final state is also the one the log alone rebuilds.
    service.kill();
    let replayed = read_state(&mut serving(&mut service, None));
    service.kill();
    service.reap();
    Outcome {
        dir: dir.join("data"),
        live,
        replayed,
        acks,
        duplicates,
        kills: kills.load(Ordering::SeqCst) + 1,
        starts: service.starts,
    }
}

/// A connection to a running service: `conn` if the process still runs, else a new one to a
/// restarted process.
fn serving(service: &mut Service, conn: Option<Conn>) -> Conn {
    let mut guard = service.child.lock().unwrap();
    let running = guard.as_mut().is_some_and(|c| c.try_wait().ok().flatten().is_none());
    drop(guard);
    if let Some(c) = conn.filter(|_| running) {
        return c;
    }
    loop {
        if let Some(c) = service.start(None).and_then(|addr| Conn::connect(addr, TIMEOUT).ok()) {
            return c;
        }
    }
}

/// (Re)starts the service and connects; on the plan's replay start, a timer kills it during
/// the replay. `None` when the process died before serving or before the connection.
fn connect(
    service: &mut Service,
    plan: Option<&mut KillPlan>,
    killer: &mpsc::Sender<Duration>,
) -> Option<Conn> {
    let kill_during = match plan {
        Some(p) if service.starts + 1 == p.replay_start => {
            // Somewhere in the replay, whose length the previous start tells.
            let micros = service.last_start.as_micros().max(1000) as usize;
            Some((killer, Duration::from_micros(p.rng.below(micros) as u64)))
        }
        _ => None,
    };
    let addr = service.start(kill_during)?;
    Conn::connect(addr, TIMEOUT).ok()
}

/// The topology and the alarm list, timestamps taken out.
fn read_state(conn: &mut Conn) -> State {
    let body = json!({"graph_type": "graph", "all_tenants": true}).to_string();
    let topology = conn.post("/v1/topology/", body.as_bytes()).expect("topology");
    assert_eq!(topology.status, 200, "{}", String::from_utf8_lossy(&topology.body));
    let alarms = conn.get("/v1/alarm/?all_tenants=true").expect("alarm list");
    assert_eq!(alarms.status, 200, "{}", String::from_utf8_lossy(&alarms.body));
    State { topology: untimed(topology.json()), alarms: untimed(alarms.json()) }
}

/// `v` without the keys that hold the run's clock.
fn untimed(mut v: Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for key in ["vitrage_sample_timestamp", "update_timestamp", "start_timestamp"] {
                    map.remove(key);
                }
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    v
}

/// The two runs agree on everything but time.
fn compare(reference: &Outcome, crashed: &Outcome) {
    let nodes = reference.live.topology["nodes"].as_array().map_or(0, Vec::len);
    let alarms = reference.live.alarms.as_array().map_or(0, Vec::len);
    assert!(nodes > 20 && alarms > 0, "a stream that leaves {nodes} vertices, {alarms} alarms");
    let dir = reference.dir.parent().and_then(Path::parent).unwrap_or(Path::new("."));
    let pairs = [
        ("reference run after its restart", &reference.replayed),
        ("crashed run", &crashed.live),
        ("crashed run after its last restart", &crashed.replayed),
    ];
    for (what, found) in pairs {
        assert_state(dir, what, &reference.live, found);
    }
    let (r, c) = (Reader::open(&reference.dir).unwrap(), Reader::open(&crashed.dir).unwrap());
    let outbox = |r: &Reader| -> Vec<Value> {
        let rows = r.outbox_requests().expect("outbox");
        rows.into_iter()
            .map(|o| {
                let q = o.request;
                // Execution ids are in each data directory's own namespace; the keys are the same.
                json!([q.key, q.workflow, q.input, q.resource_ids, o.state.as_str()])
            })
            .collect()
    };
    let (ro, co) = (outbox(&r), outbox(&c));
    assert!(!ro.is_empty(), "the stream asked for no workflow");
    assert_eq!(ro, co, "recorded Mistral requests");
    let history = |r: &Reader| -> Vec<Value> {
        let rows = r.history(&HistoryQuery::default()).expect("history");
        let mut rows: Vec<Value> = rows
            .into_iter()
            .map(|h| json!([h.vitrage_id, untimed(h.alarm), h.end.is_some()]))
            .collect();
        rows.sort_by_key(|v| v[0].to_string());
        rows
    };
    assert_eq!(history(&r), history(&c), "alarm history");
    // Template uuids are random (as Vitrage's are): templates entries compare by name.
    let comparable = |r: &Reader| -> Vec<_> {
        let mut entries = log(r);
        for e in entries.iter_mut().filter(|e| e.1 == "templates") {
            let names = e.3["templates"].as_array().map(|t| t.iter().map(|t| t["name"].clone()));
            e.3 = names.map_or(Value::Null, |n| n.collect());
        }
        // Each data directory draws its own namespace of execution ids.
        for e in entries.iter_mut().filter(|e| e.1 == "deployment") {
            e.3 = Value::Null;
        }
        entries
    };
    let (rl, cl) = (comparable(&r), comparable(&c));
    let first = rl.iter().zip(&cl).position(|(a, b)| a != b);
    assert!(
        first.is_none() && rl.len() == cl.len(),
        "event logs (without times): {} and {} entries, first difference {:?}",
        rl.len(),
        cl.len(),
        first.map(|i| (&rl[i], &cl[i]))
    );
}

/// Panics unless the states are equal, leaving both in `dir` to compare.
fn assert_state(dir: &Path, what: &str, expected: &State, found: &State) {
    if expected == found {
        return;
    }
    let show = |v: &State| {
        let both = json!({"topology": v.topology, "alarms": v.alarms});
        serde_json::to_string_pretty(&both).unwrap_or_default()
    };
    let name = what.replace(|c: char| !c.is_ascii_alphanumeric(), "-");
    let (e, f) =
        (dir.join(format!("{name}.expected.json")), dir.join(format!("{name}.found.json")));
    let _ = std::fs::write(&e, show(expected));
    let _ = std::fs::write(&f, show(found));
    panic!(
        "{what}: topology equal {}, alarms equal {}; diff {} {}",
        expected.topology == found.topology,
        expected.alarms == found.alarms,
        e.display(),
        f.display()
    );
}

/// The log's entries without their times: (seq, kind, source, body, request_id).
fn log(reader: &Reader) -> Vec<(u64, String, String, Value, Option<String>)> {
    let mut out = Vec::new();
    let mut after = Seq(0);
    loop {
        let entries = reader.entries_after(after, 1000).expect("read the log");
        let Some(last) = entries.last() else { return out };
        after = last.seq;
        out.extend(entries.into_iter().map(|e| (e.seq.0, e.kind, e.source, e.body, e.request_id)));
    }
}

/// Every request is in the crashed run's log exactly once, at the seq it was acknowledged with.
fn check_log(crashed: &Outcome, stream: &[Request]) {
    let reader = Reader::open(&crashed.dir).expect("open the crashed run's store");
    let mut seen: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for (seq, _, _, _, id) in log(&reader) {
        if let Some(id) = id {
            seen.entry(id).or_default().push(seq);
        }
    }
    for (r, ack) in stream.iter().zip(&crashed.acks) {
        assert_eq!(seen.get(&r.id), Some(&vec![ack.0]), "log entries of request {}", r.id);
    }
    assert_eq!(seen.len(), stream.len(), "the log holds requests the stream did not send");
}

/// Where the data directories go: `CAUSEWAY_CRASH_DIR`, else memory (`/dev/shm`) where there is
/// one, else the temporary directory. A killed process loses nothing the kernel holds, so
/// what `kill -9` tests does not need the disk; on memory the runs do not wait for fsyncs.
fn scratch_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("CAUSEWAY_CRASH_DIR") {
        return PathBuf::from(dir);
    }
    let shm = Path::new("/dev/shm");
    if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() }
}

/// A seed from the clock, for runs that do not name one.
fn clock_seed() -> u64 {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    t.map_or(1, |d| d.as_nanos() as u64 % 1_000_000_007)
}

/// SplitMix64: small, seeded, the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// What the stream has made of the demo cloud so far: enough to make every next request valid.
struct Model {
    hosts: Vec<String>,
    instances: BTreeMap<String, Instance>,
    stacks: Vec<String>,
    ports: Vec<String>,
    /// Raised external alarms: (type, name, target).
    raised: BTreeSet<(String, String, String)>,
    next: usize,
}

struct Instance {
    host: String,
    stacks: BTreeSet<String>,
}

impl Model {
    /// The demo cloud the service starts with.
    fn demo() -> Model {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo_cloud.json");
        let cloud: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let of_type = |t: &str| -> Vec<String> {
            let resources = cloud["resources"].as_array().unwrap();
            resources
                .iter()
                .filter(|r| r["type"] == t)
                .map(|r| r["id"].as_str().unwrap().to_string())
                .collect()
        };
        let mut model = Model {
            hosts: of_type("nova.host"),
            instances: BTreeMap::new(),
            stacks: of_type("heat.stack"),
            ports: of_type("neutron.port"),
            raised: BTreeSet::new(),
            next: 0,
        };
        for id in of_type("nova.instance") {
            model.instances.insert(id, Instance { host: String::new(), stacks: BTreeSet::new() });
        }
        for e in cloud["edges"].as_array().unwrap() {
            let (s, t) = (e["source"].as_str().unwrap(), e["target"].as_str().unwrap());
            let Some(i) = model.instances.get_mut(t) else { continue };
            match e["relationship_type"].as_str().unwrap() {
                "contains" => i.host = s.to_string(),
                "comprised" => {
                    i.stacks.insert(s.to_string());
                }
                _ => {}
            }
        }
        model
    }

    fn instance(&self, rng: &mut Rng) -> String {
        let ids: Vec<&String> = self.instances.keys().collect();
        (*rng.pick(&ids)).clone()
    }

    /// Raises the alarm if it is not raised (sometimes raises it again with a new severity),
    /// clears it if it is.
    fn toggle(
        &mut self,
        rng: &mut Rng,
        kind: &str,
        name: &str,
        target: &str,
        severities: &[&str],
    ) -> Value {
        let key = (kind.to_string(), name.to_string(), target.to_string());
        let mut alarm = json!({"type": kind, "name": name, "target": target});
        if self.raised.contains(&key) && !rng.chance(15) {
            self.raised.remove(&key);
            return json!({"op": "clear_alarm", "alarm": alarm});
        }
        alarm["severity"] = json!(rng.pick(severities));
        self.raised.insert(key);
        json!({"op": "raise_alarm", "alarm": alarm})
    }

    /// One operation, as the changes that make it.
    fn operation(&mut self, rng: &mut Rng) -> Vec<Value> {
        match rng.below(100) {
            0..=24 => {
                let host = rng.pick(&self.hosts).clone();
                vec![self.toggle(rng, "zabbix", "nic failure", &host, &["high", "disaster"])]
            }
            25..=36 => {
                let target =
                    if rng.chance(50) { rng.pick(&self.hosts).clone() } else { self.instance(rng) };
                let name = *rng.pick(&["CPU load", "Disk space"]);
                vec![self.toggle(rng, "nagios", name, &target, &["WARNING", "CRITICAL"])]
            }
            37..=43 => {
                let port = rng.pick(&self.ports).clone();
                vec![self.toggle(rng, "prometheus", "port down", &port, &["warning", "critical"])]
            }
            44..=48 => {
                let host = rng.pick(&self.hosts).clone();
                vec![self.toggle(rng, "doctor", "compute.host.down", &host, &["critical"])]
            }
            49..=60 => self.add_instance(rng),
            61..=67 if self.instances.len() > 4 => self.delete_instance(rng),
            68..=77 => self.migrate(rng),
            78..=87 => {
                let (id, states) = if rng.chance(75) {
                    (self.instance(rng), &["ACTIVE", "ERROR", "SUSPENDED", "SHUTOFF"][..])
                } else {
                    (rng.pick(&self.hosts).clone(), &["available", "maintenance"][..])
                };
                vec![json!({"op": "update_resource", "id": id, "state": rng.pick(states)})]
            }
            88..=96 => self.toggle_stack(rng),
            _ if self.hosts.len() < 8 => {
                self.next += 1;
                let id = format!("host-{}", self.next);
                self.hosts.push(id.clone());
                vec![
                    json!({"op": "add_resource", "resource": {"id": id, "type": "nova.host", "name": id, "state": "available"}}),
                    json!({"op": "add_edge", "source": "zone-1", "target": id, "relationship_type": "contains"}),
                ]
            }
            _ => self.add_instance(rng),
        }
    }

    fn add_instance(&mut self, rng: &mut Rng) -> Vec<Value> {
        self.next += 1;
        let id = format!("inst-{}", self.next);
        let host = rng.pick(&self.hosts).clone();
        let project = *rng.pick(&["demo", "admin", "tenant-b"]);
        let mut changes = vec![
            json!({"op": "add_resource", "resource": {
                "id": id, "type": "nova.instance", "name": id, "state": "ACTIVE",
                "properties": {"host": host, "project_id": project}}}),
            json!({"op": "add_edge", "source": host, "target": id, "relationship_type": "contains"}),
        ];
        let mut stacks = BTreeSet::new();
        if rng.chance(40) {
            let stack = rng.pick(&self.stacks).clone();
            changes.push(json!({"op": "add_edge", "source": stack, "target": id, "relationship_type": "comprised"}));
            stacks.insert(stack);
        }
        self.instances.insert(id, Instance { host, stacks });
        changes
    }

    /// Deletes an instance, clearing its alarms first, as a datasource that saw it go would.
    fn delete_instance(&mut self, rng: &mut Rng) -> Vec<Value> {
        let id = self.instance(rng);
        self.instances.remove(&id);
        let on: Vec<_> = self.raised.iter().filter(|k| k.2 == id).cloned().collect();
        let mut changes: Vec<Value> = on
            .into_iter()
            .map(|k| {
                self.raised.remove(&k);
                json!({"op": "clear_alarm", "alarm": {"type": k.0, "name": k.1, "target": k.2}})
            })
            .collect();
        changes.push(json!({"op": "delete_resource", "id": id}));
        changes
    }

    /// Moves an instance to another host.
    fn migrate(&mut self, rng: &mut Rng) -> Vec<Value> {
        let id = self.instance(rng);
        let to = rng.pick(&self.hosts).clone();
        let instance = self.instances.get_mut(&id).unwrap();
        if instance.host == to {
            return vec![
                json!({"op": "update_resource", "id": id, "properties": {"migrated": false}}),
            ];
        }
        let from = std::mem::replace(&mut instance.host, to.clone());
        let mut changes = Vec::new();
        if !from.is_empty() {
            changes.push(json!({"op": "delete_edge", "source": from, "target": id, "relationship_type": "contains"}));
        }
        changes.push(
            json!({"op": "add_edge", "source": to, "target": id, "relationship_type": "contains"}),
        );
        changes.push(json!({"op": "update_resource", "id": id, "properties": {"host": to, "migrated": true}}));
        changes
    }

    /// Adds an instance to an application, or takes it out.
    fn toggle_stack(&mut self, rng: &mut Rng) -> Vec<Value> {
        let id = self.instance(rng);
        let stack = rng.pick(&self.stacks).clone();
        let instance = self.instances.get_mut(&id).unwrap();
        let op = if instance.stacks.remove(&stack) {
            "delete_edge"
        } else {
            instance.stacks.insert(stack.clone());
            "add_edge"
        };
        vec![json!({"op": op, "source": stack, "target": id, "relationship_type": "comprised"})]
    }
}

/// The stream of `seed`: `n` requests of one to three operations each, every one valid where
/// it stands in the stream.
fn generate(seed: u64, n: usize) -> Vec<Request> {
    let mut rng = Rng(seed);
    let mut model = Model::demo();
    (0..n)
        .map(|i| {
            let operations = if rng.chance(75) { 1 } else { 2 + rng.below(2) };
            let changes: Vec<Value> =
                (0..operations).flat_map(|_| model.operation(&mut rng)).collect();
            let id = format!("crash-{seed}-{i}");
            let body = json!({"changes": changes, "request_id": id}).to_string().into_bytes();
            Request { id, body, changes: changes.len() }
        })
        .collect()
}

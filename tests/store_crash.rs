//! `kill -9` during appends: every acknowledged entry is in the log exactly once, the log has
//! no gaps, and the outbox and snapshots agree with it.
//!
//! The test runs its own binary again as the writer (the environment names the store and the
//! first entry to send). The writer appends batches, each with an outbox request, and prints
//! `ack <seq> <n> <first n of the batch>` for each entry once the commit has returned. The
//! parent kills it with SIGKILL at a random moment, reopens the store and checks it, then starts
//! the next writer from the first unacknowledged entry, as a client that resends what was not
//! acknowledged would. `CAUSEWAY_STORE_CRASH_SEED` replays a failing run's seed.

use causeway::store::{NewEntry, Origin, OutboxRequest, Seq, Store, Timestamp};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const TEST_NAME: &str = "acknowledged_appends_survive_kill_9";
const DIR_ENV: &str = "CAUSEWAY_STORE_CRASH_DIR";
const FROM_ENV: &str = "CAUSEWAY_STORE_CRASH_FROM";
const SEED_ENV: &str = "CAUSEWAY_STORE_CRASH_SEED";
const KILLS: usize = 8;
/// A writer that is never killed stops by itself after this long.
const WRITER_LIFETIME: Duration = Duration::from_secs(20);

#[test]
fn acknowledged_appends_survive_kill_9() {
    if let Some(dir) = std::env::var_os(DIR_ENV) {
        let from = std::env::var(FROM_ENV).ok().and_then(|f| f.parse().ok()).unwrap_or(0);
        writer(Path::new(&dir), from);
        return;
    }
    let seed = std::env::var(SEED_ENV).ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    eprintln!("{SEED_ENV}={seed}");
    let mut rng = XorShift(seed | 1);
    let dir = Scratch::new();
    let started = Instant::now();
    // acked[n] is the seq acknowledged for entry n; acknowledgements come in entry order.
    let mut acked: Vec<u64> = Vec::new();
    let mut batches: Vec<u64> = Vec::new();
    for round in 0..KILLS {
        let from = acked.len() as u64;
        let lines = run_and_kill(dir.path(), from, 1 + rng.next() % 60);
        for (seq, n, first) in lines {
            assert_eq!(n, acked.len() as u64, "round {round}: acknowledgements out of order");
            acked.push(seq);
            batches.push(first);
        }
        let logged = check(dir.path(), &acked, &batches);
        eprintln!("kill {round}: {} entries acknowledged, {logged} in the log", acked.len());
    }
    assert!(acked.len() > KILLS, "the writers acknowledged too little to test anything");
    assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());
}

/// Starts a writer, waits for its first acknowledgement, lets it run `ms` milliseconds more,
/// kills it and returns the complete `ack` lines it printed.
fn run_and_kill(dir: &Path, from: u64, ms: u64) -> Vec<(u64, u64, u64)> {
    let exe = std::env::current_exe().expect("test binary");
    let mut child = Command::new(exe)
        .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(DIR_ENV, dir)
        .env(FROM_ENV, from.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the writer");
    let stdout = child.stdout.take().expect("piped stdout");
    let (first_tx, first_rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut acks = Vec::new();
        let mut out = BufReader::new(stdout);
        let mut line = Vec::new();
        // A line cut short by the kill has no newline and was not an acknowledgement.
        while out.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) && line.ends_with(b"\n") {
            if let Some(ack) = parse_ack(&line) {
                if acks.is_empty() {
                    let _ = first_tx.send(());
                }
                acks.push(ack);
            }
            line.clear();
        }
        acks
    });
    let started = first_rx.recv_timeout(Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(ms));
    child.kill().expect("SIGKILL the writer");
    let _ = child.wait();
    let acks = reader.join().expect("reader thread");
    assert!(started.is_ok(), "the writer acknowledged nothing within 10 s");
    acks
}

fn parse_ack(line: &[u8]) -> Option<(u64, u64, u64)> {
    let text = std::str::from_utf8(line).ok()?.strip_prefix("ack ")?;
    let mut nums = text.split_whitespace().map(|w| w.parse().ok());
    Some((nums.next()??, nums.next()??, nums.next()??))
}

/// Reopens the store, checks it against what was acknowledged and returns how many entries the
/// log holds (more than were acknowledged when the kill came between a commit and its
/// acknowledgement).
fn check(dir: &Path, acked: &[u64], batches: &[u64]) -> usize {
    let store = Store::open(dir).expect("reopen after kill -9");
    let log = store.entries_after(Seq(0), usize::MAX).expect("read the log");
    let count = store.count().expect("count");
    let last = store.last_seq().expect("last seq");
    assert_eq!((count, last), (log.len() as u64, Seq(log.len() as u64)), "gaps in the log");
    for (i, e) in log.iter().enumerate() {
        // Entries are sent in order and resends are recognised, so entry n is at seq n + 1:
        // seqs have no gaps and no entry is there twice.
        assert_eq!(e.seq, Seq(i as u64 + 1));
        assert_eq!(e.request_id.as_deref(), Some(request_id(i as u64).as_str()), "at {}", e.seq);
        assert_eq!(e.body, serde_json::json!({ "n": i }));
    }
    assert!(acked.len() <= log.len(), "acknowledged entries are missing");
    for (n, seq) in acked.iter().enumerate() {
        assert_eq!(*seq, n as u64 + 1, "entry {n} was acknowledged at seq {seq}");
    }
    // Every request was committed with its batch: none without its entries, none lost.
    let outbox = store.outbox_requests().expect("outbox");
    let mut keys = std::collections::HashSet::new();
    for r in &outbox {
        let first: u64 = r.request.key.strip_prefix("batch-").and_then(|n| n.parse().ok()).unwrap();
        assert!(first < log.len() as u64, "request {} without its batch", r.request.key);
        keys.insert(first);
    }
    for first in batches {
        assert!(keys.contains(first), "the request of batch {first} is lost");
    }
    if let Some(snapshot) = store.latest_snapshot().expect("snapshot") {
        assert!(snapshot.upto <= last, "snapshot past the log");
        assert_eq!(snapshot.data, format!("upto {}", snapshot.upto).into_bytes());
    }
    log.len()
}

/// The killed process: appends batches of 1 to 64 entries from entry `from` on, each with an
/// outbox request, saves a snapshot every tenth batch, and acknowledges each entry after its
/// commit.
fn writer(dir: &Path, from: u64) {
    let mut store = Store::open(dir).expect("open");
    let mut rng = XorShift(u64::from(std::process::id()) << 1 | 1);
    let stdout = std::io::stdout();
    // End the harness's `test ... ` line, so that each acknowledgement is a line of its own.
    writeln!(stdout.lock()).expect("stdout");
    let started = Instant::now();
    let mut n = from;
    let mut batch_no = 0u64;
    while started.elapsed() < WRITER_LIFETIME {
        let size = 1 + rng.next() % 64;
        let entries: Vec<NewEntry> = (n..n + size).map(entry).collect();
        let request = OutboxRequest {
            execution_id: format!("exec-batch-{n}"),
            key: format!("batch-{n}"),
            workflow: "wf".into(),
            input: serde_json::json!({ "first": n }),
            description: None,
            origin: Origin::Auto,
            requested_by: None,
            created_at: entries[0].at.clone(),
            resource_ids: vec![],
        };
        let appended = store.append_batch_with(&entries, &[request]).expect("append");
        let mut out = stdout.lock();
        for (i, a) in appended.iter().enumerate() {
            writeln!(out, "ack {} {} {n}", a.seq, n + i as u64).expect("stdout");
        }
        out.flush().expect("stdout");
        drop(out);
        n += size;
        batch_no += 1;
        if batch_no.is_multiple_of(10) {
            let upto = store.last_seq().expect("last seq");
            store.save_snapshot(upto, format!("upto {upto}").as_bytes()).expect("snapshot");
        }
    }
}

fn entry(n: u64) -> NewEntry {
    NewEntry {
        at: Timestamp::from_unix_micros(1_714_521_600_000_000 + n as i64).expect("in range"),
        source: "crash-test".into(),
        kind: "event".into(),
        body: serde_json::json!({ "n": n }),
        request_id: Some(request_id(n)),
    }
}

fn request_id(n: u64) -> String {
    format!("req-{n}")
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The store's directory, removed at the end.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let dir = std::env::temp_dir().join(format!("causeway-store-crash-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Scratch(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

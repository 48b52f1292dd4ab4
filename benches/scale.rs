//! The scale harness: load a generated cloud (cluster → zones → hosts → instances, ports,
//! networks, volumes, applications) of 10k, 100k and 1M resources with the shipped templates,
//! then raise and clear NIC failures on hosts one event at a time.
//!
//! Prints, per size: load time and memory per element, per-event latency (alarm in → all
//! actions decided and applied, to the fixpoint; no Mistral I/O) p50/p99, events per second,
//! and the time of one full reference recomputation against one incremental event; then the
//! size of a snapshot of the final state and the time to save and to restore it.
//!
//! `cargo bench --bench scale` (all sizes) or `cargo bench --bench scale -- 10000 100000`.

use causeway::check::{Input, Options, check_set};
use causeway::compile::ir::RuleSet;
use causeway::generate::{Element, Size, nic_alarm, topology};
use causeway::runner::{Change, Runner};
use causeway::scenario::Edge;
use std::time::Instant;

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let k = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[k.clamp(1, sorted.len()) - 1]
}

fn rules() -> RuleSet {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let inputs: Vec<Input> = ["nic_failure.yaml", "host_down.yaml", "port_down.yaml"]
        .iter()
        .map(|f| Input {
            file: (*f).into(),
            bytes: std::fs::read(root.join("templates").join(f)).expect("template"),
        })
        .collect();
    check_set(&inputs, &Options::default()).compiled.rules
}

fn run(resources_wanted: usize, per_host: usize, events: usize) {
    // Per host: the host, its instances, a port each, a volume for every other one, and an
    // application for every ten.
    let per = 1 + per_host * 2 + per_host.div_ceil(2) + per_host.div_ceil(10);
    let hosts = (resources_wanted / per).max(1);
    let size = Size { zones: 10, hosts, instances_per_host: per_host, alarms: events / 2 };
    let rss_before = rss_mib();
    let mut r = Runner::new(rules()).expect("runner");
    let (mut resources, mut edges) = (0usize, 0usize);
    let started = Instant::now();
    topology(size, |e| match e {
        Element::Resource(res) => {
            resources += 1;
            r.stage(&[Change::AddResource { resource: res }]).expect("resource");
        }
        Element::Edge(edge) => {
            edges += 1;
            let Edge { source, target, relationship_type } = edge;
            r.stage(&[Change::AddEdge { source, target, relationship_type }]).expect("edge");
        }
    });
    let load = started.elapsed().as_secs_f64();
    let t = Instant::now();
    r.evaluate().expect("initial evaluation");
    let initial = t.elapsed().as_secs_f64();
    let rss = rss_mib() - rss_before;
    let mut latencies = Vec::with_capacity(events);
    let stream = Instant::now();
    for k in 0..events / 2 {
        let alarm = nic_alarm(size, k);
        for raise in [true, false] {
            let t = Instant::now();
            let alarm = alarm.clone();
            let change =
                if raise { Change::RaiseAlarm { alarm } } else { Change::ClearAlarm { alarm } };
            r.apply(&[change]).expect("event");
            latencies.push(t.elapsed().as_secs_f64() * 1e6);
        }
    }
    let stream_secs = stream.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let t = Instant::now();
    let n = r.reference_activations();
    let reference_us = t.elapsed().as_secs_f64() * 1e6;
    assert_eq!(n, r.activations(), "incremental and reference disagree");
    let mean = latencies.iter().sum::<f64>() / latencies.len().max(1) as f64;
    println!(
        "{per_host:>3} instances/host  resources {resources:>8}  edges {edges:>8}  load {:>7.1} ms ({:>5.2} us/element)  initial eval {:>7.1} ms  \
         rss {:>6.1} MiB ({:>4.0} B/element)  event p50 {:>6.1} us  p99 {:>7.1} us  {:>6.0} events/s  \
         reference recompute {:>9.0} us = {:>6.0}x an incremental event",
        load * 1e3,
        load * 1e6 / (resources + edges) as f64,
        initial * 1e3,
        rss,
        rss * 1048576.0 / (resources + edges) as f64,
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        latencies.len() as f64 / stream_secs,
        reference_us,
        reference_us / mean,
    );
    let t = Instant::now();
    let bytes = r.save().expect("a settled runner saves");
    let save = t.elapsed().as_secs_f64();
    let rules = rules();
    let (rss_before, t) = (rss_mib(), Instant::now());
    let restored = Runner::restore(&bytes, rules).expect("restores");
    let restore = t.elapsed().as_secs_f64();
    let restored_rss = rss_mib() - rss_before;
    assert_eq!(restored.activations(), r.activations(), "the restored runner differs");
    println!(
        "{per_host:>3} instances/host  resources {resources:>8}  snapshot {:>7.1} MiB ({:>5.1} B/element)  \
         save {:>7.1} ms  restore {:>7.1} ms  restored rss {:>6.1} MiB (loaded {:>6.1} MiB)",
        bytes.len() as f64 / 1048576.0,
        bytes.len() as f64 / (resources + edges) as f64,
        save * 1e3,
        restore * 1e3,
        restored_rss,
        rss,
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `--size N [--per-host M]`: measure one size in this process (memory is per process).
    if let Some(i) = args.iter().position(|a| a == "--size") {
        let size = args.get(i + 1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
        let per_host = args
            .iter()
            .position(|a| a == "--per-host")
            .and_then(|j| args.get(j + 1))
            .and_then(|a| a.parse().ok())
            .unwrap_or(10);
        run(size, per_host, 2000);
        return;
    }
    let mut sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    if sizes.is_empty() {
        sizes = vec![10_000, 100_000, 1_000_000];
    }
    let exe = std::env::current_exe().expect("own path");
    let mut cases: Vec<(usize, usize)> = sizes.iter().map(|&s| (s, 10)).collect();
    // A NIC failure on hosts with 100 instances each.
    cases.push((10_000, 100));
    for (size, per_host) in cases {
        let status = std::process::Command::new(&exe)
            .args(["--size", &size.to_string(), "--per-host", &per_host.to_string()])
            .status()
            .expect("runs");
        assert!(status.success(), "size {size} failed");
    }
}

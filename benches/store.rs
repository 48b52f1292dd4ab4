//! Event-log append throughput with group commit: one transaction (one fsync, as
//! `synchronous=FULL` requires) per batch of 1, 64 or 512 entries, so the figures show how far
//! batching lifts the one-fsync-per-event cap. Criterion reports events per second as
//! `elem/s`. The store lives under Cargo's target tmp directory, on the same disk as the build.
//!
//! `cargo bench --bench store`

use causeway::store::{NewEntry, Store, Timestamp};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;

fn entry(n: u64, request_id: Option<String>) -> NewEntry {
    NewEntry {
        at: Timestamp::from_unix_micros(1_714_521_600_000_000 + n as i64).expect("in range"),
        source: "zabbix".into(),
        kind: "alarm.raise".into(),
        body: serde_json::json!({
            "vitrage_type": "zabbix",
            "name": "Interface eth2 down",
            "resource_id": format!("compute-{}", n % 100),
            "severity": "DISASTER",
            "timestamp": "2024-05-01T00:00:00Z",
            "rawtext": "Interface eth2 down on {HOST.NAME}",
        }),
        request_id,
    }
}

/// A new, empty store for one benchmark, so that no figure depends on what ran before it.
fn fresh_store(name: &str) -> (Store, std::path::PathBuf) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("store-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    (Store::open(&dir).expect("open the store"), dir)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("append");
    group.sample_size(10).warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    for size in [1u64, 64, 512] {
        let (mut store, dir) = fresh_store(&size.to_string());
        let entries: Vec<NewEntry> = (0..size).map(|n| entry(n, None)).collect();
        group.throughput(Throughput::Elements(size));
        group.bench_function(format!("batch {size}"), |b| {
            b.iter(|| black_box(store.append_batch(&entries).expect("append")))
        });
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
    // With idempotency keys every entry is first looked up by its key.
    let (mut store, dir) = fresh_store("ids");
    let mut next = 0u64;
    group.throughput(Throughput::Elements(64));
    group.bench_function("batch 64 with request ids", |b| {
        b.iter_batched(
            || {
                next += 64;
                (next..next + 64).map(|n| entry(n, Some(format!("req-{n}")))).collect::<Vec<_>>()
            },
            |entries| black_box(store.append_batch(&entries).expect("append")),
            BatchSize::SmallInput,
        )
    });
    group.finish();
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Runner snapshots: a runner saved after some steps and restored continues exactly as the
//! original does, and snapshot bytes that are not a snapshot are errors, never panics.
//!
//! The property runs random template sets, clouds and steps (topology changes, alarms raised
//! and cleared, template sets replaced): the first `k` steps on one runner, then a snapshot
//! and a restore with the rules compiled again, then the remaining steps on both. Every
//! [`Outcome`] (vertex ids, workflow requests with their keys, warnings) and the final state
//! must be equal, and so must the two runners' snapshots, since the same state always
//! encodes to the same bytes.
//!
//! `PROPTEST_CASES=2000 cargo test --release --test runner_snapshot` is the longer mode.
//! `cargo test --test runner_snapshot -- --nocapture` prints what a snapshot of a generated
//! cloud costs.

use causeway::check::{Input, Options, check_set};
use causeway::compile::ir::RuleSet;
use causeway::generate::{Element, Size, nic_alarm, topology};
use causeway::runner::{Change, Outcome, RestoreError, Runner, SNAPSHOT_FORMAT, SaveError};
use causeway::scenario::Edge;
use common::generators::{Cloud, Op, ScenarioGen, op, rules, scenario};
use proptest::prelude::*;
use std::time::Instant;

mod common;

/// A step: an event, or a new template set (the levels whose bit is set).
#[derive(Debug, Clone)]
enum Step {
    Op(Op),
    Templates(u8),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        12 => op().prop_map(Step::Op),
        1 => any::<u8>().prop_map(Step::Templates),
    ]
}

/// The rules of the levels in `mask`, compiled afresh as a restarting caller compiles them.
fn rules_of(levels: &[Vec<ScenarioGen>], mask: u8) -> RuleSet {
    let kept: Vec<Vec<ScenarioGen>> = levels
        .iter()
        .enumerate()
        .map(|(k, s)| if mask >> k & 1 == 1 { s.clone() } else { Vec::new() })
        .collect();
    rules(&kept).unwrap_or_default()
}

/// Applies a step; the template set in force is `mask`.
fn apply(
    cloud: &mut Cloud,
    runner: &mut Runner,
    levels: &[Vec<ScenarioGen>],
    mask: &mut u8,
    step: &Step,
) -> Result<Outcome, String> {
    match step {
        Step::Op(op) => cloud.apply(runner, op),
        Step::Templates(m) => {
            *mask = *m;
            runner.replace_rules(rules_of(levels, *m)).map_err(|e| format!("{step:?}: {e}"))
        }
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(48)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn a_restored_runner_continues_exactly_as_the_original(
        levels in prop::collection::vec(prop::collection::vec(scenario(), 1..4), 1..4),
        hosts in 1usize..3,
        vms in 1usize..4,
        steps in prop::collection::vec(step(), 1..40),
        cut in any::<prop::sample::Index>(),
        explain in any::<bool>(),
    ) {
        let Some(all) = rules(&levels) else { return Ok(()) };
        let mut cloud = Cloud::initial(hosts, vms);
        let mut runner = cloud.fresh(all).map_err(TestCaseError::fail)?;
        runner.explain = explain;
        let mut mask = u8::MAX;
        let k = cut.index(steps.len() + 1);
        for s in &steps[..k] {
            apply(&mut cloud, &mut runner, &levels, &mut mask, s).map_err(TestCaseError::fail)?;
        }
        let bytes = runner.save().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut restored = Runner::restore(&bytes, rules_of(&levels, mask))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(restored.save().map_err(|e| TestCaseError::fail(e.to_string()))?, bytes);
        let (mut twin, mut twin_mask) = (cloud.clone(), mask);
        for (i, s) in steps[k..].iter().enumerate() {
            let a = apply(&mut cloud, &mut runner, &levels, &mut mask, s);
            let b = apply(&mut twin, &mut restored, &levels, &mut twin_mask, s);
            prop_assert_eq!(a, b, "step {} after the snapshot: {:?}", i, s);
        }
        prop_assert_eq!(runner.snapshot(), restored.snapshot());
        prop_assert_eq!(runner.activations(), restored.activations());
        let (a, b) = (runner.save(), restored.save());
        prop_assert!(a.is_ok());
        prop_assert_eq!(a, b);
    }
}

/// The shipped templates' rules, compiled once.
fn shipped() -> RuleSet {
    static RULES: std::sync::OnceLock<RuleSet> = std::sync::OnceLock::new();
    let rules = RULES.get_or_init(|| {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let inputs: Vec<Input> = ["nic_failure.yaml", "host_down.yaml", "port_down.yaml"]
            .iter()
            .map(|f| Input {
                file: (*f).into(),
                bytes: std::fs::read(root.join("templates").join(f)).expect("template"),
            })
            .collect();
        check_set(&inputs, &Options::default()).compiled.rules
    });
    rules.clone()
}

/// A generated cloud of `size` under the shipped templates, with NIC failures raised on
/// `size.alarms` hosts (deduced alarms, states, causal edges and workflow requests live).
fn cloud(size: Size) -> Runner {
    let mut r = Runner::new(shipped()).expect("runner");
    topology(size, |e| match e {
        Element::Resource(resource) => {
            r.stage(&[Change::AddResource { resource }]).expect("resource");
        }
        Element::Edge(Edge { source, target, relationship_type }) => {
            r.stage(&[Change::AddEdge { source, target, relationship_type }]).expect("edge");
        }
    });
    r.evaluate().expect("initial evaluation");
    for k in 0..size.alarms {
        let outcome = r.apply(&[Change::RaiseAlarm { alarm: nic_alarm(size, k) }]).expect("raise");
        assert!(!outcome.mistral.is_empty(), "the NIC failure asks for workflows");
    }
    r
}

const SMALL: Size = Size { zones: 2, hosts: 6, instances_per_host: 3, alarms: 2 };

#[test]
fn only_a_settled_runner_is_saved() {
    let mut r = cloud(SMALL);
    let alarm = nic_alarm(SMALL, 0);
    r.stage(&[Change::ClearAlarm { alarm }]).expect("stages");
    assert_eq!(r.save(), Err(SaveError::Unsettled));
    r.evaluate().expect("settles");
    assert!(r.save().is_ok());
}

#[test]
fn truncated_corrupt_and_foreign_snapshots_are_errors() {
    let bytes = cloud(SMALL).save().expect("saves");
    let restore = |b: &[u8]| Runner::restore(b, shipped()).map(|_| ());
    assert_eq!(restore(&bytes), Ok(()));
    assert_eq!(restore(b""), Err(RestoreError::NotASnapshot));
    assert_eq!(restore(b"{\"graph\": []}"), Err(RestoreError::NotASnapshot));
    let step = (bytes.len() / 300).max(1);
    for n in (4..bytes.len()).step_by(step) {
        assert!(matches!(restore(&bytes[..n]), Err(RestoreError::Corrupt(_))), "cut at {n}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(restore(&longer), Err(RestoreError::Corrupt(_))));
    for i in (17..bytes.len()).step_by(step) {
        let mut flipped = bytes.clone();
        flipped[i] ^= 0x5a;
        assert!(matches!(restore(&flipped), Err(RestoreError::Corrupt(_))), "flip at {i}");
    }
}

/// Bytes that pass the checksum but were never a runner (a bug, or a forged snapshot) are
/// refused or read as some other valid state; they never panic, now or on the next event.
#[test]
fn bytes_that_pass_the_checksum_never_panic() {
    let bytes = cloud(SMALL).save().expect("saves");
    let step = (bytes.len() / 400).max(1);
    let mut refused = 0;
    for i in (17..bytes.len()).step_by(step) {
        for mask in [0x01, 0xff] {
            let mut forged = bytes.clone();
            forged[i] ^= mask;
            let crc = crc32fast::hash(&forged[17..]).to_le_bytes();
            forged[13..17].copy_from_slice(&crc);
            match Runner::restore(&forged, shipped()) {
                Err(_) => refused += 1,
                Ok(mut r) => {
                    let _ = r.apply(&[Change::ClearAlarm { alarm: nic_alarm(SMALL, 0) }]);
                    let _ = r.apply(&[Change::RaiseAlarm { alarm: nic_alarm(SMALL, 1) }]);
                    let _ = r.snapshot();
                }
            }
        }
    }
    assert!(refused > 0);
}

#[test]
fn another_format_version_or_other_rules_are_refused() {
    let bytes = cloud(SMALL).save().expect("saves");
    let mut newer = bytes.clone();
    newer[4] = SNAPSHOT_FORMAT.version + 1;
    assert_eq!(
        Runner::restore(&newer, shipped()).map(|_| ()),
        Err(RestoreError::Version {
            found: SNAPSHOT_FORMAT.version + 1,
            supported: SNAPSHOT_FORMAT.version
        })
    );
    assert_eq!(Runner::restore(&bytes, RuleSet::default()).map(|_| ()), Err(RestoreError::Rules));
}

/// What a snapshot of a generated cloud costs; `-- --nocapture` prints it (`cargo bench
/// --bench scale` measures 100k and 1M resources in a release build).
#[test]
fn a_snapshot_of_a_generated_cloud_restores_exactly() {
    let size = Size { zones: 4, hosts: 300, instances_per_host: 10, alarms: 10 };
    let mut r = cloud(size);
    let started = Instant::now();
    let bytes = r.save().expect("saves");
    let save = started.elapsed();
    let rules = shipped();
    let started = Instant::now();
    let mut restored = Runner::restore(&bytes, rules).expect("restores");
    let restore = started.elapsed();
    let elements = r.graph().vertex_count() + r.graph().live_edge_count();
    println!(
        "snapshot of {} vertices and {} edges: {} bytes ({:.1} per vertex or edge), save {:?}, restore {:?}",
        r.graph().vertex_count(),
        r.graph().live_edge_count(),
        bytes.len(),
        bytes.len() as f64 / elements as f64,
        save,
        restore
    );
    for k in 0..size.alarms {
        let clear = [Change::ClearAlarm { alarm: nic_alarm(size, k) }];
        assert_eq!(r.apply(&clear), restored.apply(&clear));
    }
    assert_eq!(r.snapshot(), restored.snapshot());
}

/// `cloud(SMALL)` saved by the build of commit 781b048 (format 1). Rows of the tracker and
/// resolved actions have a smaller shape in memory since; their saved form must be the same,
/// so an operator's data directory survives the upgrade. Write it again only with a new
/// format version (and a migration for the old one).
#[test]
fn a_snapshot_written_by_an_earlier_build_restores_to_the_same_bytes() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = root.join("tests/fixtures/snapshots/small_cloud_format1.snapshot");
    let saved = std::fs::read(file).expect("fixture");
    let mut r = cloud(SMALL);
    assert!(r.save().expect("saves") == saved, "this build saves the same cloud differently");
    let mut restored = Runner::restore(&saved, shipped()).expect("restores");
    assert!(restored.save().expect("saves") == saved);
    for k in 0..SMALL.alarms {
        let clear = [Change::ClearAlarm { alarm: nic_alarm(SMALL, k) }];
        assert_eq!(r.apply(&clear), restored.apply(&clear));
    }
    assert_eq!(r.snapshot(), restored.snapshot());
}

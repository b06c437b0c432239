//! Scaling benchmarks (issue 4's performance part). Ignored by default — they are measurements,
//! not tests of behaviour, and take minutes — run them explicitly:
//!
//! ```text
//! cargo nextest run -p valkey-charm --test scaling_bench --run-ignored only --no-capture
//! ```
//!
//! - `remove_the_primary_write_pause`: one 3-unit deployment; each run removes the primary's
//!   unit under a `WAIT 1` writer, measures the longest gap between acknowledged writes, checks no
//!   acknowledged write is missing on any node, and adds a unit back. Prints median and p95.
//! - `add_unit_with_a_1_gib_dataset_beside_raw_replicaof`: `add-unit` to a 2-unit deployment
//!   holding 1 GiB, to active and discovered, beside a plain `valkey-server --replicaof` of the
//!   same primary on the same machine.
//!
//! Every run still asserts what must hold (no lost write, one primary, Sentinels agree); the
//! timings are printed only.

#[path = "scaling/checks.rs"]
mod checks;
mod common;
#[path = "scaling/raw_replica.rs"]
mod raw_replica;

use std::time::{Duration, Instant};

use checks::after_step;
use common::settle::CONVERGE;
use common::{Deployed, APP};
use valkey_harness::probe::{verify, ProbeConfig, ProbeHandle, ProbeLog};
use valkey_harness::stats::{median, p95};

/// Runs of the primary-removal benchmark (`SCALING_BENCH_RUNS` overrides).
fn runs() -> usize {
    std::env::var("SCALING_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(5)
}

/// Units of the primary-removal benchmark's deployment (`SCALING_BENCH_UNITS` overrides; how the
/// cost grows with size: `scripts/bench-scale`).
fn units() -> usize {
    std::env::var("SCALING_BENCH_UNITS").ok().and_then(|v| v.parse().ok()).filter(|n| *n >= 3).unwrap_or(3)
}

#[test]
#[ignore = "benchmark: run with --run-ignored only"]
fn remove_the_primary_write_pause() {
    let n = units();
    let fixture = Deployed::new("scaling-bench", n, &[]);
    let admin = fixture.admin();
    let mut state = after_step(&fixture, &admin, n, &format!("deploy -n {n}"));
    let mut removals = Vec::new();
    let mut pauses = Vec::new();
    for run in 1..=runs() {
        let sentinels = fixture.deployment().sentinel_set(&admin).unwrap();
        let mut config = ProbeConfig::new(sentinels, format!("remove-primary-{}-{run}", std::process::id()));
        config.wait_replicas = Some(1);
        let probe = ProbeHandle::start(config).unwrap();
        assert!(probe.wait_acked(50, CONVERGE), "run {run}: the probe does not write");
        let primary = state.primary_unit();
        let from = probe.mark(format!("remove-unit {primary}"));
        let started = Instant::now();
        fixture.juju.remove_unit(&[&primary], false).unwrap();
        fixture
            .juju
            .wait_for("the primary's unit to be gone", Duration::from_secs(180), |s| {
                s.unit(&primary).is_none() && s.is_idle_active(APP, n - 1)
            })
            .unwrap_or_else(|e| panic!("{e}\n{}", fixture.log_tail()));
        let to = probe.mark(format!("{} units active", n - 1));
        let removal = started.elapsed();
        let acked = probe.acked();
        assert!(probe.wait_acked(acked + 50, CONVERGE), "run {run}: writes did not resume");
        let log = probe.stop();
        let pause = longest_gap(&log, from, to);
        let endpoints = fixture.deployment().data_endpoints().unwrap();
        verify(&log, &endpoints, &admin, Duration::from_secs(30))
            .unwrap_or_else(|e| panic!("run {run}: writes lost: {e}"));
        println!(
            "run {run}: removed {primary} (primary) in {removal:?}; write pause {pause:?}; {} acknowledged, none lost",
            log.acks.len()
        );
        pauses.push(pause);
        removals.push(removal);
        let after = after_step(&fixture, &admin, n - 1, "removing the primary");
        assert_eq!(after.epoch, state.epoch + 1, "run {run}: the role must move exactly once");
        fixture.juju.add_unit(APP, 1).unwrap();
        fixture.wait_settled(n, "add-unit");
        state = after_step(&fixture, &admin, n, "add-unit");
    }
    println!(
        "{n} units: write pause while removing the primary, {} runs: median {:?}, p95 {:?}",
        pauses.len(),
        median(&pauses).unwrap(),
        p95(&pauses).unwrap()
    );
    println!(
        "{n} units: removal of the primary to {} units active, {} runs: median {:?}, p95 {:?}",
        n - 1,
        removals.len(),
        median(&removals).unwrap(),
        p95(&removals).unwrap()
    );
}

#[test]
#[ignore = "benchmark: run with --run-ignored only"]
fn add_unit_with_a_1_gib_dataset_beside_raw_replicaof() {
    let fixture = Deployed::new("scaling-1gib", 2, &[]);
    let admin = fixture.admin();
    let state = after_step(&fixture, &admin, 2, "deploy -n 2");
    let filled = Instant::now();
    raw_replica::fill(&state.primary, &admin, 1024);
    println!("filled 1 GiB on {} in {:?}", state.primary, filled.elapsed());
    after_step(&fixture, &admin, 2, "filling 1 GiB");

    let added = Instant::now();
    fixture.juju.add_unit(APP, 1).unwrap();
    fixture.wait_settled(3, "add-unit with 1 GiB");
    let to_active = added.elapsed();
    let grown = after_step(&fixture, &admin, 3, "add-unit with 1 GiB");
    let to_settled = added.elapsed();
    for (unit, address) in &grown.units {
        let keys = raw_replica::dbsize(&common::nodes::data(address), &admin);
        assert!(keys >= 1024, "{unit} holds {keys} keys, expected the 1024 of the dataset");
    }

    let raw = raw_replica::time_full_sync(&state.primary, &admin, 1024);
    println!(
        "1 GiB: add-unit → active {to_active:?}, → every Sentinel agrees and replicas in sync {to_settled:?}; \
         raw valkey-server --replicaof full sync {raw:?}"
    );
}

/// The longest gap between acknowledged writes of `log` that overlaps `[from, to]`.
fn longest_gap(log: &ProbeLog, from: Duration, to: Duration) -> Duration {
    let acks: Vec<Duration> = log.acks.iter().map(|a| a.at).collect();
    acks.windows(2).filter(|w| w[1] >= from && w[0] <= to).map(|w| w[1] - w[0]).max().unwrap_or(to - from)
}

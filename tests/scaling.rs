//! Scenario: safe scaling end to end (issue 4's "Done when"), one deployment under a continuous
//! writer (`WAIT 1`, every acknowledged write recorded):
//!
//! `deploy -n 3` → `add-unit -n 2` (sampled all along: never two primaries, never a replica of
//! a replica) → remove two replicas at once → kill -9 of the primary (fails over: the departed
//! Sentinels were forgotten) → remove the (new) primary → scale to 1 → back to 3 →
//! `remove-unit --force` of a replica (as on Juju its teardown hooks still run, within a bound;
//! every Sentinel must forget it).
//!
//! After each step: exactly one primary, every Sentinel agrees on it, `num-other-sentinels` and
//! `num-slaves` equal the real counts, quorum ⌊n/2⌋+1 and CKQUORUM OK everywhere, the statuses
//! say `n/n sentinels, quorum q` and, with fewer than 3 units, that the deployment cannot fail
//! over and why. At the end no acknowledged write is missing on any node. Timings (add-unit,
//! the write pause of the primary's removal, forgetting a forced unit) are printed, never asserted.

#[path = "scaling/checks.rs"]
mod checks;
mod common;

use std::time::{Duration, Instant};

use checks::{after_step, TopologyWatch};
use common::nodes::{self, field};
use common::settle::CONVERGE;
use common::{poll, Deployed, APP};
use valkey_harness::probe::{verify, ProbeConfig, ProbeHandle, ProbeLog};
use valkey_harness::valkey::Credentials;

/// Acknowledged writes awaited after each step that keeps a replica (proves writes go on).
const WRITES_PER_STEP: u64 = 50;
/// Deadline for a removal (hand-over, stopping services, Sentinel resets one at a time).
const SETTLE_REMOVAL: Duration = Duration::from_secs(180);
/// A unit removed with `--force` must be forgotten within one update-status interval (10 s in
/// these tests) plus the reconcile itself (one reset and its re-discovery, ≤ 15 s each, polled).
const FORGET_FORCED: Duration = Duration::from_secs(45);

/// A removed unit runs its own `-relation-departed` hooks first (Juju's usual order): the
/// leaving primary of the 2 → 1 step sees no peer in `relation-list` by then.
#[test]
fn scale_3_to_5_to_3_to_1_to_3_under_writes_with_a_primary_removal_and_a_crash() {
    scale_under_writes("departed-first");
}

/// The same with `storage-detaching` first (also seen on Juju).
#[test]
fn scale_3_to_5_to_3_to_1_to_3_under_writes_storage_detaching_first() {
    scale_under_writes("storage-first");
}

fn scale_under_writes(teardown_order: &str) {
    let fixture = Deployed::with_teardown_order("scaling", 3, &[], teardown_order);
    let admin = fixture.admin();
    let mut state = after_step(&fixture, &admin, 3, "deploy -n 3");
    println!("deployed: primary {}", state.primary_unit());

    let sentinels = fixture.deployment().sentinel_set(&admin).unwrap();
    let mut config = ProbeConfig::new(sentinels, format!("scaling-{}", std::process::id()));
    config.wait_replicas = Some(1);
    config.max_duration = Duration::from_secs(1500);
    let probe = ProbeHandle::start(config).unwrap();
    writes_go_on(&probe, "deploy");

    // Add two units at once, sampling every node's role all along.
    probe.mark("add-unit -n 2");
    let added_at = Instant::now();
    fixture.juju.add_unit(APP, 2).unwrap();
    let (addresses, _) = poll("5 unit addresses", CONVERGE, || {
        let units = fixture.deployment().unit_addresses().map_err(|e| e.to_string())?;
        match units.len() {
            5 => Ok(units.into_iter().map(|(_, a)| a).collect::<Vec<_>>()),
            n => Err(format!("{n} units")),
        }
    });
    let watch = TopologyWatch::new(&addresses);
    state = std::thread::scope(|scope| {
        scope.spawn(|| watch.run(&admin));
        fixture.wait_settled(5, "add-unit -n 2");
        println!("add-unit -n 2: 5 units active/idle {:?} after add-unit", added_at.elapsed());
        let settled = after_step(&fixture, &admin, 5, "add-unit -n 2");
        watch.stop();
        settled
    });
    let (samples, violations) = watch.result();
    println!("topology sampled {samples} times during add-unit -n 2");
    assert!(samples > 0, "the topology watch never ran");
    assert!(violations.is_empty(), "adding 2 units at once: {violations:#?}");
    writes_go_on(&probe, "add-unit");

    // Remove two replicas at once: no failover, the three left forget them.
    let doomed = state.replicas_highest_first()[..2].to_vec();
    probe.mark(format!("remove-unit {doomed:?}"));
    remove(&fixture, &doomed, 3);
    let before = state.clone();
    state = after_step(&fixture, &admin, 3, "removing two replicas");
    assert_eq!(state.primary, before.primary, "removing replicas moved the primary");
    assert_eq!(state.epoch, before.epoch, "removing replicas caused a failover");
    writes_go_on(&probe, "replica removal");

    // kill -9 of the primary still fails over: the departed Sentinels no longer count.
    let victim = state.primary_unit();
    probe.mark(format!("kill -9 {victim}"));
    let killed_at = Instant::now();
    fixture.deployment().kill_valkey(&victim, &state.primary, &admin, "KILL").unwrap();
    let before = state.clone();
    let sentinels = fixture.deployment().sentinel_set(&admin).unwrap();
    let (moved, took) = poll("the sentinels to agree on a new primary", CONVERGE, || {
        let view = sentinels.wait_agreement(Duration::ZERO).map_err(|e| e.to_string())?;
        match view.primary != before.primary {
            true => Ok(view.primary),
            false => Err(format!("still {}", view.primary)),
        }
    });
    println!("kill -9 {victim}: sentinels agree on {moved} after {took:?}");
    state = after_step(&fixture, &admin, 3, "kill -9 of the primary");
    println!("kill -9 {victim}: settled on {} after {:?}", state.primary_unit(), killed_at.elapsed());
    assert_ne!(state.primary, before.primary, "no failover after kill -9 of the primary");
    assert_eq!(state.epoch, before.epoch + 1, "kill -9 must cause exactly one failover");
    writes_go_on(&probe, "failover");

    // Remove the (new) primary: its role is handed over first, exactly once.
    let primary_unit = state.primary_unit();
    let mark = probe.mark(format!("remove-unit {primary_unit} (primary)"));
    remove(&fixture, std::slice::from_ref(&primary_unit), 2);
    let removed = probe.mark(format!("{primary_unit} removed"));
    let before = state.clone();
    state = after_step(&fixture, &admin, 2, "removing the primary");
    assert_ne!(state.primary, before.primary);
    assert_eq!(state.epoch, before.epoch + 1, "removing the primary must hand over its role exactly once");
    writes_go_on(&probe, "primary removal");

    // Scale to 1, then back to 3.
    probe.mark("scale to 1");
    fixture.juju.scale_application(APP, 1).unwrap();
    wait_units(&fixture, 1);
    let lone = after_step(&fixture, &admin, 1, "scale to 1");
    // scale-application removes the highest-numbered units: the lowest one stays, now primary.
    let lowest = state.units.iter().map(|(u, _)| u).min_by_key(|u| checks::unit_number(u)).unwrap();
    assert_eq!(&lone.primary_unit(), lowest);
    probe.mark("scale to 3");
    let grown_at = Instant::now();
    fixture.juju.scale_application(APP, 3).unwrap();
    fixture.wait_settled(3, "scale to 3");
    println!("scale 1 → 3: active/idle after {:?}", grown_at.elapsed());
    state = after_step(&fixture, &admin, 3, "scale back to 3");
    writes_go_on(&probe, "scale back to 3");

    // A replica removed with --force is forgotten by every Sentinel within one update-status interval.
    let status = fixture.juju.status().unwrap();
    let leader = status.leader(APP).map(str::to_string);
    let forced = state
        .replicas_highest_first()
        .into_iter()
        .find(|u| Some(u) != leader.as_ref())
        .expect("a replica that is not the leader");
    probe.mark(format!("remove-unit --force {forced}"));
    let forced_at = Instant::now();
    fixture.juju.remove_unit(&[&forced], true).unwrap();
    let survivors: Vec<String> =
        state.units.iter().filter(|(u, _)| *u != forced).map(|(_, a)| a.clone()).collect();
    let (_, took) =
        poll(&format!("every sentinel to forget {forced}"), FORGET_FORCED, || forgotten(&survivors, &admin));
    println!(
        "remove-unit --force {forced}: forgotten by every sentinel after {took:?} ({:?} since the command)",
        forced_at.elapsed()
    );
    // The Sentinels may forget it before its teardown hooks have finished and the model dropped
    // it (nothing orders the two): wait for the model too.
    fixture.wait_settled(2, "remove-unit --force of a replica");
    state = after_step(&fixture, &admin, 2, "remove-unit --force of a replica");
    writes_go_on(&probe, "forced removal");

    let log = probe.stop();
    common::print_probe(&log);
    let pause = longest_gap(&log, mark, removed);
    println!("write pause while removing the primary: {pause:?} (longest gap between acknowledged writes)");
    println!("final primary {} of {:?}", state.primary_unit(), state.units);
    let endpoints = fixture.deployment().data_endpoints().unwrap();
    verify(&log, &endpoints, &admin, Duration::from_secs(30)).unwrap_or_else(|e| panic!("writes lost: {e}"));
}

/// Waits for `WRITES_PER_STEP` more acknowledged writes (`WAIT 1` confirmed).
fn writes_go_on(probe: &ProbeHandle, after: &str) {
    let acked = probe.acked();
    assert!(
        probe.wait_acked(acked + WRITES_PER_STEP, CONVERGE),
        "writes did not go on after {after} ({} acknowledged, {} errors)",
        probe.acked(),
        probe.errors()
    );
}

/// `remove-unit` of `units` (with hooks), then waits until they are gone and `left` units are
/// active and idle.
fn remove(fixture: &Deployed, units: &[String], left: usize) {
    let names: Vec<&str> = units.iter().map(String::as_str).collect();
    let started = Instant::now();
    fixture.juju.remove_unit(&names, false).unwrap();
    fixture
        .juju
        .wait_for(&format!("{names:?} to be gone"), SETTLE_REMOVAL, |s| {
            names.iter().all(|u| s.unit(u).is_none()) && s.is_idle_active(APP, left)
        })
        .unwrap_or_else(|e| panic!("{e}\n{}", fixture.log_tail()));
    println!("remove-unit {names:?}: {left} units active/idle after {:?}", started.elapsed());
}

/// Waits until exactly `count` units are left and all are active and idle.
fn wait_units(fixture: &Deployed, count: usize) {
    fixture
        .juju
        .wait_for(&format!("{count} units"), SETTLE_REMOVAL, |s| s.is_idle_active(APP, count))
        .unwrap_or_else(|e| panic!("{e}\n{}", fixture.log_tail()));
}

/// Every Sentinel at `addresses` knows exactly the others as peers and replicas.
fn forgotten(addresses: &[String], admin: &Credentials) -> Result<(), String> {
    let others = (addresses.len() - 1).to_string();
    for address in addresses {
        let view = nodes::sentinel_master(&nodes::sentinel(address), admin)?;
        let (peers, replicas) = (field(&view, "num-other-sentinels")?, field(&view, "num-slaves")?);
        if peers != others || replicas != others {
            return Err(format!("{address}: {peers} other sentinels, {replicas} replicas"));
        }
    }
    Ok(())
}

/// The longest gap between acknowledged writes of `log` that overlaps `[from, to]`.
fn longest_gap(log: &ProbeLog, from: Duration, to: Duration) -> Duration {
    let acks: Vec<Duration> = log.acks.iter().map(|a| a.at).collect();
    acks.windows(2).filter(|w| w[1] >= from && w[0] <= to).map(|w| w[1] - w[0]).max().unwrap_or(to - from)
}

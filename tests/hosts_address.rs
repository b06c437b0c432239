//! Scenario (host mode, root only): the units' addresses change under a running deployment, as
//! when machines move (issue 6). Three units on separate hosts, under a `WAIT 1` writer:
//!
//! 1. a replica gets a new address (`change-address`): the deployment converges around the same
//!    primary with no failover (config-epoch unchanged) — the replica follows the primary by
//!    name, every Sentinel knows it at its new address (no replica or peer flagged down);
//! 2. then the primary's: it converges again with one primary, all units active, and at most one
//!    failover (the charm moves the primary without one when its hooks win the race against
//!    down-after-milliseconds; which happened and the write pause are printed, never asserted).
//!
//! 3. (`cut.rs`) the primary moves while it is cut off, so the charm cannot win that race: one
//!    failover, and after healing the old primary rejoins as a replica at its new address.
//! 4. (`starting.rs`) a unit moves before its start has finished: it starts at its new address.
//!
//! After each step the rendered `valkey.conf` and `sentinel.conf` of every unit (read with
//! `juju exec`) hold no old address, and the only IP in them is the unit's own `bind` address:
//! every other name is a hostname. At the end every `WAIT 1`-acknowledged write is on every node.
//!
//! Without root (or against real Juju) it prints `skipped: ...` and passes: host mode needs both.

#[path = "hosts_address/checks.rs"]
mod checks;
#[path = "hosts_address/cut.rs"]
mod cut;
#[path = "hosts_address/starting.rs"]
mod starting;

mod common;

use std::time::{Duration, Instant};

use checks::{
    address_of, by_name, configs_name_only_hostnames, every_sentinel_sees_everyone_up, has_local_socket,
    run_id,
};
use common::hosts::hostname;
use common::nodes;
use common::settle::settled;
use common::{start_probe, unit_at, Deployed};
use valkey_harness::probe::verify;
use valkey_harness::valkey::Endpoint;

/// Deadline for convergence and for the probe to make progress.
const CONVERGE: Duration = Duration::from_secs(90);
/// Acknowledged writes awaited between steps, so every phase really runs under writes.
const WRITES_PER_PHASE: u64 = 100;

#[test]
fn address_changes_converge_without_losing_acknowledged_writes() {
    let Some(fixture) = Deployed::new_hosts("addr", 3, &[]) else { return };
    let admin = fixture.admin();
    let sentinels = by_name(&fixture, &admin);
    let (primary, epoch) = settled(&fixture, &sentinels, &admin, None);
    let units = fixture.units();
    let primary_unit = unit_at(&units, &primary);
    let replica = units.iter().map(|(u, _)| u.clone()).find(|u| *u != primary_unit).expect("a replica");
    let mut gone = Vec::new();
    // The moves below must happen at runtime, through each Valkey's local socket.
    for (unit, _) in &units {
        assert!(has_local_socket(&fixture, unit), "{unit} has no local socket (storage path too long?)");
    }
    let run_ids: Vec<String> = units.iter().map(|(u, _)| run_id(u, &admin)).collect();

    let probe = start_probe(&sentinels, "addr", WRITES_PER_PHASE, CONVERGE);

    // 1. A replica moves: same primary, no failover, every Sentinel follows.
    let old = address_of(&fixture, &replica);
    probe.mark("change-address replica");
    let started = Instant::now();
    let new = fixture.change_address(&replica);
    println!("{replica}: {old} -> {new}");
    assert_ne!(old, new, "change-address must give a new address");
    gone.push(old);
    let (after, replica_epoch) = settled(&fixture, &sentinels, &admin, Some(&primary_unit));
    println!("replica move: settled {:?} after change-address", started.elapsed());
    assert_eq!(replica_epoch, epoch, "a replica's move must not cause a failover");
    assert_eq!(unit_at(&fixture.units(), &after), primary_unit);
    every_sentinel_sees_everyone_up(&fixture, &admin, &gone);
    configs_name_only_hostnames(&fixture, &gone);
    let acked = probe.acked();
    assert!(probe.wait_acked(acked + WRITES_PER_PHASE, CONVERGE), "writes stalled after the replica moved");

    // 2. The primary moves: one primary again, all active, at most one failover.
    let old = address_of(&fixture, &primary_unit);
    probe.mark("change-address primary");
    let started = Instant::now();
    let new = fixture.change_address(&primary_unit);
    println!("{primary_unit}: {old} -> {new}");
    assert_ne!(old, new, "change-address must give a new address");
    gone.push(old);
    let (after, primary_epoch) = settled(&fixture, &sentinels, &admin, None);
    let now_primary = unit_at(&fixture.units(), &after);
    println!(
        "primary move: settled around {now_primary} {:?} after change-address; {}",
        started.elapsed(),
        match primary_epoch - epoch {
            0 => "no failover".to_string(),
            n => format!("{n} failover(s)"),
        }
    );
    assert!(
        primary_epoch <= epoch + 1,
        "at most one failover for one move: epoch {epoch} -> {primary_epoch}"
    );
    assert_eq!(primary_epoch == epoch, now_primary == primary_unit, "the primary changed iff the epoch did");
    let addresses: Vec<String> = fixture.units().into_iter().map(|(_, a)| a).collect();
    let masters = nodes::masters(&addresses, &admin).unwrap();
    assert_eq!(masters.len(), 1, "exactly one primary: {masters:?}");
    every_sentinel_sees_everyone_up(&fixture, &admin, &gone);
    configs_name_only_hostnames(&fixture, &gone);
    let acked = probe.acked();
    assert!(probe.wait_acked(acked + WRITES_PER_PHASE, CONVERGE), "writes stalled after the primary moved");

    let now: Vec<String> = units.iter().map(|(u, _)| run_id(u, &admin)).collect();
    assert_eq!(now, run_ids, "no Valkey may restart for a move: they are rebound at runtime");

    // No acknowledged write is lost, on any node (reached by name: at their new addresses).
    let log = probe.stop();
    let report = common::print_probe(&log);
    let data: Vec<Endpoint> = fixture.units().iter().map(|(u, _)| nodes::data(&hostname(u))).collect();
    verify(&log, &data, &admin, Duration::from_secs(30)).unwrap_or_else(|e| panic!("writes lost: {e}"));
    assert!(report.acknowledged >= 3 * WRITES_PER_PHASE, "{report:?}");
}

//! Scenario (separate hosts, root only): the units' addresses change under a running deployment,
//! as when machines move (issue 6). Three units known by IP only, as network-get reports them on a
//! real IAAS machine (machine mode without `unit-hostnames`: issue 12), under a `WAIT 1` writer:
//!
//! 1. a replica gets a new address (`change-address`): the deployment converges around the same
//!    primary with no failover (config-epoch unchanged) — the replica announces its new address,
//!    every Sentinel knows it there and has forgotten the old one (no replica or peer flagged
//!    down or listed twice);
//! 2. then the primary's: every replica follows it to its new address and every Sentinel learns
//!    it; the deployment converges again with one primary, all units active, and at most one
//!    failover (the charm moves the primary without one when its hooks win the race against
//!    down-after-milliseconds; which happened and the write pause are printed, never asserted).
//!
//! 3. (`cut.rs`, by hostname and by IP) the primary moves while it is cut off, so the charm
//!    cannot win that race: one failover, and after healing the old primary rejoins as a replica
//!    at its new address; then a replica without a local socket moves and is restarted there.
//! 4. (`starting.rs`, by hostname) a unit moves before its start has finished: it starts at its
//!    new address.
//!
//! After each step the rendered `valkey.conf` and `sentinel.conf` of every unit (read with
//! `juju exec`) hold no old address, every Sentinel monitors the current primary, and the only
//! addresses in them are current ones (by hostname: only the unit's own `bind` address). No Valkey
//! restarts for a move (same `run_id`). At the end every `WAIT 1`-acknowledged write is on every
//! node. The scenario reaches every unit at its address from `juju status`, read anew after
//! every move; the writer asks first the Sentinel of the one unit that never moves.
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
    address_of, at_addresses, configs_hold_no_old_address, every_sentinel_sees_everyone_up, has_local_socket,
    naming, run_id, Naming,
};
use common::nodes;
use common::settle::settled;
use common::substrate::Substrate;
use common::{start_probe, unit_at, Deployed};
use valkey_harness::probe::verify;
use valkey_harness::valkey::Endpoint;

/// Deadline for convergence and for the probe to make progress.
const CONVERGE: Duration = Duration::from_secs(90);
/// Acknowledged writes awaited between steps, so every phase really runs under writes.
const WRITES_PER_PHASE: u64 = 100;

#[test]
fn address_changes_converge_without_losing_acknowledged_writes() {
    let Some(fixture) = Deployed::new_hosts_by_address("addr", 3, &[]) else { return };
    let admin = fixture.admin();
    let (primary, epoch) = settled(&fixture, &at_addresses(&fixture, &admin, &[]), &admin, None);
    let units = fixture.units();
    let primary_unit = unit_at(&units, &primary);
    let unit_names: Vec<String> = units.iter().map(|(u, _)| u.clone()).collect();
    let replica = unit_names.iter().find(|u| **u != primary_unit).expect("a replica").clone();
    let steady =
        unit_names.iter().find(|u| **u != primary_unit && **u != replica).expect("a third unit").clone();
    let naming = naming(&fixture);
    println!("units named by {naming:?}");
    if Substrate::pinned() != Some(Substrate::Hosts) {
        // Host mode always has hostnames; machine mode without unit-hostnames must not.
        assert_eq!(naming, Naming::Addresses, "machine mode without unit-hostnames must name units by IP");
    }
    let mut gone = Vec::new();
    // The moves below must happen at runtime, through each Valkey's local socket.
    for unit in &unit_names {
        assert!(has_local_socket(&fixture, unit), "{unit} has no local socket (storage path too long?)");
    }
    let run_ids = |fixture: &Deployed| -> Vec<String> {
        unit_names.iter().map(|u| run_id(&address_of(fixture, u), &admin)).collect()
    };
    let before = run_ids(&fixture);

    let probe =
        start_probe(&at_addresses(&fixture, &admin, &[steady.as_str()]), "addr", WRITES_PER_PHASE, CONVERGE);

    // 1. A replica moves: same primary, no failover, every Sentinel follows.
    let old = address_of(&fixture, &replica);
    probe.mark("change-address replica");
    let started = Instant::now();
    let new = fixture.change_address(&replica);
    println!("{replica}: {old} -> {new}");
    assert_ne!(old, new, "change-address must give a new address");
    gone.push(old);
    let (after, replica_epoch) =
        settled(&fixture, &at_addresses(&fixture, &admin, &[]), &admin, Some(&primary_unit));
    println!("replica move: settled {:?} after change-address", started.elapsed());
    assert_eq!(replica_epoch, epoch, "a replica's move must not cause a failover");
    assert_eq!(unit_at(&fixture.units(), &after), primary_unit);
    every_sentinel_sees_everyone_up(&fixture, &admin, &gone, &primary_unit);
    configs_hold_no_old_address(&fixture, &gone, &primary_unit);
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
    let (after, primary_epoch) = settled(&fixture, &at_addresses(&fixture, &admin, &[]), &admin, None);
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
    every_sentinel_sees_everyone_up(&fixture, &admin, &gone, &now_primary);
    configs_hold_no_old_address(&fixture, &gone, &now_primary);
    let acked = probe.acked();
    assert!(probe.wait_acked(acked + WRITES_PER_PHASE, CONVERGE), "writes stalled after the primary moved");

    assert_eq!(run_ids(&fixture), before, "no Valkey may restart for a move: they are rebound at runtime");

    // No acknowledged write is lost, on any node (at their current addresses).
    let log = probe.stop();
    let report = common::print_probe(&log);
    let data: Vec<Endpoint> = addresses.iter().map(|a| nodes::data(a)).collect();
    verify(&log, &data, &admin, Duration::from_secs(30)).unwrap_or_else(|e| panic!("writes lost: {e}"));
    assert!(report.acknowledged >= 3 * WRITES_PER_PHASE, "{report:?}");
}

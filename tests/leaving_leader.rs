//! Scenario: `remove-unit` of the leader — also the primary — together with a replica, from four
//! units, under writes, with either teardown order (issue 13).
//!
//! On Juju the dying leader keeps its lease through its teardown (no `leader-elected` elsewhere
//! until it is gone), so it hands over while nobody else may lower the quorum or reset the
//! Sentinels; the survivor elected afterwards must do both, and forget both departed units. The
//! hand-over must land on a survivor, not on the replica that leaves at the same time.

#[path = "scaling/checks.rs"]
mod checks;
mod common;

use checks::after_step;
use common::settle::CONVERGE;
use common::{start_probe, Deployed, APP};
use std::time::Duration;
use valkey_harness::probe::verify;

/// Deadline for the removal (hand-over, stops, the new leader's upkeep).
const SETTLE_REMOVAL: Duration = Duration::from_secs(240);

#[test]
fn removing_the_leading_primary_with_a_replica_departed_first() {
    remove_leader_and_replica("departed-first");
}

#[test]
fn removing_the_leading_primary_with_a_replica_storage_first() {
    remove_leader_and_replica("storage-first");
}

fn remove_leader_and_replica(teardown_order: &str) {
    let fixture = Deployed::with_teardown_order("leaving-leader", 4, &[], teardown_order);
    let admin = fixture.admin();
    let before = after_step(&fixture, &admin, 4, "deploy -n 4");
    let status = fixture.juju.status().unwrap();
    let leader = status.leader(APP).expect("a leader").to_string();
    // The bootstrap unit leads and is primary; make sure the scenario is the one it claims.
    assert_eq!(before.primary_unit(), leader, "the leader should be the primary after deploy");
    let replica = before.replicas_highest_first().into_iter().next().expect("a replica");
    let sentinels = fixture.deployment().sentinel_set(&admin).unwrap();
    let probe = start_probe(&sentinels, "leaving-leader", 20, CONVERGE);

    probe.mark(format!("remove-unit {leader} {replica}"));
    fixture.juju.remove_unit(&[&leader, &replica], false).unwrap();
    fixture
        .juju
        .wait_for(&format!("{leader} and {replica} to be gone"), SETTLE_REMOVAL, |s| {
            s.unit(&leader).is_none() && s.unit(&replica).is_none() && s.is_idle_active(APP, 2)
        })
        .unwrap_or_else(|e| panic!("{e}\n{}", fixture.log_tail()));
    let after = after_step(&fixture, &admin, 2, "removing the leading primary with a replica");
    let new_primary = after.primary_unit();
    assert!(new_primary != leader && new_primary != replica, "primary {new_primary} is a removed unit");
    assert_eq!(after.epoch, before.epoch + 1, "exactly one hand-over");
    let new_leader = fixture.juju.status().unwrap().leader(APP).map(str::to_string);
    assert!(new_leader.is_some() && new_leader.as_deref() != Some(leader.as_str()), "{new_leader:?}");
    let acked = probe.acked();
    assert!(probe.wait_acked(acked + 20, CONVERGE), "writes did not go on after the removal");

    let log = probe.stop();
    common::print_probe(&log);
    let endpoints = fixture.deployment().data_endpoints().unwrap();
    verify(&log, &endpoints, &admin, Duration::from_secs(30)).unwrap_or_else(|e| panic!("writes lost: {e}"));
}

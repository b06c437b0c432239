//! Scenario: removing the primary's unit of a two-unit deployment, under writes, with either
//! teardown order (issue 13).
//!
//! On Juju the leaving unit usually runs its own `-relation-departed` hooks first, and the
//! departing peer is already gone from `relation-list` during each: the primary then sees no peer
//! at all. It must still hand its role over (decided from what its Sentinel knows), and the
//! survivor must end up a lone primary whose Sentinel has forgotten the departed one (quorum 1,
//! no phantom peer or replica). The bootstrap unit is leader *and* primary, so this is also the
//! dying-leader case: it keeps the lease while it hands over, and the survivor does the Sentinel
//! upkeep once elected. Then `failover-history` names the removed primary by unit.

#[path = "scaling/checks.rs"]
mod checks;
mod common;

use checks::after_step;
use common::settle::CONVERGE;
use common::{poll, start_probe, Deployed, APP};
use std::time::Duration;
use valkey_harness::probe::verify;

/// Deadline for the removal (hand-over, stop, the survivor's upkeep after leader-elected).
const SETTLE_REMOVAL: Duration = Duration::from_secs(180);

#[test]
fn removing_the_primary_of_two_units_hands_over_departed_first() {
    remove_the_primary_of_two("departed-first");
}

#[test]
fn removing_the_primary_of_two_units_hands_over_storage_first() {
    remove_the_primary_of_two("storage-first");
}

fn remove_the_primary_of_two(teardown_order: &str) {
    let fixture = Deployed::with_teardown_order("two-units", 2, &[], teardown_order);
    let admin = fixture.admin();
    let before = after_step(&fixture, &admin, 2, "deploy -n 2");
    let primary_unit = before.primary_unit();
    let sentinels = fixture.deployment().sentinel_set(&admin).unwrap();
    let probe = start_probe(&sentinels, "two-units", 20, CONVERGE);

    probe.mark(format!("remove-unit {primary_unit} (primary)"));
    fixture.juju.remove_unit(&[&primary_unit], false).unwrap();
    fixture
        .juju
        .wait_for(&format!("{primary_unit} to be gone"), SETTLE_REMOVAL, |s| {
            s.unit(&primary_unit).is_none() && s.is_idle_active(APP, 1)
        })
        .unwrap_or_else(|e| panic!("{e}\n{}", fixture.log_tail()));
    let after = after_step(&fixture, &admin, 1, "removing the primary of two");
    assert_ne!(after.primary, before.primary);
    assert_eq!(after.epoch, before.epoch + 1, "the leaving primary must hand over its role, once");
    // A lone primary has no replica to confirm `WAIT 1`: writes are not awaited here; the check at
    // the end proves no write acknowledged before or during the hand-over was lost.

    let survivor = after.primary_unit();
    let (last, _) = poll("failover-history to list the hand-over", CONVERGE, || {
        let h = fixture.juju.run_action(&survivor, "failover-history", &[]).map_err(|e| e.to_string())?;
        h.result("last").filter(|l| l.contains('→')).ok_or_else(|| format!("{h:?}"))
    });
    assert!(
        last.contains(&format!("{primary_unit}→{survivor}")),
        "the removed primary must be named by unit: {last}"
    );

    let log = probe.stop();
    common::print_probe(&log);
    let endpoints = fixture.deployment().data_endpoints().unwrap();
    verify(&log, &endpoints, &admin, Duration::from_secs(30)).unwrap_or_else(|e| panic!("writes lost: {e}"));
}

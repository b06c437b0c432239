//! Scenario (issue 15, item 8): status does not lie for an update-status interval after a fault.
//! Three units; update-status made rare (every 10 minutes) once they settled. Every process of the
//! two units that do not lead is killed (supervisors first, so nothing restarts them; under
//! systemd the units are killed and stopped). The leader's Sentinel sees them go down (`+sdown`)
//! and its notification script asks for the charm's `services-changed` hook through the root
//! relay, so the leader's unit status (its Sentinel count) and the application status (the
//! replicas in sync) change long before the next update-status. Then the two units' charms start
//! their services again and both statuses come back the same way (`-sdown`): three Sentinels, two
//! replicas (in sync or still catching up).
//!
//! The status changes are the assertions (within a bound far below the interval); the time they
//! took is printed, never asserted.

mod common;

use std::time::{Duration, Instant};

use common::settle::Baseline;
use common::{Deployed, APP};

/// update-status runs this rarely once the deployment settled: a status change within [`BOUND`]
/// cannot be its work.
const RARE_UPDATE_STATUS: &str = "10m";
/// How long the statuses may take to follow the fault (a tenth of the interval).
const BOUND: Duration = Duration::from_secs(60);

/// The replicas the application status counts, in sync or catching up: `primary valkey/0, 1
/// replica in sync, quorum 2 (1 catching up)` → 2. (A replica that is back but still resyncing is
/// back: no event tells when its resync ends, update-status does.)
fn replicas_known(message: &str) -> Option<usize> {
    let synced = message.split(", ").nth(1)?.split(' ').next()?.parse::<usize>().ok()?;
    let catching = message
        .split_once(" (")
        .and_then(|(_, rest)| rest.split(' ').next()?.parse::<usize>().ok())
        .unwrap_or(0);
    Some(synced + catching)
}

/// `services-changed` lines of `unit` in the debug log.
fn services_changed(fixture: &Deployed, unit: &str) -> usize {
    let log = fixture.juju.debug_log().unwrap_or_default();
    log.lines().filter(|l| l.contains(unit) && l.contains("services-changed:")).count()
}

#[test]
fn the_replicas_in_the_application_status_are_counted() {
    assert_eq!(replicas_known("primary valkey/0, 2 replicas in sync, quorum 2"), Some(2));
    assert_eq!(replicas_known("primary valkey/0, 1 replica in sync, quorum 2 (1 catching up)"), Some(2));
    assert_eq!(replicas_known("primary valkey/0, 0 replicas in sync, quorum 2"), Some(0));
    assert_eq!(replicas_known("no primary yet"), None);
}

#[test]
fn dead_units_show_in_the_status_before_update_status_runs() {
    let fixture = Deployed::new("status-quick", 3, &[]);
    fixture.juju.model_config(&[("update-status-hook-interval", RARE_UPDATE_STATUS)]).expect("model-config");
    let Baseline { units, .. } = fixture.baseline();
    let status = fixture.juju.status().expect("status");
    let app = &status.applications[APP];
    let (leader, _) = app.units.iter().find(|(_, u)| u.leader).expect("a leader");
    let leader = leader.clone();
    let victims: Vec<String> = units.iter().map(|(u, _)| u.clone()).filter(|u| *u != leader).collect();
    let healthy_app = app.application_status.message.clone();
    assert!(healthy_app.contains("2 replicas in sync"), "{healthy_app}");
    assert!(app.units[&leader].workload_status.message.contains("3/3 sentinels"), "{:?}", app.units[&leader]);
    let woken_before = services_changed(&fixture, &leader);

    // Every process of the two other units.
    let killed_at = Instant::now();
    for victim in &victims {
        fixture.deployment().kill_workload(victim).unwrap_or_else(|e| panic!("kill {victim}: {e}"));
    }
    let seen = fixture
        .juju
        .wait_for("the leader's and the application's status to show the dead units", BOUND, |s| {
            let app = &s.applications[APP];
            let unit = &app.units[&leader].workload_status.message;
            unit.contains("1/3 sentinels") && !app.application_status.message.contains("2 replicas in sync")
        })
        .unwrap_or_else(|e| panic!("{e}\n{}", fixture.log_tail()));
    let took = killed_at.elapsed();
    println!(
        "status followed the kill after {took:?}: unit {:?}, application {:?}",
        seen.applications[APP].units[&leader].workload_status.message,
        seen.applications[APP].application_status.message
    );
    assert!(services_changed(&fixture, &leader) > woken_before, "the leader was woken by services-changed");

    // The two units' charms start their services again; the leader's status follows.
    let woken_before = services_changed(&fixture, &leader);
    let restarted_at = Instant::now();
    for victim in &victims {
        fixture.deployment().reconcile(victim).unwrap_or_else(|e| panic!("reconcile {victim}: {e}"));
    }
    fixture
        .juju
        .wait_for("the statuses to show the units back", BOUND, |s| {
            let app = &s.applications[APP];
            app.units[&leader].workload_status.message.contains("3/3 sentinels")
                && replicas_known(&app.application_status.message) == Some(2)
        })
        .unwrap_or_else(|e| panic!("{e}\n{}", fixture.log_tail()));
    println!("status followed the restart after {:?}", restarted_at.elapsed());
    assert!(services_changed(&fixture, &leader) > woken_before, "woken again by services-changed");
}

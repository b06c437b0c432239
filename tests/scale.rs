//! Scenario: scaling. One unit grows to three (the quorum follows: 1 → 2, and the status stops
//! warning that it cannot fail over); then the primary's unit is removed under a continuous
//! writer (`WAIT 1`): its role is handed over first (exactly one config-epoch step), its
//! services stop, the two Sentinels left forget it (one peer, one replica, quorum 2), and no
//! acknowledged write is lost. Timings are printed only.

mod common;

use std::time::{Duration, Instant};

use common::nodes::{self, field};
use common::settle::{settled, CONVERGE};
use common::{poll, Deployed, APP};
use valkey_harness::probe::{verify, ProbeConfig, ProbeHandle};
use valkey_harness::valkey::Credentials;

/// Acknowledged writes awaited before and after the removal.
const WRITES_PER_PHASE: u64 = 100;

#[test]
fn scale_up_to_three_then_remove_the_primary_without_losing_writes() {
    let fixture = Deployed::new("scale", 1, &[]);
    let admin = fixture.admin();

    // Grow to three.
    let grown_at = Instant::now();
    fixture.juju.add_unit(APP, 2).unwrap();
    fixture.wait_settled(3, "add-unit 2");
    println!("1 → 3 units active/idle {:?} after add-unit", grown_at.elapsed());
    let deployment = fixture.deployment();
    let sentinels = deployment.sentinel_set(&admin).unwrap();
    let (primary, epoch) = settled(&fixture, &sentinels, &admin, None);
    quorum_everywhere(&fixture, &admin, 3, "2");

    let mut config = ProbeConfig::new(sentinels.clone(), format!("scale-{}", std::process::id()));
    config.wait_replicas = Some(1);
    let probe = ProbeHandle::start(config).unwrap();
    assert!(
        probe.wait_acked(WRITES_PER_PHASE, CONVERGE),
        "the probe acknowledged only {} writes",
        probe.acked()
    );

    // Remove the primary's unit.
    let doomed = deployment.primary().unwrap();
    assert_eq!(doomed.endpoint, primary, "get-primary disagrees with the Sentinels");
    let removed_at = Instant::now();
    probe.mark(format!("remove-unit {}", doomed.unit));
    fixture.juju.remove_unit(&[&doomed.unit], false).unwrap();
    let status = fixture
        .juju
        .wait_for("the primary's unit to be gone", SETTLE_REMOVAL, |s| {
            s.unit(&doomed.unit).is_none() && s.is_idle_active(APP, 2)
        })
        .unwrap_or_else(|e| panic!("{e}\n{}", fixture.log_tail()));
    println!("{} removed, 2 units active/idle {:?} after remove-unit", doomed.unit, removed_at.elapsed());
    probe.mark("2 units active");

    // Its services are gone.
    for endpoint in [nodes::data(&doomed.endpoint.host), nodes::sentinel(&doomed.endpoint.host)] {
        poll(&format!("{endpoint} to stop"), CONVERGE, || match nodes::connect(&endpoint, &admin) {
            Ok(_) => Err("still answers".to_string()),
            Err(_) => Ok(()),
        });
    }

    // The two left agree on a new primary, know one peer and one replica, quorum 2; one switch.
    let survivors = deployment.sentinel_set(&admin).unwrap();
    assert_eq!(survivors.sentinels.len(), 2, "{status:?}");
    let (new_primary, epoch_after) = settled(&fixture, &survivors, &admin, None);
    assert_ne!(new_primary, primary);
    assert_eq!(epoch_after, epoch + 1, "removing the primary must hand over its role exactly once");
    quorum_everywhere(&fixture, &admin, 2, "2");
    let acked = probe.acked();
    assert!(probe.wait_acked(acked + WRITES_PER_PHASE, CONVERGE), "writes did not resume after the removal");

    let log = probe.stop();
    common::print_probe(&log);
    let endpoints = deployment.data_endpoints().unwrap();
    verify(&log, &endpoints, &admin, Duration::from_secs(30)).unwrap_or_else(|e| panic!("writes lost: {e}"));
}

/// Deadline for a removal (switchover, stopping services, Sentinel resets one at a time).
const SETTLE_REMOVAL: Duration = Duration::from_secs(180);

/// Checks every Sentinel uses `quorum` and every unit's status reports `n/n sentinels, quorum q`
/// (and, below 3 units, that it cannot fail over).
fn quorum_everywhere(fixture: &Deployed, admin: &Credentials, units: usize, quorum: &str) {
    let addresses: Vec<String> = fixture.units().into_iter().map(|(_, a)| a).collect();
    assert_eq!(addresses.len(), units);
    let (_, took) = poll(&format!("quorum {quorum} on every sentinel"), CONVERGE, || {
        for address in &addresses {
            let view = nodes::sentinel_master(&nodes::sentinel(address), admin)?;
            let found = field(&view, "quorum")?;
            if found != quorum {
                return Err(format!("{address}: quorum {found}"));
            }
        }
        Ok(())
    });
    println!("quorum {quorum} on {units} sentinels after {took:?}");
    let status = fixture.juju.status().unwrap();
    let expected = format!("{units}/{units} sentinels, quorum {quorum}");
    for (unit, u) in status.units(APP) {
        let message = &u.workload_status.message;
        println!("{unit}: {message}");
        assert!(message.contains(&expected), "{unit}: {message:?}, expected {expected:?}");
        assert_eq!(message.contains("cannot fail over"), units < 3, "{unit}: {message:?}");
    }
}

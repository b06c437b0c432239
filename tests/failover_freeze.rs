//! Scenario: the primary's valkey-server is frozen (`kill -STOP`, a hung host) for 30 s under a
//! continuous writer (`WAIT 1`), with the default down-after (5000 ms), right after the deploy
//! settled — the moment the charm's Sentinels used to know too few replicas and abort the
//! election with `-failover-abort-no-good-slave` (docs/failover.md). Sentinel must fail over
//! exactly once while the node is frozen; after `kill -CONT` the old primary rejoins as a replica,
//! every Sentinel agrees on one primary, every unit is active and no acknowledged write is lost.
//! Timings are printed, never asserted (except the bound on the failover itself: without it the
//! aborted election would only be retried after 2 × failover-timeout, past the freeze).

mod common;

use std::time::{Duration, Instant};

use common::settle::{settled, CONVERGE};
use common::{start_probe, unit_at, Deployed, Thaw};
use valkey_harness::probe::verify;

/// How long the primary stays frozen.
const FREEZE: Duration = Duration::from_secs(30);
/// Acknowledged writes awaited before the fault and after recovery.
const WRITES_PER_PHASE: u64 = 100;

#[test]
fn frozen_primary_fails_over_exactly_once_and_rejoins() {
    let fixture = Deployed::new("freeze", 3, &[]);
    let admin = fixture.admin();
    let units = fixture.units();
    let deployment = fixture.deployment();
    let sentinels = deployment.sentinel_set(&admin).unwrap();
    // No `settled` before the fault on purpose: the bug lived in the seconds after "active".
    let epoch = sentinels.max_config_epoch().unwrap();
    let old = deployment.primary().unwrap();

    let probe = start_probe(&sentinels, "freeze", WRITES_PER_PHASE, CONVERGE);

    probe.mark("kill -STOP primary");
    let frozen_at = Instant::now();
    let pid = deployment.kill_valkey(&old.unit, &old.endpoint, &admin, "STOP").unwrap();
    println!("froze valkey-server pid {pid} of {} (primary)", old.unit);
    // Thaw even when an assertion below fails: a stopped process ignores SIGTERM.
    let thaw = Thaw { juju: &fixture.juju, unit: old.unit.clone(), pid };

    // While frozen: one failover to another unit, agreed by every Sentinel.
    let view = sentinels
        .wait_until("every sentinel to agree on a new primary", FREEZE, |views| {
            let first = views.first()?;
            let agreed = views.iter().all(|v| {
                v.primary == first.primary
                    && v.primary != old.endpoint
                    && v.config_epoch == first.config_epoch
                    && !v.flags.contains("failover_in_progress")
            });
            agreed.then(|| first.clone())
        })
        .unwrap_or_else(|e| panic!("no failover while the primary was frozen: {e}\n{}", fixture.log_tail()));
    let new_primary = view.primary.clone();
    println!("failed over to {new_primary} {:?} after the freeze", frozen_at.elapsed());
    assert_eq!(view.config_epoch, epoch + 1, "one freeze must cause exactly one failover");
    let acked = probe.acked();
    assert!(probe.wait_acked(acked + WRITES_PER_PHASE, CONVERGE), "writes did not resume while frozen");

    // Keep it frozen for the whole 30 s, watching that no second failover starts meanwhile.
    while frozen_at.elapsed() < FREEZE {
        let views = sentinels.views().unwrap();
        assert!(
            views.iter().all(|v| v.primary == new_primary && v.config_epoch == epoch + 1),
            "a second failover while frozen: {views:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    probe.mark("kill -CONT");
    drop(thaw);
    let (primary, epoch_after) = settled(&fixture, &sentinels, &admin, Some(&unit_at(&units, &new_primary)));
    assert_eq!(primary, new_primary);
    assert_eq!(epoch_after, epoch + 1, "the thawed old primary must not cause a second failover");
    let status = fixture.wait_settled(units.len(), "after the freeze");
    assert!(status.is_idle_active(common::APP, units.len()));
    assert_eq!(deployment.primary().unwrap().endpoint, primary, "get-primary disagrees with the Sentinels");

    let acked = probe.acked();
    assert!(probe.wait_acked(acked + WRITES_PER_PHASE, CONVERGE), "writes did not resume after the thaw");
    let log = probe.stop();
    common::print_probe(&log);
    verify(&log, &deployment.data_endpoints().unwrap(), &admin, Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("writes lost: {e}"));
}

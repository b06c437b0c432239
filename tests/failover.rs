//! Scenario: the `failover` action under a continuous writer (`WAIT 1`). The primary moves to a
//! replica, `failover target=valkey/N` moves it to that unit, each switch raises `config-epoch`
//! by exactly one, an unknown target is refused, every unit's `failover-history` shows both
//! switchovers with the durations the actions measured, Sentinel's client-reconfig script reaches
//! every unit's charm (`primary-changed`), and no acknowledged write is lost on any node.
//! The longest write gap is printed, never asserted.

mod common;

use std::time::Duration;

use common::settle::settled;
use common::{start_probe, unit_at, Deployed, APP};
use valkey_harness::probe::verify;

/// Deadline for the probe to make progress.
const CONVERGE: Duration = Duration::from_secs(60);
/// Acknowledged writes awaited between steps, so every phase really runs under writes.
const WRITES_PER_PHASE: u64 = 100;

#[test]
fn failover_action_moves_the_primary_without_losing_acknowledged_writes() {
    let fixture = Deployed::new("failover", 3, &[]);
    let admin = fixture.admin();
    let units = fixture.units();
    let deployment = fixture.deployment();
    let sentinels = deployment.sentinel_set(&admin).unwrap();
    let first = settled(&fixture, &sentinels, &admin, None);
    let epoch = first.1;

    let probe = start_probe(&sentinels, "failover", WRITES_PER_PHASE, CONVERGE);

    // 1. failover without a target: the primary moves to another unit.
    let old = deployment.primary().unwrap();
    assert_eq!(old.endpoint, first.0, "get-primary disagrees with the Sentinels");
    probe.mark("failover");
    let outcome = fixture.juju.run_action(&format!("{APP}/leader"), "failover", &[]).unwrap();
    probe.mark("failover returned");
    println!("failover: {} {:?} {}", outcome.status, outcome.message, outcome.results);
    assert!(outcome.completed(), "{outcome:?}");
    assert_eq!(outcome.result("old-primary").as_deref(), Some(old.unit.as_str()), "{outcome:?}");
    let moved_to = outcome.result("new-primary").expect("new-primary result");
    let mut measured = vec![outcome.result("duration-ms").expect("duration-ms result")];
    assert_ne!(moved_to, old.unit, "{outcome:?}");
    let (primary, after_first) = settled(&fixture, &sentinels, &admin, Some(&moved_to));
    assert_eq!(after_first, epoch + 1, "one switchover must raise config-epoch by exactly one");
    assert_eq!(unit_at(&units, &primary), moved_to);
    let acked = probe.acked();
    assert!(probe.wait_acked(acked + WRITES_PER_PHASE, CONVERGE), "writes did not resume after the failover");
    // Sentinel's client-reconfig script reached every unit's charm (through the root relay where
    // the services run as the service user): `primary-changed` ran everywhere.
    let (_, took) = common::poll("primary-changed on every unit", CONVERGE, || {
        let log = fixture.juju.debug_log().map_err(|e| e.to_string())?;
        let missing: Vec<&String> = units
            .iter()
            .map(|(unit, _)| unit)
            .filter(|unit| !log.lines().any(|l| l.contains(unit.as_str()) && l.contains("primary-changed:")))
            .collect();
        missing.is_empty().then_some(()).ok_or(format!("no primary-changed on {missing:?}"))
    });
    println!("primary-changed ran on every unit, the last {took:?} after settling");

    // 2. failover to a named unit: the one that has not been primary yet (not the best-placed
    //    candidate by Sentinel's own choice, so the target really steers it).
    let target = units
        .iter()
        .map(|(unit, _)| unit.clone())
        .find(|unit| *unit != moved_to && *unit != old.unit)
        .expect("a third unit");
    probe.mark("failover target");
    let outcome =
        fixture.juju.run_action(&format!("{APP}/leader"), "failover", &[("target", &target)]).unwrap();
    probe.mark("failover target returned");
    println!("failover target={target}: {} {:?} {}", outcome.status, outcome.message, outcome.results);
    assert!(outcome.completed(), "{outcome:?}");
    assert_eq!(outcome.result("new-primary").as_deref(), Some(target.as_str()), "{outcome:?}");
    measured.push(outcome.result("duration-ms").expect("duration-ms result"));
    let (primary, after_second) = settled(&fixture, &sentinels, &admin, Some(&target));
    assert_eq!(after_second, epoch + 2, "one switchover must raise config-epoch by exactly one");
    assert_eq!(unit_at(&units, &primary), target);
    let acked = probe.acked();
    assert!(probe.wait_acked(acked + WRITES_PER_PHASE, CONVERGE), "writes did not resume after the failover");

    // 3. An unknown target is refused with its name, and nothing moves.
    probe.mark("failover target=valkey/99");
    let outcome =
        fixture.juju.run_action(&format!("{APP}/leader"), "failover", &[("target", "valkey/99")]).unwrap();
    println!("failover target=valkey/99: {} {:?}", outcome.status, outcome.message);
    assert_eq!(outcome.status, "failed", "{outcome:?}");
    assert!(outcome.message.as_deref().is_some_and(|m| m.contains("valkey/99")), "{outcome:?}");
    let acked = probe.acked();
    assert!(probe.wait_acked(acked + WRITES_PER_PHASE, CONVERGE), "writes stalled after a refused failover");
    assert_eq!(sentinels.wait_agreement(CONVERGE).unwrap().config_epoch, epoch + 2);
    assert_eq!(deployment.primary().unwrap().unit, target);

    // 4. Every unit's failover-history lists both switchovers with the duration the actions
    //    measured on the leader: the records travel through the peer relation.
    for (unit, _) in &units {
        common::poll(&format!("{unit}'s history to show the measured switchovers"), CONVERGE, || {
            let h = fixture.juju.run_action(unit, "failover-history", &[]).map_err(|e| e.to_string())?;
            let text = h.result("history").ok_or_else(|| format!("no history in {h:?}"))?;
            let entries: Vec<serde_json::Value> = serde_json::from_str(&text).map_err(|e| e.to_string())?;
            let durations: Vec<String> = entries
                .iter()
                .filter(|e| e["kind"] == "switchover")
                .map(|e| e["duration_ms"].to_string())
                .collect();
            if durations == measured {
                Ok(())
            } else {
                Err(format!("switchover durations {durations:?}, the actions measured {measured:?}"))
            }
        });
    }

    // No acknowledged write is lost, on any node.
    let log = probe.stop();
    let report = common::print_probe(&log);
    let nodes = deployment.data_endpoints().unwrap();
    verify(&log, &nodes, &admin, Duration::from_secs(30)).unwrap_or_else(|e| panic!("writes lost: {e}"));
    assert!(report.acknowledged >= 4 * WRITES_PER_PHASE, "{report:?}");
    assert_eq!(
        report.writes_by_primary.len(),
        3,
        "every unit was primary once: {:?}",
        report.writes_by_primary
    );
}

//! Scenario (default config, down-after 5000 ms), under a continuous writer (`WAIT 1`):
//! 1. `kill -9` of the primary's valkey-server: exactly one failover; Sentinel's
//!    client-reconfig script reaches every unit (`primary-changed` in debug-log); the old primary
//!    comes back by itself as a replica of the new one (its supervisor waits out the restart
//!    delay); statuses and `get-primary` follow; the application status names the failover; the
//!    `failover-history` action records it with a duration.
//! 2. `kill -9` of the new primary's Sentinel: nothing else happens — no failover, the
//!    Sentinel is restarted, rejoins its peers and gets its 1 s INFO period back, writes go on.
//!
//! No acknowledged write is lost on any node. Timings are printed, never asserted.

mod common;

use std::time::{Duration, Instant};

use common::nodes::{self, field};
use common::settle::{replaced, settled, Baseline, CONVERGE};
use common::{poll, start_probe, unit_at, Deployed, APP};
use valkey_harness::probe::verify;
use valkey_harness::valkey::{Credentials, Endpoint};

/// Acknowledged writes awaited between phases.
const WRITES_PER_PHASE: u64 = 100;

#[test]
fn crashed_primary_fails_over_once_and_a_killed_sentinel_changes_nothing() {
    let fixture = Deployed::new("fo-crash", 3, &[]);
    let Baseline { admin, units, sentinels, primary: old, primary_unit: old_unit, epoch } =
        fixture.baseline();
    let deployment = fixture.deployment();
    let logged_before = primary_changed_lines(&fixture);

    let probe = start_probe(&sentinels, "fo-crash", WRITES_PER_PHASE, CONVERGE);

    // 1. kill -9 of the primary.
    probe.mark("kill -9 primary");
    let killed_at = Instant::now();
    deployment.kill_valkey(&old_unit, &old, &admin, "KILL").unwrap();
    let moved = replaced(&sentinels, &old, "no failover after the kill");
    println!("sentinels moved to {moved} {:?} after the kill", killed_at.elapsed());
    let new_unit = unit_at(&units, &moved);
    let (primary, epoch_after) = settled(&fixture, &sentinels, &admin, Some(&new_unit));
    println!("settled on {new_unit} {:?} after the kill", killed_at.elapsed());
    assert_ne!(primary, old, "the killed primary must have been replaced");
    assert_eq!(epoch_after, epoch + 1, "one crash must cause exactly one failover");
    assert_eq!(deployment.primary().unwrap().endpoint, primary, "get-primary disagrees with the Sentinels");
    // The old primary is back, as a replica of the new one (settled checked every node's sync).
    let info = nodes::replication(&old, &admin).unwrap();
    assert_eq!(field(&info, "role").unwrap(), "slave", "{info:?}");
    assert_eq!(field(&info, "master_host").unwrap(), primary.host, "{info:?}");
    // Sentinel's client-reconfig script reached every unit.
    let (lines, took) = poll("primary-changed on every unit", CONVERGE, || {
        let lines = primary_changed_lines(&fixture);
        let new: Vec<&String> = lines.iter().filter(|l| !logged_before.contains(l)).collect();
        let all = units.iter().all(|(unit, _)| new.iter().any(|l| l.contains(unit.as_str())));
        all.then_some(new.len()).ok_or(format!("{new:?}"))
    });
    println!("{lines} primary-changed hooks logged, the last {took:?} after settling");
    // The application status names the failover, and the history has it with a duration.
    let history = fixture.juju.run_action(&format!("{APP}/leader"), "failover-history", &[]).unwrap();
    println!("failover-history: {:?}", history.results);
    assert!(history.completed(), "{history:?}");
    let entries: Vec<serde_json::Value> =
        serde_json::from_str(&history.result("history").expect("history result")).unwrap();
    let last = entries.last().expect("one failover in the history");
    assert_eq!(last["old_primary"], old_unit.as_str(), "{last}");
    assert_eq!(last["new_primary"], new_unit.as_str(), "{last}");
    assert_eq!(last["kind"], "automatic", "{last}");
    assert!(last["duration_ms"].as_u64().is_some_and(|d| d >= 5000), "down-after is part of it: {last}");
    // The leader's status is set by its own hooks: wait for one that saw the switch (it names
    // the new primary, not the failover leader's stale view; see docs/failover.md).
    let named = format!("→{new_unit}");
    fixture
        .juju
        .wait_for("the application status to name the failover", CONVERGE, |s| {
            let message = &s.applications[APP].application_status.message;
            message.starts_with(&format!("primary {new_unit},"))
                && message.contains("last failover")
                && message.contains(&named)
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let acked = probe.acked();
    assert!(probe.wait_acked(acked + WRITES_PER_PHASE, CONVERGE), "writes did not resume after the crash");

    // 2. kill -9 of the new primary's Sentinel.
    let sentinel_pid = sentinel_pid(&nodes::sentinel(&primary.host), &admin);
    probe.mark("kill -9 primary's sentinel");
    let out = fixture.juju.exec(&new_unit, &format!("kill -9 {sentinel_pid}")).unwrap();
    assert_eq!(out.code, 0, "{out:?}");
    let (_, took) = poll("the killed Sentinel to be back", CONVERGE, || {
        match sentinel_pid_of(&nodes::sentinel(&primary.host), &admin)? {
            pid if pid != sentinel_pid => Ok(()),
            _ => Err("still the killed process".to_string()),
        }
    });
    println!("{new_unit}'s Sentinel back {took:?} after the kill");
    // The restarted Sentinel gets its 1 s INFO period back at the unit's next hook.
    let (_, took) = poll("the restarted Sentinel's INFO period", CONVERGE, || {
        let timers: Vec<String> =
            nodes::query(&nodes::sentinel(&primary.host), &admin, redis::cmd("SENTINEL").arg("DEBUG"))?;
        let at = timers.iter().position(|k| k.eq_ignore_ascii_case("info-period")).ok_or("no INFO-PERIOD")?;
        (timers.get(at + 1).map(String::as_str) == Some("1000")).then_some(()).ok_or(format!("{timers:?}"))
    });
    println!("INFO period re-set {took:?} after the Sentinel came back");
    let (after, epoch_last) = settled(&fixture, &sentinels, &admin, Some(&new_unit));
    assert_eq!(after, primary);
    assert_eq!(epoch_last, epoch + 1, "killing a Sentinel must not cause a failover");
    let acked = probe.acked();
    assert!(probe.wait_acked(acked + WRITES_PER_PHASE, CONVERGE), "writes stopped after the Sentinel kill");

    let log = probe.stop();
    common::print_probe(&log);
    verify(&log, &deployment.data_endpoints().unwrap(), &admin, Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("writes lost: {e}"));
}

/// The debug-log lines of `primary-changed` hooks so far.
fn primary_changed_lines(fixture: &Deployed) -> Vec<String> {
    let log = fixture.juju.debug_log().unwrap_or_default();
    log.lines().filter(|l| l.contains("primary-changed:")).map(str::to_string).collect()
}

/// `process_id` from a Sentinel's `INFO server`.
fn sentinel_pid_of(sentinel: &Endpoint, admin: &Credentials) -> Result<u32, String> {
    let text: String = nodes::query(sentinel, admin, redis::cmd("INFO").arg("server"))?;
    let info = valkey_harness::valkey::parse_info(&text).into_iter().collect();
    field(&info, "process_id")?.trim().parse().map_err(|e| format!("process_id: {e}"))
}

/// Like [`sentinel_pid_of`], panicking on failure.
fn sentinel_pid(sentinel: &Endpoint, admin: &Credentials) -> u32 {
    sentinel_pid_of(sentinel, admin).unwrap_or_else(|e| panic!("{sentinel}: {e}"))
}

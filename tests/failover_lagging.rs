//! Scenario (issue 5; default config, down-after 5000 ms), under a continuous writer (`WAIT 1`):
//! one replica really lags — its valkey-server is frozen (`kill -STOP`) while the probe and a
//! bulk load of `BULK_KEYS` × 1 MiB keep writing, far more than the kernel socket buffers hold,
//! so the primary's `INFO replication` shows it behind — then the primary is killed (`kill -9`)
//! and the frozen replica thawed (`kill -CONT`) right away, so it is an eligible but stale
//! candidate when Sentinel elects. Sentinel must promote the up-to-date replica (highest offset,
//! valkey-facts.md), fail over exactly once (config-epoch +1), every Sentinel agrees on the one
//! primary, every unit is active again, and every write `WAIT 1` acknowledged is on every node.
//! Timings are printed, never asserted.

mod common;

use std::time::{Duration, Instant};

use common::nodes::{self, field, number, replica_offset};
use common::settle::{settled, Baseline, CONVERGE};
use common::{poll, start_probe, unit_at, Deployed, Thaw, APP};
use valkey_harness::probe::verify;
use valkey_harness::valkey::{Credentials, Endpoint};

/// Acknowledged writes awaited between phases.
const WRITES_PER_PHASE: u64 = 100;
/// Bulk keys written while the replica is frozen: 1 MiB each, well above what the loopback
/// socket buffers can take, so the lag survives the primary's death.
const BULK_KEYS: u64 = 24;
/// Size of one bulk value.
const BULK_VALUE: usize = 1 << 20;

#[test]
fn crashed_primary_with_a_lagging_replica_promotes_the_up_to_date_one() {
    let fixture = Deployed::new("fo-lagging", 3, &[]);
    let Baseline { admin, units, sentinels, primary: old, primary_unit: old_unit, epoch } =
        fixture.baseline();
    let deployment = fixture.deployment();
    let replicas: Vec<Endpoint> = units.iter().map(|(_, a)| nodes::data(a)).filter(|n| *n != old).collect();
    let [current, lagging] = [replicas[0].clone(), replicas[1].clone()];
    let (current_unit, lagging_unit) = (unit_at(&units, &current), unit_at(&units, &lagging));
    println!("primary {old_unit}; {lagging_unit} will lag, {current_unit} stays up to date");

    let probe = start_probe(&sentinels, "fo-lagging", WRITES_PER_PHASE, CONVERGE);

    // 1. Make one replica lag for real: freeze it while writes go on.
    probe.mark("kill -STOP replica");
    let frozen_at = Instant::now();
    let pid = deployment.kill_valkey(&lagging_unit, &lagging, &admin, "STOP").unwrap();
    println!("froze valkey-server pid {pid} of {lagging_unit}");
    // Thaw even when an assertion below fails: a stopped process ignores SIGTERM.
    let thaw = Thaw { juju: &fixture.juju, unit: lagging_unit.clone(), pid };
    let acked = probe.acked();
    assert!(probe.wait_acked(acked + WRITES_PER_PHASE, CONVERGE), "writes stopped with one replica frozen");
    write_bulk(&old, &admin);
    let ((behind, ahead), took) = poll("the primary to see the frozen replica behind", CONVERGE, || {
        let info = nodes::replication(&old, &admin)?;
        let primary_offset: u64 = number(field(&info, "master_repl_offset")?)?;
        let lagging_offset = replica_offset(&info, &lagging)?;
        let current_offset = replica_offset(&info, &current)?;
        let behind = primary_offset.saturating_sub(lagging_offset);
        let ahead = current_offset.saturating_sub(lagging_offset);
        (behind >= BULK_KEYS * BULK_VALUE as u64 && ahead >= BULK_KEYS * BULK_VALUE as u64)
            .then_some((behind, ahead))
            .ok_or(format!("{lagging_unit} {behind} bytes behind the primary, {ahead} behind {current_unit}"))
    });
    println!(
        "{lagging_unit} is {behind} bytes behind the primary and {ahead} behind {current_unit} ({took:?} after \
         the bulk load)"
    );

    // 2. kill -9 of the primary, then thaw the lagging replica so it is a candidate at the election.
    probe.mark("kill -9 primary");
    let killed_at = Instant::now();
    deployment.kill_valkey(&old_unit, &old, &admin, "KILL").unwrap();
    probe.mark("kill -CONT replica");
    drop(thaw);
    println!(
        "{lagging_unit} frozen for {:?}, thawed {:?} after the kill",
        frozen_at.elapsed(),
        killed_at.elapsed()
    );
    // What the Sentinels see of the two candidates once the thawed replica drained its socket and
    // noticed the dead primary (printed: the election may already have re-pointed it).
    let (offsets, took) = poll("the thawed replica to see its primary gone", CONVERGE, || {
        let info = nodes::replication(&lagging, &admin)?;
        if field(&info, "master_host")? != old.host {
            return Ok(None);
        }
        (field(&info, "master_link_status")? == "down").then_some(()).ok_or("link still up")?;
        let other = nodes::replication(&current, &admin)?;
        Ok(Some((
            field(&info, "slave_repl_offset")?.to_string(),
            field(&other, "slave_repl_offset")?.to_string(),
        )))
    });
    match offsets {
        Some((stale, fresh)) => println!(
            "candidates {took:?} after the thaw: {lagging_unit} at {stale}, {current_unit} at {fresh}"
        ),
        None => println!("{lagging_unit} was already re-pointed {took:?} after the thaw"),
    }
    let moved = sentinels
        .wait_until("every sentinel to name a new primary", CONVERGE, |views| {
            let first = views.first()?;
            let agreed = views.iter().all(|v| {
                v.primary == first.primary
                    && v.primary != old
                    && v.config_epoch == first.config_epoch
                    && !v.flags.contains("failover_in_progress")
            });
            agreed.then(|| first.clone())
        })
        .unwrap_or_else(|e| panic!("no failover after the kill: {e}\n{}", fixture.log_tail()));
    println!("sentinels moved to {} {:?} after the kill", moved.primary, killed_at.elapsed());
    assert_eq!(
        unit_at(&units, &moved.primary),
        current_unit,
        "Sentinel must promote the up-to-date replica, not the lagging {lagging_unit}"
    );
    assert_eq!(moved.config_epoch, epoch + 1, "one crash must cause exactly one failover");

    // 3. Everything settles around the promoted replica: one primary, every Sentinel agrees,
    //    every replica (the thawed one and the restarted old primary) in sync, statuses follow.
    let (primary, epoch_after) = settled(&fixture, &sentinels, &admin, Some(&current_unit));
    println!("settled on {current_unit} {:?} after the kill", killed_at.elapsed());
    assert_eq!(primary, current);
    assert_eq!(epoch_after, epoch + 1, "the thawed replica or restarted primary caused a second failover");
    let addresses: Vec<String> = units.iter().map(|(_, a)| a.clone()).collect();
    let masters = nodes::masters(&addresses, &admin).unwrap();
    assert_eq!(masters, vec![primary.clone()], "exactly one node must be a primary");
    let promoted = nodes::replication(&primary, &admin).unwrap();
    println!(
        "{current_unit} took over at offset {} (second_repl_offset)",
        field(&promoted, "second_repl_offset").unwrap_or("?")
    );
    let status = fixture.wait_settled(units.len(), "after the failover");
    assert!(status.is_idle_active(APP, units.len()));
    assert_eq!(deployment.primary().unwrap().endpoint, primary, "get-primary disagrees with the Sentinels");
    let views = sentinels.views().unwrap();
    assert!(
        views.iter().all(|v| v.primary == primary && v.config_epoch == epoch + 1),
        "the sentinels disagree: {views:?}"
    );

    let acked = probe.acked();
    assert!(probe.wait_acked(acked + WRITES_PER_PHASE, CONVERGE), "writes did not resume after the failover");
    let log = probe.stop();
    common::print_probe(&log);
    verify(&log, &deployment.data_endpoints().unwrap(), &admin, Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("writes lost: {e}"));
}

/// Writes `BULK_KEYS` values of `BULK_VALUE` bytes on the primary, each confirmed by one replica
/// (`WAIT 1`: the one that is not frozen), so the up-to-date replica holds all of it.
fn write_bulk(primary: &Endpoint, admin: &Credentials) {
    let value = vec![b'x'; BULK_VALUE];
    let mut connection = nodes::connect(primary, admin).unwrap();
    let started = Instant::now();
    for n in 0..BULK_KEYS {
        let () = redis::cmd("SET").arg(format!("bulk:{n}")).arg(&value).query(&mut connection).unwrap();
        let acked: u32 = redis::cmd("WAIT").arg(1).arg(2000).query(&mut connection).unwrap();
        assert_eq!(acked, 1, "bulk:{n} must be confirmed by exactly the replica that is not frozen");
    }
    println!("wrote {BULK_KEYS} × {BULK_VALUE} bytes in {:?}", started.elapsed());
}

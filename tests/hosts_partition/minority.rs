//! Scenarios 2 and 3: a replica, then a Sentinel's host, cut from the other two units — the
//! minority side must never cause a failover.

use std::time::{Duration, Instant};

use crate::common::nodes::{self, field};
use crate::common::settle::{settled, Baseline, CONVERGE};
use crate::common::{poll, print_probe, start_probe, unit_at, Deployed};
use crate::{watch, CONFIG, DOWN_AFTER, WRITES};
use valkey_harness::probe::verify;
use valkey_harness::sentinel::SentinelSet;

#[test]
fn partitioned_replica_causes_no_failover_and_resyncs_partially() {
    let Some(fixture) = Deployed::new_hosts("hp-replica", 3, &CONFIG) else { return };
    let Baseline { admin, units, sentinels, primary, primary_unit, epoch } = fixture.baseline();
    let deployment = fixture.deployment();
    let replicas: Vec<(String, String)> = units.iter().filter(|(u, _)| *u != primary_unit).cloned().collect();
    let [(cut_unit, cut_address), (other_unit, _)] = [replicas[0].clone(), replicas[1].clone()];
    let replica = nodes::data(&cut_address);
    let probe = start_probe(&sentinels, "hp-replica", WRITES, CONVERGE);
    // Valkey's 60 s repl-timeout would outlast the cut: the stalled TCP stream would just resume
    // and nothing would resync. A short one makes the replica drop its link, as a long partition
    // would, so the heal has to go through PSYNC.
    let _: () =
        nodes::query(&replica, &admin, redis::cmd("CONFIG").arg("SET").arg("repl-timeout").arg("5")).unwrap();
    let (full_before, partial_before) = watch::resyncs(&primary, &admin).unwrap();

    // 1. Cut the replica from the primary and the other replica.
    probe.mark("cut a replica");
    let cut_at = Instant::now();
    fixture.cut(&cut_unit, Some(&primary_unit));
    fixture.cut(&cut_unit, Some(&other_unit));
    let (_, took) = poll("the cut replica to lose its link", CONVERGE, || {
        let info = nodes::replication(&replica, &admin)?;
        let link = field(&info, "master_link_status")?;
        (link == "down").then_some(()).ok_or(format!("link {link}"))
    });
    println!("{cut_unit} lost its link {took:?} after the cut");
    let acked = probe.acked();
    assert!(probe.wait_acked(acked + WRITES, CONVERGE), "writes must go on with one replica cut off");
    for view in watch::views(&sentinels).unwrap() {
        watch::unchanged(&view, &units, &primary_unit, epoch).unwrap_or_else(|e| panic!("failover: {e}"));
    }
    println!("no failover {:?} after the cut", cut_at.elapsed());

    // 2. Heal: the replica catches up from the backlog.
    probe.mark("heal");
    let healed_at = Instant::now();
    fixture.heal(&cut_unit, None);
    let ((full, partial), took) = poll("a partial resync", CONVERGE, || {
        let (full, partial) = watch::resyncs(&primary, &admin)?;
        (partial > partial_before).then_some((full, partial)).ok_or(format!("sync_partial_ok {partial}"))
    });
    println!("partial resync {took:?} after the heal (sync_full {full_before}→{full}, sync_partial_ok {partial_before}→{partial})");
    assert_eq!(full, full_before, "the backlog covers the gap: the replica must not need a full resync");
    let (after, epoch_after) = settled(&fixture, &sentinels, &admin, Some(&primary_unit));
    println!("settled {:?} after the heal", healed_at.elapsed());
    assert_eq!(
        (unit_at(&units, &after), epoch_after),
        (primary_unit.clone(), epoch),
        "a cut replica must not cause a failover"
    );

    let log = probe.stop();
    print_probe(&log);
    verify(&log, &deployment.data_endpoints().unwrap(), &admin, Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("writes confirmed with WAIT 1 were lost: {e}"));
}

#[test]
fn sentinel_in_the_minority_causes_no_failover() {
    let Some(fixture) = Deployed::new_hosts("hp-sentinel", 3, &CONFIG) else { return };
    let Baseline { admin, units, sentinels, primary: _, primary_unit, epoch } = fixture.baseline();
    let deployment = fixture.deployment();
    let replicas: Vec<(String, String)> = units.iter().filter(|(u, _)| *u != primary_unit).cloned().collect();
    let [(cut_unit, cut_address), (other_unit, _)] = [replicas[0].clone(), replicas[1].clone()];
    let probe = start_probe(&sentinels, "hp-sentinel", WRITES, CONVERGE);

    // 1. Cut a replica's host — its Sentinel with it — from both other units.
    probe.mark("cut a sentinel's host");
    let cut_at = Instant::now();
    fixture.cut(&cut_unit, Some(&primary_unit));
    fixture.cut(&cut_unit, Some(&other_unit));
    // The minority Sentinel does see the primary down: the window below tests something.
    let lonely = SentinelSet { sentinels: vec![nodes::sentinel(&cut_address)], ..sentinels.clone() };
    let (_, took) = poll("the cut Sentinel to see the primary down", CONVERGE, || {
        let view = watch::views(&lonely)?.remove(0);
        view.flags.contains("s_down").then_some(()).ok_or(format!("flags {}", view.flags))
    });
    println!("{cut_unit}'s Sentinel flagged the primary s_down {took:?} after the cut");
    let until = cut_at + 3 * DOWN_AFTER;
    let samples = watch::hold("no failover", until, || {
        let views = watch::views(&sentinels)?;
        for view in &views {
            if let Err(why) = watch::unchanged(view, &units, &primary_unit, epoch) {
                return Ok(Err(why));
            }
        }
        Ok(Ok(()))
    });
    println!("no failover for {:?} after the cut ({samples} samples of every Sentinel)", cut_at.elapsed());
    let acked = probe.acked();
    assert!(probe.wait_acked(acked + WRITES, CONVERGE), "writes must go on with a Sentinel cut off");

    // 2. Heal: everything settles as it was.
    probe.mark("heal");
    let healed_at = Instant::now();
    fixture.heal(&cut_unit, None);
    let (after, epoch_after) = settled(&fixture, &sentinels, &admin, Some(&primary_unit));
    println!("settled {:?} after the heal", healed_at.elapsed());
    assert_eq!(
        (unit_at(&units, &after), epoch_after),
        (primary_unit.clone(), epoch),
        "a Sentinel in the minority must not cause a failover"
    );

    let log = probe.stop();
    print_probe(&log);
    verify(&log, &deployment.data_endpoints().unwrap(), &admin, Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("writes confirmed with WAIT 1 were lost: {e}"));
}

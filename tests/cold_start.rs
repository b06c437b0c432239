//! Scenario (issue 5): every unit loses all its processes at once — supervisors, Valkey and
//! Sentinel killed with SIGKILL — and the units come back in the worst order: both replicas
//! (one of them lagging behind) with their Sentinels first, the old primary only after Sentinel
//! has had several down-after periods to fail it over. A restarted Valkey has lost its
//! replication offset (an AOF load does not restore it), so Sentinel cannot tell the lagging
//! replica from the up-to-date one; the charm's start-up fence (every Valkey starts at
//! `replica-priority 0` until it has resynced) must keep Sentinel from promoting either. The
//! old primary — the node holding every acknowledged write — must be primary again, with no
//! failover (config-epoch unchanged), every unit active, and every write `WAIT 1` acknowledged
//! before the stop present on every node. Timings are printed, never asserted.

mod common;

use std::time::{Duration, Instant};

use common::nodes::{self, field};
use common::settle::{settled, Baseline, CONVERGE};
use common::{poll, start_probe, unit_at, Deployed, APP};
use valkey_harness::deployment::CharmDeployment;
use valkey_harness::probe::{verify, ProbeHandle};
use valkey_harness::sentinel::SentinelSet;
use valkey_harness::valkey::{Credentials, Endpoint};

/// Acknowledged writes awaited between phases.
const WRITES_PER_PHASE: u64 = 100;
/// down-after-milliseconds for this deployment (the floor, to keep the run short).
const DOWN_AFTER: Duration = Duration::from_millis(2000);

/// A deployment whose every process was killed with one replica lagging, brought back as far as
/// its two replicas (fenced, their Sentinels having tried and failed to fail over).
struct ColdStopped {
    fixture: Deployed,
    admin: Credentials,
    units: Vec<(String, String)>,
    sentinels: SentinelSet,
    probe: ProbeHandle,
    old: Endpoint,
    old_unit: String,
    current: Endpoint,
    current_unit: String,
    lagging: Endpoint,
    lagging_unit: String,
    epoch: u64,
    stopped_at: Instant,
}

/// Deploys 3 units, makes one replica lag under the probe, kills every process of every unit,
/// restarts the two replicas (the lagging one first) and waits until a Sentinel has tried to fail
/// over and found no replica it may promote; checks nothing was promoted meanwhile.
fn cold_stop(scenario: &str) -> ColdStopped {
    let fixture = Deployed::new(scenario, 3, &[("down-after-milliseconds", "2000")]);
    let Baseline { admin, units, sentinels, primary: old, primary_unit: old_unit, epoch } =
        fixture.baseline();
    let deployment = fixture.deployment();
    let replicas: Vec<Endpoint> = units.iter().map(|(_, a)| nodes::data(a)).filter(|n| *n != old).collect();
    let (current, lagging) = (replicas[0].clone(), replicas[1].clone());
    let (current_unit, lagging_unit) = (unit_at(&units, &current), unit_at(&units, &lagging));
    println!("primary {old_unit}; {lagging_unit} will lag, {current_unit} stays up to date");

    let probe = start_probe(&sentinels, scenario, WRITES_PER_PHASE, CONVERGE);

    // 1. One replica lags: frozen while writes go on (confirmed by the other replica).
    probe.mark("kill -STOP replica");
    deployment.kill_valkey(&lagging_unit, &lagging, &admin, "STOP").unwrap();
    let acked = probe.acked();
    assert!(probe.wait_acked(acked + WRITES_PER_PHASE, CONVERGE), "writes stopped with one replica frozen");
    let behind = replica_behind(&old, &lagging, &admin);
    println!("{lagging_unit} is {behind} bytes behind the primary");
    assert!(behind > 0, "the frozen replica must lag for this scenario to mean anything");

    // 2. Nothing may restart on its own while the test chooses the order.
    fixture.juju.model_config(&[("update-status-hook-interval", "1h")]).unwrap();
    let acked_before_stop = probe.acked();
    probe.mark("kill every process of every unit");
    let stopped_at = Instant::now();
    for (unit, _) in &units {
        deployment.kill_workload(unit).unwrap();
    }
    for (_, address) in &units {
        assert!(nodes::replication(&nodes::data(address), &admin).is_err(), "{address} still answers");
    }
    println!("all processes killed; {acked_before_stop} writes acknowledged before the stop");

    // 3. The replicas and their Sentinels come back first, the lagging one first of all.
    for unit in [&lagging_unit, &current_unit] {
        deployment.reconcile(unit).unwrap();
        println!("{unit} restarted {:?} after the stop", stopped_at.elapsed());
    }
    for replica in [&lagging, &current] {
        let (priority, _) = poll("the restarted replica to answer", CONVERGE, || {
            let info = nodes::replication(replica, &admin)?;
            field(&info, "slave_priority").map(str::to_string)
        });
        assert_eq!(priority, "0", "{replica} restarted without the start-up fence");
    }
    // Two of three Sentinels see the primary down: they reach ODOWN and elect a leader, which
    // finds no replica it may promote. Wait for that, then for several more down-after periods.
    let (event, took) = poll("a Sentinel to try a failover and find no replica to promote", CONVERGE, || {
        assert_no_promotion(&[&lagging, &current], &admin);
        for unit in [&lagging_unit, &current_unit] {
            let log = deployment.sentinel_log(unit).map_err(|e| e.to_string())?;
            let since_restart = log.rsplit("Sentinel ID is").next().unwrap_or_default();
            if let Some(line) = since_restart.lines().find(|l| l.contains("-failover-abort-no-good-slave")) {
                return Ok(format!("{unit}: {line}"));
            }
        }
        Err("no failover attempt yet".to_string())
    });
    println!("{took:?}: {event}");
    let hold = Instant::now();
    while hold.elapsed() < 3 * DOWN_AFTER {
        assert_no_promotion(&[&lagging, &current], &admin);
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(deployment);
    ColdStopped {
        fixture,
        admin,
        units,
        sentinels,
        probe,
        old,
        old_unit,
        current,
        current_unit,
        lagging,
        lagging_unit,
        epoch,
        stopped_at,
    }
}

#[test]
fn cold_start_of_every_unit_keeps_the_most_up_to_date_node_primary() {
    let c = cold_stop("cold-start");
    let deployment = c.fixture.deployment();
    // 4. The old primary comes back last, with every acknowledged write in its AOF.
    deployment.reconcile(&c.old_unit).unwrap();
    println!("{} restarted {:?} after the stop", c.old_unit, c.stopped_at.elapsed());
    c.fixture.juju.model_config(&[("update-status-hook-interval", "10s")]).unwrap();
    let (primary, epoch_after) = settled(&c.fixture, &c.sentinels, &c.admin, Some(&c.old_unit));
    println!("settled on {} {:?} after the stop", c.old_unit, c.stopped_at.elapsed());
    assert_eq!(primary, c.old);
    assert_eq!(epoch_after, c.epoch, "a cold start must not fail over");
    let addresses: Vec<String> = c.units.iter().map(|(_, a)| a.clone()).collect();
    assert_eq!(nodes::masters(&addresses, &c.admin).unwrap(), vec![c.old.clone()], "exactly one primary");
    // Both replicas resynced and were admitted for promotion again.
    assert_admitted(&[&c.lagging, &c.current], &c.admin);
    c.fixture.wait_settled(c.units.len(), "after the cold start");
    finish(c.probe, &deployment, &c.admin);
}

#[test]
fn a_primary_lost_in_a_cold_start_is_replaced_by_the_replica_the_operator_promotes() {
    let c = cold_stop("cold-lost");
    let deployment = c.fixture.deployment();
    // The old primary does not come back. Bad requests are refused and change nothing ...
    let refused = |params: &[(&str, &str)], why: &str| {
        let outcome = c.fixture.juju.run_action(&format!("{APP}/leader"), "promote-replica", params).unwrap();
        assert!(!outcome.completed(), "promote-replica {params:?} must be refused");
        assert!(
            outcome.message.as_deref().unwrap_or("").contains(why),
            "promote-replica {params:?}: {outcome:?}"
        );
    };
    refused(&[("unit", "valkey/9")], "is not a unit of this application");
    refused(&[("unit", &c.old_unit)], "is the primary");
    // ... and the operator promotes the up-to-date replica: it holds every write `WAIT 1` confirmed.
    let promoted_at = Instant::now();
    let outcome = c
        .fixture
        .juju
        .run_action(&format!("{APP}/leader"), "promote-replica", &[("unit", &c.current_unit)])
        .unwrap();
    assert!(outcome.completed(), "promote-replica failed: {outcome:?}");
    println!("promote-replica {} took {:?}: {outcome:?}", c.current_unit, promoted_at.elapsed());
    // The leader's Sentinel (the old primary's is still down) names the promoted replica.
    let (view, _) = poll("the running Sentinels to name the promoted replica", CONVERGE, || {
        let views: Vec<_> = [&c.current, &c.lagging]
            .iter()
            .map(|node| nodes::sentinel_master(&nodes::sentinel(&node.host), &c.admin))
            .collect::<Result<_, _>>()?;
        let named: Result<Vec<Endpoint>, String> = views.iter().map(nodes::sentinel_primary).collect();
        let named = named?;
        named.iter().all(|p| *p == c.current).then_some(views).ok_or(format!("named {named:?}"))
    });
    // The aborted attempts during the outage used up election epochs, so the new config-epoch is
    // higher than epoch + 1; what must hold is one switch: both Sentinels on the same new epoch,
    // and exactly one +switch-master in each of their logs since they restarted.
    let epochs: Vec<u64> = view.iter().map(|v| field(v, "config-epoch").unwrap().parse().unwrap()).collect();
    assert!(epochs.iter().all(|e| *e == epochs[0] && *e > c.epoch), "{epochs:?} after {}", c.epoch);
    let promoted_epoch = epochs[0];
    for unit in [&c.current_unit, &c.lagging_unit] {
        let log = deployment.sentinel_log(unit).unwrap();
        let since_restart = log.rsplit("Sentinel ID is").next().unwrap_or_default();
        let switches = since_restart.lines().filter(|l| l.contains("+switch-master")).count();
        assert_eq!(switches, 1, "{unit}'s Sentinel switched {switches} times");
    }
    // The old primary's unit comes back later and rejoins as a replica of the promoted one.
    deployment.reconcile(&c.old_unit).unwrap();
    c.fixture.juju.model_config(&[("update-status-hook-interval", "10s")]).unwrap();
    let (primary, epoch_after) = settled(&c.fixture, &c.sentinels, &c.admin, Some(&c.current_unit));
    assert_eq!(primary, c.current);
    assert_eq!(epoch_after, promoted_epoch, "exactly one failover: the one the operator asked for");
    assert_admitted(&[&c.lagging, &c.old], &c.admin);
    c.fixture.wait_settled(c.units.len(), "after the promotion");
    finish(c.probe, &deployment, &c.admin);
}

/// Waits until every one of `replicas` has been admitted for promotion (fence lifted).
fn assert_admitted(replicas: &[&Endpoint], admin: &Credentials) {
    poll("the replicas to be promotable again", CONVERGE, || {
        for replica in replicas {
            let info = nodes::replication(replica, admin)?;
            if field(&info, "slave_priority")? == "0" {
                return Err(format!("{replica} still fenced"));
            }
        }
        Ok(())
    });
}

/// Lets writes resume, stops the probe and checks every acknowledged write is on every node.
fn finish(probe: ProbeHandle, deployment: &CharmDeployment, admin: &Credentials) {
    let acked = probe.acked();
    assert!(probe.wait_acked(acked + WRITES_PER_PHASE, CONVERGE), "writes did not resume");
    let log = probe.stop();
    common::print_probe(&log);
    verify(&log, &deployment.data_endpoints().unwrap(), admin, Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("writes lost: {e}"));
}

/// Panics if any of `replicas` has been promoted (or does not answer).
fn assert_no_promotion(replicas: &[&Endpoint], admin: &Credentials) {
    for replica in replicas {
        let info = nodes::replication(replica, admin).unwrap();
        let role = field(&info, "role").unwrap();
        assert_eq!(role, "slave", "{replica} was promoted while the up-to-date primary was down");
    }
}

/// How many bytes `replica` is behind `primary`, from the primary's `INFO replication`.
fn replica_behind(primary: &Endpoint, replica: &Endpoint, admin: &Credentials) -> u64 {
    let info = nodes::replication(primary, admin).unwrap();
    let offset = nodes::number(field(&info, "master_repl_offset").unwrap()).unwrap();
    offset.saturating_sub(nodes::replica_offset(&info, replica).unwrap())
}

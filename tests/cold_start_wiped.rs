//! Scenario (issue 15, item 1): the primary's disk comes back empty. Every process of every unit
//! is killed (supervisors first), the primary's `appendonlydir` and `dump.rdb` are deleted (a
//! replaced disk, a mistaken `rm`), and the empty old primary's unit is the first to come back.
//! Started from its file it would be an empty primary and both replicas — which hold every
//! acknowledged write — would full-sync its empty dataset. The charm must keep it down, block it
//! with a message naming `promote-replica`, keep the replicas' data, and after the operator
//! promotes the most complete replica, bring the wiped unit back as that one's replica. Every
//! write `WAIT 1` acknowledged before the stop must be on every node at the end.

mod common;

use std::time::{Duration, Instant};

use common::nodes::{self, field};
use common::settle::{settled, Baseline, CONVERGE};
use common::{poll, start_probe, unit_at, Deployed, APP};
use valkey_harness::probe::verify;
use valkey_harness::valkey::{Credentials, Endpoint};

/// Acknowledged writes awaited before the stop and after the recovery.
const WRITES_PER_PHASE: u64 = 200;

#[test]
fn a_primary_back_without_its_data_is_never_the_source_its_replicas_copy() {
    let fixture = Deployed::new("cold-wiped", 3, &[("down-after-milliseconds", "2000")]);
    let Baseline { admin, units, sentinels, primary: old, primary_unit: old_unit, .. } = fixture.baseline();
    let deployment = fixture.deployment();
    let replicas: Vec<Endpoint> = units.iter().map(|(_, a)| nodes::data(a)).filter(|n| *n != old).collect();
    let probe = start_probe(&sentinels, "cold-wiped", WRITES_PER_PHASE, CONVERGE);
    assert!(probe.wait_acked(WRITES_PER_PHASE, CONVERGE), "writes did not start");

    // Nothing restarts on its own while the test chooses the order.
    fixture.juju.model_config(&[("update-status-hook-interval", "1h")]).unwrap();
    probe.mark("kill every process of every unit");
    for (unit, _) in &units {
        deployment.kill_workload(unit).unwrap();
    }
    let acked_before_stop = probe.acked();
    println!("all processes killed; {acked_before_stop} writes acknowledged before the stop");
    let wipe = "id=$(storage-list --format=json data | tr -d '[]\" ' | cut -d, -f1) && \
                root=$(storage-get -s \"$id\" location) && rm -rf \"$root/db/appendonlydir\" \"$root/db/dump.rdb\"";
    let wiped = fixture.juju.exec(&old_unit, wipe).unwrap();
    assert_eq!(wiped.code, 0, "wiping {old_unit}'s data: {}", wiped.stderr);
    println!("{old_unit} (the primary) lost its data files");

    // The wiped old primary comes back first, then the replicas.
    deployment.reconcile(&old_unit).unwrap();
    for (unit, _) in units.iter().filter(|(u, _)| *u != old_unit) {
        deployment.reconcile(unit).unwrap();
    }
    let status = fixture.juju.status().unwrap();
    let shown = &status.unit(&old_unit).expect("old primary's unit").workload_status;
    println!("{old_unit}: {} · {}", shown.current, shown.message);
    assert_eq!(shown.current, "blocked", "{old_unit} must block: {}", shown.message);
    assert!(shown.message.contains("without its data") && shown.message.contains("promote-replica"));
    assert!(nodes::replication(&old, &admin).is_err(), "the wiped primary must stay down");
    // The replicas keep their data: each loaded its AOF and follows nobody that could empty it.
    let sizes: Vec<(Endpoint, u64)> = replicas
        .iter()
        .map(|r| {
            let (size, _) = poll("the replica to load its data", CONVERGE, || {
                let info = nodes::replication(r, &admin)?;
                assert_eq!(field(&info, "role")?, "slave", "{r} was promoted while its data is uncompared");
                nodes::query::<u64>(r, &admin, &redis::cmd("DBSIZE"))
            });
            (r.clone(), size)
        })
        .collect();
    println!("replica key counts after the restart: {sizes:?}");
    assert!(sizes.iter().all(|(_, n)| *n > 0), "a replica lost its data: {sizes:?}");

    // The operator keeps the most complete replica (the probe only adds keys, so more is newer).
    let (keep, _) = sizes.iter().max_by_key(|(_, n)| *n).unwrap().clone();
    let keep_unit = unit_at(&units, &keep);
    let started = Instant::now();
    let outcome = fixture
        .juju
        .run_action(&format!("{APP}/leader"), "promote-replica", &[("unit", &keep_unit)])
        .unwrap();
    assert!(outcome.completed(), "promote-replica failed: {outcome:?}");
    println!("promote-replica {keep_unit} took {:?}", started.elapsed());

    // The wiped unit comes back as the promoted replica's replica and copies its data.
    fixture.juju.model_config(&[("update-status-hook-interval", "10s")]).unwrap();
    poll("the wiped unit to rejoin as a replica", CONVERGE, || {
        deployment.reconcile(&old_unit).map_err(|e| e.to_string())?;
        let info = nodes::replication(&old, &admin)?;
        (field(&info, "role")? == "slave").then_some(()).ok_or_else(|| format!("{info:?}"))
    });
    let (primary, _) = settled(&fixture, &sentinels, &admin, Some(&keep_unit));
    assert_eq!(primary, keep);
    fixture.wait_settled(units.len(), "after the promotion");
    finish(probe, &fixture, &admin);
}

/// Lets writes resume, stops the probe and checks every acknowledged write is on every node.
fn finish(probe: valkey_harness::probe::ProbeHandle, fixture: &Deployed, admin: &Credentials) {
    let acked = probe.acked();
    assert!(probe.wait_acked(acked + WRITES_PER_PHASE, CONVERGE), "writes did not resume");
    let log = probe.stop();
    common::print_probe(&log);
    verify(&log, &fixture.deployment().data_endpoints().unwrap(), admin, Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("writes lost: {e}"));
}

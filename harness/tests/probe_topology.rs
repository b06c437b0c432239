//! The probe against a real 3-node Valkey + Sentinel topology: plain writes all land on every node;
//! a deleted write is caught; `kill -9` of the primary is recovered through Sentinel with every
//! WAIT-confirmed write kept and exactly one failover counted.

use std::time::{Duration, Instant};

use valkey_harness::probe::{verify, ProbeConfig, ProbeHandle};
use valkey_harness::topology::{Topology, TopologySpec};
use valkey_harness::valkey::{self, Timeouts};

fn topology() -> Topology {
    Topology::start(TopologySpec::default()).expect("topology starts")
}

#[test]
fn plain_writes_reach_every_node() {
    let topology = topology();
    let probe = ProbeHandle::start(ProbeConfig::new(topology.sentinel_set(), "plain")).unwrap();
    assert!(
        probe.wait_acked(200, Duration::from_secs(20)),
        "probe made no progress: {} acked",
        probe.acked()
    );
    let log = probe.stop();
    let report = log.report();
    assert!(report.acknowledged >= 200);
    assert_eq!(report.errors, 0, "{:?}", log.errors);
    let primary = topology.data_endpoints()[0].to_string();
    assert_eq!(report.writes_by_primary.keys().collect::<Vec<_>>(), [&primary]);
    verify(&log, &topology.data_endpoints(), &topology.admin_credentials(), Duration::from_secs(10))
        .expect("every write on every node");
}

#[test]
fn verify_reports_a_lost_write() {
    let topology = topology();
    let probe = ProbeHandle::start(ProbeConfig::new(topology.sentinel_set(), "lost")).unwrap();
    assert!(probe.wait_acked(20, Duration::from_secs(20)));
    let log = probe.stop();
    let victim = log.acks[5].seq;
    let primary = &topology.data_endpoints()[0];
    let mut connection =
        valkey::connect(primary, &topology.admin_credentials(), Timeouts::default()).unwrap();
    let deleted: i64 = redis::cmd("DEL").arg(log.key(victim)).query(&mut connection).unwrap();
    assert_eq!(deleted, 1);
    let error =
        verify(&log, &topology.data_endpoints(), &topology.admin_credentials(), Duration::from_millis(500))
            .expect_err("a deleted write must be reported");
    assert_eq!(error.checks.len(), 3, "{error}");
    assert!(error.checks.iter().all(|c| c.missing == [victim]), "{error}");
}

#[test]
fn kill_primary_is_recovered_through_sentinel_without_losing_confirmed_writes() {
    let mut topology = topology();
    let sentinels = topology.sentinel_set();
    let epoch_before = sentinels.max_config_epoch().unwrap();
    let old_primary = sentinels.resolve_primary().unwrap();
    let mut config = ProbeConfig::new(sentinels.clone(), "failover");
    config.wait_replicas = Some(1);
    let probe = ProbeHandle::start(config).unwrap();
    assert!(probe.wait_acked(100, Duration::from_secs(20)), "no progress before the fault");

    let fault_at = probe.mark("kill -9 primary");
    let acked_at_fault = probe.acked();
    topology.kill_node(topology.node_index(&old_primary).unwrap()).unwrap();

    // Recovered = 100 more acknowledged writes after the fault, and the Sentinels agree.
    assert!(
        probe.wait_acked(acked_at_fault + 100, Duration::from_secs(30)),
        "writes did not come back after the fault: {} errors",
        probe.errors()
    );
    let started = Instant::now();
    let agreed = sentinels.wait_agreement(Duration::from_secs(30)).unwrap();
    let log = probe.stop();
    let report = log.report();

    assert_ne!(agreed.primary, old_primary);
    assert_eq!(agreed.config_epoch, epoch_before + 1, "exactly one failover per fault");
    let window = report.window_after(fault_at).expect("the fault caused an unavailability window");
    assert!(window.recovered);
    assert!(window.length() > Duration::from_secs(1), "down-after is 2 s, yet {window:?}");
    assert_eq!(report.writes_by_primary.len(), 2, "{:?}", report.writes_by_primary);
    assert!(report.writes_by_primary.contains_key(&agreed.primary.to_string()));
    verify(&log, &topology.live_data_endpoints(), &topology.admin_credentials(), Duration::from_secs(15))
        .expect("every WAIT-confirmed write survived the failover");
    assert!(started.elapsed() < Duration::from_secs(60));
}

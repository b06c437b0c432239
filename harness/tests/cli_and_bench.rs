//! The `probe` binary and the raw benchmark substrate against a real topology.

use std::process::Command;

use valkey_harness::bench::{run_bench, RawSubstrate, Scenario, Substrate, SubstrateKind};
use valkey_harness::topology::{Topology, TopologySpec};

#[test]
fn probe_binary_writes_and_verifies_through_sentinel() {
    let topology = Topology::start(TopologySpec::default()).unwrap();
    let admin = topology.admin_credentials();
    let sentinel_auth = topology.sentinel_credentials();
    let mut command = Command::new(env!("CARGO_BIN_EXE_probe"));
    for sentinel in topology.sentinel_endpoints() {
        command.args(["--sentinel", &sentinel.to_string()]);
    }
    for node in topology.data_endpoints() {
        command.args(["--verify", &node.to_string()]);
    }
    let output = command
        .args([
            "--user",
            "admin",
            "--sentinel-user",
            "admin",
            "--duration",
            "1s",
            "--wait-replicas",
            "1",
            "--json",
        ])
        .env("VALKEY_PASSWORD", admin.password.unwrap())
        .env("VALKEY_SENTINEL_PASSWORD", sentinel_auth.password.unwrap())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "probe failed: {stderr}");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(json["report"]["acknowledged"].as_u64().unwrap() > 10, "{json}");
    assert_eq!(json["report"]["errors"], 0, "{json}");
    assert_eq!(json["consistency"], "ok", "{json}");
}

#[test]
fn probe_binary_refuses_a_user_without_password() {
    let output = Command::new(env!("CARGO_BIN_EXE_probe"))
        .args(["--sentinel", "127.0.0.1:1", "--user", "admin"])
        .env_remove("VALKEY_PASSWORD")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("VALKEY_PASSWORD"), "{stderr}");
}

#[test]
fn coordinated_switchover_loses_nothing_and_counts_one_failover() {
    let mut substrate = RawSubstrate { warmup_acks: 100, recovery_acks: 100, ..RawSubstrate::default() };
    assert_eq!(substrate.kind(), SubstrateKind::Raw);
    let result = run_bench(&mut substrate, Scenario::Switchover, 1, |_, _| {}).unwrap();
    let run = &result.runs[0];
    let writes = run.writes.as_ref().expect("a switchover measures writes");
    assert_eq!(writes.lost_acknowledged, 0, "{run:?}");
    assert_eq!(writes.epoch_increments, 1, "{run:?}");
    assert!(run.timeline.iter().any(|(name, _)| name == "+switch-master"), "{run:?}");
    assert_eq!(result.summary[1].metric, "acknowledged writes lost");
}

#[test]
fn charm_scenarios_are_refused_on_the_raw_substrate() {
    for scenario in [Scenario::AddUnit, Scenario::Dispatch, Scenario::Deploy] {
        let error = RawSubstrate::default().run_once(scenario, 1).unwrap_err().to_string();
        assert!(error.contains("not available on the Raw substrate"), "{scenario:?}: {error}");
    }
}

#[test]
fn local_substrate_reports_a_missing_charm_clearly() {
    let mut local = valkey_harness::bench::LocalSubstrate::new("/nonexistent/charm".into(), 3);
    let error = local.run_once(Scenario::Dispatch, 1).unwrap_err().to_string();
    assert!(error.contains("/nonexistent/charm"), "{error}");
}

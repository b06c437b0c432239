//! The dispatch and deploy benchmarks' moving parts against real processes: HA readiness on a
//! real Valkey/Sentinel topology, and update-status hooks timed by the real `juju-local` agent for
//! a stand-in shell charm (needs `juju-local` and `jujuc` built, as `juju_local_smoke`).

use std::path::Path;
use std::time::Duration;

use valkey_harness::bench::ready::wait_ha_ready;
use valkey_harness::bench::{LocalSubstrate, Scenario, Substrate};
use valkey_harness::topology::{Topology, TopologySpec};

#[test]
fn ha_ready_accepts_a_settled_topology_and_names_what_is_missing() {
    let topology = Topology::start(TopologySpec::default()).unwrap();
    let set = topology.sentinel_set();
    let nodes = topology.data_endpoints();
    wait_ha_ready(&set, &nodes, Duration::from_secs(60)).unwrap();

    let error = wait_ha_ready(&set, &nodes[..2], Duration::from_millis(200)).unwrap_err();
    assert!(error.contains("3 of 2 Sentinels and 2 data nodes"), "{error}");
}

const DISPATCH: &str = r#"#!/bin/sh
case "$JUJU_DISPATCH_PATH" in
  hooks/start) status-set active ready ;;
  hooks/update-status) is-leader >/dev/null ;;
esac
exit 0
"#;

fn write_charm(dir: &Path) {
    std::fs::write(dir.join("metadata.yaml"), "name: stand-in\nsummary: s\ndescription: d\n").unwrap();
    let dispatch = dir.join("dispatch");
    std::fs::write(&dispatch, DISPATCH).unwrap();
    std::fs::set_permissions(&dispatch, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}

#[test]
fn dispatch_scenario_reads_the_agents_update_status_timings() {
    let charm = tempfile::tempdir().unwrap();
    write_charm(charm.path());
    let mut local = LocalSubstrate::new(charm.path().to_path_buf(), 1);
    local.app = "stand-in".into();
    local.hook_samples = 4;
    local.hook_interval = "200ms".into();
    local.active_timeout = Duration::from_secs(60);
    let run = local.run_once(Scenario::Dispatch, 1).unwrap();

    assert_eq!(run.hooks.len(), 4, "{run:?}");
    for hook in &run.hooks {
        assert_eq!(hook.unit, "stand-in/0");
        assert!(hook.wall > Duration::ZERO && hook.wall < Duration::from_secs(10), "{hook:?}");
        assert!(hook.max_rss_kib > 0, "{hook:?}");
    }
    assert!(run.operation.is_some_and(|d| d > Duration::ZERO), "timed ./dispatch runs: {run:?}");
    assert!(run.deploy_to_active.is_some());
    assert_eq!(run.hook_tool_calls, [("is-leader".to_string(), 1)], "the wrapped tools count calls");
}

//! `CharmDeployment` against `juju-local` with a stand-in shell charm that answers `get-password`
//! and `get-primary` the way the Valkey charm does: checks the action results are read and the
//! Sentinel/data addresses come from `juju status`.

use std::path::Path;
use std::time::Duration;

use valkey_harness::deployment::{CharmDeployment, DeploymentError, SENTINEL_PORT, VALKEY_PORT};
use valkey_harness::juju::Juju;
use valkey_harness::valkey::Endpoint;

const DISPATCH: &str = r#"#!/bin/sh
case "$JUJU_DISPATCH_PATH" in
  hooks/start) status-set active ready ;;
  actions/get-password) action-set username=charm-admin password=s3cret ;;
  actions/get-primary) action-set unit=stand-in/1 host=127.9.9.9 port=6379 monitor-name=primary ;;
  actions/broken) action-fail "no primary known" ;;
esac
exit 0
"#;

fn write_charm(dir: &Path) {
    std::fs::write(dir.join("metadata.yaml"), "name: stand-in\nsummary: s\ndescription: d\n").unwrap();
    std::fs::write(dir.join("config.yaml"), "options: {}\n").unwrap();
    std::fs::write(
        dir.join("actions.yaml"),
        "get-password:\n  description: p\nget-primary:\n  description: p\nbroken:\n  description: b\n",
    )
    .unwrap();
    let dispatch = dir.join("dispatch");
    std::fs::write(&dispatch, DISPATCH).unwrap();
    std::fs::set_permissions(&dispatch, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}

#[test]
fn actions_and_status_become_credentials_primary_and_addresses() {
    let charm = tempfile::tempdir().unwrap();
    write_charm(charm.path());
    let mut juju = Juju::from_env().expect("juju-local is built beside the tests");
    juju.poll_interval = Duration::from_millis(100);
    juju.add_model("deployment").unwrap();
    juju.deploy(charm.path(), "stand-in", 2, &[], &[]).unwrap();
    let status = juju.wait_idle_active("stand-in", 2, Duration::from_secs(60)).unwrap();
    let deployment = CharmDeployment::new(&juju, "stand-in");

    let credentials = deployment.credentials().unwrap();
    assert_eq!(credentials.username.as_deref(), Some("charm-admin"));
    assert_eq!(credentials.password.as_deref(), Some("s3cret"));
    let primary = deployment.primary().unwrap();
    assert_eq!(primary.unit, "stand-in/1");
    assert_eq!(primary.endpoint, Endpoint::new("127.9.9.9", 6379));

    let addresses: Vec<String> =
        status.units("stand-in").iter().map(|(_, u)| u.public_address.clone().unwrap()).collect();
    let data: Vec<Endpoint> = addresses.iter().map(|a| Endpoint::new(a.clone(), VALKEY_PORT)).collect();
    assert_eq!(deployment.data_endpoints().unwrap(), data);
    let sentinels = deployment.sentinel_set(&credentials).unwrap();
    let expected: Vec<Endpoint> = addresses.iter().map(|a| Endpoint::new(a.clone(), SENTINEL_PORT)).collect();
    assert_eq!(sentinels.sentinels, expected);
    assert_eq!(sentinels.monitor, "primary");

    let broken = juju.run_action("stand-in/0", "broken", &[]).unwrap();
    assert_eq!(broken.message.as_deref(), Some("no primary known"));
    let missing = CharmDeployment::new(&juju, "absent").data_endpoints().unwrap();
    assert!(missing.is_empty(), "an absent application has no units");
    let error = CharmDeployment::new(&juju, "absent").credentials().unwrap_err();
    assert!(matches!(error, DeploymentError::Juju(_)), "{error}");
}

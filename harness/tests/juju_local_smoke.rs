//! The driver against the real `juju-local` (found beside this test executable, as scenarios find
//! it) with the local model's shell test charm: every driver method once, checked by its effect.
//! Needs `juju-local` and `jujuc` built (`cargo build -p juju-local`; a workspace build does it).

use std::path::Path;
use std::time::Duration;

use valkey_harness::juju::Juju;

const APP: &str = "tc";

fn test_charm() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../local-model/tests/fixtures/test-charm"))
}

#[test]
fn driver_runs_every_call_against_juju_local() {
    let mut juju = Juju::from_env().expect("juju-local is built beside the tests");
    juju.poll_interval = Duration::from_millis(100);
    juju.add_model("smoke").unwrap();
    juju.model_config(&[("update-status-hook-interval", "1m"), ("hook-retry-delay", "200ms")]).unwrap();
    juju.deploy(test_charm(), APP, 2, &[("greeting", "hi")], &[]).unwrap();
    let status = juju.wait_idle_active(APP, 2, Duration::from_secs(60)).unwrap();
    assert_eq!(status.leader(APP), Some("tc/0"));
    assert_eq!(status.units(APP)[1].1.workload_status.message, "unit ready");

    assert_eq!(juju.config_get(APP).unwrap().get("greeting"), Some(&serde_json::json!("hi")));
    juju.config_set(APP, &[("greeting", "yo")]).unwrap();
    assert_eq!(juju.config_get(APP).unwrap().get("greeting"), Some(&serde_json::json!("yo")));

    let echoed = juju.run_action("tc/leader", "echo", &[("text", "hello"), ("times", "2")]).unwrap();
    assert!(echoed.completed(), "{echoed:?}");
    assert_eq!(echoed.unit, "tc/0");
    assert_eq!(echoed.result("echoed").as_deref(), Some("hello"));
    let failed = juju.run_action("tc/1", "fail", &[]).unwrap();
    assert_eq!(failed.status, "failed");
    assert_eq!(failed.message.as_deref(), Some("asked to fail"));

    let exec = juju.exec("tc/1", "echo \"$JUJU_UNIT_NAME\"; echo oops >&2; exit 3").unwrap();
    assert_eq!((exec.code, exec.stdout.as_str(), exec.stderr.as_str()), (3, "tc/1\n", "oops\n"));

    juju.scale_application(APP, 3).unwrap();
    juju.wait_idle_active(APP, 3, Duration::from_secs(60)).unwrap();
    juju.scale_application(APP, 1).unwrap();
    let status = juju.wait_idle_active(APP, 1, Duration::from_secs(60)).unwrap();
    assert_eq!(status.units(APP)[0].0, "tc/0", "the highest-numbered units go first");
    juju.add_unit(APP, 1).unwrap();
    juju.wait_idle_active(APP, 2, Duration::from_secs(60)).unwrap();
    juju.remove_unit(&["tc/3"], true).unwrap();
    juju.wait_idle_active(APP, 1, Duration::from_secs(60)).unwrap();
    assert!(juju.debug_log().unwrap().contains("tc/0"));

    juju.destroy_model().unwrap();
    assert!(juju.status().is_err(), "the model is gone");
}

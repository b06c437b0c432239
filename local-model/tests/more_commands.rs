//! The remaining commands: scale-application, refresh, attach-resource, exec on several units,
//! debug-log, models and status output shapes.

mod common;

use common::{test_charm, TestModel};

#[test]
fn scale_refresh_and_resources() {
    let m = TestModel::deployed("scale", 1);
    m.ok(&["scale-application", "test-charm", "3"]);
    m.ok(&[
        "wait",
        "--timeout",
        "60s",
        "--units",
        "3",
        "--workload",
        "active",
        "--message-regex",
        "^unit ready$",
    ]);
    m.ok(&["scale-application", "test-charm", "2"]);
    m.ok(&["wait", "--timeout", "60s", "--units", "2"]);
    assert!(!m.state().units.contains_key("test-charm/2"), "the highest-numbered unit goes first");

    // refresh: a changed charm copy reaches every unit, then upgrade-charm and config-changed run.
    let new = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", test_charm().display()))
        .arg(new.path())
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::write(new.path().join("VERSION"), "2\n").unwrap();
    m.clear_events();
    m.ok(&["refresh", "test-charm", "--path", new.path().to_str().unwrap()]);
    m.wait();
    for n in 0..2 {
        let unit = format!("test-charm/{n}");
        assert_eq!(m.events_of(&unit)[..2], ["upgrade-charm", "config-changed"]);
        assert_eq!(m.exec(&unit, "cat VERSION"), "2");
    }
    assert_eq!(m.state().applications["test-charm"].charm_revision, 1);

    // attach-resource: resource-get then prints the model's copy.
    let file = new.path().join("payload.txt");
    std::fs::write(&file, "payload\n").unwrap();
    let spec = format!("payload={}", file.display());
    m.ok(&["attach-resource", "test-charm", &spec]);
    m.wait();
    let path = m.exec("test-charm/0", "resource-get payload");
    assert_eq!(std::fs::read_to_string(path).unwrap(), "payload\n");
    assert!(m.fails(&["attach-resource", "test-charm", "nosuch=/etc/hostname"]).contains("no resource"));
}

#[test]
fn exec_debug_log_models_and_status_shapes() {
    let m = TestModel::deployed("shapes", 2);
    let out = m.ok(&[
        "exec",
        "--unit",
        "test-charm/0",
        "--unit",
        "test-charm/1",
        "--format",
        "json",
        "--",
        "echo",
        "$JUJU_UNIT_NAME",
    ]);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    for n in 0..2 {
        let unit = format!("test-charm/{n}");
        assert_eq!(doc[&unit]["results"]["stdout"], format!("{unit}\n"));
        assert_eq!(doc[&unit]["results"]["return-code"], 0);
        assert_eq!(doc[&unit]["status"], "completed");
    }
    let failed = m.juju(&["exec", "--unit", "test-charm/0", "--", "echo out; echo err >&2; exit 3"]);
    assert_eq!(failed.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&failed.stdout), "out\n");
    let stderr = String::from_utf8_lossy(&failed.stderr);
    // Juju's text (cmd/juju/action/common.go, processOperationResults).
    assert!(stderr.starts_with("err\nERROR the following task failed:\n - id "), "{stderr}");
    assert!(
        stderr.contains("with return code 3\n\nuse 'juju show-task' to inspect the failure\n"),
        "{stderr}"
    );
    let json = m.juju(&["exec", "--unit", "test-charm/0", "--format", "json", "--", "exit 3"]);
    assert_eq!(json.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["test-charm/0"]["status"], "completed", "juju: a command that ran is completed");
    assert_eq!(doc["test-charm/0"]["results"]["return-code"], 3);

    let out = m.ok(&["run", "test-charm/0", "test-charm/1", "echo", "text=both", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    for n in 0..2 {
        assert_eq!(doc[format!("test-charm/{n}")]["results"]["echoed"], "both");
    }

    let log = m.ok(&["debug-log", "--replay", "--no-tail", "--include", "test-charm/1"]);
    assert!(log.lines().all(|l| l.split(' ').nth(1) == Some("test-charm/1")), "{log}");
    assert!(log.contains("DEBUG start: running start"), "{log}");
    assert_eq!(m.ok(&["debug-log", "--no-tail", "-n", "3"]).lines().count(), 3);

    assert!(m.ok(&["models"]).contains("shapes"));

    let doc: serde_json::Value = serde_json::from_str(&m.ok(&["status", "--format", "json"])).unwrap();
    let app = &doc["applications"]["test-charm"];
    // A local charm is named by its URL (cmd/juju/status/formatter.go, formatApplication).
    assert_eq!(app["charm"], "local:test-charm-0");
    assert_eq!(app["charm-name"], "test-charm");
    assert_eq!(app["relations"]["cluster"][0]["interface"], "test-cluster");
    assert_eq!(doc["storage"]["storage"]["data/1"]["attachments"]["units"]["test-charm/1"]["machine"], "1");
    assert_eq!(app["charm-rev"], 0);
    assert_eq!(app["application-status"]["current"], "active");
    let unit = &app["units"]["test-charm/1"];
    assert_eq!(unit["workload-status"]["current"], "active");
    assert_eq!(unit["workload-status"]["message"], "unit ready");
    assert_eq!(unit["juju-status"]["current"], "idle");
    assert_eq!(unit["machine"], "1");
    let addr = m.state().units["test-charm/1"].address.to_string();
    assert_eq!(unit["public-address"], addr);
    assert_eq!(doc["model"]["name"], "shapes");
    let yaml: serde_json::Value = serde_yaml::from_str(&m.ok(&["status", "--format", "yaml"])).unwrap();
    assert_eq!(yaml["applications"]["test-charm"]["units"]["test-charm/0"]["leader"], true);
    let one: serde_json::Value =
        serde_json::from_str(&m.ok(&["status", "--format=json", "test-charm/1"])).unwrap();
    let units = one["applications"]["test-charm"]["units"].as_object().unwrap();
    assert_eq!(units.keys().collect::<Vec<_>>(), ["test-charm/1"]);
    let table = m.ok(&["status"]);
    assert!(
        table.lines().any(|l| l.starts_with("test-charm/0*") && l.contains("active") && l.contains("idle")),
        "{table}"
    );
}

#[test]
fn config_file_second_application_and_forced_removal() {
    let m = TestModel::deployed("forced", 1);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.yaml");
    std::fs::write(&file, "other:\n  workers: 7\n  verbose: true\n").unwrap();
    let charm = test_charm();
    m.ok(&[
        "deploy",
        charm.to_str().unwrap(),
        "other",
        "--config",
        file.to_str().unwrap(),
        "--config",
        "greeting=yo",
    ]);
    m.wait();
    assert_eq!(m.ok(&["config", "other", "workers"]).trim(), "7");
    assert_eq!(m.exec("other/0", "config-get greeting"), "yo");
    assert_eq!(m.exec("test-charm/0", "config-get greeting"), "hello", "config is per application");
    let state = m.state();
    assert_eq!(state.units["other/0"].machine, 1, "machine numbers are model-wide");
    let uuid = state.uuid;
    assert_eq!(juju_local::model::processes::find(&uuid, Some("other/0"), None).len(), 1);
    m.clear_events();
    m.ok(&["remove-unit", "other/0", "--force", "--no-wait"]);
    assert!(!m.state().units.contains_key("other/0"), "forced removal without waiting is immediate");
    assert!(juju_local::model::processes::find(&uuid, Some("other/0"), None).is_empty());
    assert!(m.events_of("other/0").is_empty(), "no hooks run on a force-removed unit");
    assert_eq!(juju_local::model::processes::find(&uuid, Some("test-charm/0"), None).len(), 1);
}

#[test]
fn update_status_runs_on_every_idle_unit_at_the_interval() {
    let m = TestModel::deployed("updstatus", 2);
    m.ok(&["model-config", "update-status-hook-interval=300ms"]);
    assert_eq!(m.ok(&["model-config", "update-status-hook-interval"]).trim(), "300ms");
    let count =
        |unit: &str| m.events().iter().filter(|e| e.unit == unit && e.path == "hooks/update-status").count();
    common::eventually(std::time::Duration::from_secs(20), "two update-status per unit", || {
        (count("test-charm/0") >= 2 && count("test-charm/1") >= 2).then_some(())
    });
    m.ok(&["model-config", "--reset", "update-status-hook-interval"]);
    assert_eq!(m.ok(&["model-config", "update-status-hook-interval"]).trim(), "5m0s");
}

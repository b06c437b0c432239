//! Bad input gets a one-line `ERROR ...`, a non-zero exit and leaves the model as it was.

mod common;

use common::{test_charm, TestModel};

/// What Juju 3.6 answers when no task of a `run`/`exec` could be scheduled (unknown unit or
/// action, parameters the schema refuses): the reasons on stderr, nothing on stdout, exit 0
/// (`cmd/juju/action/common.go`, processOperationResults); jubilant raises `ValueError` on it.
fn not_scheduled(m: &TestModel, args: &[&str]) -> String {
    let out = m.juju(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "", "{args:?}");
    assert!(
        stderr.starts_with("Operation ") && stderr.contains(" failed to schedule any tasks:\n"),
        "{stderr}"
    );
    stderr
}

#[test]
fn action_params_are_validated_against_actions_yaml() {
    let m = TestModel::deployed("params", 1);
    let before = m.state().operations.len();
    let cases = [
        (vec!["nope"], "action \"nope\" not defined"),
        (vec!["echo", "text=1"], "\"text\": expected string, given integer"),
        (vec!["echo", "times=2"], "\"text\" is required"),
        (vec!["echo", "text=a", "extra=1"], "additional property \"extra\" is not allowed"),
        (vec!["echo", "text=a", "times=0"], "\"times\": must be >= 1"),
        (vec!["echo", "text=a", "mode=quiet"], "\"mode\": must be one of"),
        (vec!["echo", "text"], "key=value"),
    ];
    for (args, want) in cases {
        let mut full = vec!["run", "test-charm/0"];
        full.extend(args.iter().copied());
        // A malformed argument is refused by the command itself; the rest by the scheduling.
        let err = if want == "key=value" { m.fails(&full) } else { not_scheduled(&m, &full) };
        assert!(err.contains(want), "{args:?}: {err}");
    }
    assert_eq!(m.state().operations.len(), before, "a rejected action must not be queued");
    let out = m.ok(&["run", "test-charm/leader", "echo", "text=hi", "times=3", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let task = &doc["test-charm/0"];
    assert_eq!(task["status"], "completed");
    assert_eq!(task["results"]["echoed"], "hi");
    assert_eq!(task["results"]["times"], "3");
    assert_eq!(task["results"]["return-code"], 0);
    assert_eq!(task["log"][0], "echoed hi");
    // As in juju, action-fail is reported in the record, not in the exit code.
    let failed = m.juju(&["run", "test-charm/0", "fail", "--format", "json"]);
    assert_eq!(failed.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&failed.stdout).unwrap();
    assert_eq!(doc["test-charm/0"]["status"], "failed");
    assert_eq!(doc["test-charm/0"]["message"], "asked to fail");
    assert_eq!(
        m.state().units["test-charm/0"].agent_status.status,
        "idle",
        "a failed action is no hook error"
    );
    let plain = m.juju(&["run", "test-charm/0", "fail"]);
    assert!(String::from_utf8_lossy(&plain.stdout).starts_with("Action id "), "{plain:?}");
    assert!(String::from_utf8_lossy(&plain.stdout).contains("failed: asked to fail"));
    let plain = m.ok(&["run", "test-charm/0", "echo", "text=x"]);
    assert!(plain.starts_with("echoed: x\n"), "{plain}");
}

#[test]
fn missing_units_apps_and_double_removal_are_refused() {
    let m = TestModel::deployed("missing", 2);
    assert!(not_scheduled(&m, &["run", "test-charm/7", "echo", "text=a"])
        .contains("unit \"test-charm/7\" not found"));
    assert!(not_scheduled(&m, &["exec", "--unit", "test-charm/7", "--", "true"]).contains("not found"));
    assert!(m.state().operations.is_empty(), "nothing was queued");
    assert!(m.fails(&["add-unit", "nosuch"]).contains("application \"nosuch\" not found"));
    assert!(m.fails(&["remove-unit", "test-charm/9"]).contains("unit \"test-charm/9\" not found"));
    m.ok(&["remove-unit", "test-charm/1"]);
    let again = m.juju(&["remove-unit", "test-charm/1"]);
    assert!(!again.status.success());
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("already being removed") || err.contains("not found"), "{err}");
    m.ok(&["wait", "--timeout", "60s", "--units", "1"]);
    assert!(m.fails(&["remove-unit", "test-charm/1"]).contains("not found"));
    assert_eq!(m.state().units.len(), 1);
}

#[test]
fn bad_charm_config_and_commands_leave_state_intact() {
    let m = TestModel::deployed("badinput", 1);
    let before = m.state();
    let empty = tempfile::tempdir().unwrap();
    assert!(m.fails(&["deploy", empty.path().to_str().unwrap(), "other"]).contains("metadata.yaml"));
    assert!(m.fails(&["config", "test-charm", "workers=many"]).contains("expected int"));
    assert!(m.fails(&["config", "test-charm", "verbose=perhaps"]).contains("expected boolean"));
    assert!(m.fails(&["config", "test-charm", "nosuch=1"]).contains("unknown option \"nosuch\""));
    assert!(m.fails(&["model-config", "update-status-hook-interval=soon"]).contains("invalid duration"));
    assert!(m.fails(&["model-config", "nosuch=1s"]).contains("unknown model config key"));
    let charm = test_charm();
    assert!(m.fails(&["deploy", charm.to_str().unwrap(), "--config", "workers=x"]).contains("expected int"));
    assert!(m.fails(&["deploy", charm.to_str().unwrap()]).contains("already exists"));
    assert!(m.fails(&["frobnicate"]).starts_with("ERROR "));
    assert!(m.fails(&["status", "--bogus"]).starts_with("ERROR "));
    assert!(m.fails(&["-m", "nosuch", "status"]).contains("model \"nosuch\" not found"));
    let after = m.state();
    assert_eq!(after.applications, before.applications);
    assert_eq!(after.units.keys().collect::<Vec<_>>(), before.units.keys().collect::<Vec<_>>());
    m.ok(&["config", "test-charm", "workers=5", "verbose=true"]);
    assert_eq!(m.exec("test-charm/0", "config-get workers"), "5");
}

#[test]
fn corrupt_state_gives_a_clear_error_and_is_left_intact() {
    let m = TestModel::deployed("corrupt", 1);
    let path = m.dir().join("state.json");
    let good = std::fs::read(&path).unwrap();
    std::fs::write(&path, b"{ not json").unwrap();
    let err = m.fails(&["status"]);
    assert!(err.contains("corrupt") && err.contains("state.json"), "{err}");
    m.fails(&["config", "test-charm", "greeting=x"]);
    assert_eq!(std::fs::read(&path).unwrap(), b"{ not json");
    std::fs::write(&path, good).unwrap();
    m.ok(&["status"]);
}

//! `add-model` and `switch` make a model current, as in juju: commands without `-m` (and without
//! `JUJU_MODEL`) then act on it.

mod common;

use common::JUJU_LOCAL;
use std::process::Command;

fn juju_without_model(home: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(JUJU_LOCAL)
        .args(args)
        .env("JUJU_LOCAL_HOME", home)
        .env_remove("JUJU_MODEL")
        .env("JUJU_LOCAL_OWNER_PID", std::process::id().to_string())
        .output()
        .expect("run juju-local")
}

#[test]
fn add_model_and_switch_choose_the_current_model() {
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = juju_without_model(home.path(), args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    run(&["add-model", "first"]);
    run(&["add-model", "second"]);
    let status: serde_json::Value = serde_json::from_str(&run(&["status", "--format", "json"])).unwrap();
    assert_eq!(status["model"]["name"], "second", "{status}");

    run(&["switch", "first"]);
    let status: serde_json::Value = serde_json::from_str(&run(&["status", "--format", "json"])).unwrap();
    assert_eq!(status["model"]["name"], "first", "{status}");

    let out = juju_without_model(home.path(), &["switch", "missing"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("model \"missing\" not found"));

    run(&["destroy-model", "first", "--no-prompt"]);
    run(&["destroy-model", "second", "--no-prompt"]);
}

//! The alert rules under `promtool` (Debian's `prometheus` package): the rules exactly as the
//! charm ships them over `cos-agent` (topology injected by `valkey_charm::cos::rules`) pass
//! `promtool check rules`, and every case in `tests/alert_rules/*_test.yaml` passes
//! `promtool test rules` — each alert fires on its fault, and a healthy deployment fires nothing.
//!
//! Without promtool this test fails in CI (`CI` set) and says why; elsewhere it says it skipped.

// The test seam: runs promtool.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::process::Command;
use valkey_charm::cos::{rules, Topology};

/// The topology the test files' series carry.
fn topology() -> Topology {
    Topology {
        model: "test".into(),
        model_uuid: "00000000-0000-4000-8000-000000000000".into(),
        application: "valkey".into(),
        charm: "valkey".into(),
    }
}

/// promtool, if installed.
fn promtool() -> Option<PathBuf> {
    let found = Command::new("promtool").arg("--version").output().is_ok_and(|o| o.status.success());
    found.then(|| PathBuf::from("promtool"))
}

fn run(promtool: &Path, dir: &Path, args: &[&str]) -> String {
    let out = Command::new(promtool).args(args).current_dir(dir).output().expect("run promtool");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "promtool {} failed:\n{text}", args.join(" "));
    text
}

#[test]
fn shipped_rules_pass_promtool_check_and_every_test_case() {
    let Some(promtool) = promtool() else {
        let why =
            "promtool not found: `apt-get install prometheus` (scripts/setup does) to test the alert rules";
        assert!(std::env::var_os("CI").is_none(), "{why}");
        eprintln!("skipped: {why}");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let rendered = rules::alert_rules(&topology()).expect("rules render");
    // JSON is YAML: promtool reads the very structure the relation carries.
    std::fs::write(dir.path().join("valkey.rules.rendered.yaml"), rendered.to_string()).unwrap();
    let checked = run(&promtool, dir.path(), &["check", "rules", "valkey.rules.rendered.yaml"]);
    let count = rendered["groups"][0]["rules"].as_array().unwrap().len();
    assert!(checked.contains(&format!("SUCCESS: {count} rules found")), "{checked}");

    let cases_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/alert_rules");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&cases_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with("_test.yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no test files in {}", cases_dir.display());
    let mut tested = String::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        std::fs::copy(file, dir.path().join(&name)).unwrap();
        let out = run(&promtool, dir.path(), &["test", "rules", &name]);
        println!("{name}: {}", out.trim());
        tested.push_str(&std::fs::read_to_string(file).unwrap());
    }
    // Every alert the charm ships has at least one case in which it fires.
    for rule in rendered["groups"][0]["rules"].as_array().unwrap() {
        let alert = rule["alert"].as_str().unwrap();
        let fires = tested
            .split("- eval_time:")
            .any(|case| case.contains(&format!("alertname: {alert}\n")) && case.contains("exp_labels:"));
        assert!(fires, "no promtool case in which {alert} fires");
    }
}

//! Hook-tool conformance with Canonical's typed wrapper `ops.hookcmds` (PyPI `ops` 3.x): every
//! function it offers is called from inside a unit (an action of the test charm runs
//! `tests/hookcmds_conformance.py` with the venv's Python) and must work as on Juju 3.6 —
//! including `state-set --file -` from stdin, `goal-state`
//! (`apiserver/facades/agent/uniter/goal-state.go`) and `relation-model-get` — or, for the tools
//! juju-local does not model (storage-add, juju-reboot, credential-get), fail with a clear
//! `ERROR` line. The held-back changes the script made are then checked in the model.
//!
//! Needs the venv `scripts/setup` makes in `.cache/pyenv`; without it the test prints
//! `skipped: ...` and returns.

mod common;

use common::{pyenv_python, test_charm, TestModel};
use std::path::Path;

#[test]
fn every_ops_hookcmds_function_works_inside_a_unit() {
    let Some(python) = pyenv_python() else {
        println!("skipped: no .cache/pyenv (run scripts/setup to install jubilant and ops)");
        eprintln!("skipped: no .cache/pyenv (run scripts/setup to install jubilant and ops)");
        return;
    };
    let m = TestModel::new("hookcmds");
    let payload = m.home.path().join("payload.txt");
    std::fs::write(&payload, "payload-data\n").unwrap();
    let resource = format!("payload={}", payload.display());
    m.ok(&["deploy", test_charm().to_str().unwrap(), "-n", "2", "--resource", &resource]);
    m.wait();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hookcmds_conformance.py");
    let out = m.ok(&[
        "run",
        "test-charm/0",
        "hookcmds",
        &format!("python={}", python.display()),
        &format!("script={}", script.display()),
        "unit=test-charm/0",
        "peer=test-charm/1",
        "--format",
        "json",
    ]);
    let doc: serde_json::Value = serde_json::from_str(&out).expect("run --format json");
    let task = &doc["test-charm/0"];
    let report = task["results"]["stdout"].as_str().unwrap_or_default();
    let failures: Vec<&str> = report.lines().filter(|l| l.starts_with("FAIL ")).collect();
    let covered: usize = report
        .lines()
        .find_map(|l| l.strip_prefix("covered "))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no coverage line:\n{report}\n{}", task["results"]["stderr"]));
    assert!(failures.is_empty(), "ops.hookcmds failures:\n{report}\n{task}");
    assert!(covered >= 37, "ops 3.9 has 37 hookcmds functions, saw {covered}");
    assert_eq!(report.lines().filter(|l| l.starts_with("ok ")).count(), covered);
    assert_eq!(
        (task["status"].as_str(), task["message"].as_str()),
        (Some("failed"), Some("conformance done"))
    );
    assert_eq!(task["results"]["plain"], "x");
    assert_eq!(task["results"]["outcome"]["nested"], "yes", "action-set keys nest on dots");

    // The action exited 0, so its held-back changes were committed.
    let state = m.state();
    let unit = &state.units["test-charm/0"];
    assert_eq!(unit.state.get("beta").map(String::as_str), Some("two words"), "state-set --file -");
    assert!(!unit.state.contains_key("alpha"), "state-delete");
    assert!(unit.opened_ports.is_empty(), "open-port then close-port");
    let rel = state.relations.values().next().expect("peer relation");
    assert_eq!(rel.unit_bags["test-charm/0"].get("conformance").map(String::as_str), Some("set"));
    assert!(state.secrets.is_empty(), "secret-remove removed the only secret: {:?}", state.secrets.keys());
    let app = &state.applications["test-charm"];
    assert_eq!((app.workload_version.as_str(), app.status.message.as_str()), ("1.2.3", "app ok"));
}

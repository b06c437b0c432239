//! A charm author's integration test written with Canonical's `jubilant` (PyPI), run against
//! juju-local through `jubilant.Juju(cli_binary=...)`: `tests/jubilant_scenario.py` adds a model,
//! deploys the test charm with two units, reads and changes config and model-config, runs actions
//! (and the unknown unit, unknown action and bad parameter cases jubilant turns into
//! `ValueError`, as on Juju 3.6: `cmd/juju/action/common.go`), execs, checks the status fields
//! jubilant's dataclasses parse, show-unit, show-model, version, adds and removes a unit, reads
//! debug-log, removes the application and destroys the model.
//!
//! Needs the venv `scripts/setup` makes in `.cache/pyenv`; without it the test prints
//! `skipped: ...` and returns.

mod common;

use common::{pyenv_python, test_charm, JUJU_LOCAL};
use std::path::Path;
use std::process::Command;

#[test]
fn jubilant_drives_a_model_end_to_end() {
    let Some(python) = pyenv_python() else {
        println!("skipped: no .cache/pyenv (run scripts/setup to install jubilant and ops)");
        eprintln!("skipped: no .cache/pyenv (run scripts/setup to install jubilant and ops)");
        return;
    };
    let home = tempfile::tempdir().expect("tempdir");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/jubilant_scenario.py");
    let out = Command::new(python)
        .arg(&script)
        .args([JUJU_LOCAL, test_charm().to_str().unwrap(), "jubilant"])
        .env("JUJU_LOCAL_HOME", home.path())
        .env("JUJU_LOCAL_OWNER_PID", std::process::id().to_string())
        .env_remove("JUJU_MODEL")
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "jubilant scenario failed:\n{stdout}\n{stderr}");
    assert!(stdout.trim_end().ends_with("jubilant scenario: ok"), "{stdout}");
}

//! Scenario: the `valkey-client` relation with a requirer driven by the data-platform library
//! itself — `dpcharmlibs-interfaces` 1.2.2 from PyPI, as Canonical's Python charms use it
//! (`tests/fixtures/valkey-requirer-lib`, an `ops` charm whose relation the library handles
//! alone). Valkey ×3 and that requirer, prefix `lib`:
//! 1. the library writes its v1 request, accepts the charm's answer (its own models validate it and
//!    its `resource_created` event fires), and reads the user's `username` and `password` from the
//!    secret; with them writes under `lib:` succeed, writes outside it and reads of another
//!    prefix are refused, and every Sentinel names the primary;
//! 2. after the `failover` action the library reports `endpoints_changed` with the new primary.
//!
//! The requirer runs `.cache/pyenv`'s interpreter (`scripts/setup` installs ops and
//! dpcharmlibs-interfaces there), which only the host has: the scenario pins juju-local's loopback
//! mode, and says it is skipped when the library is missing. On real Juju (`JUJU` set) it is
//! skipped too: the requirer would need packing with its venv.

// The scenario checks the interpreter by running it.
#![allow(clippy::disallowed_methods)]

mod client_relation_support;
mod common;

use std::path::{Path, PathBuf};

use client_relation_support::{check_user, deploy_requirers, failover_followed_by, received, CONVERGE};
use common::{poll, Deployed};

/// The pyenv interpreter, when it has the library.
fn library_python() -> Result<PathBuf, String> {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join(".cache/pyenv/bin/python");
    // Not canonicalized: the venv's `python` is a link to the base interpreter, which has no venv.
    if !python.exists() {
        return Err(format!("{} is missing (run scripts/setup)", python.display()));
    }
    let out = std::process::Command::new(&python)
        .args(["-c", "import ops, dpcharmlibs.interfaces"])
        .output()
        .map_err(|e| format!("{}: {e}", python.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} lacks ops or dpcharmlibs-interfaces (run scripts/setup): {}",
            python.display(),
            String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or_default()
        ));
    }
    Ok(python)
}

/// A copy of the fixture with `python-path` naming `python`.
fn requirer_dir(python: &Path) -> tempfile::TempDir {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valkey-requirer-lib");
    let dir = tempfile::tempdir().expect("tempdir");
    for file in ["metadata.yaml", "config.yaml", "dispatch", "src/charm.py"] {
        let to = dir.path().join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(fixture.join(file), &to).unwrap_or_else(|e| panic!("copy {file}: {e}"));
    }
    std::fs::write(dir.path().join("python-path"), python.display().to_string()).unwrap();
    dir
}

#[test]
fn the_data_platform_library_accepts_the_answer_and_follows_the_primary() {
    if std::env::var("JUJU").is_ok_and(|j| !j.is_empty() && !j.ends_with("juju-local")) {
        println!("skipped: on real Juju the library requirer would need packing with its venv");
        return;
    }
    let python = match library_python() {
        Ok(p) => p,
        Err(why) => {
            println!("skipped: {why}");
            return;
        }
    };
    // The requirer's interpreter lives on the host only (systemd machines have none).
    // Set before this test process starts any thread (nextest runs each test in its own process).
    std::env::set_var("VALKEY_E2E_SUBSTRATE", "loopback");
    let fixture = Deployed::new("clientlib", 3, &[]);
    let charm = requirer_dir(&python);
    deploy_requirers(&fixture, &charm.path().display().to_string(), &[("app-lib", &["prefix=lib"])]);

    // 1. what the library hands the charm works.
    let (got, took) = poll("the library's resource_created", CONVERGE, || received(&fixture, "app-lib/0"));
    println!("the library reported resource_created {took:?} after settling");
    check_user(&fixture, &got, "lib", "other");

    // 2. endpoints_changed after a switchover.
    let (moved, after, took) =
        failover_followed_by(&fixture, "app-lib/0", "the library's endpoints_changed naming the new primary");
    println!("failover → the library reports {after}: {took:?} after the action returned");
    assert_eq!(moved.user, got.user, "the same user after the switchover");
    fixture.juju.wait_idle_active("app-lib", 1, CONVERGE).expect("no hook of the library requirer failed");
}

//! Shared fixture of the end-to-end scenarios: assemble the charm, deploy it into a fresh model
//! through the juju CLI (juju-local by default, real Juju with `JUJU=juju`), and read the
//! deployment back through the network (Valkey and Sentinel) and the CLI only.
//!
//! Every scenario owns its model; the `Juju` driver destroys it on Drop (also when a test
//! panics), and juju-local models die with the test process.
//!
//! Environment knobs, so the same tests run against real Juju unchanged:
//! - `JUJU` — the juju CLI to drive (default: the `juju-local` built beside the tests).
//! - `VALKEY_CHARM` — a charm to deploy (a packed `.charm` for real Juju); default: the charm
//!   directory `scripts/build-charm` assembles from the `dispatch` cargo built for these tests.
//! - `VALKEY_SERVER_BIN` — the `valkey-server` file attached as the resource; default: the one
//!   `scripts/setup-valkey` provides.

// The end-to-end driver, like the harness, runs the build scripts; the charm's walls do not bind it.
#![allow(clippy::disallowed_methods)]
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

pub mod hosts;
pub mod kept;
pub mod nodes;
pub mod prometheus;
pub mod settle;
pub mod substrate;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use valkey_harness::deployment::CharmDeployment;
use valkey_harness::juju::{Juju, Status};
use valkey_harness::names;
use valkey_harness::probe::{ProbeConfig, ProbeHandle, ProbeLog, Report};
use valkey_harness::sentinel::SentinelSet;
use valkey_harness::valkey::{Credentials, Endpoint};

/// Application name every scenario deploys.
pub const APP: &str = "valkey";
/// The Valkey version the setup script provides (and the application version must show).
pub const VALKEY_VERSION: &str = "9.1.2";
/// Deadline for a deployment to settle; a 3-unit deploy takes ~15–25 s on a busy 2-core machine.
pub const SETTLE: Duration = Duration::from_secs(240);
/// How often update-status runs: small, so a unit that missed an event reconciles soon.
const UPDATE_STATUS_INTERVAL: &str = "10s";

/// One deployed application in its own model.
pub struct Deployed {
    /// The driver; destroys the model on Drop. Declared first so it drops before the charm dir.
    pub juju: Juju,
    /// Keeps the assembled charm directory alive for the model's lifetime.
    _charm_dir: Option<tempfile::TempDir>,
    /// When the deploy command was issued (deploy-to-active is printed from it).
    pub deployed_at: Instant,
    /// What the units run on (machine mode: systemd, the production path).
    pub substrate: substrate::Substrate,
}

impl Deployed {
    /// Adds a model named `e2e-<scenario>-<pid>` (unique per run, as real Juju requires) on the
    /// best substrate here ([`substrate`]: systemd machines as root), makes update-status
    /// frequent, deploys `units` units with `config`, and waits until every unit is active and
    /// idle.
    pub fn new(scenario: &str, units: usize, config: &[(&str, &str)]) -> Self {
        let mut juju = Juju::from_env().expect("juju CLI (build juju-local or set JUJU)");
        let substrate = substrate::add_model(&mut juju, &model_name(scenario));
        Self::deploy_into(juju, units, config, substrate)
    }

    /// Like [`Deployed::new`], with the removed units' teardown order fixed to `order`
    /// (`departed-first` or `storage-first`, juju-local's `teardown-order` model-config key).
    /// Both orders happen on real Juju, which picks one itself: there the scenario runs with
    /// whichever comes, and says so.
    pub fn with_teardown_order(scenario: &str, units: usize, config: &[(&str, &str)], order: &str) -> Self {
        let mut juju = Juju::from_env().expect("juju CLI (build juju-local or set JUJU)");
        let substrate = substrate::add_model(&mut juju, &model_name(scenario));
        if juju.local_home().is_some() {
            juju.model_config(&[("teardown-order", order)]).expect("model-config teardown-order");
        } else {
            println!("teardown order {order}: real Juju chooses the order itself");
        }
        Self::deploy_into(juju, units, config, substrate)
    }

    /// Deploys `units` units with `config` into the driver's current model (update-status made
    /// frequent first) and waits until every unit is active and idle.
    fn deploy_into(
        juju: Juju,
        units: usize,
        config: &[(&str, &str)],
        substrate: substrate::Substrate,
    ) -> Self {
        let (charm, charm_dir) = charm();
        let server = valkey_server();
        juju.model_config(&[("update-status-hook-interval", UPDATE_STATUS_INTERVAL)]).expect("model-config");
        let deployed_at = Instant::now();
        juju.deploy(&charm, APP, units, config, &[("valkey-server", server.as_path())]).expect("deploy");
        let fixture = Self { juju, _charm_dir: charm_dir, deployed_at, substrate };
        fixture.wait_settled(units, "deploy");
        fixture
    }

    /// The deployment as the harness sees it (actions, addresses).
    pub fn deployment(&self) -> CharmDeployment<'_> {
        CharmDeployment::new(&self.juju, APP)
    }

    /// Waits until `units` units are active and idle, printing how long it took since `since`.
    pub fn wait_settled(&self, units: usize, what: &str) -> Status {
        let status = self
            .juju
            .wait_idle_active(APP, units, SETTLE)
            .unwrap_or_else(|e| panic!("{what}: units did not settle: {e}\n{}", self.log_tail()));
        println!("{what}: {units} units active/idle, {:?} since deploy", self.deployed_at.elapsed());
        status
    }

    /// Runs `command` on `unit` (`juju exec`) and returns its stdout, trimmed; panics when it
    /// fails.
    pub fn on_unit(&self, unit: &str, command: &str) -> String {
        let out = self.juju.exec(unit, command).unwrap_or_else(|e| panic!("exec on {unit}: {e}"));
        assert_eq!(out.code, 0, "{command} on {unit}: {out:?}");
        out.stdout.trim().to_string()
    }

    /// The admin credentials (`get-password` on the leader).
    pub fn admin(&self) -> Credentials {
        self.deployment().credentials().expect("get-password")
    }

    /// `(unit, address)` of every unit, in unit order.
    pub fn units(&self) -> Vec<(String, String)> {
        self.deployment().unit_addresses().expect("unit addresses from juju status")
    }

    /// `juju status --format json` as raw JSON (for fields the typed subset leaves out, such as
    /// the application version).
    pub fn raw_status(&self) -> serde_json::Value {
        let model = self.juju.model().expect("model").to_string();
        let args: Vec<String> =
            ["status", "-m", &model, "--format", "json"].iter().map(|s| s.to_string()).collect();
        let finished = self.juju.raw(&args).expect("juju status").success().expect("juju status");
        serde_json::from_str(&finished.stdout).expect("status JSON")
    }

    /// The last lines of `juju debug-log`, for failure messages.
    pub fn log_tail(&self) -> String {
        match self.juju.debug_log() {
            Ok(log) => {
                let lines: Vec<&str> = log.lines().collect();
                lines[lines.len().saturating_sub(40)..].join("\n")
            }
            Err(e) => format!("(debug-log failed: {e})"),
        }
    }
}

/// The model name of a scenario: `e2e-<scenario>-<pid>` (unique per run, as real Juju requires).
fn model_name(scenario: &str) -> String {
    format!("e2e-{scenario}-{}", std::process::id())
}

/// The unit whose address is `endpoint`'s host. The host may be an address (loopback models,
/// `juju status`) or a unit's host name (`valkey-0` for `valkey/0`, as Sentinel announces units
/// in host mode; matched through the model's hosts file, or by its spelling).
pub fn unit_at(units: &[(String, String)], endpoint: &Endpoint) -> String {
    let host = endpoint.host.as_str();
    units
        .iter()
        .find(|(unit, address)| names::same_host(host, address) || hosts::hostname(unit) == host)
        .map(|(unit, _)| unit.clone())
        .unwrap_or_else(|| panic!("no unit has address {host} (units: {units:?})"))
}

/// Polls `check` every 200 ms until it returns `Ok`, or panics after `timeout` with the last
/// reason. Returns the value and how long it took (scenarios print it; timings are never asserted).
pub fn poll<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Result<T, String>) -> (T, Duration) {
    let start = Instant::now();
    let mut first_miss = true;
    loop {
        match check() {
            Ok(value) => return (value, start.elapsed()),
            Err(last) if start.elapsed() >= timeout => {
                panic!("timed out after {:?} waiting for {what}; last: {last}", start.elapsed())
            }
            Err(why) => {
                if std::mem::take(&mut first_miss) {
                    // What was not ready at first: shows which part lags (printed, not asserted).
                    println!("waiting for {what}: {why}");
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
}

/// Starts the write probe with every write confirmed by `WAIT 1`, keys prefixed `<run>-<pid>`, and
/// waits (up to `timeout`) until it has `writes` acknowledged writes, so the phase that follows really
/// runs under writes.
pub fn start_probe(sentinels: &SentinelSet, run: &str, writes: u64, timeout: Duration) -> ProbeHandle {
    let mut config = ProbeConfig::new(sentinels.clone(), format!("{run}-{}", std::process::id()));
    config.wait_replicas = Some(1);
    let probe = ProbeHandle::start(config).unwrap();
    assert!(probe.wait_acked(writes, timeout), "the probe acknowledged only {} writes", probe.acked());
    probe
}

/// Prints the probe's summary, marks and unavailability windows (timings are printed, never
/// asserted) and returns the report.
pub fn print_probe(log: &ProbeLog) -> Report {
    let report = log.report();
    println!(
        "probe: {} acknowledged, {} unconfirmed, {} errors ({} NOREPLICAS) over {:?}; writes by primary {:?}",
        report.acknowledged,
        report.unconfirmed,
        report.errors,
        report.noreplicas_count,
        report.elapsed,
        report.writes_by_primary
    );
    match &report.longest_gap {
        Some(gap) => println!("longest write gap: {:?} (from {:?} to {:?})", gap.length(), gap.from, gap.to),
        None => println!("longest write gap: none"),
    }
    for mark in &log.marks {
        println!("mark {:?} at {:?}", mark.label, mark.at);
    }
    for window in &report.unavailability {
        println!(
            "unavailable {:?} from {:?} to {:?} ({} errors, recovered: {})",
            window.length(),
            window.start,
            window.end,
            window.errors,
            window.recovered
        );
    }
    report
}

/// The charm to deploy: `VALKEY_CHARM`, or a directory assembled by `scripts/build-charm` from
/// the `dispatch` binary cargo built for this package (kept in a temp dir).
fn charm() -> (PathBuf, Option<tempfile::TempDir>) {
    if let Some(path) = std::env::var_os("VALKEY_CHARM").filter(|v| !v.is_empty()) {
        return (PathBuf::from(path), None);
    }
    let dir = tempfile::Builder::new().prefix("valkey-charm-").tempdir().expect("temp dir");
    let out = dir.path().join("valkey");
    let output = Command::new(repo().join("scripts/build-charm"))
        .arg("--binary")
        .arg(env!("CARGO_BIN_EXE_dispatch"))
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run scripts/build-charm");
    assert!(output.status.success(), "build-charm failed: {}", String::from_utf8_lossy(&output.stderr));
    (out, Some(dir))
}

/// The `valkey-server` binary to attach: `VALKEY_SERVER_BIN`, or `scripts/setup-valkey`'s.
fn valkey_server() -> PathBuf {
    if let Some(path) = std::env::var_os("VALKEY_SERVER_BIN").filter(|v| !v.is_empty()) {
        return PathBuf::from(path);
    }
    let output =
        Command::new(repo().join("scripts/setup-valkey")).output().expect("run scripts/setup-valkey");
    assert!(output.status.success(), "setup-valkey failed: {}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let bin_dir = stdout.lines().last().expect("setup-valkey prints the bin dir").trim();
    let server = Path::new(bin_dir).join("valkey-server");
    assert!(server.is_file(), "{} is missing", server.display());
    server
}

/// The workspace root (this package's manifest dir).
fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Sends `kill -CONT` to the frozen process on Drop.
pub struct Thaw<'a> {
    /// The driver that runs `juju exec`.
    pub juju: &'a valkey_harness::juju::Juju,
    /// The unit the process runs on.
    pub unit: String,
    /// The frozen valkey-server.
    pub pid: u32,
}

impl Drop for Thaw<'_> {
    fn drop(&mut self) {
        match self.juju.exec(&self.unit, &format!("kill -CONT {}", self.pid)) {
            Ok(out) if out.code == 0 => {}
            other => eprintln!("kill -CONT {} on {}: {other:?}", self.pid, self.unit),
        }
    }
}

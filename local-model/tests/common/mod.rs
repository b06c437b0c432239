//! Shared fixture for the local-model scenario tests: a model in its own temporary
//! `JUJU_LOCAL_HOME`, owned by the test process (so a killed test run leaks nothing), driven
//! through the real `juju-local` binary and destroyed on drop.

#![allow(dead_code)] // Each test binary uses a different subset of these helpers.

use juju_local::state::ModelState;
use juju_local::store::Store;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// The `juju-local` binary under test (`jujuc` is built beside it).
pub const JUJU_LOCAL: &str = env!("CARGO_BIN_EXE_juju-local");

/// The hooks `test-charm/2` runs when it is removed from three units in the default teardown
/// order (departed first): it departs both peers, its storage detaches, then `stop` and `remove`.
pub const THIRD_UNIT_TEARDOWN: [&str; 5] = [
    "cluster-relation-departed:test-charm/0",
    "cluster-relation-departed:test-charm/1",
    "data-storage-detaching",
    "stop",
    "remove",
];

/// The shell test charm.
pub fn test_charm() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/test-charm")
}

/// The Python of the venv `scripts/setup` makes with jubilant and ops (`.cache/pyenv`;
/// `JUJU_LOCAL_PYENV` overrides the location), if it exists.
pub fn pyenv_python() -> Option<PathBuf> {
    let dir = std::env::var_os("JUJU_LOCAL_PYENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.cache/pyenv"));
    let python = dir.join("bin/python");
    python.exists().then_some(python)
}

/// One recorded event of the test charm: `<unit> <dispatch path> remote=<r> departing=<d>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Unit that ran it.
    pub unit: String,
    /// `hooks/install`, `actions/echo`, ...
    pub path: String,
    /// `JUJU_REMOTE_UNIT`.
    pub remote: String,
    /// `JUJU_DEPARTING_UNIT`.
    pub departing: String,
}

impl Event {
    /// `install` or `cluster-relation-joined:test-charm/1` (remote appended when set).
    pub fn short(&self) -> String {
        let name = self.path.split_once('/').map_or(self.path.as_str(), |(_, n)| n);
        if self.remote.is_empty() {
            name.to_string()
        } else {
            format!("{name}:{}", self.remote)
        }
    }
}

/// A model under test.
pub struct TestModel {
    /// The temporary `JUJU_LOCAL_HOME`.
    pub home: tempfile::TempDir,
    /// Model name.
    pub name: String,
}

impl TestModel {
    /// An empty model with fast retry and update-status settings.
    pub fn new(name: &str) -> TestModel {
        let m = TestModel { home: tempfile::tempdir().expect("tempdir"), name: name.to_string() };
        m.ok(&["add-model", name]);
        m.ok(&["model-config", "hook-retry-delay=200ms", "update-status-hook-interval=1h"]);
        m
    }

    /// A host-mode model (one network namespace per unit) with `n` units of the test charm
    /// deployed and settled; `None`, after printing a visible skip line, when not running as root.
    pub fn hosts(name: &str, n: u32) -> Option<TestModel> {
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            println!("skipped: host mode needs root");
            eprintln!("skipped: host mode needs root");
            return None;
        }
        let m = TestModel { home: tempfile::tempdir().expect("tempdir"), name: name.to_string() };
        m.ok(&["add-model", name, "--config", "network-mode=hosts", "--config", "hook-retry-delay=200ms"]);
        m.ok(&["model-config", "update-status-hook-interval=1h"]);
        m.ok(&["deploy", test_charm().to_str().unwrap(), "-n", &n.to_string()]);
        m.wait();
        Some(m)
    }

    /// A machine-mode model (one systemd-booted container per unit) with `n` units of the test
    /// charm deployed and settled; `None`, after printing a visible skip line, when not root or
    /// when the machine-mode root filesystem is missing outside CI (in CI, as root, a missing
    /// root filesystem fails: `scripts/setup` builds it).
    pub fn machines(name: &str, n: u32) -> Option<TestModel> {
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            println!("skipped: machine mode needs root");
            eprintln!("skipped: machine mode needs root");
            return None;
        }
        if let Err(e) = juju_local::machines::container::require() {
            assert!(std::env::var_os("CI").is_none(), "machine mode unavailable in CI: {e}");
            println!("skipped: {e}");
            eprintln!("skipped: {e}");
            return None;
        }
        let m = TestModel { home: tempfile::tempdir().expect("tempdir"), name: name.to_string() };
        m.ok(&["add-model", name, "--config", "network-mode=machines", "--config", "hook-retry-delay=200ms"]);
        m.ok(&["model-config", "update-status-hook-interval=1h"]);
        m.ok(&["deploy", test_charm().to_str().unwrap(), "-n", &n.to_string()]);
        m.wait();
        Some(m)
    }

    /// A model with `n` units of the test charm deployed and settled.
    pub fn deployed(name: &str, n: u32) -> TestModel {
        let m = TestModel::new(name);
        m.ok(&["deploy", test_charm().to_str().unwrap(), "-n", &n.to_string()]);
        m.wait();
        m
    }

    /// The model directory.
    pub fn dir(&self) -> PathBuf {
        self.home.path().join("models").join(&self.name)
    }

    /// Runs `juju-local` with this model's environment.
    pub fn juju(&self, args: &[&str]) -> Output {
        Command::new(JUJU_LOCAL)
            .args(args)
            .env("JUJU_LOCAL_HOME", self.home.path())
            .env("JUJU_MODEL", &self.name)
            .env("JUJU_LOCAL_OWNER_PID", std::process::id().to_string())
            .output()
            .expect("run juju-local")
    }

    /// Runs a command that must succeed; returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.juju(args);
        assert!(
            out.status.success(),
            "juju-local {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    /// Runs a command that must fail; returns its stderr (which must be one `ERROR` line).
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.juju(args);
        assert!(!out.status.success(), "juju-local {args:?} unexpectedly succeeded");
        let err = String::from_utf8(out.stderr).expect("utf-8");
        let last = err.lines().last().unwrap_or_default().to_string();
        assert!(last.starts_with("ERROR "), "no ERROR line from {args:?}: {err}");
        last
    }

    /// Waits until every unit is idle.
    pub fn wait(&self) {
        self.ok(&["wait", "--timeout", "60s"]);
    }

    /// The model state.
    pub fn state(&self) -> ModelState {
        Store::open(self.dir()).expect("model exists").read().expect("state readable")
    }

    /// Every event the test charm recorded, in order.
    pub fn events(&self) -> Vec<Event> {
        let text = std::fs::read_to_string(self.dir().join("events.log")).unwrap_or_default();
        text.lines()
            .map(|line| {
                let mut parts = line.split(' ');
                let unit = parts.next().unwrap_or_default().to_string();
                let path = parts.next().unwrap_or_default().to_string();
                let field = |p: Option<&str>, key: &str| {
                    p.and_then(|s| s.strip_prefix(key)).unwrap_or_default().to_string()
                };
                let remote = field(parts.next(), "remote=");
                let departing = field(parts.next(), "departing=");
                Event { unit, path, remote, departing }
            })
            .collect()
    }

    /// Events of one unit as short names, update-status left out.
    pub fn events_of(&self, unit: &str) -> Vec<String> {
        self.events()
            .iter()
            .filter(|e| e.unit == unit && e.path != "hooks/update-status")
            .map(Event::short)
            .collect()
    }

    /// Forgets the events recorded so far.
    pub fn clear_events(&self) {
        let _ = std::fs::remove_file(self.dir().join("events.log"));
    }

    /// Creates a behaviour marker (`fail-<hook>`, `hang-<hook>`) in the model dir.
    pub fn mark(&self, marker: &str) {
        std::fs::write(self.dir().join(marker), b"").expect("write marker");
    }

    /// Removes a behaviour marker.
    pub fn unmark(&self, marker: &str) {
        std::fs::remove_file(self.dir().join(marker)).expect("remove marker");
    }

    /// Runs a shell command in a hook context on `unit` and returns its stdout, trimmed.
    pub fn exec(&self, unit: &str, cmd: &str) -> String {
        self.ok(&["exec", "--unit", unit, "--", cmd]).trim().to_string()
    }
}

impl Drop for TestModel {
    fn drop(&mut self) {
        if self.dir().join("state.json").exists() {
            let _ = self.juju(&["destroy-model", &self.name, "--no-prompt"]);
        }
    }
}

/// Polls `f` every 20 ms until it returns `Some`, or panics with `what` after `timeout`.
pub fn eventually<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

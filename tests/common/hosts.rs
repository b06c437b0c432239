//! Separate-hosts fixture: a model whose units are separate hosts (juju-local's machine mode — a
//! systemd-booted container, network namespace and address per unit — or its host mode; root
//! only), and the faults juju-local injects into it — `cut`, `heal`, `change-address`,
//! `kill-machine`, `start-machine`.
//!
//! The test process stays on the host, where it reaches every unit through the model's bridge.
//! Sentinel announces units by host name there, so the model's `hosts` file is registered with the
//! harness's resolver ([`valkey_harness::names`]) and every connection the tests open translates
//! those names. `settled`, `unit_at` and `nodes::*` work unchanged.
//!
//! Without root, or against real Juju, [`Deployed::new_hosts`] prints why it skips and returns
//! `None`: such runs are never silently green.

use std::path::PathBuf;

use super::substrate::Substrate;
use super::{model_name, Deployed};
use valkey_harness::juju::Juju;
use valkey_harness::names;

/// The host name juju-local gives a unit in host mode: `valkey/0` → `valkey-0`.
pub fn hostname(unit: &str) -> String {
    unit.replace('/', "-")
}

/// Whether this process runs with effective uid 0 (the `Uid:` line of `/proc/self/status` is
/// `real effective saved filesystem`; no libc binding needed).
pub fn running_as_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|uids| uids.split_whitespace().nth(1).map(|euid| euid == "0"))
        .unwrap_or(false)
}

impl Deployed {
    /// Like [`Deployed::new`], on separate hosts, with unit hostnames: adds
    /// `e2e-<scenario>-<pid>` in machine mode with `unit-hostnames=true` (or host mode when
    /// `VALKEY_E2E_SUBSTRATE=hosts`), deploys, waits until every unit is active and idle, and
    /// registers the model's `hosts` file with the resolver. Returns `None`, after printing
    /// `skipped: ...`, when separate hosts are impossible here (not root, or not juju-local).
    pub fn new_hosts(scenario: &str, units: usize, config: &[(&str, &str)]) -> Option<Self> {
        Self::new_separate(scenario, units, config, true)
    }

    /// Like [`Deployed::new_hosts`], but units are known by address only, as `network-get`
    /// reports them on a real IAAS machine (machine mode without `unit-hostnames`).
    pub fn new_hosts_by_address(scenario: &str, units: usize, config: &[(&str, &str)]) -> Option<Self> {
        Self::new_separate(scenario, units, config, false)
    }

    fn new_separate(scenario: &str, units: usize, config: &[(&str, &str)], hostnames: bool) -> Option<Self> {
        if !running_as_root() {
            skip(scenario, "separate hosts need root");
            return None;
        }
        let mut juju = Juju::from_env().expect("juju CLI (build juju-local or set JUJU)");
        let Some(home) = juju.local_home().map(PathBuf::from) else {
            skip(scenario, "separate hosts need juju-local (JUJU names another CLI)");
            return None;
        };
        let model = model_name(scenario);
        let substrate =
            Substrate::pinned().filter(|s| *s != Substrate::Loopback).unwrap_or(Substrate::Machines);
        let mut settings = vec![("network-mode", substrate.mode())];
        if substrate == Substrate::Machines {
            settings.push(("unit-hostnames", if hostnames { "true" } else { "false" }));
        }
        juju.add_model_with(&model, &settings)
            .unwrap_or_else(|e| panic!("add-model in {} mode: {e}", substrate.mode()));
        println!(
            "substrate: {} (hostnames: {})",
            substrate.mode(),
            hostnames || substrate == Substrate::Hosts
        );
        let fixture = Self::deploy_into(juju, units, config, substrate);
        // Written once the model has units; settling needed only `juju status`.
        let hosts = home.join("models").join(&model).join("hosts");
        names::use_hosts_file(&hosts).unwrap_or_else(|e| panic!("the model's hosts file: {e}"));
        Some(fixture)
    }

    /// `juju-local cut UNIT [--from UNIT2]`: without `from`, `unit` reaches no one and no one (the
    /// test process included) reaches it; with it, only the link between the two units is cut.
    pub fn cut(&self, unit: &str, from: Option<&str>) {
        self.fault("cut", unit, from);
    }

    /// `juju-local heal UNIT [--from UNIT2]`: undoes every fault on `unit`, or only the pair's.
    pub fn heal(&self, unit: &str, from: Option<&str>) {
        self.fault("heal", unit, from);
    }

    /// `juju-local change-address UNIT`: moves `unit` to a fresh address and returns it.
    pub fn change_address(&self, unit: &str) -> String {
        let out = self.local_command(&["change-address", unit]);
        let address = out.trim().to_string();
        assert!(!address.is_empty(), "change-address {unit} printed no address");
        address
    }

    /// `juju-local kill-machine UNIT`: the unit's machine vanishes (machine mode).
    pub fn kill_machine(&self, unit: &str) {
        self.local_command(&["kill-machine", unit]);
    }

    /// `juju-local start-machine UNIT`: boots the unit's machine again (machine mode).
    pub fn start_machine(&self, unit: &str) {
        self.local_command(&["start-machine", unit]);
    }

    /// `juju-local reboot-machine UNIT`: shuts the unit's machine down cleanly and boots it.
    pub fn reboot_machine(&self, unit: &str) {
        self.local_command(&["reboot-machine", unit]);
    }

    fn fault(&self, verb: &str, unit: &str, from: Option<&str>) {
        let mut args = vec![verb, unit];
        if let Some(peer) = from {
            args.extend(["--from", peer]);
        }
        self.local_command(&args);
    }

    /// Runs a juju-local extra command on this model; panics with its output when it fails.
    fn local_command(&self, args: &[&str]) -> String {
        let model = self.juju.model().expect("model").to_string();
        let mut argv = vec![args[0].to_string(), "-m".to_string(), model];
        argv.extend(args[1..].iter().map(|s| s.to_string()));
        let finished = self.juju.raw(&argv).unwrap_or_else(|e| panic!("{}: {e}", argv.join(" ")));
        let finished = finished.success().unwrap_or_else(|e| panic!("{e}"));
        finished.stdout
    }
}

/// Says that a host-mode scenario did not run (nextest shows it: `.config/nextest.toml` prints
/// the output of these tests even when they pass).
fn skip(scenario: &str, why: &str) {
    println!("skipped: {why} ({scenario})");
}

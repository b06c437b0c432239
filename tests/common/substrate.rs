//! Which kind of machine the scenarios deploy onto, with juju-local's three network modes:
//! - **machines** (root): every unit a container booted with systemd as PID 1, in its own network
//!   namespace — the charm's production path (systemd units), as on a real Juju machine. The
//!   default whenever it can run.
//! - **hosts** (root): every unit in its own network namespace, processes on the shared host
//!   (the charm's direct supervisor).
//! - **loopback** (any user): every unit on its own loopback address (direct supervisor).
//!
//! `VALKEY_E2E_SUBSTRATE=machines|hosts|loopback` pins one. Without it, a root run uses machines
//! and any other user loopback; a root run that cannot create a machine-mode model falls back to
//! loopback with a printed reason — except in CI (`CI` set), where that is a failure: the
//! production path must not silently go untested.

use super::hosts::running_as_root;
use valkey_harness::juju::Juju;

/// The network mode of a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Substrate {
    /// One loopback address per unit, one shared host.
    Loopback,
    /// One network namespace per unit, one shared host.
    Hosts,
    /// One systemd-booted container per unit.
    Machines,
}

impl Substrate {
    /// The `network-mode` value.
    pub fn mode(self) -> &'static str {
        match self {
            Substrate::Loopback => "loopback",
            Substrate::Hosts => "hosts",
            Substrate::Machines => "machines",
        }
    }

    /// The substrate pinned by `VALKEY_E2E_SUBSTRATE`, if any.
    pub fn pinned() -> Option<Substrate> {
        match std::env::var("VALKEY_E2E_SUBSTRATE").ok()?.as_str() {
            "machines" => Some(Substrate::Machines),
            "hosts" => Some(Substrate::Hosts),
            "loopback" => Some(Substrate::Loopback),
            "" => None,
            other => panic!("VALKEY_E2E_SUBSTRATE={other:?}: expected machines, hosts or loopback"),
        }
    }
}

/// Adds model `name` on the best substrate here (see the module doc) and says which in the
/// test's output. Real Juju (`JUJU` naming another CLI) gets a plain `add-model`.
pub fn add_model(juju: &mut Juju, name: &str) -> Substrate {
    if juju.local_home().is_none() {
        juju.add_model(name).expect("add-model");
        return Substrate::Machines;
    }
    let wanted = Substrate::pinned().unwrap_or(if running_as_root() {
        Substrate::Machines
    } else {
        println!("substrate: loopback (machine mode needs root)");
        Substrate::Loopback
    });
    if wanted == Substrate::Loopback {
        juju.add_model(name).expect("add-model");
        return Substrate::Loopback;
    }
    match juju.add_model_with(name, &[("network-mode", wanted.mode())]) {
        Ok(()) => {
            println!("substrate: {}", wanted.mode());
            wanted
        }
        Err(e) if Substrate::pinned().is_none() && std::env::var_os("CI").is_none() => {
            println!("substrate: loopback ({} mode unavailable here: {e})", wanted.mode());
            juju.add_model(name).expect("add-model");
            Substrate::Loopback
        }
        Err(e) => panic!("add-model in {} mode: {e}", wanted.mode()),
    }
}

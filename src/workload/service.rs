//! Keeping Valkey and its Sentinel running: the [`Supervisor`] trait and the choice between
//! systemd and the charm's own direct supervisor.

use super::{direct::Direct, systemd::Systemd, Installed, Paths, WorkloadError};
use crate::juju::Context;
use std::path::Path;
use std::time::Duration;

/// The two processes every unit runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// The Valkey data node.
    Valkey,
    /// The Sentinel beside it.
    Sentinel,
}

impl Service {
    /// A short name for unit files, pid files and messages.
    pub fn name(self) -> &'static str {
        match self {
            Service::Valkey => "valkey",
            Service::Sentinel => "sentinel",
        }
    }
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Restart delay of the Sentinel after it exits unexpectedly: a Sentinel coming back quickly
/// never harms data, so only a small pause against crash loops.
pub const SENTINEL_RESTART_DELAY: Duration = Duration::from_millis(1000);
/// How long [`Supervisor::stop`] waits for a service to exit before killing it: Valkey flushes
/// its AOF and may write an RDB on shutdown.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// Starts, stops and observes the services. Every method is idempotent: starting a running
/// service or stopping a stopped one succeeds without doing anything.
pub trait Supervisor {
    /// Starts `svc` (with the configuration already written) and keeps it running: restarts
    /// after an unexpected exit, after the restart delay. A service already under supervision
    /// is left alone (a changed restart delay reaches it through [`Supervisor::refresh`]).
    fn start(&self, svc: Service) -> Result<(), WorkloadError>;
    /// Stops `svc` and waits (bounded by [`STOP_TIMEOUT`]) until its process is gone.
    fn stop(&self, svc: Service) -> Result<(), WorkloadError>;
    /// Stops `svc` for good: nothing brings it back, not even a reboot of the machine (systemd:
    /// the unit is stopped, disabled and its file removed). The leaving unit's last word.
    fn remove(&self, svc: Service) -> Result<(), WorkloadError> {
        self.stop(svc)
    }
    /// Whether anything of this unit's supervision remains that [`Supervisor::remove`] would
    /// clear, even with no process running (a service waiting out its restart delay; under
    /// systemd, a unit file, which a reboot would start again).
    fn has_supervision(&self) -> bool {
        self.is_supervised(Service::Valkey) || self.is_supervised(Service::Sentinel)
    }
    /// Brings the supervision of both services up to date without restarting either: Valkey's
    /// restart delay becomes `valkey_restart_delay` from its next restart on (systemd: unit files
    /// rewritten and `daemon-reload` when their content changed). Returns whether anything
    /// changed.
    fn refresh(&self, valkey_restart_delay: Duration) -> Result<bool, WorkloadError>;
    /// The restart delay Valkey's supervision applies to its next restart, as its files stand;
    /// `None` when they are missing or not what this charm renders (a [`Supervisor::refresh`]
    /// is due).
    fn restart_delay(&self) -> Option<Duration>;
    /// Stops then starts `svc` (to load a changed config file).
    fn restart(&self, svc: Service) -> Result<(), WorkloadError> {
        self.stop(svc)?;
        self.start(svc)
    }
    /// Whether the service's process is alive right now.
    fn is_running(&self, svc: Service) -> bool {
        self.pid(svc).is_some()
    }
    /// The pid of the service's process (valkey-server itself), if it runs.
    fn pid(&self, svc: Service) -> Option<u32>;
    /// Whether the service is under supervision, even if its process is down right now (it
    /// crashed and the supervisor is waiting out the restart delay). A caller that finds
    /// `is_running` false but `is_supervised` true should wait, not re-render and restart:
    /// Sentinel's rewritten config (peers, epoch, current primary) would be lost.
    fn is_supervised(&self, svc: Service) -> bool {
        self.is_running(svc)
    }
}

/// Whether systemd runs this machine (it is PID 1): `/run/systemd/system` is a directory, the
/// test `sd_booted(3)` makes. Every Juju machine (VM, LXD container) passes it; the direct
/// supervisor exists only for machines that do not (e.g. the local model's loopback and host
/// modes, where units are plain processes of one host).
pub fn use_systemd() -> bool {
    Path::new("/run/systemd/system").is_dir()
}

/// The supervisor for this unit. `valkey_restart_delay` is how long Valkey stays down after an
/// unexpected exit (the HA logic chooses it: a crashed primary must not return before Sentinel
/// has failed it over).
pub fn supervisor_for(
    ctx: &Context,
    paths: &Paths,
    installed: &Installed,
    valkey_restart_delay: Duration,
) -> Box<dyn Supervisor> {
    if use_systemd() {
        Box::new(Systemd::new(ctx, paths, installed, valkey_restart_delay))
    } else {
        let relay = super::relay::RelayArgs {
            spool: paths.spool_dir(),
            unit: ctx.unit.clone(),
            juju_exec: crate::juju::juju_exec(),
        };
        let dispatch = ctx.charm_dir.join("dispatch");
        Box::new(Direct::new(&dispatch, paths, installed, valkey_restart_delay).with_relay(relay))
    }
}

/// Entry point of `dispatch supervise ...` (the whole argv): runs the direct supervisor loop
/// and returns the process exit code.
pub fn supervise_main(args: &[String]) -> i32 {
    super::supervise::main(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        Context::from_env(|k| match k {
            "JUJU_UNIT_NAME" => Some("valkey/1".into()),
            "JUJU_CHARM_DIR" => Some("/charm".into()),
            "JUJU_MODEL_NAME" => Some("m".into()),
            "JUJU_MODEL_UUID" => Some("u".into()),
            _ => None,
        })
        .unwrap()
    }

    #[test]
    fn systemd_is_used_exactly_when_it_runs_the_machine() {
        assert_eq!(use_systemd(), Path::new("/run/systemd/system").is_dir());
    }

    #[test]
    fn a_machine_without_systemd_gets_the_direct_supervisor_running_dispatch() {
        if use_systemd() {
            eprintln!("skipped: this machine runs systemd, so the charm would pick systemd units");
            return;
        }
        let installed = Installed { server: "/d/bin/valkey-server".into(), version: "9.1.2".into() };
        let sup = supervisor_for(&ctx(), &Paths::new("/d"), &installed, Duration::ZERO);
        // Nothing runs under /d: the direct supervisor finds no pid files.
        assert_eq!(sup.pid(Service::Valkey), None);
        assert!(!sup.is_running(Service::Sentinel));
        assert!(!sup.is_supervised(Service::Valkey));
        assert_eq!(sup.restart_delay(), None, "no delay file under /d");
        let direct = Direct::new(Path::new("/charm/dispatch"), &Paths::new("/d"), &installed, Duration::ZERO);
        assert_eq!(direct.supervise_args(Service::Valkey)[0], "supervise");
        assert_eq!(Service::Sentinel.to_string(), "sentinel");
    }
}

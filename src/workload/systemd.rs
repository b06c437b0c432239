//! Supervision by systemd: one unit file per service with `Restart=always` and the restart delay
//! as `RestartSec`, named after the Juju unit so several units (or models) never share a name.
//!
//! The unit files follow the charm: every reconcile of a started unit rewrites them when their
//! content changed (a new restart delay, a new charm revision) and runs `systemctl daemon-reload`,
//! which needs no restart (`RestartSec` is read at the next restart). There is no start limit
//! (`StartLimitIntervalSec=0`): a crash-looping service keeps being retried, like under the direct
//! supervisor, instead of ending `failed`. Valkey and Sentinel write their own log files (the
//! `logfile` line of their configs, in the data storage, as under the direct supervisor); the
//! journal holds only systemd's lines about the units.

use super::files::{io_err, write_file};
use super::render::Detach;
use super::service::{Service, Supervisor, SENTINEL_RESTART_DELAY, STOP_TIMEOUT};
use super::{Installed, Paths, WorkloadError, START_FENCE};
use crate::juju::Context;
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Where unit files go on a real host.
pub const UNIT_DIR: &str = "/etc/systemd/system";

/// Services as systemd units.
#[derive(Debug, Clone)]
pub struct Systemd {
    /// Unit-name prefix, `valkey-<app>-<n>`: one pair of units per Juju unit.
    pub prefix: String,
    /// The Juju unit (`valkey/0`), for the units' descriptions.
    pub unit: String,
    /// Where unit files are written ([`UNIT_DIR`]; a temp dir in tests).
    pub unit_dir: PathBuf,
    /// The server binary.
    pub server: PathBuf,
    /// Config files and the working directory.
    pub paths: Paths,
    /// `RestartSec` of the Valkey unit when [`Supervisor::start`] writes it.
    pub valkey_restart_delay: Duration,
    /// The `systemctl` program (`systemctl` on PATH; a recording stub in tests).
    pub systemctl: PathBuf,
    /// Both units' state as one `systemctl show` read it, and when. *Why:* each `systemctl` run
    /// costs milliseconds, and one hook asks about the units several times (observe, retune);
    /// reused for [`STATE_TTL`], dropped by every change this supervisor makes.
    pub seen: Cell<Option<(Instant, [UnitState; 2])>>,
}

/// How long a `systemctl show` answer is reused (a hook's observation phase; never across a change
/// this supervisor makes).
pub const STATE_TTL: Duration = Duration::from_millis(500);

/// What `systemctl show` says of one unit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnitState {
    /// `MainPID`, when not 0.
    pub pid: Option<u32>,
    /// `ActiveState` is `active`, `activating` (waiting out `RestartSec` after a crash) or
    /// `reloading`: systemd keeps the service.
    pub supervised: bool,
}

/// Parses `systemctl show --property=MainPID,ActiveState A B`: one block of `key=value` lines
/// per unit, in the order asked, separated by an empty line.
pub fn parse_show(text: &str) -> Vec<UnitState> {
    text.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let mut state = UnitState::default();
            for line in block.lines() {
                match line.split_once('=') {
                    Some(("MainPID", v)) => state.pid = v.trim().parse().ok().filter(|p| *p != 0),
                    Some(("ActiveState", v)) => {
                        state.supervised = matches!(v.trim(), "active" | "activating" | "reloading")
                    }
                    _ => {}
                }
            }
            state
        })
        .collect()
}

/// Quotes a word for a unit file's `ExecStart=` when it holds anything but plain characters.
fn exec_word(path: &Path) -> String {
    let s = path.to_string_lossy();
    if s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._/-+:@,".contains(&b)) {
        s.into_owned()
    } else {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

impl Systemd {
    /// The systemd supervisor of `ctx`'s unit.
    pub fn new(
        ctx: &Context,
        paths: &Paths,
        installed: &Installed,
        valkey_restart_delay: Duration,
    ) -> Systemd {
        Systemd {
            prefix: format!("valkey-{}-{}", ctx.app, ctx.unit_number),
            unit: ctx.unit.clone(),
            unit_dir: PathBuf::from(UNIT_DIR),
            server: installed.server.clone(),
            paths: paths.clone(),
            valkey_restart_delay,
            systemctl: PathBuf::from("systemctl"),
            seen: Cell::new(None),
        }
    }

    /// Both units' state: one `systemctl show`, reused for [`STATE_TTL`].
    fn states(&self) -> [UnitState; 2] {
        if let Some((at, states)) = self.seen.get() {
            if at.elapsed() < STATE_TTL {
                return states;
            }
        }
        let (valkey, sentinel) = (self.unit_name(Service::Valkey), self.unit_name(Service::Sentinel));
        let read = self.systemctl(&["show", "--property=MainPID,ActiveState", &valkey, &sentinel]);
        let parsed = read.map(|text| parse_show(&text)).unwrap_or_default();
        let states =
            [parsed.first().copied().unwrap_or_default(), parsed.get(1).copied().unwrap_or_default()];
        self.seen.set(Some((Instant::now(), states)));
        states
    }

    /// Forgets the units' state (after a change this supervisor made).
    fn forget_states(&self) {
        self.seen.set(None);
    }

    fn state(&self, svc: Service) -> UnitState {
        self.states()[match svc {
            Service::Valkey => 0,
            Service::Sentinel => 1,
        }]
    }

    /// `valkey-<app>-<n>.service` / `valkey-<app>-<n>-sentinel.service`.
    pub fn unit_name(&self, svc: Service) -> String {
        match svc {
            Service::Valkey => format!("{}.service", self.prefix),
            Service::Sentinel => format!("{}-sentinel.service", self.prefix),
        }
    }

    /// Where `svc`'s unit file lives.
    pub fn unit_path(&self, svc: Service) -> PathBuf {
        self.unit_dir.join(self.unit_name(svc))
    }

    /// The unit file's content, with [`Systemd::valkey_restart_delay`].
    pub fn render_unit(&self, svc: Service) -> String {
        self.render_unit_at(svc, self.valkey_restart_delay)
    }

    /// The unit file's content when Valkey's restart delay is `valkey_delay`.
    pub fn render_unit_at(&self, svc: Service, valkey_delay: Duration) -> String {
        let (what, conf, extra, delay) = match svc {
            Service::Valkey => {
                // The start-up fence on the command line, and the charm told after every start.
                let post = format!("\nExecStartPost=-/bin/sh {}", exec_word(&self.paths.restarted_script()));
                (
                    "data node",
                    self.paths.valkey_conf(),
                    format!(" {}{post}", START_FENCE.join(" ")),
                    valkey_delay,
                )
            }
            Service::Sentinel => {
                ("Sentinel", self.paths.sentinel_conf(), " --sentinel".to_string(), SENTINEL_RESTART_DELAY)
            }
        };
        format!(
            "# Rendered by the valkey charm; local edits are overwritten.\n\
             [Unit]\n\
             Description=Valkey {what} of Juju unit {unit}\n\
             After=network-online.target\n\
             Wants=network-online.target\n\
             StartLimitIntervalSec=0\n\
             \n\
             [Service]\n\
             Type=simple\n\
             ExecStart={server} {conf}{extra}\n\
             WorkingDirectory={workdir}\n\
             Restart=always\n\
             RestartSec={delay}ms\n\
             TimeoutStopSec={stop}\n\
             LimitNOFILE=65536\n\
             {install}",
            unit = self.unit,
            server = exec_word(&self.server),
            conf = exec_word(&conf),
            // WorkingDirectory= takes a plain absolute path: systemd rejects quotes there.
            workdir = self.paths.run_dir().display(),
            delay = delay.as_millis(),
            stop = STOP_TIMEOUT.as_secs(),
            install = match svc {
                // Valkey is never started by the boot itself: after a reboot Juju runs the charm's
                // `start` hook, whose reconcile brings Valkey back only where that is safe (a node
                // whose data is gone must not come back as a primary its replicas copy; a node the
                // charm keeps down stays down). Sentinel is always safe to start.
                Service::Valkey => "",
                Service::Sentinel => "\n[Install]\nWantedBy=multi-user.target\n",
            },
        )
    }

    /// Writes both unit files for `valkey_delay`, each only when its content changed, and
    /// reloads systemd when one did. Returns whether one did.
    fn write_units(&self, valkey_delay: Duration) -> Result<bool, WorkloadError> {
        let mut changed = false;
        for svc in [Service::Valkey, Service::Sentinel] {
            changed |= write_file(&self.unit_path(svc), &self.render_unit_at(svc, valkey_delay), 0o644)?;
        }
        if changed {
            self.systemctl(&["daemon-reload"])?;
        }
        Ok(changed)
    }

    /// Runs `systemctl args...`; its stdout when it succeeds.
    // The service seam: systemctl.
    #[allow(clippy::disallowed_methods)]
    fn systemctl(&self, args: &[&str]) -> Result<String, WorkloadError> {
        if !matches!(args.first(), Some(&"show") | Some(&"is-failed")) {
            // A change: the units' state read before it no longer holds.
            self.forget_states();
        }
        let command = || format!("systemctl {}", args.join(" "));
        let out = Command::new(&self.systemctl)
            .args(args)
            .output()
            .map_err(|e| WorkloadError::Command { command: command(), detail: e.to_string() })?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(WorkloadError::Command {
                command: command(),
                detail: format!("{}: {}", out.status, String::from_utf8_lossy(&out.stderr).trim()),
            })
        }
    }

    /// Whether systemd holds `svc` in state `failed` (then `start` is refused until
    /// `reset-failed`, e.g. after the start limit of a unit file from an older charm).
    fn is_failed(&self, svc: Service) -> bool {
        self.systemctl(&["is-failed", "--quiet", &self.unit_name(svc)]).is_ok()
    }
}

/// The number of milliseconds in a `RestartSec=<n>ms` line of `unit`.
fn restart_sec_ms(unit: &str) -> Option<u64> {
    unit.lines().find_map(|l| l.strip_prefix("RestartSec=")?.strip_suffix("ms")?.parse().ok())
}

impl Supervisor for Systemd {
    fn start(&self, svc: Service) -> Result<(), WorkloadError> {
        // Active, or waiting out RestartSec after a crash: a start job would cut the wait short
        // (or block until it ends), and the wait is what keeps a crashed primary down.
        if self.is_supervised(svc) {
            return Ok(());
        }
        let name = self.unit_name(svc);
        if write_file(&self.unit_path(svc), &self.render_unit(svc), 0o644)? {
            self.systemctl(&["daemon-reload"])?;
        }
        if self.is_failed(svc) {
            self.systemctl(&["reset-failed", &name])?;
        }
        match svc {
            Service::Sentinel => self.systemctl(&["enable", "--quiet", &name])?,
            // A Valkey unit enabled by an older charm revision is taken out of the boot.
            Service::Valkey => self.systemctl(&["disable", "--quiet", &name])?,
        };
        self.systemctl(&["start", &name]).map(drop)
    }

    fn stop(&self, svc: Service) -> Result<(), WorkloadError> {
        let name = self.unit_name(svc);
        if !self.unit_path(svc).exists() {
            return Ok(());
        }
        // systemctl stop waits for the process to exit (bounded by TimeoutStopSec).
        self.systemctl(&["stop", &name]).map(drop)
    }

    fn remove(&self, svc: Service) -> Result<(), WorkloadError> {
        let path = self.unit_path(svc);
        if !path.exists() {
            return Ok(());
        }
        let name = self.unit_name(svc);
        self.systemctl(&["stop", &name])?;
        self.systemctl(&["disable", "--quiet", &name])?;
        std::fs::remove_file(&path).map_err(io_err("remove", &path))?;
        self.systemctl(&["daemon-reload"]).map(drop)
    }

    fn has_supervision(&self) -> bool {
        [Service::Valkey, Service::Sentinel].into_iter().any(|svc| self.unit_path(svc).exists())
    }

    fn refresh(&self, valkey_restart_delay: Duration) -> Result<bool, WorkloadError> {
        self.write_units(valkey_restart_delay)
    }

    fn restart_delay(&self) -> Option<Duration> {
        let valkey = std::fs::read_to_string(self.unit_path(Service::Valkey)).ok()?;
        let delay = Duration::from_millis(restart_sec_ms(&valkey)?);
        let current = [Service::Valkey, Service::Sentinel].into_iter().all(|svc| {
            std::fs::read_to_string(self.unit_path(svc)).is_ok_and(|t| t == self.render_unit_at(svc, delay))
        });
        current.then_some(delay)
    }

    fn detach(&self) -> Detach {
        Detach::SystemdRun
    }

    // The service seam: systemctl.
    #[allow(clippy::disallowed_methods)]
    fn is_supervised(&self, svc: Service) -> bool {
        // `activating` covers the RestartSec wait after a crash.
        self.state(svc).supervised
    }

    fn pid(&self, svc: Service) -> Option<u32> {
        self.state(svc).pid
    }
}

#[cfg(test)]
#[path = "systemd_tests.rs"]
mod tests;

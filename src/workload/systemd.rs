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
//!
//! Least privilege (issue 15): when the charm runs as root, both services run as the service user
//! ([`super::user`]) in a sandbox ([`HARDENING`]: read-only system, private devices, no
//! privilege gain, no capabilities), writing only the unit's own directories. They ask the charm for
//! hooks through a spool that a third, root pair of units relays to `juju-exec`
//! ([`super::relay`]): a path unit watching the spool and the service it starts.

use super::files::{io_err, write_file};
use super::relay::{self, RelayArgs};
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
    /// The user both services run as (`User=`, `Group=`); `None` runs them as root
    /// ([`super::user::wanted`]).
    pub user: Option<String>,
    /// The relay of the services' requests to the charm (the path unit and its service).
    pub relay: RelayArgs,
    /// The charm's `dispatch` binary (it implements `relay`).
    pub dispatch: PathBuf,
    /// Both units' state as one `systemctl show` read it, and when. *Why:* each `systemctl` run
    /// costs milliseconds, and one hook asks about the units several times (observe, retune);
    /// reused for [`STATE_TTL`], dropped by every change this supervisor makes.
    pub seen: Cell<Option<(Instant, [UnitState; 2])>>,
}

/// How long a `systemctl show` answer is reused (a hook's observation phase; never across a change
/// this supervisor makes).
pub const STATE_TTL: Duration = Duration::from_millis(500);

/// The sandbox of both services. Each line was tried on a systemd machine of the local model (a
/// systemd-nspawn container, where some namespaces and mounts are restricted): Valkey and Sentinel
/// start, fail over and rewrite their files under all of them. `ProtectSystem=strict` makes every
/// path read-only but the unit's data, config, run and log directories (`ReadWritePaths=`).
/// `PrivateTmp=yes` is added by [`private_tmp`] where it fits.
pub const HARDENING: &str = "NoNewPrivileges=yes\n\
     ProtectSystem=strict\n\
     ProtectHome=yes\n\
     PrivateDevices=yes\n\
     ProtectKernelTunables=yes\n\
     ProtectKernelModules=yes\n\
     ProtectKernelLogs=yes\n\
     ProtectControlGroups=yes\n\
     ProtectClock=yes\n\
     ProtectHostname=yes\n\
     RestrictSUIDSGID=yes\n\
     RestrictRealtime=yes\n\
     RestrictNamespaces=yes\n\
     LockPersonality=yes\n\
     RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6\n\
     CapabilityBoundingSet=\n\
     AmbientCapabilities=\n\
     SystemCallArchitectures=native\n";

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
pub(crate) fn exec_word(path: &Path) -> String {
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
            user: super::user::wanted().map(str::to_string),
            relay: RelayArgs {
                spool: paths.spool_dir(),
                unit: ctx.unit.clone(),
                juju_exec: crate::juju::juju_exec(),
            },
            dispatch: ctx.charm_dir.join("dispatch"),
            seen: Cell::new(None),
        }
    }

    /// `valkey-<app>-<n>-relay.path` and `...-relay.service`: the relay's units.
    pub fn relay_unit_names(&self) -> [String; 2] {
        [format!("{}-relay.path", self.prefix), format!("{}-relay.service", self.prefix)]
    }

    /// The relay's unit files and their content.
    fn relay_units(&self) -> [(PathBuf, String); 2] {
        let [path, service] = self.relay_unit_names();
        [
            (self.unit_dir.join(&path), relay::render_path_unit(&self.unit, &self.relay.spool, &service)),
            (
                self.unit_dir.join(&service),
                relay::render_service_unit(&self.unit, &self.dispatch, &self.relay),
            ),
        ]
    }

    /// The user, group and sandbox lines of both services.
    fn sandbox(&self) -> String {
        let user = match &self.user {
            Some(u) => format!("User={u}\nGroup={u}\n"),
            None => String::new(),
        };
        let p = &self.paths;
        let writable: Vec<String> =
            [p.data_dir(), p.etc_dir(), p.run_dir(), p.log_dir()].iter().map(|d| exec_word(d)).collect();
        // Every start, also systemd's own restarts after a crash: what a process of an older charm
        // revision (still running as root) left in the directories becomes the user's again.
        let chown = match &self.user {
            Some(u) => {
                format!("ExecStartPre=+/bin/chown -R --no-dereference {u}:{u} {}\n", writable.join(" "))
            }
            None => String::new(),
        };
        let tmp = if private_tmp(p.root()) { "PrivateTmp=yes\n" } else { "" };
        format!("{user}{chown}UMask=0077\n{HARDENING}{tmp}ReadWritePaths={}\n", writable.join(" "))
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
             ExecStopPost=-/bin/sh {exited}\n\
             {sandbox}\
             {install}",
            unit = self.unit,
            server = exec_word(&self.server),
            conf = exec_word(&conf),
            // WorkingDirectory= takes a plain absolute path: systemd rejects quotes there.
            workdir = self.paths.run_dir().display(),
            delay = delay.as_millis(),
            stop = STOP_TIMEOUT.as_secs(),
            exited = exec_word(&self.paths.exited_script()),
            sandbox = self.sandbox(),
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

    /// Writes both services' unit files for `valkey_delay` and the relay's, each only when its
    /// content changed, and reloads systemd when one did; a relay path unit that changed is
    /// (re)started. Returns whether anything changed.
    fn write_units(&self, valkey_delay: Duration) -> Result<bool, WorkloadError> {
        let mut changed = false;
        for svc in [Service::Valkey, Service::Sentinel] {
            changed |= write_file(&self.unit_path(svc), &self.render_unit_at(svc, valkey_delay), 0o644)?;
        }
        let mut relay_changed = false;
        for (path, text) in self.relay_units() {
            relay_changed |= write_file(&path, &text, 0o644)?;
        }
        if changed || relay_changed {
            self.systemctl(&["daemon-reload"])?;
        }
        if relay_changed {
            let [path, _] = self.relay_unit_names();
            self.systemctl(&["enable", "--quiet", &path])?;
            self.systemctl(&["restart", &path])?;
        }
        Ok(changed || relay_changed)
    }

    /// Creates the service user if needed and hands it the unit's directories.
    fn adopt_user(&self) -> Result<(), WorkloadError> {
        if let Some(name) = &self.user {
            let account = super::user::ensure(name)?;
            super::user::adopt(&self.paths, &account)?;
        }
        Ok(())
    }

    /// Stops, disables and deletes the relay's units (the services are gone).
    fn remove_relay(&self) -> Result<(), WorkloadError> {
        let [path, service] = self.relay_unit_names();
        if !self.unit_dir.join(&path).exists() {
            return Ok(());
        }
        self.systemctl(&["disable", "--quiet", "--now", &path])?;
        // Its service is not stopped: this very hook may run inside it (juju-exec from the relay).
        for name in [path, service] {
            let file = self.unit_dir.join(name);
            std::fs::remove_file(&file).map_err(io_err("remove", &file))?;
        }
        self.systemctl(&["daemon-reload"]).map(drop)
    }

    /// Runs `systemctl args...`; its stdout when it succeeds.
    fn systemctl(&self, args: &[&str]) -> Result<String, WorkloadError> {
        if !matches!(args.first(), Some(&"show") | Some(&"is-failed")) {
            // A change: the units' state read before it no longer holds.
            self.forget_states();
        }
        run_systemctl(&self.systemctl, args)
    }

    /// Whether systemd holds `svc` in state `failed` (then `start` is refused until
    /// `reset-failed`, e.g. after the start limit of a unit file from an older charm).
    fn is_failed(&self, svc: Service) -> bool {
        self.systemctl(&["is-failed", "--quiet", &self.unit_name(svc)]).is_ok()
    }
}

/// Runs `program args...` (`program` is `systemctl` or a stand-in for it); its stdout when it
/// succeeds, else an error naming `systemctl args...` with the exit status and stderr.
// The service seam: systemctl.
#[allow(clippy::disallowed_methods)]
pub fn run_systemctl(program: &Path, args: &[&str]) -> Result<String, WorkloadError> {
    let command = || format!("systemctl {}", args.join(" "));
    let out = Command::new(program)
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

/// Whether the services may get a private `/tmp`: not when the unit's storage itself lives under
/// `/tmp` or `/var/tmp` (a temporary storage location), which a private one would hide — the
/// services would fail at the NAMESPACE step (measured on a systemd machine of the local model
/// when its storage still sat under the model's temp directory; it is mounted at the charm's
/// `location:` now, as on Juju, and the services get a private `/tmp`: `tests/machines.rs`).
pub fn private_tmp(storage: &Path) -> bool {
    !(storage.starts_with("/tmp") || storage.starts_with("/var/tmp"))
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
        self.adopt_user()?;
        self.write_units(self.valkey_restart_delay)?;
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
        self.systemctl(&["daemon-reload"])?;
        if !self.unit_path(Service::Valkey).exists() && !self.unit_path(Service::Sentinel).exists() {
            self.remove_relay()?;
        }
        Ok(())
    }

    fn has_supervision(&self) -> bool {
        [Service::Valkey, Service::Sentinel].into_iter().any(|svc| self.unit_path(svc).exists())
            || self.relay_units().iter().any(|(path, _)| path.exists())
    }

    fn refresh(&self, valkey_restart_delay: Duration) -> Result<bool, WorkloadError> {
        self.write_units(valkey_restart_delay)
    }

    fn restart_delay(&self) -> Option<Duration> {
        let valkey = std::fs::read_to_string(self.unit_path(Service::Valkey)).ok()?;
        let delay = Duration::from_millis(restart_sec_ms(&valkey)?);
        let current = [Service::Valkey, Service::Sentinel].into_iter().all(|svc| {
            std::fs::read_to_string(self.unit_path(svc)).is_ok_and(|t| t == self.render_unit_at(svc, delay))
        }) && self
            .relay_units()
            .iter()
            .all(|(path, text)| std::fs::read_to_string(path).is_ok_and(|t| &t == text));
        current.then_some(delay)
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

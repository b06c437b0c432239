//! Services of their own beside Valkey and Sentinel (the metrics exporter, the charm's metrics
//! server), under the same supervisor as they: a systemd unit each where systemd runs the
//! machine, else a detached `dispatch supervise` process each (see [`super::detached`]).
//!
//! Unlike Valkey they carry no HA logic: restarted 2 s after an exit, started at boot, and
//! restarted whenever their definition (program and arguments) changes. Kept apart from
//! [`super::service::Service`] so that the two HA services' supervision stays as it is.

use super::detached::{self, wait_until};
use super::files::{create_private_dir, io_err, write_file};
use super::pidfile;
use super::supervise::child_pidfile;
use super::{Paths, WorkloadError};
use crate::juju::Context;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Pause before a side service is restarted after it exits.
pub const RESTART_DELAY: Duration = Duration::from_secs(2);
/// How long starting or stopping one may take.
pub const WAIT: Duration = Duration::from_secs(10);

/// One side service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SideService {
    /// Short name (`exporter`, `charm-metrics`): unit file and pid file names.
    pub name: &'static str,
    /// For the unit's description.
    pub description: String,
    /// The program.
    pub program: PathBuf,
    /// Its arguments (never a secret: argv is visible to every local user).
    pub args: Vec<String>,
}

/// Supervises side services the way this machine supervises Valkey.
#[derive(Debug, Clone)]
pub enum SideSupervisor {
    /// systemd units `valkey-<app>-<n>-<name>.service`.
    Systemd {
        /// `valkey-<app>-<n>`.
        prefix: String,
        /// The Juju unit, for descriptions.
        unit: String,
        /// Where unit files go.
        unit_dir: PathBuf,
    },
    /// `dispatch supervise` processes with pid files under `run/`.
    Direct {
        /// The charm's `dispatch`.
        dispatch: PathBuf,
        /// The unit's workload paths.
        paths: Paths,
    },
}

/// Quotes a word for `ExecStart=` when it holds anything but plain characters.
fn exec_word(s: &str) -> String {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._/-+:@,=".contains(&b)) {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"").replace('%', "%%"))
    }
}

impl SideSupervisor {
    /// The supervisor for `ctx`'s unit: systemd when it runs the machine.
    pub fn for_unit(ctx: &Context, paths: &Paths) -> SideSupervisor {
        if super::service::use_systemd() {
            SideSupervisor::Systemd {
                prefix: format!("valkey-{}-{}", ctx.app, ctx.unit_number),
                unit: ctx.unit.clone(),
                unit_dir: PathBuf::from(super::systemd::UNIT_DIR),
            }
        } else {
            SideSupervisor::Direct { dispatch: ctx.charm_dir.join("dispatch"), paths: paths.clone() }
        }
    }

    /// `valkey-<app>-<n>-<name>.service`.
    pub fn unit_name(prefix: &str, name: &str) -> String {
        format!("{prefix}-{name}.service")
    }

    /// The unit file of `svc` for Juju unit `unit`. Read-only file system, no privilege gain. (No
    /// `PrivateTmp`: the programs and files a side service reads may live in the unit's charm
    /// directory, which a local model keeps under /tmp.)
    pub fn render_unit(unit: &str, svc: &SideService) -> String {
        let exec: Vec<String> =
            std::iter::once(svc.program.display().to_string()).chain(svc.args.iter().cloned()).collect();
        let exec: Vec<String> = exec.iter().map(|w| exec_word(w)).collect();
        format!(
            "# Rendered by the valkey charm; local edits are overwritten.\n\
             [Unit]\n\
             Description={description} of Juju unit {unit}\n\
             After=network-online.target\n\
             StartLimitIntervalSec=0\n\
             \n\
             [Service]\n\
             Type=simple\n\
             ExecStart={exec}\n\
             Restart=always\n\
             RestartSec={delay}ms\n\
             NoNewPrivileges=yes\n\
             ProtectSystem=strict\n\
             ProtectHome=yes\n\
             \n\
             [Install]\n\
             WantedBy=multi-user.target\n",
            description = svc.description,
            exec = exec.join(" "),
            delay = RESTART_DELAY.as_millis(),
        )
    }

    /// Runs `svc` as defined now: started when not running, restarted when its definition
    /// changed. Returns whether anything was (re)started.
    pub fn ensure(&self, svc: &SideService) -> Result<bool, WorkloadError> {
        match self {
            SideSupervisor::Systemd { prefix, unit, unit_dir } => {
                let name = Self::unit_name(prefix, svc.name);
                let changed = write_file(&unit_dir.join(&name), &Self::render_unit(unit, svc), 0o644)?;
                if changed {
                    systemctl(&["daemon-reload"])?;
                    systemctl(&["enable", "--quiet", &name])?;
                    systemctl(&["restart", &name])?;
                    return Ok(true);
                }
                if systemctl(&["is-active", "--quiet", &name]).is_ok() {
                    return Ok(false);
                }
                let _ = systemctl(&["reset-failed", &name]);
                systemctl(&["enable", "--quiet", &name])?;
                systemctl(&["start", &name]).map(|_| true)
            }
            SideSupervisor::Direct { dispatch, paths } => direct_ensure(dispatch, paths, svc),
        }
    }

    /// Whether `name` runs (its process is alive).
    pub fn is_running(&self, name: &str) -> bool {
        match self {
            SideSupervisor::Systemd { prefix, .. } => {
                systemctl(&["is-active", "--quiet", &Self::unit_name(prefix, name)]).is_ok()
            }
            SideSupervisor::Direct { paths, .. } => {
                let sup = direct_pidfile(paths, name);
                pidfile::live(&sup).is_some() && pidfile::live(&child_pidfile(&sup)).is_some()
            }
        }
    }

    /// Whether every one of `names` runs: one `systemctl show` for all of them (each call costs a
    /// hook milliseconds; this one runs in every hook). Not `is-active a b`: that succeeds when
    /// *any* of them is active.
    pub fn all_running(&self, names: &[&str]) -> bool {
        match self {
            SideSupervisor::Systemd { prefix, .. } => {
                let units: Vec<String> = names.iter().map(|n| Self::unit_name(prefix, n)).collect();
                let mut args = vec!["show", "--property=ActiveState"];
                args.extend(units.iter().map(String::as_str));
                systemctl(&args).is_ok_and(|text| all_active(&text, names.len()))
            }
            SideSupervisor::Direct { .. } => names.iter().all(|n| self.is_running(n)),
        }
    }

    /// Stops `name` for good (systemd: the unit stopped, disabled and removed).
    pub fn remove(&self, name: &str) -> Result<(), WorkloadError> {
        match self {
            SideSupervisor::Systemd { prefix, unit_dir, .. } => {
                let unit = Self::unit_name(prefix, name);
                let path = unit_dir.join(&unit);
                if !path.exists() {
                    return Ok(());
                }
                systemctl(&["disable", "--now", "--quiet", &unit])?;
                std::fs::remove_file(&path).map_err(io_err("remove", &path))?;
                systemctl(&["daemon-reload"]).map(drop)
            }
            SideSupervisor::Direct { paths, .. } => direct_stop(paths, name),
        }
    }
}

/// Whether `systemctl show --property=ActiveState` of `count` units says every one is active.
pub fn all_active(show: &str, count: usize) -> bool {
    show.lines().filter(|l| l.trim() == "ActiveState=active").count() == count
}

/// Runs `systemctl args…` (the one on PATH); its stdout when it succeeds.
fn systemctl(args: &[&str]) -> Result<String, WorkloadError> {
    super::systemd::run_systemctl(Path::new("systemctl"), args)
}

/// `run/<name>.supervisor.pid`.
pub fn direct_pidfile(paths: &Paths, name: &str) -> PathBuf {
    paths.run_dir().join(format!("{name}.supervisor.pid"))
}

/// `run/<name>.cmdline`: the definition the running supervisor was started with.
fn direct_cmdline(paths: &Paths, name: &str) -> PathBuf {
    paths.run_dir().join(format!("{name}.cmdline"))
}

fn cmdline(svc: &SideService) -> String {
    std::iter::once(svc.program.display().to_string())
        .chain(svc.args.iter().cloned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Starts `svc` under a detached supervisor, first stopping one that runs an older definition;
/// whether it was (re)started.
fn direct_ensure(dispatch: &Path, paths: &Paths, svc: &SideService) -> Result<bool, WorkloadError> {
    let pidfile = direct_pidfile(paths, svc.name);
    let wanted = cmdline(svc);
    let running = pidfile::live(&pidfile).is_some();
    let same = std::fs::read_to_string(direct_cmdline(paths, svc.name)).is_ok_and(|c| c == wanted);
    if running && same {
        return Ok(false);
    }
    direct_stop(paths, svc.name)?;
    create_private_dir(&paths.run_dir())?;
    create_private_dir(&paths.log_dir())?;
    write_file(&direct_cmdline(paths, svc.name), &wanted, 0o600)?;
    let log_path = paths.log_dir().join(format!("{}-supervisor.log", svc.name));
    let command = format!("{} supervise ({})", dispatch.display(), svc.name);
    let delay = RESTART_DELAY.as_millis().to_string();
    let args = [OsStr::new("supervise"), "--pidfile".as_ref(), pidfile.as_os_str()]
        .into_iter()
        .chain(["--restart-delay-ms".as_ref(), delay.as_ref(), "--".as_ref(), svc.program.as_os_str()])
        .chain(svc.args.iter().map(OsStr::new));
    let mut child = detached::spawn(dispatch, args, &paths.run_dir(), &log_path, &command)?;
    let child_file = child_pidfile(&pidfile);
    wait_until(WAIT, || pidfile::live(&child_file).is_some() || matches!(child.try_wait(), Ok(Some(_))));
    if pidfile::live(&child_file).is_some() {
        return Ok(true);
    }
    let tail = std::fs::read_to_string(&log_path).unwrap_or_default();
    let tail: Vec<&str> = tail.lines().rev().take(3).collect();
    Err(WorkloadError::Command {
        command,
        detail: format!("did not start: {}", tail.into_iter().rev().collect::<Vec<_>>().join(" | ")),
    })
}

fn direct_stop(paths: &Paths, name: &str) -> Result<(), WorkloadError> {
    let pidfile = direct_pidfile(paths, name);
    detached::stop(pidfile::live(&pidfile), pidfile::live(&child_pidfile(&pidfile)), WAIT, name)
}

#[cfg(test)]
#[path = "sidecar_tests.rs"]
mod tests;

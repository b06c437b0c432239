//! Supervision without systemd: a detached `dispatch supervise` process per service (see
//! [`super::supervise`] and [`super::detached`]), started in its own session with its output in the service's
//! supervisor log and the hook's environment inherited (the local model finds a unit's
//! processes by `JUJU_MODEL_UUID`/`JUJU_UNIT_NAME` in their environment, so it is never cleared).

use super::detached::{self, wait_until};
use super::files::{create_private_dir, write_file};
use super::pidfile::{self, PidRecord};
use super::service::{Service, Supervisor, SENTINEL_RESTART_DELAY, STOP_TIMEOUT};
use super::supervise::{child_pidfile, restart_delay_file};
use super::{Installed, Paths, WorkloadError, START_FENCE};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long [`Direct::start`] waits for the supervisor to have started its child.
pub const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Services supervised by detached `dispatch supervise` processes.
#[derive(Debug, Clone)]
pub struct Direct {
    /// The charm's `dispatch` binary (it implements `supervise`).
    pub dispatch: PathBuf,
    /// The server binary.
    pub server: PathBuf,
    /// Config files, pid files and logs.
    pub paths: Paths,
    /// Delay before Valkey is restarted after an unexpected exit.
    pub valkey_restart_delay: Duration,
    /// The relay every supervisor runs for the services' requests to the charm
    /// ([`super::relay`]); `None` runs none.
    pub relay: Option<super::relay::RelayArgs>,
}

/// `run/<svc>.supervisor.pid`: where the direct supervisor of `svc` records itself.
pub fn supervisor_pidfile(paths: &Paths, svc: Service) -> PathBuf {
    paths.run_dir().join(format!("{}.supervisor.pid", svc.name()))
}

impl Direct {
    /// A direct supervisor running `dispatch`.
    pub fn new(
        dispatch: &Path,
        paths: &Paths,
        installed: &Installed,
        valkey_restart_delay: Duration,
    ) -> Direct {
        Direct {
            dispatch: dispatch.to_path_buf(),
            server: installed.server.clone(),
            paths: paths.clone(),
            valkey_restart_delay,
            relay: None,
        }
    }

    /// The same supervisor, relaying the services' requests as `relay` says.
    pub fn with_relay(self, relay: super::relay::RelayArgs) -> Direct {
        Direct { relay: Some(relay), ..self }
    }

    /// `run/<svc>.supervisor.pid`.
    pub fn supervisor_pidfile(&self, svc: Service) -> PathBuf {
        supervisor_pidfile(&self.paths, svc)
    }

    /// `log/<svc>-supervisor.log`: the supervisor's notes and the server's own stdout/stderr.
    pub fn supervisor_log(&self, svc: Service) -> PathBuf {
        self.paths.log_dir().join(format!("{}-supervisor.log", svc.name()))
    }

    /// The supervisor's arguments after `dispatch`.
    pub fn supervise_args(&self, svc: Service) -> Vec<String> {
        let (conf, delay) = match svc {
            Service::Valkey => (self.paths.valkey_conf(), self.valkey_restart_delay),
            Service::Sentinel => (self.paths.sentinel_conf(), SENTINEL_RESTART_DELAY),
        };
        let mut args = vec![
            "supervise".to_string(),
            "--pidfile".to_string(),
            self.supervisor_pidfile(svc).to_string_lossy().into_owned(),
            "--restart-delay-ms".to_string(),
            delay.as_millis().to_string(),
        ];
        if svc == Service::Valkey {
            args.push("--on-restart".to_string());
            args.push(self.paths.restarted_script().to_string_lossy().into_owned());
        }
        if let Some(relay) = &self.relay {
            args.extend(relay.to_args());
        }
        args.push("--".to_string());
        args.push(self.server.to_string_lossy().into_owned());
        args.push(conf.to_string_lossy().into_owned());
        match svc {
            Service::Valkey => args.extend(START_FENCE.iter().map(|a| a.to_string())),
            Service::Sentinel => args.push("--sentinel".to_string()),
        }
        args
    }

    /// The file the running supervisor of Valkey reads its restart delay from before each restart.
    pub fn restart_delay_file(&self) -> PathBuf {
        restart_delay_file(&self.supervisor_pidfile(Service::Valkey))
    }

    /// The live supervisor of `svc`, if any.
    fn supervisor(&self, svc: Service) -> Option<PidRecord> {
        pidfile::live(&self.supervisor_pidfile(svc))
    }

    /// The live server process of `svc`, if any (also found when its supervisor died).
    fn child(&self, svc: Service) -> Option<PidRecord> {
        pidfile::live(&child_pidfile(&self.supervisor_pidfile(svc)))
    }

    /// The last lines of the supervisor log, for error messages.
    fn log_tail(&self, svc: Service) -> String {
        let text = std::fs::read_to_string(self.supervisor_log(svc)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().rev().take(3).collect();
        lines.into_iter().rev().collect::<Vec<_>>().join(" | ")
    }
}

impl Supervisor for Direct {
    fn start(&self, svc: Service) -> Result<(), WorkloadError> {
        if self.supervisor(svc).is_some() {
            return Ok(());
        }
        if self.child(svc).is_some() {
            // Its supervisor was killed: stop the orphan, or a second server would fight it for
            // the port and crash-loop.
            self.stop(svc)?;
        }
        create_private_dir(&self.paths.run_dir())?;
        create_private_dir(&self.paths.log_dir())?;
        create_private_dir(&self.paths.spool_dir())?;
        if svc == Service::Valkey {
            // The delay file overrides the command line: a stale one must not outlive this start.
            self.refresh(self.valkey_restart_delay)?;
        }
        let mut child = detached::spawn(
            &self.dispatch,
            self.supervise_args(svc),
            &self.paths.run_dir(),
            &self.supervisor_log(svc),
            &format!("{} supervise", self.dispatch.display()),
        )?;
        let started = wait_until(START_TIMEOUT, || {
            self.child(svc).is_some() || matches!(child.try_wait(), Ok(Some(_)))
        });
        if self.child(svc).is_some() {
            return Ok(());
        }
        if started {
            // The supervisor exited before its child ran.
            let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
            return Err(WorkloadError::Command {
                command: format!("{} supervise ({svc})", self.dispatch.display()),
                detail: format!("{status}: {}", self.log_tail(svc)),
            });
        }
        Err(WorkloadError::Timeout {
            service: svc.to_string(),
            what: "start",
            seconds: START_TIMEOUT.as_secs(),
        })
    }

    fn stop(&self, svc: Service) -> Result<(), WorkloadError> {
        detached::stop(self.supervisor(svc), self.child(svc), STOP_TIMEOUT, &svc.to_string())
    }

    fn pid(&self, svc: Service) -> Option<u32> {
        self.child(svc).map(|r| r.pid)
    }

    fn refresh(&self, valkey_restart_delay: Duration) -> Result<bool, WorkloadError> {
        let ms = valkey_restart_delay.as_millis().to_string();
        write_file(&self.restart_delay_file(), &ms, 0o600)
    }

    fn restart_delay(&self) -> Option<Duration> {
        let text = std::fs::read_to_string(self.restart_delay_file()).ok()?;
        text.trim().parse().ok().map(Duration::from_millis)
    }

    fn is_supervised(&self, svc: Service) -> bool {
        self.supervisor(svc).is_some() || self.child(svc).is_some()
    }
}

#[cfg(test)]
#[path = "direct_tests.rs"]
mod tests;

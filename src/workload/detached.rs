//! A detached `dispatch supervise` process: how a service runs where systemd does not supervise
//! the machine. Starting one (its own session, its output appended to a supervisor log, no hook
//! context) and stopping one (its supervisor asked first, both killed when they outlast the
//! timeout) are the same for the two HA services ([`super::direct`]) and the side services
//! ([`super::sidecar`]); what each passes to `supervise` and what each waits for is its own.

use super::files::io_err;
use super::pidfile::PidRecord;
use super::WorkloadError;
use std::ffi::OsStr;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Poll interval while waiting for processes.
const POLL: Duration = Duration::from_millis(20);
/// How long processes that outlast the stop timeout get to die after `SIGKILL`.
const KILL_GRACE: Duration = Duration::from_secs(5);

/// Polls `done` every [`POLL`] until it holds or `timeout` passes; returns whether it held
/// (the charm's one poll loop, [`crate::switchover::poll_every`]).
pub fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    crate::switchover::poll_every(timeout, POLL, || done().then_some(())).is_some()
}

/// Spawns `dispatch args…` in `run_dir`, detached: in a session of its own, stdin closed, stdout
/// and stderr appended to `log`. `command` is how errors name it. Returns at once; the caller
/// waits for what the supervisor starts.
// The service seam: starts the supervisor process (setsid: see SAFETY below).
#[allow(clippy::disallowed_methods, unsafe_code)]
pub fn spawn(
    dispatch: &Path,
    args: impl IntoIterator<Item = impl AsRef<OsStr>>,
    run_dir: &Path,
    log: &Path,
    command: &str,
) -> Result<Child, WorkloadError> {
    let out = std::fs::OpenOptions::new().create(true).append(true).open(log).map_err(io_err("open", log))?;
    let err = out.try_clone().map_err(io_err("open", log))?;
    let mut cmd = Command::new(dispatch);
    cmd.args(args)
        .current_dir(run_dir)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        // A service is not part of the hook that started it: Sentinel's client-reconfig
        // script calls juju-exec, which refuses to run inside a hook context
        // (`cmd/jujud/run/run.go`), as a systemd service never inherits one.
        .env_remove("JUJU_CONTEXT_ID");
    // SAFETY: setsid(2) is async-signal-safe; it detaches the supervisor from the hook's
    // session and process group, so the agent ending the hook does not end the service.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.spawn().map_err(|e| WorkloadError::Command { command: command.to_string(), detail: e.to_string() })
}

/// Stops a supervisor (`sup`) and the server it runs (`child`), as their pid files named them:
/// `SIGTERM` to the supervisor (which stops its child), or to the child when its supervisor is
/// gone; `SIGKILL` to both when they outlast `timeout`. `service` names them in the error.
pub fn stop(
    sup: Option<PidRecord>,
    child: Option<PidRecord>,
    timeout: Duration,
    service: &str,
) -> Result<(), WorkloadError> {
    let gone = |r: Option<PidRecord>| r.is_none_or(|r| !r.is_alive());
    if gone(sup) && gone(child) {
        return Ok(());
    }
    match (sup, child) {
        (Some(s), _) => s.signal(libc::SIGTERM),
        (None, Some(c)) => c.signal(libc::SIGTERM),
        (None, None) => true,
    };
    if wait_until(timeout, || gone(sup) && gone(child)) {
        return Ok(());
    }
    for rec in [child, sup].into_iter().flatten() {
        rec.signal(libc::SIGKILL);
    }
    if wait_until(KILL_GRACE, || gone(sup) && gone(child)) {
        Ok(())
    } else {
        Err(WorkloadError::Timeout {
            service: service.to_string(),
            what: "stop",
            seconds: (timeout + KILL_GRACE).as_secs(),
        })
    }
}

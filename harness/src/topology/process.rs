//! Starting and supervising the fixture's processes: spawn `valkey-server` with its config and log,
//! make it die with the test process, and poll conditions with a deadline.

use std::fs::File;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{io_error, TopologyError};
use crate::valkey::Endpoint;

/// One started process.
#[derive(Debug)]
pub(super) struct Server {
    /// Where it listens.
    pub(super) endpoint: Endpoint,
    /// The child; `None` once killed.
    pub(super) child: Option<Child>,
    /// Its stdout/stderr (Valkey's log).
    pub(super) log: PathBuf,
}

pub(super) fn spawn(
    binary: &Path,
    dir: &Path,
    conf: &str,
    extra: &[&str],
    endpoint: Endpoint,
) -> Result<Server, TopologyError> {
    let conf_path = dir.join("valkey.conf");
    std::fs::write(&conf_path, conf).map_err(io_error(format!("writing {}", conf_path.display())))?;
    let log = dir.join("server.log");
    let out = File::create(&log).map_err(io_error("log file"))?;
    let err = out.try_clone().map_err(io_error("log file"))?;
    let mut command = Command::new(binary);
    command.arg(&conf_path).args(extra).current_dir(dir).stdin(Stdio::null()).stdout(out).stderr(err);
    // SAFETY: prctl(PR_SET_PDEATHSIG) is async-signal-safe; it makes the server die with the test
    // process even if the process is killed before Drop runs (no leaked servers).
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = command.spawn().map_err(io_error(format!("starting {}", binary.display())))?;
    Ok(Server { endpoint, child: Some(child), log })
}

/// Polls `check` every 50 ms until it succeeds or `timeout` passes.
pub(super) fn poll(
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> Result<(), String>,
) -> Result<(), TopologyError> {
    let start = Instant::now();
    loop {
        match check() {
            Ok(()) => return Ok(()),
            Err(last) if start.elapsed() >= timeout => {
                return Err(TopologyError::Timeout { what: what.into(), waited: start.elapsed(), last })
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

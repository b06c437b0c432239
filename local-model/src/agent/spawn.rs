//! Starting the agent: any command that needs it starts `juju-local agent --dir <model>` detached
//! (own session, output to `<model>/agent.log`) when `agent.pid` is absent or names a dead process.

use crate::model::{home, processes, ModelError};
use crate::store::Store;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Makes sure the model's agent runs, starting it if needed.
pub fn ensure_running(store: &Store) -> Result<(), ModelError> {
    if home::agent_pid(store.dir()).is_some_and(processes::alive) {
        return Ok(());
    }
    let exe = std::env::current_exe().map_err(ModelError::io("cannot locate juju-local"))?;
    let log_path = store.dir().join("agent.log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(ModelError::io(format!("cannot open {}", log_path.display())))?;
    let err = log.try_clone().map_err(ModelError::io("cannot duplicate log handle"))?;
    let mut cmd = Command::new(exe);
    cmd.arg("agent").arg("--dir").arg(store.dir()).stdin(Stdio::null()).stdout(log).stderr(err);
    // SAFETY: setsid is async-signal-safe and touches no memory shared with the parent.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(ModelError::io("cannot start the agent"))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if home::agent_pid(store.dir()).is_some_and(processes::alive) {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            // It exits at once when another agent holds the lock; that one is about to write its pid.
            if !status.success() {
                return Err(ModelError::Usage(format!(
                    "the agent exited with {status}; see {}",
                    log_path.display()
                )));
            }
        }
        if Instant::now() >= deadline {
            return Err(ModelError::Usage(format!("the agent did not start; see {}", log_path.display())));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

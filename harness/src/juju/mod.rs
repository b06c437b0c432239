//! The juju command-line driver. Scenarios touch a model only through the subset of the juju CLI
//! used here, with juju 3.6's arguments and JSON shapes, so the same code drives `juju-local`
//! (default) and real Juju (`JUJU=juju`). The contract test (`tests/juju_contract.rs`) pins the
//! exact argv of every call against a stub that rejects anything outside the subset.
//!
//! - `command` — running one command with a deadline; the error type.
//! - `commands` — one method per juju subcommand in the subset.
//! - `status` — typed subsets of `status`, `run` and `exec` JSON.
//! - `wait` — polling `juju status` until a condition holds.

mod command;
mod commands;
mod status;
mod wait;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use command::{render, Finished, JujuError};
pub use status::{
    action_outcome, exec_output, unit_number, ActionOutcome, ApplicationStatus, ExecOutput, Status,
    StatusInfo, UnitStatus,
};

/// A connection to one model through the juju CLI.
#[derive(Debug)]
pub struct Juju {
    /// The juju (or juju-local) executable.
    program: PathBuf,
    /// The model every model-scoped command targets (`-m`); set by [`Juju::add_model`] or
    /// [`Juju::use_model`].
    model: Option<String>,
    /// `JUJU_LOCAL_HOME` for juju-local: a private temp dir so parallel tests never share state.
    local_home: Option<tempfile::TempDir>,
    /// Whether Drop destroys the model.
    armed: bool,
    /// How often `wait_for` polls `juju status`.
    pub poll_interval: Duration,
    /// Deadline for any single CLI call (a hung CLI must not hang the test run).
    pub command_timeout: Duration,
    /// `--wait` passed to `juju run`.
    pub action_wait: Duration,
}

impl Juju {
    /// A driver for the CLI named by env `JUJU`, else the `juju-local` built beside the running
    /// executable (`target/<profile>/deps/x` → `target/<profile>/juju-local`).
    pub fn from_env() -> Result<Self, JujuError> {
        match std::env::var_os("JUJU").filter(|v| !v.is_empty()) {
            Some(program) => {
                let program = PathBuf::from(program);
                let local = program.file_name().is_some_and(|name| name == "juju-local");
                Self::with_program(program, local)
            }
            None => Self::with_program(locate_juju_local()?, true),
        }
    }

    /// A driver for an explicit program. `local` gives it a private `JUJU_LOCAL_HOME` and sets
    /// `JUJU_LOCAL_OWNER_PID` to this process, so the model dies with the test run.
    pub fn with_program(program: PathBuf, local: bool) -> Result<Self, JujuError> {
        let local_home = if local {
            let dir = tempfile::Builder::new()
                .prefix("juju-local-home-")
                .tempdir()
                .map_err(|e| JujuError::Locate(format!("cannot create JUJU_LOCAL_HOME: {e}")))?;
            Some(dir)
        } else {
            None
        };
        Ok(Self {
            program,
            model: None,
            local_home,
            armed: false,
            poll_interval: Duration::from_millis(250),
            command_timeout: Duration::from_secs(900),
            action_wait: Duration::from_secs(600),
        })
    }

    /// The program being driven.
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// The private `JUJU_LOCAL_HOME`, when driving juju-local.
    pub fn local_home(&self) -> Option<&Path> {
        self.local_home.as_ref().map(|d| d.path())
    }

    /// The current model.
    pub fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }

    /// Targets an existing model without taking ownership (Drop will not destroy it).
    pub fn use_model(&mut self, name: &str) {
        self.model = Some(name.to_string());
        self.armed = false;
    }

    /// Keeps the model after this value is dropped (for debugging a failed scenario).
    pub fn disarm(&mut self) {
        self.armed = false;
    }

    fn env(&self) -> Vec<(OsString, OsString)> {
        match &self.local_home {
            Some(home) => vec![
                ("JUJU_LOCAL_HOME".into(), home.path().into()),
                ("JUJU_LOCAL_OWNER_PID".into(), std::process::id().to_string().into()),
            ],
            None => Vec::new(),
        }
    }

    /// Runs `juju <args>` and returns what it printed, whatever the exit code.
    pub fn raw(&self, args: &[String]) -> Result<Finished, JujuError> {
        command::run(&self.program, args, &self.env(), self.command_timeout)
    }

    /// Runs a model-scoped command: `juju <subcommand> -m <model> <rest>`; fails on non-zero exit.
    fn model_command(&self, subcommand: &str, rest: Vec<String>) -> Result<Finished, JujuError> {
        self.raw(&self.model_args(subcommand, rest))?.success()
    }

    fn model_args(&self, subcommand: &str, rest: Vec<String>) -> Vec<String> {
        let mut args = vec![subcommand.to_string()];
        if let Some(model) = &self.model {
            args.extend(["-m".to_string(), model.clone()]);
        }
        args.extend(rest);
        args
    }
}

impl Drop for Juju {
    fn drop(&mut self) {
        if self.armed {
            if let Err(error) = self.destroy_model() {
                eprintln!("juju driver: could not destroy the model: {error}");
            }
        }
    }
}

/// Finds `juju-local` beside the running executable.
fn locate_juju_local() -> Result<PathBuf, JujuError> {
    let exe = std::env::current_exe().map_err(|e| JujuError::Locate(format!("current_exe: {e}")))?;
    let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    if dir.file_name().is_some_and(|name| name == "deps" || name == "examples") {
        dir.pop();
    }
    let candidate = dir.join("juju-local");
    if candidate.is_file() {
        Ok(candidate)
    } else {
        Err(JujuError::Locate(format!(
            "{} does not exist; build it (`cargo build -p juju-local`) or set JUJU",
            candidate.display()
        )))
    }
}

//! Running one juju command: argv in, stdout/stderr/exit code out, with a deadline; and the
//! driver's error type, which always carries the exact argv and stderr.

use std::ffi::OsString;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Errors from the juju driver. Every variant names the command line that ran.
#[derive(Debug, thiserror::Error)]
pub enum JujuError {
    /// No juju binary could be found.
    #[error("cannot find the juju CLI: {0}")]
    Locate(String),
    /// The program could not be started.
    #[error("`{command}` could not start: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The command exited non-zero (or was killed).
    #[error("`{command}` failed (exit {code:?}): {stderr}")]
    Failed {
        /// The command line.
        command: String,
        /// Its exit code; `None` when killed by a signal or by our deadline.
        code: Option<i32>,
        /// Its stderr, trimmed.
        stderr: String,
    },
    /// The command ran past its deadline and was killed.
    #[error("`{command}` did not finish within {timeout:?}; stderr so far: {stderr}")]
    Hung {
        /// The command line.
        command: String,
        /// The deadline.
        timeout: Duration,
        /// Its stderr, trimmed.
        stderr: String,
    },
    /// The output did not have the expected shape.
    #[error("`{command}` printed unexpected output ({why}): {stdout}")]
    Output {
        /// The command line.
        command: String,
        /// What was wrong.
        why: String,
        /// The start of stdout.
        stdout: String,
    },
    /// A condition on the model did not hold before the deadline.
    #[error("timed out after {waited:?} waiting for {what}; last status: {last}")]
    Timeout {
        /// What we waited for.
        what: String,
        /// How long we waited.
        waited: Duration,
        /// The last status seen (or the last error), for diagnosis.
        last: String,
    },
    /// The caller asked for something the driver cannot express.
    #[error("invalid request: {0}")]
    Invalid(String),
}

/// What a finished command printed.
#[derive(Debug, Clone)]
pub struct Finished {
    /// The command line, for error messages.
    pub command: String,
    /// Exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Finished {
    /// `Ok(self)` if the command exited 0, else [`JujuError::Failed`].
    pub fn success(self) -> Result<Self, JujuError> {
        if self.code == Some(0) {
            Ok(self)
        } else {
            Err(JujuError::Failed {
                command: self.command,
                code: self.code,
                stderr: self.stderr.trim().to_string(),
            })
        }
    }

    /// Parses stdout as JSON.
    pub fn json(&self) -> Result<serde_json::Value, JujuError> {
        serde_json::from_str(&self.stdout).map_err(|e| self.bad_output(e.to_string()))
    }

    /// An [`JujuError::Output`] for this command.
    pub fn bad_output(&self, why: impl Into<String>) -> JujuError {
        let mut stdout: String = self.stdout.chars().take(2000).collect();
        if stdout.is_empty() {
            stdout = format!("<empty stdout; stderr: {}>", self.stderr.trim());
        }
        JujuError::Output { command: self.command.clone(), why: why.into(), stdout }
    }
}

/// Renders argv as a shell-quoted line, so an error message can be pasted into a terminal.
pub fn render(program: &Path, args: &[String]) -> String {
    std::iter::once(program.display().to_string())
        .chain(args.iter().cloned())
        .map(|word| {
            let plain = !word.is_empty()
                && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c));
            if plain {
                word
            } else {
                format!("'{}'", word.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `program args` with extra environment, killing it after `timeout`.
pub fn run(
    program: &Path,
    args: &[String],
    env: &[(OsString, OsString)],
    timeout: Duration,
) -> Result<Finished, JujuError> {
    let command = render(program, args);
    let mut child = Command::new(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| JujuError::Spawn { command: command.clone(), source })?;
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(source) => return Err(JujuError::Spawn { command, source }),
        }
    };
    // A daemon started by the command (juju-local's agent, say) may inherit the pipes and keep them
    // open; take what was printed without waiting for its EOF forever.
    let stdout = stdout.finish(Duration::from_secs(2));
    let stderr = stderr.finish(Duration::from_secs(2));
    match status {
        Some(status) => Ok(Finished { command, code: status.code(), stdout, stderr }),
        None => Err(JujuError::Hung { command, timeout, stderr: stderr.trim().to_string() }),
    }
}

/// Output collected by a reader thread.
struct Drained {
    /// Bytes read so far.
    bytes: Arc<Mutex<Vec<u8>>>,
    /// Set at end of file.
    done: Arc<AtomicBool>,
}

impl Drained {
    /// Waits up to `grace` for end of file, then returns what was read.
    fn finish(self, grace: Duration) -> String {
        let deadline = Instant::now() + grace;
        while !self.done.load(Ordering::Acquire) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        let bytes = self.bytes.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> Drained {
    let bytes = Arc::new(Mutex::new(Vec::new()));
    let done = Arc::new(AtomicBool::new(false));
    let (sink, flag) = (Arc::clone(&bytes), Arc::clone(&done));
    std::thread::spawn(move || {
        if let Some(mut pipe) = pipe {
            let mut buffer = [0_u8; 8192];
            while let Ok(n @ 1..) = pipe.read(&mut buffer) {
                sink.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).extend_from_slice(&buffer[..n]);
            }
        }
        flag.store(true, Ordering::Release);
    });
    Drained { bytes, done }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_quotes_only_what_needs_it() {
        let line =
            render(Path::new("/bin/juju"), &["config".into(), "valkey".into(), "k=a b".into(), "".into()]);
        assert_eq!(line, "/bin/juju config valkey 'k=a b' ''");
        let tricky = render(Path::new("j"), &["it's".into()]);
        assert_eq!(tricky, r"j 'it'\''s'");
    }

    #[test]
    fn failure_keeps_argv_and_stderr() {
        let finished = run(
            Path::new("/bin/sh"),
            &["-c".into(), "echo oops >&2; exit 3".into()],
            &[],
            Duration::from_secs(10),
        )
        .unwrap();
        let error = finished.success().unwrap_err().to_string();
        assert!(error.contains("/bin/sh -c 'echo oops >&2; exit 3'"), "{error}");
        assert!(error.contains("exit Some(3)") && error.contains("oops"), "{error}");
    }

    #[test]
    fn hung_command_is_killed_at_the_deadline() {
        let started = Instant::now();
        let error = run(
            Path::new("/bin/sh"),
            &["-c".into(), "exec sleep 30".into()],
            &[],
            Duration::from_millis(200),
        )
        .unwrap_err();
        assert!(matches!(error, JujuError::Hung { .. }), "{error}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}

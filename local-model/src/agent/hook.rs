//! Running one hook, action or exec command as a process: the fresh environment Juju builds
//! (juju-contract §1), the working directory, the timeout, and the unit log.
//!
//! Output goes to files, not pipes: a hook that starts a daemon (valkey-server) passes its stdout
//! on, and a pipe would then never reach end-of-file. The files are read once the hook exits.

use crate::model::clock;
use crate::state::{ModelState, Operation, QueuedEvent};
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The Juju version hooks are told they run under.
pub const JUJU_VERSION: &str = "3.6.9";

/// Everything needed to start the process.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// Unit name, for the log.
    pub unit: String,
    /// What the log calls it: the hook name, `action <name>` or `exec`.
    pub label: String,
    /// Program and arguments.
    pub argv: Vec<String>,
    /// Working directory (the unit's charm dir).
    pub cwd: PathBuf,
    /// The complete environment (nothing is inherited).
    pub env: Vec<(String, String)>,
    /// Kill the process group after this long.
    pub timeout: Duration,
    /// Where stdout/stderr are captured (`<base>.out`, `<base>.err`).
    pub capture_base: PathBuf,
    /// The model's log file.
    pub log: PathBuf,
}

/// How it ended.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Exit code, `None` if killed by a signal or it could not start.
    pub code: Option<i32>,
    /// True if the timeout killed it.
    pub timed_out: bool,
    /// Captured standard output.
    pub stdout: String,
    /// Captured standard error.
    pub stderr: String,
    /// Wall time from spawn to exit, in milliseconds (for `hook-timings.jsonl`).
    pub wall_ms: f64,
    /// Peak resident set size of the hook process itself (`ru_maxrss` from `wait4`), in KiB.
    pub max_rss_kib: u64,
}

impl Outcome {
    /// Exit status 0.
    pub fn succeeded(&self) -> bool {
        self.code == Some(0)
    }
}

/// The environment of an event on `unit` (juju-contract §1) and nothing else, as a Juju unit
/// agent builds it: the hook tools find the model from `JUJU_AGENT_SOCKET_ADDRESS`, as Juju's
/// find their agent, so nothing tells the charm it runs under juju-local.
pub fn environment(
    state: &ModelState,
    unit: &str,
    event: &QueuedEvent,
    op: Option<&Operation>,
    context_id: &str,
    model_dir: &Path,
    charm_dir: &Path,
) -> Vec<(String, String)> {
    let u = &state.units[unit];
    let tools = model_dir.join("tools");
    let mut env: Vec<(String, String)> = vec![
        ("JUJU_CHARM_DIR".into(), charm_dir.display().to_string()),
        ("CHARM_DIR".into(), charm_dir.display().to_string()),
        ("JUJU_UNIT_NAME".into(), unit.into()),
        ("JUJU_MODEL_NAME".into(), state.name.clone()),
        ("JUJU_MODEL_UUID".into(), state.uuid.clone()),
        ("JUJU_VERSION".into(), JUJU_VERSION.into()),
        ("JUJU_MACHINE_ID".into(), u.machine.to_string()),
        ("JUJU_AVAILABILITY_ZONE".into(), String::new()),
        ("JUJU_CONTEXT_ID".into(), context_id.into()),
        ("JUJU_AGENT_SOCKET_ADDRESS".into(), format!("@{}/agent.socket", model_dir.display())),
        ("JUJU_AGENT_SOCKET_NETWORK".into(), "unix".into()),
        ("JUJU_API_ADDRESSES".into(), "127.0.0.1:17070".into()),
        ("JUJU_PRINCIPAL_UNIT".into(), u.principal.clone().unwrap_or_default()),
        ("JUJU_CHARM_HTTP_PROXY".into(), String::new()),
        ("JUJU_CHARM_HTTPS_PROXY".into(), String::new()),
        ("JUJU_CHARM_NO_PROXY".into(), String::new()),
        (
            "PATH".into(),
            format!("{}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", tools.display()),
        ),
        ("LANG".into(), "C.UTF-8".into()),
    ];
    match event {
        QueuedEvent::Hook(h) => {
            env.push(("JUJU_HOOK_NAME".into(), h.name.clone()));
            env.push(("JUJU_DISPATCH_PATH".into(), format!("hooks/{}", h.name)));
            if let Some(rel) = h.relation_id {
                let app = crate::state::application_of(unit);
                let endpoint =
                    state.relations.get(&rel).map(|r| r.endpoint_for(app).to_string()).unwrap_or_default();
                env.push(("JUJU_RELATION".into(), endpoint.clone()));
                env.push(("JUJU_RELATION_ID".into(), format!("{endpoint}:{rel}")));
                env.push(("JUJU_REMOTE_UNIT".into(), h.remote_unit.clone().unwrap_or_default()));
                env.push(("JUJU_REMOTE_APP".into(), h.remote_app.clone().unwrap_or_default()));
            }
            if let Some(departing) = &h.departing_unit {
                env.push(("JUJU_DEPARTING_UNIT".into(), departing.clone()));
            }
            if let Some(id) = &h.storage_id {
                let location = u.storage_location(id).map(|p| p.display().to_string()).unwrap_or_default();
                env.push(("JUJU_STORAGE_ID".into(), id.clone()));
                env.push(("JUJU_STORAGE_LOCATION".into(), location));
                env.push(("JUJU_STORAGE_KIND".into(), "filesystem".into()));
            }
            if let Some(id) = &h.secret_id {
                let secret = state.secrets.get(id);
                env.push(("JUJU_SECRET_ID".into(), format!("secret:{id}")));
                let label = secret.and_then(|s| s.label.clone()).unwrap_or_default();
                env.push(("JUJU_SECRET_LABEL".into(), label));
                let rev = secret.and_then(|s| s.revisions.keys().next_back().copied()).unwrap_or(0);
                env.push(("JUJU_SECRET_REVISION".into(), rev.to_string()));
            }
        }
        QueuedEvent::Operation { id } => {
            env.push(("JUJU_HOOK_NAME".into(), String::new()));
            env.push(("JUJU_ACTION_UUID".into(), id.to_string()));
            if let Some(name) = op.and_then(|o| o.action.as_ref()) {
                env.push(("JUJU_DISPATCH_PATH".into(), format!("actions/{name}")));
                env.push(("JUJU_ACTION_NAME".into(), name.clone()));
                env.push(("JUJU_ACTION_TAG".into(), format!("action-{id}")));
            }
        }
    }
    env
}

/// Runs the invocation to completion (or timeout); `on_spawn` gets the pid once it started.
pub fn run(inv: &Invocation, on_spawn: impl FnOnce(u32)) -> Outcome {
    let out_path = inv.capture_base.with_extension("out");
    let err_path = inv.capture_base.with_extension("err");
    let files = std::fs::File::create(&out_path).and_then(|o| Ok((o, std::fs::File::create(&err_path)?)));
    let (out, err) = match files {
        Ok(f) => f,
        Err(e) => return failed_to_start(inv, format!("cannot create capture files: {e}")),
    };
    let mut cmd = Command::new(&inv.argv[0]);
    cmd.args(&inv.argv[1..])
        .current_dir(&inv.cwd)
        .env_clear()
        .envs(inv.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0);
    let started = Instant::now();
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return failed_to_start(inv, format!("cannot run {}: {e}", inv.argv[0])),
    };
    let pid = child.id();
    on_spawn(pid);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // Reaped with wait4 instead of `Child::wait` to get the hook's own resource usage;
        // dropping the `Child` afterwards neither waits nor kills.
        let _ = tx.send(wait_with_usage(pid as i32));
        drop(child);
    });
    let mut outcome = Outcome::default();
    match rx.recv_timeout(inv.timeout) {
        Ok(Ok(exit)) => {
            outcome.code = exit.code;
            outcome.max_rss_kib = exit.max_rss_kib;
        }
        Ok(Err(_)) => {}
        Err(_) => {
            outcome.timed_out = true;
            // SAFETY: kill has no memory-safety preconditions; a negative pid names the group.
            unsafe {
                libc::kill(-(pid as i32), libc::SIGKILL);
            }
            if let Ok(Ok(exit)) = rx.recv_timeout(Duration::from_secs(5)) {
                outcome.max_rss_kib = exit.max_rss_kib;
            }
        }
    }
    outcome.wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    outcome.stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    outcome.stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    if outcome.timed_out {
        outcome.stderr.push_str(&format!("hook timed out after {:?} and was killed\n", inv.timeout));
    }
    let _ = std::fs::remove_file(&out_path);
    let _ = std::fs::remove_file(&err_path);
    log_output(inv, &outcome);
    outcome
}

/// How a reaped process ended, with its peak memory.
#[derive(Debug, Clone, Copy)]
struct Exit {
    /// Exit code, `None` when a signal ended it.
    code: Option<i32>,
    /// `ru_maxrss` of the process (KiB on Linux).
    max_rss_kib: u64,
}

/// Waits for `pid` with `wait4`, which reports the resource usage of that very process (and of
/// the children it waited for), not of the whole agent.
fn wait_with_usage(pid: i32) -> std::io::Result<Exit> {
    let mut status = 0;
    // SAFETY: rusage is plain old data; all-zero is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: both pointers are valid for writes for the duration of the call.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    let code = if libc::WIFEXITED(status) { Some(libc::WEXITSTATUS(status)) } else { None };
    Ok(Exit { code, max_rss_kib: u64::try_from(usage.ru_maxrss).unwrap_or(0) })
}

fn failed_to_start(inv: &Invocation, message: String) -> Outcome {
    let outcome = Outcome { code: None, stderr: message + "\n", ..Outcome::default() };
    log_output(inv, &outcome);
    outcome
}

/// Appends the output to the model log: stdout at DEBUG, stderr at WARNING.
fn log_output(inv: &Invocation, outcome: &Outcome) {
    let mut text = String::new();
    let now = clock::now();
    for (level, body) in [("DEBUG", &outcome.stdout), ("WARNING", &outcome.stderr)] {
        for line in body.lines() {
            text.push_str(&format!("{now:.3} {} {level} {}: {line}\n", inv.unit, inv.label));
        }
    }
    append_log(&inv.log, &text);
}

/// Appends text to the model log (O_APPEND, so concurrent writers do not clobber each other).
pub fn append_log(log: &Path, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(log) {
        let _ = f.write_all(text.as_bytes());
    }
}

//! The direct supervisor: `dispatch supervise --pidfile P --restart-delay-ms N -- <cmd> <args>`.
//!
//! What systemd's `Restart=always` + `RestartSec` do, in one small detached process per service:
//! run the command, restart it after `N` ms when it exits on its own, and on SIGTERM (or SIGINT)
//! forward SIGTERM to it, wait for it to exit, then exit 0. The supervisor's identity goes to
//! `P`, the child's to `P.child` (both as [`PidRecord`]s, safe against pid reuse). Its output —
//! normally nothing but these notes — goes wherever its stdout/stderr point (the service's
//! supervisor log, set up by [`super::direct::Direct`]).

use super::pidfile::PidRecord;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Set by the signal handler; read by the loop.
static STOP: AtomicBool = AtomicBool::new(false);
/// How often the loop looks at the child and the stop flag.
const TICK: Duration = Duration::from_millis(50);
/// The shortest restart delay, so a command that fails at once cannot spin a core.
const MIN_DELAY: Duration = Duration::from_millis(100);

/// Parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuperviseArgs {
    /// Where the supervisor records itself.
    pub pidfile: PathBuf,
    /// Pause before restarting the child after it exits on its own.
    pub restart_delay: Duration,
    /// The child's program and arguments.
    pub command: Vec<String>,
    /// A script run (with `sh`) after every restart but the first start: the charm's hook
    /// trigger, so a restarted Valkey is reconciled without waiting for update-status.
    pub on_restart: Option<PathBuf>,
    /// The relay this supervisor runs beside its child (`--spool S --unit U --juju-exec J`):
    /// requests of the services to the charm, run through `juju-exec` ([`super::relay`]). Every
    /// exit of the child on its own is such a request (`services-changed`).
    pub relay: Option<super::relay::RelayArgs>,
}

/// The child's pid file beside the supervisor's.
pub fn child_pidfile(pidfile: &Path) -> PathBuf {
    let mut name = pidfile.as_os_str().to_owned();
    name.push(".child");
    PathBuf::from(name)
}

/// A file beside the supervisor's pid file that, when present, overrides `--restart-delay-ms`
/// (milliseconds, read before every restart). The charm rewrites it on every reconcile: the right
/// delay changes while the supervisor runs (a lone unit restarts Valkey at once; once it has peers
/// it must wait until Sentinel could have failed it over), and restarting the supervisor to change
/// it would restart Valkey.
pub fn restart_delay_file(pidfile: &Path) -> PathBuf {
    let mut name = pidfile.as_os_str().to_owned();
    name.push(".restart-delay-ms");
    PathBuf::from(name)
}

/// The delay to use now: the override file when it holds a number, else the command line's.
fn current_delay(args: &SuperviseArgs) -> Duration {
    std::fs::read_to_string(restart_delay_file(&args.pidfile))
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map_or(args.restart_delay, Duration::from_millis)
        .max(MIN_DELAY)
}

/// Parses the whole argv (`dispatch supervise --pidfile P --restart-delay-ms N -- cmd...`);
/// everything up to and including `supervise` is skipped.
pub fn parse_args(args: &[String]) -> Result<SuperviseArgs, String> {
    let start = args.iter().position(|a| a == "supervise").map_or(0, |i| i + 1);
    let mut rest = args[start..].iter();
    let (mut pidfile, mut delay, mut on_restart) = (None, None, None);
    let mut relay = (None, None, None);
    while let Some(arg) = rest.next() {
        if super::relay::RelayArgs::take(&mut relay, arg, &mut rest)? {
            continue;
        }
        match arg.as_str() {
            "--pidfile" => pidfile = Some(PathBuf::from(rest.next().ok_or("--pidfile needs a path")?)),
            "--restart-delay-ms" => {
                let v = rest.next().ok_or("--restart-delay-ms needs a number")?;
                delay =
                    Some(v.parse::<u64>().map_err(|_| format!("--restart-delay-ms: {v:?} is not a number"))?);
            }
            "--on-restart" => {
                on_restart = Some(PathBuf::from(rest.next().ok_or("--on-restart needs a path")?));
            }
            "--" => break,
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    let command: Vec<String> = rest.cloned().collect();
    if command.is_empty() {
        return Err("no command after --".into());
    }
    Ok(SuperviseArgs {
        pidfile: pidfile.ok_or("--pidfile is required")?,
        restart_delay: Duration::from_millis(delay.unwrap_or(1000)),
        command,
        on_restart,
        relay: super::relay::RelayArgs::complete(relay)?,
    })
}

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// Routes SIGTERM, SIGINT and SIGHUP to [`on_signal`].
// sigaction(2) through libc (SAFETY below).
#[allow(unsafe_code)]
fn install_handlers() {
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe; the
        // sigaction struct is zero-initialised and then filled in.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(sig, &action, std::ptr::null_mut());
        }
    }
}

/// A timestamped note on stderr.
fn note(msg: &str) {
    let t = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    eprintln!("[{}.{:03}] supervise[{}]: {msg}", t.as_secs(), t.subsec_millis(), std::process::id());
}

/// Sleeps `total` in ticks; returns false as soon as a stop was requested.
fn pause(total: Duration) -> bool {
    let deadline = Instant::now() + total;
    while Instant::now() < deadline {
        if STOP.load(Ordering::SeqCst) {
            return false;
        }
        std::thread::sleep(TICK.min(deadline - Instant::now()));
    }
    !STOP.load(Ordering::SeqCst)
}

/// Waits for the child, forwarding a stop request as SIGTERM once.
// kill(2) through libc (SAFETY below).
#[allow(unsafe_code)]
fn wait_child(child: &mut Child) -> std::io::Result<ExitStatus> {
    let mut forwarded = false;
    loop {
        if !forwarded && STOP.load(Ordering::SeqCst) {
            // SAFETY: kill(2) on our own child's pid; no memory-safety preconditions.
            unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
            forwarded = true;
        }
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        std::thread::sleep(TICK);
    }
}

/// Removes `path` if it still names `me` (a newer supervisor may have replaced it).
fn remove_if_ours(path: &Path, me: Option<PidRecord>) {
    if me.is_some() && PidRecord::read(path) == me {
        let _ = std::fs::remove_file(path);
    }
}

/// Closes every inherited descriptor above stderr. The supervisor outlives the hook that started
/// it; a descriptor the agent leaked into the hook (a pipe, a lock file) must not be held open
/// for the life of the service.
// close(2) through libc (SAFETY below).
#[allow(unsafe_code)]
fn close_inherited_fds() {
    let fds: Vec<i32> = match std::fs::read_dir("/proc/self/fd") {
        Ok(dir) => dir.flatten().filter_map(|e| e.file_name().to_str()?.parse().ok()).collect(),
        Err(_) => return,
    };
    for fd in fds.into_iter().filter(|fd| *fd > 2) {
        // SAFETY: closing descriptors this process does not use; the read_dir handle is gone.
        unsafe { libc::close(fd) };
    }
}

/// The supervisor loop; returns the exit code.
// The direct supervisor: runs the service it supervises (umask through libc: SAFETY below).
#[allow(clippy::disallowed_methods, unsafe_code)]
pub fn run(args: &SuperviseArgs) -> i32 {
    close_inherited_fds();
    install_handlers();
    // The servers inherit this umask, and Valkey's `CONFIG REWRITE` (run by Sentinel after every
    // failover, and by Sentinel on its own file all the time) sets the rewritten file's mode to
    // `0644 & ~umask`: 0077 keeps valkey.conf and sentinel.conf, which hold password hashes, 0600
    // (issue 15 item 7: they became 0644). The charm writes its files with explicit modes anyway.
    // SAFETY: umask(2) only sets this process's file-creation mask; it cannot fail.
    unsafe { libc::umask(0o077) };
    let me = PidRecord::of(std::process::id());
    if let Some(rec) = me {
        if let Err(e) = rec.write(&args.pidfile) {
            note(&format!("cannot write {}: {e}", args.pidfile.display()));
            return 1;
        }
    }
    let child_file = child_pidfile(&args.pidfile);
    if let Some(relay) = &args.relay {
        super::relay::spawn(relay.clone());
    }
    let delay = args.restart_delay.max(MIN_DELAY);
    let mut first = true;
    let mut restarted = false;
    let code = loop {
        let spawned = Command::new(&args.command[0]).args(&args.command[1..]).stdin(Stdio::null()).spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) => {
                note(&format!("cannot start {}: {e}", args.command[0]));
                if first || !pause(delay) {
                    break if first { 1 } else { 0 };
                }
                continue;
            }
        };
        first = false;
        let child_rec = PidRecord::of(child.id());
        if let Some(rec) = child_rec {
            let _ = rec.write(&child_file);
        }
        note(&format!("started {} as pid {}", args.command[0], child.id()));
        if restarted {
            announce_restart(args);
        }
        restarted = true;
        let status = wait_child(&mut child);
        remove_if_ours(&child_file, child_rec);
        if STOP.load(Ordering::SeqCst) {
            note(&format!("stopped: child exited with {status:?}"));
            break 0;
        }
        ask_charm(args);
        let delay = current_delay(args);
        note(&format!("child exited on its own ({status:?}); restarting in {} ms", delay.as_millis()));
        if !pause(delay) {
            break 0;
        }
    };
    remove_if_ours(&args.pidfile, me);
    code
}

/// Runs the `--on-restart` script, if any; a missing or failing script is only noted (the
/// restart itself has happened, and update-status reconciles anyway).
// The direct supervisor: runs the restart script (juju-exec) it was given.
#[allow(clippy::disallowed_methods)]
fn announce_restart(args: &SuperviseArgs) {
    let Some(script) = &args.on_restart else { return };
    match Command::new("/bin/sh").arg(script).stdin(Stdio::null()).status() {
        Ok(status) if status.success() => note(&format!("ran {}", script.display())),
        Ok(status) => note(&format!("{} exited with {status}", script.display())),
        Err(e) => note(&format!("cannot run {}: {e}", script.display())),
    }
}

/// Asks the charm for a `services-changed` hook (the child died), through the relay's spool.
fn ask_charm(args: &SuperviseArgs) {
    let Some(relay) = &args.relay else { return };
    let request = relay.spool.join(crate::juju::SERVICES_CHANGED_HOOK);
    if let Err(e) = std::fs::write(&request, "") {
        note(&format!("cannot write {}: {e}", request.display()));
    }
}

/// `dispatch supervise ...`: parses the whole argv and runs the loop.
pub fn main(args: &[String]) -> i32 {
    match parse_args(args) {
        Ok(parsed) => run(&parsed),
        Err(e) => {
            eprintln!("supervise: {e}");
            eprintln!(
                "usage: dispatch supervise --pidfile PATH [--restart-delay-ms N] [--on-restart SCRIPT] \\\n                 [--spool DIR --unit UNIT --juju-exec PATH] -- COMMAND [ARGS...]"
            );
            2
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn parses_the_full_argv() {
        let a = parse_args(&argv(
            "/c/dispatch supervise --pidfile /r/v.pid --restart-delay-ms 8000 -- /b/valkey-server /e/s.conf --sentinel",
        ))
        .unwrap();
        assert_eq!(a.pidfile, PathBuf::from("/r/v.pid"));
        assert_eq!(a.restart_delay, Duration::from_millis(8000));
        assert_eq!(a.command, argv("/b/valkey-server /e/s.conf --sentinel"));
        assert_eq!(a.on_restart, None);
        let b = parse_args(&argv("dispatch supervise --pidfile /p --on-restart /e/r.sh -- x")).unwrap();
        assert_eq!(b.on_restart, Some(PathBuf::from("/e/r.sh")));
        assert_eq!(b.relay, None);
        let c =
            parse_args(&argv("dispatch supervise --pidfile /p --spool /s --unit v/0 --juju-exec /j -- x"))
                .unwrap();
        let want =
            super::super::relay::RelayArgs { spool: "/s".into(), unit: "v/0".into(), juju_exec: "/j".into() };
        assert_eq!(c.relay, Some(want));
        assert_eq!(child_pidfile(&a.pidfile), PathBuf::from("/r/v.pid.child"));
    }

    #[test]
    fn bad_command_lines_are_refused() {
        let table = [
            ("dispatch supervise --pidfile /p", "no command after --"),
            ("dispatch supervise -- x", "--pidfile is required"),
            ("dispatch supervise --pidfile /p --restart-delay-ms soon -- x", "is not a number"),
            ("dispatch supervise --bogus -- x", "unknown option"),
            ("dispatch supervise --pidfile", "--pidfile needs a path"),
            ("dispatch supervise --pidfile /p --on-restart", "--on-restart needs a path"),
            ("dispatch supervise --pidfile /p --spool /s -- x", "go together"),
        ];
        for (line, want) in table {
            let err = parse_args(&argv(line)).unwrap_err();
            assert!(err.contains(want), "{line}: {err}");
        }
        assert_eq!(main(&argv("dispatch supervise")), 2);
    }

    #[test]
    fn a_delay_file_overrides_the_command_line() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("valkey.supervisor.pid");
        let args = SuperviseArgs {
            pidfile: pidfile.clone(),
            restart_delay: Duration::from_millis(0),
            command: vec!["x".into()],
            on_restart: None,
            relay: None,
        };
        assert_eq!(current_delay(&args), MIN_DELAY, "no file: the command line's, floored");
        std::fs::write(restart_delay_file(&pidfile), "8000\n").unwrap();
        assert_eq!(current_delay(&args), Duration::from_millis(8000));
        std::fs::write(restart_delay_file(&pidfile), "soon").unwrap();
        assert_eq!(current_delay(&args), MIN_DELAY, "garbage is ignored");
    }
}

//! Machine mode's effects: mounting a machine's root filesystem, booting it with
//! `systemd-nspawn`, finding its PID 1, stopping it cleanly (systemd's own shutdown) or killing it
//! outright (the "vanished machine" fault), and clearing it away. Teardown is best effort and
//! idempotent: it must also clear what a crashed run left.

use super::plan::{self, Boot, MachineDirs};
use crate::hosts::HostsError;
use crate::model::processes;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long a machine may take to boot to `multi-user.target`.
const BOOT_TIMEOUT: Duration = Duration::from_secs(90);
/// How long a clean shutdown may take (systemd stops the services first; Valkey may write an RDB).
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(45);
/// How often boot and shutdown are polled.
const POLL: Duration = Duration::from_millis(50);

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> HostsError {
    let what = what.into();
    move |source| HostsError::Io { what, source }
}

/// The first of `candidates` that exists.
fn find_binary(candidates: &[&str]) -> Option<PathBuf> {
    candidates.iter().map(PathBuf::from).find(|p| p.exists())
}

/// `systemd-nspawn` (Debian's `systemd-container`).
pub fn nspawn_binary() -> Option<PathBuf> {
    find_binary(&["/usr/bin/systemd-nspawn", "/bin/systemd-nspawn"])
}

/// `nsenter` (util-linux).
pub fn nsenter_binary() -> Option<PathBuf> {
    find_binary(&["/usr/bin/nsenter", "/bin/nsenter"])
}

/// The root filesystem machines boot from: `JUJU_LOCAL_ROOTFS`, else [`plan::DEFAULT_ROOTFS`],
/// resolved to the directory the link points at now (a rebuilt root filesystem never changes
/// under a running model's overlays).
pub fn rootfs() -> Result<PathBuf, HostsError> {
    let configured = std::env::var_os("JUJU_LOCAL_ROOTFS")
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from(plan::DEFAULT_ROOTFS), PathBuf::from);
    let resolved = std::fs::canonicalize(&configured).map_err(|_| {
        HostsError::Usage(format!(
            "machine mode needs a root filesystem at {}: run scripts/setup-machines (as root) to build it",
            configured.display()
        ))
    })?;
    if !resolved.join("usr/lib/systemd/systemd").exists() && !resolved.join("lib/systemd/systemd").exists() {
        return Err(HostsError::Usage(format!(
            "{} has no systemd: rebuild it with scripts/setup-machines",
            resolved.display()
        )));
    }
    Ok(resolved)
}

/// Whether machine mode can work here: host mode's needs (root, iproute2) plus systemd-nspawn,
/// nsenter, overlayfs and a root filesystem. Returns the root filesystem.
pub fn require() -> Result<PathBuf, HostsError> {
    crate::hosts::net::require()?;
    if nspawn_binary().is_none() {
        return Err(HostsError::Usage(
            "machine mode needs systemd-nspawn (Debian's systemd-container): run scripts/setup-machines"
                .into(),
        ));
    }
    if nsenter_binary().is_none() {
        return Err(HostsError::Usage("machine mode needs nsenter (util-linux)".into()));
    }
    let filesystems = std::fs::read_to_string("/proc/filesystems").unwrap_or_default();
    if !filesystems.lines().any(|l| l.split_whitespace().last() == Some("overlay")) {
        return Err(HostsError::Usage("machine mode needs overlayfs in the kernel".into()));
    }
    rootfs()
}

/// Whether `path` is a mount point (an entry of this process's mount table).
pub fn is_mounted(path: &Path) -> bool {
    let table = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let wanted = path.display().to_string();
    table.lines().any(|line| line.split(' ').nth(4) == Some(wanted.as_str()))
}

/// Runs `mount`/`umount` (found on `PATH`) with `args`.
fn run(program: &str, args: &[&str]) -> Result<(), HostsError> {
    crate::hosts::net::run(Path::new(program), program, args)
}

/// Whether process `pid` is the `systemd-nspawn` that boots `root`.
fn boots(pid: i32, root: &[u8]) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else { return false };
    let mut args = cmdline.split(|b| *b == 0);
    let nspawn = args.next().is_some_and(|a0| a0.ends_with(b"systemd-nspawn"));
    nspawn && args.any(|a| a.strip_prefix(b"--directory=") == Some(root)) && processes::alive(pid)
}

/// The host pid of the `systemd-nspawn` process running the machine, if it runs: the recorded
/// pid, else (the record lost with a deleted model directory) found by its command line.
pub fn nspawn_pid(dirs: &MachineDirs) -> Option<i32> {
    let root = dirs.root().display().to_string().into_bytes();
    let recorded = std::fs::read_to_string(dirs.pid_file()).ok().and_then(|t| t.trim().parse::<i32>().ok());
    if let Some(pid) = recorded.filter(|p| boots(*p, &root)) {
        return Some(pid);
    }
    let entries = std::fs::read_dir("/proc").ok()?;
    entries.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok()).find(|p| boots(*p, &root))
}

/// The host pid of the machine's PID 1 (systemd), if the machine runs.
pub fn init_pid(dirs: &MachineDirs) -> Option<i32> {
    let nspawn = nspawn_pid(dirs)?;
    let children = std::fs::read_to_string(format!("/proc/{nspawn}/task/{nspawn}/children")).ok()?;
    children.split_whitespace().filter_map(|p| p.parse::<i32>().ok()).find(|p| processes::alive(*p))
}

/// `systemctl is-system-running` inside the machine, or "" when it cannot be asked.
fn system_state(init: i32) -> String {
    let Some(nsenter) = nsenter_binary() else { return String::new() };
    let argv =
        plan::nsenter_args(&nsenter, init, Path::new("/"), &["systemctl".into(), "is-system-running".into()]);
    Command::new(&argv[0])
        .args(&argv[1..])
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// Mounts the machine's root filesystem (the shared `lower` under its own layer) and writes its
/// hostname, unless it is mounted already (a machine booted again keeps its disk).
pub fn prepare(dirs: &MachineDirs, lower: &Path, hostname: &str) -> Result<(), HostsError> {
    for dir in [dirs.upper(), dirs.work(), dirs.root()] {
        std::fs::create_dir_all(&dir).map_err(io(format!("cannot create {}", dir.display())))?;
    }
    let etc = dirs.upper().join("etc");
    std::fs::create_dir_all(&etc).map_err(io(format!("cannot create {}", etc.display())))?;
    std::fs::write(etc.join("hostname"), format!("{hostname}\n")).map_err(io("cannot write the hostname"))?;
    if !is_mounted(&dirs.root()) {
        let options = plan::overlay_options(lower, dirs);
        let root = dirs.root().display().to_string();
        run("mount", &["-t", "overlay", "overlay", "-o", &options, &root])?;
    }
    Ok(())
}

/// Boots a prepared machine and waits until its systemd reports the boot finished.
pub fn boot(dirs: &MachineDirs, boot: &Boot) -> Result<i32, HostsError> {
    let nspawn =
        nspawn_binary().ok_or_else(|| HostsError::Usage("systemd-nspawn is not installed".into()))?;
    let console = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dirs.console())
        .map_err(io(format!("cannot open {}", dirs.console().display())))?;
    let err = console.try_clone().map_err(io("cannot duplicate the console handle"))?;
    let mut cmd = Command::new(nspawn);
    // A clean environment: nothing of the model's (processes are found by JUJU_MODEL_UUID).
    cmd.args(plan::nspawn_args(boot))
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .stdin(Stdio::null())
        .stdout(console)
        .stderr(err);
    // SAFETY: setsid is async-signal-safe and touches no memory shared with the parent.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let child = cmd.spawn().map_err(io("cannot start systemd-nspawn"))?;
    let pid = child.id() as i32;
    // Never waited for by this process: the machine outlives the command that booted it. The
    // agent (a subreaper-free daemon) or init reaps it.
    std::mem::forget(child);
    std::fs::write(dirs.pid_file(), pid.to_string()).map_err(io("cannot record the machine's pid"))?;
    let deadline = Instant::now() + BOOT_TIMEOUT;
    loop {
        if let Some(init) = init_pid(dirs) {
            if plan::booted(&system_state(init)) {
                return Ok(init);
            }
        } else if !processes::alive(pid) {
            let console = std::fs::read_to_string(dirs.console()).unwrap_or_default();
            let last = console.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no output");
            return Err(HostsError::Usage(format!("machine {} did not boot: {last}", boot.name)));
        }
        if Instant::now() >= deadline {
            stop(dirs, Duration::from_secs(5));
            return Err(HostsError::Usage(format!(
                "machine {} did not finish booting in {BOOT_TIMEOUT:?}; see {}",
                boot.name,
                dirs.console().display()
            )));
        }
        std::thread::sleep(POLL);
    }
}

/// Shuts the machine down the way a VM is powered off: SIGTERM to `systemd-nspawn` makes the
/// machine's systemd stop every service and halt. After `grace`, PID 1 is killed (which ends every
/// process of the machine at once). Returns when nspawn is gone.
pub fn stop(dirs: &MachineDirs, grace: Duration) {
    let Some(nspawn) = nspawn_pid(dirs) else { return };
    processes::signal(nspawn, libc::SIGTERM);
    if !wait_gone(nspawn, grace) {
        if let Some(init) = init_pid(dirs) {
            processes::signal(init, libc::SIGKILL);
        }
        processes::signal(nspawn, libc::SIGKILL);
        wait_gone(nspawn, Duration::from_secs(10));
    }
}

/// The machine vanishes: PID 1 is killed, so every process in it dies at once and no shutdown
/// runs; its disk stays.
pub fn kill(dirs: &MachineDirs) {
    let nspawn = nspawn_pid(dirs);
    if let Some(init) = init_pid(dirs) {
        processes::signal(init, libc::SIGKILL);
    }
    if let Some(pid) = nspawn {
        wait_gone(pid, Duration::from_secs(10));
    }
}

/// Stops the machine if it runs, unmounts its root filesystem and deletes its files.
pub fn remove(dirs: &MachineDirs) {
    stop(dirs, SHUTDOWN_TIMEOUT);
    let root = dirs.root();
    for _ in 0..50 {
        if !is_mounted(&root) {
            break;
        }
        let _ = run("umount", &[&root.display().to_string()]);
        if is_mounted(&root) {
            std::thread::sleep(POLL);
        }
    }
    if is_mounted(&root) {
        // Never delete through a mounted root: detach it and leave the files.
        let _ = run("umount", &["--lazy", &root.display().to_string()]);
        return;
    }
    let _ = std::fs::remove_dir_all(&dirs.base);
}

/// Waits until `pid` has exited (or is a zombie); false on timeout.
fn wait_gone(pid: i32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        reap(pid);
        if !processes::alive(pid) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(POLL);
    }
}

/// Reaps `pid` if it is this process's exited child (nspawn started by this process).
fn reap(pid: i32) {
    let mut status = 0;
    // SAFETY: waitpid with WNOHANG on a specific pid; the status pointer is valid.
    unsafe {
        libc::waitpid(pid, &mut status, libc::WNOHANG);
    }
}

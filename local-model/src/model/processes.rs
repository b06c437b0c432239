//! Finding and stopping the processes a unit's hooks started.
//!
//! Every hook runs with `JUJU_MODEL_UUID` and `JUJU_UNIT_NAME` in its environment and whatever it
//! starts (a valkey-server, a `sleep`) inherits them, so `/proc/<pid>/environ` tells which model
//! and unit a process belongs to — even after it daemonised and was re-parented to init.

use std::time::{Duration, Instant};

/// How long processes get to exit after SIGTERM before they are killed.
const GRACE: Duration = Duration::from_secs(5);

/// Whether an environ block (NUL-separated `K=V`) belongs to `uuid` and, if given, `unit`.
pub fn environ_matches(environ: &[u8], uuid: &str, unit: Option<&str>) -> bool {
    let model = format!("JUJU_MODEL_UUID={uuid}");
    let unit = unit.map(|u| format!("JUJU_UNIT_NAME={u}"));
    let mut model_ok = false;
    let mut unit_ok = unit.is_none();
    for var in environ.split(|b| *b == 0) {
        if var == model.as_bytes() {
            model_ok = true;
        }
        if unit.as_ref().is_some_and(|u| var == u.as_bytes()) {
            unit_ok = true;
        }
    }
    model_ok && unit_ok
}

/// Pids (other than this process) of the model's processes, or of one unit's.
pub fn find(uuid: &str, unit: Option<&str>) -> Vec<i32> {
    let me = std::process::id() as i32;
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| *pid != me)
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|env| environ_matches(&env, uuid, unit))
        })
        .collect()
}

/// Whether `pid` is a live process (zombies count as gone).
pub fn alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks for existence and permission.
    if unsafe { libc::kill(pid, 0) } != 0 {
        return std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rsplit_once(") ").is_none_or(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

/// Sends `signal` to `pid`, ignoring processes that are already gone.
pub fn signal(pid: i32, signal: i32) {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe {
        libc::kill(pid, signal);
    }
}

/// Stops the model's (or one unit's) processes: SIGTERM, up to 5 s to exit, then SIGKILL.
/// Returns how many processes were found.
pub fn stop(uuid: &str, unit: Option<&str>) -> usize {
    let pids = find(uuid, unit);
    for pid in &pids {
        signal(*pid, libc::SIGTERM);
    }
    let deadline = Instant::now() + GRACE;
    while Instant::now() < deadline && pids.iter().any(|p| alive(*p)) {
        std::thread::sleep(Duration::from_millis(20));
    }
    for pid in pids.iter().filter(|p| alive(**p)) {
        signal(*pid, libc::SIGKILL);
    }
    // Processes started while we waited (a hook racing the teardown) get no grace.
    for pid in find(uuid, unit) {
        signal(pid, libc::SIGKILL);
    }
    pids.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environ_must_name_model_and_unit() {
        let env = b"PATH=/bin\0JUJU_MODEL_UUID=abc\0JUJU_UNIT_NAME=app/1\0";
        assert!(environ_matches(env, "abc", Some("app/1")));
        assert!(environ_matches(env, "abc", None));
        assert!(!environ_matches(env, "abc", Some("app/10")));
        assert!(!environ_matches(env, "ab", None));
    }
}

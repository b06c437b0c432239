//! Finding and stopping the processes a unit's hooks started.
//!
//! Every hook runs with `JUJU_MODEL_UUID` and `JUJU_UNIT_NAME` in its environment and whatever it
//! starts (a valkey-server, a `sleep`) inherits them, so `/proc/<pid>/environ` tells which model
//! and unit a process belongs to — even after it daemonised and was re-parented to init.
//!
//! The environment alone is not enough: a server that rewrites its process title (Valkey and Redis
//! do, to show `host:port`) overwrites the memory `/proc/<pid>/environ` reads. So a process also
//! belongs to the unit when it descends from one that matched, or when its executable or working
//! directory lies under the unit's (or model's) directory. Stopped (SIGSTOP) processes are sent
//! SIGCONT with SIGTERM, so a frozen server cannot outlive its model.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
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

/// Whether `link` (a `/proc/<pid>/exe` or `cwd` target) lies under `dir`; a deleted target keeps
/// its old path with a ` (deleted)` suffix, which still counts.
pub fn path_under(link: &Path, dir: &Path) -> bool {
    link.starts_with(dir)
}

/// Every pid whose parent chain leads to one of `roots` (the roots included), given each live
/// process's parent.
pub fn with_descendants(roots: &BTreeSet<i32>, parents: &BTreeMap<i32, i32>) -> BTreeSet<i32> {
    let mut found = roots.clone();
    for &pid in parents.keys() {
        let mut cursor = pid;
        let mut hops = 0;
        while let Some(&parent) = parents.get(&cursor) {
            if found.contains(&parent) {
                found.insert(pid);
                break;
            }
            cursor = parent;
            hops += 1;
            if parent <= 1 || hops > 64 {
                break;
            }
        }
    }
    found
}

/// Whether any process runs an executable from, or works in, `dir`.
pub fn any_under(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else { return false };
    entries.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok()).any(|pid| {
        ["exe", "cwd"].iter().any(|link| {
            std::fs::read_link(format!("/proc/{pid}/{link}")).is_ok_and(|target| path_under(&target, dir))
        })
    })
}

fn parent_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(") ")?.1.split_whitespace().nth(1)?.parse().ok()
}

/// Pids (other than this process) of the model's processes, or of one unit's: those whose
/// environment names it, those whose executable or working directory is under `dir`, and their
/// descendants.
pub fn find(uuid: &str, unit: Option<&str>, dir: Option<&Path>) -> Vec<i32> {
    let me = std::process::id() as i32;
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    let pids: Vec<i32> = entries.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok()).collect();
    let belongs = |pid: i32| {
        std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|env| environ_matches(&env, uuid, unit))
            || dir.is_some_and(|dir| {
                ["exe", "cwd"].iter().any(|link| {
                    std::fs::read_link(format!("/proc/{pid}/{link}"))
                        .is_ok_and(|target| path_under(&target, dir))
                })
            })
    };
    let roots: BTreeSet<i32> = pids.iter().copied().filter(|&pid| pid != me && belongs(pid)).collect();
    let parents: BTreeMap<i32, i32> = pids.iter().filter_map(|&pid| Some((pid, parent_of(pid)?))).collect();
    with_descendants(&roots, &parents).into_iter().filter(|&pid| pid != me).collect()
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

/// Stops the model's (or one unit's) processes (see [`find`]): SIGTERM and SIGCONT, up to 5 s to
/// exit, then SIGKILL. Returns how many processes were found.
pub fn stop(uuid: &str, unit: Option<&str>, dir: Option<&Path>) -> usize {
    let pids = find(uuid, unit, dir);
    for pid in &pids {
        signal(*pid, libc::SIGTERM);
        signal(*pid, libc::SIGCONT);
    }
    let deadline = Instant::now() + GRACE;
    while Instant::now() < deadline && pids.iter().any(|p| alive(*p)) {
        std::thread::sleep(Duration::from_millis(20));
    }
    for pid in pids.iter().filter(|p| alive(**p)) {
        signal(*pid, libc::SIGKILL);
    }
    // Processes started while we waited (a hook racing the teardown) get no grace.
    for pid in find(uuid, unit, dir) {
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

    #[test]
    fn descendants_of_a_matched_process_belong_to_it() {
        // 10 matched; 11 is its child, 12 its grandchild; 20 (child of init) is unrelated.
        let parents = BTreeMap::from([(10, 1), (11, 10), (12, 11), (20, 1)]);
        let found = with_descendants(&BTreeSet::from([10]), &parents);
        assert_eq!(found, BTreeSet::from([10, 11, 12]));
    }

    #[test]
    fn executables_under_the_unit_dir_belong_to_it() {
        let dir = Path::new("/m/units/valkey-0");
        assert!(path_under(Path::new("/m/units/valkey-0/storage/data-0/bin/valkey-server"), dir));
        assert!(path_under(Path::new("/m/units/valkey-0/charm/dispatch (deleted)"), dir));
        assert!(!path_under(Path::new("/m/units/valkey-01/charm/dispatch"), dir));
        assert!(!path_under(Path::new("/usr/bin/valkey-server"), dir));
    }
}

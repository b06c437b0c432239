//! Pid files that survive pid reuse: each records the process's pid *and* its start time (from
//! `/proc/<pid>/stat`), so a stale file left by a reboot or a crash never makes an unrelated
//! process look like ours.

use std::fs;
use std::path::Path;

/// A process identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PidRecord {
    /// The pid.
    pub pid: u32,
    /// Its start time in clock ticks since boot (field 22 of `/proc/<pid>/stat`).
    pub start_time: u64,
}

/// Fields of `/proc/<pid>/stat` after the `(comm)` field: state is index 0, ppid 1, starttime 19.
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    Some(after.split_whitespace().map(str::to_string).collect())
}

impl PidRecord {
    /// The identity of the live process `pid`, `None` if it does not exist.
    pub fn of(pid: u32) -> Option<PidRecord> {
        let fields = stat_fields(pid)?;
        Some(PidRecord { pid, start_time: fields.get(19)?.parse().ok()? })
    }

    /// Reads a pid file written by [`PidRecord::write`].
    pub fn read(path: &Path) -> Option<PidRecord> {
        let text = fs::read_to_string(path).ok()?;
        let mut words = text.split_whitespace();
        Some(PidRecord { pid: words.next()?.parse().ok()?, start_time: words.next()?.parse().ok()? })
    }

    /// Writes the record to `path` (atomically).
    pub fn write(&self, path: &Path) -> Result<(), super::WorkloadError> {
        super::files::write_file(path, &format!("{} {}\n", self.pid, self.start_time), 0o644).map(drop)
    }

    /// Whether this very process still runs (same pid, same start time, not a zombie).
    pub fn is_alive(&self) -> bool {
        match stat_fields(self.pid) {
            Some(f) => {
                f.first().is_some_and(|s| s != "Z" && s != "X")
                    && f.get(19).and_then(|t| t.parse::<u64>().ok()) == Some(self.start_time)
            }
            None => false,
        }
    }

    /// Sends `signal` to the process if it is still this process.
    // kill(2) through libc (SAFETY below).
    #[allow(unsafe_code)]
    pub fn signal(&self, signal: i32) -> bool {
        // SAFETY: kill(2) has no memory-safety preconditions.
        self.is_alive() && unsafe { libc::kill(self.pid as libc::pid_t, signal) } == 0
    }
}

/// The record of the live process in pid file `path`, if any.
pub fn live(path: &Path) -> Option<PidRecord> {
    PidRecord::read(path).filter(PidRecord::is_alive)
}

#[cfg(test)]
// Spawns a short-lived child to have a pid that is surely gone.
#[allow(clippy::disallowed_methods)]
mod tests {
    use super::*;

    #[test]
    fn own_process_round_trips_and_is_alive() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.pid");
        let me = PidRecord::of(std::process::id()).unwrap();
        me.write(&path).unwrap();
        assert_eq!(PidRecord::read(&path), Some(me));
        assert_eq!(live(&path), Some(me));
    }

    #[test]
    fn a_reused_pid_with_another_start_time_is_not_alive() {
        let me = PidRecord::of(std::process::id()).unwrap();
        let impostor = PidRecord { start_time: me.start_time + 1, ..me };
        assert!(!impostor.is_alive());
        assert!(!impostor.signal(0));
    }

    #[test]
    fn garbage_and_missing_files_read_as_none() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.pid");
        assert_eq!(PidRecord::read(&path), None);
        fs::write(&path, "not a pid\n").unwrap();
        assert_eq!(PidRecord::read(&path), None);
        assert_eq!(live(&path), None);
    }

    #[test]
    fn an_exited_child_is_not_alive_even_as_a_zombie() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let rec = PidRecord::of(child.id());
        // Wait for the exit without reaping (it stays a zombie until wait()).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while rec.is_some_and(|r| r.is_alive()) && std::time::Instant::now() < deadline {
            std::thread::yield_now();
        }
        assert!(rec.is_none_or(|r| !r.is_alive()));
        child.wait().unwrap();
    }
}

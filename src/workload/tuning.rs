//! Runtime tuning a restarted Sentinel loses: its `INFO` period
//! ([`crate::valkey::SENTINEL_INFO_PERIOD`] says why the charm shortens it). Sentinel keeps it
//! in memory only, so after every (re)start of the local Sentinel — the charm's own start, or its
//! supervisor's restart after a crash — the next hook sets it again. A marker in `run/` names
//! the Sentinel process that was tuned, so a healthy unit's hook costs one small file read.

use super::{Paths, Service, Supervisor, SENTINEL_PORT};
use crate::valkey::{Connector, Endpoint, ValkeyError, SENTINEL_INFO_PERIOD};
use std::path::PathBuf;
use std::time::Duration;

/// `run/sentinel.tuned-pid`: the pid of the Sentinel process last tuned.
pub fn tuned_marker(paths: &Paths) -> PathBuf {
    paths.run_dir().join("sentinel.tuned-pid")
}

/// Sets the local Sentinel's INFO period unless this very process was already tuned. Returns
/// whether it sent the command (false: nothing running, or already done).
pub fn ensure_sentinel_tuned(
    sup: &dyn Supervisor,
    paths: &Paths,
    connector: &dyn Connector,
    host: &str,
) -> Result<bool, ValkeyError> {
    let Some(pid) = sup.pid(Service::Sentinel) else { return Ok(false) };
    let marker = tuned_marker(paths);
    if std::fs::read_to_string(&marker).ok().and_then(|s| s.trim().parse::<u32>().ok()) == Some(pid) {
        return Ok(false);
    }
    connector.sentinel(&Endpoint::new(host, SENTINEL_PORT))?.set_info_period(SENTINEL_INFO_PERIOD)?;
    // A marker that cannot be written only costs a repeat on the next hook.
    let _ = std::fs::write(&marker, pid.to_string());
    Ok(true)
}

/// Forgets that the local Sentinel was tuned, so the next [`ensure_sentinel_tuned`] sets its
/// INFO period again. Called before a switchover led by this Sentinel changes that period: if
/// the switchover cannot put it back (or the hook dies meanwhile), a later hook does.
pub fn forget(paths: &Paths) -> std::io::Result<()> {
    match std::fs::remove_file(tuned_marker(paths)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Tunes a Sentinel this hook has just (re)started: waits (polled, at most `wait`) until it
/// answers, through [`ensure_sentinel_tuned`], so the marker names it and later hooks skip it.
/// Returns whether it answered (false also when it does not run at all).
pub fn tune_started(
    sup: &dyn Supervisor,
    paths: &Paths,
    connector: &dyn Connector,
    host: &str,
    wait: Duration,
) -> bool {
    sup.pid(Service::Sentinel).is_some()
        && crate::switchover::poll(wait, || ensure_sentinel_tuned(sup, paths, connector, host).ok()).is_some()
}

/// [`ensure_sentinel_tuned`] for a started unit's hook; best effort: a Sentinel that does not
/// answer is reported by the status, and the next hook tries again.
pub fn retune(sup: &dyn Supervisor, paths: &Paths, connector: &dyn Connector, host: &str) {
    if let Err(e) = ensure_sentinel_tuned(sup, paths, connector, host) {
        tracing::warn!("cannot tune the local Sentinel: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::valkey::{DataNode, KnownReplica, KnownSentinel, MonitoredPrimary, QuorumCheck, SentinelNode};
    use crate::workload::WorkloadError;
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    /// A supervisor whose Sentinel has a settable pid.
    struct Pid(Cell<Option<u32>>);
    impl Supervisor for Pid {
        fn start(&self, _: Service) -> Result<(), WorkloadError> {
            Ok(())
        }
        fn stop(&self, _: Service) -> Result<(), WorkloadError> {
            Ok(())
        }
        fn pid(&self, _: Service) -> Option<u32> {
            self.0.get()
        }
        fn refresh(&self, _: Duration) -> Result<bool, WorkloadError> {
            Ok(false)
        }
        fn restart_delay(&self) -> Option<Duration> {
            None
        }
    }

    /// A Sentinel that records the periods it was given.
    #[derive(Clone, Default)]
    struct Periods(Rc<RefCell<Vec<Duration>>>);
    impl SentinelNode for Periods {
        fn ping(&mut self) -> Result<(), ValkeyError> {
            Ok(())
        }
        fn primary(&mut self, _: &str) -> Result<Option<MonitoredPrimary>, ValkeyError> {
            Ok(None)
        }
        fn replicas(&mut self, _: &str) -> Result<Vec<KnownReplica>, ValkeyError> {
            Ok(vec![])
        }
        fn sentinels(&mut self, _: &str) -> Result<Vec<KnownSentinel>, ValkeyError> {
            Ok(vec![])
        }
        fn primary_addr(&mut self, _: &str) -> Result<Option<Endpoint>, ValkeyError> {
            Ok(None)
        }
        fn ckquorum(&mut self, _: &str) -> Result<QuorumCheck, ValkeyError> {
            Ok(QuorumCheck { ok: true, message: String::new() })
        }
        fn set(&mut self, _: &str, _: &str, _: &str) -> Result<(), ValkeyError> {
            Ok(())
        }
        fn reset(&mut self, _: &str) -> Result<(), ValkeyError> {
            Ok(())
        }
        fn failover(&mut self, _: &str, _: bool) -> Result<(), ValkeyError> {
            Ok(())
        }
        fn set_info_period(&mut self, period: Duration) -> Result<(), ValkeyError> {
            self.0.borrow_mut().push(period);
            Ok(())
        }
    }
    impl Connector for Periods {
        fn data(&self, _: &Endpoint) -> Result<Box<dyn DataNode>, ValkeyError> {
            unreachable!("tuning never opens a data node")
        }
        fn sentinel(&self, _: &Endpoint) -> Result<Box<dyn SentinelNode>, ValkeyError> {
            Ok(Box::new(self.clone()))
        }
    }

    #[test]
    fn tunes_each_sentinel_process_once() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path());
        std::fs::create_dir_all(paths.run_dir()).unwrap();
        let (sup, sentinel) = (Pid(Cell::new(None)), Periods::default());
        assert!(!ensure_sentinel_tuned(&sup, &paths, &sentinel, "h").unwrap(), "nothing runs");
        sup.0.set(Some(41));
        assert!(ensure_sentinel_tuned(&sup, &paths, &sentinel, "h").unwrap());
        assert!(!ensure_sentinel_tuned(&sup, &paths, &sentinel, "h").unwrap(), "same process");
        sup.0.set(Some(42)); // restarted by its supervisor: tuned again
        assert!(ensure_sentinel_tuned(&sup, &paths, &sentinel, "h").unwrap());
        assert_eq!(*sentinel.0.borrow(), vec![SENTINEL_INFO_PERIOD; 2]);
    }

    /// A switchover led by this Sentinel lowers its INFO period; if its restore failed, the same
    /// process would keep 100 ms for good behind the marker. Forgetting first makes the next hook
    /// set it again.
    #[test]
    fn a_forgotten_tuning_is_sent_again_to_the_same_process() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path());
        std::fs::create_dir_all(paths.run_dir()).unwrap();
        let (sup, sentinel) = (Pid(Cell::new(Some(41))), Periods::default());
        assert!(ensure_sentinel_tuned(&sup, &paths, &sentinel, "h").unwrap());
        forget(&paths).unwrap();
        // The switchover's fast period, whose restore is lost.
        sentinel.0.borrow_mut().push(crate::switchover::SWITCHOVER_INFO_PERIOD);
        assert!(ensure_sentinel_tuned(&sup, &paths, &sentinel, "h").unwrap(), "same pid, tuned again");
        assert_eq!(sentinel.0.borrow().last(), Some(&SENTINEL_INFO_PERIOD));
        forget(&paths).unwrap();
        forget(&paths).unwrap(); // nothing to forget is fine
    }
}

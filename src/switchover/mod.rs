//! Coordinated switchover: hand the primary role to an in-sync replica without losing
//! acknowledged writes. Used by the `failover` action and by a leaving primary.
//!
//! Valkey 9: `SENTINEL FAILOVER primary COORDINATED` (the primary pauses writes until the replica
//! caught up). It cannot name a target, so for a chosen target the other replicas' priority is
//! set to 0 for the duration (and restored). Engines without COORDINATED (Redis 7.0): pause writes
//! ourselves, wait for the replica's offset to match, plain `SENTINEL FAILOVER`, unpause.
//! Either way the command is timed and the hand-over hurried so that the write pause is not
//! set by Valkey's and Sentinel's once-a-second clocks ([`pacing`]).

mod choice;
pub mod pacing;
mod priorities;

use choice::endpoint_of;
pub use choice::{choose, has_coordinated};
use priorities::{admit_fenced, lower_priorities};

use crate::valkey::{Connector, DataNode, Endpoint, ReplicaEntry, SentinelNode, ValkeyError};
use crate::workload::MONITOR_NAME;
use std::time::{Duration, Instant};

/// How long the replicas may take to catch up before we refuse.
pub const CATCH_UP: Duration = Duration::from_secs(3);
/// How long Sentinel may take to notice priority changes (its INFO period is 10 s).
pub const PRIORITY_SEEN: Duration = Duration::from_secs(15);
/// The INFO period of the Sentinel leading a switchover while it prepares (fresh INFO of every
/// replica, all polled in step); back to 1 s before the failover itself ([`pacing`]).
pub const SWITCHOVER_INFO_PERIOD: Duration = Duration::from_millis(100);
/// How long to wait for the moment [`pacing::ready_to_fire`] picks (one INFO round is 1 s).
const PHASE_LIMIT: Duration = Duration::from_millis(2500);
/// How fresh (ms) Sentinel's INFO of every replica must be before it is asked to pick one.
const FRESH_INFO_MS: u64 = 250;

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Switched {
    /// The primary before.
    pub old_primary: Endpoint,
    /// The primary after.
    pub new_primary: Endpoint,
    /// From the `SENTINEL FAILOVER` command until the leading Sentinel names the new primary to
    /// clients (`GET-MASTER-ADDR-BY-NAME`, at `+promoted-slave`): the switch as clients that ask
    /// Sentinel see it, and an upper bound of their write pause (writes pause only once Sentinel
    /// has sent `FAILOVER` to the primary, ~0.2 s after the command). Recorded in the history.
    pub duration: Duration,
    /// From the command until Sentinel finished (`+switch-master`: the other replicas re-pointed,
    /// which it confirms at its next once-a-second INFO of each, so about a second later); `None`
    /// when the caller did not wait for it ([`Request::settle`]).
    pub settled: Option<Duration>,
}

/// What a switchover is asked to do.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// Promote this replica and no other (the `failover` action's `target`).
    pub target: Option<&'a Endpoint>,
    /// Without a target: replicas of units that are leaving too (see [`switchover`]).
    pub avoid: &'a [Endpoint],
    /// The configured replica-priority, given to a fenced candidate that is in sync.
    pub admit: u32,
    /// Bounds the wait for the promotion (and for the end of the failover when settling).
    pub limit: Duration,
    /// Wait until Sentinel finished the failover (the other replicas re-pointed, about a second
    /// after the new primary is named), not only until it names the new primary. A leaving
    /// primary waits (it stops next); the `failover` action does not: clients and the client
    /// relation's answer follow the new primary from the moment it is named.
    pub settle: bool,
}

impl Switched {
    /// Its entry for the failover history, stamped now (it is recorded when it ended).
    pub fn record(&self) -> crate::history::Failover {
        crate::history::Failover {
            at_ms: crate::history::clock::now_ms(),
            old_primary: self.old_primary.host.clone(),
            new_primary: self.new_primary.host.clone(),
            kind: crate::history::Kind::Switchover,
            duration_ms: Some(self.duration.as_millis() as u64),
        }
    }
}

/// Why a switchover was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum SwitchoverError {
    /// The Sentinel knows no primary.
    #[error("sentinel knows no primary")]
    NoPrimary,
    /// The chosen target is not a replica of the current primary.
    #[error("{0} is not a replica of the current primary")]
    NotAReplica(String),
    /// No replica is in sync; the reason names each one's state.
    #[error("no replica in sync ({0})")]
    NotInSync(String),
    /// Sentinel did not finish in time.
    #[error("sentinel did not promote a replica within {0} s")]
    Timeout(u64),
    /// Sentinel refused the FAILOVER command.
    #[error("sentinel refused the failover: {0}")]
    Refused(String),
    /// A node could not be reached or answered an error.
    #[error(transparent)]
    Valkey(#[from] ValkeyError),
}

/// How long a restore (INFO period, priority, unpause, fence) is retried before it is reported.
pub const RESTORE_WAIT: Duration = Duration::from_secs(1);

/// Undoes a change the switchover made, retrying for [`RESTORE_WAIT`]; a restore that still
/// fails is logged (never dropped silently) and reported as `false`. `what` names it for the log.
pub fn restore(what: &str, mut attempt: impl FnMut() -> Result<(), ValkeyError>) -> bool {
    let mut last = None;
    let done = poll(RESTORE_WAIT, || match attempt() {
        Ok(()) => Some(()),
        Err(e) => {
            last = Some(e);
            None
        }
    });
    if done.is_none() {
        let why = last.map(|e| e.to_string()).unwrap_or_default();
        tracing::warn!("after the switchover, cannot restore {what}: {why}");
    }
    done.is_some()
}

/// Polls `f` every 100 ms until it returns `Some` or `limit` passes.
pub fn poll<T>(limit: Duration, f: impl FnMut() -> Option<T>) -> Option<T> {
    poll_every(limit, Duration::from_millis(100), f)
}

/// Polls `f` every `period` until it returns `Some` or `limit` passes.
pub fn poll_every<T>(limit: Duration, period: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(period);
    }
}

/// Runs a switchover through the Sentinel at `sentinel`, as `request` says. `admit` is the
/// configured replica-priority: a candidate still behind the start-up fence
/// (priority 0) that the primary reports in sync has resynced, so it is admitted with that
/// priority first — the same condition the charm's own fence lift waits for, checked here so a
/// switchover never waits for that hook (0: the operator wants no promotion; nothing admitted).
/// `avoid` (no `target` given): replicas of units that are leaving too. They are taken out of
/// Sentinel's choice (priority 0, not restored: they are going); when no other replica is in
/// sync the switchover is refused as `NotInSync` (a hand-over to a unit that leaves as well would
/// only have to be repeated, and when every unit leaves there is nobody to hand over to).
pub fn switchover(
    connector: &dyn Connector,
    sentinel: &Endpoint,
    request: &Request<'_>,
) -> Result<Switched, SwitchoverError> {
    let Request { target, avoid, admit, .. } = *request;
    let mut s = connector.sentinel(sentinel)?;
    let old = s.primary_addr(MONITOR_NAME)?.ok_or(SwitchoverError::NoPrimary)?;
    let mut p = connector.data(&old)?;
    // Give replicas a moment to catch up before judging them.
    let mut chosen = Err(SwitchoverError::NoPrimary);
    let staying = |replicas: &[ReplicaEntry]| -> Vec<ReplicaEntry> {
        replicas.iter().filter(|r| !avoid.contains(&endpoint_of(r))).cloned().collect()
    };
    poll(CATCH_UP, || {
        let info = p.replication().ok()?;
        let others = staying(&info.replicas);
        chosen = match others.is_empty() && !info.replicas.is_empty() {
            true => Err(SwitchoverError::NotInSync("every replica's unit is leaving too".into())),
            false => choose(&others, info.master_repl_offset, target),
        };
        chosen.is_ok().then_some(())
    });
    let chosen = chosen?;
    let candidates: Vec<Endpoint> = match target {
        Some(_) => vec![chosen.clone()],
        None => {
            let info = p.replication()?;
            let synced = info.replicas.iter().filter(|r| crate::plan::in_sync(r, info.master_repl_offset));
            synced.map(endpoint_of).filter(|e| !avoid.contains(e)).collect()
        }
    };
    admit_fenced(connector, &candidates, admit)?;
    // This Sentinel leads the switchover. While it prepares, let it read the nodes' INFO ten
    // times a second: its INFO of every replica is fresh (it picks only replicas whose INFO is
    // younger than three periods) and taken in the same timer tick, so that once it is back at
    // 1 s every replica's next INFO is due at the same moment, which `pacing` times the failover
    // against. Only for the switch: at all times it would multiply Sentinel's INFO traffic and
    // its hostname lookups by ten.
    // Right after the change three periods are 300 ms, which the last 1 s-period INFO may
    // exceed: wait for fresh INFO first, or the failover aborts (-failover-abort-no-good-slave;
    // seen 1 in 8 before this wait).
    let _ = s.set_info_period(SWITCHOVER_INFO_PERIOD);
    poll(CATCH_UP, || {
        let known = s.replicas(MONITOR_NAME).ok()?;
        known.iter().filter(|k| !k.is_down()).all(|k| k.info_refresh_ms < FRESH_INFO_MS).then_some(())
    });
    let result = switch_to(connector, s.as_mut(), p.as_mut(), &old, &chosen, request);
    // A Sentinel left at the fast period stays there until it restarts: the caller also forgets
    // the local Sentinel's tuning beforehand (`workload::tuning::forget`), so a later hook retunes.
    restore("the Sentinel's INFO period", || s.set_info_period(crate::valkey::SENTINEL_INFO_PERIOD));
    result
}

/// The switch itself, once `chosen` is known; see [`switchover`].
fn switch_to(
    connector: &dyn Connector,
    s: &mut dyn SentinelNode,
    p: &mut dyn DataNode,
    old: &Endpoint,
    chosen: &Endpoint,
    request: &Request<'_>,
) -> Result<Switched, SwitchoverError> {
    let Request { target, avoid, .. } = *request;
    let info = p.replication()?;
    let replicas = info.replicas.iter().map(endpoint_of);
    // Out of Sentinel's choice: with a target, every other replica (they get their priority
    // back); without one, the leaving ones (they keep priority 0; an unreachable one has stopped,
    // and Sentinel does not pick a replica it is disconnected from).
    let out: Vec<Endpoint> = match target {
        Some(_) => replicas.filter(|e| e != chosen).collect(),
        None => replicas.filter(|e| avoid.contains(e)).collect(),
    };
    let lowered = lower_priorities(connector, s, &out, target.is_none())?;
    let restored = if target.is_some() { lowered } else { Vec::new() };
    // Without a target Sentinel picks the replica itself, from offsets it may have read before the
    // last writes: every replica it could pick must be caught up before it picks.
    let must_catch_up: Vec<Endpoint> = if target.is_some() {
        vec![chosen.clone()]
    } else {
        let online = info.replicas.iter().filter(|r| r.state == "online").map(endpoint_of);
        online.filter(|e| !out.contains(e)).collect()
    };
    let result = promote(connector, s, p, old, &must_catch_up, request);
    for (ep, value) in restored {
        restore(&format!("replica-priority {value} on {ep}"), || {
            connector.data(&ep)?.config_set("replica-priority", &value)
        });
    }
    result
}

fn promote(
    connector: &dyn Connector,
    s: &mut dyn SentinelNode,
    p: &mut dyn DataNode,
    old: &Endpoint,
    must_catch_up: &[Endpoint],
    request: &Request<'_>,
) -> Result<Switched, SwitchoverError> {
    let limit = request.limit;
    let coordinated = p.version().map(|v| has_coordinated(&v)).unwrap_or(false);
    if !coordinated {
        // Redis 7.0: drain writes ourselves.
        p.pause_writes(limit)?;
        let target_offset = p.replication()?.master_repl_offset;
        for replica in must_catch_up {
            let caught_up = poll(CATCH_UP, || {
                let mut r = connector.data(replica).ok()?;
                (r.replication().ok()?.data_offset() >= target_offset).then_some(())
            });
            if caught_up.is_none() {
                restore("writes on the paused primary", || p.unpause());
                return Err(SwitchoverError::NotInSync(format!(
                    "{replica} did not catch up while writes were paused"
                )));
            }
        }
        // Sentinel judges replicas by its own last INFO of them; make it fresh.
        poll(CATCH_UP, || {
            let known = s.replicas(MONITOR_NAME).ok()?;
            must_catch_up
                .iter()
                .all(|m| {
                    known.iter().any(|k| k.ip == m.host && k.port == m.port && k.repl_offset >= target_offset)
                })
                .then_some(())
        });
    }
    // Connections for hurrying the hand-over, opened before the clock starts.
    let mut hurry: Vec<Box<dyn DataNode>> = if coordinated {
        must_catch_up.iter().filter_map(|c| connector.data(c).ok()).collect()
    } else {
        Vec::new()
    };
    // Back to the 1 s INFO period Sentinel uses during a failover, then fire when the replicas'
    // next INFO is due just after the hand-over (see `pacing`).
    restore("the Sentinel's INFO period", || s.set_info_period(crate::valkey::SENTINEL_INFO_PERIOD));
    poll_every(PHASE_LIMIT, Duration::from_millis(10), || {
        let known = s.replicas(MONITOR_NAME).ok()?;
        pacing::ready_to_fire(&pacing::candidate_info_ages(&known, must_catch_up)).then_some(())
    });
    let started = Instant::now();
    // Sentinel may answer NOGOODSLAVE until its INFO of the replicas is fresh: retry briefly.
    let mut last = String::new();
    let accepted = poll(Duration::from_secs(12), || match s.failover(MONITOR_NAME, coordinated) {
        Ok(()) => Some(()),
        Err(e) => {
            last = e.to_string();
            None
        }
    });
    if accepted.is_none() {
        if !coordinated {
            restore("writes on the paused primary", || p.unpause());
        }
        return Err(SwitchoverError::Refused(last));
    }
    if coordinated {
        pacing::hurry_handover(p, &mut hurry, pacing::HURRY_LIMIT);
    }
    // Clients that ask Sentinel are sent to the new primary from here on.
    // One `limit` for all the waits below, counted from the command.
    let left = || limit.saturating_sub(started.elapsed());
    let announced = poll_every(left(), Duration::from_millis(20), || {
        let addr = s.primary_addr(MONITOR_NAME).ok().flatten()?;
        (addr != *old).then(|| (addr, started.elapsed()))
    });
    if !coordinated {
        // Redis 7.0: the old primary holds our pause; release its clients now, fenced.
        fence_and_unpause(connector, old, left());
    }
    if let (false, Some((named, duration))) = (request.settle, &announced) {
        // Sentinel re-points the other replicas on its own from here.
        return Ok(Switched {
            old_primary: old.clone(),
            new_primary: named.clone(),
            duration: *duration,
            settled: None,
        });
    }
    // Done when Sentinel has switched (+switch-master): it names another primary and no failover
    // is in progress, i.e. the other replicas have been re-pointed too.
    let new = poll(left(), || {
        let p = s.primary(MONITOR_NAME).ok().flatten()?;
        let addr = Endpoint::new(p.ip.clone(), p.port);
        (addr != *old && !p.failover_in_progress()).then_some(addr)
    });
    match new {
        Some(new_primary) => {
            let settled = started.elapsed();
            Ok(Switched {
                old_primary: old.clone(),
                new_primary,
                duration: announced.map(|(_, d)| d).unwrap_or(settled),
                settled: Some(settled),
            })
        }
        None => Err(SwitchoverError::Timeout(limit.as_secs())),
    }
}

/// After a plain `SENTINEL FAILOVER`: the old primary still thinks it is primary until Sentinel
/// converts it (next INFO round), and Sentinel's conversion itself waits behind our write pause.
/// So: make it refuse writes (`min-replicas-to-write` it cannot meet: `-NOREPLICAS`), unpause,
/// wait (bounded) until it is a replica, then restore the setting and persist it. Connections to
/// it drop at the role change, so every call uses a fresh one.
fn fence_and_unpause(connector: &dyn Connector, old: &Endpoint, limit: Duration) {
    let saved =
        connector.data(old).ok().and_then(|mut n| n.config_get("min-replicas-to-write").ok().flatten());
    if let Ok(mut n) = connector.data(old) {
        // Best effort: the fence only keeps writes off the old primary while it is demoted.
        let _ = n.config_set("min-replicas-to-write", "1000");
        restore("writes on the old primary", || n.unpause());
    }
    poll(limit, || {
        let r = connector.data(old).ok()?.replication().ok()?;
        (r.role == crate::valkey::Role::Replica).then_some(())
    });
    if let Some(value) = saved {
        restore(&format!("min-replicas-to-write {value} on {old}"), || {
            let mut n = connector.data(old)?;
            n.config_set("min-replicas-to-write", &value)?;
            n.config_rewrite()
        });
    }
}

#[cfg(test)]
mod live_tests;

#[cfg(test)]
mod restore_tests {
    use super::*;
    use crate::juju::log::{JujuLogLayer, LogSink};
    use crate::juju::{HookToolError, LogLevel};
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::layer::SubscriberExt as _;

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<(LogLevel, String)>>>);
    impl LogSink for Lines {
        fn juju_log(&self, level: LogLevel, message: &str) -> Result<(), HookToolError> {
            self.0.lock().unwrap().push((level, message.to_string()));
            Ok(())
        }
    }

    fn refused() -> ValkeyError {
        ValkeyError::Reply {
            endpoint: Endpoint::new("127.0.0.1", 26379),
            command: "SENTINEL DEBUG".into(),
            detail: "refused".into(),
        }
    }

    #[test]
    fn a_failed_restore_is_retried_then_logged_never_dropped() {
        let lines = Lines::default();
        let subscriber = tracing_subscriber::registry().with(JujuLogLayer::new(lines.clone()));
        tracing::subscriber::with_default(subscriber, || {
            // Fails twice, then takes: restored, nothing logged.
            let mut tries = 0;
            assert!(restore("the Sentinel's INFO period", || {
                tries += 1;
                if tries < 3 {
                    Err(refused())
                } else {
                    Ok(())
                }
            }));
            assert_eq!(tries, 3);
            assert!(lines.0.lock().unwrap().is_empty());
            // Never takes: retried until RESTORE_WAIT, then a warning says what stayed changed.
            let mut tries = 0;
            let started = Instant::now();
            assert!(!restore("the Sentinel's INFO period", || {
                tries += 1;
                Err(refused())
            }));
            assert!(tries > 1 && started.elapsed() >= RESTORE_WAIT, "{tries} tries");
        });
        let logged = lines.0.lock().unwrap().clone();
        assert_eq!(logged.len(), 1, "{logged:?}");
        assert_eq!(logged[0].0, LogLevel::Warning);
        assert!(logged[0].1.starts_with("after the switchover, cannot restore the Sentinel's INFO period: "));
    }
}

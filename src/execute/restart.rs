//! Bringing a started unit's dead services back (`Step::EnsureServices`,
//! `Step::RestartAsReplica`) or keeping its Valkey down (`Step::KeepValkeyDown`), as
//! `plan::restart_rule` decides.

use super::{fence, ExecuteError, Local, Outcome, Ready, SERVICE_UP};
use crate::observe::Observed;
use crate::valkey::{Endpoint, Role};
use crate::workload::{self, Service};

/// Starts whichever of Valkey and Sentinel is down, from their files.
pub(super) fn ensure_services(l: &Local, out: &mut Outcome) -> Result<(), ExecuteError> {
    let (e, sup) = (l.e, l.sup);
    // A crashed Valkey whose supervisor waits out the restart delay (a crashed primary must not
    // return before Sentinel replaced it) will not answer now: say so and do not hold the hook —
    // it may be the primary-changed hook the status waits for.
    let delayed = !sup.is_running(Service::Valkey) && sup.is_supervised(Service::Valkey);
    fence::write_restarted_script(l.paths)?;
    if !sup.is_running(Service::Valkey) {
        sup.start(Service::Valkey)?;
    }
    let sentinel_was_down = start_sentinel(l)?;
    if !sentinel_answers(l) {
        repair_sentinel(l, out)?;
    } else if sentinel_was_down {
        tune_sentinel(l);
    }
    // Valkey may be loading its AOF; give it a moment so the status can say how it is.
    if delayed {
        out.notes.push("waiting for Valkey's supervisor to restart it (restart delay)".into());
    } else {
        let me = l.me();
        if e.deadline.poll(SERVICE_UP, || e.connector.data(&me).ok()?.ping().ok()).is_none() {
            out.notes.push("waiting for Valkey to answer after a restart".into());
        }
    }
    Ok(())
}

/// Cancels a pending restart of Valkey (a supervisor waiting out its restart delay would bring
/// it back from its file) and starts Sentinel if it is down.
pub(super) fn keep_valkey_down(l: &Local) -> Result<(), ExecuteError> {
    if l.sup.is_supervised(Service::Valkey) || l.sup.is_running(Service::Valkey) {
        l.sup.stop(Service::Valkey)?;
    }
    if start_sentinel(l)? {
        tune_sentinel(l);
    }
    Ok(())
}

/// Whether the local Sentinel answers `PING` within [`SERVICE_UP`].
fn sentinel_answers(l: &Local) -> bool {
    let me = l.my_sentinel();
    l.e.deadline.poll(SERVICE_UP, || l.e.connector.sentinel(&me).ok()?.ping().ok()).is_some()
}

/// A Sentinel that does not come up from its file (a corrupt sentinel.conf made it crash-loop
/// for ever, issue 15): stop it, render a fresh file — monitoring the primary this unit knows of,
/// at the majority quorum; its peers and the current epoch it learns again from their hellos,
/// like a newcomer — and start it again.
fn repair_sentinel(l: &Local, out: &mut Outcome) -> Result<(), ExecuteError> {
    let (o, sup) = (l.o, l.sup);
    let Some(primary) = primary_to_monitor(o) else {
        out.notes
            .push("waiting for Sentinel, which does not start, and no primary is known to monitor".into());
        return Ok(());
    };
    // The plan heals dead services while the config is invalid too; a fresh file needs a valid one.
    let Ok(config) = o.config.as_ref() else {
        out.notes.push("waiting for Sentinel, which does not start, and a valid config to render it".into());
        return Ok(());
    };
    tracing::warn!("Sentinel does not start from its sentinel.conf: rendering a fresh one");
    sup.stop(Service::Sentinel)?;
    let r = Ready { local: l, config };
    super::start::write_sentinel_conf(&r, &primary, crate::plan::majority(o.started_count()))?;
    sup.start(Service::Sentinel)?;
    if sentinel_answers(l) {
        tune_sentinel(l);
    } else {
        out.notes.push("waiting for Sentinel, which does not start even from a fresh sentinel.conf".into());
    }
    Ok(())
}

/// The primary a re-rendered sentinel.conf monitors: the Sentinels' choice, else the one the local
/// Valkey follows, else the local Valkey itself when it is the primary.
fn primary_to_monitor(o: &Observed) -> Option<Endpoint> {
    if let Some(p) = o.known_primary() {
        return Some(p);
    }
    let r = o.local.replication.as_ref()?;
    match r.role {
        Role::Replica => {
            Some(Endpoint::new(r.master_host.clone()?, r.master_port.unwrap_or(workload::VALKEY_PORT)))
        }
        Role::Primary => Some(Endpoint::new(o.announce_host.clone()?, workload::VALKEY_PORT)),
        Role::Unknown => None,
    }
}

/// Starts Sentinel when it is down; returns whether it was.
fn start_sentinel(l: &Local) -> Result<bool, ExecuteError> {
    if l.sup.is_running(Service::Sentinel) {
        return Ok(false);
    }
    l.sup.start(Service::Sentinel)?;
    Ok(true)
}

/// A restarted Sentinel begins at its built-in timers; tune it now, not at the next hook.
fn tune_sentinel(l: &Local) {
    workload::tuning::tune_started(l.sup, l.paths, l.e.connector, l.host, l.e.deadline.cap(SERVICE_UP));
}

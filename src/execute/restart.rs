//! Bringing a started unit's dead services back (`Step::EnsureServices`,
//! `Step::RestartAsReplica`) or keeping its Valkey down (`Step::KeepValkeyDown`), as
//! `plan::restart_rule` decides.

use super::{fence, need, Effects, ExecuteError, Outcome, SERVICE_UP};
use crate::observe::Observed;
use crate::switchover::poll;
use crate::valkey::{Endpoint, Role};
use crate::workload::{self, Service};

/// Starts whichever of Valkey and Sentinel is down, from their files.
pub(super) fn ensure_services(e: &Effects, o: &Observed, out: &mut Outcome) -> Result<(), ExecuteError> {
    let sup = need(e.supervisor, "restart services", "supervisor")?;
    // A crashed Valkey whose supervisor waits out the restart delay (a crashed primary must not
    // return before Sentinel replaced it) will not answer now: say so and do not hold the hook —
    // it may be the primary-changed hook the status waits for.
    let delayed = !sup.is_running(Service::Valkey) && sup.is_supervised(Service::Valkey);
    if let Some(paths) = e.paths {
        fence::write_restarted_script(paths)?;
    }
    if !sup.is_running(Service::Valkey) {
        sup.start(Service::Valkey)?;
    }
    let sentinel_was_down = start_sentinel(e)?;
    if !sentinel_answers(e, o) {
        repair_sentinel(e, o, out)?;
    } else if sentinel_was_down {
        tune_sentinel(e, o);
    }
    // Valkey may be loading its AOF; give it a moment so the status can say how it is.
    if delayed {
        out.notes.push("waiting for Valkey's supervisor to restart it (restart delay)".into());
    } else if let Some(host) = &o.announce_host {
        let me = Endpoint::new(host.clone(), workload::VALKEY_PORT);
        if poll(SERVICE_UP, || e.connector.data(&me).ok()?.ping().ok()).is_none() {
            out.notes.push("waiting for Valkey to answer after a restart".into());
        }
    }
    Ok(())
}

/// Cancels a pending restart of Valkey (a supervisor waiting out its restart delay would bring
/// it back from its file) and starts Sentinel if it is down.
pub(super) fn keep_valkey_down(e: &Effects, o: &Observed) -> Result<(), ExecuteError> {
    let sup = need(e.supervisor, "keep Valkey down", "supervisor")?;
    if sup.is_supervised(Service::Valkey) || sup.is_running(Service::Valkey) {
        sup.stop(Service::Valkey)?;
    }
    if start_sentinel(e)? {
        tune_sentinel(e, o);
    }
    Ok(())
}

/// Whether the local Sentinel answers `PING` within [`SERVICE_UP`].
fn sentinel_answers(e: &Effects, o: &Observed) -> bool {
    let Some(host) = &o.announce_host else { return false };
    let me = Endpoint::new(host.clone(), workload::SENTINEL_PORT);
    poll(SERVICE_UP, || e.connector.sentinel(&me).ok()?.ping().ok()).is_some()
}

/// A Sentinel that does not come up from its file (a corrupt sentinel.conf made it crash-loop
/// for ever, issue 15): stop it, render a fresh file — monitoring the primary this unit knows of,
/// at the majority quorum; its peers and the current epoch it learns again from their hellos,
/// like a newcomer — and start it again.
fn repair_sentinel(e: &Effects, o: &Observed, out: &mut Outcome) -> Result<(), ExecuteError> {
    let sup = need(e.supervisor, "repair Sentinel", "supervisor")?;
    let Some(primary) = primary_to_monitor(o) else {
        out.notes
            .push("waiting for Sentinel, which does not start, and no primary is known to monitor".into());
        return Ok(());
    };
    tracing::warn!("Sentinel does not start from its sentinel.conf: rendering a fresh one");
    sup.stop(Service::Sentinel)?;
    super::start::write_sentinel_conf(e, o, &primary, crate::plan::majority(o.started_count()))?;
    sup.start(Service::Sentinel)?;
    if sentinel_answers(e, o) {
        tune_sentinel(e, o);
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
fn start_sentinel(e: &Effects) -> Result<bool, ExecuteError> {
    let sup = need(e.supervisor, "restart Sentinel", "supervisor")?;
    if sup.is_running(Service::Sentinel) {
        return Ok(false);
    }
    sup.start(Service::Sentinel)?;
    Ok(true)
}

/// A restarted Sentinel begins at its built-in timers; tune it now, not at the next hook.
fn tune_sentinel(e: &Effects, o: &Observed) {
    if let (Some(sup), Some(paths), Some(host)) = (e.supervisor, e.paths, &o.announce_host) {
        workload::tuning::tune_started(sup, paths, e.connector, host, SERVICE_UP);
    }
}

//! Recording how an event ended: commit or roll back its held-back changes, retry failed hooks
//! with back-off, finish a unit's removal — and recovering events cut off by an agent restart.

use super::hook::{self, Outcome};
use super::schedule;
use super::step::{status, Launch};
use crate::model::lifecycle;
use crate::state::{FailedEvent, ModelState, QueuedEvent};
use crate::store::Store;

/// Records how an event ended. Held-back changes are committed (and the hooks they trigger
/// queued) only on exit 0; the pending file is removed either way.
pub fn complete(store: &Store, state: &mut ModelState, launch: &Launch, outcome: &Outcome, now: f64) {
    let pending_path = store.pending_path(&launch.context_id);
    let commit = |state: &mut ModelState| {
        if let Ok(pending) = store.read_pending(&launch.context_id, &launch.unit) {
            for (unit, event) in crate::tools::commit::apply_pending(state, &pending) {
                lifecycle::enqueue_hook(state, &unit, event);
            }
        }
    };
    let still_ours = state
        .units
        .get(&launch.unit)
        .and_then(|u| u.running.as_ref())
        .is_some_and(|r| r.context_id == launch.context_id);
    if !still_ours {
        // The unit was removed (--force) while this ran: nothing to commit, but an operation
        // still gets an outcome so whoever waits for it returns.
        if let QueuedEvent::Operation { id } = &launch.event {
            if let Some(op) = state.operations.get_mut(id) {
                op.status = "failed".into();
                op.failure = Some(format!("unit {} was removed", launch.unit));
                op.completed = Some(now);
            }
        }
        let _ = std::fs::remove_file(&pending_path);
        return;
    }
    match &launch.event {
        QueuedEvent::Operation { id } => {
            if outcome.succeeded() {
                commit(state);
            }
            if let Some(op) = state.operations.get_mut(id) {
                op.return_code = outcome.code;
                op.stdout.clone_from(&outcome.stdout);
                op.stderr.clone_from(&outcome.stderr);
                op.completed = Some(now);
                if !outcome.succeeded() && op.failure.is_none() && op.action.is_some() {
                    op.failure = Some(match (outcome.timed_out, outcome.code) {
                        (true, _) => "timed out".into(),
                        (_, Some(code)) => format!("exit status {code}"),
                        _ => "killed".into(),
                    });
                }
                // As in Juju: an action fails on action-fail or a non-zero exit; an exec command
                // completes whatever its exit code (which the caller reports), unless it was killed.
                let failed = match op.action {
                    Some(_) => op.failure.is_some() || !outcome.succeeded(),
                    None => outcome.code.is_none(),
                };
                op.status = if failed { "failed" } else { "completed" }.into();
            }
            let u = state.units.get_mut(&launch.unit).expect("checked");
            u.running = None;
            u.agent_status = match &u.failed {
                Some(f) => status("error", format!("hook failed: \"{}\"", label_of(&f.event)), now),
                None => status("idle", String::new(), now),
            };
        }
        QueuedEvent::Hook(h) if outcome.succeeded() => {
            commit(state);
            let u = state.units.get_mut(&launch.unit).expect("checked");
            u.running = None;
            u.failed = None;
            u.agent_status = status("idle", String::new(), now);
            match h.name.as_str() {
                "install" => {
                    u.installed = true;
                    if u.workload_status.status == "maintenance"
                        && u.workload_status.message == "installing charm software"
                    {
                        u.workload_status = status("unknown", String::new(), now);
                    }
                }
                "start" => {
                    u.started = true;
                    u.last_update_status = now;
                }
                "remove" => {
                    // The agent already stopped its processes and deleted its directory.
                    lifecycle::finish_removal(state, &launch.unit);
                }
                name if name.ends_with("-relation-created") => {
                    if let Some(rel) = h.relation_id {
                        lifecycle::enter_scope(state, &launch.unit, rel);
                        if let Some(app) = lifecycle::subordinate_due(state, &launch.unit, rel) {
                            let made =
                                crate::model::units::add_subordinate(store.dir(), state, &app, &launch.unit);
                            if let Err(e) = made {
                                eprintln!("cannot deploy a unit of {app} onto {}: {e}", launch.unit);
                            }
                        }
                    }
                }
                name if name.ends_with("-relation-broken") => {
                    crate::model::relations::forget_finished(state);
                }
                _ => {}
            }
        }
        QueuedEvent::Hook(h) => {
            let u = state.units.get_mut(&launch.unit).expect("checked");
            u.running = None;
            let attempts = u.failed.as_ref().map_or(0, |f| f.attempts) + 1;
            let delay = schedule::retry_delay_secs(state.hook_retry_delay_ms, attempts);
            u.failed = Some(FailedEvent { event: launch.event.clone(), attempts, retry_at: now + delay });
            u.agent_status = status("error", format!("hook failed: \"{}\"", h.name), now);
            let why = if outcome.timed_out {
                "timed out".to_string()
            } else {
                format!("exit status {:?}", outcome.code)
            };
            hook::append_log(
                &store.log_path(),
                &format!(
                    "{now:.3} {} ERROR juju.worker.uniter.operation hook \"{}\" failed: {why}\n",
                    launch.unit, h.name
                ),
            );
        }
    }
    let _ = std::fs::remove_file(&pending_path);
}

fn label_of(event: &QueuedEvent) -> String {
    match event {
        QueuedEvent::Hook(h) => h.name.clone(),
        QueuedEvent::Operation { id } => format!("operation {id}"),
    }
}

/// After an agent restart: an event still marked running was cut off. Its process group is killed
/// if it lives on; a hook counts as failed (retried at once), an operation as failed. Like Juju's
/// unit agents, every started unit then gets a config-changed (unless one is already due).
pub fn recover(state: &mut ModelState, now: f64) {
    for u in state.units.values_mut() {
        let config_changed = QueuedEvent::Hook(lifecycle::hook("config-changed"));
        let due = u.queue.contains(&config_changed)
            || u.running.as_ref().is_some_and(|r| r.event == config_changed)
            || u.failed.as_ref().is_some_and(|f| f.event == config_changed);
        if u.started && u.life == crate::state::Life::Alive && !due {
            u.queue.push_back(config_changed);
        }
        let Some(running) = u.running.take() else { continue };
        if let Some(pid) = running.pid {
            // SAFETY: kill has no memory-safety preconditions; a negative pid names the group.
            unsafe {
                libc::kill(-(pid as i32), libc::SIGKILL);
            }
        }
        match &running.event {
            QueuedEvent::Operation { id } => {
                if let Some(op) = state.operations.get_mut(id) {
                    op.status = "failed".into();
                    op.failure = Some("agent restarted while the operation ran".into());
                    op.completed = Some(now);
                }
                u.agent_status = status("idle", String::new(), now);
            }
            QueuedEvent::Hook(h) => {
                let attempts = u.failed.as_ref().map_or(0, |f| f.attempts) + 1;
                u.failed = Some(FailedEvent { event: running.event.clone(), attempts, retry_at: now });
                u.agent_status = status("error", format!("hook failed: \"{}\"", h.name), now);
            }
        }
    }
}

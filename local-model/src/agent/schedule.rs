//! Which event a unit runs next (pure): Juju's priorities (juju-contract §3) over a FIFO queue.
//!
//! - One event at a time per unit: nothing is picked while one runs.
//! - Operations (actions, exec) come first once `install` has succeeded, even before a queued
//!   `start`: Juju's uniter consults its operation resolvers before the hook resolvers
//!   (`internal/worker/uniter/resolver.go`); before `install` they wait.
//! - Until `start` has succeeded the hooks run strictly in order (storage-attached, install,
//!   relation-created, leader-elected, config-changed, start).
//! - After that: relation-created, then leader-elected, then hooks in order, update-status last.
//! - A failed hook blocks ordinary hooks until its retry is due; operations still run meanwhile
//!   (a unit in error still answers `juju run` and `juju exec`).

use crate::state::{QueuedEvent, Unit};

/// What to run next on a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// The queue entry at this index.
    Queued(usize),
    /// The failed hook, whose retry is due.
    Retry,
}

/// Picks the next event of `unit` at time `now` (unix seconds), or `None` if nothing may run.
pub fn pick(unit: &Unit, now: f64) -> Option<Pick> {
    if unit.running.is_some() {
        return None;
    }
    let is_op = |e: &QueuedEvent| matches!(e, QueuedEvent::Operation { .. });
    let hook_named =
        |e: &QueuedEvent, f: &dyn Fn(&str) -> bool| matches!(e, QueuedEvent::Hook(h) if f(&h.name));
    if unit.installed || unit.failed.is_some() {
        if let Some(i) = unit.queue.iter().position(is_op) {
            return Some(Pick::Queued(i));
        }
    }
    if let Some(failed) = &unit.failed {
        return (failed.retry_at <= now).then_some(Pick::Retry);
    }
    if !unit.started {
        return unit.queue.iter().position(|e| !is_op(e)).map(Pick::Queued);
    }
    let first = |f: &dyn Fn(&str) -> bool| unit.queue.iter().position(|e| hook_named(e, f));
    first(&|n| n.ends_with("-relation-created"))
        .or_else(|| first(&|n| n == "leader-elected"))
        .or_else(|| first(&|n| n != "update-status"))
        .or_else(|| (!unit.queue.is_empty()).then_some(0))
        .map(Pick::Queued)
}

/// Back-off before retry number `attempts` (1 = first retry): base doubling, capped at 5 minutes.
pub fn retry_delay_secs(base_ms: u64, attempts: u32) -> f64 {
    let factor = 2f64.powi(attempts.saturating_sub(1).min(20) as i32);
    (base_ms as f64 / 1000.0 * factor).min(300.0)
}

/// Whether update-status is due: the unit has started, is alive and idle, and the interval passed.
pub fn update_status_due(unit: &Unit, interval_secs: f64, now: f64) -> bool {
    unit.started
        && unit.life == crate::state::Life::Alive
        && unit.running.is_none()
        && unit.failed.is_none()
        && unit.queue.is_empty()
        && now - unit.last_update_status >= interval_secs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::lifecycle::hook;
    use crate::state::FailedEvent;

    fn unit(names: &[&str], started: bool) -> Unit {
        let mut u = Unit { started, ..Unit::default() };
        for n in names {
            if let Some(id) = n.strip_prefix("op") {
                u.queue.push_back(QueuedEvent::Operation { id: id.parse().unwrap() });
            } else {
                u.queue.push_back(QueuedEvent::Hook(hook(*n)));
            }
        }
        u
    }

    #[test]
    fn before_install_runs_in_order_and_operations_wait() {
        let u = unit(&["op1", "install", "p-relation-created"], false);
        assert_eq!(pick(&u, 0.0), Some(Pick::Queued(1)));
    }

    #[test]
    fn once_installed_operations_run_before_a_queued_start() {
        let mut u = unit(&["config-changed", "start", "op2"], false);
        u.installed = true;
        assert_eq!(pick(&u, 0.0), Some(Pick::Queued(2)));
        u.queue.pop_back();
        assert_eq!(pick(&u, 0.0), Some(Pick::Queued(0)), "hooks still strictly in order before start");
    }

    #[test]
    fn after_start_priorities_apply() {
        let mut u = unit(&["update-status", "config-changed", "leader-elected", "op4"], true);
        u.installed = true;
        assert_eq!(pick(&u, 0.0), Some(Pick::Queued(3)));
        let u = unit(&["update-status", "config-changed", "leader-elected"], true);
        assert_eq!(pick(&u, 0.0), Some(Pick::Queued(2)));
        let u = unit(&["update-status", "config-changed"], true);
        assert_eq!(pick(&u, 0.0), Some(Pick::Queued(1)));
        assert_eq!(pick(&unit(&["update-status"], true), 0.0), Some(Pick::Queued(0)));
        assert_eq!(pick(&unit(&[], true), 0.0), None);
    }

    #[test]
    fn failed_hook_blocks_hooks_until_due_but_not_operations() {
        let mut u = unit(&["config-changed"], true);
        u.failed = Some(FailedEvent { event: QueuedEvent::Hook(hook("start")), attempts: 1, retry_at: 10.0 });
        assert_eq!(pick(&u, 5.0), None);
        assert_eq!(pick(&u, 10.0), Some(Pick::Retry));
        u.queue.push_back(QueuedEvent::Operation { id: 1 });
        assert_eq!(pick(&u, 5.0), Some(Pick::Queued(1)));
        assert_eq!(retry_delay_secs(200, 1), 0.2);
        assert_eq!(retry_delay_secs(200, 3), 0.8);
        assert_eq!(retry_delay_secs(5000, 30), 300.0);
    }
}

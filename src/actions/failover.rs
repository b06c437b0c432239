//! `failover [target=valkey/N]`: a coordinated switchover that refuses, with the reason, when
//! the chosen (or every) replica is not in sync. See [`crate::switchover`].

use super::{param, results, ActionResult};
use crate::charm::load;
use crate::history;
use crate::juju::{ActionKind, Context, Event, HookTools};
use crate::switchover::{switchover, Request, SwitchoverError};
use crate::valkey::Connector;
use crate::workload::MONITOR_NAME;

/// Runs the action.
pub fn run(ctx: &Context, tools: &dyn HookTools) -> ActionResult {
    let target_unit = param(tools, "target")?;
    let loaded = load(ctx, tools).map_err(|e| e.to_string())?;
    let o = &loaded.observed;
    // Ask our own Sentinel when it answers, else any started unit's.
    let sentinel = o.sentinel_to_ask().ok_or("no Sentinel answers")?;
    let primary = loaded
        .connector
        .sentinel(&sentinel)
        .and_then(|mut s| s.primary_addr(MONITOR_NAME))
        .map_err(|e| e.to_string())?
        .ok_or("no reachable Sentinel knows a primary")?;
    let name = |h: &str| o.unit_at(h).unwrap_or(h).to_string();
    let target = match &target_unit {
        None => None,
        Some(name) => {
            let node = o.data_node_of(name)?;
            if node.host == primary.host {
                return Err(format!("{name} is already the primary"));
            }
            Some(node)
        }
    };
    let limit = o.failover_limit();
    let _ =
        tools.action_log(&format!("switching over from {} (Sentinel at {sentinel})", name(&primary.host)));
    let admit = o.config.as_ref().map(|c| c.replica_priority).unwrap_or(0);
    // The switchover lowers the leading Sentinel's INFO period and restores it; when that is
    // this unit's Sentinel, forget its tuning first so a failed restore is redone by a later hook.
    if let (Some(paths), Some(mine)) = (&loaded.paths, o.my_sentinel()) {
        if mine.host == sentinel.host {
            if let Err(e) = crate::workload::tuning::forget(paths) {
                let _ = tools.action_log(&format!("cannot reset the Sentinel tuning marker: {e}"));
            }
        }
    }
    // Done once Sentinel names the new primary (clients follow it from then on); it re-points the
    // other replicas on its own, about a second later.
    let request = Request { target: target.as_ref(), avoid: &[], admit, limit, settle: false };
    let done = switchover(&loaded.connector, &sentinel, &request).map_err(|e| match e {
        SwitchoverError::NotAReplica(t) => {
            format!("refused: {} is not a replica of {}", name(&t), name(&primary.host))
        }
        SwitchoverError::NotInSync(_) | SwitchoverError::NoPrimary => format!("refused: {e}"),
        other => format!("failed: {other}"),
    })?;
    // Recorded with the duration measured here; the history merges it with Sentinel's log.
    // The next hook on this unit (the primary-changed its Sentinel triggers, queued behind this
    // action) publishes it to the peers (`history::shared`).
    if let Some(paths) = &loaded.paths {
        if let Err(e) = history::record_switchover(&paths.state_dir(), &done.record()) {
            let _ = tools.action_log(&format!("cannot record the switchover in the history: {e}"));
        }
    }
    crate::charm::answer_clients_after(ctx, &Event::Action(ActionKind::Failover), tools);
    Ok(results(&[
        ("old-primary", name(&done.old_primary.host)),
        ("new-primary", name(&done.new_primary.host)),
        ("duration-ms", done.duration.as_millis().to_string()),
    ]))
}

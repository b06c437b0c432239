//! `promote-replica unit=valkey/N`: the way out when the primary is gone for good while every
//! replica is fenced (docs/ha-protocol.md "Start-up fence"). Refused while the primary answers.
//! Admits only the named replica (the operator's choice of which data to keep) and asks this
//! unit's Sentinel to fail over to it at once, instead of at its next attempt.

use super::{param, results, ActionResult};
use crate::charm::load;
use crate::switchover::poll;
use crate::valkey::{Connector, Endpoint, Role};
use crate::workload::MONITOR_NAME;
use std::time::{Duration, Instant};

/// How long Sentinel may refuse the failover while its INFO of the admitted replica is stale.
const ACCEPT: Duration = Duration::from_secs(12);

/// Runs the action.
pub fn run(ctx: &crate::juju::Context, tools: &dyn crate::juju::HookTools) -> ActionResult {
    let unit_name = param(tools, "unit")?.ok_or("parameter unit is required (for example unit=valkey/1)")?;
    let loaded = load(ctx, tools).map_err(|e| e.to_string())?;
    let o = &loaded.observed;
    let target = o.data_node_of(&unit_name)?;
    let priority = o.config.as_ref().map_err(|e| e.to_string())?.replica_priority;
    if priority == 0 {
        return Err(format!(
            "refused: replica-priority is 0 in the config, so {unit_name} may never be promoted"
        ));
    }
    let sentinel = o.sentinel_to_ask().ok_or("no Sentinel answers")?;
    let connector = &loaded.connector;
    let mut s = connector.sentinel(&sentinel).map_err(|e| e.to_string())?;
    let old =
        s.primary_addr(MONITOR_NAME).map_err(|e| e.to_string())?.ok_or("no Sentinel knows a primary")?;
    let name = |h: &str| o.unit_at(h).unwrap_or(h).to_string();
    if old == target {
        return Err(format!("refused: {unit_name} is the primary"));
    }
    if connector.data(&old).and_then(|mut p| p.ping()).is_ok() {
        return Err(format!("refused: the primary {} answers; use the failover action", name(&old.host)));
    }
    let mut node = connector.data(&target).map_err(|e| format!("{unit_name}: {e}"))?;
    let role = node.replication().map_err(|e| format!("{unit_name}: {e}"))?.role;
    if role != Role::Replica {
        return Err(format!("refused: {unit_name} is not a replica"));
    }
    node.config_set("replica-priority", &priority.to_string()).map_err(|e| format!("{unit_name}: {e}"))?;
    let _ = tools.action_log(&format!("{unit_name} admitted for promotion; asking Sentinel at {sentinel}"));
    let started = Instant::now();
    let mut last = String::new();
    poll(ACCEPT, || match s.failover(MONITOR_NAME, false) {
        Ok(()) => Some(()),
        Err(e) => {
            last = e.to_string();
            None
        }
    })
    .ok_or_else(|| format!("sentinel refused the failover: {last}"))?;
    let limit = o.failover_limit();
    let promoted = poll(limit, || {
        let p = s.primary(MONITOR_NAME).ok().flatten()?;
        (Endpoint::new(p.ip.clone(), p.port) == target && !p.failover_in_progress()).then_some(())
    });
    promoted.ok_or_else(|| format!("sentinel did not promote {unit_name} within {} s", limit.as_secs()))?;
    Ok(results(&[
        ("old-primary", name(&old.host)),
        ("new-primary", unit_name),
        ("duration-ms", started.elapsed().as_millis().to_string()),
    ]))
}

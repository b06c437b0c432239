//! `failover [target=valkey/N]`: a coordinated switchover that refuses, with the reason, when
//! the chosen (or every) replica is not in sync. See [`crate::switchover`].

use super::{param, results, ActionResult};
use crate::charm::load;
use crate::history;
use crate::juju::{Context, HookTools};
use crate::switchover::{switchover, SwitchoverError};
use crate::valkey::{Connector, Endpoint};
use crate::workload::{MONITOR_NAME, SENTINEL_PORT, VALKEY_PORT};
use std::time::Duration;

/// Runs the action.
pub fn run(ctx: &Context, tools: &dyn HookTools) -> ActionResult {
    let target_unit = param(tools, "target")?;
    let loaded = load(ctx, tools).map_err(|e| e.to_string())?;
    let o = &loaded.observed;
    // Ask our own Sentinel when it answers, else any started unit's.
    let sentinel = o
        .my_sentinel()
        .or_else(|| o.sentinels.first())
        .map(|s| Endpoint::new(s.host.clone(), SENTINEL_PORT))
        .ok_or("no Sentinel answers")?;
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
            let unit = o
                .units()
                .find(|u| &u.name == name)
                .ok_or_else(|| format!("{name} is not a unit of this application"))?;
            let host = if unit.name == o.me.name { o.announce_host.clone() } else { unit.host.clone() };
            let host = host.ok_or_else(|| format!("{name} has not published its address yet"))?;
            if host == primary.host {
                return Err(format!("{name} is already the primary"));
            }
            Some(Endpoint::new(host, VALKEY_PORT))
        }
    };
    let limit = o
        .config
        .as_ref()
        .map(|c| Duration::from_millis(u64::from(c.failover_timeout_ms)))
        .unwrap_or(Duration::from_secs(20));
    let _ =
        tools.action_log(&format!("switching over from {} (Sentinel at {sentinel})", name(&primary.host)));
    let done = switchover(&loaded.connector, &sentinel, target.as_ref(), limit).map_err(|e| match e {
        SwitchoverError::NotAReplica(t) => {
            format!("refused: {} is not a replica of {}", name(&t), name(&primary.host))
        }
        SwitchoverError::NotInSync(_) | SwitchoverError::NoPrimary => format!("refused: {e}"),
        other => format!("failed: {other}"),
    })?;
    // Recorded with the duration measured here; the history merges it with Sentinel's log.
    if let Some(paths) = &loaded.paths {
        let record = history::Failover {
            time: history::local_time_now(),
            old_primary: done.old_primary.host.clone(),
            new_primary: done.new_primary.host.clone(),
            kind: history::Kind::Switchover,
            duration_ms: Some(done.duration.as_millis() as u64),
        };
        if let Err(e) = history::record_switchover(&paths.etc_dir(), &record) {
            let _ = tools.action_log(&format!("cannot record the switchover in the history: {e}"));
        }
    }
    Ok(results(&[
        ("old-primary", name(&done.old_primary.host)),
        ("new-primary", name(&done.new_primary.host)),
        ("duration-ms", done.duration.as_millis().to_string()),
    ]))
}

//! `get-primary`: the current primary as Sentinel sees it.

use super::{results, ActionResult};
use crate::charm::load;
use crate::juju::{Context, HookTools};
use crate::workload::MONITOR_NAME;

/// Runs the action.
pub fn run(ctx: &Context, tools: &dyn HookTools) -> ActionResult {
    let loaded = load(ctx, tools).map_err(|e| e.to_string())?;
    let o = &loaded.observed;
    let primary = o.known_primary().ok_or("no reachable Sentinel knows a primary yet")?;
    let unit = o.unit_at(&primary.host).unwrap_or("unknown").to_string();
    Ok(results(&[
        ("unit", unit),
        ("host", primary.host.clone()),
        ("port", primary.port.to_string()),
        ("monitor-name", MONITOR_NAME.to_string()),
    ]))
}

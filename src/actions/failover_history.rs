//! `failover-history`: every change of primary this unit's Sentinel saw, oldest first, as JSON
//! (`history`), with `count` and a one-line `last`; switchovers carry the duration measured by
//! the unit that ran them, whichever unit is asked. See [`crate::history`].

use super::{results, ActionResult};
use crate::charm::load;
use crate::history::{self, Failover};
use crate::juju::{Context, HookTools};
use crate::workload::MONITOR_NAME;

/// Runs the action.
pub fn run(ctx: &Context, tools: &dyn HookTools) -> ActionResult {
    let loaded = load(ctx, tools).map_err(|e| e.to_string())?;
    let o = &loaded.observed;
    let paths = loaded.paths.as_ref().ok_or("no storage attached yet: nothing has run here")?;
    let down_after = o.config.as_ref().map(|c| u64::from(c.down_after_ms)).unwrap_or_default();
    let log = std::fs::read_to_string(paths.sentinel_log()).unwrap_or_default();
    let logged = history::from_sentinel_log(&log, MONITOR_NAME, down_after);
    // Measured durations: this unit's switchovers and those its peers publish.
    let mut entries = history::merge(logged, o.known_switchovers());
    // Hosts → unit names where a live unit announces them (departed units keep their host).
    let name = |h: &str| o.unit_at(h).unwrap_or(h).to_string();
    for f in &mut entries {
        f.old_primary = name(&f.old_primary);
        f.new_primary = name(&f.new_primary);
    }
    let last = entries.last().map(describe).unwrap_or_else(|| "no failover yet".to_string());
    let json = serde_json::to_string(&entries).map_err(|e| format!("cannot encode the history: {e}"))?;
    Ok(results(&[("history", json), ("count", entries.len().to_string()), ("last", last)]))
}

/// `2026-11-22 05:36:42.371 valkey/0→valkey/1 automatic, 7.2 s`.
fn describe(f: &Failover) -> String {
    let kind = match f.kind {
        history::Kind::Automatic => "automatic",
        history::Kind::Switchover => "switchover",
    };
    let took = f.duration_ms.map(|d| format!(", {:.1} s", d as f64 / 1000.0)).unwrap_or_default();
    format!("{} {}→{} {kind}{took}", f.local_time(), f.old_primary, f.new_primary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_names_time_units_kind_and_duration() {
        let at_ms = crate::history::clock::naive_ms("2026-11-22 05:36:42.371").unwrap();
        let f = Failover {
            at_ms,
            old_primary: "valkey/0".into(),
            new_primary: "valkey/1".into(),
            kind: history::Kind::Automatic,
            duration_ms: Some(7174),
        };
        let g = Failover { kind: history::Kind::Switchover, duration_ms: None, ..f.clone() };
        crate::history::clock::in_zone("UTC0", || {
            assert_eq!(describe(&f), "2026-11-22 05:36:42.371 valkey/0→valkey/1 automatic, 7.2 s");
            assert_eq!(describe(&g), "2026-11-22 05:36:42.371 valkey/0→valkey/1 switchover");
        });
    }
}

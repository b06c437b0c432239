//! The charm's own signals as Prometheus metrics (text exposition format), next to the
//! exporter's: what only the charm knows. Pure.
//!
//! *How they reach Prometheus:* the charm writes this text to `<storage>/run/charm-metrics.prom`
//! on every reconcile, and `dispatch metrics-serve` (a service of its own, like the exporter,
//! bound to the same loopback address) serves that file on `/metrics`. *Why:* the exporter 1.45
//! has no text-file input, and the `cos_agent` schema carries scrape jobs, not values; a file
//! plus a 60-line server keeps the values exactly as the charm last saw them, with the time it
//! saw them (`valkey_charm_observed_timestamp_seconds`), and needs no new package.

use crate::history::{Failover, Kind};
use std::fmt::Write as _;

/// What the charm knows that the exporter cannot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CharmSignals {
    /// Unix time of the observation these values come from.
    pub observed_at: u64,
    /// The primary changes this unit knows of (its own records and its peers'), newest last.
    pub failovers: Vec<Failover>,
    /// This unit's data node is a replica still held out of promotion by the start-up fence
    /// (`replica-priority 0` until its link to the primary came up).
    pub start_fence: bool,
    /// This unit started its services (joined the deployment).
    pub started: bool,
}

fn metric(out: &mut String, name: &str, kind: &str, help: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
}

/// The exposition text.
pub fn render(s: &CharmSignals) -> String {
    let mut out = String::new();
    metric(
        &mut out,
        "valkey_charm_observed_timestamp_seconds",
        "gauge",
        "When the charm last observed this unit (Unix time).",
        s.observed_at,
    );
    metric(
        &mut out,
        "valkey_charm_started",
        "gauge",
        "1 when this unit has started its Valkey and Sentinel.",
        u8::from(s.started),
    );
    metric(
        &mut out,
        "valkey_charm_start_fence",
        "gauge",
        "1 while this replica is excluded from promotion by the start-up fence (replica-priority 0 until resynced).",
        u8::from(s.start_fence),
    );
    let automatic = s.failovers.iter().filter(|f| f.kind == Kind::Automatic).count();
    let _ = writeln!(
        out,
        "# HELP valkey_charm_failovers_recorded Primary changes in the charm's failover history (its most recent records), by kind.\n\
         # TYPE valkey_charm_failovers_recorded gauge\n\
         valkey_charm_failovers_recorded{{kind=\"automatic\"}} {automatic}\n\
         valkey_charm_failovers_recorded{{kind=\"switchover\"}} {}",
        s.failovers.len() - automatic
    );
    if let Some(last) = s.failovers.iter().max_by_key(|f| f.at_ms) {
        let at = last.at_ms as f64 / 1000.0;
        metric(
            &mut out,
            "valkey_charm_last_failover_timestamp_seconds",
            "gauge",
            "When the newest recorded primary change happened (Unix time).",
            at,
        );
        if let Some(ms) = last.duration_ms {
            metric(
                &mut out,
                "valkey_charm_last_failover_duration_seconds",
                "gauge",
                "How long the newest recorded primary change took (automatic: from the old primary's last answer to the switch).",
                ms as f64 / 1000.0,
            );
        }
    }
    out
}

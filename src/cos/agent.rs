//! The `config` value of this unit's `cos-agent` bag: the JSON form of the `cos_agent`
//! library's `CosAgentProviderUnitData` (field names exactly as the library's model has them).
//! Pure. It holds addresses and file paths, never a password.

use super::{dashboard, rules, Topology, CHARM_METRICS_PORT, EXPORTER_PORT};
use crate::workload::SENTINEL_PORT;
use serde_json::{json, Value};

/// What one unit's `config` is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentInputs {
    /// This application's topology.
    pub topology: Topology,
    /// The loopback address the exporter and the charm's metrics listen on ([`super::listen_host`]).
    pub listen_host: String,
    /// The address the local Sentinel listens on (the unit's bind address): the exporter's
    /// second target.
    pub sentinel_host: String,
    /// Valkey's and Sentinel's log files, for the collector to ship.
    pub log_files: Vec<String>,
}

/// The `process` label of each scrape job's targets: which process a series describes.
pub const PROCESS_LABEL: &str = "process";

/// The scrape jobs: the data node (the exporter's own `/metrics`), the local Sentinel (the
/// exporter's multi-target `/scrape?target=`), and the charm's own metrics. Each target is
/// labelled with [`PROCESS_LABEL`] so the rules tell a data node's `redis_up` from a Sentinel's.
pub fn scrape_jobs(i: &AgentInputs) -> Vec<Value> {
    let exporter = format!("{}:{EXPORTER_PORT}", i.listen_host);
    let charm = format!("{}:{CHARM_METRICS_PORT}", i.listen_host);
    let sentinel = format!("redis://{}:{SENTINEL_PORT}", i.sentinel_host);
    vec![
        json!({
            "job_name": "valkey",
            "metrics_path": "/metrics",
            "static_configs": [{"targets": [exporter], "labels": {PROCESS_LABEL: "valkey"}}],
        }),
        json!({
            "job_name": "valkey-sentinel",
            "metrics_path": "/scrape",
            "params": {"target": [sentinel]},
            "static_configs": [{"targets": [exporter], "labels": {PROCESS_LABEL: "sentinel"}}],
        }),
        json!({
            "job_name": "valkey-charm",
            "metrics_path": "/metrics",
            "static_configs": [{"targets": [charm], "labels": {PROCESS_LABEL: "charm"}}],
        }),
    ]
}

/// Why `config` could not be rendered (a rule file or dashboard compiled in does not parse: a
/// build-time mistake the unit tests catch).
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// An alert rule file.
    #[error(transparent)]
    Rules(#[from] rules::RuleFileError),
    /// A dashboard.
    #[error("dashboard: {0}")]
    Dashboard(#[from] serde_json::Error),
}

/// The `config` JSON object.
pub fn config_value(i: &AgentInputs) -> Result<Value, AgentError> {
    Ok(json!({
        "metrics_alert_rules": rules::alert_rules(&i.topology)?,
        "log_alert_rules": {},
        "dashboards": dashboard::dashboards(&i.topology.charm)?,
        "metrics_scrape_jobs": scrape_jobs(i),
        "log_slots": [],
        "include_log_files": i.log_files,
        "subordinate": null,
        "tracing_protocols": null,
    }))
}

/// The `config` value as the bag holds it (compact JSON, keys sorted: the same inputs always
/// give the same bytes, so an unchanged config is never written again).
pub fn render(i: &AgentInputs) -> Result<String, AgentError> {
    config_value(i).map(|v| v.to_string())
}

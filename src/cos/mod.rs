//! Observability: what the charm ships to COS over the `cos-agent` relation, and the services
//! that make it true on every unit.
//!
//! - [`agent`] renders the unit bag's `config` (the `cos_agent` interface's
//!   `CosAgentProviderUnitData`): scrape jobs, alert rules, dashboards, log files.
//! - [`rules`] and [`dashboard`] hold the alert rules (`src/prometheus_alert_rules/`) and the
//!   Grafana dashboard (`src/grafana_dashboards/`), compiled into the binary.
//! - [`signals`] renders the charm's own metrics (failover history, start-up fence) as a
//!   Prometheus text file, served on loopback by `dispatch metrics-serve`.
//! - [`exporter`] decides how `prometheus-redis-exporter` runs: its argv (no password), its ACL
//!   user on Valkey and on Sentinel, its password file.
//! - [`plan`] turns an observation into [`CosStep`]s; [`execute`] carries them out.
//!
//! Everything here but [`execute`] and [`observe`] is pure.

pub mod agent;
pub mod dashboard;
pub mod execute;
pub mod exporter;
pub mod observe;
pub mod plan;
pub mod rules;
pub mod signals;

#[cfg(test)]
mod tests;

pub use plan::CosStep;

/// The charm's name (metadata.yaml `name`): `juju_charm`, the dashboard's tag and uid.
pub const CHARM_NAME: &str = "valkey";
/// The endpoint (metadata.yaml `provides`), interface `cos_agent`.
pub const ENDPOINT: &str = "cos-agent";
/// The one key the provider writes in its unit bag.
pub const CONFIG_KEY: &str = "config";
/// The exporter's port (on a loopback address).
pub const EXPORTER_PORT: u16 = 9121;
/// The port of the charm's own metrics (`dispatch metrics-serve`, on the same loopback address).
pub const CHARM_METRICS_PORT: u16 = 9122;

/// Juju topology of this application: what COS labels every series with and what the alert
/// rules are scoped to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Topology {
    /// `juju_model`.
    pub model: String,
    /// `juju_model_uuid`.
    pub model_uuid: String,
    /// `juju_application`.
    pub application: String,
    /// `juju_charm` (the charm's name in metadata.yaml).
    pub charm: String,
}

impl Topology {
    /// The PromQL matchers of this application, as the `cos_agent` library injects them.
    pub fn promql_matchers(&self) -> String {
        format!(
            "juju_model=\"{}\",juju_model_uuid=\"{}\",juju_application=\"{}\"",
            self.model, self.model_uuid, self.application
        )
    }

    /// `<model>_<uuid>_<application>`: the prefix of this application's rule group names.
    pub fn identifier(&self) -> String {
        format!("{}_{}_{}", self.model, self.model_uuid, self.application)
    }
}

/// The address the exporter and the charm's metrics listen on: the unit's own address when that
/// is itself a loopback address (units of a local model share one host and each has its own
/// 127.x address), else `127.0.0.1`. Never an address another host can reach.
pub fn listen_host(bind_address: &str) -> String {
    match bind_address.parse::<std::net::IpAddr>() {
        Ok(ip) if ip.is_loopback() => ip.to_string(),
        _ => "127.0.0.1".to_string(),
    }
}

#[cfg(test)]
mod live_tests;

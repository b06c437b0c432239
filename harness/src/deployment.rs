//! The charm's deployment seen from outside, through the juju driver only: its credentials (the
//! `get-password` action), the current primary (`get-primary`), the addresses of its data nodes and
//! Sentinels (`juju status`), and signalling a unit's Valkey (`juju exec kill -<signal>`). The
//! end-to-end tests and the local benchmark substrate build probes from this.

use crate::juju::{Juju, JujuError};
use crate::sentinel::SentinelSet;
use crate::valkey::{self, Credentials, Endpoint, Timeouts};

/// Port of every data node (fixed by the charm).
pub const VALKEY_PORT: u16 = 6379;
/// Port of every Sentinel (fixed by the charm).
pub const SENTINEL_PORT: u16 = 26379;
/// Sentinel monitor name used by the charm.
pub const MONITOR: &str = "primary";

/// Errors reading or acting on the deployment.
#[derive(Debug, thiserror::Error)]
pub enum DeploymentError {
    /// A juju call failed.
    #[error(transparent)]
    Juju(#[from] JujuError),
    /// An action failed or lacked a result.
    #[error("action {action} on {target}: {why}")]
    Action {
        /// Action name.
        action: String,
        /// Where it ran.
        target: String,
        /// Its failure message or the missing result.
        why: String,
    },
    /// Status lacked something we need.
    #[error("status: {0}")]
    Status(String),
    /// Talking to Valkey failed.
    #[error("valkey {endpoint}: {source}")]
    Valkey {
        /// Which node.
        endpoint: Endpoint,
        /// The client error.
        #[source]
        source: redis::RedisError,
    },
}

/// The primary as `get-primary` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Primary {
    /// The unit running it (`valkey/0`).
    pub unit: String,
    /// Its address.
    pub endpoint: Endpoint,
}

/// One deployed application of the charm.
#[derive(Debug)]
pub struct CharmDeployment<'a> {
    /// The driver for the model holding it.
    pub juju: &'a Juju,
    /// The application name.
    pub app: String,
}

impl<'a> CharmDeployment<'a> {
    /// The application `app` in `juju`'s model.
    pub fn new(juju: &'a Juju, app: impl Into<String>) -> Self {
        Self { juju, app: app.into() }
    }

    fn action(
        &self,
        target: &str,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<ActionResults, DeploymentError> {
        let outcome = self.juju.run_action(target, action, params)?;
        if !outcome.completed() {
            let why = outcome.message.clone().unwrap_or_else(|| format!("status {}", outcome.status));
            return Err(DeploymentError::Action { action: action.into(), target: target.into(), why });
        }
        Ok(ActionResults { action: action.into(), target: target.into(), outcome })
    }

    /// The admin user's credentials, from `get-password` on the leader (valid on data nodes and
    /// Sentinels alike).
    pub fn credentials(&self) -> Result<Credentials, DeploymentError> {
        let results = self.action(&format!("{}/leader", self.app), "get-password", &[])?;
        Ok(Credentials::user(results.get("username")?, results.get("password")?))
    }

    /// The primary, from `get-primary` on the leader.
    pub fn primary(&self) -> Result<Primary, DeploymentError> {
        let results = self.action(&format!("{}/leader", self.app), "get-primary", &[])?;
        let port = results.get("port")?;
        let port = port.parse().map_err(|_| results.missing(&format!("port (not a number: {port:?})")))?;
        Ok(Primary { unit: results.get("unit")?, endpoint: Endpoint::new(results.get("host")?, port) })
    }

    /// `(unit, address)` of every unit, in unit order.
    pub fn unit_addresses(&self) -> Result<Vec<(String, String)>, DeploymentError> {
        let status = self.juju.status()?;
        status
            .units(&self.app)
            .into_iter()
            .map(|(name, unit)| match &unit.public_address {
                Some(address) if !address.is_empty() => Ok((name.to_string(), address.clone())),
                _ => Err(DeploymentError::Status(format!("{name} has no public-address"))),
            })
            .collect()
    }

    /// Every data node.
    pub fn data_endpoints(&self) -> Result<Vec<Endpoint>, DeploymentError> {
        Ok(self.unit_addresses()?.into_iter().map(|(_, host)| Endpoint::new(host, VALKEY_PORT)).collect())
    }

    /// The Sentinels, with `credentials` for them and for the data nodes.
    pub fn sentinel_set(&self, credentials: &Credentials) -> Result<SentinelSet, DeploymentError> {
        let sentinels =
            self.unit_addresses()?.into_iter().map(|(_, host)| Endpoint::new(host, SENTINEL_PORT)).collect();
        Ok(SentinelSet {
            sentinels,
            monitor: MONITOR.to_string(),
            sentinel_auth: credentials.clone(),
            data_auth: credentials.clone(),
            timeouts: Timeouts::default(),
        })
    }

    /// Sends `signal` (`KILL`, `STOP`, `CONT`, `TERM`, ...) to the valkey-server of `unit` (pid from
    /// `INFO server`, `kill -<signal>` run with `juju exec`, so it works on real Juju too). Returns
    /// the pid signalled.
    pub fn kill_valkey(
        &self,
        unit: &str,
        endpoint: &Endpoint,
        credentials: &Credentials,
        signal: &str,
    ) -> Result<u32, DeploymentError> {
        if signal.is_empty() || !signal.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(DeploymentError::Status(format!("invalid signal name {signal:?}")));
        }
        let valkey_error = |source| DeploymentError::Valkey { endpoint: endpoint.clone(), source };
        let mut connection =
            valkey::connect(endpoint, credentials, Timeouts::default()).map_err(valkey_error)?;
        let info: String = redis::cmd("INFO").arg("server").query(&mut connection).map_err(valkey_error)?;
        let pid: u32 = valkey::parse_info(&info)
            .into_iter()
            .find(|(key, _)| key == "process_id")
            .and_then(|(_, value)| value.trim().parse().ok())
            .ok_or_else(|| DeploymentError::Status(format!("{endpoint}: INFO server has no process_id")))?;
        let output = self.juju.exec(unit, &format!("kill -{signal} {pid}"))?;
        if output.code != 0 {
            return Err(DeploymentError::Status(format!(
                "kill -{signal} {pid} on {unit}: {}",
                output.stderr.trim()
            )));
        }
        Ok(pid)
    }
}

impl CharmDeployment<'_> {
    /// Kills every workload process of `unit` with SIGKILL — supervisors first, so nothing is
    /// restarted, then Valkey and Sentinel — and leaves them down until the charm's next hook
    /// starts them again: the "power cut" of a cold start. Runs through `juju exec`; on real Juju
    /// (systemd services) the units are killed, then stopped so systemd does not restart them, with
    /// the charm's relay paused meanwhile and the services' requests it would have relayed dropped
    /// (in a power cut nothing would have run them).
    pub fn kill_workload(&self, unit: &str) -> Result<(), DeploymentError> {
        let name = unit.replace('/', "-");
        let script = format!(
            "set -u; id=$(storage-list --format=json data | tr -d '[]\" ' | cut -d, -f1); \
             root=$(storage-get -s \"$id\" location); \
             if [ -e /etc/systemd/system/valkey-{name}.service ]; then \
               systemctl stop valkey-{name}-relay.path 2>/dev/null; \
               systemctl kill -s KILL valkey-{name}.service valkey-{name}-sentinel.service; \
               systemctl stop valkey-{name}.service valkey-{name}-sentinel.service; \
               rm -f \"$root\"/run/events/*; systemctl start valkey-{name}-relay.path 2>/dev/null; exit 0; fi; \
             for f in valkey.supervisor.pid sentinel.supervisor.pid valkey.supervisor.pid.child \
                      sentinel.supervisor.pid.child valkey.pid sentinel.pid; do \
               [ -s \"$root/run/$f\" ] && kill -9 $(cut -d' ' -f1 \"$root/run/$f\") 2>/dev/null; \
             done; true"
        );
        let output = self.juju.exec(unit, &script)?;
        if output.code != 0 {
            return Err(DeploymentError::Status(format!(
                "killing {unit}'s workload: {}",
                output.stderr.trim()
            )));
        }
        Ok(())
    }

    /// Runs one reconcile of `unit` now (its `update-status` handler, dispatched through
    /// `juju exec` the way the charm's own scripts queue events), e.g. to restart its services
    /// after [`Self::kill_workload`] in an order the test chooses.
    pub fn reconcile(&self, unit: &str) -> Result<(), DeploymentError> {
        let output = self.juju.exec(unit, "JUJU_DISPATCH_PATH=hooks/update-status ./dispatch")?;
        if output.code != 0 {
            return Err(DeploymentError::Status(format!("reconcile on {unit}: {}", output.stderr.trim())));
        }
        Ok(())
    }

    /// The text of `unit`'s Sentinel log (`<data storage>/log/sentinel.log`, read with
    /// `juju exec`), for failover timelines.
    pub fn sentinel_log(&self, unit: &str) -> Result<String, DeploymentError> {
        let script = "id=$(storage-list --format=json data | tr -d '[]\" ' | cut -d, -f1) && \
                      cat \"$(storage-get -s \"$id\" location)/log/sentinel.log\"";
        let output = self.juju.exec(unit, script)?;
        if output.code != 0 {
            return Err(DeploymentError::Status(format!(
                "reading the sentinel log of {unit}: {}",
                output.stderr.trim()
            )));
        }
        Ok(output.stdout)
    }
}

/// Results of a completed action, with errors that name the action.
struct ActionResults {
    /// Action name.
    action: String,
    /// Where it ran.
    target: String,
    /// The outcome.
    outcome: crate::juju::ActionOutcome,
}

impl ActionResults {
    fn get(&self, key: &str) -> Result<String, DeploymentError> {
        self.outcome.result(key).ok_or_else(|| self.missing(key))
    }

    fn missing(&self, key: &str) -> DeploymentError {
        DeploymentError::Action {
            action: self.action.clone(),
            target: self.target.clone(),
            why: format!("no result {key:?} in {}", self.outcome.results),
        }
    }
}

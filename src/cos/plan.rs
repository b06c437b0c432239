//! Pure: the observability steps of a reconcile, planned from the same observation as
//! [`crate::plan::plan`] and run after its steps ([`super::execute::pass`]). Kept apart from the
//! HA plan on purpose: nothing here may delay or fail the HA steps, and the HA plan knows nothing
//! of these.

use super::{agent, exporter, listen_host, signals};
use crate::observe::Observed;

/// One observability step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CosStep {
    /// Write `config` into this unit's bag of the `cos-agent` relation.
    Publish {
        /// The relation.
        relation_id: String,
        /// The JSON ([`agent::render`]).
        config: String,
    },
    /// Write the charm's own metrics ([`signals::render`]) for `dispatch metrics-serve`.
    WriteSignals(String),
    /// Make the exporter's ACL user exist on the local Valkey and Sentinel, write its password
    /// file, and run the exporter and the charm's metrics server as they are defined now
    /// (restarted when their definition changed).
    EnsureServices(ServiceSpec),
}

/// What the exporter services are made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSpec {
    /// Their listen address ([`listen_host`]).
    pub listen_host: String,
    /// The local Valkey's and Sentinel's address.
    pub bind_address: String,
}

impl ServiceSpec {
    /// The definition recorded once applied: a change to any part (addresses, the exporter's
    /// arguments or ACL rules in a new charm revision, a rotated admin password) applies again.
    pub fn marker(&self, admin_password: &str) -> String {
        let pw = crate::workload::acl_hash(&exporter::exporter_password(admin_password));
        let args = exporter::args(&self.listen_host, &self.bind_address, std::path::Path::new("-"));
        serde_json::json!({
            "args": args,
            "valkey": exporter::VALKEY_EXPORTER_RULES,
            "sentinel": exporter::SENTINEL_EXPORTER_RULES,
            "password": pw,
        })
        .to_string()
    }
}

/// The inputs of this unit's `config`, once its address is known.
pub fn agent_inputs(o: &Observed) -> Option<agent::AgentInputs> {
    let bind = o.bind_address.as_deref()?;
    let root = o.storage.as_ref().map(crate::workload::Paths::new);
    let log_files = root.map(|p| vec![p.valkey_log(), p.sentinel_log()]).unwrap_or_default();
    Some(agent::AgentInputs {
        topology: o.cos.topology.clone(),
        listen_host: listen_host(bind),
        sentinel_host: bind.to_string(),
        log_files: log_files.iter().map(|p| p.display().to_string()).collect(),
    })
}

/// The charm's signals as this observation shows them.
pub fn charm_signals(o: &Observed) -> signals::CharmSignals {
    signals::CharmSignals {
        observed_at: o.now,
        failovers: o.known_switchovers(),
        start_fence: crate::plan::promotion_step(o).is_some(),
        started: o.me.started,
    }
}

/// The observability steps of a reconcile: publish `config` when it differs from the bag; once
/// started with Valkey and Sentinel answering, keep the exporter services as defined and the
/// charm's metrics current.
pub fn steps(o: &Observed) -> Vec<CosStep> {
    let mut steps = Vec::new();
    if o.retired {
        // A leaving unit removed its services; nothing brings them back.
        return steps;
    }
    let Some(inputs) = agent_inputs(o) else { return steps };
    if let Some(rid) = &o.cos.relation_id {
        match agent::render(&inputs) {
            Ok(config) if o.cos.published.as_ref() != Some(&config) => {
                steps.push(CosStep::Publish { relation_id: rid.clone(), config })
            }
            Ok(_) => {}
            // Compiled-in files that do not parse: the unit tests make this unreachable.
            Err(e) => tracing::error!("cos-agent config not rendered: {e}"),
        }
    }
    if !o.me.started || o.storage.is_none() {
        return steps;
    }
    steps.push(CosStep::WriteSignals(signals::render(&charm_signals(o))));
    let Some(creds) = &o.credentials else { return steps };
    if o.local.valkey_running && o.local.sentinel_answers {
        let spec = ServiceSpec { listen_host: inputs.listen_host, bind_address: inputs.sentinel_host };
        let current = o.cos.services_applied.as_deref() == Some(spec.marker(&creds.admin).as_str());
        if !current || !o.cos.services_running || !o.cos.acl_persisted {
            steps.push(CosStep::EnsureServices(spec));
        }
    }
    steps
}

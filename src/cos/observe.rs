//! What the observability steps decide on, read once per hook: the `cos-agent` relation and
//! this unit's bag in it, the charm's metrics file, and the state of the exporter services.

use super::{Topology, CONFIG_KEY, ENDPOINT};
use crate::juju::{Context, HookToolError, HookTools};
use crate::workload::sidecar::SideSupervisor;
use crate::workload::Paths;

/// The observability side of an observation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CosObserved {
    /// This application's topology.
    pub topology: Topology,
    /// The `cos-agent` relation, when one exists (limit 1).
    pub relation_id: Option<String>,
    /// `config` as this unit's bag in it holds it now.
    pub published: Option<String>,
    /// The exporter services' definition as last applied (`<storage>/etc/exporter.applied`).
    pub services_applied: Option<String>,
    /// Both services (exporter, charm metrics) run.
    pub services_running: bool,
    /// valkey.conf and sentinel.conf both hold the exporter's ACL user (a file the charm
    /// re-rendered lost it: it is set again).
    pub acl_persisted: bool,
}

/// Where the last applied definition of the exporter services is kept.
pub fn applied_path(paths: &Paths) -> std::path::PathBuf {
    paths.state_dir().join("exporter.applied")
}

/// Whether `conf` names the exporter's user.
pub fn conf_has_user(conf: &std::path::Path) -> bool {
    std::fs::read_to_string(conf)
        .is_ok_and(|t| t.contains(&format!("user {} ", super::exporter::EXPORTER_USER)))
}

/// Reads the observability facts.
pub fn read(
    ctx: &Context,
    tools: &dyn HookTools,
    paths: Option<&Paths>,
) -> Result<CosObserved, HookToolError> {
    let topology = Topology {
        model: ctx.model_name.clone(),
        model_uuid: ctx.model_uuid.clone(),
        application: ctx.app.clone(),
        charm: super::CHARM_NAME.to_string(),
    };
    let relation_id = tools.relation_ids(ENDPOINT)?.into_iter().next();
    let published = match &relation_id {
        Some(rid) => tools.relation_get_unit(rid, &ctx.unit)?.remove(CONFIG_KEY),
        None => None,
    };
    let (services_applied, services_running, acl_persisted) = match paths {
        Some(p) => {
            let sup = SideSupervisor::for_unit(ctx, p);
            let running = sup.all_running(&super::execute::SERVICES);
            (
                std::fs::read_to_string(applied_path(p)).ok(),
                running,
                conf_has_user(&p.valkey_conf()) && conf_has_user(&p.sentinel_conf()),
            )
        }
        None => (None, false, false),
    };
    Ok(CosObserved { topology, relation_id, published, services_applied, services_running, acl_persisted })
}

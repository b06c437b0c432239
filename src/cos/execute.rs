//! Carries out the [`CosStep`]s. Observability never stands in the way of the HA work: the pass
//! runs after the HA steps, and a step that fails is logged (warning, in `juju debug-log`) and
//! tried again by the next hook, never failing this one.

use super::plan::{self, CosStep, ServiceSpec};
use super::{exporter, observe, CHARM_METRICS_PORT, CONFIG_KEY};
use crate::execute::Effects;
use crate::juju::{HookToolError, LogLevel};
use crate::observe::Observed;
use crate::valkey::{Auth, Endpoint, TcpConnector, ValkeyError};
use crate::workload::sidecar::{SideService, SideSupervisor};
use crate::workload::{self, Paths, WorkloadError, SENTINEL_PORT, VALKEY_PORT};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The side services' names.
pub const EXPORTER: &str = "exporter";
/// The charm's metrics server.
pub const CHARM_METRICS: &str = "charm-metrics";
/// Both.
pub const SERVICES: [&str; 2] = [EXPORTER, CHARM_METRICS];

/// Why a step failed.
#[derive(Debug, thiserror::Error)]
pub enum CosError {
    /// A hook tool.
    #[error(transparent)]
    Tool(#[from] HookToolError),
    /// Files, packages, supervision.
    #[error(transparent)]
    Workload(#[from] WorkloadError),
    /// Valkey or Sentinel.
    #[error(transparent)]
    Valkey(#[from] ValkeyError),
    /// Not there yet.
    #[error("{0}")]
    NotReady(&'static str),
}

/// `run/charm-metrics.prom`: the charm's metrics, as `dispatch metrics-serve` serves them.
pub fn signals_path(paths: &Paths) -> PathBuf {
    paths.run_dir().join("charm-metrics.prom")
}

/// `etc/exporter-passwords.json` (0600): the exporter's `--redis.password-file`.
pub fn password_file_path(paths: &Paths) -> PathBuf {
    paths.etc_dir().join("exporter-passwords.json")
}

/// Plans and runs the observability steps for `o`; failures are logged, not returned.
pub fn pass(e: &Effects, o: &Observed) {
    for step in plan::steps(o) {
        if let Err(err) = run(e, o, &step) {
            let what = match &step {
                CosStep::Publish { .. } => "publish the cos-agent config",
                CosStep::WriteSignals(_) => "write the charm's metrics",
                CosStep::EnsureServices(_) => "run the metrics exporter",
            };
            let msg = format!("observability: cannot {what} yet: {err}");
            tracing::warn!("{msg}");
            let _ = e.tools.log(LogLevel::Warning, &msg);
        }
    }
}

/// Runs one step.
pub fn run(e: &Effects, o: &Observed, step: &CosStep) -> Result<(), CosError> {
    match step {
        CosStep::Publish { relation_id, config } => {
            let changes = BTreeMap::from([(CONFIG_KEY.to_string(), Some(config.clone()))]);
            e.tools.relation_set(relation_id, false, &changes)?;
        }
        CosStep::WriteSignals(text) => {
            let paths = e.paths.ok_or(CosError::NotReady("no storage"))?;
            workload::write_file(&signals_path(paths), text, 0o644)?;
        }
        CosStep::EnsureServices(spec) => ensure_services(e, o, spec)?,
    }
    Ok(())
}

/// The exporter and the charm's metrics server as side services.
pub fn side_services(
    exporter_bin: PathBuf,
    dispatch: PathBuf,
    paths: &Paths,
    spec: &ServiceSpec,
) -> [SideService; 2] {
    [
        SideService {
            name: EXPORTER,
            description: "Valkey metrics exporter".into(),
            program: exporter_bin,
            args: exporter::args(&spec.listen_host, &spec.bind_address, &password_file_path(paths)),
        },
        SideService {
            name: CHARM_METRICS,
            description: "Valkey charm metrics".into(),
            program: dispatch,
            args: vec![
                "metrics-serve".into(),
                "--listen".into(),
                format!("{}:{CHARM_METRICS_PORT}", spec.listen_host),
                "--file".into(),
                signals_path(paths).display().to_string(),
            ],
        },
    ]
}

/// How long after finding no exporter package apt is asked again: a base without it must not
/// pay an `apt-get update` in every hook.
pub const UNAVAILABLE_RETRY: Duration = Duration::from_secs(3600);

/// `state/exporter-unavailable`: when apt last found no exporter package.
pub fn unavailable_path(paths: &Paths) -> PathBuf {
    paths.state_dir().join("exporter-unavailable")
}

/// The exporter binary: installed where missing, except within [`UNAVAILABLE_RETRY`] of finding
/// no package (`Ok(None)` then, quietly).
fn exporter_binary(paths: &Paths) -> Result<Option<PathBuf>, CosError> {
    let marker = unavailable_path(paths);
    let recent = std::fs::metadata(&marker)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t.elapsed().is_ok_and(|age| age < UNAVAILABLE_RETRY));
    if recent && !Path::new(workload::exporter_package::BINARY).exists() {
        return Ok(None);
    }
    match workload::exporter_package::ensure_installed()? {
        Some(binary) => {
            let _ = std::fs::remove_file(&marker);
            Ok(Some(binary))
        }
        None => {
            workload::write_file(&marker, "no prometheus-redis-exporter package on this base\n", 0o600)?;
            Err(CosError::NotReady(
                "this base has no prometheus-redis-exporter package (asked again in an hour)",
            ))
        }
    }
}

/// Sets the exporter's ACL user on the local Valkey and Sentinel (and persists it), writes its
/// password file, runs both side services, and records the definition applied.
fn ensure_services(e: &Effects, o: &Observed, spec: &ServiceSpec) -> Result<(), CosError> {
    let paths = e.paths.ok_or(CosError::NotReady("no storage"))?;
    let creds = o.credentials.as_ref().ok_or(CosError::NotReady("no passwords"))?;
    let sup = SideSupervisor::for_unit(e.ctx, paths);
    let [exporter_svc, metrics_svc] = side_services(
        PathBuf::from(workload::exporter_package::BINARY),
        e.ctx.charm_dir.join("dispatch"),
        paths,
        spec,
    );
    // The charm's own metrics need no package.
    sup.ensure(&metrics_svc)?;
    if exporter_binary(paths)?.is_none() {
        return Ok(());
    }
    let password = exporter::exporter_password(&creds.admin);
    let auth = Auth { user: workload::ADMIN_USER.into(), password: creds.admin.clone() };
    let connector = TcpConnector { auth: Some(auth), ..Default::default() };
    for (port, sentinel) in [(VALKEY_PORT, false), (SENTINEL_PORT, true)] {
        let mut node = connector.acl(&Endpoint::new(spec.bind_address.clone(), port), sentinel)?;
        node.setuser(&exporter::setuser_args(&password, sentinel))?;
        node.persist()?;
    }
    workload::write_private(
        &password_file_path(paths),
        &exporter::password_file(&spec.bind_address, &password),
    )?;
    let restarted = sup.ensure(&exporter_svc)?;
    let applied = o.cos.services_applied.as_deref() == Some(spec.marker(&creds.admin).as_str());
    if !restarted && !applied && sup.is_running(EXPORTER) {
        // Same argv, new password (a rotated admin password): the exporter reads its password
        // file only when it starts.
        sup.remove(EXPORTER)?;
        sup.ensure(&exporter_svc)?;
    }
    workload::write_file(&observe::applied_path(paths), &spec.marker(&creds.admin), 0o600)?;
    Ok(())
}

/// Stops both side services for good (the leaving unit's last word, beside Valkey's).
pub fn remove_services(ctx: &crate::juju::Context, paths: &Paths) -> Result<(), WorkloadError> {
    let sup = SideSupervisor::for_unit(ctx, paths);
    SERVICES.iter().try_for_each(|name| sup.remove(name))
}

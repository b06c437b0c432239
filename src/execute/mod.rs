//! Execute: carry out the [`Step`]s of a plan. Every step is idempotent; waits are bounded and
//! polled. A step that cannot finish yet leaves a note (the unit's waiting status) instead of
//! failing the hook, so the next hook simply tries again.

use crate::juju::{Context, HookToolError, HookTools};
use crate::observe::{retired_marker, Observed};
use crate::peers;
use crate::plan::Step;
use crate::switchover::{poll, SwitchoverError};
use crate::valkey::{Connector, Endpoint, ValkeyError};
use crate::workload::{self, Paths, Service, Supervisor, WorkloadError, MONITOR_NAME, SENTINEL_PORT};
use std::collections::BTreeMap;
use std::time::Duration;

mod fence;
mod rebind;
mod restart;
mod start;
mod upkeep;

use start::start_workload;
use upkeep::{apply_settings, hand_over, still_answering, wait_for_departed_to_stop};

/// How long a starting unit waits to be linked and discovered before it gives up for this hook.
pub const START_WAIT: Duration = Duration::from_secs(20);
/// How long a reset Sentinel may take to see its peers and replicas again.
pub const RESET_WAIT: Duration = Duration::from_secs(15);
/// How long the leader waits for a departed unit's services to stop before resetting anyway.
pub const DEPARTED_STOP_WAIT: Duration = Duration::from_secs(30);
/// How long a freshly started Valkey may take to answer.
pub const SERVICE_UP: Duration = Duration::from_secs(10);

/// What execution needs from the outside world.
pub struct Effects<'a> {
    /// The hook's context.
    pub ctx: &'a Context,
    /// Juju.
    pub tools: &'a dyn HookTools,
    /// Valkey and Sentinel.
    pub connector: &'a dyn Connector,
    /// The service supervisor; `None` until storage and the binary exist.
    pub supervisor: Option<&'a dyn Supervisor>,
    /// The workload's paths; `None` until storage is attached.
    pub paths: Option<&'a Paths>,
}

/// Why a step failed.
#[derive(Debug, thiserror::Error)]
pub enum ExecuteError {
    /// A hook tool failed.
    #[error(transparent)]
    Tool(#[from] HookToolError),
    /// Files, install or supervision failed.
    #[error(transparent)]
    Workload(#[from] WorkloadError),
    /// Valkey or Sentinel failed.
    #[error(transparent)]
    Valkey(#[from] ValkeyError),
    /// The hand-over before leaving failed.
    #[error("hand-over failed: {0}")]
    Switchover(#[from] SwitchoverError),
    /// Something the step needs is not there (a plan bug if it happens).
    #[error("cannot {step}: {missing} missing")]
    Missing {
        /// The step.
        step: &'static str,
        /// What is missing.
        missing: &'static str,
    },
}

/// What the steps could not finish (each becomes the unit's waiting message).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Waiting reasons, most important first.
    pub notes: Vec<String>,
}

/// How long a step waits for a node that answered with a transient error (`LOADING` while it
/// loads its AOF, `BUSY`, …) before trying once more; past it the hook fails and is retried.
pub const TRANSIENT_WAIT: Duration = Duration::from_secs(60);

/// Runs `steps` in order; stops at the first error. A step that met a transient answer
/// (`ValkeyError::transient_at`) waits until that node answers `PING` (bounded by
/// [`TRANSIENT_WAIT`]) and runs once more. *Why:* a restarted old primary's `valkey-restarted`
/// reconcile failed with `LOADING` while Valkey loaded a 4 MB AOF; that `juju-exec` run is not
/// retried, so the node stayed fenced until update-status (issue 15).
pub fn execute(e: &Effects, o: &Observed, steps: &[Step]) -> Result<Outcome, ExecuteError> {
    let mut out = Outcome::default();
    for step in steps {
        run_patiently(e, o, step, &mut out, TRANSIENT_WAIT)?;
    }
    Ok(out)
}

/// Runs one step; after a transient answer waits (≤ `wait`) for that node, then runs it again.
fn run_patiently(
    e: &Effects,
    o: &Observed,
    step: &Step,
    out: &mut Outcome,
    wait: Duration,
) -> Result<(), ExecuteError> {
    let Err(err) = run_step(e, o, step, out) else { return Ok(()) };
    let Some(node) = transient_at(&err) else { return Err(err) };
    tracing::info!("{err}: waiting for {node} to be ready, then trying again");
    poll(wait, || e.connector.data(&node).ok()?.ping().ok());
    run_step(e, o, step, out)
}

/// The node that gave a transient answer, if that is why `err` happened.
pub fn transient_at(err: &ExecuteError) -> Option<Endpoint> {
    let v = match err {
        ExecuteError::Valkey(v) | ExecuteError::Switchover(SwitchoverError::Valkey(v)) => v,
        _ => return None,
    };
    v.transient_at().cloned()
}

fn set_own(e: &Effects, o: &Observed, kv: &[(&str, Option<String>)]) -> Result<(), ExecuteError> {
    set_bag(e, o, false, kv)
}

fn set_bag(e: &Effects, o: &Observed, app: bool, kv: &[(&str, Option<String>)]) -> Result<(), ExecuteError> {
    let rid = o
        .relation_id
        .as_deref()
        .ok_or(ExecuteError::Missing { step: "write relation data", missing: "peer relation" })?;
    let changes: BTreeMap<String, Option<String>> =
        kv.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    e.tools.relation_set(rid, app, &changes)?;
    Ok(())
}

fn need<'a, T: ?Sized>(
    v: Option<&'a T>,
    step: &'static str,
    missing: &'static str,
) -> Result<&'a T, ExecuteError> {
    v.ok_or(ExecuteError::Missing { step, missing })
}

fn run_step(e: &Effects, o: &Observed, step: &Step, out: &mut Outcome) -> Result<(), ExecuteError> {
    match step {
        Step::Install => {
            let paths = need(e.paths, "install", "storage")?;
            paths.create_dirs()?;
            let installed = workload::install(e.tools, paths)?;
            e.tools.application_version_set(&installed.version)?;
        }
        Step::PublishHost(h) => set_own(e, o, &[(peers::HOST, Some(h.clone()))])?,
        Step::PublishSwitchovers(records) => {
            set_own(e, o, &[(peers::SWITCHOVERS, Some(crate::history::shared::encode(records)))])?
        }
        Step::RequestStart => set_own(e, o, &[(peers::START_REQUESTED, Some(o.now.to_string()))])?,
        Step::GrantLock(unit) => set_bag(
            e,
            o,
            true,
            &[(peers::START_LOCK, Some(unit.clone())), (peers::START_LOCK_SINCE, Some(o.now.to_string()))],
        )?,
        Step::ReleaseLock => {
            set_bag(e, o, true, &[(peers::START_LOCK, None), (peers::START_LOCK_SINCE, None)])?
        }
        Step::MarkBootstrapped => set_bag(e, o, true, &[(peers::BOOTSTRAPPED, Some("true".into()))])?,
        Step::RecordMembers(hosts) => set_bag(e, o, true, &[(peers::MEMBERS, Some(hosts.join(" ")))])?,
        Step::StartWorkload { primary, quorum } => start_workload(e, o, primary.as_ref(), *quorum, out)?,
        Step::EnsureServices => restart::ensure_services(e, o, out)?,
        Step::RestartAsReplica(primary) => {
            start::write_valkey_conf(e, o, Some(primary))?;
            restart::ensure_services(e, o, out)?;
        }
        Step::KeepValkeyDown => restart::keep_valkey_down(e, o)?,
        Step::RefreshSupervision(delay) => {
            let sup = need(e.supervisor, "refresh supervision", "supervisor")?;
            sup.refresh(*delay)?;
            // The scripts the services run follow the charm too (a new revision's requests).
            if let Some(paths) = e.paths {
                workload::files::create_private_dir(&paths.spool_dir())?;
                fence::write_restarted_script(paths)?;
                start::write_reconfig_script(paths)?;
            }
        }
        Step::ApplySettings(s) => apply_settings(e, o, s)?,
        Step::Rebind(address) => rebind::rebind(e, o, address, out)?,
        Step::FollowAddresses { moved, addresses, restart_sentinel, replicaof } => {
            rebind::follow_addresses(e, o, moved, addresses, *restart_sentinel, replicaof.as_ref(), out)?
        }
        Step::AllowPromotion(priority) => fence::allow_promotion(e, o, *priority, out)?,
        Step::FollowPrimary(primary) => {
            let host = need(o.announce_host.as_deref(), "follow the primary", "announce host")?;
            e.connector.data(&Endpoint::new(host, workload::VALKEY_PORT))?.replicaof(Some(primary))?;
            start::write_valkey_conf(e, o, Some(primary))?;
        }
        Step::SetQuorum { host, quorum, .. } => {
            let mut s = e.connector.sentinel(&Endpoint::new(host.clone(), SENTINEL_PORT))?;
            s.set(MONITOR_NAME, "quorum", &quorum.to_string())?;
        }
        Step::ResetSentinel { unit, host, expected_peers, expected_replicas } => {
            let mut s = e.connector.sentinel(&Endpoint::new(host.clone(), SENTINEL_PORT))?;
            wait_for_departed_to_stop(o, s.as_mut());
            s.reset(MONITOR_NAME)?;
            let back = poll(RESET_WAIT, || {
                let p = s.primary(MONITOR_NAME).ok()??;
                // A unit leaving at the same time (its hooks still to commit) stops answering
                // meanwhile: expect only what still answers, so its absence does not stall us.
                let (peers, replicas) = still_answering(o, unit);
                (p.num_other_sentinels >= (*expected_peers).min(peers)
                    && p.num_slaves >= (*expected_replicas).min(replicas))
                .then_some(())
            });
            if back.is_none() {
                out.notes
                    .push(format!("waiting for {unit}'s sentinel to rediscover its peers after a reset"));
            }
        }
        Step::AnnounceUpkeep(n) => set_bag(e, o, true, &[(peers::SENTINEL_UPKEEP, Some(n.to_string()))])?,
        Step::HandOver => hand_over(e, o)?,
        Step::StopServices => {
            let sup = need(e.supervisor, "stop services", "supervisor")?;
            // For good: a reboot of the machine must not bring a retired unit's services back.
            sup.remove(Service::Sentinel)?;
            sup.remove(Service::Valkey)?;
        }
        Step::MarkRetired => {
            workload::write_file(&retired_marker(&e.ctx.charm_dir), "retired\n", 0o600)?;
            // The relation may already be gone on the leaving unit; that is fine.
            let _ = set_own(e, o, &[(peers::STARTED, None), (peers::START_REQUESTED, None)]);
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;

#[cfg(test)]
#[path = "transient_tests.rs"]
mod transient_tests;

#[cfg(test)]
#[path = "loading_live_tests.rs"]
mod loading_live_tests;

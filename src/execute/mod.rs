//! Execute: carry out the [`Step`]s of a plan. Every step is idempotent; every wait is polled and
//! draws from the hook's one [`Deadline`]. A step that cannot finish yet leaves a note (the unit's
//! waiting status) instead of failing the hook, so a later hook simply continues.
//!
//! Steps on the local services run with a [`Ready`] context: the plan plans them only past its
//! guards (storage, binary, peer relation, network address, passwords), so the paths, the
//! supervisor, the host and the passwords are plain values here, not options each step re-checks.

use crate::config::CharmConfig;
use crate::juju::{Context, HookToolError, HookTools};
use crate::observe::{retired_marker, Observed};
use crate::peers;
use crate::plan::Step;
use crate::switchover::SwitchoverError;
use crate::valkey::{Connector, Endpoint, ValkeyError};
use crate::workload::{
    self, Credentials, Paths, Service, Supervisor, WorkloadError, MONITOR_NAME, SENTINEL_PORT,
};
use std::collections::BTreeMap;
use std::time::Duration;

mod deadline;
mod fence;
mod leave;
mod rebind;
mod restart;
mod start;
mod upkeep;

pub use deadline::{Deadline, HOOK_BUDGET};
use start::start_workload;
use upkeep::{apply_settings, still_answering, wait_for_departed_to_stop};

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
    /// The end of the hook's time budget: every wait draws from it.
    pub deadline: &'a Deadline,
}

/// What a step on the local services relies on, established once per [`execute`] from what the
/// plan's guards checked: storage attached (paths), binary installed (supervisor), the peer
/// relation, the network address and the passwords.
pub struct Local<'a> {
    /// The world's handles and the deadline.
    pub e: &'a Effects<'a>,
    /// The observation the plan was made from.
    pub o: &'a Observed,
    /// The workload's paths.
    pub paths: &'a Paths,
    /// The service supervisor.
    pub sup: &'a dyn Supervisor,
    /// The host this unit announces.
    pub host: &'a str,
    /// The address its services bind to.
    pub bind: &'a str,
    /// The passwords.
    pub credentials: &'a Credentials,
}

impl<'a> Local<'a> {
    fn of(e: &'a Effects<'a>, o: &'a Observed) -> Option<Local<'a>> {
        Some(Local {
            e,
            o,
            paths: e.paths?,
            sup: e.supervisor?,
            host: o.announce_host.as_deref()?,
            bind: o.bind_address.as_deref()?,
            credentials: o.credentials.as_ref()?,
        })
    }

    /// This unit's data node.
    pub fn me(&self) -> Endpoint {
        Endpoint::new(self.host, workload::VALKEY_PORT)
    }

    /// This unit's Sentinel.
    pub fn my_sentinel(&self) -> Endpoint {
        Endpoint::new(self.host, SENTINEL_PORT)
    }
}

/// [`Local`] with a valid config: what every step that renders or changes settings relies on
/// (the plan plans those only with a valid config; an invalid one only heals, see
/// `plan::heal_only`).
pub struct Ready<'a> {
    /// The local context.
    pub local: &'a Local<'a>,
    /// The validated config.
    pub config: &'a CharmConfig,
}

impl<'a> std::ops::Deref for Ready<'a> {
    type Target = Local<'a>;
    fn deref(&self) -> &Local<'a> {
        self.local
    }
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
    /// A step was planned without what the plan's guards promise (a plan bug): the hook fails
    /// and Juju retries it, loudly, rather than waiting in silence.
    #[error("plan bug: {step} was planned without {missing}")]
    Unplanned {
        /// The step.
        step: &'static str,
        /// What its guard should have established.
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

/// Note of a hook whose budget ran out before all its steps ran.
pub fn out_of_time(left: usize) -> String {
    format!(
        "waiting: this hook's {} s were spent, {left} step(s) left for the next hook",
        HOOK_BUDGET.as_secs()
    )
}

/// Runs `steps` in order; stops at the first error, and before the next step once the deadline
/// has passed (a note says how many were left: a later hook plans them again). A step that met a
/// transient answer (`ValkeyError::transient_at`) waits until that node answers `PING` (bounded by
/// [`TRANSIENT_WAIT`] and the deadline) and runs once more. *Why:* a restarted old primary's
/// `valkey-restarted` reconcile failed with `LOADING` while Valkey loaded a 4 MB AOF; that
/// `juju-exec` run is not retried, so the node stayed fenced until update-status (issue 15).
pub fn execute(e: &Effects, o: &Observed, steps: &[Step]) -> Result<Outcome, ExecuteError> {
    let mut out = Outcome::default();
    let local = Local::of(e, o);
    for (i, step) in steps.iter().enumerate() {
        if e.deadline.expired() {
            out.notes.push(out_of_time(steps.len() - i));
            break;
        }
        run_patiently(e, local.as_ref(), o, step, &mut out)?;
    }
    Ok(out)
}

/// Runs one step; after a transient answer waits (≤ [`TRANSIENT_WAIT`]) for that node, then runs
/// it again.
fn run_patiently(
    e: &Effects,
    local: Option<&Local>,
    o: &Observed,
    step: &Step,
    out: &mut Outcome,
) -> Result<(), ExecuteError> {
    let Err(err) = run_step(e, local, o, step, out) else { return Ok(()) };
    let Some(node) = transient_at(&err) else { return Err(err) };
    tracing::info!("{err}: waiting for {node} to be ready, then trying again");
    e.deadline.poll(TRANSIENT_WAIT, || e.connector.data(&node).ok()?.ping().ok());
    run_step(e, local, o, step, out)
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
        .ok_or(ExecuteError::Unplanned { step: "a relation write", missing: "the peer relation" })?;
    let changes: BTreeMap<String, Option<String>> =
        kv.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    e.tools.relation_set(rid, app, &changes)?;
    Ok(())
}

/// The [`Local`] context, or the plan bug that planned `step` without it.
fn local<'l>(local: Option<&'l Local<'l>>, step: &Step) -> Result<&'l Local<'l>, ExecuteError> {
    local.ok_or(ExecuteError::Unplanned {
        step: step.name(),
        missing: "storage, binary, address and passwords",
    })
}

/// The [`Ready`] context, or the plan bug that planned `step` without it.
fn ready<'l>(l: Option<&'l Local<'l>>, step: &Step) -> Result<Ready<'l>, ExecuteError> {
    let l = local(l, step)?;
    let config =
        l.o.config
            .as_ref()
            .map_err(|_| ExecuteError::Unplanned { step: step.name(), missing: "a valid config" })?;
    Ok(Ready { local: l, config })
}

fn run_step(
    e: &Effects,
    l: Option<&Local>,
    o: &Observed,
    step: &Step,
    out: &mut Outcome,
) -> Result<(), ExecuteError> {
    match step {
        Step::CreatePasswords { relation_id } => {
            crate::secrets::create(e.tools, relation_id)?;
        }
        Step::Install => {
            let paths = e.paths.ok_or(ExecuteError::Unplanned { step: step.name(), missing: "storage" })?;
            paths.create_dirs()?;
            let installed = workload::install(e.tools, paths)?;
            e.tools.application_version_set(&installed.version)?;
        }
        Step::MoveState => {
            let paths = e.paths.ok_or(ExecuteError::Unplanned { step: step.name(), missing: "storage" })?;
            paths.move_state()?;
        }
        Step::KeepPrivate(files) => {
            for file in files {
                workload::files::keep_private(file)?;
            }
        }
        Step::RememberUnitHosts(hosts) => {
            // Best effort: names then fall back to hosts, as before the file existed.
            if let Some(state) = e.paths.map(Paths::state_dir).filter(|d| d.is_dir()) {
                let _ = crate::history::names::write(&state, hosts);
            }
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
        Step::StartWorkload { primary, quorum } => {
            start_workload(&ready(l, step)?, primary.as_ref(), *quorum, out)?
        }
        Step::EnsureServices => restart::ensure_services(local(l, step)?, out)?,
        Step::RestartAsReplica(primary) => {
            start::write_valkey_conf(&ready(l, step)?, Some(primary))?;
            restart::ensure_services(local(l, step)?, out)?;
        }
        Step::KeepValkeyDown => restart::keep_valkey_down(local(l, step)?)?,
        Step::RefreshSupervision(delay) => {
            let l = local(l, step)?;
            l.sup.refresh(*delay)?;
            // The scripts the services run follow the charm too (a new revision's requests).
            workload::files::create_private_dir(&l.paths.spool_dir())?;
            fence::write_restarted_script(l.paths)?;
            start::write_reconfig_script(l.paths)?;
        }
        Step::TuneSentinel => {
            let l = local(l, step)?;
            workload::tuning::retune(l.sup, l.paths, e.connector, l.host);
        }
        Step::ApplySettings { settings, priority } => apply_settings(&ready(l, step)?, settings, *priority)?,
        Step::Rebind(address) => rebind::rebind(&ready(l, step)?, address, out)?,
        Step::FollowAddresses { moved, addresses, restart_sentinel, replicaof } => rebind::follow_addresses(
            &ready(l, step)?,
            moved,
            addresses,
            *restart_sentinel,
            replicaof.as_ref(),
            out,
        )?,
        Step::AllowPromotion(priority) => fence::allow_promotion(local(l, step)?, *priority, out)?,
        Step::FollowPrimary(primary) => {
            let r = ready(l, step)?;
            e.connector.data(&r.me())?.replicaof(Some(primary))?;
            start::write_valkey_conf(&r, Some(primary))?;
        }
        Step::SetQuorum { host, quorum, .. } => {
            let mut s = e.connector.sentinel(&Endpoint::new(host.clone(), SENTINEL_PORT))?;
            s.set(MONITOR_NAME, "quorum", &quorum.to_string())?;
        }
        Step::ResetSentinel { unit, host, expected_peers, expected_replicas } => {
            let mut s = e.connector.sentinel(&Endpoint::new(host.clone(), SENTINEL_PORT))?;
            wait_for_departed_to_stop(e, o, s.as_mut());
            s.reset(MONITOR_NAME)?;
            let back = e.deadline.poll(RESET_WAIT, || {
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
        Step::HandOver { sentinel, admit, avoid } => leave::hand_over(e, o, sentinel, avoid, *admit)?,
        Step::StepAside { sentinel } => leave::step_aside(e, o, sentinel),
        Step::StopServices => {
            // No supervisor: nothing was ever started here, so nothing is left to stop.
            if let Some(sup) = e.supervisor {
                // For good: a reboot of the machine must not bring a retired unit's services back.
                sup.remove(Service::Sentinel)?;
                sup.remove(Service::Valkey)?;
            }
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

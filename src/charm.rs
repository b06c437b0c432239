//! The charm's entry: which handler an event gets, and the one error policy.
//!
//! Ordinary hooks all reconcile (observe → plan → execute → status), whatever woke them. Only
//! events that carry meaning get their own handler: actions, and the leaving unit's
//! storage-detaching / stop / own relation-departed (retire, in any order, idempotently).

use crate::actions;
use crate::execute::{execute, Effects, ExecuteError, Outcome};
use crate::history;
use crate::juju::{Context, Event, HookToolError, HookTools, StatusKind};
use crate::observe::{self, applied_path, retired_marker, Observed};
use crate::plan::{self, Plan, RuntimeSettings};
use crate::secrets::{self, SecretError};
use crate::status::{self, Status};
use crate::valkey::{Auth, TcpConnector};
use crate::workload::{self, Credentials, Installed, Paths, Supervisor, ADMIN_USER};

/// Everything that can end a hook early.
#[derive(Debug, thiserror::Error)]
pub enum CharmError {
    /// A hook tool failed.
    #[error(transparent)]
    Tool(#[from] HookToolError),
    /// The passwords could not be read or created.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// A step failed.
    #[error(transparent)]
    Execute(#[from] ExecuteError),
    /// The client relation's pass failed.
    #[error(transparent)]
    Client(#[from] crate::client::handler::ClientError),
}

/// What to do about an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Exit non-zero: Juju retries the hook with back-off (transient trouble).
    Retry(String),
    /// A human must act: status blocked, exit 0.
    Blocked(String),
    /// The world is not ready: status waiting, exit 0; the next hook tries again.
    Waiting(String),
}

/// The one place that decides how an error ends a hook.
pub fn error_policy(err: &CharmError) -> Decision {
    use crate::workload::WorkloadError as W;
    let msg = err.to_string();
    match err {
        CharmError::Execute(ExecuteError::Workload(W::NoSource { .. } | W::Version { .. })) => {
            Decision::Blocked(msg)
        }
        CharmError::Execute(ExecuteError::Valkey(v)) if v.is_unreachable() => Decision::Waiting(msg),
        CharmError::Execute(ExecuteError::Missing { .. }) => Decision::Waiting(msg),
        CharmError::Secret(SecretError::Incomplete { .. }) => Decision::Blocked(msg),
        _ => Decision::Retry(msg),
    }
}

/// Runs one invocation through the Juju snapshot layer (`crate::snapshot`: an update-status
/// replays the last hook's answers); returns the process exit code. A failed invocation drops
/// the snapshot (Juju discards its relation writes).
pub fn run(ctx: &Context, event: &Event, tools: &dyn HookTools) -> i32 {
    let snap = crate::snapshot::open(ctx, *event == Event::UpdateStatus, tools);
    let code = run_event(ctx, event, &snap);
    snap.finish(ctx, code == 0);
    code
}

/// Runs one invocation; returns the process exit code.
fn run_event(ctx: &Context, event: &Event, tools: &dyn HookTools) -> i32 {
    let result = match event {
        Event::Unknown(name) => {
            tracing::debug!("ignoring unknown event {name}");
            return 0;
        }
        Event::Action(kind) => return actions::run(*kind, ctx, tools),
        Event::Remove => return 0,
        Event::StorageDetaching | Event::Stop => retire(ctx, tools),
        Event::PeerRelationDeparted if ctx.is_departing_self() => retire(ctx, tools),
        Event::PrimaryChanged => {
            let result = reconcile_with(ctx, tools, plan::for_exec_context);
            // In debug-log, so a failover's reach to every unit can be seen (and tested).
            tracing::info!("primary-changed: Sentinel switched the primary; reconciled");
            result
        }
        Event::ValkeyRestarted => {
            let result = reconcile_with(ctx, tools, plan::for_exec_context);
            // In debug-log, so the supervisor's notice can be seen (and tested).
            tracing::info!("valkey-restarted: the supervisor restarted Valkey; reconciled");
            result
        }
        Event::ServicesChanged => {
            let mut result = reconcile_with(ctx, tools, plan::for_exec_context);
            // Replicas that came back but have not resynced: look again until they have (bounded).
            let deadline = std::time::Instant::now() + crate::wake::SETTLE;
            while result.is_ok()
                && std::time::Instant::now() < deadline
                && load(ctx, tools).is_ok_and(|l| crate::wake::catching_up(&l.observed))
            {
                std::thread::sleep(crate::wake::RECHECK);
                result = reconcile_with(ctx, tools, plan::for_exec_context);
            }
            // In debug-log, so the wake-up between update-status hooks can be seen (and tested).
            tracing::info!("services-changed: a service or a link went down or came back; reconciled");
            result
        }
        _ => reconcile(ctx, tools),
    };
    let result = result.and_then(|()| client_pass(ctx, event, tools));
    match result {
        Ok(()) => 0,
        Err(err) => match error_policy(&err) {
            Decision::Retry(msg) => {
                tracing::error!("{msg}");
                eprintln!("{msg}");
                1
            }
            Decision::Blocked(msg) => {
                let _ = tools.status_set(StatusKind::Blocked, &msg, false);
                0
            }
            Decision::Waiting(msg) => {
                tracing::warn!("{msg}");
                let _ = tools.status_set(StatusKind::Waiting, &msg, false);
                0
            }
        },
    }
}

/// The `valkey-client` relation's pass after a successful reconcile (`crate::client::handler`);
/// update-status skips it, so the no-op hook stays as cheap as it was.
fn client_pass(ctx: &Context, event: &Event, tools: &dyn HookTools) -> Result<(), CharmError> {
    if matches!(event, Event::UpdateStatus | Event::StorageDetaching | Event::Stop) || ctx.is_departing_self()
    {
        return Ok(());
    }
    let servers = crate::client::servers::LazyServers::new(tools, &ctx.app);
    crate::client::handler::run(ctx, event, tools, &servers)?;
    Ok(())
}

/// A fully observed unit, with the handles execution needs.
pub struct Loaded {
    /// The observation.
    pub observed: Observed,
    /// Workload paths, once storage is attached.
    pub paths: Option<Paths>,
    /// Supervisor, once storage and binary exist.
    pub supervisor: Option<Box<dyn Supervisor>>,
    /// Connector with the admin credentials.
    pub connector: TcpConnector,
}

/// Observes everything (creating the passwords when this unit leads and none exist).
pub fn load(ctx: &Context, tools: &dyn HookTools) -> Result<Loaded, CharmError> {
    let facts = observe::read_juju(tools, ctx)?;
    let paths = facts.storage.clone().map(Paths::new);
    let installed: Option<Installed> = paths.as_ref().and_then(workload::installed);
    let credentials: Option<Credentials> = match &facts.relation_id {
        Some(rid) => secrets::ensure(tools, facts.leader, rid, &facts.app)?,
        None => None,
    };
    let connector = TcpConnector {
        auth: credentials.as_ref().map(|c| Auth { user: ADMIN_USER.into(), password: c.admin.clone() }),
        ..Default::default()
    };
    let (announce_host, bind_address) = match &facts.network {
        Some((h, b)) => (Some(h.clone()), Some(b.clone())),
        None => (None, None),
    };
    let applied: Option<RuntimeSettings> = paths
        .as_ref()
        .and_then(|p| std::fs::read_to_string(applied_path(p)).ok())
        .and_then(|t| serde_json::from_str(&t).ok());
    let mut observed = Observed {
        unit: ctx.unit.clone(),
        leader: facts.leader,
        now: observe::unix_now(),
        relation_id: facts.relation_id.clone(),
        me: facts.me.clone(),
        peers: facts.peers.clone(),
        app: facts.app.clone(),
        announce_host,
        bind_address,
        config: facts.config.clone(),
        credentials: credentials.clone(),
        storage: facts.storage.clone(),
        installed: installed.clone(),
        install_error: None,
        retired: retired_marker(&ctx.charm_dir).exists(),
        applied,
        recorded_switchovers: paths
            .as_ref()
            .map(|p| crate::history::recorded_switchovers(&p.etc_dir()))
            .unwrap_or_default(),
        local: Default::default(),
        sentinels: Vec::new(),
        primary_info: None,
        unit_hosts: paths.as_ref().map(|p| history::names::read(&p.etc_dir())).unwrap_or_default(),
    };
    remember_unit_hosts(paths.as_ref(), &mut observed);
    let supervisor = match (&paths, &installed) {
        (Some(p), Some(i)) => {
            Some(workload::supervisor_for(ctx, p, i, plan::valkey_restart_delay(&observed)))
        }
        _ => None,
    };
    if credentials.is_some() {
        let (local, sentinels, primary_info) = observe::read_services(
            &facts,
            observed.announce_host.as_deref(),
            &connector,
            supervisor.as_deref(),
        );
        observed.local = local;
        observed.sentinels = sentinels;
        observed.primary_info = primary_info;
    } else if let Some(sup) = &supervisor {
        observed.local.valkey_running = sup.is_running(workload::Service::Valkey);
        observed.local.sentinel_running = sup.is_running(workload::Service::Sentinel);
        observed.local.restart_delay = sup.restart_delay();
        observed.local.supervised = sup.has_supervision();
    }
    if let Some(p) = &paths {
        observed.local.bound = workload::read_bound(p);
        observed.local.on_disk = workload::read_on_disk(p);
    }
    Ok(Loaded { observed, paths, supervisor, connector })
}

/// Merges the live units' hosts into the remembered map (written only when it changed), so a unit
/// removed later is still named by unit ([`history::names`]). A failed write is logged nowhere:
/// names then fall back to hosts, as before.
fn remember_unit_hosts(paths: Option<&Paths>, observed: &mut Observed) {
    let Some(p) = paths else { return };
    if let Some(next) = history::names::merged(&observed.unit_hosts, observed.live_hosts()) {
        if p.etc_dir().is_dir() {
            let _ = history::names::write(&p.etc_dir(), &next);
        }
        observed.unit_hosts = next;
    }
}

fn effects<'a>(ctx: &'a Context, tools: &'a dyn HookTools, l: &'a Loaded) -> Effects<'a> {
    Effects {
        ctx,
        tools,
        connector: &l.connector,
        supervisor: l.supervisor.as_deref(),
        paths: l.paths.as_ref(),
    }
}

/// The ordinary hook: observe → plan → execute → status.
pub fn reconcile(ctx: &Context, tools: &dyn HookTools) -> Result<(), CharmError> {
    reconcile_with(ctx, tools, plan::plan)
}

/// Observe → `planner` → execute → status; `juju-exec` contexts plan with
/// [`plan::for_exec_context`], which decides nothing from the cached peer bags they see.
fn reconcile_with(
    ctx: &Context,
    tools: &dyn HookTools,
    planner: fn(&Observed) -> Plan,
) -> Result<(), CharmError> {
    let mut loaded = load(ctx, tools)?;
    let mut plan: Plan = planner(&loaded.observed);
    // Installing changes what the next pass can do (supervisor, start): install, then look again.
    if plan.steps == [plan::Step::Install] {
        match execute(&effects(ctx, tools, &loaded), &loaded.observed, &plan.steps) {
            Ok(_) => {}
            Err(ExecuteError::Workload(e @ workload::WorkloadError::NoSource { .. })) => {
                return block_on_install(tools, &loaded.observed, &plan, &e);
            }
            Err(e) => return Err(e.into()),
        }
        loaded = load(ctx, tools)?;
        plan = planner(&loaded.observed);
    }
    if let Some(p) = &loaded.paths {
        for file in [p.valkey_conf(), p.sentinel_conf()] {
            workload::files::keep_private(&file).map_err(ExecuteError::from)?;
        }
    }
    if let (Some(sup), Some(paths), Some(host), true) =
        (&loaded.supervisor, &loaded.paths, &loaded.observed.announce_host, loaded.observed.me.started)
    {
        workload::tuning::retune(sup.as_ref(), paths, &loaded.connector, host);
    }
    let o = &loaded.observed;
    let outcome = match execute(&effects(ctx, tools, &loaded), o, &plan.steps) {
        Ok(out) => out,
        Err(ExecuteError::Workload(e @ workload::WorkloadError::NoSource { .. })) => {
            return block_on_install(tools, o, &plan, &e);
        }
        Err(e) => return Err(e.into()),
    };
    // A unit that just (re)started its services reports from a fresh look, so its status says
    // what runs now rather than what ran before this hook.
    let started = plan.steps.iter().any(|s| matches!(s, plan::Step::StartWorkload { .. }));
    let restarted =
        plan.steps.iter().any(|s| matches!(s, plan::Step::EnsureServices | plan::Step::RestartAsReplica(_)));
    // Moved services were unreachable when this hook looked (docs/ha-protocol.md "Address changes").
    let moved = plan.steps.iter().any(|s| {
        matches!(
            s,
            plan::Step::Rebind(_)
                | plan::Step::FollowAddresses { restart_sentinel: true, .. }
                | plan::Step::FollowPrimary(_)
        )
    });
    // After resetting Sentinels that counted a departed unit, the leader's status says what they
    // count now, not what they counted before (status::stale_sentinels).
    let reset = plan.steps.iter().any(|s| matches!(s, plan::Step::ResetSentinel { .. }));
    if reset && !(started || restarted || moved) && outcome.notes.is_empty() {
        let fresh = load(ctx, tools)?;
        return set_status(tools, &fresh.observed, &Plan::default(), &outcome);
    }
    if (started || restarted || moved) && outcome.notes.is_empty() {
        let fresh = load(ctx, tools)?;
        let mut seen = fresh.observed.clone();
        seen.me.started = true;
        // A node that has just (re)started runs fenced; lift it now that it is linked, rather
        // than in the next hook (docs/ha-protocol.md "Start-up fence").
        let lift: Vec<plan::Step> = plan::promotion_step(&seen).into_iter().collect();
        let after = execute(&effects(ctx, tools, &fresh), &seen, &lift)?;
        return set_status(tools, &seen, &Plan::default(), &after);
    }
    set_status(tools, o, &plan, &outcome)
}

/// No binary to install: blocked, with the hint how to attach one.
fn block_on_install(
    tools: &dyn HookTools,
    o: &Observed,
    plan: &Plan,
    e: &workload::WorkloadError,
) -> Result<(), CharmError> {
    let mut blocked = o.clone();
    blocked.install_error = Some(e.to_string());
    set_status(tools, &blocked, plan, &Outcome::default())
}

fn set_status(tools: &dyn HookTools, o: &Observed, plan: &Plan, outcome: &Outcome) -> Result<(), CharmError> {
    let unit: Status = status::unit_status(o, plan, &outcome.notes);
    tools.status_set(unit.kind, &unit.message, false)?;
    if o.leader {
        let mut app = status::app_status(o, &unit);
        if let Some(note) = crate::history::last_failover_note(o) {
            app.message = format!("{} · {note}", app.message);
        }
        tools.status_set(app.kind, &app.message, true)?;
    }
    Ok(())
}

/// The leaving unit: hand over if primary, stop the services, remember it. Safe to repeat.
pub fn retire(ctx: &Context, tools: &dyn HookTools) -> Result<(), CharmError> {
    let loaded = load(ctx, tools)?;
    let steps = plan::retire(&loaded.observed);
    if steps.is_empty() {
        return Ok(());
    }
    let _ = tools.status_set(StatusKind::Maintenance, "leaving: handing over and stopping services", false);
    execute(&effects(ctx, tools, &loaded), &loaded.observed, &steps)?;
    tools.status_set(StatusKind::Maintenance, "stopped: this unit is leaving", false)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::valkey::{Endpoint, ValkeyError};
    use crate::workload::WorkloadError;

    #[test]
    fn error_policy_table() {
        let unreachable = CharmError::Execute(ExecuteError::Valkey(ValkeyError::Connect {
            endpoint: Endpoint::new("h", 1),
            source: redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
        }));
        let bad_reply = CharmError::Execute(ExecuteError::Valkey(ValkeyError::Reply {
            endpoint: Endpoint::new("h", 1),
            command: "INFO".into(),
            detail: "x".into(),
        }));
        let no_source =
            CharmError::Execute(ExecuteError::Workload(WorkloadError::NoSource { hint: "attach".into() }));
        let tool = CharmError::Tool(HookToolError::NotFound { what: "x".into() });
        assert!(matches!(error_policy(&unreachable), Decision::Waiting(_)));
        assert!(matches!(error_policy(&bad_reply), Decision::Retry(_)));
        assert_eq!(error_policy(&no_source), Decision::Blocked("no valkey-server found: attach".into()));
        assert!(matches!(error_policy(&tool), Decision::Retry(_)));
    }
}

//! The charm's entry: which handler an event gets, and the one error policy.
//!
//! Ordinary hooks all reconcile (observe → plan → execute, a few passes under one deadline, then
//! status), whatever woke them. Only events that carry meaning get their own handler: actions,
//! and the leaving unit's storage-detaching / stop / own relation-departed (retire, in any order,
//! idempotently). docs/architecture.md describes the loop.

use crate::actions;
use crate::execute::{execute, Deadline, Effects, ExecuteError, Outcome};
use crate::juju::{Context, Event, HookToolError, HookTools, StatusKind};
use crate::observe::{self, ObserveError, Observed, World};
use crate::plan::{self, Plan};
use crate::secrets::SecretError;
use crate::status::{self, Status};
use crate::workload;

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

impl From<ObserveError> for CharmError {
    fn from(e: ObserveError) -> Self {
        match e {
            ObserveError::Tool(t) => CharmError::Tool(t),
            ObserveError::Secret(s) => CharmError::Secret(s),
        }
    }
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
            // One budget for the whole hook (docs/architecture.md "The loop"): the reconcile and
            // the looks while replicas that came back resync (at most `wake::SETTLE` of it).
            let deadline = Deadline::for_hook();
            let settle = Deadline::after(deadline.cap(crate::wake::SETTLE));
            let mut result = reconcile_until(ctx, tools, plan::for_exec_context, &deadline);
            while result.is_ok()
                && !settle.expired()
                && load(ctx, tools).is_ok_and(|l| crate::wake::catching_up(&l.observed))
            {
                std::thread::sleep(crate::wake::RECHECK.min(settle.remaining()));
                result = reconcile_until(ctx, tools, plan::for_exec_context, &deadline);
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
/// update-status only shows refused requests again, so the no-op hook stays as cheap as it was.
fn client_pass(ctx: &Context, event: &Event, tools: &dyn HookTools) -> Result<(), CharmError> {
    if *event == Event::UpdateStatus {
        return Ok(crate::client::handler::keep_refusals_shown(ctx, tools)?);
    }
    if matches!(event, Event::StorageDetaching | Event::Stop) || ctx.is_departing_self() {
        return Ok(());
    }
    let servers = crate::client::servers::LazyServers::new(tools, &ctx.app);
    crate::client::handler::run(ctx, event, tools, &servers)?;
    Ok(())
}

/// After an action moved the primary: the client pass, so the new `endpoints` are committed with
/// the action's exit instead of waiting for the `primary-changed` hook the switch queues behind
/// it. Best effort: that hook answers anyway.
pub fn answer_clients_after(ctx: &Context, event: &Event, tools: &dyn HookTools) {
    if let Err(e) = client_pass(ctx, event, tools) {
        tracing::warn!("clients not answered after the switch (the next hook does): {e}");
    }
}

/// A fully observed unit, with the handles execution needs (what actions act on).
pub type Loaded = World;

/// Observes everything ([`observe::observe`]).
pub fn load(ctx: &Context, tools: &dyn HookTools) -> Result<Loaded, CharmError> {
    Ok(observe::observe(ctx, tools)?)
}

fn effects<'a>(
    ctx: &'a Context,
    tools: &'a dyn HookTools,
    w: &'a World,
    deadline: &'a Deadline,
) -> Effects<'a> {
    Effects {
        ctx,
        tools,
        connector: &w.connector,
        supervisor: w.supervisor.as_deref(),
        paths: w.paths.as_ref(),
        deadline,
    }
}

/// At most this many observe → plan → execute passes per hook: an install, a start and the fence
/// lift after it (docs/architecture.md "The loop").
pub const MAX_PASSES: usize = 3;

/// The ordinary hook: observe → plan → execute → status, under one [`Deadline`].
pub fn reconcile(ctx: &Context, tools: &dyn HookTools) -> Result<(), CharmError> {
    reconcile_with(ctx, tools, plan::plan)
}

/// [`reconcile_until`] with the hook's budget ([`crate::execute::HOOK_BUDGET`]).
fn reconcile_with(
    ctx: &Context,
    tools: &dyn HookTools,
    planner: fn(&Observed) -> Plan,
) -> Result<(), CharmError> {
    reconcile_until(ctx, tools, planner, &Deadline::for_hook())
}

/// The loop: observe → `planner` → execute, again while a pass changed what the next observation
/// sees ([`Plan::look_again`]) and nothing is left waiting, at most [`MAX_PASSES`] times and never
/// past `deadline`; then the status of the last pass. A wait the deadline cut short leaves its
/// note, so the unit reports waiting for it and exits 0; a later hook (any event, update-status
/// at the latest) continues. `juju-exec` contexts plan with [`plan::for_exec_context`], which
/// decides nothing from the cached peer bags they see.
pub fn reconcile_until(
    ctx: &Context,
    tools: &dyn HookTools,
    planner: fn(&Observed) -> Plan,
    deadline: &Deadline,
) -> Result<(), CharmError> {
    let mut pass = 1;
    loop {
        let world = observe::observe(ctx, tools)?;
        let o = &world.observed;
        let plan = planner(o);
        let outcome = match execute(&effects(ctx, tools, &world, deadline), o, &plan.steps) {
            Ok(out) => out,
            Err(ExecuteError::Workload(e @ workload::WorkloadError::NoSource { .. })) => {
                return block_on_install(tools, o, &plan, &e);
            }
            Err(e) => return Err(e.into()),
        };
        if another_pass(&plan, &outcome, deadline, pass) {
            pass += 1;
            continue;
        }
        if pass > 1 {
            tracing::debug!("reconciled in {pass} passes");
        }
        // Observability after the HA work, from the same observation; it never fails the hook.
        crate::cos::execute::pass(&effects(ctx, tools, &world, deadline), o);
        return set_status(tools, o, &plan, &outcome);
    }
}

/// Whether pass number `pass` (from 1) is followed by another: its steps changed what the next
/// observation sees, none left a note (a unit waiting for something waits for a later hook, not
/// in a loop), time is left and fewer than [`MAX_PASSES`] ran.
pub fn another_pass(plan: &Plan, outcome: &Outcome, deadline: &Deadline, pass: usize) -> bool {
    plan.look_again() && outcome.notes.is_empty() && !deadline.expired() && pass < MAX_PASSES
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

/// The leaving unit: step aside if replica, hand over if primary, stop the services, remember
/// it. Safe to repeat. A replica that stepped aside is looked at again (it may have been promoted
/// meanwhile, and then hands over): at most two passes, under one deadline.
pub fn retire(ctx: &Context, tools: &dyn HookTools) -> Result<(), CharmError> {
    let deadline = Deadline::for_hook();
    let mut stepped_aside = false;
    loop {
        let mut world = observe::observe(ctx, tools)?;
        if !world.observed.retired {
            world.observed.leaving = observe::leaving_units(tools);
        }
        let steps = plan::retire(&world.observed, stepped_aside);
        if steps.is_empty() {
            return Ok(());
        }
        if !stepped_aside {
            // The first pass (a second one only follows a step aside).
            let _ = tools.status_set(
                StatusKind::Maintenance,
                "leaving: handing over and stopping services",
                false,
            );
        }
        execute(&effects(ctx, tools, &world, &deadline), &world.observed, &steps)?;
        if !stepped_aside && steps.iter().any(plan::Step::calls_for_another_look) {
            stepped_aside = true;
            continue;
        }
        if let (Some(paths), true) = (&world.paths, steps.contains(&plan::Step::StopServices)) {
            // The exporter and the charm's metrics go with Valkey (best effort: they hold no data).
            if let Err(e) = crate::cos::execute::remove_services(ctx, paths) {
                tracing::warn!("observability services not removed: {e}");
            }
        }
        tools.status_set(StatusKind::Maintenance, "stopped: this unit is leaving", false)?;
        return Ok(());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::valkey::{Endpoint, ValkeyError};
    use crate::workload::WorkloadError;

    #[test]
    fn the_loop_looks_again_only_after_a_change_with_nothing_waiting_and_time_left() {
        use std::time::Duration;
        let start =
            Plan { steps: vec![plan::Step::StartWorkload { primary: None, quorum: 1 }], waiting: None };
        let settings = Plan { steps: vec![plan::Step::RequestStart], waiting: None };
        let (done, waiting) = (Outcome::default(), Outcome { notes: vec!["waiting for x".into()] });
        let (hook, spent) = (Deadline::for_hook(), Deadline::after(Duration::ZERO));
        let cases = [
            ("a start that finished: look again", &start, &done, &hook, 1, true),
            ("the third pass is the last", &start, &done, &hook, MAX_PASSES, false),
            ("a start still waiting: a later hook", &start, &waiting, &hook, 1, false),
            ("out of time", &start, &done, &spent, 1, false),
            ("nothing observe would see differently", &settings, &done, &hook, 1, false),
            ("a quiet pass", &Plan::default(), &done, &hook, 1, false),
        ];
        for (case, plan, outcome, deadline, pass, want) in cases {
            assert_eq!(another_pass(plan, outcome, deadline, pass), want, "{case}");
        }
    }

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

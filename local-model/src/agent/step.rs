//! Taking the next event of each unit, what Juju does when a hook *starts* (relation views,
//! statuses), and how the event is to be run. [`super::outcome`] records how it ended.

use super::hook::{self, Invocation};
use super::schedule::{self, Pick};
use crate::hosts::{net, plan, NetworkMode};
use crate::model::lifecycle;
use crate::state::{ModelState, QueuedEvent, RunningEvent, StatusRecord};
use std::path::Path;
use std::time::Duration;

/// An event taken from a unit's queue, ready to run.
#[derive(Debug, Clone)]
pub struct Launch {
    /// The unit.
    pub unit: String,
    /// The event.
    pub event: QueuedEvent,
    /// Its hook-context id.
    pub context_id: String,
    /// How to run it.
    pub invocation: Invocation,
}

/// A short name for an event, for statuses, logs and context ids.
pub fn label(state: &ModelState, event: &QueuedEvent) -> String {
    match event {
        QueuedEvent::Hook(h) => h.name.clone(),
        QueuedEvent::Operation { id } => match state.operations.get(id).and_then(|o| o.action.clone()) {
            Some(action) => format!("action {action}"),
            None => "exec".to_string(),
        },
    }
}

/// A status record set now.
pub(super) fn status(status: &str, message: String, now: f64) -> StatusRecord {
    StatusRecord { status: status.into(), message, since: now }
}

fn update_status_interval(state: &ModelState) -> f64 {
    match state.update_status_interval_ms {
        Some(ms) => ms as f64 / 1000.0,
        None => state.update_status_interval_secs as f64,
    }
}

/// Whether [`take_due`] would do anything now (checked on a shared read, before taking the
/// exclusive lock).
pub fn anything_due(state: &ModelState, now: f64) -> bool {
    let interval = update_status_interval(state);
    state.units.values().any(|u| {
        schedule::update_status_due(u, interval, now)
            || schedule::pick(u, now).is_some_and(|p| !waits_for_subordinates(state, u, p))
    })
}

/// Whether the event `pick` names is a principal's `remove` hook while a subordinate of it is
/// still there: a principal is removed only after its subordinates (the uniter's `terminate`
/// waits until `HasSubordinates` is false, `internal/worker/uniter/uniter.go`), so its machine
/// outlives them.
fn waits_for_subordinates(state: &ModelState, unit: &crate::state::Unit, pick: Pick) -> bool {
    let event = match pick {
        Pick::Queued(i) => unit.queue.get(i),
        Pick::Retry => unit.failed.as_ref().map(|f| &f.event),
    };
    matches!(event, Some(QueuedEvent::Hook(h)) if h.name == "remove")
        && !state.subordinates_of(&unit.name).is_empty()
}

/// The earliest time a timer fires without any change to the state: a failed hook's retry or an
/// update-status.
pub fn next_timer(state: &ModelState) -> f64 {
    let interval = update_status_interval(state);
    let mut next = f64::INFINITY;
    for u in state.units.values() {
        if let Some(f) = &u.failed {
            next = next.min(f.retry_at);
        }
        if u.started {
            next = next.min(u.last_update_status + interval);
        }
    }
    next
}

/// Takes the next event of every unit that may run one, marks it running and returns how to run
/// it. Also queues update-status where it is due.
pub fn take_due(state: &mut ModelState, model_dir: &Path, now: f64) -> Vec<Launch> {
    let interval = update_status_interval(state);
    let names: Vec<String> = state.units.keys().cloned().collect();
    let mut launches = Vec::new();
    for name in names {
        let unit = state.units.get_mut(&name).expect("listed");
        if schedule::update_status_due(unit, interval, now) {
            unit.queue.push_back(QueuedEvent::Hook(lifecycle::hook("update-status")));
            unit.last_update_status = now;
        }
        if unit.machine_down {
            // Its machine is down: nothing runs there, update-status included (agent lost).
            continue;
        }
        let picked = schedule::pick(unit, now);
        if picked.is_some_and(|p| waits_for_subordinates(state, &state.units[&name], p)) {
            continue;
        }
        let unit = state.units.get_mut(&name).expect("listed");
        let event = match picked {
            None => continue,
            Some(Pick::Retry) => unit.failed.as_ref().expect("retry of a failed hook").event.clone(),
            Some(Pick::Queued(i)) => unit.queue.remove(i).expect("picked index"),
        };
        if let Some(launch) = start(state, &name, event, model_dir, now) {
            launches.push(launch);
        }
    }
    launches
}

fn start(
    state: &mut ModelState,
    unit: &str,
    event: QueuedEvent,
    model_dir: &Path,
    now: f64,
) -> Option<Launch> {
    let label = label(state, &event);
    let context_id =
        format!("{}-{}-{}", unit.replace('/', "-"), label.replace(' ', "-"), state.counters.context);
    state.counters.context += 1;
    let charm_dir = model_dir.join("units").join(unit.replace('/', "-")).join("charm");
    let op = match &event {
        QueuedEvent::Operation { id } => {
            let op = state.operations.get_mut(id)?;
            op.status = "running".into();
            op.started = Some(now);
            Some(op.clone())
        }
        QueuedEvent::Hook(_) => None,
    };
    let env = hook::environment(state, unit, &event, op.as_ref(), &context_id, model_dir, &charm_dir);
    let argv =
        in_unit_machine(state, unit, model_dir, &charm_dir, command_for(&charm_dir, &event, op.as_ref()));
    let u = state.units.get_mut(unit).expect("unit exists");
    if let QueuedEvent::Hook(h) = &event {
        lifecycle::on_hook_start(u, h);
        if h.name == "install" && u.workload_status.status == "waiting" {
            u.workload_status = status("maintenance", "installing charm software".into(), now);
        }
    }
    let message = match &event {
        QueuedEvent::Hook(h) => format!("running {} hook", h.name),
        QueuedEvent::Operation { .. } => format!("running {label}"),
    };
    u.agent_status = status("executing", message, now);
    u.running =
        Some(RunningEvent { event: event.clone(), context_id: context_id.clone(), pid: None, started: now });
    let invocation = Invocation {
        unit: unit.to_string(),
        label,
        argv,
        cwd: charm_dir.clone(),
        env,
        timeout: Duration::from_secs(state.hook_timeout_secs.max(1)),
        capture_base: model_dir.join("units").join(unit.replace('/', "-")).join("logs").join(&context_id),
        log: model_dir.join("log"),
    };
    Some(Launch { unit: unit.to_string(), event, context_id, invocation })
}

/// What to execute: dispatch when present (Juju's preference), else the hook/action file; a
/// missing hook is a no-op, a missing action fails.
fn command_for(charm_dir: &Path, event: &QueuedEvent, op: Option<&crate::state::Operation>) -> Vec<String> {
    let executable = |p: &Path| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    let dispatch = charm_dir.join("dispatch");
    let fallback = match (event, op) {
        (QueuedEvent::Operation { .. }, Some(op)) if op.action.is_none() => {
            return vec!["/bin/sh".into(), "-c".into(), op.command.clone().unwrap_or_default()];
        }
        (QueuedEvent::Operation { .. }, op) => {
            let name = op.and_then(|o| o.action.clone()).unwrap_or_default();
            (
                charm_dir.join("actions").join(&name),
                format!("echo 'action \"{name}\" not implemented on unit' >&2; exit 1"),
            )
        }
        (QueuedEvent::Hook(h), _) => (charm_dir.join("hooks").join(&h.name), "exit 0".to_string()),
    };
    if executable(&dispatch) {
        return vec![dispatch.display().to_string()];
    }
    if executable(&fallback.0) {
        return vec![fallback.0.display().to_string()];
    }
    vec!["/bin/sh".into(), "-c".into(), fallback.1]
}

/// Where the command runs:
/// - host mode wraps it in `ip netns exec <unit's namespace>`: it joins the namespace,
///   bind-mounts the namespace's hosts file over `/etc/hosts` and then *execs* the command, so the
///   hook keeps its pid (timeouts and accounting see the hook itself) and everything it starts
///   lives in the unit's network;
/// - machine mode runs it inside the unit's machine with `nsenter` ([`crate::machines::wrap`]);
///   a machine that went down between the pick and now makes the hook fail, and it is retried
///   once the machine is back;
/// - loopback mode runs it as it is.
fn in_unit_machine(
    state: &ModelState,
    unit: &str,
    model_dir: &Path,
    cwd: &Path,
    argv: Vec<String>,
) -> Vec<String> {
    let Some(u) = state.units.get(unit) else { return argv };
    match state.network_mode {
        NetworkMode::Loopback => argv,
        NetworkMode::Hosts => {
            let ip = net::ip_binary().map_or_else(|| "ip".to_string(), |p| p.display().to_string());
            let ns = plan::netns(plan::block_of(state), u.machine);
            [ip, "netns".into(), "exec".into(), ns].into_iter().chain(argv).collect()
        }
        NetworkMode::Machines => {
            crate::machines::wrap(model_dir, state, unit, cwd, &argv).unwrap_or_else(|| {
                vec!["/bin/sh".into(), "-c".into(), format!("echo 'machine of {unit} is down' >&2; exit 1")]
            })
        }
    }
}

/// Records the pid of a started event.
pub fn set_pid(state: &mut ModelState, unit: &str, context_id: &str, pid: u32) {
    if let Some(running) = state.units.get_mut(unit).and_then(|u| u.running.as_mut()) {
        if running.context_id == context_id {
            running.pid = Some(pid);
        }
    }
}

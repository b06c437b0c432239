//! The model's agent: one background process per model that runs every unit's queue, one event
//! at a time per unit and units in parallel, the way Juju's unit agents do.
//!
//! - [`schedule`] — which event runs next (pure).
//! - [`step`] — taking the next event of each unit (state transitions).
//! - [`outcome`] — recording how it ended; recovery after a restart.
//! - [`hook`] — running the process: environment, timeout, output to the model log.
//! - [`spawn`] — starting the agent detached when a command needs it.
//! - [`timings`] — wall time and peak memory of every finished event (`hook-timings.jsonl`).
//!
//! The loop polls the state every 25 ms. The agent survives the CLI, resumes after a restart
//! ([`outcome::recover`]), exits when the model directory is gone, and destroys the model when the
//! process that created it (env `JUJU_LOCAL_OWNER_PID`) dies.

pub mod hook;
pub mod outcome;
pub mod schedule;
pub mod spawn;
pub mod step;
pub mod timings;

use crate::model::{clock, home, lifecycle, processes, units, ModelError};
use crate::state::{ModelState, QueuedEvent};
use crate::store::{Store, StoreError};
use fs2::FileExt;
use std::path::Path;
use std::time::Duration;

/// How often the agent looks at the state.
const TICK: Duration = Duration::from_millis(25);

/// Errors that stop the agent.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The model state could not be used.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A model operation failed.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The agent's lock or pid file could not be written.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
}

/// Runs the agent of the model in `dir` until the model is destroyed.
pub fn run(dir: &Path) -> Result<(), AgentError> {
    let store = Store::open(dir)?;
    let lock_path = dir.join("agent.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| AgentError::Io(format!("cannot open {}", lock_path.display()), e))?;
    if lock.try_lock_exclusive().is_err() {
        eprintln!("another agent already runs this model; exiting");
        return Ok(());
    }
    eprintln!("agent {} started for {}", std::process::id(), dir.display());
    store.update(|s| {
        outcome::recover(s, clock::now());
        Ok::<_, StoreError>(())
    })?;
    if let Ok(entries) = std::fs::read_dir(dir.join("contexts")) {
        for entry in entries.flatten() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    // The pid file is written once recovery is done: a command that started the agent waits for
    // it, so it never judges the model by a state from before the restart.
    std::fs::write(dir.join("agent.pid"), std::process::id().to_string())
        .map_err(|e| AgentError::Io("cannot write agent.pid".into(), e))?;
    let mut reported = false;
    // The state is re-read only when its file changed or a timer (retry, update-status) is due:
    // an idle model costs a stat per tick, not a parse.
    let mut seen = None;
    let mut next_timer = f64::INFINITY;
    let mut owner: Option<u32> = None;
    let mut last: Option<ModelState> = None;
    loop {
        let Some(stamp) = file_stamp(&store.state_path()) else {
            eprintln!("model directory gone; agent exiting");
            if let Some(state) = &last {
                clean_up_after_removal(state, dir);
            }
            return Ok(());
        };
        if let Some(owner) = owner.filter(|p| !processes::alive(*p as i32)) {
            eprintln!("owner process {owner} is gone; destroying the model");
            home::destroy(&store)?;
            return Ok(());
        }
        if seen == Some(stamp) && clock::now() < next_timer {
            std::thread::sleep(TICK);
            continue;
        }
        let state = match store.read() {
            Ok(state) => state,
            // Gone: the next turn sees no state file and cleans up.
            Err(StoreError::NoModel(_)) => continue,
            Err(e) => {
                if !reported {
                    eprintln!("cannot read the model state, waiting for it to be fixed: {e}");
                    reported = true;
                }
                std::thread::sleep(Duration::from_secs(1));
                continue;
            }
        };
        reported = false;
        seen = Some(stamp);
        owner = state.owner_pid;
        last = Some(state.clone());
        next_timer = step::next_timer(&state).min(lifecycle::next_force_deadline(&state));
        remove_forced(&store, &state);
        if step::anything_due(&state, clock::now()) {
            match store.update(|s| Ok::<_, StoreError>(step::take_due(s, dir, clock::now()))) {
                Ok(launches) => {
                    for launch in launches {
                        let store = store.clone();
                        let uuid = state.uuid.clone();
                        std::thread::spawn(move || run_one(&store, &uuid, launch));
                    }
                }
                // Gone: the next turn sees no state file and cleans up.
                Err(StoreError::NoModel(_)) => continue,
                Err(e) => eprintln!("cannot update the model state: {e}"),
            }
        }
        std::thread::sleep(TICK);
    }
}

/// `remove-unit --force` units whose bound passed with their teardown hooks unfinished: removed
/// from the state and torn down (processes killed, a running hook included), as Juju's forced
/// cleanup removes a unit whatever its agent is doing (`state/cleanup.go`).
fn remove_forced(store: &Store, state: &ModelState) {
    if lifecycle::forced_due(state, clock::now()).is_empty() {
        return;
    }
    let removed = store.update(|s| {
        let due = lifecycle::forced_due(s, clock::now());
        Ok::<_, StoreError>(due.iter().filter_map(|u| lifecycle::finish_removal(s, u)).collect::<Vec<_>>())
    });
    for unit in removed.unwrap_or_default() {
        eprintln!("{}: forced removal bound reached; tearing it down", unit.name);
        if let Err(e) = units::tear_down(store, &state.uuid, &unit.name, Some(&unit)) {
            eprintln!("cannot tear down {}: {e}", unit.name);
        }
    }
}

/// The model directory vanished without `destroy-model` (someone deleted it, or a test's
/// temporary home was dropped): stop what the model still runs and remove its host-mode network,
/// from the last state seen, so nothing outlives the model. `destroy-model` stops the agent
/// before it deletes the directory, so this never races it.
fn clean_up_after_removal(state: &ModelState, dir: &std::path::Path) {
    crate::machines::remove_all(dir, state);
    if !state.uuid.is_empty() {
        processes::stop(&state.uuid, None, Some(dir));
    }
    if state.network_mode.has_namespaces() {
        crate::hosts::net::destroy_block(crate::hosts::plan::block_of(state));
    }
}

/// What identifies one version of the state file (it is replaced by rename, so the inode changes).
fn file_stamp(path: &Path) -> Option<(std::time::SystemTime, u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.ino(), m.len()))
}

/// The accounting record of a finished event.
fn timing_of(launch: &step::Launch, outcome: &hook::Outcome) -> timings::HookTiming {
    let (kind, event) = match &launch.event {
        QueuedEvent::Hook(h) => ("hook", h.name.clone()),
        QueuedEvent::Operation { .. } => match launch.invocation.label.strip_prefix("action ") {
            Some(action) => ("action", action.to_string()),
            None => ("exec", "exec".to_string()),
        },
    };
    timings::HookTiming {
        unit: launch.unit.clone(),
        event,
        kind: kind.to_string(),
        wall_ms: outcome.wall_ms,
        max_rss_kib: outcome.max_rss_kib,
        rc: outcome.code,
        at: clock::now(),
    }
}

/// Runs one event to completion and records its outcome.
fn run_one(store: &Store, uuid: &str, launch: step::Launch) {
    let outcome = hook::run(&launch.invocation, |pid| {
        let _ = store.update(|s| {
            step::set_pid(s, &launch.unit, &launch.context_id, pid);
            Ok::<_, StoreError>(())
        });
    });
    timings::append(store.dir(), &timing_of(&launch, &outcome));
    // A unit whose remove hook succeeded loses its processes and machine before it leaves the
    // state, so whoever sees it gone (`wait --units N`) also sees it torn down.
    let removing = matches!(&launch.event, QueuedEvent::Hook(h) if h.name == "remove");
    if removing && outcome.succeeded() {
        if let Err(e) = units::tear_down(store, uuid, &launch.unit, None) {
            eprintln!("cannot tear down {}: {e}", launch.unit);
        }
    }
    // The outcome must land, or the unit would stay `running` forever: if the state cannot be
    // read right now (someone is fixing a corrupt file), keep trying until it can, or is gone.
    loop {
        let recorded = store.update(|s| {
            outcome::complete(store, s, &launch, &outcome, clock::now());
            Ok::<_, StoreError>(())
        });
        match recorded {
            Ok(()) | Err(StoreError::NoModel(_)) => return,
            Err(e) => {
                eprintln!("cannot record the outcome of {} on {}: {e}", launch.invocation.label, launch.unit);
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

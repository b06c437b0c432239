//! `remove-application APP... [--force] [--no-prompt]`: every unit goes through `remove-unit`'s
//! teardown, then the application itself (its config, charm copy and resources) is deleted.
//!
//! Juju returns at once and removes the application when its last unit is gone
//! (`cmd/juju/application/removeapplication.go`, the cleanup in `state/cleanup.go`). juju-local
//! has no controller to finish that later, so the command waits for the units and deletes the
//! application itself; the end state a client polls for (the application absent from status) is
//! the same.

use super::{CliError, Result};
use crate::agent::spawn;
use crate::model::home::Home;
use crate::model::{lifecycle, relations, units, ModelError};
use crate::state::{Life, ModelState};
use crate::store::Store;
use clap::Args;
use std::time::{Duration, Instant};

/// Arguments of `remove-application`.
#[derive(Debug, Args)]
pub struct RemoveApplicationArgs {
    /// Applications to remove.
    #[arg(required = true)]
    pub apps: Vec<String>,
    /// Skip the units' hooks and kill their processes at once.
    #[arg(long)]
    pub force: bool,
    /// Accepted for compatibility (storage is always removed with its unit).
    #[arg(long)]
    pub destroy_storage: bool,
    /// Accepted for compatibility (nothing is asked).
    #[arg(long)]
    pub no_prompt: bool,
    /// Accepted for compatibility.
    #[arg(long)]
    pub no_wait: bool,
}

/// Runs `remove-application`: all applications are checked before any is touched.
pub fn remove_application(home: &Home, model: &str, args: RemoveApplicationArgs) -> Result<()> {
    let store = home.open(model)?;
    let uuid = store.read()?.uuid;
    // As remove-unit: `--force` still runs each unit's teardown hooks within a bound,
    // `--force --no-wait` removes the units at once.
    let now = crate::model::clock::now();
    let force_by =
        args.force.then_some(now + if args.no_wait { 0.0 } else { lifecycle::FORCE_MAX_WAIT_SECS });
    let forced = store.update(|s: &mut ModelState| -> Result<Vec<crate::state::Unit>> {
        if let Some(app) = args.apps.iter().find(|a| !s.applications.contains_key(*a)) {
            return Err(CliError::Usage(format!("application \"{app}\" not found")));
        }
        let mut forced = Vec::new();
        // Juju destroys an application's relations first: both sides depart and break them
        // (`state/application.go`, `removeOps` → the relations' `destroyOps`).
        for app in &args.apps {
            let related: Vec<u32> = s
                .relations
                .values()
                .filter(|r| !r.is_peer() && r.applications.contains(app))
                .map(|r| r.id)
                .collect();
            for rel in related {
                relations::remove_relation(s, rel, Some(app))?;
            }
        }
        for app in &args.apps {
            let names: Vec<String> = s
                .units_of(app)
                .iter()
                .filter(|u| args.force || u.life == Life::Alive)
                .map(|u| u.name.clone())
                .collect();
            for unit in names {
                lifecycle::begin_removal(s, &unit, force_by)?;
            }
        }
        for unit in lifecycle::forced_due(s, now) {
            forced.extend(lifecycle::finish_removal(s, &unit));
        }
        Ok(forced)
    })?;
    for unit in forced {
        units::tear_down(&store, &uuid, &unit.name, Some(&unit))?;
    }
    spawn::ensure_running(&store)?;
    for app in &args.apps {
        eprintln!("will remove application {app}");
    }
    for app in &args.apps {
        await_no_units(&store, app)?;
        delete_application(&store, app)?;
    }
    Ok(())
}

/// Waits until the agent has removed every unit of `app`; bounded by the teardown hooks' own
/// limit (four hooks, each at most `hook-timeout`).
fn await_no_units(store: &Store, app: &str) -> Result<()> {
    let state = store.read()?;
    let limit = Duration::from_secs(state.hook_timeout_secs.saturating_mul(4).max(60));
    let deadline = Instant::now() + limit;
    loop {
        let state = store.read()?;
        let left: Vec<String> = state.units_of(app).iter().map(|u| u.name.clone()).collect();
        if left.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(CliError::Usage(format!(
                "application \"{app}\": units {} still tearing down after {}s (see debug-log)",
                left.join(", "),
                limit.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Deletes the application's state entry, its peer relations and its files (a relation with
/// another application goes once the other side has broken it: [`relations::forget_finished`]).
fn delete_application(store: &Store, app: &str) -> Result<()> {
    store.update(|s: &mut ModelState| -> Result<()> {
        s.applications.remove(app);
        s.relations.retain(|_, r| !(r.is_peer() && r.applications.contains(app)));
        relations::forget_finished(s);
        Ok(())
    })?;
    for dir in ["charms", "resources"] {
        let path = store.dir().join(dir).join(app);
        if path.exists() {
            std::fs::remove_dir_all(&path)
                .map_err(ModelError::io(format!("cannot remove {}", path.display())))?;
        }
    }
    Ok(())
}

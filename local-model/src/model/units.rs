//! The effects of adding and removing units: the unit's "machine" directory with its own copy of
//! the charm and its storage directories, and the teardown of all that.

use super::{lifecycle, processes, ModelError};
use crate::hosts::{faults, net, plan, NetworkMode};
use crate::machines;
use crate::state::{ModelState, Unit};
use crate::store::Store;
use std::path::Path;
use std::process::Command;

/// Copies a charm directory, preserving symlinks and exec bits (`cp -a`), replacing `dst`.
pub fn copy_charm(src: &Path, dst: &Path) -> Result<(), ModelError> {
    if dst.exists() {
        std::fs::remove_dir_all(dst).map_err(ModelError::io(format!("cannot remove {}", dst.display())))?;
    }
    std::fs::create_dir_all(dst).map_err(ModelError::io(format!("cannot create {}", dst.display())))?;
    let status = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", src.display()))
        .arg(dst)
        .status()
        .map_err(ModelError::io("cannot run cp"))?;
    if !status.success() {
        return Err(ModelError::Charm(format!("cannot copy charm {} to {}", src.display(), dst.display())));
    }
    Ok(())
}

/// Adds `n` units of `app`: creates each unit's directories and charm copy first, then records the
/// units (with their queued hooks) in the state, so the agent never sees a half-made unit.
pub fn add_units(store: &Store, app: &str, n: u32) -> Result<Vec<String>, ModelError> {
    let state = store.read()?;
    let application = state
        .applications
        .get(app)
        .ok_or_else(|| ModelError::Usage(format!("application \"{app}\" not found")))?;
    let source = store.dir().join("charms").join(app);
    let charm_source = if source.exists() { source } else { application.charm_source.clone() };
    let mut added = Vec::new();
    for _ in 0..n {
        let name = store.update(|s: &mut ModelState| -> Result<String, ModelError> {
            let dir = store.dir().to_path_buf();
            let name = lifecycle::add_unit(
                s,
                app,
                |unit, id| {
                    let unit_dir = dir.join("units").join(unit.replace('/', "-"));
                    unit_dir.join("storage").join(id.replace('/', "-"))
                },
                super::clock::now(),
            )?;
            // Held back until the directories exist: the agent skips units without a charm copy.
            let unit = s.units.get_mut(&name).expect("just added");
            for dir in unit.storage.values() {
                std::fs::create_dir_all(dir)
                    .map_err(ModelError::io(format!("cannot create {}", dir.display())))?;
            }
            copy_charm(&charm_source, &store.unit_dir(&name).join("charm"))?;
            std::fs::create_dir_all(store.unit_dir(&name).join("logs"))
                .map_err(ModelError::io("cannot create unit logs dir"))?;
            if s.network_mode.has_namespaces() {
                // The namespace and every hosts file exist before the unit's first hook can run.
                let (k, unit) = (plan::block_of(s), &s.units[&name]);
                let machine = unit.machine;
                net::create_machine(k, machine, unit.address)?;
                net::write_hosts(store.dir(), s, None).inspect_err(|_| net::remove_machine(k, machine))?;
                if s.network_mode == NetworkMode::Machines {
                    // Booted before the unit is recorded: its first hook runs on a running machine.
                    machines::create(store.dir(), s, &name)
                        .inspect_err(|_| net::remove_machine(k, machine))?;
                }
            }
            Ok(name)
        })?;
        added.push(name);
    }
    Ok(added)
}

/// Creates the unit of subordinate application `app` on `principal`'s machine, inside a state
/// update (the agent calls it once the principal entered a container-scoped relation): the unit
/// directory, charm copy and storage first, then the record with its queued hooks. Nothing of the
/// machine is created: the subordinate shares the principal's (address, namespace, container).
pub fn add_subordinate(
    model_dir: &Path,
    state: &mut ModelState,
    app: &str,
    principal: &str,
) -> Result<String, ModelError> {
    let units_dir = model_dir.join("units");
    let charm_source = model_dir.join("charms").join(app);
    let mut draft = state.clone();
    let name = lifecycle::add_subordinate(
        &mut draft,
        app,
        principal,
        |unit, id| units_dir.join(unit.replace('/', "-")).join("storage").join(id.replace('/', "-")),
        super::clock::now(),
    )?;
    let unit_dir = units_dir.join(name.replace('/', "-"));
    for dir in draft.units[&name].storage.values() {
        std::fs::create_dir_all(dir).map_err(ModelError::io(format!("cannot create {}", dir.display())))?;
    }
    copy_charm(&charm_source, &unit_dir.join("charm"))?;
    std::fs::create_dir_all(unit_dir.join("logs")).map_err(ModelError::io("cannot create unit logs dir"))?;
    *state = draft;
    Ok(name)
}

/// Stops a removed unit's processes and deletes its machine directory; in host mode also its
/// namespace, its partitions and its line in every hosts file; in machine mode its machine
/// (shut down cleanly first). `removed` is the unit's last
/// record when it has already left the state (forced removal).
pub fn tear_down(store: &Store, uuid: &str, unit: &str, removed: Option<&Unit>) -> Result<(), ModelError> {
    let state = store.read()?;
    let record = removed.or_else(|| state.units.get(unit));
    if record.is_some_and(|u| u.principal.is_some()) {
        // A subordinate leaves its principal's machine as it was: only its own processes and
        // directory go.
        processes::stop(uuid, Some(unit), Some(&store.unit_dir(unit)));
        return remove_unit_dir(store, unit);
    }
    if let (NetworkMode::Machines, Some(u)) = (state.network_mode, record) {
        // The machine goes with the unit: its systemd stops the services, then it is deleted.
        machines::container::remove(&machines::plan::MachineDirs::new(store.dir(), u.machine));
    }
    processes::stop(uuid, Some(unit), Some(&store.unit_dir(unit)));
    if state.network_mode.has_namespaces() {
        let host = record.map(|u| (u.machine, u.address));
        // Under the model lock, like every hosts-file write, so a concurrent add-unit never has
        // its newer file overwritten by this older view.
        store.update(|s: &mut ModelState| -> Result<(), ModelError> {
            faults::forget(s, unit, host.map(|h| h.1));
            if let Some((machine, _)) = host {
                net::remove_machine(plan::block_of(s), machine);
            }
            Ok(net::write_hosts(store.dir(), s, Some(unit))?)
        })?;
    }
    remove_unit_dir(store, unit)
}

fn remove_unit_dir(store: &Store, unit: &str) -> Result<(), ModelError> {
    let dir = store.unit_dir(unit);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(ModelError::io(format!("cannot remove {}", dir.display())))?;
    }
    Ok(())
}

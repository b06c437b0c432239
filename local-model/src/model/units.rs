//! The effects of adding and removing units: the unit's "machine" directory with its own copy of
//! the charm and its storage directories, and the teardown of all that.

use super::{lifecycle, processes, ModelError};
use crate::state::ModelState;
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
            Ok(name)
        })?;
        added.push(name);
    }
    Ok(added)
}

/// Stops a removed unit's processes and deletes its machine directory.
pub fn tear_down(store: &Store, uuid: &str, unit: &str) -> Result<(), ModelError> {
    processes::stop(uuid, Some(unit));
    let dir = store.unit_dir(unit);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(ModelError::io(format!("cannot remove {}", dir.display())))?;
    }
    Ok(())
}

//! Machine mode: every unit on a machine of its own that runs **systemd as PID 1**, as a unit does
//! on a real Juju machine (an Ubuntu VM or LXD container), so the charm takes its production path
//! (systemd units) and nothing in the hook environment tells it apart from real Juju.
//!
//! A model created with `add-model NAME --config network-mode=machines` (root only) has host
//! mode's networking ([`crate::hosts`]: a namespace, address and hosts file per machine, the
//! `cut`/`heal`/`change-address` faults) and, in each namespace, a container:
//! - its root filesystem is an overlay: a Debian root filesystem that `scripts/setup-machines`
//!   builds once with debootstrap and caches under `/var/cache/juju-local/rootfs/` (read-only,
//!   shared), under the machine's own writable layer `<model>/machines/<m>/upper`;
//! - `systemd-nspawn --boot` runs it, joined to the unit's network namespace, with the model
//!   directory (unit directories, charm copies, the hook tools' links) and the hook-tools binary
//!   bound in at the same paths, each storage instance of its unit bound at the mount point Juju
//!   would give it (the charm's `location:`, [`crate::state::StorageSpec::mount_point`]; what
//!   `storage-get location` answers), and the namespace's hosts file as `/etc/hosts`;
//! - hooks, actions and `juju exec` commands run inside it through `nsenter` (every namespace of
//!   its PID 1), so whatever the charm starts with `systemctl` is a service of *that* machine.
//!
//! Faults (local extras): `kill-machine UNIT` kills the machine's PID 1 — every process on it dies
//! at once, no hook runs and its agent is `lost` (a vanished VM); `reboot-machine UNIT` shuts it
//! down cleanly and boots it again, then runs `start` on the unit as Juju does after a reboot.
//!
//! - [`plan`] — paths and command lines (pure).
//! - [`container`] — mounting, booting, stopping and killing a machine.

pub mod container;
pub mod plan;

use crate::hosts::{plan as net_plan, HostsError, NetworkMode};
use crate::state::ModelState;
use crate::store::Store;
use plan::{Boot, MachineDirs};
use std::path::{Path, PathBuf};

/// The directories of `unit`'s machine.
pub fn dirs_of(model_dir: &Path, state: &ModelState, unit: &str) -> Option<MachineDirs> {
    state.units.get(unit).map(|u| MachineDirs::new(model_dir, u.machine))
}

/// What `unit`'s machine boots with.
fn boot_of(model_dir: &Path, state: &ModelState, unit: &str, dirs: &MachineDirs) -> Result<Boot, HostsError> {
    let u = state.units.get(unit).ok_or_else(|| HostsError::Usage(format!("unit \"{unit}\" not found")))?;
    let ns = net_plan::netns(net_plan::block_of(state), u.machine);
    let jujuc = crate::model::home::jujuc_path().map_err(|e| HostsError::Usage(e.to_string()))?;
    let jujuc = std::fs::canonicalize(&jujuc).unwrap_or(jujuc);
    Ok(Boot {
        root: dirs.root(),
        name: ns.clone(),
        // The machine is named after the principal unit it was made for.
        hostname: net_plan::hostname(u.container()),
        netns_path: PathBuf::from("/run/netns").join(&ns),
        hosts_file: Path::new(crate::hosts::net::NETNS_ETC).join(&ns).join("hosts"),
        model_dir: model_dir.to_path_buf(),
        jujuc,
        storage: storage_binds(state, u.container()),
    })
}

/// The storage of every unit on the machine of principal `container`: (host directory, mount
/// point inside) for each instance that has a mount point.
fn storage_binds(state: &ModelState, container: &str) -> Vec<(PathBuf, PathBuf)> {
    let on_machine = state.units.values().filter(|u| u.container() == container);
    on_machine
        .flat_map(|u| {
            u.storage_mounts
                .iter()
                .filter_map(|(id, mount)| Some((u.storage.get(id)?.clone(), mount.clone())))
        })
        .collect()
}

/// Creates and boots `unit`'s machine (its namespace and hosts files exist already). On failure
/// nothing of the machine is left.
pub fn create(model_dir: &Path, state: &ModelState, unit: &str) -> Result<(), HostsError> {
    let lower =
        state.rootfs.clone().ok_or_else(|| HostsError::Usage("the model has no root filesystem".into()))?;
    let dirs = dirs_of(model_dir, state, unit)
        .ok_or_else(|| HostsError::Usage(format!("unit \"{unit}\" not found")))?;
    let boot = boot_of(model_dir, state, unit, &dirs)?;
    let result =
        container::prepare(&dirs, &lower, &boot.hostname).and_then(|()| container::boot(&dirs, &boot));
    if result.is_err() {
        container::remove(&dirs);
    }
    result.map(drop)
}

/// Boots `unit`'s machine again after it was stopped or killed (its disk kept).
pub fn start(model_dir: &Path, state: &ModelState, unit: &str) -> Result<(), HostsError> {
    let lower =
        state.rootfs.clone().ok_or_else(|| HostsError::Usage("the model has no root filesystem".into()))?;
    let dirs = dirs_of(model_dir, state, unit)
        .ok_or_else(|| HostsError::Usage(format!("unit \"{unit}\" not found")))?;
    if container::init_pid(&dirs).is_some() {
        return Ok(());
    }
    let boot = boot_of(model_dir, state, unit, &dirs)?;
    container::prepare(&dirs, &lower, &boot.hostname)?;
    container::boot(&dirs, &boot).map(drop)
}

/// Wraps a hook's command line so it runs inside `unit`'s machine. `None` when the machine does
/// not run (the caller must not run the hook: on Juju a machine that is down runs nothing).
pub fn wrap(
    model_dir: &Path,
    state: &ModelState,
    unit: &str,
    cwd: &Path,
    argv: &[String],
) -> Option<Vec<String>> {
    let dirs = dirs_of(model_dir, state, unit)?;
    let init = container::init_pid(&dirs)?;
    let nsenter = container::nsenter_binary()?;
    Some(plan::nsenter_args(&nsenter, init, cwd, argv))
}

/// Stops every machine of the model (in parallel: each may take seconds to shut down cleanly),
/// unmounts their root filesystems and deletes their files.
pub fn remove_all(model_dir: &Path, state: &ModelState) {
    if state.network_mode != NetworkMode::Machines {
        return;
    }
    let mut all: Vec<MachineDirs> = state
        .units
        .values()
        .filter(|u| u.principal.is_none())
        .map(|u| MachineDirs::new(model_dir, u.machine))
        .collect();
    // Machines of units already gone from the state (a crashed teardown) are cleared too.
    let listed = std::fs::read_dir(model_dir.join("machines")).into_iter().flatten().filter_map(|e| e.ok());
    for entry in listed {
        if let Some(m) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) {
            let dirs = MachineDirs::new(model_dir, m);
            if !all.contains(&dirs) {
                all.push(dirs);
            }
        }
    }
    std::thread::scope(|scope| {
        for dirs in &all {
            scope.spawn(move || container::remove(dirs));
        }
    });
}

/// The unit's machine, checked: the model is in machine mode and the unit exists.
fn machine_of(store: &Store, unit: &str) -> Result<(ModelState, MachineDirs), HostsError> {
    let state = store.read()?;
    if state.network_mode != NetworkMode::Machines {
        return Err(HostsError::Usage(format!(
            "model \"{}\" has no machines (create it with add-model NAME --config network-mode=machines)",
            state.name
        )));
    }
    let dirs = dirs_of(store.dir(), &state, unit)
        .ok_or_else(|| HostsError::Usage(format!("unit \"{unit}\" not found")))?;
    Ok((state, dirs))
}

/// Marks the unit's machine down or up.
fn set_down(store: &Store, unit: &str, down: bool) -> Result<(), HostsError> {
    store.update(|s: &mut ModelState| -> Result<(), HostsError> {
        for u in on_same_machine(s, unit) {
            if let Some(u) = s.units.get_mut(&u) {
                u.machine_down = down;
            }
        }
        Ok(())
    })
}

/// `unit` and the subordinates on its machine (a subordinate's principal and its siblings).
fn on_same_machine(state: &ModelState, unit: &str) -> Vec<String> {
    let Some(container) = state.units.get(unit).map(|u| u.container().to_string()) else { return Vec::new() };
    state.units.values().filter(|u| u.container() == container).map(|u| u.name.clone()).collect()
}

/// `kill-machine UNIT`: the machine vanishes — PID 1 is killed, so every process on it dies at
/// once and no hook runs; the unit's agent is lost until the machine is started again.
pub fn kill(store: &Store, unit: &str) -> Result<(), HostsError> {
    let (_, dirs) = machine_of(store, unit)?;
    set_down(store, unit, true)?;
    container::kill(&dirs);
    Ok(())
}

/// `start-machine UNIT`: boots a machine that is down (killed or shut down), then queues `start`
/// on its unit, as Juju's unit agent runs `start` again after its machine rebooted
/// (juju/juju `tests/suites/hooks/reboot.sh`, "start hook fires after reboot").
pub fn boot_again(store: &Store, unit: &str) -> Result<(), HostsError> {
    let (state, _) = machine_of(store, unit)?;
    start(store.dir(), &state, unit)?;
    store.update(|s: &mut ModelState| -> Result<(), HostsError> {
        for name in on_same_machine(s, unit) {
            if let Some(u) = s.units.get_mut(&name) {
                u.machine_down = false;
            }
            if s.units.get(&name).is_some_and(|u| u.started) {
                crate::model::lifecycle::enqueue_hook(s, &name, crate::model::lifecycle::hook("start"));
            }
        }
        Ok(())
    })
}

/// `reboot-machine UNIT`: a clean shutdown (systemd stops every service), then [`boot_again`].
pub fn reboot(store: &Store, unit: &str) -> Result<(), HostsError> {
    let (_, dirs) = machine_of(store, unit)?;
    set_down(store, unit, true)?;
    container::stop(&dirs, container::SHUTDOWN_TIMEOUT);
    boot_again(store, unit)
}

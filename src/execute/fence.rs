//! The start-up fence's effects (docs/ha-protocol.md "Start-up fence"): every Valkey starts at
//! `replica-priority 0` (`workload::START_FENCE`), and a replica gets its configured priority back
//! only once its link to the primary is up — a restarted node has lost its replication offset,
//! so until it has resynced Sentinel cannot tell how much data it holds.

use super::{ExecuteError, Local, Outcome};
use crate::juju::juju_exec;
use crate::valkey::Role;
use crate::workload::{self, render_restarted_script, Detach, Paths};
use std::time::Duration;

/// How long a fenced replica's link may take to come up (a resync) before this hook gives up.
pub const RESYNC_WAIT: Duration = Duration::from_secs(10);

/// Waiting message of a replica that is still fenced after [`RESYNC_WAIT`].
pub const STILL_FENCED: &str = "not promotable until it has resynced with the primary";

/// Waits (bounded) for the local replica's link to the primary, then sets `priority`.
pub(super) fn allow_promotion(l: &Local, priority: u32, out: &mut Outcome) -> Result<(), ExecuteError> {
    let (e, me) = (l.e, l.me());
    let linked = e.deadline.poll(RESYNC_WAIT, || {
        let r = e.connector.data(&me).ok()?.replication().ok()?;
        (r.role == Role::Replica && r.link_up).then_some(())
    });
    if linked.is_none() {
        out.notes.push(STILL_FENCED.into());
        return Ok(());
    }
    e.connector.data(&me)?.config_set("replica-priority", &priority.to_string())?;
    Ok(())
}

/// Writes the script Valkey's supervisor runs after a restart (it queues `valkey-restarted`).
pub(super) fn write_restarted_script(paths: &Paths, unit: &str, detach: Detach) -> Result<(), ExecuteError> {
    let script = paths.restarted_script();
    workload::write_file(&script, &render_restarted_script(&juju_exec(), unit, detach), 0o700)?;
    Ok(())
}

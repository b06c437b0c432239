//! The start-up fence's effects (docs/ha-protocol.md "Start-up fence"): every Valkey starts at
//! `replica-priority 0` (`workload::START_FENCE`), and a replica gets its configured priority back
//! only once its link to the primary is up — a restarted node has lost its replication offset,
//! so until it has resynced Sentinel cannot tell how much data it holds.

use super::{ExecuteError, Local, Outcome};
use crate::valkey::Role;
use crate::workload::{self, render_restarted_script, Paths};
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

/// Writes the scripts Valkey's supervision runs after a restart (it asks for `valkey-restarted`)
/// and after a stop (it asks for `services-changed` when nobody asked for the stop).
pub(super) fn write_restarted_script(paths: &Paths) -> Result<(), ExecuteError> {
    let spool = paths.spool_dir();
    workload::write_file(&paths.restarted_script(), &render_restarted_script(&spool), 0o700)?;
    // systemd's ExecStopPost: a stop nobody asked for asks for services-changed.
    workload::write_file(&paths.exited_script(), &workload::render_exited_script(&spool), 0o700)?;
    Ok(())
}

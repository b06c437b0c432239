//! Steering Sentinel's choice: it cannot be told which replica to promote, only which ones it
//! must not (`replica-priority 0`), and a replica behind the start-up fence is admitted first.

use super::{poll, SwitchoverError, PRIORITY_SEEN};
use crate::valkey::{Connector, Endpoint, SentinelNode};
use crate::workload::MONITOR_NAME;

/// Gives every fenced (priority 0) node of `candidates` the priority `admit` (see [`switchover`]).
pub(super) fn admit_fenced(
    connector: &dyn Connector,
    candidates: &[Endpoint],
    admit: u32,
) -> Result<(), SwitchoverError> {
    if admit == 0 {
        return Ok(());
    }
    for ep in candidates {
        let mut n = connector.data(ep)?;
        if n.replication()?.priority == Some(0) {
            n.config_set("replica-priority", &admit.to_string())?;
        }
    }
    Ok(())
}

/// Sets replica-priority 0 on `others` and waits until Sentinel has seen it (or no longer
/// counts the replica: down or disconnected, which it never promotes either); returns the old
/// values to restore. `skip_unreachable`: a replica that does not answer is left out (a leaving
/// unit's, stopping), else it fails the switchover.
pub(super) fn lower_priorities(
    connector: &dyn Connector,
    s: &mut dyn SentinelNode,
    others: &[Endpoint],
    skip_unreachable: bool,
) -> Result<Vec<(Endpoint, String)>, SwitchoverError> {
    let mut restore = Vec::new();
    for ep in others {
        let lowered = connector.data(ep).and_then(|mut n| {
            let old = n.config_get("replica-priority")?.unwrap_or_else(|| "100".into());
            n.config_set("replica-priority", "0")?;
            Ok(old)
        });
        match lowered {
            Ok(old) => restore.push((ep.clone(), old)),
            Err(e) if skip_unreachable => tracing::info!("{ep} is not taken out of the choice: {e}"),
            Err(e) => return Err(e.into()),
        }
    }
    let lowered: Vec<&Endpoint> = restore.iter().map(|(ep, _)| ep).collect();
    if !lowered.is_empty() {
        let seen = poll(PRIORITY_SEEN, || {
            let known = s.replicas(MONITOR_NAME).ok()?;
            lowered
                .iter()
                .all(|o| {
                    known
                        .iter()
                        .filter(|k| k.ip == o.host && k.port == o.port)
                        .all(|k| k.priority == 0 || k.is_down())
                })
                .then_some(())
        });
        if seen.is_none() {
            for (ep, v) in &restore {
                super::restore(&format!("replica-priority {v} on {ep}"), || {
                    connector.data(ep)?.config_set("replica-priority", v)
                });
            }
            return Err(SwitchoverError::Refused(
                "sentinel did not see the other replicas' priority 0".into(),
            ));
        }
    }
    Ok(restore)
}

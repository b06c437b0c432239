//! Steps of a leaving unit that touch the replication: a primary hands its role over, a replica
//! steps aside first, so that no Sentinel picks it while it stops.

use super::{Effects, ExecuteError};
use crate::observe::Observed;
use crate::switchover::{switchover, Request, SwitchoverError};
use crate::valkey::{Connector, Endpoint, Role};
use crate::workload::{MONITOR_NAME, VALKEY_PORT};
use std::time::Duration;

/// How long a unit promoted just now waits for its own Sentinel to name it before it hands over
/// (Sentinel learns a switch at `+switch-master`, about a second after the promotion).
const NAMED_WAIT: Duration = Duration::from_secs(10);

/// [`crate::plan::Step::HandOver`]: a switchover through this unit's own Sentinel, bounded by the
/// failover timeout and the hook's deadline, promoting none of `avoid` while another replica can
/// take over.
pub(super) fn hand_over(
    e: &Effects,
    o: &Observed,
    sentinel: &Endpoint,
    avoid: &[Endpoint],
    admit: u32,
) -> Result<(), ExecuteError> {
    let me = Endpoint::new(sentinel.host.clone(), VALKEY_PORT);
    // A replica promoted while it stepped aside: its Sentinel may still name the old primary,
    // and a switchover from there would find no replica to hand over to.
    let named = e.deadline.poll(NAMED_WAIT, || {
        let p = e.connector.sentinel(sentinel).ok()?.primary(MONITOR_NAME).ok()??;
        (Endpoint::new(p.ip.clone(), p.port) == me && !p.failover_in_progress()).then_some(())
    });
    if named.is_none() {
        tracing::warn!("handing over although this unit's Sentinel does not name it the primary yet");
    }
    let limit = e.deadline.cap(o.failover_limit());
    // Settled: this unit stops next, and the failover's end is led by its Sentinel.
    let request = Request { target: None, avoid, admit, limit, settle: true };
    match switchover(e.connector, sentinel, &request) {
        Ok(s) => {
            tracing::info!(
                "handed the primary role from {} to {} in {} ms (Sentinel settled after {} ms)",
                s.old_primary,
                s.new_primary,
                s.duration.as_millis(),
                s.settled.unwrap_or(s.duration).as_millis()
            );
            Ok(())
        }
        // Nobody can take over: leave anyway (the operator asked for removal); say so loudly.
        Err(SwitchoverError::NotInSync(why)) => {
            tracing::warn!("leaving without hand-over: no replica in sync ({why})");
            Ok(())
        }
        // The last unit, or every replica leaving at the same time (scale to 0): nobody is left
        // to take over, so there is nothing to hand over; stop (issue 15: the last primary's
        // storage-detaching failed with NOGOODSLAVE and was retried).
        Err(err) if no_replica_left(e.connector, &me) => {
            tracing::warn!("leaving without hand-over: no replica is left to take over ({err})");
            Ok(())
        }
        Err(err) => Err(err.into()),
    }
}

/// Whether the local primary has no replica linked to it any more (or does not answer).
fn no_replica_left(connector: &dyn Connector, me: &Endpoint) -> bool {
    match connector.data(me).and_then(|mut n| n.replication()) {
        Ok(info) => !info.replicas.iter().any(|r| r.state == "online"),
        Err(_) => true,
    }
}

/// [`crate::plan::Step::StepAside`]: `replica-priority 0` on the local Valkey, then wait (bounded
/// by the failover timeout and the hook's deadline) until every Sentinel this unit reaches has
/// seen it and none is promoting this replica. A failover that already chose it runs to its end
/// (stopping now would stall it until its timeout, leaving no primary meanwhile); the unit is then
/// a primary, and the next look hands over. Never fails the hook: a unit that cannot make sure
/// leaves anyway, as the operator asked, and says so.
pub(super) fn step_aside(e: &Effects, o: &Observed, sentinel: &Endpoint) {
    let me = Endpoint::new(sentinel.host.clone(), VALKEY_PORT);
    let limit = e.deadline.cap(o.failover_limit());
    if e.deadline.poll(limit, || aside(e.connector, &me, sentinel).then_some(())).is_none() {
        tracing::warn!("stopping although a Sentinel may still promote this replica (it did not see it step aside in time)");
    }
}

/// One look for [`step_aside`]; re-asserts the priority each time (a concurrent switchover's
/// admission of fenced replicas may have raised it).
fn aside(connector: &dyn Connector, me: &Endpoint, sentinel: &Endpoint) -> bool {
    let Ok(mut node) = connector.data(me) else { return true };
    let Ok(info) = node.replication() else { return true };
    if info.role == Role::Primary {
        return true;
    }
    if info.priority != Some(0) && node.config_set("replica-priority", "0").is_err() {
        return false;
    }
    let mut sentinels = vec![sentinel.clone()];
    if let Ok(peers) = connector.sentinel(sentinel).and_then(|mut s| s.sentinels(MONITOR_NAME)) {
        sentinels.extend(peers.iter().filter(|p| !p.is_down()).map(|p| Endpoint::new(p.ip.clone(), p.port)));
    }
    sentinels.iter().all(|ep| {
        // A Sentinel that does not answer is not leading a failover from here; move on.
        let Ok(known) = connector.sentinel(ep).and_then(|mut s| s.replicas(MONITOR_NAME)) else {
            return true;
        };
        known
            .iter()
            .filter(|k| k.ip == me.host && k.port == me.port)
            .all(|k| k.priority == 0 && !k.flags.iter().any(|f| f == "promoted"))
    })
}

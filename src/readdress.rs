//! Address changes, decided (docs/ha-protocol.md "Address changes"). Pure: [`steps`] reads an
//! [`Observed`] and says what a started unit must do when its own address or a peer's changed.
//!
//! Why anything must be done at all: every name in the configs is a hostname, but
//! - Valkey and Sentinel listen on the unit's address as it was when they started (`bind`), and
//!   that address no longer exists after a move: nobody, the charm included, reaches them;
//! - Sentinel resolves a hostname once, when it first learns of an instance, and keeps the IP:
//!   a moved replica or primary looks down to it for ever. `SENTINEL RESET` forgets replicas and
//!   peers but keeps the primary's address; a restarted Sentinel resolves everything in its
//!   config again (it writes hostnames there, `announce-hostnames yes`), so a restart is the one
//!   remedy for all three kinds of entry;
//! - a replica's link to a moved primary is dead without an error until `repl-timeout` (60 s).

use crate::observe::Observed;
use crate::plan::Step;
use std::collections::BTreeMap;

/// Move the local services when their files name an address the unit no longer has. For any
/// unit whose services were ever rendered: one that has not finished starting too (a start that
/// waited for discovery, then its address changed), or its retry would render the new address
/// but find its running Valkey unreachable on the old one.
pub fn rebind_step(o: &Observed) -> Option<Step> {
    let bind = o.bind_address.as_ref()?;
    let bound = &o.local.bound;
    let rebind = [&bound.valkey, &bound.sentinel].into_iter().flatten().any(|a| a != bind);
    rebind.then(|| Step::Rebind(bind.clone()))
}

/// The address steps of a started unit, to run before anything that connects to its services.
pub fn steps(o: &Observed) -> Vec<Step> {
    if o.bind_address.is_none() {
        return Vec::new();
    }
    let bound = &o.local.bound;
    let mut steps: Vec<Step> = rebind_step(o).into_iter().collect();
    let rebind = !steps.is_empty();
    let now: BTreeMap<String, String> =
        o.peers.iter().filter_map(|p| Some((p.name.clone(), p.address.clone()?))).collect();
    let recorded = bound.peers.clone().unwrap_or_default();
    if now == recorded {
        return steps;
    }
    // A peer the record does not know joined after it; it was resolved fresh: not moved.
    let moved: Vec<String> = now
        .iter()
        .filter(|(u, a)| recorded.get(*u).is_some_and(|r| r != *a))
        .map(|(u, _)| u.clone())
        .collect();
    // A restart in the middle of a failover would abort it; the failover's end wakes this unit
    // (primary-changed) and it follows then. Its own move cannot wait: it restarts anyway.
    let in_failover =
        o.my_sentinel().and_then(|s| s.primary.as_ref()).is_some_and(|p| p.failover_in_progress());
    if !moved.is_empty() && in_failover && !rebind {
        return steps;
    }
    let restart_sentinel = !moved.is_empty() && !rebind;
    steps.push(Step::FollowAddresses { moved, addresses: now, restart_sentinel });
    steps
}

#[cfg(test)]
#[path = "readdress_tests.rs"]
mod tests;

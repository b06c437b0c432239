//! Address changes, decided (docs/ha-protocol.md "Address changes"). Pure: [`steps`] reads an
//! [`Observed`] and says what a started unit must do when its own address or a peer's changed.
//!
//! Units are known by hostname when the substrate gives one, else by IP (a real IAAS machine:
//! network-get has an empty hostname). Either way something must be done after a move:
//! - Valkey and Sentinel listen on the unit's address as it was when they started (`bind`), and
//!   that address no longer exists after a move: nobody, the charm included, reaches them;
//! - Sentinel resolves a hostname once, when it first learns of an instance, and keeps the IP;
//!   known by IP, it holds the old address outright. Either way a moved replica or primary looks
//!   down to it for ever. `SENTINEL RESET` forgets replicas and peers but keeps the primary's
//!   address; so the remedy for all three kinds of entry is a restart from its own file with
//!   every old address replaced by the new one ([`renames`]): by name, a restart resolves the
//!   names again (the file holds no address but `bind`); by IP, the file then names the new ones;
//! - a replica's link to a moved primary is dead without an error until `repl-timeout` (60 s);
//!   known by IP, it must be pointed at the new address ([`primary_moved_to`]).

use crate::observe::{Observed, SentinelView};
use crate::plan::Step;
use crate::valkey::{Endpoint, Role};
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
    let replicaof = primary_moved_to(o);
    steps.push(Step::FollowAddresses { moved, addresses: now, restart_sentinel, replicaof });
    steps
}

/// Old address → new one, for this unit (its files' `bind` against network-get's) and every peer
/// that moved since this unit's Sentinel last (re)started (the record against `ingress-address`).
/// A Sentinel restarted for a move gets these replaced in its file first.
pub fn renames(o: &Observed) -> BTreeMap<String, String> {
    let mut renames = BTreeMap::new();
    if let Some(bind) = &o.bind_address {
        let bound = &o.local.bound;
        for old in [&bound.valkey, &bound.sentinel].into_iter().flatten() {
            if old != bind {
                renames.insert(old.clone(), bind.clone());
            }
        }
    }
    let recorded = o.local.bound.peers.clone().unwrap_or_default();
    for p in &o.peers {
        if let (Some(old), Some(new)) = (recorded.get(&p.name), &p.address) {
            if old != new {
                renames.insert(old.clone(), new.clone());
            }
        }
    }
    renames
}

/// Where this replica must now replicate from, when it follows its primary by an address that
/// moved: `REPLICAOF` the new one (by hostname, the name is unchanged: a reconnect suffices, and
/// this is `None`). Its replication offset carries over: the primary is the same node, so the
/// replica resumes with a partial resync.
pub fn primary_moved_to(o: &Observed) -> Option<Endpoint> {
    let r = o.local.replication.as_ref().filter(|r| r.role == Role::Replica)?;
    let (host, port) = (r.master_host.as_deref()?, r.master_port?);
    let new = renames(o).remove(host)?;
    Some(Endpoint::new(new, port))
}

/// The addresses at which a Sentinel knows a node up (a replica or a peer Sentinel not flagged
/// `s_down` or `o_down`) that no unit this one knows goes by: neither a live unit's name
/// ([`Observed::live_names`]) nor a host it remembers ([`Observed::unit_hosts`], departed units
/// included). Known by IP, that is a peer that moved after this hook's copy of its bag was read:
/// Juju re-reads a peer's settings only in a `-relation-changed` or `-joined` about that peer
/// (`internal/worker/uniter/runner/context/cache.go`), so a hook about anything else, and every
/// exec context, still sees its old `ingress-address` while the Sentinels already reach it at the
/// new one. Such a node is no departed unit: resetting for it waited the full departed-stop wait
/// for a node that never stops, and the hook ran out of time. The `-relation-changed` that brings
/// the new address is still to come, and decides then.
pub fn unconfirmed_addresses(o: &Observed, view: &SentinelView) -> Vec<String> {
    let live = o.live_names();
    let up = |flags: &[String]| !flags.iter().any(|f| matches!(f.as_str(), "s_down" | "o_down"));
    let replicas = view.replicas.iter().filter(|r| up(&r.flags)).map(|r| &r.ip);
    let peers = view.peers.iter().filter(|p| up(&p.flags)).map(|p| &p.ip);
    let mut unknown: Vec<String> = replicas
        .chain(peers)
        .filter(|a| !live.contains(&a.as_str()) && !o.unit_hosts.contains_key(a.as_str()))
        .cloned()
        .collect();
    unknown.sort();
    unknown.dedup();
    unknown
}

#[cfg(test)]
#[path = "readdress_tests.rs"]
mod tests;

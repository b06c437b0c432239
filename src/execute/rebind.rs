//! Address changes, carried out (docs/ha-protocol.md "Address changes"; the decision is
//! `crate::readdress`): move the local services to the unit's new address, and make the local
//! Sentinel and replica let go of a moved peer's old one.

use super::start::write_valkey_conf;
use super::{ExecuteError, Outcome, Ready, SERVICE_UP};
use crate::valkey::{Endpoint, Role};
use crate::workload::{self, bound, Service, MONITOR_NAME};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// How long a replica that reconnected to its primary waits for the link before the hook goes
/// on (best effort: the status says so if it is still down, and a moved primary that has not
/// rebound yet is reached on its own hook).
pub const RELINK_WAIT: Duration = Duration::from_secs(5);
/// How long a restarted Sentinel may take to link the peers its file names (it pings every
/// second; measured here it takes milliseconds).
pub const PEERS_WAIT: Duration = Duration::from_secs(3);

/// [`crate::plan::Step::Rebind`]: idempotent — each service is moved only while its file still
/// names another address, so a pass cut short finishes on the next hook.
pub(super) fn rebind(r: &Ready, address: &str, out: &mut Outcome) -> Result<(), ExecuteError> {
    let (paths, sup) = (r.paths, r.sup);
    let before = workload::read_bound(paths);
    if before.valkey.as_deref().is_some_and(|b| b != address) {
        if sup.is_running(Service::Valkey) {
            let old = before.valkey.as_deref().unwrap_or_default();
            if !rebind_valkey(r, old, address, out)? {
                return Ok(());
            }
        } else {
            // Its next start reads the file: only the bind line must change.
            rewrite_bind(&paths.valkey_conf(), address)?;
        }
    }
    // Read again: moving Valkey without a local socket moves Sentinel first.
    if workload::read_bound(paths).sentinel.as_deref().is_some_and(|b| b != address) {
        restart_sentinel(r, Some(address), out)?;
    }
    let from = before.valkey.or(before.sentinel).unwrap_or_default();
    tracing::info!("moved Valkey and Sentinel from {from} to {address}");
    Ok(())
}

/// Moves a running Valkey without a restart (a restarted primary without persistence would come
/// back empty): `CONFIG SET bind` over its local socket — its old address is gone, so that is the
/// only way in — then a replica reconnects to its primary from the new address, and valkey.conf
/// is rendered again with the node's current replication source. False when it could not be
/// reached (a note says why; the next hook tries again).
fn rebind_valkey(r: &Ready, old: &str, address: &str, out: &mut Outcome) -> Result<bool, ExecuteError> {
    let (e, paths) = (r.e, r.paths);
    let socket = Endpoint::new(paths.valkey_socket().to_string_lossy(), 0);
    let mut node = match e.connector.data(&socket) {
        Ok(node) => node,
        Err(_) => return restart_valkey_elsewhere(r, address, out),
    };
    let had = node.replication()?.replicas.len();
    node.config_set("bind", address)?;
    // Known by IP, it announces its address to its primary (and so to the Sentinels): the new
    // one. (By hostname this sets what it had.)
    node.config_set("replica-announce-ip", r.host)?;
    // Whoever reached it at the old address holds a dead link (replicas of a primary included).
    node.drop_clients_at(old)?;
    let repl = node.replication()?;
    if repl.role == Role::Primary && had > 0 {
        // Its replicas reconnect in their own hooks (they follow the move); wait for them, so the
        // status this hook sets does not report a primary without replicas (best effort).
        let _ = e.deadline.poll(RELINK_WAIT, || {
            let now = e.connector.data(&socket).ok()?.replication().ok()?;
            (now.replicas.iter().filter(|x| x.state == "online").count() >= had).then_some(())
        });
    }
    let primary = match (repl.role, repl.master_host, repl.master_port) {
        (Role::Replica, Some(h), Some(p)) => Some(Endpoint::new(h, p)),
        _ => None,
    };
    if primary.is_some() {
        // Its link left from the old address: dead, silently, until repl-timeout.
        node.reconnect_to_primary()?;
        wait_for_link(r, &socket);
    }
    write_valkey_conf(r, primary.as_ref())?;
    Ok(true)
}

/// A moved Valkey without a local socket (started by an older charm, or a storage path too long
/// for a socket address): restart it on the new address — but never while it may still be the
/// primary, since a primary without persistence would come back empty and its replicas, which
/// reconnect by name, would copy that (valkey-facts.md, "Trap"). So Sentinel is moved first, and
/// Valkey is restarted, as a replica of the primary Sentinel names, only when that primary is
/// another unit; until Sentinel has failed it over (it cannot reach the old address either),
/// the unit waits, and the failover's `primary-changed` hook tries again. The restart goes
/// through the supervisor, so the start-up fence holds it out of elections until it resynced.
fn restart_valkey_elsewhere(r: &Ready, address: &str, out: &mut Outcome) -> Result<bool, ExecuteError> {
    let (e, paths, sup, host) = (r.e, r.paths, r.sup, r.host);
    if workload::read_bound(paths).sentinel.as_deref().is_some_and(|b| b != address) {
        restart_sentinel(r, Some(address), out)?;
    }
    let named = e
        .connector
        .sentinel(&r.my_sentinel())
        .ok()
        .and_then(|mut s| s.primary_addr(MONITOR_NAME).ok().flatten());
    let Some(primary) = named.filter(|p| p.host != host) else {
        out.notes.push(format!(
            "waiting to move Valkey to {address}: no local socket, and it may be the primary (waiting for a failover)"
        ));
        return Ok(false);
    };
    write_valkey_conf(r, Some(&primary))?;
    super::fence::write_restarted_script(paths)?;
    sup.restart(Service::Valkey)?;
    let me = r.me();
    if e.deadline.poll(SERVICE_UP, || e.connector.data(&me).ok()?.ping().ok()).is_none() {
        out.notes.push("waiting for Valkey to answer after a restart".into());
    }
    Ok(true)
}

/// [`crate::plan::Step::FollowAddresses`]: close links from the moved peers' old addresses,
/// reconnect this replica when its primary is among the moved (`REPLICAOF` its new address when
/// known by IP), restart the local Sentinel with the old addresses replaced in its file, record.
pub(super) fn follow_addresses(
    r: &Ready,
    moved: &[String],
    addresses: &BTreeMap<String, String>,
    restart: bool,
    replicaof: Option<&Endpoint>,
    out: &mut Outcome,
) -> Result<(), ExecuteError> {
    let (e, o, paths) = (r.e, r.o, r.paths);
    // Links from a moved peer's old address are dead; a primary would count that replica twice.
    let recorded = o.local.bound.peers.clone().unwrap_or_default();
    let old: Vec<&str> = moved.iter().filter_map(|u| recorded.get(u).map(String::as_str)).collect();
    if !old.is_empty() && o.local.valkey_running {
        let mut node = e.connector.data(&r.me())?;
        for ip in &old {
            node.drop_clients_at(ip)?;
        }
    }
    let moved_hosts: Vec<&str> =
        o.peers.iter().filter(|p| moved.contains(&p.name)).filter_map(|p| p.host.as_deref()).collect();
    let follows_moved = o.local.replication.as_ref().is_some_and(|r| {
        r.role == Role::Replica && r.master_host.as_deref().is_some_and(|h| moved_hosts.contains(&h))
    });
    let me = r.me();
    // Writes wait on the replicas' links: first.
    if let Some(primary) = replicaof {
        // Known by IP: the old address leads nowhere. The same primary, so a partial resync.
        e.connector.data(&me)?.replicaof(Some(primary))?;
        write_valkey_conf(r, Some(primary))?;
    } else if follows_moved {
        e.connector.data(&me)?.reconnect_to_primary()?;
    }
    // Soon: a Sentinel that holds the moved primary's old address calls it down after
    // down-after-milliseconds, and two of them would fail over a primary that is fine.
    if restart {
        restart_sentinel(r, None, out)?;
    }
    if follows_moved || replicaof.is_some() {
        wait_for_link(r, &me);
    }
    bound::write_peer_addresses(paths, addresses)?;
    if !moved.is_empty() {
        tracing::info!("followed moved peers: {}", moved.join(", "));
    }
    Ok(())
}

/// Stops Sentinel, sets its `bind` line when `bind` is given and replaces the old addresses of
/// this unit and its moved peers ([`crate::readdress::renames`]; the rest of the file is
/// Sentinel's own, its config-epoch and run id included), and starts it again if it ran; then
/// gives it the charm's INFO period (runtime only).
fn restart_sentinel(r: &Ready, bind: Option<&str>, out: &mut Outcome) -> Result<(), ExecuteError> {
    let (e, o, paths, sup, host) = (r.e, r.o, r.paths, r.sup, r.host);
    let was_running = sup.is_running(Service::Sentinel);
    if was_running {
        sup.stop(Service::Sentinel)?;
    }
    if let Some(address) = bind {
        rewrite_bind(&paths.sentinel_conf(), address)?;
    }
    let renames = crate::readdress::renames(o);
    if !renames.is_empty() {
        rename_addresses(&paths.sentinel_conf(), &renames)?;
    }
    if !was_running {
        // EnsureServices starts it from the file.
        return Ok(());
    }
    sup.start(Service::Sentinel)?;
    let me = r.my_sentinel();
    if !workload::tuning::tune_started(sup, paths, e.connector, host, e.deadline.cap(SERVICE_UP)) {
        out.notes.push("waiting for Sentinel to answer after a restart".into());
        return Ok(());
    }
    // It knows its peers from its file, but links them anew: give it a moment, so the status
    // this hook sets counts them (best effort; a peer that is down keeps it waiting no longer).
    let _ = e.deadline.poll(PEERS_WAIT, || {
        let peers = e.connector.sentinel(&me).ok()?.sentinels(MONITOR_NAME).ok()?;
        peers.iter().all(|k| !k.is_down()).then_some(())
    });
    Ok(())
}

/// Waits (bounded by [`RELINK_WAIT`]) until the replica at `at` has its link up again.
fn wait_for_link(r: &Ready, at: &Endpoint) {
    let e = r.e;
    let _ =
        e.deadline.poll(RELINK_WAIT, || e.connector.data(at).ok()?.replication().ok()?.link_up.then_some(()));
}

/// Replaces old addresses in a `sentinel.conf` (`bound::with_renamed`).
fn rename_addresses(file: &Path, renames: &BTreeMap<String, String>) -> Result<(), ExecuteError> {
    let text = std::fs::read_to_string(file).map_err(|source| workload::WorkloadError::Io {
        action: "read",
        path: file.to_path_buf(),
        source,
    })?;
    workload::write_private(file, &bound::with_renamed(&text, renames))?;
    Ok(())
}

/// Rewrites only the `bind` line of a config file.
fn rewrite_bind(file: &Path, address: &str) -> Result<(), ExecuteError> {
    let text = std::fs::read_to_string(file).map_err(|source| workload::WorkloadError::Io {
        action: "read",
        path: file.to_path_buf(),
        source,
    })?;
    workload::write_private(file, &bound::with_bind(&text, address))?;
    Ok(())
}

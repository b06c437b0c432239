//! Steps that keep a running unit right: runtime settings and Sentinel resets.

use super::start::write_valkey_conf;
use super::{Effects, ExecuteError, Ready};
use crate::observe::{applied_path, Observed};
use crate::plan::RuntimeSettings;
use crate::valkey::{probe, Endpoint, Role};
use crate::workload::{self, Paths, MONITOR_NAME, SENTINEL_PORT, VALKEY_PORT};

use super::DEPARTED_STOP_WAIT;

/// Before a reset: wait (bounded) until the nodes this Sentinel knows but no live unit announces
/// — departed units — stop answering. A departing unit stops its services in its own hooks, which
/// may run after ours; resetting while they still run would only rediscover them. Only names this
/// unit remembers ([`Observed::unit_hosts`]) are waited for: a node at an address no unit was ever
/// known by is a peer that moved after this hook read its bag, alive at the new address, which
/// would never stop (the plan puts a reset off when it sees one, `plan::due_for_reset`; this
/// covers a Sentinel that learnt the address since).
pub(super) fn wait_for_departed_to_stop(e: &Effects, o: &Observed, s: &mut dyn crate::valkey::SentinelNode) {
    let live = o.live_names();
    let mut gone: Vec<Endpoint> = Vec::new();
    for k in s.sentinels(MONITOR_NAME).unwrap_or_default() {
        gone.push(Endpoint::new(k.ip, k.port));
    }
    for r in s.replicas(MONITOR_NAME).unwrap_or_default() {
        gone.push(Endpoint::new(r.ip, r.port));
    }
    gone.retain(|g| !live.contains(&g.host.as_str()) && o.unit_hosts.contains_key(&g.host));
    if gone.is_empty() {
        return;
    }
    let quiet = e.deadline.poll(DEPARTED_STOP_WAIT, || gone.iter().all(|g| !probe::answers(g)).then_some(()));
    if quiet.is_none() {
        let names: Vec<String> = gone.iter().map(Endpoint::to_string).collect();
        tracing::warn!("resetting although departed nodes still answer: {}", names.join(", "));
    }
}

/// How many Sentinels of started units other than `unit`, and how many data nodes of started
/// units other than the known primary, accept a connection right now. A reset Sentinel can only
/// rediscover those, so its wait expects no more than them.
pub(super) fn still_answering(o: &Observed, unit: &str) -> (u32, u32) {
    let primary = o.known_primary().map(|p| p.host);
    let answers = |host: &str, port: u16| probe::answers(&Endpoint::new(host, port));
    let started: Vec<(&str, &str)> = o
        .units()
        .filter(|u| u.started)
        .filter_map(|u| {
            let host = if u.name == o.me.name { o.announce_host.as_deref() } else { u.host.as_deref() };
            host.map(|h| (u.name.as_str(), h))
        })
        .collect();
    let peers = started.iter().filter(|(n, h)| *n != unit && answers(h, SENTINEL_PORT)).count();
    let replicas =
        started.iter().filter(|(_, h)| primary.as_deref() != Some(*h) && answers(h, VALKEY_PORT)).count();
    (peers as u32, replicas as u32)
}

pub(super) fn remember_applied(paths: &Paths, s: &RuntimeSettings) -> Result<(), ExecuteError> {
    let text = serde_json::to_string_pretty(s).unwrap_or_default();
    workload::write_private(&applied_path(paths), &text)?;
    Ok(())
}

/// [`crate::plan::Step::ApplySettings`]: `CONFIG SET` and `SENTINEL SET`, then valkey.conf
/// rendered again and the settings remembered. `priority`: the plan found the fence lifted, so
/// `replica-priority` is set too.
pub(super) fn apply_settings(r: &Ready, s: &RuntimeSettings, priority: bool) -> Result<(), ExecuteError> {
    let mut node = r.e.connector.data(&r.me())?;
    for (k, v) in &s.valkey {
        if k == "replica-priority" && !priority {
            continue;
        }
        node.config_set(k, v)?;
    }
    let mut sentinel = r.e.connector.sentinel(&r.my_sentinel())?;
    for (k, v) in &s.sentinel {
        sentinel.set(MONITOR_NAME, k, v)?;
    }
    // Re-render valkey.conf so a restart keeps the settings, with the node's replication source as
    // it is now: a step earlier in this pass may have changed it (a moved primary followed by IP).
    let repl = node.replication()?;
    let primary = match (repl.role, repl.master_host, repl.master_port) {
        (Role::Replica, Some(h), Some(p)) => Some(Endpoint::new(h, p)),
        _ => None,
    };
    write_valkey_conf(r, primary.as_ref())?;
    remember_applied(r.paths, s)
}

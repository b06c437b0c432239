//! The start step: render and start Valkey and Sentinel, then wait (bounded) to be linked and
//! discovered before reporting `started`.

use super::upkeep::remember_applied;
use super::{set_own, ExecuteError, Outcome, Ready, SERVICE_UP, START_WAIT};
use crate::peers;
use crate::plan::runtime_settings;
use crate::valkey::{Endpoint, Role};
use crate::workload::{
    self, render_notify_script, render_reconfig_script, render_sentinel_conf, render_valkey_conf, Paths,
    SentinelConf, Service, ValkeyConf, MONITOR_NAME, SENTINEL_PORT, VALKEY_PORT,
};
use std::path::PathBuf;

/// Writes the scripts Sentinel runs: at `+switch-master` (it asks for `primary-changed`) and at
/// every warning-level event (it asks for `services-changed`); returns their paths.
pub(super) fn write_reconfig_script(paths: &Paths) -> Result<(PathBuf, PathBuf), ExecuteError> {
    let script = paths.reconfig_script();
    workload::write_file(&script, &render_reconfig_script(&paths.spool_dir()), 0o700)?;
    let notify = paths.notify_script();
    workload::write_file(&notify, &render_notify_script(&paths.spool_dir()), 0o700)?;
    Ok((script, notify))
}

/// Renders valkey.conf from the observed settings, replicating from `primary` (none: a primary).
pub(super) fn write_valkey_conf(r: &Ready, primary: Option<&Endpoint>) -> Result<(), ExecuteError> {
    let conf = ValkeyConf {
        bind: r.bind,
        announce_host: r.host,
        port: VALKEY_PORT,
        primary: primary.map(|p| (p.host.as_str(), p.port)),
        credentials: r.credentials,
        config: r.config,
        // The plan plans nothing that renders while min-replicas does not fit the deployment
        // (`plan::runtime_settings` fails first and the unit only heals): 0 is never reached.
        min_replicas_to_write: r.config.min_replicas_for(r.o.live_count()).unwrap_or(0),
        paths: r.paths,
    };
    // Client users stay in the file (crate::client::carry): a Valkey started from it serves them.
    let previous = std::fs::read_to_string(r.paths.valkey_conf()).ok();
    let text = crate::client::carry::keep_client_users(render_valkey_conf(&conf), previous.as_deref());
    workload::write_private(&r.paths.valkey_conf(), &text)?;
    Ok(())
}

/// Renders a fresh sentinel.conf monitoring `primary` with `quorum` (and its reconfig script).
/// Only while Sentinel is stopped: a running Sentinel rewrites the file with what it learned.
pub(super) fn write_sentinel_conf(r: &Ready, primary: &Endpoint, quorum: u32) -> Result<(), ExecuteError> {
    let (script, notify) = write_reconfig_script(r.paths)?;
    let conf = SentinelConf {
        bind: r.bind,
        announce_host: r.host,
        port: SENTINEL_PORT,
        primary_host: &primary.host,
        primary_port: primary.port,
        quorum,
        credentials: r.credentials,
        config: r.config,
        paths: r.paths,
        reconfig_script: Some(&script),
        notification_script: Some(&notify),
    };
    workload::write_private(&r.paths.sentinel_conf(), &render_sentinel_conf(&conf))?;
    Ok(())
}

/// [`crate::plan::Step::StartWorkload`]: idempotent, so a start whose wait ran out simply continues
/// on the next hook (running services are kept; sentinel.conf is only written while Sentinel is
/// stopped, because Sentinel rewrites it with what it learned).
pub(super) fn start_workload(
    r: &Ready,
    primary: Option<&Endpoint>,
    quorum: u32,
    out: &mut Outcome,
) -> Result<(), ExecuteError> {
    let (e, o, paths, sup, host) = (r.e, r.o, r.paths, r.sup, r.host);
    paths.create_dirs()?;
    write_valkey_conf(r, primary)?;
    let me = r.me();
    if !sup.is_running(Service::Valkey) {
        super::fence::write_restarted_script(paths)?;
        sup.start(Service::Valkey)?;
    }
    let answered = e.deadline.poll(SERVICE_UP, || e.connector.data(&me).ok()?.ping().ok());
    if answered.is_none() {
        out.notes.push("waiting for Valkey to answer after start".into());
        return Ok(());
    }
    // A retry after the primary moved: point the running node at the current primary.
    if let Some(p) = primary {
        let mut node = e.connector.data(&me)?;
        let repl = node.replication()?;
        if repl.role != Role::Replica || repl.master_host.as_deref() != Some(p.host.as_str()) {
            node.replicaof(Some(p))?;
        }
    }
    if !sup.is_running(Service::Sentinel) {
        let target = primary.cloned().unwrap_or_else(|| me.clone());
        write_sentinel_conf(r, &target, quorum)?;
        sup.start(Service::Sentinel)?;
    }
    // Replica discovery and failover candidate checks ride on Sentinel's INFO period
    // (valkey::SENTINEL_INFO_PERIOD); best effort: the wait below reports a Sentinel that is down.
    workload::tuning::tune_started(sup, paths, e.connector, host, e.deadline.cap(SERVICE_UP));
    e.tools.open_port(VALKEY_PORT)?;
    e.tools.open_port(SENTINEL_PORT)?;
    if let Some(i) = &o.installed {
        e.tools.application_version_set(&i.version)?;
    }
    if let Some(missing) = wait_until_joined(r, primary.is_some()) {
        out.notes.push(missing);
        return Ok(());
    }
    set_own(e, o, &[(peers::STARTED, Some("true".into()))])?;
    if let Ok(s) = runtime_settings(r.config, o.live_count()) {
        remember_applied(paths, &s)?;
    }
    Ok(())
}

/// Waits (bounded) until this unit is linked to its primary and every other started Sentinel
/// lists this unit's Sentinel; returns what is still missing when the time runs out.
fn wait_until_joined(r: &Ready, replica: bool) -> Option<String> {
    let (e, o, host) = (r.e, r.o, r.host);
    let me = r.me();
    let others: Vec<(&str, Endpoint)> = o
        .peers
        .iter()
        .filter(|p| p.started)
        .filter_map(|p| Some((p.name.as_str(), Endpoint::new(p.host.clone()?, SENTINEL_PORT))))
        .collect();
    let mut missing = String::new();
    let ok = e.deadline.poll(START_WAIT, || {
        if replica {
            let linked = e
                .connector
                .data(&me)
                .ok()
                .and_then(|mut n| n.replication().ok())
                .is_some_and(|r| r.role == Role::Replica && r.link_up);
            if !linked {
                missing = "waiting for the replication link to the primary".into();
                return None;
            }
        }
        let mine = Endpoint::new(host, SENTINEL_PORT);
        if e.connector.sentinel(&mine).ok().and_then(|mut s| s.primary(MONITOR_NAME).ok().flatten()).is_none()
        {
            missing = "waiting for the local Sentinel to monitor the primary".into();
            return None;
        }
        for (unit, ep) in &others {
            let seen = e
                .connector
                .sentinel(ep)
                .ok()
                .and_then(|mut s| s.sentinels(MONITOR_NAME).ok())
                .is_some_and(|peers| peers.iter().any(|k| k.ip == host));
            if !seen {
                missing = format!("waiting for {unit}'s sentinel to discover this unit");
                return None;
            }
        }
        Some(())
    });
    ok.is_none().then_some(missing)
}

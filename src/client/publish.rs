//! The leader's answer to every client relation: the primary the local Sentinel names, the
//! started units' hosts, and each request's secrets, written only where they changed.

use super::acl::user_name;
use super::answer::{self, RequestSecrets};
use super::handler::{ClientError, Peers};
use super::request::{self, ClientRequests};
use super::servers::{topology, LocalServers};
use super::users::ClientUser;
use crate::juju::{Context, HookToolError, HookTools};
use std::collections::BTreeMap;

/// Writes every relation's answer (only what changed).
pub(super) fn answer_all(
    ctx: &Context,
    tools: &dyn HookTools,
    servers: &dyn LocalServers,
    peers: &Peers,
    relations: &[String],
    published: &[ClientUser],
) -> Result<(), ClientError> {
    if relations.is_empty() {
        return Ok(());
    }
    let primary = match servers.primary_host() {
        Ok(Some(p)) => p,
        Ok(None) | Err(_) => return Ok(()),
    };
    let Ok(version) = servers.valkey_version() else { return Ok(()) };
    let mut hosts: Vec<String> = std::iter::once(&peers.me)
        .chain(peers.others.iter().map(|(p, _)| p))
        .filter(|p| p.started)
        .filter_map(|p| p.host.clone())
        .collect();
    hosts.sort();
    let t = topology(primary, &hosts, version);
    for rid in relations {
        let Some(app) = remote_app(tools, rid)? else { continue };
        let Ok(Some(requests)) = request::parse(&tools.relation_get_app(rid, &app)?) else { continue };
        let Some(secrets) = secrets_of(rid, &requests, published) else { continue };
        // Juju deletes a key set to "" (no replica yet: no read-only-endpoints), so compare without.
        let mut want = answer::render(&requests, &t, &secrets);
        want.retain(|_, v| !v.is_empty());
        let have = tools.relation_get_app(rid, &ctx.app)?;
        let mut changes: BTreeMap<String, Option<String>> = BTreeMap::new();
        for (k, v) in &want {
            if have.get(k) != Some(v) {
                changes.insert(k.clone(), Some(v.clone()));
            }
        }
        for k in have.keys().filter(|k| !want.contains_key(*k)) {
            changes.insert(k.clone(), None);
        }
        if !changes.is_empty() {
            tools.relation_set(rid, true, &changes)?;
        }
    }
    Ok(())
}

/// The remote application of a relation: the application part of its first unit.
pub(super) fn remote_app(tools: &dyn HookTools, rid: &str) -> Result<Option<String>, HookToolError> {
    Ok(tools.relation_list(rid)?.first().and_then(|u| u.split('/').next()).map(str::to_string))
}

/// Each request's secrets, once every request has its published user.
fn secrets_of(rid: &str, requests: &ClientRequests, published: &[ClientUser]) -> Option<Vec<RequestSecrets>> {
    requests
        .requests
        .iter()
        .map(|r| {
            let name = user_name(rid, &r.request_id);
            published
                .iter()
                .find(|u| u.name == name)
                .map(|u| RequestSecrets { user: u.secret.clone(), tls: u.tls_secret.clone() })
        })
        .collect()
}

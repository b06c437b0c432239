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
    let version = match servers.valkey_version() {
        Ok(v) => v,
        // The local Valkey is down: the version published before is still the deployment's.
        Err(_) => match previous_version(ctx, tools, relations)? {
            Some(v) => v,
            None => return Ok(()),
        },
    };
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

/// The Valkey version an earlier answer published (v1: in each request; v0: `version`).
fn previous_version(
    ctx: &Context,
    tools: &dyn HookTools,
    relations: &[String],
) -> Result<Option<String>, HookToolError> {
    for rid in relations {
        let bag = tools.relation_get_app(rid, &ctx.app)?;
        let found = match bag.get(request::VERSION_KEY).map(String::as_str) {
            Some(request::V1) => bag
                .get(request::REQUESTS_KEY)
                .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
                .and_then(|v| v[0][request::VERSION_KEY].as_str().map(str::to_string)),
            other => other.map(str::to_string),
        };
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
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

//! The client relation's effects, run after the ordinary reconcile of every hook but
//! update-status (`crate::charm`):
//!
//! 1. **Leader, on the relation's own hooks**: a `-joined`/`-changed` reads the requests, makes a
//!    password secret and a TLS secret per new request (granted to the relation) and publishes
//!    the user set in the peer app bag; a `-broken` (or a `-departed` that leaves no remote unit)
//!    drops the relation's users from the set, revokes and removes their secrets. A bad request is
//!    refused with its reason in the log and the application status, and changes nothing.
//! 2. **Every unit**: converges its own Valkey's and Sentinel's client users to the published set
//!    (passwords read from the secrets, set as hashes), persists them, and acknowledges the set's
//!    fingerprint in its peer unit bag.
//! 3. **Leader**: answers each relation once every started unit acknowledged the current set, with
//!    the primary the local Sentinel names — so after a failover (`primary-changed`) the next pass
//!    rewrites `endpoints`.

use super::acl::user_name;
use super::answer::{secret_label, tls_secret, user_secret};
use super::converge::converge;
use super::publish::{answer_all, remote_app};
use super::request::{self, RequestError};
use super::servers::LocalServers;
use super::users::{self, ClientUser, CLIENT_USERS_APPLIED_KEY, CLIENT_USERS_KEY};
use super::ENDPOINT;
use crate::juju::{Bag, Context, Event, HookToolError, HookTools, LogLevel, RelationHook, StatusKind};
use crate::peers::{PeerUnit, ENDPOINT as PEER_ENDPOINT};
use crate::secrets::generate_password;
use std::collections::BTreeMap;

/// What can end the client pass early (the hook then fails and Juju retries it).
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// A hook tool failed.
    #[error(transparent)]
    Tool(#[from] HookToolError),
    /// A user's secret is gone or has no password.
    #[error("client user {user}: its secret {uri} has no password")]
    MissingPassword {
        /// The user.
        user: String,
        /// The secret.
        uri: String,
    },
}

/// The peer relation as this pass sees it.
pub(super) struct Peers {
    /// The peer relation id.
    pub(super) rid: String,
    /// The peer app bag.
    pub(super) app_bag: Bag,
    /// This unit.
    pub(super) me: PeerUnit,
    /// This unit's peer bag.
    pub(super) own_bag: Bag,
    /// The other units and their bags.
    pub(super) others: Vec<(PeerUnit, Bag)>,
}

fn read_peers(ctx: &Context, tools: &dyn HookTools) -> Result<Option<Peers>, HookToolError> {
    let Some(rid) = tools.relation_ids(PEER_ENDPOINT)?.into_iter().next() else { return Ok(None) };
    let app_bag = tools.relation_get_app(&rid, &ctx.app)?;
    let own_bag = tools.relation_get_unit(&rid, &ctx.unit)?;
    Ok(Some(Peers { me: PeerUnit::from_bag(&ctx.unit, &own_bag), rid, app_bag, own_bag, others: Vec::new() }))
}

/// The other units' bags (read only when there is client work to do).
fn read_others(tools: &dyn HookTools, rid: &str) -> Result<Vec<(PeerUnit, Bag)>, HookToolError> {
    let mut others = Vec::new();
    for name in tools.relation_list(rid)? {
        let bag = tools.relation_get_unit(rid, &name)?;
        others.push((PeerUnit::from_bag(&name, &bag), bag));
    }
    Ok(others)
}

/// Runs the client pass for `event` (see the module docs).
pub fn run(
    ctx: &Context,
    event: &Event,
    tools: &dyn HookTools,
    servers: &dyn LocalServers,
) -> Result<(), ClientError> {
    let relations = tools.relation_ids(ENDPOINT)?;
    let Some(mut peers) = read_peers(ctx, tools)? else { return Ok(()) };
    let before = users::read(peers.app_bag.get(CLIENT_USERS_KEY).map(String::as_str));
    if before.is_empty() && relations.is_empty() && !peers.own_bag.contains_key(CLIENT_USERS_APPLIED_KEY) {
        return Ok(());
    }
    peers.others = read_others(tools, &peers.rid)?;
    let leader = tools.is_leader()?;
    let mut published = before.clone();
    if leader {
        published = update_users(ctx, event, tools, &relations, published)?;
        if published != before {
            let value = Some(users::write(&published));
            tools.relation_set(&peers.rid, true, &BTreeMap::from([(CLIENT_USERS_KEY.to_string(), value)]))?;
        }
    }
    let applied = converge(tools, servers, &published)?;
    let fingerprint = users::fingerprint(&published);
    // An empty set is acknowledged by removing the key, so hooks without clients skip this pass.
    let ack = (!published.is_empty()).then(|| fingerprint.clone());
    if applied && peers.own_bag.get(CLIENT_USERS_APPLIED_KEY) != ack.as_ref() {
        tools.relation_set(
            &peers.rid,
            false,
            &BTreeMap::from([(CLIENT_USERS_APPLIED_KEY.to_string(), ack)]),
        )?;
    }
    if leader {
        show_refusals(ctx, tools, &relations)?;
    }
    // The leader's own servers may be down (its Valkey was the primary that just died): its
    // acknowledgement from an earlier hook still counts, so endpoints follow the new primary.
    let mine = applied || peers.own_bag.get(CLIENT_USERS_APPLIED_KEY) == Some(&fingerprint);
    if leader && mine {
        let everyone = peers
            .others
            .iter()
            .filter(|(p, _)| p.started)
            .all(|(_, bag)| bag.get(CLIENT_USERS_APPLIED_KEY) == Some(&fingerprint));
        if everyone {
            answer_all(ctx, tools, servers, &peers, &relations, &published)?;
        }
    }
    Ok(())
}

/// The leader's new user set after `event`.
fn update_users(
    ctx: &Context,
    event: &Event,
    tools: &dyn HookTools,
    relations: &[String],
    mut published: Vec<ClientUser>,
) -> Result<Vec<ClientUser>, ClientError> {
    let this = ctx.relation_id.as_deref().filter(|r| r.starts_with(&format!("{ENDPOINT}:")));
    if let (Event::ClientRelation(hook), Some(rid)) = (event, this) {
        // In `-departed` the departing unit has already left relation-list (Juju's
        // `internal/worker/uniter/runner/context/contextfactory.go` drops it from the cache), so
        // an empty list means the client application has no unit left in the relation.
        let gone = match hook {
            RelationHook::Broken => true,
            RelationHook::Departed => tools.relation_list(rid)?.is_empty(),
            _ => false,
        };
        if gone {
            published = forget(tools, rid, published)?;
        } else if let Some(app) = &ctx.remote_app {
            published = accept(tools, rid, app, published)?;
        }
    }
    // A relation broken while no leader ran its hook: its users go too.
    let stale: Vec<String> =
        published.iter().map(|u| u.relation.clone()).filter(|r| !relations.contains(r)).collect();
    for rid in stale {
        published = forget(tools, &rid, published)?;
    }
    Ok(published)
}

/// The relation's requests turned into users (new ones get fresh secrets); a bad request leaves
/// everything as it was and says why.
fn accept(
    tools: &dyn HookTools,
    rid: &str,
    app: &str,
    published: Vec<ClientUser>,
) -> Result<Vec<ClientUser>, ClientError> {
    let bag = tools.relation_get_app(rid, app)?;
    let requests = match request::parse(&bag) {
        Ok(Some(r)) => r,
        Ok(None) => return Ok(published),
        Err(e) => {
            refuse(tools, rid, app, &e);
            return Ok(published);
        }
    };
    let mut now = Vec::new();
    for r in &requests.requests {
        let name = user_name(rid, &r.request_id);
        if let Some(existing) = published.iter().find(|u| u.name == name) {
            now.push(existing.clone());
            continue;
        }
        let label = |group| secret_label(ENDPOINT, rid, r, requests.protocol, group);
        let secret = tools.secret_add(&label("user"), &user_secret(&name, &generate_password()))?;
        let tls = tools.secret_add(&label("tls"), &tls_secret())?;
        tools.secret_grant(&secret, rid)?;
        tools.secret_grant(&tls, rid)?;
        now.push(ClientUser {
            name,
            scope: r.scope.clone(),
            secret,
            tls_secret: tls,
            relation: rid.to_string(),
        });
    }
    // Requests the client withdrew lose their user and secrets.
    let dropped: Vec<ClientUser> =
        published.iter().filter(|u| u.relation == rid && !now.contains(u)).cloned().collect();
    remove_secrets(tools, rid, &dropped);
    Ok(users::replace_relation(&published, rid, now))
}

/// update-status, which skips the client pass: the leader shows the refused requests again over
/// the status its reconcile just recomputed, so a refusal stays visible until the requirer fixes
/// its request (then the relation's own `-changed` hook serves it and shows it no more). Reads
/// only, served from the hook snapshot (`crate::snapshot`) when nothing changed.
pub fn keep_refusals_shown(ctx: &Context, tools: &dyn HookTools) -> Result<(), ClientError> {
    let relations = tools.relation_ids(ENDPOINT)?;
    if relations.is_empty() || !tools.is_leader()? {
        return Ok(());
    }
    show_refusals(ctx, tools, &relations)
}

/// Shows every relation whose requests are refused in the application status again, since the
/// ordinary reconcile of this hook has just recomputed it (the relation's own hook logged it).
fn show_refusals(ctx: &Context, tools: &dyn HookTools, relations: &[String]) -> Result<(), ClientError> {
    let skip = matches!(ctx.relation_id.as_deref(), Some(r) if r.starts_with(&format!("{ENDPOINT}:")));
    for rid in relations.iter().filter(|r| !(skip && ctx.relation_id.as_deref() == Some(r.as_str()))) {
        let Some(app) = remote_app(tools, rid)? else { continue };
        if let Err(e) = request::parse(&tools.relation_get_app(rid, &app)?) {
            let _ = tools.status_set(StatusKind::Blocked, &refusal(rid, &app, &e), true);
        }
    }
    Ok(())
}

fn refusal(rid: &str, app: &str, e: &RequestError) -> String {
    format!("{rid} ({app}): request refused: {e}")
}

/// Logs a refused request and shows it in the application status.
fn refuse(tools: &dyn HookTools, rid: &str, app: &str, e: &RequestError) {
    let message = refusal(rid, app, e);
    let _ = tools.log(LogLevel::Error, &message);
    let _ = tools.status_set(StatusKind::Blocked, &message, true);
}

/// Drops relation `rid`'s users, revoking and removing their secrets.
fn forget(
    tools: &dyn HookTools,
    rid: &str,
    published: Vec<ClientUser>,
) -> Result<Vec<ClientUser>, ClientError> {
    let gone: Vec<ClientUser> = published.iter().filter(|u| u.relation == rid).cloned().collect();
    remove_secrets(tools, rid, &gone);
    Ok(users::replace_relation(&published, rid, Vec::new()))
}

/// Revokes and removes the users' secrets; one already gone is no error (a repeated hook).
fn remove_secrets(tools: &dyn HookTools, rid: &str, users: &[ClientUser]) {
    for u in users {
        for uri in [&u.secret, &u.tls_secret] {
            let _ = tools.secret_revoke(uri, rid);
            if let Err(e) = tools.secret_remove(uri) {
                let _ = tools.log(LogLevel::Warning, &format!("removing {uri} of {}: {e}", u.name));
            }
        }
    }
}

#[cfg(test)]
#[path = "handler_tests.rs"]
mod tests;

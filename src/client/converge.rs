//! Every unit's half of the client relation: make the local Valkey and Sentinel hold exactly the
//! published client users (passwords read from their secrets, set as hashes), then persist them.

use super::acl::{sentinel_setuser, valkey_setuser};
use super::handler::ClientError;
use super::servers::LocalServers;
use super::users::{self, ClientUser};
use crate::juju::{HookTools, LogLevel, SecretRef};
use crate::valkey::ValkeyError;
use crate::workload::acl_hash;

/// Makes the local Valkey and Sentinel hold exactly the published client users; `Ok(false)` when
/// a server was unreachable (the next hook tries again).
pub(super) fn converge(
    tools: &dyn HookTools,
    servers: &dyn LocalServers,
    published: &[ClientUser],
) -> Result<bool, ClientError> {
    let mut wanted: Vec<(ClientUser, String, String)> = Vec::new();
    let mut all = true;
    for u in published {
        let content = tools.secret_get(&SecretRef::Id(u.secret.clone()), false)?;
        match content.and_then(|c| c.get("password").cloned()).filter(|p| !p.is_empty()) {
            Some(password) => wanted.push((u.clone(), acl_hash(&password), password)),
            None => {
                // The leader removed it with its relation and the new set has not reached this
                // unit yet: the user goes (as it will with the new set); acknowledge nothing.
                let e = ClientError::MissingPassword { user: u.name.clone(), uri: u.secret.clone() };
                let _ = tools.log(LogLevel::Warning, &e.to_string());
                all = false;
            }
        }
    }
    let names: Vec<String> = wanted.iter().map(|(u, _, _)| u.name.clone()).collect();
    for sentinel in [false, true] {
        match converge_one(servers, sentinel, &wanted, &names) {
            Ok(()) => {}
            Err(e) => {
                all = false;
                let _ = tools.log(LogLevel::Warning, &format!("client users not converged yet: {e}"));
            }
        }
    }
    Ok(all)
}

fn converge_one(
    servers: &dyn LocalServers,
    sentinel: bool,
    wanted: &[(ClientUser, String, String)],
    names: &[String],
) -> Result<(), ValkeyError> {
    let mut node = servers.acl(sentinel)?;
    let listed = users::parse_acl_list(&node.list()?);
    let hashed: Vec<(ClientUser, String)> = wanted.iter().map(|(u, h, _)| (u.clone(), h.clone())).collect();
    let changes = users::changes(&hashed, &listed);
    for u in &changes.set {
        let password =
            wanted.iter().find(|(w, _, _)| w.name == u.name).map(|(_, _, p)| p.as_str()).unwrap_or("");
        let args = if sentinel {
            sentinel_setuser(&u.name, password)
        } else {
            valkey_setuser(&u.name, password, &u.scope)
        };
        node.setuser(&args)?;
    }
    for name in &changes.delete {
        node.deluser(name)?;
    }
    if !changes.is_empty() || !servers.persisted(sentinel, names) {
        node.persist()?;
    }
    Ok(())
}

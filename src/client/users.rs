//! Pure: the client users every unit must have, as the leader publishes them in the peer app bag
//! (names, scopes and the URIs of the secrets holding their passwords — never a password), and
//! what one server must change to match.

use super::acl::is_client_user;
use super::request::Scope;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Peer app bag key of the published user set (a JSON list of [`ClientUser`]).
pub const CLIENT_USERS_KEY: &str = "client-users";
/// Peer unit bag key: the [`fingerprint`] of the set this unit's Valkey and Sentinel hold.
pub const CLIENT_USERS_APPLIED_KEY: &str = "client-users-applied";

/// One client user, as published.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ClientUser {
    /// `relation-<n>-<request id>`.
    pub name: String,
    /// What it may reach.
    pub scope: Scope,
    /// URI of the app-owned secret with its `password` (units of this application may read it).
    pub secret: String,
    /// URI of the request's TLS secret (granted with the user secret, removed with it).
    pub tls_secret: String,
    /// The relation it serves (`valkey-client:<n>`), so its departure removes exactly its users.
    pub relation: String,
}

/// The published set from the peer app bag; an unreadable value counts as empty (the leader
/// rewrites it on its next client hook).
pub fn read(value: Option<&str>) -> Vec<ClientUser> {
    value.and_then(|v| serde_json::from_str(v).ok()).unwrap_or_default()
}

/// The peer app bag value for `users` (sorted, so an unchanged set writes the same text).
pub fn write(users: &[ClientUser]) -> String {
    let mut sorted = users.to_vec();
    sorted.sort();
    serde_json::to_string(&sorted).expect("plain data serialises")
}

/// `users` with relation `relation`'s users replaced by `now`.
pub fn replace_relation(users: &[ClientUser], relation: &str, now: Vec<ClientUser>) -> Vec<ClientUser> {
    let mut out: Vec<ClientUser> = users.iter().filter(|u| u.relation != relation).cloned().collect();
    out.extend(now);
    out.sort();
    out
}

/// A short fingerprint of a published set (first 16 hex of the SHA-256 of [`write()`]'s text): what
/// a unit acknowledges in its peer bag once its servers hold exactly these users.
pub fn fingerprint(users: &[ClientUser]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(write(users).as_bytes()).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// What a server must change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AclChanges {
    /// Users to (re)set: missing, or present with another password hash.
    pub set: Vec<ClientUser>,
    /// Client users present that nobody asks for any more.
    pub delete: Vec<String>,
}

impl AclChanges {
    /// Nothing to do.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.delete.is_empty()
    }
}

/// Compares `wanted` (with each user's password hash) to `listed` (`ACL LIST` lines by user
/// name). The charm's own users are never touched: only names with the client prefix are deleted.
pub fn changes(wanted: &[(ClientUser, String)], listed: &BTreeMap<String, String>) -> AclChanges {
    let set = wanted
        .iter()
        .filter(|(u, hash)| !listed.get(&u.name).is_some_and(|line| line.split(' ').any(|w| w == hash)))
        .map(|(u, _)| u.clone())
        .collect();
    let delete = listed
        .keys()
        .filter(|name| is_client_user(name) && !wanted.iter().any(|(u, _)| &u.name == *name))
        .cloned()
        .collect();
    AclChanges { set, delete }
}

/// `ACL LIST` lines (`user <name> <rules…>`) by name.
pub fn parse_acl_list(lines: &[String]) -> BTreeMap<String, String> {
    lines
        .iter()
        .filter_map(|l| {
            let rest = l.strip_prefix("user ")?;
            let name = rest.split(' ').next()?;
            Some((name.to_string(), l.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, relation: &str) -> ClientUser {
        ClientUser {
            name: name.into(),
            scope: Scope::Prefix("app".into()),
            secret: format!("secret:{name}"),
            tls_secret: format!("secret:{name}-tls"),
            relation: relation.into(),
        }
    }

    #[test]
    fn published_set_round_trips_and_relations_are_replaced_alone() {
        let a = user("relation-1-a", "valkey-client:1");
        let b = user("relation-2-b", "valkey-client:2");
        let text = write(&[b.clone(), a.clone()]);
        assert_eq!(read(Some(&text)), vec![a.clone(), b.clone()]);
        assert!(read(Some("not json")).is_empty());
        assert!(!text.contains("password"));
        let c = user("relation-1-c", "valkey-client:1");
        assert_eq!(
            replace_relation(&[a.clone(), b.clone()], "valkey-client:1", vec![c.clone()]),
            vec![c, b.clone()]
        );
        assert_eq!(replace_relation(&[a, b.clone()], "valkey-client:1", vec![]), vec![b]);
    }

    #[test]
    fn changes_set_missing_and_stale_users_and_delete_only_client_users() {
        let listed = parse_acl_list(&[
            "user charm-admin on #aaa ~* &* +@all".into(),
            "user default off resetchannels -@all".into(),
            "user relation-1-a on #h1 ~app:* &app:* -@all".into(),
            "user relation-1-b on #old ~app:* -@all".into(),
            "user relation-9-gone on #h9 -@all".into(),
        ]);
        let wanted = vec![
            (user("relation-1-a", "valkey-client:1"), "#h1".to_string()),
            (user("relation-1-b", "valkey-client:1"), "#new".to_string()),
            (user("relation-2-c", "valkey-client:2"), "#h2".to_string()),
        ];
        let got = changes(&wanted, &listed);
        let set: Vec<&str> = got.set.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(set, ["relation-1-b", "relation-2-c"]);
        assert_eq!(got.delete, ["relation-9-gone"]);
        let done = changes(&wanted[..1], &parse_acl_list(&["user relation-1-a on #h1".into()]));
        assert!(done.is_empty());
    }
}

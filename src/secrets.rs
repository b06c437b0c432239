//! The passwords: generated once by the leader, kept in an application-owned Juju secret whose URI
//! sits in the peer app bag. They never go into relation data, any process's argv or logs
//! ([`Credentials`]' `Debug` redacts them): `secret-add`/`secret-set` get them as
//! `key#file=PATH` from 0600 files removed after the call (`juju::secret_files`).

use crate::juju::{Bag, HookToolError, HookTools, SecretRef};
use crate::peers::{AppData, SECRET_ID};
use crate::workload::{Credentials, ADMIN_USER, REPLICATION_USER, SENTINEL_USER};
use std::collections::BTreeMap;

/// Label of the secret (the owner can look it up by label even before the app bag is readable).
pub const SECRET_LABEL: &str = "valkey-passwords";
/// Secret key of the admin password.
pub const ADMIN_KEY: &str = "admin-password";
/// Secret key of the replication password.
pub const REPLICATION_KEY: &str = "replication-password";
/// Secret key of the Sentinel password.
pub const SENTINEL_KEY: &str = "sentinel-password";

/// Why the passwords could not be had.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// A hook tool failed.
    #[error(transparent)]
    Tool(#[from] HookToolError),
    /// The secret exists but lacks a key (edited by hand?).
    #[error("secret {uri} has no {key}")]
    Incomplete {
        /// The secret.
        uri: String,
        /// The missing key.
        key: &'static str,
    },
}

/// A fresh password: 32 random bytes from the OS generator, hex-encoded (64 characters, safe in
/// config files).
pub fn generate_password() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Three fresh passwords.
pub fn generate() -> Credentials {
    Credentials {
        admin: generate_password(),
        replication: generate_password(),
        sentinel: generate_password(),
    }
}

/// The secret's content for `c`.
pub fn to_bag(c: &Credentials) -> Bag {
    BTreeMap::from([
        (ADMIN_KEY.to_string(), c.admin.clone()),
        (REPLICATION_KEY.to_string(), c.replication.clone()),
        (SENTINEL_KEY.to_string(), c.sentinel.clone()),
    ])
}

/// Credentials from the secret's content.
pub fn from_bag(uri: &str, bag: &Bag) -> Result<Credentials, SecretError> {
    let get = |key: &'static str| {
        bag.get(key)
            .filter(|v| !v.is_empty())
            .cloned()
            .ok_or(SecretError::Incomplete { uri: uri.into(), key })
    };
    Ok(Credentials {
        admin: get(ADMIN_KEY)?,
        replication: get(REPLICATION_KEY)?,
        sentinel: get(SENTINEL_KEY)?,
    })
}

/// The password of an ACL user, for get-password.
pub fn password_of<'a>(c: &'a Credentials, user: &str) -> Option<&'a str> {
    match user {
        u if u == ADMIN_USER => Some(&c.admin),
        u if u == REPLICATION_USER => Some(&c.replication),
        u if u == SENTINEL_USER => Some(&c.sentinel),
        _ => None,
    }
}

/// The passwords, if they exist and this unit can read them: through the URI the leader
/// published in the peer app bag, or (the leader) by the secret's label. Changes nothing.
pub fn read(tools: &dyn HookTools, leader: bool, app: &AppData) -> Result<Option<Credentials>, SecretError> {
    if let Some(uri) = &app.secret_id {
        if let Some(bag) = tools.secret_get(&SecretRef::Id(uri.clone()), false)? {
            return from_bag(uri, &bag).map(Some);
        }
    }
    if !leader {
        return Ok(None);
    }
    // The URI is unknown here; a label lookup is enough for the leader, others need the URI,
    // which only a fresh secret gives us. Recreate nothing: publish nothing new.
    match tools.secret_get(&SecretRef::Label(SECRET_LABEL.into()), false)? {
        Some(bag) => from_bag(SECRET_LABEL, &bag).map(Some),
        None => Ok(None),
    }
}

/// The leader's first hook: new passwords in a new secret owned by the application, its URI
/// published in the peer app bag for the other units (`Step::CreatePasswords`). Juju lets the
/// hook that created a secret read it only through the value it generated; the hook-tool layer
/// (`crate::snapshot`) mirrors it, so the loop's next pass reads the passwords back.
pub fn create(tools: &dyn HookTools, relation_id: &str) -> Result<Credentials, HookToolError> {
    let creds = generate();
    let uri = tools.secret_add(SECRET_LABEL, &to_bag(&creds))?;
    let changes = BTreeMap::from([(SECRET_ID.to_string(), Some(uri))]);
    tools.relation_set(relation_id, true, &changes)?;
    Ok(creds)
}

/// [`read`], or for the leader [`create`] when none exist (the `get-password` action, which
/// may run before any hook created them).
pub fn ensure(
    tools: &dyn HookTools,
    leader: bool,
    relation_id: &str,
    app: &AppData,
) -> Result<Option<Credentials>, SecretError> {
    match read(tools, leader, app)? {
        Some(c) => Ok(Some(c)),
        None if leader => Ok(Some(create(tools, relation_id)?)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::juju::fake::FakeHookTools;

    #[test]
    fn passwords_are_long_random_hex() {
        let a = generate_password();
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, generate_password());
    }

    #[test]
    fn leader_creates_once_and_publishes_the_uri() {
        let tools = FakeHookTools::new("valkey/0").leader(true);
        let rid = "valkey-peers:0";
        let created = ensure(&tools, true, rid, &AppData::default()).unwrap().expect("created");
        let app = AppData::from_bag(&tools.app_bag_now());
        assert!(app.secret_id.as_deref().is_some_and(|u| u.starts_with("secret:")), "uri published");
        assert_eq!(tools.secrets().len(), 1);
        let again = ensure(&tools, true, rid, &app).unwrap().unwrap();
        assert_eq!(again, created);
        assert_eq!(tools.secrets().len(), 1, "no second secret");
        assert!(!format!("{created:?}").contains(&created.admin), "Debug must redact");
        assert!(tools.logs().iter().all(|(_, l)| !l.contains(&created.admin)));
        assert_eq!(password_of(&again, "charm-admin"), Some(created.admin.as_str()));
        assert_eq!(password_of(&again, "nobody"), None);
    }

    #[test]
    fn non_leader_reads_or_waits() {
        let creds = generate();
        let tools = FakeHookTools::new("valkey/1").secret("secret:pw", SECRET_LABEL, to_bag(&creds));
        let app = AppData { secret_id: Some("secret:pw".into()), ..Default::default() };
        assert_eq!(ensure(&tools, false, "valkey-peers:0", &app).unwrap(), Some(creds));
        assert_eq!(ensure(&tools, false, "valkey-peers:0", &AppData::default()).unwrap(), None);
        let broken = FakeHookTools::new("valkey/1").secret("secret:pw", SECRET_LABEL, Bag::new());
        assert!(matches!(
            ensure(&broken, false, "valkey-peers:0", &app),
            Err(SecretError::Incomplete { key: ADMIN_KEY, .. })
        ));
    }
}

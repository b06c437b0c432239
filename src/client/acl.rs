//! Pure: the ACL user of a client request and its rules on Valkey and on Sentinel.
//!
//! Rules are rendered as the argument list of `ACL SETUSER`, starting with `reset` so that
//! setting a user twice gives the same user (idempotent), with the password as its SHA-256 hash
//! (`#…`) so the plaintext never reaches a server's config file.
//!
//! Measured on Valkey 9.1.2 with `ACL DRYRUN` (docs/client-relation.md): the categories the
//! data-platform charms grant (`+@read +@write +@keyspace +@pubsub +@transaction`) also hold
//! `FLUSHALL`, `FLUSHDB`, `SWAPDB`, `FUNCTION FLUSH` (no key argument, so the key pattern does not
//! stop them), `SCAN`/`RANDOMKEY`/`DBSIZE`/`PUBSUB CHANNELS` (names and counts of other clients'
//! keys and channels) and `MOVE`. They are taken away again (`-@dangerous -@scripting` and the
//! named commands); `INFO` is `@dangerous` too, so `+info` comes after.

use super::request::Scope;
use crate::workload::acl_hash;

/// Prefix of every client user's name; the charm's own users never start with it, so a unit may
/// delete any user with it that is not in the published set.
pub const USER_PREFIX: &str = "relation-";

/// What a client may run on Valkey, after its key and channel patterns.
pub const VALKEY_CLIENT_RULES: &[&str] = &[
    "-@all",
    "+@read",
    "+@write",
    "+@keyspace",
    "+@pubsub",
    "+@transaction",
    "-@dangerous",
    "-@scripting",
    "-scan",
    "-randomkey",
    "-dbsize",
    "-move",
    "-pubsub|channels",
    "-pubsub|shardchannels",
    "-pubsub|numpat",
    "+info",
    "+ping",
];

/// What a client may run on a Sentinel: discovery only.
pub const SENTINEL_CLIENT_RULES: &[&str] = &[
    "-@all",
    "+auth",
    "+client",
    "+command",
    "+hello",
    "+ping",
    "+role",
    "+sentinel|get-master-addr-by-name",
    "+sentinel|master",
    "+sentinel|masters",
    "+sentinel|replicas",
    "+sentinel|sentinels",
];

/// `relation-<n>-<request id>` for relation `valkey-client:<n>`.
pub fn user_name(relation_id: &str, request_id: &str) -> String {
    let n = relation_id.rsplit(':').next().unwrap_or(relation_id);
    format!("{USER_PREFIX}{n}-{request_id}")
}

/// Whether `name` is a client user (and so the client convergence's to manage).
pub fn is_client_user(name: &str) -> bool {
    name.starts_with(USER_PREFIX)
}

/// `ACL SETUSER <name> …` arguments on Valkey: keys and channels of `scope` only.
pub fn valkey_setuser(name: &str, password: &str, scope: &Scope) -> Vec<String> {
    let pattern = scope.pattern();
    let mut args = vec![
        name.to_string(),
        "reset".into(),
        "on".into(),
        acl_hash(password),
        format!("~{pattern}"),
        format!("&{pattern}"),
    ];
    args.extend(VALKEY_CLIENT_RULES.iter().map(|r| r.to_string()));
    args
}

/// `ACL SETUSER <name> …` arguments on Sentinel: no keys, discovery commands only.
pub fn sentinel_setuser(name: &str, password: &str) -> Vec<String> {
    let mut args = vec![name.to_string(), "reset".into(), "on".into(), acl_hash(password)];
    args.extend(SENTINEL_CLIENT_RULES.iter().map(|r| r.to_string()));
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_follow_the_relation_and_the_request() {
        assert_eq!(user_name("valkey-client:7", "4dfb8bf370329834"), "relation-7-4dfb8bf370329834");
        assert!(is_client_user("relation-7-4dfb8bf370329834"));
        assert!(!is_client_user("charm-admin"));
    }

    #[test]
    fn valkey_rules_golden() {
        let hash = acl_hash("pw");
        let got = valkey_setuser("relation-7-abc", "pw", &Scope::Prefix("app".into())).join(" ");
        let want = format!(
            "relation-7-abc reset on {hash} ~app:* &app:* -@all +@read +@write +@keyspace +@pubsub \
             +@transaction -@dangerous -@scripting -scan -randomkey -dbsize -move -pubsub|channels \
             -pubsub|shardchannels -pubsub|numpat +info +ping"
        );
        assert_eq!(got, want);
        assert!(!got.contains(" pw"), "only the hash");
        let all = valkey_setuser("relation-7-abc", "pw", &Scope::All);
        assert_eq!(all[4..6], ["~*".to_string(), "&*".to_string()]);
    }

    #[test]
    fn sentinel_rules_golden() {
        let hash = acl_hash("pw");
        assert_eq!(
            sentinel_setuser("relation-7-abc", "pw").join(" "),
            format!(
                "relation-7-abc reset on {hash} -@all +auth +client +command +hello +ping +role \
                 +sentinel|get-master-addr-by-name +sentinel|master +sentinel|masters \
                 +sentinel|replicas +sentinel|sentinels"
            )
        );
    }
}

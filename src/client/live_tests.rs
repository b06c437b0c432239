//! The client users against a real Valkey 9.1.2 and a real Sentinel: what the rendered rules let
//! a client do and refuse, persistence through the config files, and removal.

use super::acl::{sentinel_setuser, valkey_setuser};
use super::request::Scope;
use crate::valkey::test_server::TestServer;
use crate::valkey::TcpConnector;
use crate::workload::test_support::query;

/// A reply as text: a string as itself, anything else in its debug form.
fn text(v: redis::Value) -> String {
    redis::from_redis_value::<String>(v.clone()).unwrap_or_else(|_| format!("{v:?}"))
}

/// A user's view: `Ok` text of the reply or the server's error.
fn as_user(port: u16, user: &str, password: &str, args: &[&str]) -> Result<String, String> {
    query(port, Some((user, password)), args).map(text)
}

fn refused(result: Result<String, String>, what: &str) {
    let err = result.expect_err(&format!("{what} must be refused"));
    assert!(err.to_ascii_lowercase().contains("noperm"), "{what}: {err}");
}

#[test]
fn a_client_user_reaches_its_prefix_only_and_discovers_the_primary_through_sentinel() {
    let data = TestServer::data("");
    let sentinel = TestServer::sentinel(&format!("sentinel monitor primary 127.0.0.1 {} 1", data.port));
    let connector = TcpConnector::default();
    let (alice, alice_pw) = ("relation-1-aaaa", "a".repeat(64));
    let (bob, bob_pw) = ("relation-2-bbbb", "b".repeat(64));

    let mut node = connector.acl(&data.endpoint(), false).unwrap();
    node.setuser(&valkey_setuser(alice, &alice_pw, &Scope::Prefix("app".into()))).unwrap();
    node.setuser(&valkey_setuser(bob, &bob_pw, &Scope::Prefix("other".into()))).unwrap();
    node.persist().unwrap();
    let mut watch = connector.acl(&sentinel.endpoint(), true).unwrap();
    watch.setuser(&sentinel_setuser(alice, &alice_pw)).unwrap();
    watch.persist().unwrap();
    let listed = node.list().unwrap();
    assert!(listed.iter().any(|l| l.starts_with(&format!("user {alice} on #"))), "{listed:?}");
    assert!(!listed.iter().any(|l| l.contains(&alice_pw)), "only the hash is kept");

    let p = data.port;
    as_user(p, alice, &alice_pw, &["SET", "app:k", "1"]).expect("write under the prefix");
    assert_eq!(as_user(p, alice, &alice_pw, &["GET", "app:k"]).unwrap(), "1");
    as_user(p, bob, &bob_pw, &["SET", "other:k", "secret"]).expect("bob writes his own prefix");
    as_user(p, alice, &alice_pw, &["PUBLISH", "app:news", "x"]).expect("publish under the prefix");
    as_user(p, alice, &alice_pw, &["INFO", "replication"]).expect("INFO, which client libraries send");
    refused(as_user(p, alice, &alice_pw, &["SET", "elsewhere", "1"]), "a write outside the prefix");
    refused(as_user(p, alice, &alice_pw, &["GET", "other:k"]), "a read of another client's key");
    refused(as_user(p, alice, &alice_pw, &["PUBLISH", "other:news", "x"]), "another client's channel");
    for cmd in [
        &["CONFIG", "GET", "maxmemory"][..],
        &["ACL", "LIST"],
        &["FLUSHALL"],
        &["FLUSHDB"],
        &["SWAPDB", "0", "1"],
        &["SCAN", "0"],
        &["RANDOMKEY"],
        &["KEYS", "*"],
        &["FUNCTION", "FLUSH"],
        &["SHUTDOWN"],
    ] {
        refused(as_user(p, alice, &alice_pw, cmd), &cmd.join(" "));
    }
    assert_eq!(query(p, None, &["GET", "other:k"]).map(text).unwrap(), "secret", "bob's key untouched");

    let s = sentinel.port;
    let addr = as_user(s, alice, &alice_pw, &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "primary"]).unwrap();
    assert!(addr.contains(&data.port.to_string()), "discovery names the primary: {addr}");
    as_user(s, alice, &alice_pw, &["SENTINEL", "REPLICAS", "primary"]).expect("list replicas");
    refused(as_user(s, alice, &alice_pw, &["SENTINEL", "RESET", "*"]), "SENTINEL RESET");
    refused(as_user(s, alice, &alice_pw, &["SENTINEL", "SET", "primary", "quorum", "5"]), "SENTINEL SET");
    refused(as_user(s, alice, &alice_pw, &["ACL", "LIST"]), "ACL LIST on Sentinel");

    // Persisted: the rewritten files hold the users, and a fresh server loads them from there.
    let conf = std::fs::read_to_string(data.dir.path().join("server.conf")).unwrap();
    let sconf = std::fs::read_to_string(sentinel.dir.path().join("server.conf")).unwrap();
    assert!(sconf.contains(&format!("user {alice} ")), "Sentinel flushed its config:\n{sconf}");
    let user_lines: String =
        conf.lines().filter(|l| l.starts_with("user relation-")).map(|l| format!("{l}\n")).collect();
    assert_eq!(user_lines.lines().count(), 2, "{conf}");
    let reborn = TestServer::data(&user_lines);
    as_user(reborn.port, alice, &alice_pw, &["SET", "app:again", "1"]).expect("the persisted user logs in");
    refused(as_user(reborn.port, alice, &alice_pw, &["SET", "nope", "1"]), "the persisted rules still bind");

    // Removal: the old password no longer logs in, on either server.
    assert_eq!(node.deluser(alice).unwrap(), 1);
    assert_eq!(watch.deluser(alice).unwrap(), 1);
    let gone = as_user(p, alice, &alice_pw, &["PING"]).expect_err("deleted on Valkey");
    assert!(gone.to_ascii_lowercase().contains("authentication failed"), "{gone}");
    let gone = as_user(s, alice, &alice_pw, &["PING"]).expect_err("deleted on Sentinel");
    assert!(gone.to_ascii_lowercase().contains("authentication failed"), "{gone}");
    as_user(p, bob, &bob_pw, &["GET", "other:k"]).expect("the other client keeps its user");
}

//! The client pass with the fake hook tools and fake local servers (ACL tables in memory).

use super::*;
use crate::client::fake_servers::FakeServers;
use crate::client::users::fingerprint;
use crate::juju::fake::FakeClientRelation;
use crate::juju::FakeHookTools;
use crate::workload::acl_hash;

fn ctx(unit: &str, relation: Option<(&str, &str)>) -> Context {
    let (unit, relation) = (unit.to_string(), relation.map(|(r, a)| (r.to_string(), a.to_string())));
    Context::from_env(move |k| match k {
        "JUJU_UNIT_NAME" => Some(unit.clone()),
        "JUJU_CHARM_DIR" => Some("/nonexistent".into()),
        "JUJU_MODEL_NAME" | "JUJU_MODEL_UUID" => Some("m".into()),
        "JUJU_RELATION_ID" => relation.as_ref().map(|(r, _)| r.clone()),
        "JUJU_REMOTE_APP" => relation.as_ref().map(|(_, a)| a.clone()),
        _ => None,
    })
    .unwrap()
}

fn started(host: &str) -> Bag {
    Bag::from([("started".into(), "true".into()), ("host".into(), host.into())])
}

/// A v1 requirer bag asking for `resource` with `salt`.
fn asks(resource: &str, salt: &str) -> Bag {
    let id = request::request_id(resource, salt);
    Bag::from([
        ("version".into(), "v1".into()),
        ("requests".into(), format!(r#"[{{"resource":"{resource}","salt":"{salt}","request-id":"{id}"}}]"#)),
    ])
}

fn client(app: &str, bag: Bag) -> FakeClientRelation {
    FakeClientRelation {
        app: app.into(),
        units: vec![format!("{app}/0")],
        remote_app_bag: bag,
        app_bag: Bag::new(),
    }
}

/// The leader valkey/0 (primary 10.0.0.1) with a started peer valkey/1 and relation `rid` to `app`.
fn leader_with(rid: &str, app: &str, bag: Bag) -> (FakeHookTools, FakeServers) {
    let tools = FakeHookTools::new("valkey/0")
        .leader(true)
        .own_bag(started("10.0.0.1"))
        .peer("valkey/1", started("10.0.0.2"));
    tools.set_client_relation(rid, client(app, bag));
    let servers = FakeServers::default();
    *servers.primary.borrow_mut() = "10.0.0.1".into();
    (tools, servers)
}

fn published(tools: &FakeHookTools) -> Vec<ClientUser> {
    users::read(tools.app_bag_now().get(CLIENT_USERS_KEY).map(String::as_str))
}

fn joined() -> Event {
    Event::ClientRelation(RelationHook::Changed)
}

#[test]
fn the_leader_creates_the_user_everywhere_first_and_answers_once_every_unit_has_it() {
    let (tools, servers) = leader_with("valkey-client:3", "app1", asks("app1:*", "saltsaltsaltsalt"));
    run(&ctx("valkey/0", Some(("valkey-client:3", "app1"))), &joined(), &tools, &servers).unwrap();

    let users = published(&tools);
    let id = request::request_id("app1:*", "saltsaltsaltsalt");
    let name = format!("relation-3-{id}");
    assert_eq!(users.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(), [name.as_str()]);
    assert!(!tools.app_bag_now()[CLIENT_USERS_KEY].contains("password"), "no password in peer data");
    let labels: Vec<String> = tools.secrets().iter().map(|s| s.label.clone()).collect();
    assert_eq!(
        labels,
        [format!("valkey-client.3.{id}.user.secret"), format!("valkey-client.3.{id}.tls.secret")]
    );
    let user_secret = &tools.secrets()[0];
    assert_eq!(user_secret.content["username"], name);
    assert_eq!(user_secret.content["password"].len(), 64);
    assert_eq!(tools.grants().len(), 2, "both secrets granted to the relation");
    assert!(tools.grants().iter().all(|(_, r)| r == "valkey-client:3"));
    assert_eq!(servers.users(false), vec![name.clone()]);
    assert_eq!(servers.users(true), vec![name.clone()]);
    let line = servers.valkey.borrow().users[&name].clone();
    assert!(line.contains("~app1:*") && line.contains(&acl_hash(&user_secret.content["password"])), "{line}");
    assert!(servers.valkey.borrow().persisted >= 1 && servers.sentinel.borrow().persisted >= 1);
    let ack = fingerprint(&users);
    assert_eq!(tools.own_bag_now().get(CLIENT_USERS_APPLIED_KEY), Some(&ack));
    assert!(
        tools.client_relation("valkey-client:3").unwrap().app_bag.is_empty(),
        "no answer before valkey/1 has the user"
    );

    // valkey/1 acknowledges (its peer-relation-changed reaches the leader).
    let mut peer = started("10.0.0.2");
    peer.insert(CLIENT_USERS_APPLIED_KEY.into(), ack);
    tools.set_peer("valkey/1", peer);
    run(&ctx("valkey/0", None), &Event::PeerRelationChanged, &tools, &servers).unwrap();
    let answer = tools.client_relation("valkey-client:3").unwrap().app_bag;
    let requests: serde_json::Value = serde_json::from_str(&answer["requests"]).unwrap();
    assert_eq!(requests[0]["endpoints"], "10.0.0.1:6379");
    assert_eq!(requests[0]["read-only-endpoints"], "10.0.0.2:6379");
    assert_eq!(requests[0]["sentinel-endpoints"], "10.0.0.1:26379,10.0.0.2:26379");
    assert_eq!(requests[0]["secret-user"], user_secret.uri.as_str());
    assert!(answer["data"].contains(&id));
    assert_eq!(tools.secrets().len(), 2, "a second pass makes no new secret");

    // A failover: the next pass (primary-changed) rewrites endpoints.
    *servers.primary.borrow_mut() = "10.0.0.2".into();
    run(&ctx("valkey/0", None), &Event::PrimaryChanged, &tools, &servers).unwrap();
    let answer = tools.client_relation("valkey-client:3").unwrap().app_bag;
    let requests: serde_json::Value = serde_json::from_str(&answer["requests"]).unwrap();
    assert_eq!(requests[0]["endpoints"], "10.0.0.2:6379");
    assert_eq!(requests[0]["read-only-endpoints"], "10.0.0.1:6379");

    // The leader's own Valkey is killed and Sentinel promotes valkey/1 back: the leader cannot
    // reach its Valkey, yet rewrites endpoints (its earlier acknowledgement, the earlier version).
    *servers.valkey_down.borrow_mut() = true;
    *servers.primary.borrow_mut() = "10.0.0.3".into();
    run(&ctx("valkey/0", None), &Event::PrimaryChanged, &tools, &servers).unwrap();
    let answer = tools.client_relation("valkey-client:3").unwrap().app_bag;
    let requests: serde_json::Value = serde_json::from_str(&answer["requests"]).unwrap();
    assert_eq!(requests[0]["endpoints"], "10.0.0.3:6379");
    assert_eq!(requests[0]["version"], "9.1.2");
}

#[test]
fn a_bad_request_is_refused_with_its_reason_and_touches_no_other_client() {
    let (tools, servers) = leader_with("valkey-client:3", "app1", asks("app1:*", "saltsaltsaltsalt"));
    run(&ctx("valkey/0", Some(("valkey-client:3", "app1"))), &joined(), &tools, &servers).unwrap();
    let before = published(&tools);
    let secrets_before = tools.secrets();
    for bad in [
        Bag::from([("version".into(), "v1".into()), ("requests".into(), "[{\"resource\":".into())]),
        Bag::from([("version".into(), "v9".into())]),
        asks("", "saltsaltsaltsalt"),
    ] {
        tools.set_client_relation("valkey-client:4", client("app2", bad.clone()));
        run(&ctx("valkey/0", Some(("valkey-client:4", "app2"))), &joined(), &tools, &servers).unwrap();
        assert_eq!(published(&tools), before, "{bad:?}: the set is unchanged");
        assert_eq!(tools.secrets(), secrets_before, "{bad:?}: no secret made or removed");
        assert_eq!(servers.users(false), [before[0].name.clone()], "{bad:?}: app1's user stays");
        let (kind, message) = tools.app_status().expect("status set");
        assert_eq!(kind, StatusKind::Blocked);
        assert!(message.starts_with("valkey-client:4 (app2): request refused: "), "{message}");
        assert!(tools.logs().iter().any(|(l, m)| *l == LogLevel::Error && *m == message));
    }
    // A later hook (whose reconcile recomputed the status) shows the refusal again.
    tools.set_leader(true);
    let statuses = tools.statuses().len();
    run(&ctx("valkey/0", None), &Event::ConfigChanged, &tools, &servers).unwrap();
    let again = tools.statuses()[statuses..].to_vec();
    assert_eq!(again.len(), 1, "{again:?}");
    assert!(again[0].application && again[0].message.starts_with("valkey-client:4 (app2): request refused"));
    // update-status (no client pass) shows it too.
    let statuses = tools.statuses().len();
    keep_refusals_shown(&ctx("valkey/0", None), &tools).unwrap();
    let again = tools.statuses()[statuses..].to_vec();
    assert_eq!(again.len(), 1, "{again:?}");
    assert!(again[0].application && again[0].message.starts_with("valkey-client:4 (app2): request refused"));
    // Fixed: its own hook serves it and sets no refusal; neither update-status nor a later hook
    // shows it again.
    tools.set_client_relation("valkey-client:4", client("app2", asks("app2:*", "saltsaltsaltsalt")));
    let statuses = tools.statuses().len();
    run(&ctx("valkey/0", Some(("valkey-client:4", "app2"))), &joined(), &tools, &servers).unwrap();
    keep_refusals_shown(&ctx("valkey/0", None), &tools).unwrap();
    run(&ctx("valkey/0", None), &Event::ConfigChanged, &tools, &servers).unwrap();
    assert_eq!(tools.statuses()[statuses..], [], "no refusal shown once fixed");
    assert_eq!(published(&tools).len(), 2, "app2 is served");
}

#[test]
fn breaking_the_relation_removes_its_users_and_secrets_and_nothing_else() {
    let (tools, servers) = leader_with("valkey-client:3", "app1", asks("app1:*", "saltsaltsaltsalt"));
    tools.set_client_relation("valkey-client:4", client("app2", asks("app2:*", "saltsaltsaltsalt")));
    run(&ctx("valkey/0", Some(("valkey-client:3", "app1"))), &joined(), &tools, &servers).unwrap();
    run(&ctx("valkey/0", Some(("valkey-client:4", "app2"))), &joined(), &tools, &servers).unwrap();
    assert_eq!(published(&tools).len(), 2);
    assert_eq!(tools.secrets().len(), 4);

    tools.remove_client_relation("valkey-client:3");
    let broken = Event::ClientRelation(RelationHook::Broken);
    run(&ctx("valkey/0", Some(("valkey-client:3", "app1"))), &broken, &tools, &servers).unwrap();
    let left = published(&tools);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].relation, "valkey-client:4");
    assert_eq!(servers.users(false), [left[0].name.clone()], "removed from Valkey");
    assert_eq!(servers.users(true), [left[0].name.clone()], "removed from Sentinel");
    assert_eq!(tools.secrets().len(), 2, "app1's secrets removed");
    assert!(tools.grants().iter().all(|(_, r)| r == "valkey-client:4"), "app1's grants revoked");

    // The last client leaves: no user anywhere, and the acknowledgement goes, so later hooks
    // skip the pass after four hook-tool calls.
    tools.remove_client_relation("valkey-client:4");
    run(&ctx("valkey/0", Some(("valkey-client:4", "app2"))), &broken, &tools, &servers).unwrap();
    assert!(published(&tools).is_empty());
    assert!(servers.users(false).is_empty() && servers.users(true).is_empty());
    assert_eq!(tools.own_bag_now().get(CLIENT_USERS_APPLIED_KEY), None);
    let calls_before = tools.calls().len();
    run(&ctx("valkey/0", None), &Event::ConfigChanged, &tools, &servers).unwrap();
    assert_eq!(
        tools.calls()[calls_before..],
        ["relation-ids", "relation-ids", "relation-get", "relation-get"]
    );
}

#[test]
fn a_non_leader_converges_its_servers_to_the_published_set_and_acknowledges() {
    let (leader, _) = leader_with("valkey-client:3", "app1", asks("app1:*", "saltsaltsaltsalt"));
    run(&ctx("valkey/0", Some(("valkey-client:3", "app1"))), &joined(), &leader, &FakeServers::default())
        .unwrap();
    let set = published(&leader);

    let tools = FakeHookTools::new("valkey/1").own_bag(started("10.0.0.2")).app_bag(leader.app_bag_now());
    for s in leader.secrets() {
        tools.state.borrow_mut().secrets.push(s);
    }
    tools.set_client_relation("valkey-client:3", client("app1", asks("app1:*", "saltsaltsaltsalt")));
    let servers = FakeServers::default();
    servers.valkey.borrow_mut().users.insert("relation-9-stale".into(), "user relation-9-stale on #x".into());
    run(&ctx("valkey/1", None), &Event::PeerRelationChanged, &tools, &servers).unwrap();
    assert_eq!(servers.users(false), [set[0].name.clone()], "created, and a stale client user deleted");
    assert_eq!(servers.users(true), [set[0].name.clone()]);
    assert_eq!(tools.own_bag_now().get(CLIENT_USERS_APPLIED_KEY), Some(&fingerprint(&set)));
    assert!(tools.client_relation("valkey-client:3").unwrap().app_bag.is_empty(), "only the leader answers");
    assert!(tools.relation_writes().iter().all(|w| !w.app), "no app bag written");
}

#[test]
fn a_v0_client_alone_with_the_primary_is_answered_once_without_empty_keys() {
    let tools = FakeHookTools::new("valkey/0").leader(true).own_bag(started("10.0.0.1"));
    tools.set_client_relation(
        "valkey-client:5",
        client("old", Bag::from([("database".into(), "old:*".into())])),
    );
    let servers = FakeServers::default();
    *servers.primary.borrow_mut() = "10.0.0.1".into();
    run(&ctx("valkey/0", Some(("valkey-client:5", "old"))), &joined(), &tools, &servers).unwrap();
    let answer = tools.client_relation("valkey-client:5").unwrap().app_bag;
    assert_eq!(answer["endpoints"], "10.0.0.1:6379");
    assert_eq!(answer["sentinel_endpoints"], "10.0.0.1:26379");
    assert!(!answer.contains_key("read-only-endpoints"), "no replica: Juju deletes an empty key");
    assert_eq!(tools.secrets()[0].label, "valkey-client.5.user.secret");
    let writes = tools.relation_writes().len();
    run(&ctx("valkey/0", None), &Event::ConfigChanged, &tools, &servers).unwrap();
    assert_eq!(tools.relation_writes().len(), writes, "nothing changed, nothing written");
}

#[test]
fn a_user_whose_secret_is_gone_is_not_kept_and_the_set_is_not_acknowledged() {
    let (leader, _) = leader_with("valkey-client:3", "app1", asks("app1:*", "saltsaltsaltsalt"));
    run(&ctx("valkey/0", Some(("valkey-client:3", "app1"))), &joined(), &leader, &FakeServers::default())
        .unwrap();
    // valkey/1 sees the set, but the secrets are already gone (the leader broke the relation).
    let tools = FakeHookTools::new("valkey/1").own_bag(started("10.0.0.2")).app_bag(leader.app_bag_now());
    let servers = FakeServers::default();
    let name = published(&leader)[0].name.clone();
    servers.valkey.borrow_mut().users.insert(name.clone(), format!("user {name} on #x"));
    run(&ctx("valkey/1", None), &Event::PeerRelationChanged, &tools, &servers).unwrap();
    assert!(servers.users(false).is_empty(), "removed rather than kept with an unknown password");
    assert_eq!(tools.own_bag_now().get(CLIENT_USERS_APPLIED_KEY), None, "not acknowledged");
    assert!(tools.logs().iter().any(|(l, m)| *l == LogLevel::Warning && m.contains("has no password")));
}

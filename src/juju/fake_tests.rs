use super::*;
use crate::juju::event::PEER_ENDPOINT;
use crate::juju::hook_tools::{HookTools, SecretRef};
use serde_json::json;

fn bag(pairs: &[(&str, &str)]) -> Bag {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn builder_state_is_served_like_the_real_tools() {
    let fake = FakeHookTools::new("valkey/2")
        .leader(true)
        .config("maxmemory", json!("1gb"))
        .peer("valkey/0", bag(&[("host", "h0"), ("started", "true")]))
        .peer("valkey/1", bag(&[("host", "h1")]))
        .own_bag(bag(&[("host", "h2")]))
        .app_bag(bag(&[("start-lock", "valkey/1")]))
        .storage("/srv/data");
    let rel = fake.relation_ids(PEER_ENDPOINT).unwrap();
    assert_eq!(rel, vec![FAKE_RELATION_ID]);
    assert_eq!(fake.relation_list(&rel[0]).unwrap(), vec!["valkey/0", "valkey/1"]);
    assert_eq!(fake.relation_get_unit(&rel[0], "valkey/0").unwrap()["started"], "true");
    assert_eq!(fake.relation_get_unit(&rel[0], "valkey/2").unwrap()["host"], "h2", "own bag");
    assert_eq!(fake.relation_get_app(&rel[0], "valkey").unwrap()["start-lock"], "valkey/1");
    assert!(fake.is_leader().unwrap());
    assert_eq!(fake.config_get().unwrap()["maxmemory"], "1gb");
    assert_eq!(fake.storage_location("data").unwrap(), Some(PathBuf::from("/srv/data")));
    assert_eq!(fake.network_get(PEER_ENDPOINT).unwrap().bind_address, "10.0.0.3");
    let err = fake.relation_get_unit(&rel[0], "valkey/9").unwrap_err();
    assert!(matches!(err, HookToolError::NotFound { .. }));
    assert_eq!(fake.calls().len(), 10, "{:?}", fake.calls());
}

#[test]
fn writes_are_applied_and_recorded_and_leader_only_writes_refused() {
    let fake = FakeHookTools::new("valkey/1").own_bag(bag(&[("start-requested", "5")]));
    let mut changes = BTreeMap::new();
    changes.insert("started".to_string(), Some("true".to_string()));
    changes.insert("start-requested".to_string(), None);
    fake.relation_set(FAKE_RELATION_ID, false, &changes).unwrap();
    assert_eq!(fake.own_bag_now(), bag(&[("started", "true")]));
    assert_eq!(fake.relation_writes(), vec![RelationWrite { app: false, changes: changes.clone() }]);

    let err = fake.relation_set(FAKE_RELATION_ID, true, &changes).unwrap_err();
    assert!(matches!(err, HookToolError::NotLeader { .. }), "{err:?}");
    let err = fake.status_set(StatusKind::Active, "x", true).unwrap_err();
    assert!(matches!(err, HookToolError::NotLeader { .. }), "{err:?}");
    fake.set_leader(true);
    fake.relation_set(FAKE_RELATION_ID, true, &changes).unwrap();
    assert_eq!(fake.app_bag_now(), bag(&[("started", "true")]));

    fake.status_set(StatusKind::Waiting, "waiting for start lock (held by valkey/0)", false).unwrap();
    fake.status_set(StatusKind::Active, "primary valkey/0", true).unwrap();
    assert_eq!(
        fake.unit_status(),
        Some((StatusKind::Waiting, "waiting for start lock (held by valkey/0)".into()))
    );
    assert_eq!(fake.app_status(), Some((StatusKind::Active, "primary valkey/0".into())));
    fake.open_port(6379).unwrap();
    fake.open_port(6379).unwrap();
    assert_eq!(fake.opened_ports(), vec![6379]);
    fake.application_version_set("9.1.2").unwrap();
    assert_eq!(fake.app_version().as_deref(), Some("9.1.2"));
    fake.log(LogLevel::Info, "hello").unwrap();
    assert_eq!(fake.logs(), vec![(LogLevel::Info, "hello".to_string())]);
}

#[test]
fn secrets_round_trip_by_uri_and_label() {
    let fake = FakeHookTools::new("valkey/0").leader(true);
    let content = bag(&[("admin-password", "pw")]);
    let uri = fake.secret_add("valkey-passwords", &content).unwrap();
    assert_eq!(fake.secret_get(&SecretRef::Id(uri.clone()), true).unwrap(), Some(content.clone()));
    assert_eq!(fake.secret_get(&SecretRef::Label("valkey-passwords".into()), false).unwrap(), Some(content));
    assert_eq!(fake.secret_get(&SecretRef::Id("secret:nope".into()), false).unwrap(), None);
    fake.secret_set(&uri, &bag(&[("admin-password", "pw2")])).unwrap();
    assert_eq!(fake.secrets()[0].content["admin-password"], "pw2");
    let follower = FakeHookTools::new("valkey/1");
    assert!(follower.secret_add("x", &Bag::new()).is_err(), "only the leader owns app secrets");
}

#[test]
fn actions_and_injected_failures() {
    let mut params = Map::new();
    params.insert("target".into(), json!("valkey/2"));
    let fake = FakeHookTools::new("valkey/0")
        .action_params(params)
        .failing("config-get", "ERROR connection refused");
    assert_eq!(fake.action_get().unwrap()["target"], "valkey/2");
    fake.action_set(&[("new-primary".to_string(), "valkey/2".to_string())].into()).unwrap();
    fake.action_fail("no replica in sync").unwrap();
    assert_eq!(fake.action_results()["new-primary"], "valkey/2");
    assert_eq!(fake.action_failure().as_deref(), Some("no replica in sync"));
    let err = fake.config_get().unwrap_err();
    assert!(
        matches!(err, HookToolError::Failed { ref stderr, .. } if stderr == "connection refused"),
        "{err:?}"
    );
    fake.set_failure("config-get", None);
    assert!(fake.config_get().is_ok());
    fake.set_failure("secret-get", Some("ERROR permission denied"));
    assert!(matches!(
        fake.secret_get(&SecretRef::Label("x".into()), false),
        Err(HookToolError::PermissionDenied { .. })
    ));
}

#[test]
fn no_peer_relation_and_departures() {
    let fake = FakeHookTools::new("valkey/0").no_peer_relation();
    assert!(fake.relation_ids(PEER_ENDPOINT).unwrap().is_empty());
    assert!(fake.relation_list(FAKE_RELATION_ID).is_err());
    let fake = FakeHookTools::new("valkey/0").peer("valkey/1", Bag::new());
    fake.remove_peer("valkey/1");
    assert!(fake.relation_list(FAKE_RELATION_ID).unwrap().is_empty());
    fake.set_peer("valkey/3", bag(&[("host", "h3")]));
    assert_eq!(fake.relation_list(FAKE_RELATION_ID).unwrap(), vec!["valkey/3"]);
}

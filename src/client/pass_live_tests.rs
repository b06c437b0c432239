//! The whole client pass on a real Valkey 9.1.2 and Sentinel (Juju faked): the user a relation
//! gets works with the password from its secret, is persisted, and stops working once the
//! relation is broken; a Valkey started from a re-rendered file keeps serving it.

use super::handler::run;
use super::request::request_id;
use super::servers::LiveServers;
use crate::juju::fake::FakeClientRelation;
use crate::juju::{Bag, Context, Event, FakeHookTools, HookTools, RelationHook, SecretRef};
use crate::valkey::test_server::TestServer;
use crate::valkey::TcpConnector;
use crate::workload::test_support::query;

fn ctx(relation: Option<&str>) -> Context {
    let relation = relation.map(str::to_string);
    Context::from_env(move |k| match k {
        "JUJU_UNIT_NAME" => Some("valkey/0".into()),
        "JUJU_CHARM_DIR" => Some("/nonexistent".into()),
        "JUJU_MODEL_NAME" | "JUJU_MODEL_UUID" => Some("m".into()),
        "JUJU_RELATION_ID" => relation.clone(),
        "JUJU_REMOTE_APP" => relation.as_ref().map(|_| "app1".into()),
        _ => None,
    })
    .unwrap()
}

fn noperm(r: Result<redis::Value, String>, what: &str) {
    let e = r.expect_err(what);
    assert!(e.to_ascii_lowercase().contains("noperm"), "{what}: {e}");
}

#[test]
fn a_related_application_gets_a_working_user_that_goes_with_the_relation() {
    let data = TestServer::data("");
    let sentinel = TestServer::sentinel(&format!("sentinel monitor primary 127.0.0.1 {} 1", data.port));
    let servers = LiveServers {
        connector: TcpConnector::default(),
        valkey: data.endpoint(),
        sentinel: sentinel.endpoint(),
        conf_files: Some((data.dir.path().join("server.conf"), sentinel.dir.path().join("server.conf"))),
    };
    let own = Bag::from([("started".into(), "true".into()), ("host".into(), "127.0.0.1".into())]);
    let tools = FakeHookTools::new("valkey/0").leader(true).own_bag(own);
    let id = request_id("app1:*", "saltsaltsaltsalt");
    let asks = Bag::from([
        ("version".into(), "v1".into()),
        (
            "requests".into(),
            format!(r#"[{{"resource":"app1:*","salt":"saltsaltsaltsalt","request-id":"{id}"}}]"#),
        ),
    ]);
    let relation = FakeClientRelation {
        app: "app1".into(),
        units: vec!["app1/0".into()],
        remote_app_bag: asks,
        app_bag: Bag::new(),
    };
    tools.set_client_relation("valkey-client:0", relation);
    run(&ctx(Some("valkey-client:0")), &Event::ClientRelation(RelationHook::Changed), &tools, &servers)
        .unwrap();

    // What the client reads: the answer, then its secret.
    let answer = tools.client_relation("valkey-client:0").unwrap().app_bag;
    let requests: serde_json::Value = serde_json::from_str(&answer["requests"]).expect("answered");
    assert_eq!(requests[0]["endpoints"], "127.0.0.1:6379", "the primary the Sentinel names");
    let uri = requests[0]["secret-user"].as_str().unwrap().to_string();
    let secret = tools.secret_get(&SecretRef::Id(uri), false).unwrap().unwrap();
    let (user, password) = (secret["username"].as_str(), secret["password"].as_str());
    assert_eq!(user, format!("relation-0-{id}"));

    let login = Some((user, password));
    query(data.port, login, &["SET", "app1:k", "v"]).expect("a write under the prefix");
    noperm(query(data.port, login, &["SET", "k", "v"]), "a write outside the prefix");
    noperm(query(data.port, login, &["FLUSHALL"]), "FLUSHALL");
    let addr = query(sentinel.port, login, &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "primary"]).unwrap();
    assert!(format!("{addr:?}").contains(&data.port.to_string()), "{addr:?}");
    for file in ["server.conf"] {
        for dir in [data.dir.path(), sentinel.dir.path()] {
            let text = std::fs::read_to_string(dir.join(file)).unwrap();
            assert!(text.contains(&format!("user {user} ")), "persisted in {}", dir.display());
            assert!(!text.contains(password), "only the hash in {}", dir.display());
        }
    }

    // A Valkey started from a re-rendered file (`carry`: the charm's fresh render plus the client
    // users of the file it replaces) serves the client at once, scoped as before.
    let persisted = std::fs::read_to_string(data.dir.path().join("server.conf")).unwrap();
    let restarted = TestServer::data(&super::carry::keep_client_users(String::new(), Some(&persisted)));
    query(restarted.port, login, &["SET", "app1:k2", "v"]).expect("the carried user writes at once");
    noperm(query(restarted.port, login, &["SET", "k", "v"]), "the carried user is still scoped");
    drop(restarted);

    // A second pass with nothing changed writes nothing (no key set to "" again and again).
    let writes = tools.relation_writes().len();
    run(&ctx(None), &Event::ConfigChanged, &tools, &servers).unwrap();
    assert_eq!(tools.relation_writes().len(), writes, "{:?}", &tools.relation_writes()[writes..]);

    tools.remove_client_relation("valkey-client:0");
    run(&ctx(Some("valkey-client:0")), &Event::ClientRelation(RelationHook::Broken), &tools, &servers)
        .unwrap();
    assert!(query(data.port, login, &["PING"]).is_err(), "the old password fails on Valkey");
    assert!(query(sentinel.port, login, &["PING"]).is_err(), "and on Sentinel");
    assert!(tools.secrets().is_empty(), "secrets removed");
    assert_eq!(
        query(data.port, None, &["GET", "app1:k"]).ok(),
        Some(redis::Value::BulkString(b"v".to_vec())),
        "data kept"
    );
}

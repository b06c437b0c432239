//! Contract tests for action-get, action-set, action-fail and action-log (juju-contract §5).

#[allow(dead_code)] // Shared by several test crates; each uses a subset.
#[path = "fixtures/tools/model.rs"]
mod model;

use model::Model;
use serde_json::json;

#[test]
fn action_get_reads_params_and_dotted_paths() {
    let m = Model::new();
    let id = m.add_action("valkey/1", "failover", json!({"target": "valkey/2", "opts": {"force": true}}));
    let tool = |args: &[&str]| {
        m.tool("valkey/1", "action-get").env("JUJU_ACTION_UUID", &id.to_string()).args(args).run()
    };
    assert_eq!(tool(&["--format=json"]).ok(), "{\"opts\":{\"force\":true},\"target\":\"valkey/2\"}\n");
    assert_eq!(tool(&["target"]).ok(), "valkey/2\n");
    assert_eq!(tool(&["opts.force", "--format=json"]).ok(), "true\n");
    assert_eq!(tool(&["opts.missing", "--format=json"]).ok(), "null\n");
    m.tool("valkey/1", "action-get").run().fails(1, "not running an action");
}

#[test]
fn action_set_nests_dotted_keys_and_validates_them() {
    let m = Model::new();
    let id = m.add_action("valkey/0", "get-primary", json!({}));
    let tool = |name: &str, args: &[&str]| {
        m.tool("valkey/0", name).env("JUJU_ACTION_UUID", &id.to_string()).args(args).run()
    };
    tool("action-set", &["primary=valkey/0", "sentinel.quorum=2", "sentinel.seen=3"]).ok();
    tool("action-set", &["sentinel.monitor=primary"]).ok();
    tool("action-set", &["Bad.key=1"]).fails(
        2,
        "key \"Bad\" must start and end with lowercase alphanumeric, and contain only lowercase alphanumeric, hyphens and periods",
    );
    tool("action-set", &["a.-b=1"]).fails(
        2,
        "key \"-b\" must start and end with lowercase alphanumeric, and contain only lowercase alphanumeric, hyphens and periods",
    );
    tool("action-set", &["stderr=x"]).fails(2, "cannot set reserved action key \"stderr\"");
    tool("action-set", &["novalue"]).fails(2, "argument \"novalue\" must be of the form key...=value");
    let op = &m.state().operations[&id];
    assert_eq!(
        serde_json::Value::Object(op.results.clone()),
        json!({"primary": "valkey/0", "sentinel": {"monitor": "primary", "quorum": "2", "seen": "3"}})
    );
    m.tool("valkey/0", "action-set").args(&["a=b"]).run().fails(1, "not running an action");
}

#[test]
fn action_fail_and_log_record_on_the_operation() {
    let m = Model::new();
    let id = m.add_action("valkey/0", "failover", json!({}));
    let tool = |name: &str, args: &[&str]| {
        m.tool("valkey/0", name).env("JUJU_ACTION_UUID", &id.to_string()).args(args).run()
    };
    tool("action-log", &["checking", "replicas"]).ok();
    tool("action-fail", &["no replica is in sync"]).ok();
    tool("action-log", &[]).fails(2, "no message specified");
    let op = &m.state().operations[&id];
    assert_eq!(op.log, ["checking replicas"]);
    assert_eq!(op.failure.as_deref(), Some("no replica is in sync"));
    tool("action-fail", &[]).ok();
    assert_eq!(m.state().operations[&id].failure.as_deref(), Some("action failed without reason given"));
}

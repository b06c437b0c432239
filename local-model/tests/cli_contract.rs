//! The CLI verbs and shapes jubilant relies on, checked without Python (the jubilant scenario in
//! `jubilant.rs` drives the same through jubilant itself). Each case names the Juju 3.6 source
//! whose behaviour it mirrors.

mod common;

use common::{test_charm, TestModel};
use serde_json::Value;

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// `cmd/juju/application/showunit.go`, `cmd/juju/model/show.go`, `cmd/juju/commands/version.go`,
/// `cmd/juju/model/config.go`, `cmd/juju/application/config.go`.
#[test]
fn show_unit_show_model_version_and_config_documents() {
    let m = TestModel::deployed("shapes2", 2);
    let unit = json(&m.ok(&["show-unit", "test-charm/0", "--format", "json"]));
    let u = &unit["test-charm/0"];
    assert_eq!(
        (u["charm"].as_str(), u["leader"].as_bool(), u["life"].as_str()),
        (Some("local:test-charm-0"), Some(true), Some("alive"))
    );
    assert_eq!(u["opened-ports"], serde_json::json!([]));
    let rel = &u["relation-info"][0];
    assert_eq!(
        (rel["endpoint"].as_str(), rel["related-endpoint"].as_str()),
        (Some("cluster"), Some("cluster"))
    );
    assert_eq!(rel["related-units"]["test-charm/1"]["in-scope"], true);
    assert_eq!(rel["related-units"]["test-charm/1"]["data"]["greeting"], "hello");
    assert_eq!(rel["local-unit"]["data"]["greeting"], "hello");
    assert!(m.fails(&["show-unit", "test-charm/9"]).contains("unit \"test-charm/9\" not found"));

    let model = json(&m.ok(&["show-model", "--format", "json"]));
    let info = &model["shapes2"];
    assert_eq!(
        (info["name"].as_str(), info["short-name"].as_str()),
        (Some("admin/shapes2"), Some("shapes2"))
    );
    assert_eq!((info["model-type"].as_str(), info["life"].as_str()), (Some("iaas"), Some("alive")));
    assert_eq!(info["model-uuid"], m.state().uuid.as_str());

    let version = json(&m.ok(&["version", "--all", "--format", "json"]));
    let v = version["version"].as_str().unwrap();
    assert!(v.starts_with("3.6.") && v.contains("-ubuntu-"), "{v}");
    assert_eq!(m.ok(&["version"]).trim(), v);

    let mc = json(&m.ok(&["model-config", "--format", "json"]));
    assert_eq!(mc["hook-retry-delay"]["Value"], "200ms");
    // `cmd/juju/secrets/list.go` and `show.go`: a secret added in an exec context.
    m.exec("test-charm/0", "secret-add --label kept pass=word");
    let list = json(&m.ok(&["secrets", "--format", "json"]));
    let (id, entry) = list.as_object().unwrap().iter().next().expect("one secret");
    assert_eq!((entry["owner"].as_str(), entry["revision"].as_u64()), (Some("test-charm"), Some(1)));
    assert!(entry["created"].as_str().is_some_and(|t| t.ends_with('Z')), "{entry}");
    let shown = json(&m.ok(&["show-secret", &format!("secret:{id}"), "--reveal", "--format", "json"]));
    assert_eq!(shown[id]["content"]["Data"]["pass"], "word");
    assert!(json(&m.ok(&["show-secret", id, "--format", "json"]))[id].get("content").is_none());
    let config = json(&m.ok(&["config", "test-charm", "--format", "json"]));
    assert_eq!(config["settings"]["workers"]["value"], 2);
    assert!(config["settings"]["ratio"].get("value").is_none(), "unset, no default: no value");
}

/// `add-model --no-switch` (`cmd/juju/controller/addmodel.go`) keeps the current model;
/// `remove-application` (`cmd/juju/application/removeapplication.go`) tears every unit down and
/// the application disappears; `debug-log --limit` (`cmd/juju/commands/debuglog.go`) stops.
#[test]
fn no_switch_remove_application_and_debug_log_limit() {
    let m = TestModel::deployed("rmapp", 2);
    m.ok(&["add-model", "--no-switch", "other-rmapp"]);
    assert!(m.ok(&["models"]).contains("rmapp*"), "the current model is unchanged");
    m.ok(&["destroy-model", "other-rmapp", "--no-prompt"]);
    let machine = m.fails(&["exec", "--machine", "0", "--", "true"]);
    assert!(machine.contains("--machine is not supported by juju-local"), "{machine}");
    let log = m.ok(&["debug-log", "--limit", "3"]);
    assert_eq!(log.lines().count(), 3, "{log}");
    assert!(m
        .fails(&["remove-application", "--no-prompt", "nosuch"])
        .contains("application \"nosuch\" not found"));
    m.ok(&["remove-application", "--no-prompt", "test-charm"]);
    let state = m.state();
    assert!(state.applications.is_empty() && state.units.is_empty() && state.relations.is_empty());
    assert!(!m.dir().join("charms/test-charm").exists());
    for unit in ["test-charm/0", "test-charm/1"] {
        let events = m.events_of(unit);
        assert_eq!(events.last().map(String::as_str), Some("remove"), "{unit} ran its teardown: {events:?}");
    }
    // The name is free again.
    m.ok(&["deploy", test_charm().to_str().unwrap()]);
    m.wait();
}

/// `cmd/juju/action/common.go`: `run` waits 60 s by default, and a task that does not finish in
/// the wait is `ERROR timed out waiting for results from: unit U` with exit 1.
#[test]
fn run_gives_up_after_its_wait_as_juju() {
    let m = TestModel::deployed("runwait", 1);
    m.mark("hang-echo");
    let out = m.juju(&["run", "test-charm/0", "echo", "text=x", "--wait", "1s", "--format", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.ends_with("ERROR timed out waiting for results from: unit test-charm/0\n"), "{stderr}");
}

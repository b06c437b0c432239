//! Failing and hanging hooks, and an agent that dies mid-hook: the unit shows `error`, the hook
//! is retried with back-off, its held-back changes are dropped until a retry succeeds.

mod common;

use common::{eventually, TestModel};
use juju_local::model::processes;
use serde_json::Value;
use std::time::Duration;

fn unit_status(m: &TestModel, unit: &str) -> (String, String) {
    let doc: Value = serde_json::from_str(&m.ok(&["status", "--format", "json"])).unwrap();
    let w = &doc["applications"]["test-charm"]["units"][unit]["workload-status"];
    (w["current"].as_str().unwrap_or_default().into(), w["message"].as_str().unwrap_or_default().into())
}

fn count(m: &TestModel, unit: &str, event: &str) -> usize {
    m.events_of(unit).iter().filter(|e| *e == event).count()
}

#[test]
fn failed_hook_shows_error_is_retried_and_its_writes_appear_only_on_success() {
    let m = TestModel::deployed("failing", 2);
    m.mark("fail-config-changed");
    m.ok(&["config", "test-charm", "greeting=bad"]);
    eventually(Duration::from_secs(20), "error status", || {
        (unit_status(&m, "test-charm/0") == ("error".into(), "hook failed: \"config-changed\"".into()))
            .then_some(())
    });
    eventually(Duration::from_secs(20), "retries", || {
        (count(&m, "test-charm/0", "config-changed") >= 3).then_some(())
    });
    // The failed attempts wrote relation data that must never become visible.
    assert_eq!(m.exec("test-charm/1", "relation-get -r cluster:0 failed-write test-charm/0"), "");
    assert_eq!(m.exec("test-charm/1", "relation-get -r cluster:0 greeting test-charm/0"), "hello");
    let waited = m.juju(&["wait", "--timeout", "300ms"]);
    assert!(!waited.status.success(), "wait must not succeed while a unit is in error");
    m.unmark("fail-config-changed");
    m.wait();
    assert_eq!(unit_status(&m, "test-charm/0"), ("active".into(), "unit ready".into()));
    assert_eq!(m.exec("test-charm/1", "relation-get -r cluster:0 greeting test-charm/0"), "bad");
    assert_eq!(m.exec("test-charm/1", "relation-get -r cluster:0 failed-write test-charm/0"), "");
    let log = std::fs::read_to_string(m.dir().join("log")).unwrap();
    assert!(log.contains("WARNING config-changed: failing config-changed on purpose"), "{log}");
}

#[test]
fn hook_timeout_kills_a_hanging_hook_and_marks_it_failed() {
    let m = TestModel::deployed("timeout", 1);
    m.ok(&["model-config", "hook-timeout=1s"]);
    m.mark("hang-config-changed");
    m.ok(&["config", "test-charm", "greeting=slow"]);
    let pid = eventually(Duration::from_secs(10), "hanging hook", || {
        m.state().units["test-charm/0"].running.as_ref().and_then(|r| r.pid)
    });
    eventually(Duration::from_secs(10), "timeout error", || {
        (unit_status(&m, "test-charm/0").1 == "hook failed: \"config-changed\"").then_some(())
    });
    assert!(!processes::alive(pid as i32), "hung hook {pid} still alive");
    let log = std::fs::read_to_string(m.dir().join("log")).unwrap();
    assert!(log.contains("timed out"), "{log}");
    m.unmark("hang-config-changed");
    m.wait();
    assert_eq!(unit_status(&m, "test-charm/0").0, "active");
}

#[test]
fn agent_restart_retries_the_interrupted_hook() {
    let m = TestModel::deployed("restart", 1);
    m.mark("hang-config-changed");
    m.ok(&["config", "test-charm", "greeting=again"]);
    let hook_pid = eventually(Duration::from_secs(10), "hanging hook", || {
        m.state().units["test-charm/0"].running.as_ref().and_then(|r| r.pid)
    });
    let agent: i32 = std::fs::read_to_string(m.dir().join("agent.pid")).unwrap().trim().parse().unwrap();
    processes::signal(agent, libc::SIGKILL);
    eventually(Duration::from_secs(5), "agent death", || (!processes::alive(agent)).then_some(()));
    m.unmark("hang-config-changed");
    // Any command that needs the agent starts a new one, which retries the cut-off hook.
    m.wait();
    assert!(!processes::alive(hook_pid as i32), "interrupted hook left running");
    let new_agent: i32 = std::fs::read_to_string(m.dir().join("agent.pid")).unwrap().trim().parse().unwrap();
    assert_ne!(new_agent, agent);
    assert_eq!(count(&m, "test-charm/0", "config-changed"), 3, "{:?}", m.events_of("test-charm/0"));
    assert_eq!(m.exec("test-charm/0", "config-get greeting"), "again");
    // An idle unit gets config-changed when its agent restarts, as with Juju's unit agents.
    processes::signal(new_agent, libc::SIGKILL);
    eventually(Duration::from_secs(5), "agent death", || (!processes::alive(new_agent)).then_some(()));
    m.wait();
    assert_eq!(count(&m, "test-charm/0", "config-changed"), 4, "{:?}", m.events_of("test-charm/0"));
}

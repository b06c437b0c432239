//! Juju's orchestration rules above the hook tools, each mirrored from the Juju 3.6 source named
//! beside it (see `../shared/design/juju-semantics.md`): teardown order of `remove-unit`, a dying
//! leader's lease, the per-unit relation-data cache, app-bag `-relation-changed` on peers, and
//! operations before `start`. Observed through the shell test charm (`events.log`,
//! `teardown.log`).

mod common;

use common::{eventually, TestModel, THIRD_UNIT_TEARDOWN};
use juju_local::store::Store;
use std::time::Duration;

/// `teardown.log` lines of `unit`: `<event> remote=R list=A,B, leader=L greeting=G`.
fn teardown_of(m: &TestModel, unit: &str) -> Vec<String> {
    let text = std::fs::read_to_string(m.dir().join("teardown.log")).unwrap_or_default();
    text.lines().filter_map(|l| l.strip_prefix(&format!("{unit} "))).map(str::to_string).collect()
}

/// Juju: a Dying unit's relation resolver departs every member at once
/// (`internal/worker/uniter/relation/resolver.go`, `NextOp` / `nextHookForRelation`), while
/// `storage-detaching` waits for the controller's cleanup of the dying unit (`state/cleanup.go`,
/// `cleanupDyingUnit`): departed first is the usual order. During each -departed the departing
/// remote is gone from `relation-list` but its settings stay readable
/// (`internal/worker/uniter/runner/context/contextfactory.go`).
#[test]
fn remove_unit_departs_first_by_default_and_the_departed_peer_leaves_relation_list() {
    let m = TestModel::deployed("teardown", 3);
    assert_eq!(m.ok(&["model-config", "teardown-order"]).trim(), "departed-first");
    m.clear_events();
    m.ok(&["remove-unit", "test-charm/2"]);
    m.ok(&["wait", "--timeout", "60s", "--units", "2"]);
    assert_eq!(m.events_of("test-charm/2"), THIRD_UNIT_TEARDOWN);
    assert_eq!(
        teardown_of(&m, "test-charm/2"),
        [
            "cluster-relation-departed remote=test-charm/0 list=test-charm/1, leader=False greeting=hello",
            "cluster-relation-departed remote=test-charm/1 list= leader=False greeting=hello",
            "data-storage-detaching remote= list= leader=False greeting=",
            "stop remote= list= leader=False greeting=",
        ]
    );
}

/// The order is a model-config key, since real Juju shows both (storage first when the cleanup's
/// storage change is pending together with the departures: the storage resolver then wins).
#[test]
fn teardown_order_storage_first_is_selectable_and_bad_values_are_refused() {
    let m = TestModel::deployed("storagefirst", 2);
    let err = m.fails(&["model-config", "teardown-order=sideways"]);
    assert!(err.contains("accepted: departed-first, storage-first, random, random:SEED"), "{err}");
    assert_eq!(m.ok(&["model-config", "teardown-order"]).trim(), "departed-first", "unchanged");
    m.ok(&["model-config", "teardown-order=storage-first"]);
    m.clear_events();
    m.ok(&["remove-unit", "test-charm/1"]);
    m.ok(&["wait", "--timeout", "60s", "--units", "1"]);
    assert_eq!(
        m.events_of("test-charm/1"),
        ["data-storage-detaching", "cluster-relation-departed:test-charm/0", "stop", "remove"]
    );
    assert_eq!(
        teardown_of(&m, "test-charm/1")[0],
        "data-storage-detaching remote= list=test-charm/0, leader=False greeting=",
        "before its departures the leaving unit still sees its peer"
    );
    m.ok(&["model-config", "teardown-order=random:7"]);
    assert_eq!(m.ok(&["model-config", "teardown-order"]).trim(), "random:7");
}

/// Juju: a Dying leader keeps its lease; `leader-elected` runs elsewhere only once it is Dead
/// and its lease revoked (`internal/worker/uniter/leadership/resolver.go`).
#[test]
fn a_dying_leader_keeps_leading_through_its_teardown_and_a_survivor_is_elected_after() {
    let m = TestModel::deployed("dyingleader", 3);
    m.clear_events();
    m.ok(&["remove-unit", "test-charm/0"]);
    m.ok(&["wait", "--timeout", "60s", "--units", "2"]);
    let lines = teardown_of(&m, "test-charm/0");
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert!(lines.iter().all(|l| l.contains("leader=True")), "{lines:?}");
    let all: Vec<String> = m.events().iter().map(|e| format!("{} {}", e.unit, e.short())).collect();
    let removed = all.iter().position(|e| e == "test-charm/0 remove").expect("remove ran");
    let elected = all.iter().position(|e| e == "test-charm/1 leader-elected").expect("leader-elected ran");
    assert!(removed < elected, "a survivor was elected while the leader was still tearing down: {all:?}");
    assert_eq!(m.exec("test-charm/1", "is-leader --format=json"), "true");
}

/// Juju caches remote units' settings per unit agent and re-reads one only when a -joined or
/// -changed hook about that unit runs (`internal/worker/uniter/runner/context/cache.go`,
/// `InvalidateMember`); other hooks and exec contexts see the cached copy. The application bag
/// is re-read every time (`Prune` drops it).
#[test]
fn remote_settings_are_cached_until_a_changed_hook_about_that_unit() {
    let m = TestModel::deployed("cache", 2);
    let read = || m.exec("test-charm/1", "relation-get -r cluster:0 greeting test-charm/0");
    assert_eq!(read(), "hello");
    // A change that no hook has announced yet (written under the model's lock, as a commit whose
    // -changed is still queued would be).
    let store = Store::open(m.dir()).unwrap();
    store
        .update(|s| {
            let rel = s.relations.get_mut(&0).unwrap();
            rel.unit_bags.get_mut("test-charm/0").unwrap().insert("greeting".into(), "behind".into());
            rel.app_bags.get_mut("test-charm").unwrap().insert("app-key".into(), "live".into());
            Ok::<_, juju_local::store::StoreError>(())
        })
        .unwrap();
    assert_eq!(read(), "hello", "an exec context must see the cached copy");
    assert_eq!(m.exec("test-charm/1", "relation-get -r cluster:0 --app app-key test-charm"), "live");
    m.ok(&["config", "test-charm", "greeting=fresh"]);
    m.wait();
    assert_eq!(read(), "fresh", "the -changed hook about test-charm/0 re-read its bag");
}

/// Juju: on a peer relation every unit watches its own application's bag, so the leader gets
/// `-relation-changed` (no remote unit) after its own app-bag write, and a newcomer gets it
/// before its -joined hooks (`internal/worker/uniter/relation/resolver.go`,
/// `nextHookForRelation`: app-level changes come before joins).
#[test]
fn app_bag_writes_reach_the_writing_leader_and_a_newcomer_before_its_joins() {
    let m = TestModel::deployed("appbag", 2);
    m.clear_events();
    m.exec("test-charm/0", "relation-set -r cluster:0 --app leader-says=hi");
    m.wait();
    assert_eq!(m.events_of("test-charm/0"), ["cluster-relation-changed"]);
    assert_eq!(m.events_of("test-charm/1"), ["cluster-relation-changed"]);
    m.clear_events();
    m.ok(&["add-unit", "test-charm"]);
    m.wait();
    let events = m.events_of("test-charm/2");
    let created = events.iter().position(|e| e == "cluster-relation-created").unwrap();
    let start = events.iter().position(|e| e == "start").unwrap();
    assert_eq!(events[start + 1], "cluster-relation-changed", "{events:?} (created at {created})");
    assert_eq!(events[start + 2], "cluster-relation-joined:test-charm/0", "{events:?}");
}

/// Juju's uniter consults the operation resolvers (actions, then commands) before the hook
/// resolvers, once the unit is installed (`internal/worker/uniter/resolver.go`,
/// `uniterResolver.NextOp`): an action or `juju exec` runs before a queued `start`.
#[test]
fn exec_runs_once_installed_before_a_queued_start() {
    let m = TestModel::new("opsearly");
    m.mark("hold-install");
    m.ok(&["deploy", common::test_charm().to_str().unwrap(), "-n", "1"]);
    let exec = std::process::Command::new(common::JUJU_LOCAL)
        .args([
            "exec",
            "--unit",
            "test-charm/0",
            "--",
            "m=${JUJU_AGENT_SOCKET_ADDRESS#@}; echo \"$JUJU_UNIT_NAME exec/probe\" >> \"${m%/agent.socket}/events.log\"",
        ])
        .env("JUJU_LOCAL_HOME", m.home.path())
        .env("JUJU_MODEL", &m.name)
        .spawn()
        .unwrap();
    eventually(Duration::from_secs(30), "the exec to be queued", || {
        (!m.state().operations.is_empty()).then_some(())
    });
    m.unmark("hold-install");
    assert!(exec.wait_with_output().unwrap().status.success());
    m.wait();
    let events = m.events_of("test-charm/0");
    let at =
        |name: &str| events.iter().position(|e| e == name).unwrap_or_else(|| panic!("{name}: {events:?}"));
    assert!(at("install") < at("probe") && at("probe") < at("start"), "{events:?}");
}

/// Juju: `remove-unit --force` still runs the unit's teardown hooks while its agent lives; the
/// forced cleanup removes it whatever they do only after the wait (`state/cleanup.go`,
/// `scheduleForceCleanup`), at once with `--no-wait` (`cmd/juju/application/removeunit.go`,
/// which also refuses `--no-wait` without `--force`).
#[test]
fn force_still_runs_the_teardown_hooks_and_no_wait_removes_at_once() {
    let m = TestModel::deployed("force", 3);
    let err = m.fails(&["remove-unit", "test-charm/2", "--no-wait"]);
    assert!(err.contains("--no-wait without --force not valid"), "{err}");
    assert!(m.state().units.contains_key("test-charm/2"), "a refused command changes nothing");
    m.clear_events();
    m.ok(&["remove-unit", "test-charm/2", "--force"]);
    m.ok(&["wait", "--timeout", "60s", "--units", "2"]);
    assert_eq!(m.events_of("test-charm/2"), THIRD_UNIT_TEARDOWN);
    m.clear_events();
    m.ok(&["remove-unit", "test-charm/1", "--force", "--no-wait"]);
    assert!(!m.state().units.contains_key("test-charm/1"), "--no-wait: gone at once");
    m.wait();
    assert!(m.events_of("test-charm/1").is_empty(), "no hook ran on it");
    assert_eq!(m.events_of("test-charm/0"), ["cluster-relation-departed:test-charm/1"]);
}

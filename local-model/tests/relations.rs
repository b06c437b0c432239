//! Cross-application relations as Juju 3.6 runs them, observed through the shell test charm
//! (provider of `source`, interface `test-data`) and the requirer fixture charm (`upstream`).
//! Each rule names the Juju source it follows.

mod common;

use common::{eventually, TestModel};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn requirer_charm() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/requirer-charm")
}

/// Two provider units and `n` requirer units, settled, events forgotten.
fn two_apps(name: &str, n: u32) -> TestModel {
    let m = TestModel::deployed(name, 2);
    m.ok(&["deploy", requirer_charm().to_str().unwrap(), "-n", &n.to_string()]);
    m.wait();
    m.clear_events();
    m
}

/// [`two_apps`] with one requirer unit, related (`source` ↔ `upstream`) and settled.
fn related(name: &str) -> TestModel {
    let m = two_apps(name, 1);
    m.ok(&["integrate", "test-charm", "requirer-charm"]);
    m.wait();
    m
}

/// The relation-hook lines of the requirer: `<unit> <hook> <JUJU_RELATION_ID> <JUJU_REMOTE_APP> ids=...`.
fn relation_log(m: &TestModel) -> Vec<String> {
    std::fs::read_to_string(m.dir().join("relations.log"))
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

/// After `first`, each remote's -joined is immediately followed by its -changed; returns the
/// remotes in joining order. Anything else must be a later -changed of a joined remote.
fn created_then_pairs(events: &[String], endpoint: &str) -> Vec<String> {
    assert_eq!(events.first(), Some(&format!("{endpoint}-relation-created")), "{events:?}");
    let mut joined = Vec::new();
    for (i, e) in events.iter().enumerate().skip(1) {
        if let Some(remote) = e.strip_prefix(&format!("{endpoint}-relation-joined:")) {
            assert_eq!(
                events.get(i + 1),
                Some(&format!("{endpoint}-relation-changed:{remote}")),
                "{events:?}"
            );
            joined.push(remote.to_string());
        } else {
            let remote = e
                .strip_prefix(&format!("{endpoint}-relation-changed:"))
                .unwrap_or_else(|| panic!("{e} in {events:?}"));
            assert!(joined.iter().any(|r| r == remote), "-changed before -joined in {events:?}");
        }
    }
    joined
}

/// Juju's order on integrate (`internal/worker/uniter/relation/resolver.go`: the created-relations
/// resolver runs -relation-created first; then every remote unit is joined and its -changed
/// follows at once, `ChangedPending`): both sides, each under its own endpoint name, and a unit
/// never joins units of its own application.
#[test]
fn integrate_runs_created_then_joined_and_changed_for_each_remote_unit_on_both_sides() {
    let m = related("rel-order");
    for unit in ["test-charm/0", "test-charm/1"] {
        let joined = created_then_pairs(&m.events_of(unit), "source");
        assert_eq!(joined, ["requirer-charm/0"], "{unit}");
    }
    let mut joined = created_then_pairs(&m.events_of("requirer-charm/0"), "upstream");
    joined.sort();
    assert_eq!(joined, ["test-charm/0", "test-charm/1"]);
    // JUJU_RELATION_ID is the requirer's own endpoint name; JUJU_REMOTE_APP the provider.
    let log = relation_log(&m);
    assert!(log.iter().all(|l| l.contains(" upstream:1 test-charm ")), "{log:?}");
    assert_eq!(m.exec("test-charm/1", "relation-ids source"), "source:1");
    assert_eq!(m.exec("test-charm/1", "relation-list -r source:1"), "requirer-charm/0");
    assert_eq!(m.exec("requirer-charm/0", "relation-list -r upstream:1 --app"), "test-charm");
}

/// `integrate` refuses with Juju's messages (`state/state.go`, `InferEndpoints`; `AddRelation`'s
/// already-exists error) and changes nothing.
#[test]
fn integrate_errors_are_jujus_and_leave_the_model_as_it_was() {
    let m = two_apps("rel-errors", 1);
    let before = m.state();
    assert_eq!(m.fails(&["integrate", "test-charm", "requirer-charm:spare"]), "ERROR no relations found");
    assert_eq!(m.fails(&["relate", "test-charm", "ghost"]), "ERROR application \"ghost\" not found");
    assert_eq!(before.relations, m.state().relations);
    m.ok(&["relate", "requirer-charm", "test-charm:source"]);
    // Juju's CLI splits the controller's error at ": " and adds a hint (integrate.go, `Run`).
    let again = m.juju(&["integrate", "test-charm", "requirer-charm"]);
    assert!(!again.status.success());
    assert_eq!(
        String::from_utf8_lossy(&again.stderr),
        "ERROR cannot add relation \"requirer-charm:upstream test-charm:source\"\n\
         relation requirer-charm:upstream test-charm:source already exists: \n\n\
         Use 'juju status --relations' to view the current relations.\n"
    );
    assert_eq!(
        m.fails(&["remove-relation", "test-charm", "nobody"]),
        r#"ERROR relation matching "test-charm nobody" not found"#
    );
    m.wait();
    assert_eq!(m.state().relations.len(), 2, "the peer relation and the one integrate made");
}

/// Bags (juju-contract §4; `apiserver/facades/agent/uniter/uniter.go`, `ReadSettings` /
/// `UpdateSettings`, and the context's leader check in
/// `internal/worker/uniter/runner/context/relation.go`): a unit writes its own bag and reads the
/// remote ones; only the leader writes and reads its own application bag; everyone reads the
/// remote application's bag. A write that changes nothing fires no -changed
/// (`resolver.go` compares settings versions).
#[test]
fn bags_follow_jujus_read_and_write_rules_and_only_real_changes_fire() {
    let m = related("rel-bags");
    m.clear_events();
    m.exec("requirer-charm/0", "relation-set -r upstream:1 want=cache");
    m.wait();
    for unit in ["test-charm/0", "test-charm/1"] {
        assert_eq!(m.events_of(unit), ["source-relation-changed:requirer-charm/0"], "{unit}");
        assert_eq!(m.exec(unit, "relation-get -r source:1 want requirer-charm/0"), "cache");
    }
    assert!(m.events_of("requirer-charm/0").is_empty(), "the writer gets no -changed for its own bag");
    // The same value again changes nothing, so nothing fires.
    m.clear_events();
    m.exec("requirer-charm/0", "relation-set -r upstream:1 want=cache");
    m.wait();
    assert!(m.events().is_empty(), "{:?}", m.events());
    // The leader writes its application bag; the remote side gets the app-level -changed.
    m.exec("test-charm/0", "relation-set -r source:1 --app endpoint=127.0.0.1:1");
    m.wait();
    assert_eq!(m.events_of("requirer-charm/0"), ["upstream-relation-changed"]);
    assert!(m.events_of("test-charm/1").is_empty(), "a provider unit does not watch its own app bag");
    assert_eq!(
        m.exec("requirer-charm/0", "relation-get -r upstream:1 --app endpoint test-charm"),
        "127.0.0.1:1"
    );
    assert_eq!(m.exec("test-charm/0", "relation-get -r source:1 --app endpoint test-charm"), "127.0.0.1:1");
    // A non-leader may neither write nor read its own application's bag.
    let denied = m.juju(&["exec", "--unit", "test-charm/1", "--", "relation-set -r source:1 --app x=1"]);
    assert!(
        String::from_utf8_lossy(&denied.stdout).contains("cannot write relation settings")
            || String::from_utf8_lossy(&denied.stderr).contains("cannot write relation settings"),
        "{denied:?}"
    );
    let denied =
        m.juju(&["exec", "--unit", "test-charm/1", "--", "relation-get -r source:1 --app - test-charm"]);
    assert!(
        String::from_utf8_lossy(&denied.stderr).contains("permission denied")
            || String::from_utf8_lossy(&denied.stdout).contains("permission denied"),
        "{denied:?}"
    );
    assert_eq!(m.exec("test-charm/0", "relation-get -r source:1 --app x test-charm"), "");
}

/// `remove-relation` (`cmd/juju/application/removerelation.go`): each unit departs every remote
/// unit it saw (departing unit = the remote, both sides being alive), then breaks the relation
/// (`resolver.go`, `nextHookForRelation`); from the broken hook on, `relation-ids` no longer
/// lists it, and once every unit broke it, it is gone.
#[test]
fn remove_relation_departs_then_breaks_on_every_unit_and_forgets_the_relation() {
    let m = related("rel-remove");
    m.clear_events();
    std::fs::remove_file(m.dir().join("relations.log")).unwrap();
    m.ok(&["remove-relation", "requirer-charm", "test-charm"]);
    m.wait();
    for unit in ["test-charm/0", "test-charm/1"] {
        let events: Vec<_> = m.events().into_iter().filter(|e| e.unit == unit).collect();
        let names: Vec<_> = events.iter().map(|e| e.short()).collect();
        assert_eq!(names, ["source-relation-departed:requirer-charm/0", "source-relation-broken"], "{unit}");
        assert_eq!(events[0].departing, "requirer-charm/0");
    }
    let mut names = m.events_of("requirer-charm/0");
    assert_eq!(names.pop().as_deref(), Some("upstream-relation-broken"));
    names.sort();
    assert_eq!(names, ["upstream-relation-departed:test-charm/0", "upstream-relation-departed:test-charm/1"]);
    let log = relation_log(&m);
    let broken = log.iter().find(|l| l.contains("upstream-relation-broken")).expect("broken logged");
    assert!(broken.ends_with("ids="), "relation-ids during -broken: {broken}");
    assert!(log.iter().filter(|l| l.contains("departed")).all(|l| l.ends_with("ids=upstream:1,")), "{log:?}");
    assert!(!m.state().relations.contains_key(&1));
    assert_eq!(m.exec("test-charm/0", "relation-ids source"), "");
}

/// Units added to a related application later run relation-created before start, then join every
/// remote unit (both ways); a removed unit departs on the remote units and breaks the relation on
/// itself after departing (`resolver.go`: a dying unit departs all, then breaks).
#[test]
fn units_added_or_removed_later_join_or_depart_the_relation() {
    let m = related("rel-scale");
    m.clear_events();
    m.ok(&["add-unit", "requirer-charm"]);
    m.wait();
    let events = m.events_of("requirer-charm/1");
    let start = events.iter().position(|e| e == "start").expect("start");
    let created = events.iter().position(|e| e == "upstream-relation-created").expect("created");
    assert!(created < start, "{events:?}");
    let mut after = vec!["upstream-relation-created".to_string()];
    after.extend(events[start + 1..].iter().cloned());
    let mut joined = created_then_pairs(&after, "upstream");
    joined.sort();
    assert_eq!(joined, ["test-charm/0", "test-charm/1"]);
    for unit in ["test-charm/0", "test-charm/1"] {
        assert_eq!(
            m.events_of(unit),
            ["source-relation-joined:requirer-charm/1", "source-relation-changed:requirer-charm/1"]
        );
    }
    m.clear_events();
    m.ok(&["remove-unit", "requirer-charm/1"]);
    eventually(Duration::from_secs(60), "requirer-charm/1 gone", || {
        (!m.state().units.contains_key("requirer-charm/1")).then_some(())
    });
    m.wait();
    for unit in ["test-charm/0", "test-charm/1"] {
        let events: Vec<_> = m.events().into_iter().filter(|e| e.unit == unit).collect();
        assert_eq!(
            events.iter().map(|e| e.short()).collect::<Vec<_>>(),
            ["source-relation-departed:requirer-charm/1"]
        );
        assert_eq!(events[0].departing, "requirer-charm/1");
    }
    let events = m.events_of("requirer-charm/1");
    assert_eq!(
        events[..2].iter().map(|e| e.split(':').next().unwrap()).collect::<Vec<_>>(),
        ["upstream-relation-departed", "upstream-relation-departed"],
        "{events:?}"
    );
    assert_eq!(events[2], "upstream-relation-broken", "{events:?}");
    assert_eq!(&events[3..], ["stop", "remove"]);
    assert!(m.state().relations.contains_key(&1), "the relation stays for the remaining units");
}

/// Removing an application destroys its relations first (`state/application.go`): the other side
/// departs its units and breaks the relation; the relation is gone afterwards.
#[test]
fn remove_application_breaks_its_relations_on_the_other_side() {
    let m = related("rel-rmapp");
    m.clear_events();
    m.ok(&["remove-application", "requirer-charm"]);
    m.wait();
    for unit in ["test-charm/0", "test-charm/1"] {
        assert_eq!(
            m.events_of(unit),
            ["source-relation-departed:requirer-charm/0", "source-relation-broken"],
            "{unit}"
        );
    }
    let events = m.events_of("requirer-charm/0");
    assert_eq!(events.iter().filter(|e| *e == "upstream-relation-broken").count(), 1, "{events:?}");
    let departed: Vec<_> = m
        .events()
        .into_iter()
        .filter(|e| e.unit == "requirer-charm/0" && e.path.ends_with("departed"))
        .collect();
    assert!(
        departed.iter().all(|e| e.departing == "requirer-charm/0"),
        "the leaving app's units depart themselves: {departed:?}"
    );
    assert!(m.state().relations.values().all(|r| r.is_peer()));
    assert_eq!(m.exec("test-charm/0", "relation-ids source"), "");
}

/// `status` shows each relation as Juju 3.6 does: in JSON under each application's endpoint
/// with `related-application` and `interface` (`cmd/juju/status/formatter.go`), and with
/// `--relations` the `Integration provider  Requirer  Interface  Type  Message` table
/// (`cmd/juju/status/output_tabular.go`).
#[test]
fn status_lists_relations_in_json_and_in_the_relations_table() {
    let m = related("rel-status");
    let doc: serde_json::Value = serde_json::from_str(&m.ok(&["status", "--format", "json"])).unwrap();
    let apps = &doc["applications"];
    assert_eq!(
        apps["test-charm"]["relations"]["source"],
        serde_json::json!([{"related-application": "requirer-charm", "interface": "test-data", "scope": "global"}])
    );
    assert_eq!(apps["test-charm"]["relations"]["cluster"][0]["related-application"], "test-charm");
    assert_eq!(apps["requirer-charm"]["relations"]["upstream"][0]["related-application"], "test-charm");
    let table = m.ok(&["status", "--relations"]);
    let header = table.lines().position(|l| l.starts_with("Integration provider")).expect("relations table");
    let rows: Vec<Vec<&str>> = table.lines().skip(header).map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(rows[0], ["Integration", "provider", "Requirer", "Interface", "Type", "Message"]);
    assert!(
        rows.contains(&vec!["test-charm:cluster", "test-charm:cluster", "test-cluster", "peer"]),
        "{table}"
    );
    assert!(
        rows.contains(&vec!["test-charm:source", "requirer-charm:upstream", "test-data", "regular"]),
        "{table}"
    );
    assert!(!m.ok(&["status"]).contains("Integration provider"), "only with --relations, as Juju 3.6");
}

/// A unit that enters a relation whose remote application bag was already written runs the
/// app-level `-relation-changed` (no remote unit) before its joins: Juju's resolver triggers
/// application hooks first (`resolver.go`, `nextHookForRelation`, "trigger all app hooks first").
#[test]
fn a_newcomer_sees_the_remote_application_bag_before_its_joins() {
    let m = related("rel-appfirst");
    m.exec("test-charm/0", "relation-set -r source:1 --app endpoint=here");
    m.wait();
    m.clear_events();
    m.ok(&["add-unit", "requirer-charm"]);
    m.wait();
    let events = m.events_of("requirer-charm/1");
    let start = events.iter().position(|e| e == "start").expect("start");
    assert_eq!(events[start + 1], "upstream-relation-changed", "{events:?}");
    assert!(events[start + 2].starts_with("upstream-relation-joined:"), "{events:?}");
    assert_eq!(m.exec("requirer-charm/1", "relation-get -r upstream:1 --app endpoint test-charm"), "here");
}

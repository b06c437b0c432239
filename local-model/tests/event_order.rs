//! Juju's event order (juju-contract §3), observed through the shell test charm's event log:
//! deploy, add-unit, remove-unit (leader and not), config changes and leader re-election.

mod common;

use common::{TestModel, THIRD_UNIT_TEARDOWN};

const PEERS: &str = "cluster-relation";

fn setup(leader: bool) -> Vec<String> {
    let mut v: Vec<String> =
        ["data-storage-attached", "install", "cluster-relation-created"].map(String::from).into();
    if leader {
        v.push("leader-elected".into());
    }
    v.extend(["config-changed", "start"].map(String::from));
    v
}

/// After the setup hooks: each remote's -joined is immediately followed by its -changed; any
/// other event is a further -changed of a remote already joined (a peer's commit can land after
/// the first -changed ran). Returns the remotes in joining order.
fn joined_pairs(events: &[String]) -> Vec<String> {
    let mut remotes: Vec<String> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        if let Some(remote) = e.strip_prefix(&format!("{PEERS}-joined:")) {
            assert_eq!(events.get(i + 1), Some(&format!("{PEERS}-changed:{remote}")), "in {events:?}");
            remotes.push(remote.to_string());
        } else {
            let remote =
                e.strip_prefix(&format!("{PEERS}-changed:")).unwrap_or_else(|| panic!("{e} in {events:?}"));
            assert!(remotes.iter().any(|r| r == remote), "-changed before -joined in {events:?}");
        }
    }
    remotes
}

#[test]
fn deploy_three_units_runs_setup_in_order_then_joins_every_peer() {
    let m = TestModel::deployed("order", 3);
    for n in 0..3 {
        let unit = format!("test-charm/{n}");
        let events = m.events_of(&unit);
        assert_eq!(events[..setup(n == 0).len()], setup(n == 0)[..], "{unit}: {events:?}");
        let mut remotes = joined_pairs(&events[setup(n == 0).len()..]);
        remotes.sort();
        let mut want: Vec<String> = (0..3).filter(|p| *p != n).map(|p| format!("test-charm/{p}")).collect();
        want.sort();
        assert_eq!(remotes, want, "{unit}: {events:?}");
    }
    let state = m.state();
    assert_eq!(state.applications["test-charm"].leader.as_deref(), Some("test-charm/0"));
    let list = m.exec("test-charm/1", "relation-list -r cluster:0 --format=json");
    assert_eq!(list, r#"["test-charm/0","test-charm/2"]"#);
}

#[test]
fn add_unit_joins_existing_peers_after_its_relation_created() {
    let m = TestModel::deployed("addunit", 2);
    m.clear_events();
    m.ok(&["add-unit", "test-charm"]);
    m.wait();
    let events = m.events_of("test-charm/2");
    let mut want = setup(false);
    for p in 0..2 {
        want.push(format!("{PEERS}-joined:test-charm/{p}"));
        want.push(format!("{PEERS}-changed:test-charm/{p}"));
    }
    assert_eq!(events, want);
    let all = m.events();
    let created =
        all.iter().position(|e| e.unit == "test-charm/2" && e.short() == "cluster-relation-created");
    for p in 0..2 {
        let unit = format!("test-charm/{p}");
        // The newcomer's own config-changed writes its bag; depending on timing that commit
        // lands before or after this unit ran the first -changed, so one more may follow.
        let events = m.events_of(&unit);
        assert_eq!(
            events[..2],
            [format!("{PEERS}-joined:test-charm/2"), format!("{PEERS}-changed:test-charm/2")]
        );
        assert!(events[2..].iter().all(|e| *e == format!("{PEERS}-changed:test-charm/2")), "{events:?}");
        assert!(events.len() <= 3, "{events:?}");
        let joined =
            all.iter().position(|e| e.unit == unit && e.short() == "cluster-relation-joined:test-charm/2");
        assert!(created < joined, "{unit} saw the newcomer before it entered scope: {all:?}");
    }
}

#[test]
fn remove_non_leader_departs_both_ways_and_tears_down() {
    let m = TestModel::deployed("rmunit", 3);
    m.clear_events();
    m.ok(&["remove-unit", "test-charm/2"]);
    m.ok(&["wait", "--timeout", "60s", "--units", "2"]);
    let departing: Vec<_> = m.events().into_iter().filter(|e| e.path.ends_with("-departed")).collect();
    assert!(departing.iter().all(|e| e.departing == "test-charm/2"), "{departing:?}");
    assert_eq!(m.events_of("test-charm/2"), THIRD_UNIT_TEARDOWN);
    for p in 0..2 {
        assert_eq!(m.events_of(&format!("test-charm/{p}")), ["cluster-relation-departed:test-charm/2"]);
    }
    let state = m.state();
    assert!(!state.units.contains_key("test-charm/2"));
    assert_eq!(state.applications["test-charm"].leader.as_deref(), Some("test-charm/0"));
    assert!(!m.dir().join("units/test-charm-2").exists());
    assert_eq!(m.exec("test-charm/0", "relation-list -r cluster:0 --format=json"), r#"["test-charm/1"]"#);
}

#[test]
fn removing_the_leader_elects_the_lowest_survivor() {
    let m = TestModel::deployed("rmleader", 3);
    m.clear_events();
    m.ok(&["remove-unit", "test-charm/0"]);
    m.ok(&["wait", "--timeout", "60s", "--units", "2"]);
    let state = m.state();
    assert_eq!(state.applications["test-charm"].leader.as_deref(), Some("test-charm/1"));
    let e1 = m.events_of("test-charm/1");
    assert!(e1.contains(&"leader-elected".to_string()), "{e1:?}");
    assert!(!m.events_of("test-charm/2").contains(&"leader-elected".to_string()));
    assert_eq!(m.exec("test-charm/1", "is-leader --format=json"), "true");
    assert_eq!(m.exec("test-charm/2", "is-leader --format=json"), "false");
    let status = m.ok(&["status", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(doc["applications"]["test-charm"]["units"]["test-charm/1"]["leader"], true);
    assert!(doc["applications"]["test-charm"]["units"]["test-charm/2"].get("leader").is_none());
}

#[test]
fn config_change_runs_config_changed_everywhere_and_commits_relation_data() {
    let m = TestModel::deployed("config", 2);
    m.clear_events();
    m.ok(&["config", "test-charm", "greeting=hey"]);
    m.wait();
    for (me, peer) in [(0, 1), (1, 0)] {
        let events = m.events_of(&format!("test-charm/{me}"));
        assert_eq!(events[0], "config-changed", "{events:?}");
        assert!(events.contains(&format!("{PEERS}-changed:test-charm/{peer}")), "{events:?}");
    }
    let seen = m.exec("test-charm/1", "relation-get -r cluster:0 greeting test-charm/0");
    assert_eq!(seen, "hey");
    assert_eq!(m.ok(&["config", "test-charm", "greeting"]).trim(), "hey");
    m.clear_events();
    m.ok(&["config", "test-charm", "greeting=hey"]);
    m.wait();
    assert!(m.events_of("test-charm/0").is_empty(), "unchanged config must not fire config-changed");
}

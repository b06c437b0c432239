//! Unit tests of [`super::apply_pending`]: fan-out rules, no-op writes, secrets, round trips.

use super::*;
use crate::state::{Relation, Secret, Unit};

fn model() -> ModelState {
    let mut state = ModelState::default();
    for n in 0..3 {
        let name = format!("valkey/{n}");
        let mut unit = Unit { name: name.clone(), application: "valkey".into(), ..Unit::default() };
        let others = (0..3).filter(|&m| m != n).map(|m| format!("valkey/{m}")).collect();
        unit.relation_views.insert(0, others);
        state.units.insert(name, unit);
    }
    let relation = Relation {
        id: 0,
        endpoint: "valkey-peers".into(),
        applications: ["valkey".to_string()].into(),
        ..Relation::default()
    };
    state.relations.insert(0, relation);
    state
}

fn pending_unit_bag(key: &str, value: Option<&str>) -> PendingChanges {
    let mut p = PendingChanges { unit: "valkey/0".into(), ..PendingChanges::default() };
    p.unit_bags.entry(0).or_default().insert(key.into(), value.map(str::to_string));
    p
}

#[test]
fn unit_bag_change_fans_out_to_units_that_see_the_writer() {
    let mut state = model();
    state.units.get_mut("valkey/2").unwrap().relation_views.get_mut(&0).unwrap().remove("valkey/0");
    let events = apply_pending(&mut state, &pending_unit_bag("k", Some("v")));
    assert_eq!(state.relations[&0].unit_bags["valkey/0"]["k"], "v");
    assert_eq!(events.len(), 1);
    let (unit, event) = &events[0];
    assert_eq!(unit, "valkey/1");
    assert_eq!(event.name, "valkey-peers-relation-changed");
    assert_eq!(event.remote_unit.as_deref(), Some("valkey/0"));
    assert_eq!(event.remote_app.as_deref(), Some("valkey"));
    assert_eq!(event.relation_id, Some(0));
    // Writing the same value again changes nothing and fires nothing.
    assert!(apply_pending(&mut state, &pending_unit_bag("k", Some("v"))).is_empty());
    // Deleting a key that does not exist fires nothing either.
    assert!(apply_pending(&mut state, &pending_unit_bag("gone", None)).is_empty());
}

#[test]
fn app_bag_change_fires_on_every_peer_the_writing_leader_too_without_remote_unit() {
    let mut state = model();
    let mut p = PendingChanges { unit: "valkey/0".into(), ..PendingChanges::default() };
    p.app_bags.entry(0).or_default().insert("leader".into(), Some("valkey/0".into()));
    let events = apply_pending(&mut state, &p);
    let units: Vec<&str> = events.iter().map(|(u, _)| u.as_str()).collect();
    // Juju: on a peer relation every unit watches its own application's bag, the leader included
    // (internal/worker/uniter/relation/resolver.go, nextHookForRelation's app-level changes).
    assert_eq!(units, ["valkey/0", "valkey/1", "valkey/2"]);
    assert!(events.iter().all(|(_, e)| e.remote_unit.is_none() && e.remote_app.as_deref() == Some("valkey")));
    assert_eq!(state.relations[&0].app_bags["valkey"]["leader"], "valkey/0");
}

#[test]
fn app_bag_change_in_a_regular_relation_fires_on_the_other_side_only() {
    let mut state = model();
    let mut client = Unit { name: "client/0".into(), application: "client".into(), ..Unit::default() };
    client.relation_views.insert(1, ["valkey/0".to_string()].into());
    state.units.insert("client/0".into(), client);
    state.units.get_mut("valkey/1").unwrap().relation_views.insert(1, ["client/0".to_string()].into());
    let relation = Relation {
        id: 1,
        endpoint: "db".into(),
        applications: ["valkey".to_string(), "client".to_string()].into(),
        ..Relation::default()
    };
    state.relations.insert(1, relation);
    let mut p = PendingChanges { unit: "valkey/0".into(), ..PendingChanges::default() };
    p.app_bags.entry(1).or_default().insert("endpoint".into(), Some("127.0.0.2:6379".into()));
    // A change aimed at a relation that is gone is dropped quietly.
    p.unit_bags.entry(9).or_default().insert("k".into(), Some("v".into()));
    let events = apply_pending(&mut state, &p);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0, "client/0");
    assert_eq!(events[0].1.name, "db-relation-changed");
    assert!(!state.relations.contains_key(&9));
}

#[test]
fn new_secret_revision_notifies_consumers_on_older_revisions() {
    let mut state = model();
    let mut secret = Secret { id: "s1".into(), owner: "valkey".into(), ..Secret::default() };
    secret.revisions.insert(1, [("pw".to_string(), "a".to_string())].into());
    secret.tracking.insert("valkey/1".into(), 1);
    state.secrets.insert("s1".into(), secret);
    let mut p = PendingChanges { unit: "valkey/0".into(), ..PendingChanges::default() };
    let content: Bag = [("pw".to_string(), "b".to_string())].into();
    p.secrets.push(SecretChange::Set {
        id: "s1".into(),
        content: Some(content),
        label: None,
        description: None,
    });
    let events = apply_pending(&mut state, &p);
    assert_eq!(state.secrets["s1"].revisions.len(), 2);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0, "valkey/1");
    assert_eq!(events[0].1.name, "secret-changed");
    assert_eq!(events[0].1.secret_id.as_deref(), Some("s1"), "bare id, as the agent expects");
}

#[test]
fn pending_secret_changes_survive_a_json_round_trip() {
    let mut secret = Secret { id: "s1".into(), owner: "valkey".into(), ..Secret::default() };
    secret.revisions.insert(1, [("pw".to_string(), "a".to_string())].into());
    secret.grants.insert(1, ["client".to_string()].into());
    let mut p = PendingChanges { unit: "valkey/0".into(), ..PendingChanges::default() };
    p.secrets.push(SecretChange::Add { secret });
    let text = serde_json::to_string(&p).unwrap();
    assert_eq!(serde_json::from_str::<PendingChanges>(&text).unwrap(), p);
}

#[test]
fn state_and_ports_apply_to_the_writer() {
    let mut state = model();
    let mut p = PendingChanges { unit: "valkey/0".into(), ..PendingChanges::default() };
    p.state.insert("a".into(), Some("1".into()));
    p.ports.insert("6379/tcp".into(), true);
    assert!(apply_pending(&mut state, &p).is_empty());
    assert_eq!(state.units["valkey/0"].state["a"], "1");
    assert!(state.units["valkey/0"].opened_ports.contains("6379/tcp"));
}

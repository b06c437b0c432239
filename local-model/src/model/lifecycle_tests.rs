//! Unit tests of the pure lifecycle rules (event order, scope, removal, leadership).

use super::*;
use crate::state::Application;
use std::path::Path;

fn names(unit: &Unit) -> Vec<String> {
    unit.queue
        .iter()
        .map(|e| match e {
            QueuedEvent::Hook(h) => match &h.remote_unit {
                Some(r) => format!("{}:{r}", h.name),
                None => h.name.clone(),
            },
            QueuedEvent::Operation { id } => format!("op{id}"),
        })
        .collect()
}

fn model(n: u32) -> ModelState {
    let mut s = ModelState { address_block: [127, 0, 9], ..ModelState::default() };
    s.applications.insert(
        "a".into(),
        Application {
            name: "a".into(),
            peer_endpoints: vec!["p".into()],
            storage_names: vec!["data".into()],
            ..Application::default()
        },
    );
    create_peer_relations(&mut s, "a");
    for _ in 0..n {
        add_unit(&mut s, "a", |u, id| PathBuf::from(format!("/x/{u}/{id}")), 0.0).unwrap();
    }
    s
}

#[test]
fn new_units_get_setup_hooks_and_the_first_leads() {
    let s = model(2);
    let setup = [
        "data-storage-attached",
        "install",
        "p-relation-created",
        "leader-elected",
        "config-changed",
        "start",
    ];
    assert_eq!(names(&s.units["a/0"]), setup);
    let follower: Vec<&str> = setup.iter().copied().filter(|n| *n != "leader-elected").collect();
    assert_eq!(names(&s.units["a/1"]), follower);
    assert_eq!(s.units["a/1"].address, Ipv4Addr::new(127, 0, 9, 3));
    assert_eq!(s.units["a/1"].storage.keys().collect::<Vec<_>>(), ["data/1"]);
    assert_eq!(s.applications["a"].leader.as_deref(), Some("a/0"));
    assert_eq!(s.relations[&0].unit_bags["a/1"]["ingress-address"], "127.0.9.3");
}

/// Machine mode: a unit's storage is located where Juju mounts it on the unit's machine (the
/// charm's `location:` for a singleton store, `domain/storage/mount.go`, `FilesystemMountPoint`),
/// its host directory kept; the other modes share one filesystem, so the host directory answers.
#[test]
fn storage_is_located_at_the_mount_point_in_machine_mode_only() {
    let with_location = |mode| {
        let mut s = model(0);
        s.network_mode = mode;
        let app = s.applications.get_mut("a").unwrap();
        app.storage_specs.insert("data".into(), crate::state::StorageSpec::new("/var/lib/a", None));
        add_unit(&mut s, "a", |u, id| PathBuf::from(format!("/x/{u}/{id}")), 0.0).unwrap();
        s.units.remove("a/0").unwrap()
    };
    let machine = with_location(crate::hosts::NetworkMode::Machines);
    assert_eq!(machine.storage_location("data/0"), Some(Path::new("/var/lib/a")));
    assert_eq!(machine.storage["data/0"], Path::new("/x/a/0/data/0"), "the host directory is kept");
    for mode in [crate::hosts::NetworkMode::Loopback, crate::hosts::NetworkMode::Hosts] {
        let unit = with_location(mode);
        assert_eq!(unit.storage_location("data/0"), Some(Path::new("/x/a/0/data/0")), "{mode:?}");
    }
    // No location: Juju's storage directory, under the storage id.
    let mut s = model(0);
    s.network_mode = crate::hosts::NetworkMode::Machines;
    add_unit(&mut s, "a", |u, id| PathBuf::from(format!("/x/{u}/{id}")), 0.0).unwrap();
    assert_eq!(s.units["a/0"].storage_location("data/0"), Some(Path::new("/var/lib/juju/storage/data/0")));
    // A location Juju refuses is refused.
    let mut s = model(0);
    s.network_mode = crate::hosts::NetworkMode::Machines;
    let spec = crate::state::StorageSpec::new("/var/lib/juju/storage/a", None);
    s.applications.get_mut("a").unwrap().storage_specs.insert("data".into(), spec);
    let err = add_unit(&mut s, "a", |u, id| PathBuf::from(format!("/x/{u}/{id}")), 0.0).unwrap_err();
    assert!(err.to_string().contains("must not fall within"), "{err}");
}

#[test]
fn entering_scope_joins_units_already_in_scope_both_ways() {
    let mut s = model(3);
    for u in s.units.values_mut() {
        u.queue.clear();
    }
    enter_scope(&mut s, "a/2", 0);
    assert!(names(&s.units["a/0"]).is_empty(), "a/0 is not in scope yet");
    enter_scope(&mut s, "a/0", 0);
    enter_scope(&mut s, "a/1", 0);
    assert_eq!(
        names(&s.units["a/1"]),
        [
            "p-relation-joined:a/0",
            "p-relation-changed:a/0",
            "p-relation-joined:a/2",
            "p-relation-changed:a/2"
        ]
    );
    assert_eq!(
        names(&s.units["a/0"]),
        [
            "p-relation-joined:a/2",
            "p-relation-changed:a/2",
            "p-relation-joined:a/1",
            "p-relation-changed:a/1"
        ]
    );
}

#[test]
fn removal_departs_both_ways_and_reelects() {
    let mut s = three_in_scope();
    s.units.get_mut("a/1").unwrap().queue.push_back(QueuedEvent::Hook(relation_hook(
        "p",
        "changed",
        0,
        Some("a/0"),
        "a",
    )));
    begin_removal(&mut s, "a/0", None).unwrap();
    // Departed first, Juju's usual order (the default teardown-order).
    assert_eq!(
        names(&s.units["a/0"]),
        ["p-relation-departed:a/1", "p-relation-departed:a/2", "data-storage-detaching", "stop", "remove"]
    );
    assert_eq!(names(&s.units["a/1"]), ["p-relation-departed:a/0"], "stale -changed dropped");
    assert_eq!(names(&s.units["a/2"]), ["p-relation-departed:a/0"]);
    // A Dying leader keeps its lease until it is gone (leadership/resolver.go).
    assert_eq!(s.applications["a"].leader.as_deref(), Some("a/0"));
    assert!(begin_removal(&mut s, "a/0", None).is_err(), "twice");
    assert!(begin_removal(&mut s, "a/9", None).is_err());
    finish_removal(&mut s, "a/0");
    assert!(!s.units.contains_key("a/0"));
    assert!(!s.relations[&0].unit_bags.contains_key("a/0"));
    assert_eq!(s.applications["a"].leader.as_deref(), Some("a/1"));
    assert_eq!(names(&s.units["a/1"]), ["p-relation-departed:a/0", "leader-elected"]);
}

/// Three units of `a`, queues empty, every one in scope and seeing the other two.
fn three_in_scope() -> ModelState {
    let mut s = model(3);
    for u in s.units.values_mut() {
        u.queue.clear();
        u.relation_views.insert(0, Default::default());
    }
    for (me, other) in
        [("a/0", "a/1"), ("a/0", "a/2"), ("a/1", "a/0"), ("a/2", "a/0"), ("a/1", "a/2"), ("a/2", "a/1")]
    {
        s.units.get_mut(me).unwrap().relation_views.get_mut(&0).unwrap().insert(other.into());
    }
    s
}

#[test]
fn teardown_order_follows_the_model_config() {
    let mut s = three_in_scope();
    s.teardown_order = crate::state::TeardownOrder::StorageFirst;
    begin_removal(&mut s, "a/2", None).unwrap();
    assert_eq!(
        names(&s.units["a/2"]),
        ["data-storage-detaching", "p-relation-departed:a/0", "p-relation-departed:a/1", "stop", "remove"]
    );
    let seed = (0..64)
        .find(|seed| crate::state::TeardownOrder::Random { seed: *seed }.storage_first("a/1"))
        .expect("some seed puts storage first");
    s.teardown_order = crate::state::TeardownOrder::Random { seed };
    begin_removal(&mut s, "a/1", None).unwrap();
    // The departure of a/2 queued a moment ago became a/1's own (departing unit a/1).
    assert_eq!(
        names(&s.units["a/1"]),
        ["data-storage-detaching", "p-relation-departed:a/0", "p-relation-departed:a/2", "stop", "remove"]
    );
    let departing: Vec<_> = s.units["a/1"]
        .queue
        .iter()
        .filter_map(|e| match e {
            QueuedEvent::Hook(h) if h.name.ends_with("-departed") => h.departing_unit.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(departing, ["a/1", "a/1"]);
}

#[test]
fn a_departed_unit_leaves_the_cache_and_joined_or_changed_invalidates_it() {
    let mut u = Unit::default();
    u.relation_views.insert(0, ["a/1".to_string(), "a/2".to_string()].into());
    let cached: Bag = [("k".to_string(), "old".to_string())].into();
    u.relation_cache.insert(0, [("a/1".to_string(), cached.clone()), ("a/2".to_string(), cached)].into());
    on_hook_start(&mut u, &hook("update-status"));
    on_hook_start(&mut u, &relation_hook("p", "changed", 0, None, "a"));
    assert_eq!(u.relation_cache[&0].len(), 2, "neither update-status nor an app-level -changed re-reads");
    on_hook_start(&mut u, &relation_hook("p", "changed", 0, Some("a/1"), "a"));
    assert!(!u.relation_cache[&0].contains_key("a/1"));
    assert!(u.relation_cache[&0].contains_key("a/2"));
    on_hook_start(&mut u, &relation_hook("p", "departed", 0, Some("a/2"), "a"));
    assert!(u.relation_cache[&0].is_empty());
    assert!(!u.relation_views[&0].contains("a/2"), "gone from relation-list during its -departed");
}

#[test]
fn a_newcomer_gets_the_app_level_changed_before_its_joins_once_the_bag_was_written() {
    let mut s = three_in_scope();
    s.units.get_mut("a/2").unwrap().relation_views.clear();
    enter_scope(&mut s, "a/2", 0);
    assert_eq!(names(&s.units["a/2"])[..2], ["p-relation-joined:a/0", "p-relation-changed:a/0"]);
    let mut s = three_in_scope();
    s.units.get_mut("a/2").unwrap().relation_views.clear();
    s.relations.get_mut(&0).unwrap().app_bags.get_mut("a").unwrap().insert("k".into(), "v".into());
    enter_scope(&mut s, "a/2", 0);
    assert_eq!(names(&s.units["a/2"])[..2], ["p-relation-changed", "p-relation-joined:a/0"]);
}

#[test]
fn dedupes_identical_queued_relation_changed() {
    let mut u = Unit::default();
    let e = QueuedEvent::Hook(relation_hook("p", "changed", 0, Some("a/1"), "a"));
    enqueue(&mut u, e.clone());
    enqueue(&mut u, e);
    enqueue(&mut u, QueuedEvent::Hook(hook("config-changed")));
    enqueue(&mut u, QueuedEvent::Hook(hook("config-changed")));
    assert_eq!(names(&u), ["p-relation-changed:a/1", "config-changed", "config-changed"]);
}

#[test]
fn forced_removal_runs_the_same_hooks_within_a_bound() {
    let mut s = three_in_scope();
    begin_removal(&mut s, "a/2", Some(100.0)).unwrap();
    assert_eq!(
        names(&s.units["a/2"]),
        ["p-relation-departed:a/0", "p-relation-departed:a/1", "data-storage-detaching", "stop", "remove"]
    );
    assert!(forced_due(&s, 99.0).is_empty());
    assert_eq!(next_force_deadline(&s), 100.0);
    begin_removal(&mut s, "a/2", Some(50.0)).unwrap();
    assert_eq!(forced_due(&s, 50.0), ["a/2"], "forcing again only tightens the bound");
    assert!(begin_removal(&mut s, "a/2", None).is_err(), "a plain removal of a dying unit is refused");
}

//! Every effect the charm has is a [`Step`] some plan produces: one table case per step (the
//! dedicated tables elsewhere test each rule in depth), plus the housekeeping steps and the
//! Sentinel tuning, which before the loop ran outside any step.

use super::*;
use crate::observe::fixture::{host, peer, primary_info, replica_info, sentinel};
use crate::observe::Observed;
use crate::valkey::{Endpoint, ReplicationInfo};
use crate::workload::{OnDisk, VALKEY_PORT};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// The position of each variant in [`every_step`]. No wildcard: a new variant does not compile
/// until it is given the next position, and then `every_step` must list it and the table below
/// must plan it.
fn position(s: &Step) -> usize {
    match s {
        Step::CreatePasswords { .. } => 0,
        Step::Install => 1,
        Step::MoveState => 2,
        Step::KeepPrivate(_) => 3,
        Step::RememberUnitHosts(_) => 4,
        Step::PublishHost(_) => 5,
        Step::PublishSwitchovers(_) => 6,
        Step::RequestStart => 7,
        Step::GrantLock(_) => 8,
        Step::ReleaseLock => 9,
        Step::MarkBootstrapped => 10,
        Step::RecordMembers(_) => 11,
        Step::StartWorkload { .. } => 12,
        Step::EnsureServices => 13,
        Step::TuneSentinel => 14,
        Step::RefreshSupervision(_) => 15,
        Step::RestartAsReplica(_) => 16,
        Step::KeepValkeyDown => 17,
        Step::ApplySettings { .. } => 18,
        Step::Rebind(_) => 19,
        Step::FollowAddresses { .. } => 20,
        Step::FollowPrimary(_) => 21,
        Step::AllowPromotion(_) => 22,
        Step::SetQuorum { .. } => 23,
        Step::ResetSentinel { .. } => 24,
        Step::AnnounceUpkeep(_) => 25,
        Step::HandOver { .. } => 26,
        Step::StepAside { .. } => 27,
        Step::StopServices => 28,
        Step::MarkRetired => 29,
    }
}

/// One of every step, in [`position`] order.
fn every_step() -> Vec<Step> {
    let ep = Endpoint::new(host(1), VALKEY_PORT);
    vec![
        Step::CreatePasswords { relation_id: "valkey-peers:0".into() },
        Step::Install,
        Step::MoveState,
        Step::KeepPrivate(vec![]),
        Step::RememberUnitHosts(Default::default()),
        Step::PublishHost(host(0)),
        Step::PublishSwitchovers(vec![]),
        Step::RequestStart,
        Step::GrantLock("valkey/0".into()),
        Step::ReleaseLock,
        Step::MarkBootstrapped,
        Step::RecordMembers(vec![]),
        Step::StartWorkload { primary: None, quorum: 1 },
        Step::EnsureServices,
        Step::TuneSentinel,
        Step::RefreshSupervision(Duration::ZERO),
        Step::RestartAsReplica(ep.clone()),
        Step::KeepValkeyDown,
        Step::ApplySettings { settings: RuntimeSettings::default(), priority: false },
        Step::Rebind(host(0)),
        Step::FollowAddresses {
            moved: vec![],
            addresses: Default::default(),
            restart_sentinel: false,
            replicaof: None,
        },
        Step::FollowPrimary(ep.clone()),
        Step::AllowPromotion(100),
        Step::SetQuorum { unit: "valkey/0".into(), host: host(0), quorum: 2 },
        Step::ResetSentinel {
            unit: "valkey/0".into(),
            host: host(0),
            expected_peers: 2,
            expected_replicas: 2,
        },
        Step::AnnounceUpkeep(1),
        Step::HandOver { sentinel: ep.clone(), admit: 100, avoid: vec![] },
        Step::StepAside { sentinel: ep },
        Step::StopServices,
        Step::MarkRetired,
    ]
}

/// A started unit 0 of three, primary, with nothing to do.
fn quiet_primary() -> Observed {
    let mut o = Observed::test(0)
        .with_peers(vec![peer(1, true, Some(1)), peer(2, true, Some(1))])
        .running(primary_info(10, &[(1, 10), (2, 10)]));
    o.local.restart_delay = Some(valkey_restart_delay(&o));
    o.applied = runtime_settings(o.config.as_ref().unwrap(), o.live_count()).ok();
    o
}

/// `quiet_primary`, led by this unit, whose Sentinel reports the majority quorum.
fn quiet_leader() -> Observed {
    let mut o = quiet_primary().leader();
    o.sentinels = vec![sentinel(0, 0, 2, 2, 2)];
    o
}

fn with(o: Observed, tweak: impl FnOnce(&mut Observed)) -> Observed {
    let mut o = o;
    tweak(&mut o);
    o
}

/// `(case, observation, a step the plan must hold)`; `retire` cases plan a leaving unit.
fn cases() -> Vec<(&'static str, Observed, bool, &'static str)> {
    let fenced = ReplicationInfo { priority: Some(0), ..replica_info(1, 10, true) };
    let down = |on_disk: OnDisk, primary_elsewhere: bool| {
        with(quiet_primary(), |o| {
            o.local.valkey_running = false;
            o.local.sentinel_running = false;
            o.local.replication = None;
            o.local.on_disk = on_disk;
            o.sentinels = if primary_elsewhere { vec![sentinel(1, 1, 2, 2, 2)] } else { vec![] };
        })
    };
    let empty_primary = OnDisk { conf: true, replicaof: None, data_files: false };
    let record = crate::history::Failover {
        at_ms: 1_000,
        old_primary: host(0),
        new_primary: host(1),
        kind: crate::history::Kind::Switchover,
        duration_ms: Some(300),
    };
    vec![
        (
            "the leader's first hook: no passwords yet",
            with(Observed::test(0).leader(), |o| o.credentials = None),
            false,
            "create-passwords",
        ),
        ("no binary yet", with(Observed::test(0), |o| o.installed = None), false, "install"),
        (
            "records left in etc/ by an older revision",
            with(quiet_primary(), |o| o.local.state_to_move = true),
            false,
            "move-state",
        ),
        (
            "config files readable by others",
            with(quiet_primary(), |o| {
                o.local.loose_files = vec![PathBuf::from("/var/lib/valkey/etc/valkey.conf")]
            }),
            false,
            "keep-private",
        ),
        (
            "a unit not remembered by name",
            with(quiet_primary(), |o| o.unit_hosts.clear()),
            false,
            "remember-unit-hosts",
        ),
        ("address not published", with(Observed::test(0), |o| o.me.host = None), false, "publish-host"),
        (
            "a switchover record not in the bag",
            with(Observed::test(0), |o| o.recorded_switchovers = vec![record]),
            false,
            "publish-switchovers",
        ),
        ("a newcomer asks for the lock", Observed::test(0), false, "request-start"),
        ("the first leader takes the lock", Observed::test(0).leader(), false, "grant-lock"),
        ("the first leader starts as primary", Observed::test(0).leader(), false, "start-workload"),
        (
            "the lock holder has started",
            with(quiet_leader(), |o| o.app.start_lock = Some("valkey/0".into())),
            false,
            "release-lock",
        ),
        (
            "a start not yet recorded",
            with(quiet_leader(), |o| o.app.bootstrapped = false),
            false,
            "mark-bootstrapped",
        ),
        ("members not recorded", with(quiet_leader(), |o| o.app.members.clear()), false, "record-members"),
        ("Valkey died", with(quiet_primary(), |o| o.local.valkey_running = false), false, "ensure-services"),
        (
            "a Sentinel process not tuned",
            with(quiet_primary(), |o| (o.local.sentinel_pid, o.local.tuned_pid) = (Some(42), Some(41))),
            false,
            "tune-sentinel",
        ),
        (
            "restart delay outdated",
            with(quiet_primary(), |o| o.local.restart_delay = None),
            false,
            "refresh-supervision",
        ),
        (
            "an empty old primary, another is primary",
            down(empty_primary.clone(), true),
            false,
            "restart-as-replica",
        ),
        ("an empty old primary, no other primary", down(empty_primary, false), false, "keep-valkey-down"),
        ("settings changed", with(quiet_primary(), |o| o.applied = None), false, "apply-settings"),
        (
            "own address moved",
            with(quiet_primary(), |o| o.local.bound.valkey = Some("198.18.0.9".into())),
            false,
            "rebind",
        ),
        (
            "a peer moved",
            with(quiet_primary(), |o| {
                o.local.bound.peers = Some([("valkey/1".to_string(), "198.18.0.1".to_string())].into());
                o.peers[0].address = Some("198.18.0.11".into());
            }),
            false,
            "follow-addresses",
        ),
        (
            "a stale primary after a healed partition",
            with(quiet_primary(), |o| {
                let mut view = sentinel(0, 2, 2, 2, 2);
                view.primary.as_mut().unwrap().config_epoch = 3;
                o.sentinels = vec![view];
                o.primary_info = Some(primary_info(900, &[(1, 900)]));
            }),
            false,
            "follow-primary",
        ),
        (
            "a fenced replica",
            with(quiet_primary(), |o| o.local.replication = Some(fenced)),
            false,
            "allow-promotion",
        ),
        (
            "quorum below a majority",
            with(quiet_leader(), |o| o.sentinels = vec![sentinel(0, 0, 1, 2, 2)]),
            false,
            "set-quorum",
        ),
        (
            "quorum below a majority",
            with(quiet_leader(), |o| o.sentinels = vec![sentinel(0, 0, 1, 2, 2)]),
            false,
            "announce-upkeep",
        ),
        (
            "a Sentinel counts a departed replica",
            with(quiet_leader(), |o| o.sentinels = vec![sentinel(0, 0, 2, 3, 2)]),
            false,
            "reset-sentinel",
        ),
        ("a leaving primary", quiet_primary(), true, "hand-over"),
        ("a leaving primary", quiet_primary(), true, "stop-services"),
        ("a leaving primary", quiet_primary(), true, "mark-retired"),
        (
            "a leaving replica",
            with(quiet_primary(), |o| o.local.replication = Some(replica_info(1, 10, true))),
            true,
            "step-aside",
        ),
    ]
}

#[test]
fn every_effect_is_a_step_that_some_plan_produces() {
    let mut planned = BTreeSet::new();
    for (case, o, leaving, want) in cases() {
        let steps = if leaving { retire(&o, false) } else { plan(&o).steps };
        let names: Vec<&str> = steps.iter().map(Step::name).collect();
        assert!(names.contains(&want), "{case}: wanted {want}, planned {names:?}");
        planned.extend(names);
    }
    let positions: Vec<usize> = every_step().iter().map(position).collect();
    assert_eq!(positions, (0..positions.len()).collect::<Vec<_>>(), "every_step lists each variant once");
    let all: BTreeSet<&str> = every_step().iter().map(Step::name).collect();
    assert_eq!(all.len(), every_step().len(), "names are unique");
    let missing: Vec<&&str> = all.difference(&planned).collect();
    assert!(missing.is_empty(), "steps no table case plans: {missing:?}");
    // And the quiet unit plans nothing at all: every step above was caused by its tweak.
    assert_eq!(plan(&quiet_primary()).steps, vec![], "a settled primary has nothing to do");
    assert_eq!(plan(&quiet_leader()).steps, vec![], "a settled leader has nothing to do");
}

#[test]
fn housekeeping_runs_whatever_else_the_unit_waits_for() {
    let loose = vec![PathBuf::from("/s/etc/valkey.conf"), PathBuf::from("/s/etc/sentinel.conf")];
    // Waiting for the passwords (nothing else planned), the files are still narrowed and the
    // names remembered, first.
    let mut o = Observed::test(0);
    o.credentials = None;
    o.local.loose_files = loose.clone();
    o.unit_hosts.clear();
    let p = plan(&o);
    assert_eq!(
        p.steps,
        vec![
            Step::KeepPrivate(loose.clone()),
            Step::RememberUnitHosts([(host(0), "valkey/0".to_string())].into()),
        ]
    );
    assert!(p.waiting.is_some(), "{p:?}");
    // Only what is new is remembered: a removed unit's name stays in the file.
    let mut o = quiet_primary();
    o.unit_hosts.insert("198.18.0.77".into(), "valkey/7".into());
    assert_eq!(plan(&o).steps, vec![]);
    o.peers.push(peer(3, true, Some(2)));
    let Some(Step::RememberUnitHosts(next)) =
        plan(&o).steps.into_iter().find(|s| s.name() == "remember-unit-hosts")
    else {
        panic!("a new peer is remembered")
    };
    assert_eq!(next.get("198.18.0.77").map(String::as_str), Some("valkey/7"));
    assert_eq!(next.get(&host(3)).map(String::as_str), Some("valkey/3"));
    // No storage, or retired: nothing of the unit's files to keep.
    let mut o = Observed::test(0);
    o.storage = None;
    o.local.loose_files = loose.clone();
    assert_eq!(housekeeping(&o), vec![]);
    let mut o = Observed::test(0);
    o.retired = true;
    o.local.loose_files = loose;
    assert_eq!(plan(&o).steps, vec![]);
}

#[test]
fn a_sentinel_is_tuned_once_per_process_and_only_on_a_started_unit() {
    let tune = |o: &Observed| plan(o).steps.contains(&Step::TuneSentinel);
    let pids = |sentinel: Option<u32>, tuned: Option<u32>| {
        with(quiet_primary(), |o| (o.local.sentinel_pid, o.local.tuned_pid) = (sentinel, tuned))
    };
    assert!(tune(&pids(Some(42), None)), "never tuned");
    assert!(tune(&pids(Some(42), Some(41))), "restarted since");
    assert!(!tune(&pids(Some(42), Some(42))), "this very process was tuned");
    assert!(!tune(&pids(None, Some(41))), "no Sentinel runs");
    let mut o = pids(Some(42), None);
    o.me.started = false;
    assert_eq!(tune_step(&o), None, "a starting unit tunes its Sentinel in its start step");
    // While the config is invalid the unit only heals: its Sentinel is still tuned.
    let mut o = pids(Some(42), None);
    o.config = Err(ConfigError { option: "parallel-syncs".into(), message: "must be 1..=64".into() });
    assert_eq!(plan(&o).steps, vec![Step::TuneSentinel]);
}

#[test]
fn only_steps_that_change_what_observe_sees_call_for_another_pass() {
    let again: Vec<&str> =
        every_step().iter().filter(|s| s.calls_for_another_look()).map(Step::name).collect();
    assert_eq!(
        again,
        [
            "create-passwords",
            "install",
            "start-workload",
            "ensure-services",
            "restart-as-replica",
            "rebind",
            "follow-primary",
            "reset-sentinel",
            "step-aside"
        ]
    );
    // A Sentinel restarted to follow moved peers is looked at again; a record of addresses is not.
    let follow = |restart_sentinel| Step::FollowAddresses {
        moved: vec![],
        addresses: Default::default(),
        restart_sentinel,
        replicaof: None,
    };
    assert!(follow(true).calls_for_another_look() && !follow(false).calls_for_another_look());
    assert!(!plan(&quiet_primary()).look_again());
}

/// `replica-priority` belongs to the start-up fence until it is lifted: the plan decides whether
/// changed settings include it, execute only carries that out.
#[test]
fn settings_include_replica_priority_only_once_the_fence_is_lifted() {
    let priority = |replication: ReplicationInfo| {
        let o = with(quiet_primary(), |o| {
            o.local.replication = Some(replication);
            o.applied = None;
        });
        plan(&o).steps.into_iter().find_map(|s| match s {
            Step::ApplySettings { priority, .. } => Some(priority),
            _ => None,
        })
    };
    assert_eq!(priority(replica_info(1, 10, true)), Some(true), "an admitted replica (priority 100)");
    let fenced = ReplicationInfo { priority: Some(0), ..replica_info(1, 10, true) };
    assert_eq!(priority(fenced), Some(false), "a replica still fenced");
    assert_eq!(priority(primary_info(10, &[(1, 10)])), Some(false), "a primary keeps the fence");
}

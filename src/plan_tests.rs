//! Table tests for [`super::plan`] and [`super::retire`].

use super::*;
use crate::observe::fixture::{host, peer, primary_info, replica_info, sentinel};
use crate::observe::Observed;
use crate::valkey::Endpoint;
use crate::valkey::ReplicationInfo;
use crate::workload::VALKEY_PORT;
use std::time::Duration;

fn ep(n: u32) -> Endpoint {
    Endpoint::new(host(n), VALKEY_PORT)
}

#[test]
fn quorum_formulas() {
    for (started, want) in [(0, 1), (1, 2), (2, 2), (3, 3), (4, 3), (6, 4)] {
        assert_eq!(newcomer_quorum(started), want, "newcomer with {started} started");
    }
    for (n, want) in [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3)] {
        assert_eq!(majority(n), want, "majority of {n}");
    }
}

#[test]
fn not_ready_units_wait_or_install() {
    let mut no_rel = Observed::test(0);
    no_rel.relation_id = None;
    let mut no_storage = Observed::test(0);
    no_storage.storage = None;
    let mut no_binary = Observed::test(0);
    no_binary.installed = None;
    let mut no_pw = Observed::test(1);
    no_pw.credentials = None;
    let mut bad = Observed::test(0).leader();
    bad.config = Err(ConfigError { option: "parallel-syncs".into(), message: "must be 1..=64".into() });
    let mut bad_uninstalled = bad.clone();
    bad_uninstalled.installed = None;
    let mut retired = Observed::test(0);
    retired.retired = true;
    // A started replica whose Valkey and Sentinel do not answer at the hook's address, gone from
    // the machine (it moved while the hook ran): nothing is restarted or re-rendered.
    let mut moved = Observed::test(1).with_peers(vec![peer(0, true, Some(1))]);
    moved.local.address_gone = true;
    moved.local.supervised = true;
    let mut unmoved = moved.clone();
    unmoved.local.address_gone = false;
    assert!(!plan(&unmoved).steps.is_empty(), "the same unit with its address plans a repair");
    let cases: Vec<(&str, Observed, Vec<Step>, Option<&str>)> = vec![
        (
            "address gone during the hook",
            moved,
            vec![],
            Some("this unit's address changed during the hook: the next hook follows it"),
        ),
        ("no relation", no_rel, vec![], Some("waiting for the peer relation")),
        ("no storage", no_storage, vec![], Some("waiting for data storage")),
        ("no binary", no_binary, vec![Step::Install], None),
        ("no passwords", no_pw, vec![], Some("waiting for the leader to create the passwords")),
        ("bad config touches nothing", bad, vec![], None),
        ("bad config still installs the binary", bad_uninstalled, vec![Step::Install], None),
        ("retired does nothing", retired, vec![], None),
    ];
    for (name, o, steps, waiting) in cases {
        let p = plan(&o);
        assert_eq!(p.steps, steps, "{name}");
        assert_eq!(p.waiting.as_deref(), waiting, "{name}");
    }
}

#[test]
fn new_address_is_published() {
    let mut o = Observed::test(1);
    o.me.host = Some("old.test".into());
    o.app.start_lock = Some("valkey/0".into());
    assert_eq!(plan(&o).steps[0], Step::PublishHost(host(1)));
}

#[test]
fn switchover_records_are_republished_until_every_bag_has_them() {
    use crate::history::{Failover, Kind};
    let rec = |time: &str, ms: u64| Failover {
        at_ms: crate::history::clock::naive_ms(&format!("2026-11-22 {time}")).unwrap(),
        old_primary: host(0),
        new_primary: host(1),
        kind: Kind::Switchover,
        duration_ms: Some(ms),
    };
    let published = |o: &Observed| {
        plan(o).steps.into_iter().find_map(|s| match s {
            Step::PublishSwitchovers(r) => Some(r),
            _ => None,
        })
    };
    let mut o = Observed::test(2);
    o.app.start_lock = Some("valkey/0".into());
    assert_eq!(published(&o), None, "nothing known, nothing written");
    // This unit ran one (the action recorded it), a peer publishes another.
    o.recorded_switchovers = vec![rec("10:00:02.000", 350)];
    let mut p = peer(0, true, None);
    p.switchovers = vec![rec("10:00:01.000", 410)];
    o.peers = vec![p];
    let both = vec![rec("10:00:01.000", 410), rec("10:00:02.000", 350)];
    assert_eq!(published(&o), Some(both.clone()));
    // Once this unit's bag holds the union, it writes no more.
    o.me.switchovers = both.clone();
    assert_eq!(published(&o), None);
    // A departed peer's records stay: they are in this unit's bag.
    o.peers.clear();
    assert_eq!(published(&o), None);
    assert_eq!(o.known_switchovers(), both);
}

#[test]
fn single_leader_grants_itself_and_starts_as_primary() {
    let p = plan(&Observed::test(0).leader());
    assert_eq!(
        p.steps,
        vec![
            Step::RequestStart,
            Step::GrantLock("valkey/0".into()),
            Step::StartWorkload { primary: None, quorum: 1 }
        ]
    );
    assert_eq!(p.waiting, None);
}

#[test]
fn non_leader_requests_and_waits_for_the_lock() {
    let mut o = Observed::test(2).with_peers(vec![peer(0, true, Some(1)), peer(1, false, Some(5))]);
    o.app.start_lock = Some("valkey/1".into());
    let p = plan(&o);
    assert_eq!(p.steps, vec![Step::RequestStart]);
    assert_eq!(p.waiting.as_deref(), Some("waiting for start lock (held by valkey/1)"));

    o.app.start_lock = None;
    o.me.start_requested = Some(9);
    let p = plan(&o);
    assert_eq!(p.steps, vec![]);
    assert_eq!(p.waiting.as_deref(), Some("waiting for the leader to grant the start lock"));
}

#[test]
fn holder_replicates_from_the_primary_the_sentinels_report() {
    let mut o = Observed::test(1).with_peers(vec![peer(0, true, Some(1))]);
    o.me.start_requested = Some(5);
    o.app.start_lock = Some("valkey/1".into());
    o.sentinels = vec![sentinel(0, 0, 1, 0, 0)];
    assert_eq!(plan(&o).steps, vec![Step::StartWorkload { primary: Some(ep(0)), quorum: 2 }]);

    // Two started, the newer epoch wins.
    let mut o2 = o.clone().with_peers(vec![peer(0, true, Some(1)), peer(2, true, Some(2))]);
    let mut newer = sentinel(2, 2, 2, 1, 1);
    newer.primary.as_mut().unwrap().config_epoch = 4;
    o2.sentinels = vec![sentinel(0, 0, 2, 1, 1), newer];
    assert_eq!(plan(&o2).steps, vec![Step::StartWorkload { primary: Some(ep(2)), quorum: 2 }]);

    // Sentinels name this unit as primary (e.g. restart after a crash): start as primary.
    let mut o3 = o.clone();
    o3.sentinels = vec![sentinel(0, 1, 1, 0, 0)];
    assert_eq!(plan(&o3).steps, vec![Step::StartWorkload { primary: None, quorum: 2 }]);

    // Started units exist but no Sentinel answers: never guess a primary.
    o.sentinels.clear();
    let p = plan(&o);
    assert_eq!(p.steps, vec![]);
    assert_eq!(p.waiting.as_deref(), Some("waiting for a reachable Sentinel that knows the primary"));
}

/// Leader valkey/0 (started) with peers; returns the lock steps only.
fn lock_steps(peers: Vec<crate::peers::PeerUnit>, lock: Option<&str>, since: Option<u64>) -> Vec<Step> {
    let mut o = Observed::test(0).leader().running(primary_info(0, &[])).with_peers(peers);
    o.applied = runtime_settings(o.config.as_ref().unwrap(), o.live_count()).ok();
    o.app.start_lock = lock.map(str::to_string);
    o.app.start_lock_since = since;
    o.app.bootstrapped = true;
    o.now = 1_000;
    plan(&o).steps.into_iter().filter(|s| matches!(s, Step::GrantLock(_) | Step::ReleaseLock)).collect()
}

#[test]
fn start_lock_table() {
    let grant = |u: &str| vec![Step::GrantLock(u.into())];
    let cases: Vec<(&str, Vec<Step>, Vec<Step>)> = vec![
        (
            "free lock goes to the earliest request",
            lock_steps(vec![peer(1, false, Some(50)), peer(2, false, Some(40))], None, None),
            grant("valkey/2"),
        ),
        (
            "tie goes to the lowest unit number",
            lock_steps(vec![peer(2, false, Some(40)), peer(1, false, Some(40))], None, None),
            grant("valkey/1"),
        ),
        (
            "units that did not ask are not granted",
            lock_steps(vec![peer(1, false, None)], None, None),
            vec![],
        ),
        (
            "a starting holder keeps it",
            lock_steps(vec![peer(1, false, Some(5)), peer(2, false, Some(6))], Some("valkey/1"), Some(990)),
            vec![],
        ),
        (
            "a started holder's lock passes on",
            lock_steps(vec![peer(1, true, Some(5)), peer(2, false, Some(6))], Some("valkey/1"), Some(990)),
            grant("valkey/2"),
        ),
        (
            "a started holder with nobody waiting is released",
            lock_steps(vec![peer(1, true, Some(5))], Some("valkey/1"), Some(990)),
            vec![Step::ReleaseLock],
        ),
        (
            "a departed holder's lock is reclaimed",
            lock_steps(vec![peer(2, false, Some(6))], Some("valkey/7"), Some(990)),
            grant("valkey/2"),
        ),
        (
            "a stalled holder goes to the back of the queue",
            lock_steps(vec![peer(1, false, Some(5)), peer(2, false, Some(6))], Some("valkey/1"), Some(800)),
            grant("valkey/2"),
        ),
        (
            "a stalled holder alone gets it again",
            lock_steps(vec![peer(1, false, Some(5))], Some("valkey/1"), Some(800)),
            grant("valkey/1"),
        ),
    ];
    for (name, got, want) in cases {
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn started_unit_restarts_services_and_applies_changed_settings() {
    let o = Observed::test(1).running(replica_info(0, 10, true));
    assert_eq!(plan(&o).steps, vec![]);

    let mut down = o.clone();
    down.local.sentinel_running = false;
    assert_eq!(plan(&down).steps, vec![Step::EnsureServices]);

    let mut changed = o.clone();
    changed.config.as_mut().unwrap().maxmemory_policy = "allkeys-lru".into();
    let steps = plan(&changed).steps;
    assert!(
        matches!(&steps[..], [Step::ApplySettings { settings: s, .. }] if s.valkey["maxmemory-policy"] == "allkeys-lru"),
        "{steps:?}"
    );

    // Scaling to 3 units turns the automatic min-replicas-to-write on, and a crash of this unit
    // (a lone unit so far, restarted at once) must now wait out a failover.
    let grown = o.clone().with_peers(vec![peer(0, true, Some(1)), peer(2, true, Some(2))]);
    let steps = plan(&grown).steps;
    assert!(
        matches!(&steps[..], [Step::RefreshSupervision(d), Step::ApplySettings { settings: s, .. }]
            if s.valkey["min-replicas-to-write"] == "1" && *d == Duration::from_millis(8000)),
        "{steps:?}"
    );
}

#[test]
fn restart_delay_is_zero_alone_and_outlasts_a_failover_with_peers() {
    let lone = Observed::test(0);
    assert_eq!(valkey_restart_delay(&lone), Duration::ZERO);
    let three = Observed::test(0).with_peers(vec![peer(1, true, None), peer(2, true, None)]);
    assert_eq!(valkey_restart_delay(&three), Duration::from_millis(8000));
    let mut slow = three.clone();
    slow.config.as_mut().unwrap().down_after_ms = 10_000;
    assert_eq!(valkey_restart_delay(&slow), Duration::from_millis(13_000));
}

/// The supervisor's restart delay follows the deployment on every reconcile of a started unit
/// (issue 12: the bootstrap unit kept `RestartSec=0ms` for ever).
#[test]
fn supervision_is_refreshed_whenever_its_restart_delay_is_not_the_wanted_one() {
    let ms = Duration::from_millis;
    let peers = || vec![peer(0, true, Some(1)), peer(2, true, Some(2))];
    let refresh = |o: &Observed| {
        plan(o).steps.into_iter().find_map(|s| match s {
            Step::RefreshSupervision(d) => Some(d),
            _ => None,
        })
    };
    let lone = Observed::test(1).running(primary_info(0, &[]));
    let mut bootstrap = lone.clone().with_peers(peers());
    bootstrap.local.restart_delay = Some(Duration::ZERO);
    let three = Observed::test(1).with_peers(peers()).running(replica_info(0, 10, true));
    let mut reconfigured = three.clone();
    reconfigured.config.as_mut().unwrap().down_after_ms = 10_000;
    let mut outdated = three.clone();
    outdated.local.restart_delay = None;
    let mut starting = three.clone();
    starting.me.started = false;
    starting.local.restart_delay = None;
    let cases: Vec<(&str, Observed, Option<Duration>)> = vec![
        ("a lone unit restarts at once, as its files say", lone, None),
        ("the bootstrap unit got peers: 0 ms → 8000 ms", bootstrap, Some(ms(8000))),
        ("up to date: nothing to do", three, None),
        ("juju config down-after-milliseconds=10000", reconfigured, Some(ms(13_000))),
        ("missing or outdated files (a new charm revision)", outdated, Some(ms(8000))),
        ("a unit not started yet renders its files when it starts", starting, None),
    ];
    for (name, o, want) in cases {
        assert_eq!(refresh(&o), want, "{name}");
    }
}

fn leader_with_three(views: Vec<crate::observe::SentinelView>) -> Vec<Step> {
    let mut o = Observed::test(0)
        .leader()
        .with_peers(vec![peer(1, true, Some(1)), peer(2, true, Some(2))])
        .running(primary_info(0, &[(1, 0), (2, 0)]));
    // valkey/3 departed: the leader remembers its host from when it was a peer.
    o.unit_hosts.insert(host(3), "valkey/3".into());
    o.sentinels = views;
    plan(&o).steps
}

/// The leader's exec context (`primary-changed` after a failover) sees valkey/3 as not started,
/// because its agent cached valkey/3's bag before the -changed that says otherwise: the ordinary
/// plan would lower every quorum from 3 (a majority of 4) to 2; the exec plan leaves that to the
/// hook that brings the fresh bag, and still follows the Sentinels.
#[test]
fn an_exec_context_decides_nothing_from_peers_bags() {
    let mut o = Observed::test(0)
        .leader()
        .with_peers(vec![peer(1, true, Some(1)), peer(2, true, Some(2)), peer(3, false, Some(3))])
        .running(primary_info(0, &[(1, 0), (2, 0), (3, 0)]));
    o.app.start_lock = Some("valkey/3".into());
    o.sentinels = (0..4).map(|n| sentinel(n, 1, 3, 3, 3)).collect();
    o.primary_info = Some(primary_info(0, &[(0, 0), (2, 0), (3, 0)]));
    let ordinary = plan(&o).steps;
    assert!(ordinary.iter().any(|s| matches!(s, Step::SetQuorum { .. })), "{ordinary:?}");
    let exec = for_exec_context(&o).steps;
    assert!(
        exec.iter()
            .all(|s| matches!(s, Step::FollowPrimary(_) | Step::AllowPromotion(_) | Step::EnsureServices)),
        "{exec:?}"
    );
    assert!(
        exec.iter().any(|s| matches!(s, Step::FollowPrimary(_))),
        "still follows the Sentinels: {exec:?}"
    );
}

#[test]
fn leader_keeps_quorum_at_a_majority() {
    let healthy = vec![sentinel(0, 0, 2, 2, 2), sentinel(1, 0, 2, 2, 2), sentinel(2, 0, 2, 2, 2)];
    assert_eq!(leader_with_three(healthy), vec![]);
    let stale = vec![sentinel(0, 0, 2, 2, 2), sentinel(1, 0, 1, 2, 2), sentinel(2, 0, 2, 2, 2)];
    assert_eq!(
        leader_with_three(stale),
        vec![Step::SetQuorum { unit: "valkey/1".into(), host: host(1), quorum: 2 }, Step::AnnounceUpkeep(1)]
    );
}

#[test]
fn leader_resets_every_sentinel_that_remembers_departed_units_in_turn() {
    let views = vec![sentinel(0, 0, 2, 2, 2), sentinel(1, 0, 2, 3, 3), sentinel(2, 0, 3, 2, 3)];
    let reset = |n: u32| Step::ResetSentinel {
        unit: format!("valkey/{n}"),
        host: host(n),
        expected_peers: 2,
        expected_replicas: 2,
    };
    assert_eq!(
        leader_with_three(views),
        vec![
            reset(1),
            reset(2),
            Step::SetQuorum { unit: "valkey/2".into(), host: host(2), quorum: 2 },
            Step::AnnounceUpkeep(1)
        ]
    );
}

/// A Sentinel entry: replica (`port` 6379) or peer Sentinel at `ip`, with `flags`.
fn knows(view: &mut crate::observe::SentinelView, ip: &str, sentinel: bool, flags: &[&str]) {
    let flags: Vec<String> = flags.iter().map(|f| f.to_string()).collect();
    if sentinel {
        view.peers.push(crate::valkey::KnownSentinel { ip: ip.into(), port: 26379, runid: ip.into(), flags });
    } else {
        view.replicas.push(crate::valkey::KnownReplica {
            ip: ip.into(),
            port: VALKEY_PORT,
            flags,
            ..Default::default()
        });
    }
}

/// Units known by IP; valkey/0 (the leader, primary) and valkey/2 run, valkey/1 moved from its
/// address `host(1)` to `NEW` (`juju-local change-address`). Its own hook rebound it and it
/// announces the new address, so the Sentinels reach it there — and, until a reset, still list
/// its old one, `s_down`: they count one replica too many. When the leader's hook is about
/// something else (another peer's change, `update-status`, an exec context), Juju gives it
/// valkey/1's bag as cached at its last `-changed`: the old address. The old rule took the node
/// at `NEW` for a departed one and reset, waiting 30 s for it to stop answering, which it never
/// does — then the next Sentinel's 30 s, past the hook's 60 s budget. The reset waits for the
/// `-relation-changed` that brings the new address.
#[test]
fn a_peer_that_moved_after_the_hook_read_its_bag_is_not_taken_for_a_departed_unit() {
    const NEW: &str = "198.18.9.3";
    let leader = |tweak: &dyn Fn(&mut Observed)| {
        let mut o = Observed::test(0)
            .leader()
            .with_peers(vec![
                crate::peers::PeerUnit { address: Some(host(1)), ..peer(1, true, Some(1)) },
                crate::peers::PeerUnit { address: Some(host(2)), ..peer(2, true, Some(2)) },
            ])
            .running(primary_info(0, &[(1, 0), (2, 0)]));
        // valkey/1's Sentinel is reached at its host: at the old address it does not answer.
        o.sentinels = [0, 2]
            .into_iter()
            .map(|n| {
                let mut v = sentinel(n, 0, 2, 3, 0);
                v.peers.clear();
                knows(&mut v, &host(2 - n), true, &["sentinel"]);
                knows(&mut v, NEW, true, &["sentinel"]);
                knows(&mut v, &host(1), false, &["slave", "s_down", "disconnected"]);
                knows(&mut v, NEW, false, &["slave"]);
                if n == 0 {
                    knows(&mut v, &host(2), false, &["slave"]);
                }
                v.primary.as_mut().unwrap().num_other_sentinels = 2;
                v
            })
            .collect();
        tweak(&mut o);
        o
    };
    // The Sentinels a plan resets: an ordinary hook's, or an exec context's (`primary-changed`).
    let resets = |o: &Observed, exec: bool| -> Vec<String> {
        let steps = if exec { for_exec_context(o).steps } else { plan(o).steps };
        steps
            .into_iter()
            .filter_map(|s| match s {
                Step::ResetSentinel { unit, .. } => Some(unit),
                _ => None,
            })
            .collect()
    };
    let none: Vec<String> = vec![];
    let both = vec!["valkey/0".to_string(), "valkey/2".to_string()];
    let cases: Vec<(&str, Observed, bool, Vec<String>)> = vec![
        ("the bag as cached before the move: no reset yet", leader(&|_| {}), false, none.clone()),
        ("in an exec context neither", leader(&|_| {}), true, none.clone()),
        (
            "its -relation-changed brings the new address: the old one is reset away",
            leader(&|o| o.peers[0].address = Some(NEW.into())),
            false,
            both.clone(),
        ),
        (
            "and after it published the new address as its host",
            leader(&|o| {
                o.peers[0].address = Some(NEW.into());
                o.peers[0].host = Some(NEW.into());
            }),
            false,
            both.clone(),
        ),
        (
            "an address this unit remembers (a departed unit's) that still answers: reset as before",
            leader(&|o| {
                o.unit_hosts.insert(NEW.into(), "valkey/3".into());
            }),
            false,
            both.clone(),
        ),
        (
            "an address never heard of that Sentinel finds down is gone: reset",
            leader(&|o| {
                for v in &mut o.sentinels {
                    for r in v.replicas.iter_mut().filter(|r| r.ip == NEW) {
                        r.flags.push("s_down".into());
                    }
                    for p in v.peers.iter_mut().filter(|p| p.ip == NEW) {
                        p.flags.push("s_down".into());
                    }
                }
            }),
            false,
            both.clone(),
        ),
    ];
    for (name, o, exec, want) in cases {
        assert_eq!(resets(&o, exec), want, "{name}");
    }
}

#[test]
fn upkeep_is_announced_with_the_next_counter_value() {
    let mut o = Observed::test(0)
        .leader()
        .with_peers(vec![peer(1, true, Some(1)), peer(2, true, Some(2))])
        .running(primary_info(0, &[(1, 0), (2, 0)]));
    o.app.sentinel_upkeep = 6;
    o.sentinels = vec![sentinel(0, 0, 3, 2, 2), sentinel(1, 0, 2, 2, 2), sentinel(2, 0, 2, 2, 2)];
    let steps = plan(&o).steps;
    assert_eq!(steps.last(), Some(&Step::AnnounceUpkeep(7)), "{steps:?}");
    // A quiet deployment announces nothing (no extra hooks on the other units).
    o.sentinels[0] = sentinel(0, 0, 2, 2, 2);
    assert!(!plan(&o).steps.iter().any(|s| matches!(s, Step::AnnounceUpkeep(_))));
}

#[test]
fn no_sentinel_upkeep_during_a_failover() {
    let mut busy = sentinel(1, 0, 1, 3, 3);
    busy.primary.as_mut().unwrap().flags.push("failover_in_progress".into());
    assert_eq!(leader_with_three(vec![sentinel(0, 0, 1, 2, 2), busy]), vec![]);
}

/// Unit `n` hands over through its own Sentinel, admitting the default replica-priority.
fn hand_over_step(n: u32) -> Step {
    let sentinel = Endpoint::new(crate::observe::fixture::host(n), crate::workload::SENTINEL_PORT);
    Step::HandOver { sentinel, admit: crate::config::CharmConfig::default().replica_priority, avoid: vec![] }
}

#[test]
fn retire_table() {
    let primary =
        Observed::test(0).with_peers(vec![peer(1, true, Some(1))]).running(primary_info(5, &[(1, 5)]));
    let lone_primary = Observed::test(0).running(primary_info(5, &[]));
    let replica =
        Observed::test(1).with_peers(vec![peer(0, true, Some(1))]).running(replica_info(0, 5, true));
    let mut stopped = replica.clone();
    stopped.local.valkey_running = false;
    stopped.local.sentinel_running = false;
    stopped.local.supervised = false;
    let mut crashed = stopped.clone();
    crashed.local.supervised = true;
    let mut done = stopped.clone();
    done.retired = true;
    let step_aside = Step::StepAside {
        sentinel: Endpoint::new(crate::observe::fixture::host(1), crate::workload::SENTINEL_PORT),
    };
    let cases = vec![
        (
            "primary hands over",
            primary,
            false,
            vec![hand_over_step(0), Step::StopServices, Step::MarkRetired],
        ),
        ("last unit just stops", lone_primary, false, vec![Step::StopServices, Step::MarkRetired]),
        ("a replica steps aside first, alone", replica.clone(), false, vec![step_aside]),
        ("then it stops", replica, true, vec![Step::StopServices, Step::MarkRetired]),
        ("stop after detaching only marks", stopped, false, vec![Step::MarkRetired]),
        (
            "nothing runs, but it is still supervised (restart delay, enabled unit files)",
            crashed,
            false,
            vec![Step::StopServices, Step::MarkRetired],
        ),
        ("second call is a no-op", done, false, vec![]),
    ];
    for (name, o, stepped_aside, want) in cases {
        assert_eq!(retire(&o, stepped_aside), want, "{name}");
    }
}

/// Removed together with replicas, a leaving primary hands over to none of them while another
/// replica is in sync: it names them by the host each announced — from the peer relation, or,
/// once they departed from its view, from the hosts it remembers.
#[test]
fn a_leaving_primary_avoids_the_replicas_of_units_leaving_with_it() {
    let ep = |n: u32| Endpoint::new(crate::observe::fixture::host(n), crate::workload::VALKEY_PORT);
    let base = Observed::test(0)
        .with_peers(vec![peer(1, true, Some(1)), peer(2, true, Some(1))])
        .running(primary_info(5, &[(1, 5), (2, 5)]));
    let avoid_of = |o: &Observed| match retire(o, false).first() {
        Some(Step::HandOver { avoid, .. }) => avoid.clone(),
        other => panic!("no hand-over: {other:?}"),
    };
    let mut together = base.clone();
    together.leaving = vec!["valkey/0".into(), "valkey/2".into()];
    let mut departed = together.clone();
    departed.peers.clear();
    departed.unit_hosts.insert(crate::observe::fixture::host(2), "valkey/2".into());
    let mut alone = base.clone();
    alone.leaving = vec!["valkey/0".into()];
    let cases = [
        ("nobody else leaves", base, vec![]),
        ("only itself leaves", alone, vec![]),
        ("a peer leaves with it", together, vec![ep(2)]),
        ("that peer has departed from its view already", departed, vec![ep(2)]),
    ];
    for (name, o, want) in cases {
        assert_eq!(avoid_of(&o), want, "{name}");
    }
}

/// On Juju a leaving unit usually runs its own -relation-departed hooks first, and its last peer
/// is gone from relation-list during the last of them: the primary then sees no peer, yet its
/// Sentinel or its own INFO still knows the replica, which must take over.
#[test]
fn a_primary_whose_peers_already_departed_hands_over_to_the_replica_it_still_knows() {
    let known = |flags: &[&str], link_ok: bool| crate::valkey::KnownReplica {
        ip: crate::observe::fixture::host(1),
        port: crate::workload::VALKEY_PORT,
        flags: flags.iter().map(|f| f.to_string()).collect(),
        link_ok,
        repl_offset: 5,
        priority: 100,
        info_refresh_ms: 100,
    };
    // `state` is the replica's line in the primary's own INFO (None: the primary lists none).
    let leaving = |sentinel_knows: Option<crate::valkey::KnownReplica>, state: Option<&str>| {
        let mut info = primary_info(5, &[(1, 5)]);
        match state {
            Some(s) => info.replicas[0].state = s.into(),
            None => info.replicas.clear(),
        }
        let mut o = Observed::test(0).running(info);
        let mut mine = sentinel(0, 0, 2, 1, 1);
        mine.replicas = sentinel_knows.into_iter().collect();
        o.sentinels = vec![mine];
        o
    };
    let hand_over = vec![hand_over_step(0), Step::StopServices, Step::MarkRetired];
    let just_stop = vec![Step::StopServices, Step::MarkRetired];
    let cases = [
        ("both know it", leaving(Some(known(&["slave"], true)), Some("online")), &hand_over),
        ("only the Sentinel knows it", leaving(Some(known(&["slave"], true)), None), &hand_over),
        // Sentinel's view lags behind the primary's (it polls INFO once a second): the primary's
        // word counts, the switchover checks sync.
        ("the Sentinel does not know it yet", leaving(None, Some("online")), &hand_over),
        (
            "the Sentinel's view is stale",
            leaving(Some(known(&["s_down", "slave"], true)), Some("online")),
            &hand_over,
        ),
        ("replica down for both", leaving(Some(known(&["s_down", "slave"], true)), None), &just_stop),
        (
            "replica's link down, the primary lists none",
            leaving(Some(known(&["slave"], false)), None),
            &just_stop,
        ),
        // A replica still loading its first copy cannot take over.
        ("replica still syncing", leaving(None, Some("wait_bgsave")), &just_stop),
        ("nobody knows a replica", leaving(None, None), &just_stop),
    ];
    for (name, o, want) in cases {
        assert_eq!(&retire(&o, false), want, "{name}");
    }
}

#[test]
fn a_newcomer_that_sees_no_peers_never_bootstraps_a_second_primary() {
    // valkey/2 holds the lock before relation-joined told it about anyone: no peers, no Sentinel.
    let mut o = Observed::test(2);
    o.me.start_requested = Some(5);
    o.app.start_lock = Some("valkey/2".into());
    o.app.bootstrapped = true;
    let p = plan(&o);
    assert_eq!(p.steps, vec![]);
    assert_eq!(p.waiting.as_deref(), Some("waiting for a reachable Sentinel that knows the primary"));
    // Even before the leader recorded the bootstrap, a non-leader never makes itself primary.
    o.app.bootstrapped = false;
    assert_eq!(plan(&o).steps, vec![]);
}

#[test]
fn only_the_leader_bootstraps() {
    // A peer asked first, but nothing has started: the leader takes the lock itself.
    let o = Observed::test(0).leader().with_peers(vec![peer(1, false, Some(1))]);
    assert_eq!(
        plan(&o).steps,
        vec![
            Step::RequestStart,
            Step::GrantLock("valkey/0".into()),
            Step::StartWorkload { primary: None, quorum: 1 }
        ]
    );
    // Once the leader started, it records the bootstrap and passes the lock on.
    let mut started =
        Observed::test(0).leader().running(primary_info(0, &[])).with_peers(vec![peer(1, false, Some(1))]);
    started.applied = runtime_settings(started.config.as_ref().unwrap(), started.live_count()).ok();
    started.local.restart_delay = Some(valkey_restart_delay(&started));
    started.app.start_lock = Some("valkey/0".into());
    started.app.start_lock_since = Some(990);
    started.sentinels = vec![sentinel(0, 0, 1, 0, 0)];
    started.app.bootstrapped = false;
    assert_eq!(plan(&started).steps, vec![Step::MarkBootstrapped, Step::GrantLock("valkey/1".into())]);
}

#[test]
fn the_start_up_fence_is_lifted_only_on_a_started_replica_that_wants_promotion() {
    let fenced = || ReplicationInfo { priority: Some(0), ..replica_info(1, 10, false) };
    let lifts = |o: &Observed| plan(o).steps.iter().any(|s| matches!(s, Step::AllowPromotion(_)));
    // A started replica at priority 0 (just restarted) whose config wants 100: lift, to 100.
    let o = Observed::test(0).running(fenced());
    assert_eq!(promotion_step(&o), Some(Step::AllowPromotion(100)));
    assert!(lifts(&o), "{:?}", plan(&o));
    // Already admitted: nothing to do.
    let o = Observed::test(0).running(replica_info(1, 10, true));
    assert_eq!(promotion_step(&o), None);
    // A primary keeps the fence (priority means nothing to it until it is demoted and resynced).
    let o = Observed::test(0).running(primary_info(10, &[(1, 10)]));
    assert_eq!(promotion_step(&o), None);
    // The operator wants this unit never promoted.
    let mut o = Observed::test(0).running(fenced());
    o.config.as_mut().unwrap().replica_priority = 0;
    assert_eq!(promotion_step(&o), None);
    // Not started (a start in progress lifts it itself once linked).
    let mut o = Observed::test(0).running(fenced());
    o.me.started = false;
    assert_eq!(promotion_step(&o), None);
    assert!(!lifts(&o));
}

#[test]
fn a_stale_primary_follows_the_primary_its_settled_sentinel_names_only_when_that_one_is_primary() {
    // valkey/0 still says role:master after a healed partition; its Sentinel names valkey/2,
    // which answers as primary.
    let stale = || {
        let mut o = Observed::test(0).with_peers(vec![peer(1, true, Some(1)), peer(2, true, Some(1))]);
        o = o.running(primary_info(500, &[]));
        let mut view = sentinel(0, 2, 2, 2, 2);
        view.primary.as_mut().unwrap().config_epoch = 3;
        o.sentinels = vec![view];
        o.primary_info = Some(primary_info(900, &[(1, 900)]));
        o
    };
    let follows = |o: &Observed| plan(o).steps.iter().any(|s| matches!(s, Step::FollowPrimary(_)));
    let o = stale();
    assert_eq!(follow_primary_step(&o), Some(Step::FollowPrimary(ep(2))));
    assert!(follows(&o), "{:?}", plan(&o));
    // The named node does not answer as primary (a failover promoting valkey/0 is under way and
    // the old primary is dead or already a replica): stay.
    let mut o = stale();
    o.primary_info = Some(replica_info(0, 900, true));
    assert_eq!(follow_primary_step(&o), None);
    o.primary_info = None;
    assert_eq!(follow_primary_step(&o), None);
    // Its Sentinel is in the middle of a failover: stay.
    let mut o = stale();
    o.sentinels[0].primary.as_mut().unwrap().flags.push("failover_in_progress".into());
    assert_eq!(follow_primary_step(&o), None);
    // Its Sentinel names this very unit, or this unit is already a replica: nothing to do.
    let mut o = stale();
    o.sentinels = vec![sentinel(0, 0, 2, 2, 2)];
    assert_eq!(follow_primary_step(&o), None);
    let mut o = stale();
    o.local.replication = Some(replica_info(2, 900, true));
    assert_eq!(follow_primary_step(&o), None);
}

/// A value changed behind the charm's back (`CONFIG SET min-replicas-to-write 0` by hand) is set
/// again even though the charm's own record says it applied it; a value that was not read, and
/// `replica-priority` (the start-up fence's), never count as drift.
#[test]
fn live_settings_that_drifted_are_applied_again() {
    let base = {
        let mut o = Observed::test(0)
            .running(primary_info(0, &[]))
            .with_peers(vec![peer(1, true, Some(1)), peer(2, true, Some(1))]);
        o.local.restart_delay = Some(valkey_restart_delay(&o));
        o.applied = runtime_settings(o.config.as_ref().unwrap(), o.live_count()).ok();
        o
    };
    let wanted = base.applied.clone().unwrap();
    let applies = |o: &Observed| plan(o).steps.iter().any(|s| matches!(s, Step::ApplySettings { .. }));
    let with = |pairs: &[(&str, &str)]| {
        let mut o = base.clone();
        o.local.live_settings = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        o
    };
    let all_live: Vec<(&str, &str)> = DRIFT_KEYS.iter().map(|k| (*k, wanted.valkey[*k].as_str())).collect();
    assert_eq!(wanted.valkey["min-replicas-to-write"], "1", "3 units: the fence is on");
    assert!(!applies(&with(&all_live)), "live values as wanted: nothing to do");
    assert!(!applies(&with(&[])), "nothing read: no drift");
    let mut fence_off = all_live.clone();
    fence_off[0] = ("min-replicas-to-write", "0");
    assert!(applies(&with(&fence_off)), "the split-brain fence lifted by hand comes back");
    let mut no_aof = all_live.clone();
    no_aof.retain(|(k, _)| *k != "appendonly");
    no_aof.push(("appendonly", "no"));
    assert!(applies(&with(&no_aof)), "persistence turned off by hand comes back");
    let mut priority = all_live.clone();
    priority.push(("replica-priority", "0"));
    assert!(!applies(&with(&priority)), "replica-priority belongs to the start-up fence");
}

//! Table tests for [`super::steps`], and its place in the whole plan.

use super::*;
use crate::observe::fixture::{peer, replica_info, sentinel};
use crate::peers::PeerUnit;
use crate::workload::Bound;

fn addr(n: u32) -> String {
    format!("127.0.0.{}", n + 2)
}

fn moved_addr(n: u32) -> String {
    format!("198.18.9.{}", n + 2)
}

/// Peer `n`, started, at `address`.
fn peer_at(n: u32, address: String) -> PeerUnit {
    PeerUnit { address: Some(address), ..peer(n, true, Some(1)) }
}

/// Unit 1, a started replica of unit 0, with peers 0 and 2 at their recorded addresses and its
/// services bound to its own address; then `tweak`.
fn settled(tweak: impl FnOnce(&mut Observed)) -> Observed {
    let mut o = Observed::test(1)
        .with_peers(vec![peer_at(0, addr(0)), peer_at(2, addr(2))])
        .running(replica_info(0, 100, true));
    o.local.bound = Bound {
        valkey: Some(addr(1)),
        sentinel: Some(addr(1)),
        peers: Some([("valkey/0".to_string(), addr(0)), ("valkey/2".to_string(), addr(2))].into()),
    };
    o.sentinels = vec![sentinel(1, 0, 2, 2, 2)];
    tweak(&mut o);
    o
}

fn peers_now(o: &Observed) -> BTreeMap<String, String> {
    o.peers.iter().map(|p| (p.name.clone(), p.address.clone().unwrap())).collect()
}

#[test]
fn address_steps() {
    let in_failover = |o: &mut Observed| {
        let p = o.sentinels[0].primary.as_mut().unwrap();
        p.flags.push("failover_in_progress".into());
    };
    let cases: Vec<(&str, Observed, Vec<Step>)> = vec![
        ("nothing moved: nothing to do", settled(|_| {}), vec![]),
        (
            "own address changed: rebind both services",
            settled(|o| o.bind_address = Some(moved_addr(1))),
            vec![Step::Rebind(moved_addr(1))],
        ),
        (
            "a half-done rebind (Valkey moved, Sentinel not) is finished",
            settled(|o| {
                o.bind_address = Some(moved_addr(1));
                o.local.bound.valkey = Some(moved_addr(1));
            }),
            vec![Step::Rebind(moved_addr(1))],
        ),
        (
            "services never rendered: nothing to move",
            settled(|o| {
                o.bind_address = Some(moved_addr(1));
                o.local.bound.valkey = None;
                o.local.bound.sentinel = None;
            }),
            vec![],
        ),
        (
            "a peer moved: restart Sentinel, record",
            settled(|o| o.peers[0].address = Some(moved_addr(0))),
            vec![Step::FollowAddresses {
                moved: vec!["valkey/0".into()],
                addresses: [("valkey/0".to_string(), moved_addr(0)), ("valkey/2".to_string(), addr(2))]
                    .into(),
                restart_sentinel: true,
                replicaof: None,
            }],
        ),
        (
            "a peer joined: resolved fresh, only recorded",
            settled(|o| o.peers.push(peer_at(3, addr(3)))),
            vec![Step::FollowAddresses {
                moved: vec![],
                addresses: [
                    ("valkey/0".to_string(), addr(0)),
                    ("valkey/2".to_string(), addr(2)),
                    ("valkey/3".to_string(), addr(3)),
                ]
                .into(),
                restart_sentinel: false,
                replicaof: None,
            }],
        ),
        (
            "nothing recorded yet (first reconcile after start): record",
            settled(|o| o.local.bound.peers = None),
            vec![Step::FollowAddresses {
                moved: vec![],
                addresses: [("valkey/0".to_string(), addr(0)), ("valkey/2".to_string(), addr(2))].into(),
                restart_sentinel: false,
                replicaof: None,
            }],
        ),
        (
            "a peer moved during a failover: wait (a restart would abort it)",
            settled(|o| {
                o.peers[0].address = Some(moved_addr(0));
                in_failover(o);
            }),
            vec![],
        ),
        (
            "own move and a peer's at once: the rebind's restart serves both",
            settled(|o| {
                o.bind_address = Some(moved_addr(1));
                o.peers[1].address = Some(moved_addr(2));
                in_failover(o);
            }),
            vec![
                Step::Rebind(moved_addr(1)),
                Step::FollowAddresses {
                    moved: vec!["valkey/2".into()],
                    addresses: [("valkey/0".to_string(), addr(0)), ("valkey/2".to_string(), moved_addr(2))]
                        .into(),
                    restart_sentinel: false,
                    replicaof: None,
                },
            ],
        ),
        ("no address from network-get: nothing", settled(|o| o.bind_address = None), vec![]),
    ];
    for (name, o, want) in cases {
        assert_eq!(steps(&o), want, "{name}");
    }
}

#[test]
fn peers_without_an_address_are_not_followed() {
    let o = settled(|o| o.peers[1].address = None);
    let want = [("valkey/0".to_string(), addr(0))].into();
    assert_eq!(
        steps(&o),
        vec![Step::FollowAddresses {
            moved: vec![],
            addresses: want,
            restart_sentinel: false,
            replicaof: None
        }]
    );
    assert_eq!(peers_now(&settled(|_| {})), settled(|_| {}).local.bound.peers.unwrap());
}

#[test]
fn the_plan_moves_first_and_follows_peers_only_when_started() {
    let o = settled(|o| o.bind_address = Some(moved_addr(1)));
    let plan = crate::plan::plan(&o);
    assert_eq!(plan.steps.first(), Some(&Step::Rebind(moved_addr(1))), "{plan:?}");
    // A start that did not finish (services rendered and running, not yet discovered), then the
    // address changed: its services move too, before the start is retried; peers it has not
    // followed yet are not its business.
    let mut not_started = settled(|o| {
        o.bind_address = Some(moved_addr(1));
        o.peers[0].address = Some(moved_addr(0));
    });
    not_started.me.started = false;
    not_started.app.start_lock = Some("valkey/1".into());
    let plan = crate::plan::plan(&not_started);
    assert_eq!(plan.steps.first(), Some(&Step::Rebind(moved_addr(1))), "{plan:?}");
    assert!(plan.steps.iter().any(|s| matches!(s, Step::StartWorkload { .. })), "{plan:?}");
    assert!(!plan.steps.iter().any(|s| matches!(s, Step::FollowAddresses { .. })), "{plan:?}");
    // Never started: nothing rendered, nothing to move.
    let mut never = not_started.clone();
    never.local.bound = Bound::default();
    let plan = crate::plan::plan(&never);
    assert!(!plan.steps.iter().any(|s| matches!(s, Step::Rebind(_))), "{plan:?}");
}

/// Unit 1 known by IP: a started replica of unit 0 at unit 0's address (not a hostname).
fn settled_by_ip(tweak: impl FnOnce(&mut Observed)) -> Observed {
    settled(|o| {
        o.local.replication.as_mut().unwrap().master_host = Some(addr(0));
        o.announce_host = Some(addr(1));
        tweak(o);
    })
}

#[test]
fn known_by_ip_a_replica_follows_its_primary_to_the_new_address() {
    let cases: Vec<(&str, Observed, Option<Endpoint>)> = vec![
        ("nothing moved", settled_by_ip(|_| {}), None),
        (
            "its primary moved: REPLICAOF the new address",
            settled_by_ip(|o| o.peers[0].address = Some(moved_addr(0))),
            Some(Endpoint::new(moved_addr(0), 6379)),
        ),
        (
            "another replica moved: the primary stays",
            settled_by_ip(|o| o.peers[1].address = Some(moved_addr(2))),
            None,
        ),
        (
            "by hostname the name stays: a reconnect, no REPLICAOF",
            settled(|o| o.peers[0].address = Some(moved_addr(0))),
            None,
        ),
        (
            "a primary does not follow anyone",
            settled_by_ip(|o| {
                o.peers[0].address = Some(moved_addr(0));
                o.local.replication.as_mut().unwrap().role = crate::valkey::Role::Primary;
            }),
            None,
        ),
        (
            "nothing recorded yet: nothing known to have moved",
            settled_by_ip(|o| {
                o.peers[0].address = Some(moved_addr(0));
                o.local.bound.peers = None;
            }),
            None,
        ),
    ];
    for (name, o, want) in cases {
        assert_eq!(primary_moved_to(&o), want, "{name}");
        let follow = steps(&o).into_iter().find_map(|s| match s {
            Step::FollowAddresses { replicaof, .. } => Some(replicaof),
            _ => None,
        });
        assert_eq!(follow.flatten(), want, "{name}: the plan's step");
    }
}

#[test]
fn renames_cover_own_and_moved_peers_addresses() {
    type Case = (&'static str, Observed, Vec<(String, String)>);
    let cases: Vec<Case> = vec![
        ("nothing moved", settled_by_ip(|_| {}), vec![]),
        ("own move", settled_by_ip(|o| o.bind_address = Some(moved_addr(1))), vec![(addr(1), moved_addr(1))]),
        (
            "a half-done own move: only the file still naming the old address",
            settled_by_ip(|o| {
                o.bind_address = Some(moved_addr(1));
                o.local.bound.valkey = Some(moved_addr(1));
            }),
            vec![(addr(1), moved_addr(1))],
        ),
        (
            "own move and a peer's",
            settled_by_ip(|o| {
                o.bind_address = Some(moved_addr(1));
                o.peers[0].address = Some(moved_addr(0));
            }),
            vec![(addr(0), moved_addr(0)), (addr(1), moved_addr(1))],
        ),
        ("a joined peer is no rename", settled_by_ip(|o| o.peers.push(peer_at(3, addr(3)))), vec![]),
        ("a peer without an address is no rename", settled_by_ip(|o| o.peers[1].address = None), vec![]),
    ];
    for (name, o, want) in cases {
        assert_eq!(renames(&o), want.into_iter().collect::<BTreeMap<_, _>>(), "{name}");
    }
}

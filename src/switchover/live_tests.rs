//! Switchover against real servers: a primary, two replicas and one Sentinel on 127.0.0.1.

use super::*;
use crate::valkey::test_server::{poll_until, raw_connection, TestServer};
use crate::valkey::{Role, TcpConnector};

/// A settling request (the leaving primary's kind), with the default priority to admit.
fn request<'a>(target: Option<&'a Endpoint>, avoid: &'a [Endpoint], limit_s: u64) -> Request<'a> {
    Request { target, avoid, admit: 100, limit: Duration::from_secs(limit_s), settle: true }
}

struct Cluster {
    nodes: Vec<TestServer>,
    sentinel: TestServer,
}

fn cluster() -> Cluster {
    cluster_of(&crate::valkey::test_server::server_binary())
}

/// A primary, two replicas and a Sentinel, all run by `binary`.
fn cluster_of(binary: &std::path::Path) -> Cluster {
    let primary = TestServer::start(binary, "repl-diskless-sync-delay 0", false);
    let replicaof = format!("replicaof 127.0.0.1 {}\nrepl-diskless-sync-delay 0", primary.port);
    let nodes = vec![
        primary,
        TestServer::start(binary, &replicaof, false),
        TestServer::start(binary, &replicaof, false),
    ];
    let c = TcpConnector::default();
    let linked = poll_until(Duration::from_secs(10), || {
        nodes[1..].iter().all(|n| {
            c.data(&n.endpoint()).and_then(|mut d| d.replication()).map(|r| r.link_up).unwrap_or(false)
        })
    });
    assert!(linked, "replicas never linked");
    let sentinel = TestServer::start(binary, &format!(
        "sentinel monitor {MONITOR_NAME} 127.0.0.1 {} 1\nsentinel down-after-milliseconds {MONITOR_NAME} 2000\n\
         sentinel failover-timeout {MONITOR_NAME} 10000",
        nodes[0].port
    ), true);
    let mut s = c.sentinel(&sentinel.endpoint()).unwrap();
    // Sentinel's INFO refresh is 10 s by default; shorten it so the test does not wait for it.
    let mut cmd = redis::cmd("SENTINEL");
    cmd.arg("DEBUG").arg("info-period").arg(500);
    let _ = cmd.query::<()>(&mut raw_connection(sentinel.port));
    let seen = poll_until(Duration::from_secs(15), || {
        s.replicas(MONITOR_NAME).map(|r| r.iter().filter(|k| k.link_ok).count() == 2).unwrap_or(false)
    });
    assert!(seen, "sentinel never saw both replicas");
    Cluster { nodes, sentinel }
}

#[test]
fn switchover_to_a_named_target_keeps_every_write() {
    let cl = cluster();
    let c = TcpConnector::default();
    let mut raw = raw_connection(cl.nodes[0].port);
    for i in 0..200 {
        redis::cmd("SET").arg(format!("k{i}")).arg(i).query::<()>(&mut raw).unwrap();
    }
    let target = cl.nodes[2].endpoint();
    // The target is still behind the start-up fence (as after a restart the charm has not yet
    // reconciled); the primary reports it in sync, so the switchover admits it.
    c.data(&target).unwrap().config_set("replica-priority", "0").unwrap();
    let done = switchover(&c, &cl.sentinel.endpoint(), &request(Some(&target), &[], 20)).unwrap();
    assert_eq!(done.old_primary, cl.nodes[0].endpoint());
    assert_eq!(done.new_primary, target, "the named target, not the other replica, was promoted");
    let mut t = c.data(&target).unwrap();
    let promoted = poll_until(Duration::from_secs(10), || {
        t.replication().map(|r| r.role == Role::Primary).unwrap_or(false)
    });
    assert!(promoted);
    let mut new_raw = raw_connection(target.port);
    let n: u64 = redis::cmd("DBSIZE").query(&mut new_raw).unwrap();
    assert_eq!(n, 200, "every acknowledged write is on the new primary");
    // The other replica's priority is restored.
    let mut other = c.data(&cl.nodes[1].endpoint()).unwrap();
    assert_eq!(other.config_get("replica-priority").unwrap().as_deref(), Some("100"));
    let demoted = poll_until(Duration::from_secs(10), || {
        c.data(&cl.nodes[0].endpoint())
            .and_then(|mut n| n.replication())
            .map(|r| r.role == Role::Replica)
            .unwrap_or(false)
    });
    assert!(demoted, "old primary became a replica");
}

#[test]
fn switchover_refuses_when_the_target_is_not_in_sync() {
    let cl = cluster();
    let c = TcpConnector::default();
    // Cut the target's link: it is no longer a replica of the primary at all.
    let target = cl.nodes[1].endpoint();
    c.data(&target).unwrap().replicaof(None).unwrap();
    let err = switchover(&c, &cl.sentinel.endpoint(), &request(Some(&target), &[], 5)).unwrap_err();
    assert!(matches!(err, SwitchoverError::NotAReplica(_) | SwitchoverError::NotInSync(_)), "{err}");
    let mut s = c.sentinel(&cl.sentinel.endpoint()).unwrap();
    assert_eq!(s.primary_addr(MONITOR_NAME).unwrap(), Some(cl.nodes[0].endpoint()), "nothing moved");
}

/// A leaving primary removed together with a replica: Sentinel picks the other one, and the
/// leaving replica keeps priority 0 (it is going). With every replica leaving, nobody is handed
/// the role (the caller leaves without hand-over) and nothing moves.
#[test]
fn a_switchover_without_target_promotes_no_replica_it_must_avoid() {
    for (avoid, want) in [(vec![1], Some(2)), (vec![1, 2], None)] {
        let cl = cluster();
        let c = TcpConnector::default();
        let avoid: Vec<Endpoint> = avoid.iter().map(|i: &usize| cl.nodes[*i].endpoint()).collect();
        // Left to itself Sentinel would pick node 1 (a lower number is preferred).
        c.data(&cl.nodes[2].endpoint()).unwrap().config_set("replica-priority", "150").unwrap();
        let result = switchover(&c, &cl.sentinel.endpoint(), &request(None, &avoid, 20));
        match want {
            Some(i) => {
                assert_eq!(result.unwrap().new_primary, cl.nodes[i].endpoint(), "avoiding {avoid:?}");
                let mut leaving = c.data(&avoid[0]).unwrap();
                assert_eq!(leaving.config_get("replica-priority").unwrap().as_deref(), Some("0"));
            }
            None => {
                assert!(matches!(result, Err(SwitchoverError::NotInSync(_))), "{result:?}");
                let mut s = c.sentinel(&cl.sentinel.endpoint()).unwrap();
                assert_eq!(
                    s.primary_addr(MONITOR_NAME).unwrap(),
                    Some(cl.nodes[0].endpoint()),
                    "nothing moved"
                );
            }
        }
    }
}

/// The `failover` action's kind: it returns once Sentinel names the new primary, and Sentinel
/// finishes on its own (the other replica re-pointed, no failover in progress).
#[test]
fn a_switchover_that_does_not_settle_returns_once_the_new_primary_is_named() {
    let cl = cluster();
    let c = TcpConnector::default();
    let target = cl.nodes[1].endpoint();
    let unsettled = Request { settle: false, ..request(Some(&target), &[], 20) };
    let done = switchover(&c, &cl.sentinel.endpoint(), &unsettled).unwrap();
    assert_eq!((done.new_primary.clone(), done.settled), (target.clone(), None));
    let mut s = c.sentinel(&cl.sentinel.endpoint()).unwrap();
    assert_eq!(s.primary_addr(MONITOR_NAME).unwrap(), Some(target.clone()), "named when it returned");
    let finished = poll_until(Duration::from_secs(15), || {
        let ended = s.primary(MONITOR_NAME).ok().flatten().is_some_and(|p| !p.failover_in_progress());
        let other = c.data(&cl.nodes[2].endpoint()).and_then(|mut n| n.replication());
        ended && other.is_ok_and(|r| r.master_port == Some(target.port))
    });
    assert!(finished, "Sentinel did not finish the failover on its own");
    // Asked again at once, while Sentinel still re-points the other replica, a switchover is not
    // refused: it waits (bounded) for its target to be a replica in sync, and retries Sentinel's
    // `INPROG` answer.
    let (third, first_primary) = (cl.nodes[2].endpoint(), cl.nodes[0].endpoint());
    let again = Request { settle: false, ..request(Some(&third), &[], 20) };
    let first = switchover(&c, &cl.sentinel.endpoint(), &again).unwrap();
    let back = Request { target: Some(&first_primary), ..again };
    let second = switchover(&c, &cl.sentinel.endpoint(), &back);
    assert_eq!(second.map(|d| d.new_primary).unwrap(), first_primary, "after {first:?}");
}

/// Redis 7.0 has no `SENTINEL FAILOVER … COORDINATED`: the charm pauses writes itself, waits for
/// the replica to catch up, fails over and unpauses. Skipped where Debian's redis-server is absent.
#[test]
fn switchover_on_redis_7_pauses_writes_itself() {
    let redis = std::path::Path::new("/usr/bin/redis-server");
    if !redis.exists() {
        eprintln!("skipping: no /usr/bin/redis-server");
        return;
    }
    let cl = cluster_of(redis);
    let c = TcpConnector::default();
    assert!(c.data(&cl.nodes[0].endpoint()).unwrap().version().unwrap().starts_with("7."));
    let mut raw = raw_connection(cl.nodes[0].port);
    for i in 0..100 {
        redis::cmd("SET").arg(format!("k{i}")).arg(i).query::<()>(&mut raw).unwrap();
    }
    let done = switchover(&c, &cl.sentinel.endpoint(), &request(None, &[], 20)).unwrap();
    assert_ne!(done.new_primary, cl.nodes[0].endpoint());
    let mut new_raw = raw_connection(done.new_primary.port);
    let n: u64 = redis::cmd("DBSIZE").query(&mut new_raw).unwrap();
    if n != 100 {
        for node in &cl.nodes {
            let mut r = raw_connection(node.port);
            let k: u64 = redis::cmd("DBSIZE").query(&mut r).unwrap();
            eprintln!(
                "{} dbsize {k} {:?}\n{}",
                node.port,
                c.data(&node.endpoint()).unwrap().replication().unwrap(),
                node.log()
            );
        }
        eprintln!("SENTINEL\n{}", cl.sentinel.log());
    }
    assert_eq!(n, 100, "every acknowledged write is on the new primary");
    // The new primary takes writes, and the old one is not left paused.
    redis::cmd("SET").arg("after").arg(1).query::<()>(&mut new_raw).unwrap();
    let old_info = c.data(&cl.nodes[0].endpoint()).unwrap().replication().unwrap();
    let mut old_raw = raw_connection(cl.nodes[0].port);
    old_raw.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let reply: redis::RedisResult<()> = redis::cmd("SET").arg("late").arg(1).query(&mut old_raw);
    let err = reply.expect_err("the old primary must not accept writes");
    assert!(!err.is_timeout(), "old primary still paused: {err} (role {:?})", old_info.role);
    assert_eq!(old_info.role, crate::valkey::Role::Replica, "converted before the switchover returned");
    let mut old_node = c.data(&cl.nodes[0].endpoint()).unwrap();
    assert_eq!(old_node.config_get("min-replicas-to-write").unwrap().as_deref(), Some("0"), "fence lifted");
}

//! The client against real `valkey-server` processes: one primary, one replica, one Sentinel.

// Tests of the Valkey seam drive real servers and sockets directly.
#![allow(clippy::disallowed_methods)]

use super::test_server::{free_port, poll_until, TestServer};
use super::*;
use std::time::Duration;

const NAME: &str = "primary";

fn open() -> TcpConnector {
    TcpConnector::default()
}

/// Primary + replica replicating from it, link up.
fn pair() -> (TestServer, TestServer) {
    let primary = TestServer::data("repl-diskless-sync-delay 0");
    let replica = TestServer::data(&format!("replicaof 127.0.0.1 {}", primary.port));
    let c = open();
    let up = poll_until(Duration::from_secs(10), || {
        c.data(&replica.endpoint()).and_then(|mut n| n.replication()).map(|r| r.link_up).unwrap_or(false)
    });
    assert!(up, "replica never linked: {}", replica.log());
    (primary, replica)
}

#[test]
fn data_node_roles_offsets_and_config() {
    let (primary, replica) = pair();
    let c = open();
    let mut p = c.data(&primary.endpoint()).unwrap();
    p.ping().unwrap();
    assert_eq!(p.version().unwrap(), "9.1.2");
    p.config_set("maxmemory-policy", "allkeys-lru").unwrap();
    assert_eq!(p.config_get("maxmemory-policy").unwrap().as_deref(), Some("allkeys-lru"));
    assert_eq!(p.config_get("no-such-parameter").unwrap(), None);
    assert!(p.config_set("maxmemory", "lots").is_err(), "bad value must be refused");

    assert_eq!(p.wait_replicas(1, Duration::from_secs(2)).unwrap(), 1);
    let info = p.replication().unwrap();
    assert_eq!(info.role, Role::Primary);
    assert_eq!(info.replicas.len(), 1);
    assert_eq!(info.replicas[0].port, replica.port);
    assert_eq!(info.replicas[0].state, "online");

    let mut r = c.data(&replica.endpoint()).unwrap();
    let synced = poll_until(Duration::from_secs(5), || {
        r.replication().map(|i| i.slave_repl_offset == Some(info.master_repl_offset)).unwrap_or(false)
    });
    assert!(synced, "replica offset never reached the primary's");
    let rinfo = r.replication().unwrap();
    assert_eq!(rinfo.role, Role::Replica);
    assert_eq!(rinfo.master_port, Some(primary.port));

    p.pause_writes(Duration::from_secs(5)).unwrap();
    p.unpause().unwrap();

    r.replicaof(None).unwrap();
    assert_eq!(r.replication().unwrap().role, Role::Primary);
    r.replicaof(Some(&primary.endpoint())).unwrap();
    assert_eq!(r.replication().unwrap().role, Role::Replica);
}

/// `REPLCONF GETACK` on a replica makes it acknowledge at once: the primary counts one
/// `REPLCONF ACK` per request (its own replication cron adds about one a second), and the
/// connection stays in step (the next command gets its own reply).
#[test]
fn replica_acknowledges_on_request() {
    let (primary, replica) = pair();
    let c = open();
    let mut p =
        redis::Client::open(format!("redis://127.0.0.1:{}", primary.port)).unwrap().get_connection().unwrap();
    redis::cmd("SET").arg("k").arg("v").exec(&mut p).unwrap();
    redis::cmd("CONFIG").arg("RESETSTAT").exec(&mut p).unwrap();
    let mut r = c.data(&replica.endpoint()).unwrap();
    const ASKED: u64 = 20;
    for _ in 0..ASKED {
        r.request_ack().unwrap();
    }
    assert_eq!(r.replication().unwrap().role, Role::Replica, "replies stay in step");
    let acks = |p: &mut redis::Connection| -> u64 {
        let stats: String = redis::cmd("INFO").arg("commandstats").query(p).unwrap();
        stats
            .lines()
            .find_map(|l| l.strip_prefix("cmdstat_replconf:calls="))
            .and_then(|rest| rest.split(',').next())
            .map_or(0, |n| n.parse().unwrap())
    };
    // 20 acknowledgements from the cron alone would take 20 s.
    let counted = poll_until(Duration::from_secs(5), || acks(&mut p) >= ASKED);
    assert!(counted, "primary counted {} acknowledgements, asked for {ASKED}", acks(&mut p));
    // On a primary (no link to acknowledge on) it is a no-op, not an error.
    c.data(&primary.endpoint()).unwrap().request_ack().unwrap();
}

#[test]
fn authentication_with_acl_user() {
    let server = TestServer::data("user default off\nuser charm-admin on >s3cret ~* &* +@all");
    let good = TcpConnector {
        auth: Some(Auth { user: "charm-admin".into(), password: "s3cret".into() }),
        ..Default::default()
    };
    good.data(&server.endpoint()).unwrap().ping().unwrap();
    let bad = TcpConnector {
        auth: Some(Auth { user: "charm-admin".into(), password: "wrong".into() }),
        ..Default::default()
    };
    let err = bad.data(&server.endpoint()).err().expect("wrong password must fail");
    assert!(matches!(err, ValkeyError::Connect { .. }), "{err}");
    assert!(!format!("{err:?}").contains("wrong"), "password leaked into the error");
    let anonymous = open().data(&server.endpoint()).and_then(|mut n| n.ping());
    assert!(anonymous.is_err(), "default user is off, ping must fail");
}

#[test]
fn unreachable_node_fails_fast() {
    let port = super::test_server::free_port();
    let started = std::time::Instant::now();
    let err = open().data(&Endpoint::new("127.0.0.1", port)).err().expect("nobody listens");
    assert!(err.is_unreachable());
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn sentinel_queries_set_reset_and_coordinated_failover() {
    let (primary, replica) = pair();
    let sentinel = TestServer::sentinel(&format!(
        "sentinel monitor {NAME} 127.0.0.1 {} 1\nsentinel down-after-milliseconds {NAME} 2000\n\
         sentinel failover-timeout {NAME} 10000",
        primary.port
    ));
    let c = open();
    let mut s = c.sentinel(&sentinel.endpoint()).unwrap();
    SentinelNode::ping(s.as_mut()).unwrap();

    assert_eq!(s.primary("nope").unwrap(), None);
    assert_eq!(s.primary_addr("nope").unwrap(), None);
    assert!(s.replicas("nope").unwrap().is_empty());

    let p = s.primary(NAME).unwrap().expect("monitored");
    assert_eq!((p.ip.as_str(), p.port, p.quorum), ("127.0.0.1", primary.port, 1));
    assert_eq!((p.down_after, p.failover_timeout), (2000, 10000));
    assert_eq!(s.primary_addr(NAME).unwrap(), Some(primary.endpoint()));

    let found = poll_until(Duration::from_secs(15), || {
        s.replicas(NAME).map(|r| r.iter().any(|k| k.port == replica.port && k.link_ok)).unwrap_or(false)
    });
    assert!(found, "sentinel never listed the replica: {}", sentinel.log());
    assert!(s.sentinels(NAME).unwrap().is_empty());
    let q = s.ckquorum(NAME).unwrap();
    assert!(q.ok, "{}", q.message);

    s.set(NAME, "quorum", "2").unwrap();
    assert_eq!(s.primary(NAME).unwrap().unwrap().quorum, 2);
    let q = s.ckquorum(NAME).unwrap();
    assert!(!q.ok, "quorum 2 with one sentinel must be refused");
    assert!(q.message.contains("NOQUORUM"), "{}", q.message);
    s.set(NAME, "quorum", "1").unwrap();

    s.reset(NAME).unwrap();
    let back = poll_until(Duration::from_secs(15), || {
        s.replicas(NAME).map(|r| r.iter().any(|k| k.port == replica.port && k.link_ok)).unwrap_or(false)
    });
    assert!(back, "replica not rediscovered after reset");

    s.failover(NAME, true).unwrap();
    let switched = poll_until(Duration::from_secs(20), || {
        s.primary_addr(NAME).map(|a| a == Some(replica.endpoint())).unwrap_or(false)
    });
    assert!(switched, "coordinated failover did not promote the replica: {}", sentinel.log());
    let promoted = poll_until(Duration::from_secs(10), || {
        c.data(&replica.endpoint())
            .and_then(|mut n| n.replication())
            .map(|r| r.role == Role::Primary)
            .unwrap_or(false)
    });
    assert!(promoted);
    let demoted = poll_until(Duration::from_secs(10), || {
        c.data(&primary.endpoint())
            .and_then(|mut n| n.replication())
            .map(|r| r.role == Role::Replica && r.master_port == Some(replica.port))
            .unwrap_or(false)
    });
    assert!(demoted, "old primary was not turned into a replica");
}

/// The INFO period the charm sets is what the Sentinel then runs with (read back raw, since the
/// charm itself never needs to read it).
#[test]
fn sentinel_info_period_is_set() {
    let sentinel = TestServer::sentinel(&format!("sentinel monitor {NAME} 127.0.0.1 {} 1", free_port()));
    let mut s = open().sentinel(&sentinel.endpoint()).unwrap();
    s.set_info_period(SENTINEL_INFO_PERIOD).unwrap();
    let mut raw = redis::Client::open(format!("redis://127.0.0.1:{}/", sentinel.port))
        .and_then(|c| c.get_connection())
        .unwrap();
    let timers: Vec<redis::Value> = redis::cmd("SENTINEL").arg("DEBUG").query(&mut raw).unwrap();
    let text: Vec<String> = timers
        .iter()
        .map(|v| match v {
            redis::Value::BulkString(b) => String::from_utf8_lossy(b).to_string(),
            redis::Value::Int(i) => i.to_string(),
            other => format!("{other:?}"),
        })
        .collect();
    for (name, want) in [
        ("info-period", SENTINEL_INFO_PERIOD),
        ("ping-period", crate::valkey::SENTINEL_PING_PERIOD),
        ("ask-period", crate::valkey::SENTINEL_ASK_PERIOD),
    ] {
        let at = text.iter().position(|k| k.eq_ignore_ascii_case(name)).expect("timer listed");
        assert_eq!(text[at + 1], want.as_millis().to_string(), "{name}: {text:?}");
    }
}

//! Real-server proof that the rendered ACLs are enough for Sentinel to do its job: discovery
//! over the hello channel, a coordinated switchover, and an automatic failover after a crash
//! (which needs the Sentinels' votes, i.e. the Sentinel user's rights on the other Sentinels).

use super::render::{render_sentinel_conf, render_valkey_conf, SentinelConf, ValkeyConf};
use super::test_support::{field, free_port, poll, query, spawn, valkey_server, KillOnDrop};
use super::{write_private, Credentials, Paths, ADMIN_USER, MONITOR_NAME};
use crate::config::CharmConfig;
use std::time::Duration;

/// The admin user's credentials, as a `query` argument.
fn admin(c: &Credentials) -> Option<(&str, &str)> {
    Some((ADMIN_USER, c.admin.as_str()))
}

/// `role:` from INFO replication of the node on `port`.
fn role(port: u16, c: &Credentials) -> Option<String> {
    let info: String = redis::from_redis_value(query(port, admin(c), &["INFO", "replication"]).ok()?).ok()?;
    info.lines().find_map(|l| l.strip_prefix("role:")).map(|r| r.trim().to_string())
}

/// The port every Sentinel reports for the primary, if they agree.
fn agreed_primary_port(sentinels: &[u16], c: &Credentials) -> Option<u16> {
    let mut ports = sentinels.iter().map(|s| {
        let reply = query(*s, admin(c), &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", MONITOR_NAME]).ok()?;
        let addr: Vec<String> = redis::from_redis_value(reply).ok()?;
        addr.get(1)?.parse::<u16>().ok()
    });
    let first = ports.next()??;
    ports.all(|p| p == Some(first)).then_some(first)
}

/// Every log under `root` and every node's ACL LOG, for failure messages.
fn logs(root: &std::path::Path, ports: &[u16], c: &Credentials) -> String {
    let mut out = String::new();
    for port in ports {
        let entries = query(*port, admin(c), &["ACL", "LOG"]).ok();
        let denied: Vec<String> = match entries {
            Some(redis::Value::Array(items)) => {
                items.iter().map(|e| format!("{:?}/{:?}", field(e, "object"), field(e, "username"))).collect()
            }
            other => vec![format!("{other:?}")],
        };
        out.push_str(&format!("==> ACL LOG of {port}: {denied:?}\n"));
    }
    for entry in std::fs::read_dir(root).unwrap().flatten() {
        for log in ["valkey.log", "sentinel.log"] {
            let path = entry.path().join("log").join(log);
            if let Ok(text) = std::fs::read_to_string(&path) {
                out.push_str(&format!("==> {} <==\n{text}\n", path.display()));
            }
        }
    }
    out
}

#[test]
fn sentinels_switch_over_and_fail_over_with_the_rendered_acls() {
    run_failovers(&valkey_server(), true);
}

/// On Redis 7.0 (no COORDINATED), the automatic failover alone, where Redis is installed.
#[test]
fn redis_7_0_sentinels_fail_over_with_the_rendered_acls() {
    let server = std::path::Path::new("/usr/bin/redis-server");
    if !server.exists() {
        eprintln!("redis-server not installed; Redis 7.0 compatibility not checked here");
        return;
    }
    run_failovers(server, false);
}

/// Starts two data nodes and three Sentinels from rendered files; with `coordinated`, switches
/// over first; then crashes the primary and waits for the automatic failover.
fn run_failovers(server: &std::path::Path, coordinated: bool) {
    let tmp = tempfile::tempdir().unwrap();
    let c = Credentials { admin: "A".repeat(48), replication: "R".repeat(48), sentinel: "S".repeat(48) };
    let config = CharmConfig { down_after_ms: 2000, failover_timeout_ms: 10000, ..CharmConfig::default() };
    let data_ports = [free_port(), free_port()];
    let sentinel_ports = [free_port(), free_port(), free_port()];
    let all_ports = [data_ports[0], data_ports[1], sentinel_ports[0], sentinel_ports[1], sentinel_ports[2]];
    let mut guards: Vec<KillOnDrop> = Vec::new();

    for (i, port) in data_ports.iter().enumerate() {
        let paths = Paths::new(tmp.path().join(format!("node{i}")));
        paths.create_dirs().unwrap();
        let conf = ValkeyConf {
            bind: "127.0.0.1",
            announce_host: "127.0.0.1",
            port: *port,
            primary: (i > 0).then_some(("127.0.0.1", data_ports[0])),
            credentials: &c,
            config: &config,
            min_replicas_to_write: 0,
            paths: &paths,
        };
        write_private(&paths.valkey_conf(), &render_valkey_conf(&conf)).unwrap();
        guards.push(spawn(server, &paths.valkey_conf(), &[], *port, &c));
    }
    for (i, port) in sentinel_ports.iter().enumerate() {
        let paths = Paths::new(tmp.path().join(format!("sentinel{i}")));
        paths.create_dirs().unwrap();
        let conf = SentinelConf {
            bind: "127.0.0.1",
            announce_host: "127.0.0.1",
            port: *port,
            primary_host: "127.0.0.1",
            primary_port: data_ports[0],
            quorum: 2,
            credentials: &c,
            config: &config,
            paths: &paths,
            reconfig_script: None,
            notification_script: None,
        };
        write_private(&paths.sentinel_conf(), &render_sentinel_conf(&conf)).unwrap();
        guards.push(spawn(server, &paths.sentinel_conf(), &["--sentinel"], *port, &c));
    }

    // Discovery: every Sentinel sees the replica and the two other Sentinels.
    for s in sentinel_ports {
        let seen = poll(Duration::from_secs(30), || {
            let m = query(s, admin(&c), &["SENTINEL", "MASTER", MONITOR_NAME]).ok()?;
            let peers = query(s, admin(&c), &["SENTINEL", "SENTINELS", MONITOR_NAME]).ok()?;
            let redis::Value::Array(peers) = peers else { return None };
            // A COORDINATED failover asks for votes once, at once, and only over links that are
            // already connected: a peer known for a few milliseconds would be skipped.
            let linked = peers.iter().all(|p| field(p, "flags").as_deref() == Some("sentinel"));
            (field(&m, "num-slaves").as_deref() == Some("1")
                && field(&m, "num-other-sentinels").as_deref() == Some("2")
                && linked)
                .then_some(())
        });
        assert!(
            seen.is_some(),
            "sentinel on {s} never discovered its peers and the replica\n{}",
            logs(tmp.path(), &all_ports, &c)
        );
    }

    // Coordinated switchover (Valkey 9): the replica becomes primary, the old primary follows.
    let (mut primary, mut replica) = (0, 1);
    if coordinated {
        query(sentinel_ports[0], admin(&c), &["SENTINEL", "FAILOVER", MONITOR_NAME, "COORDINATED"]).unwrap();
        let switched = poll(Duration::from_secs(30), || {
            (agreed_primary_port(&sentinel_ports, &c) == Some(data_ports[1])
                && role(data_ports[1], &c).as_deref() == Some("master")
                && role(data_ports[0], &c).as_deref() == Some("slave"))
            .then_some(())
        });
        assert!(
            switched.is_some(),
            "coordinated switchover did not complete\n{}",
            logs(tmp.path(), &all_ports, &c)
        );
        (primary, replica) = (1, 0);
    }

    // Crash the primary: the Sentinels agree (votes between Sentinels) and promote the other.
    drop(guards.remove(primary));
    let failed_over = poll(Duration::from_secs(30), || {
        (agreed_primary_port(&sentinel_ports, &c) == Some(data_ports[replica])
            && role(data_ports[replica], &c).as_deref() == Some("master"))
        .then_some(())
    });
    assert!(
        failed_over.is_some(),
        "automatic failover after a crash did not complete\n{}",
        logs(tmp.path(), &all_ports, &c)
    );
    // Nothing Sentinel sent was refused: its narrow rights were all it needed.
    let refused = query(data_ports[replica], admin(&c), &["ACL", "LOG"]).unwrap();
    assert_eq!(refused, redis::Value::Array(vec![]), "{}", logs(tmp.path(), &all_ports, &c));
    // And with its password alone nobody reads the replication password or lifts the fence or the
    // persistence (pausing stays: Valkey's Sentinel pauses the old primary in a coordinated
    // failover).
    let sentinel = Some((super::SENTINEL_USER, c.sentinel.as_str()));
    for forbidden in [
        &["CONFIG", "GET", "masterauth"][..],
        &["CONFIG", "SET", "min-replicas-to-write", "0"],
        &["CONFIG", "SET", "appendonly", "no"],
        &["CLIENT", "LIST"],
        &["FLUSHALL"],
    ] {
        let err = query(data_ports[replica], sentinel, forbidden).expect_err("refused");
        assert!(err.to_lowercase().contains("noperm"), "{forbidden:?}: {err}");
    }
}

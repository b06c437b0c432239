//! Tests of the Juju half of observe, against the fake hook tools.

use super::*;
use crate::juju::fake::FakeHookTools;
use crate::juju::{Bag, NetworkInfo};

fn bag(kv: &[(&str, &str)]) -> Bag {
    kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn ctx(charm_dir: &std::path::Path) -> Context {
    let dir = charm_dir.to_string_lossy().to_string();
    Context::from_env(move |k| match k {
        "JUJU_UNIT_NAME" => Some("valkey/1".to_string()),
        "JUJU_CHARM_DIR" => Some(dir.clone()),
        "JUJU_MODEL_NAME" | "JUJU_MODEL_UUID" => Some("m".to_string()),
        _ => None,
    })
    .unwrap()
}

#[test]
fn juju_facts_are_typed_sorted_and_validated() {
    let dir = tempfile::tempdir().unwrap();
    let storage = dir.path().join("data");
    std::fs::create_dir(&storage).unwrap();
    let tools = FakeHookTools::new("valkey/1")
        .leader(true)
        .own_bag(bag(&[(peers::STARTED, "true")]))
        .peer("valkey/10", bag(&[(peers::HOST, "h10")]))
        .peer("valkey/2", bag(&[(peers::HOST, "h2"), (peers::START_REQUESTED, "5")]))
        .app_bag(bag(&[(peers::START_LOCK, "valkey/2")]))
        .config("parallel-syncs", serde_json::json!(0))
        .storage(&storage)
        .network(NetworkInfo {
            bind_address: "10.1.1.1".into(),
            hostname: "".into(),
            ingress_address: "10.1.1.1".into(),
        });
    let f = read_juju(&tools, &ctx(dir.path())).unwrap();
    assert!(f.leader);
    assert!(f.me.started);
    let names: Vec<_> = f.peers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["valkey/2", "valkey/10"], "sorted by unit number, not text");
    assert_eq!(f.peers[0].start_requested, Some(5));
    assert_eq!(f.app.start_lock.as_deref(), Some("valkey/2"));
    assert_eq!(f.config.unwrap_err().option, "parallel-syncs");
    assert_eq!(f.network, Some(("10.1.1.1".to_string(), "10.1.1.1".to_string())), "ingress when no hostname");
    assert_eq!(f.storage.as_deref(), Some(storage.as_path()));

    // The storage location is remembered: the next read asks no storage tool.
    let calls = tools.calls().len();
    read_juju(&tools, &ctx(dir.path())).unwrap();
    let new_calls: Vec<String> = tools.calls()[calls..].to_vec();
    assert!(!new_calls.iter().any(|c| c.starts_with("storage")), "{new_calls:?}");
}

#[test]
fn hostname_wins_over_the_address() {
    let dir = tempfile::tempdir().unwrap();
    let tools = FakeHookTools::new("valkey/1").network(NetworkInfo {
        bind_address: "10.1.1.1".into(),
        hostname: "valkey-1.lan".into(),
        ingress_address: "10.1.1.1".into(),
    });
    let f = read_juju(&tools, &ctx(dir.path())).unwrap();
    assert_eq!(f.network, Some(("valkey-1.lan".to_string(), "10.1.1.1".to_string())));
    assert_eq!(f.storage, None);
}

/// The failover leader reports the new epoch with the old address until it re-pointed the
/// replicas; the Sentinels that already switched name the primary (seen on the local model).
#[test]
fn known_primary_prefers_a_settled_view_on_an_epoch_tie() {
    use crate::observe::fixture::sentinel;
    let mut o = Observed::test(0);
    let switched = |n: u32| {
        let mut s = sentinel(n, 1, 2, 2, 2);
        s.primary.as_mut().unwrap().config_epoch = 1;
        s
    };
    let mut leading = sentinel(2, 0, 2, 2, 2);
    let p = leading.primary.as_mut().unwrap();
    p.config_epoch = 1;
    p.flags.push("failover_in_progress".into());
    for order in
        [vec![switched(0), switched(1), leading.clone()], vec![leading.clone(), switched(0), switched(1)]]
    {
        o.sentinels = order;
        assert_eq!(o.known_primary().map(|e| e.host), Some(crate::observe::fixture::host(1)));
    }
}

/// The tie table of [`select_primary`]: each row is the views (epoch, failover in progress,
/// node named) and the node chosen, whatever order the views come in.
#[test]
fn one_primary_rule_breaks_every_tie_the_same_way() {
    use crate::observe::fixture::host;
    let view = |epoch: u64, in_progress: bool, node: u32| {
        let mut flags = vec!["master".to_string()];
        if in_progress {
            flags.push("failover_in_progress".into());
        }
        MonitoredPrimary {
            ip: host(node),
            port: VALKEY_PORT,
            config_epoch: epoch,
            flags,
            ..Default::default()
        }
    };
    /// Views as (epoch, failover in progress, node), the node chosen, why.
    type Row = (&'static [(u64, bool, u32)], Option<u32>, &'static str);
    #[rustfmt::skip]
    let table: &[Row] = &[
        (&[], None, "no view, no primary"),
        (&[(0, false, 0)], Some(0), "one view"),
        (&[(1, false, 1), (0, false, 0)], Some(1), "higher epoch wins"),
        (&[(2, true, 0), (1, false, 1)], Some(0), "epoch before settledness"),
        (&[(1, true, 0), (1, false, 1)], Some(1), "equal epoch: the settled view"),
        (&[(1, true, 0), (1, true, 1), (1, true, 1)], Some(1), "all in progress: more views"),
        (&[(1, false, 2), (1, false, 1), (1, false, 1)], Some(1), "all settled: more views"),
        (&[(1, false, 2), (1, false, 1)], Some(1), "full tie: the lower address"),
    ];
    for (views, want, why) in table {
        let views: Vec<MonitoredPrimary> = views.iter().map(|(e, f, n)| view(*e, *f, *n)).collect();
        let mut reversed = views.clone();
        reversed.reverse();
        for order in [&views, &reversed] {
            let got = select_primary(order.iter()).map(|p| p.ip.clone());
            assert_eq!(got, want.map(host), "{why}");
        }
    }
}

#[test]
fn the_primary_is_read_once_when_it_is_this_unit() {
    use crate::valkey::test_server::TestServer;
    let server = TestServer::data("");
    let at = server.endpoint();
    let connector = crate::valkey::TcpConnector::default();
    let primary = MonitoredPrimary { ip: at.host.clone(), port: at.port, ..Default::default() };
    let local = LocalNode {
        replication: Some(ReplicationInfo {
            role: crate::valkey::Role::Primary,
            master_repl_offset: 12_345,
            ..Default::default()
        }),
        ..Default::default()
    };
    // Another unit's primary (the local answer differs from the server's): asked over the wire.
    let remote = primary_replication(&connector, &primary, &local, Some("127.255.0.9")).expect("read");
    assert_ne!(Some(&remote), local.replication.as_ref(), "the live server's answer, not the local one");
    // This unit is the primary (on Valkey's port): the local answer is reused, no connection.
    let mine = MonitoredPrimary { ip: "127.255.0.9".into(), port: VALKEY_PORT, ..Default::default() };
    assert_eq!(primary_replication(&connector, &mine, &local, Some("127.255.0.9")), local.replication);
}

#[test]
fn actions_find_units_sentinels_and_their_time_limit() {
    use crate::observe::fixture::{host, peer, sentinel};
    let mut o = Observed::test(0).with_peers(vec![peer(1, true, Some(1))]);
    assert_eq!(o.data_node_of("valkey/1").unwrap(), Endpoint::new(host(1), VALKEY_PORT));
    assert_eq!(o.data_node_of("valkey/0").unwrap(), Endpoint::new(host(0), VALKEY_PORT), "itself");
    assert_eq!(o.data_node_of("valkey/7").unwrap_err(), "valkey/7 is not a unit of this application");
    assert_eq!(o.sentinel_to_ask(), None, "no Sentinel answered");
    o.sentinels = vec![sentinel(1, 1, 2, 1, 1), sentinel(0, 1, 2, 1, 1)];
    assert_eq!(o.sentinel_to_ask(), Some(Endpoint::new(host(0), SENTINEL_PORT)), "its own first");
    assert_eq!(o.failover_limit(), std::time::Duration::from_secs(20));
}

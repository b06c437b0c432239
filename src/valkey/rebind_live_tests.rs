//! What an address change needs from the client, against real `valkey-server` processes: the
//! local socket as a way in, `CONFIG SET bind` at runtime, dropping the links of a moved peer and
//! a replica's reconnect (docs/ha-protocol.md "Address changes").

// Tests of the Valkey seam drive real servers and sockets directly.
#![allow(clippy::disallowed_methods)]

use super::test_server::{poll_until, TestServer};
use super::*;
use std::time::Duration;

/// Whether something accepts TCP connections at `host:port`.
fn listens(host: &str, port: u16) -> bool {
    let addr: std::net::SocketAddr = format!("{host}:{port}").parse().unwrap();
    std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
}

#[test]
fn a_node_moves_to_another_address_through_its_local_socket() {
    let sockets = tempfile::tempdir().unwrap();
    let socket = sockets.path().join("valkey.sock");
    let node = TestServer::data(&format!("unixsocket {}\nunixsocketperm 700", socket.display()));
    assert!(listens("127.0.0.1", node.port));
    let c = TcpConnector::default();
    let mut local = c.data(&Endpoint::new(socket.to_string_lossy(), 0)).expect("connect over the socket");
    local.ping().unwrap();
    local.config_set("bind", "127.0.0.2").unwrap();
    assert!(listens("127.0.0.2", node.port), "not listening at the new address");
    assert!(!listens("127.0.0.1", node.port), "still listening at the old address");
    // The socket still answers, and TCP clients reach the node at its new address.
    local.ping().unwrap();
    c.data(&Endpoint::new("127.0.0.2", node.port)).unwrap().ping().unwrap();
}

#[test]
fn a_moved_replicas_old_link_is_dropped_and_the_replica_reconnects() {
    let primary = TestServer::data("repl-diskless-sync-delay 0");
    // The replica's link leaves from 127.0.0.2, this test's own connections from 127.0.0.1.
    let replica =
        TestServer::data(&format!("replicaof 127.0.0.1 {}\nbind-source-addr 127.0.0.2", primary.port));
    let c = TcpConnector::default();
    // Exactly one online replica on the primary, and the replica's link up.
    let linked = || {
        poll_until(Duration::from_secs(10), || {
            let Ok(info) = c.data(&primary.endpoint()).and_then(|mut p| p.replication()) else {
                return false;
            };
            let online = info.replicas.iter().filter(|r| r.state == "online").count() == 1;
            let r = c.data(&replica.endpoint()).and_then(|mut n| n.replication());
            online && info.replicas.len() == 1 && r.is_ok_and(|r| r.link_up)
        })
    };
    assert!(linked(), "replica never linked: {}", replica.log());
    let mut p = c.data(&primary.endpoint()).unwrap();
    // This connection comes from 127.0.0.1: only the replica's link is at 127.0.0.2.
    assert_eq!(p.drop_clients_at("127.0.0.2").unwrap(), 1);
    assert_eq!(p.drop_clients_at("127.0.0.9").unwrap(), 0);
    p.ping().unwrap();
    assert!(linked(), "replica did not come back after its link was dropped: {}", replica.log());

    let before = replica.log().matches("Connection with primary lost").count();
    c.data(&replica.endpoint()).unwrap().reconnect_to_primary().unwrap();
    let again = poll_until(Duration::from_secs(10), || {
        replica.log().matches("Connection with primary lost").count() > before
    });
    assert!(again, "the replica did not reconnect: {}", replica.log());
    assert!(linked(), "replica did not relink: {}", replica.log());
}

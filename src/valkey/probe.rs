//! Whether anything still listens at an endpoint: a bare TCP connect, no RESP and no credentials.
//! Used to tell a departed node that still runs from one that has stopped.

use super::Endpoint;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How long a probe waits for a connection before calling the endpoint silent.
pub const PROBE_TIMEOUT: Duration = Duration::from_millis(300);

/// The first socket address of an endpoint (`None` when it does not resolve: as good as gone).
pub fn resolve(ep: &Endpoint) -> Option<SocketAddr> {
    (ep.host.as_str(), ep.port).to_socket_addrs().ok()?.next()
}

/// Whether `ep` resolves and accepts a TCP connection within [`PROBE_TIMEOUT`].
pub fn answers(ep: &Endpoint) -> bool {
    // The one raw TCP connect of the charm: a liveness probe, deliberately below the client.
    #[allow(clippy::disallowed_methods)]
    resolve(ep).is_some_and(|a| TcpStream::connect_timeout(&a, PROBE_TIMEOUT).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listener_answers_and_a_closed_port_or_unknown_name_does_not() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(answers(&Endpoint::new("127.0.0.1", port)));
        drop(listener);
        assert!(!answers(&Endpoint::new("127.0.0.1", port)));
        assert!(!answers(&Endpoint::new("no-such-host.invalid", port)));
    }
}

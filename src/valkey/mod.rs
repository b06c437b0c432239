//! The Valkey and Sentinel client: the only code that talks RESP.
//!
//! Effects sit behind two small traits, [`DataNode`] (a Valkey data node) and [`SentinelNode`]
//! (a Sentinel), opened through a [`Connector`], so observe/execute/actions can be tested with
//! fakes. Reply parsing is pure and lives apart ([`info`], [`sentinel_reply`]) with tests on
//! captured replies; `live_tests` checks the real client against a real `valkey-server`.
//!
//! Command spellings are the old ones (`SENTINEL MASTER`, `SLAVES`, `GET-MASTER-ADDR-BY-NAME`) on
//! purpose: Valkey 9 accepts them and Redis 7.0 knows nothing else (valkey-facts.md).

pub mod acl;
pub mod client;
pub mod client_list;
pub mod info;
pub mod probe;
pub mod sentinel_reply;

#[cfg(test)]
mod live_tests;
#[cfg(test)]
mod rebind_live_tests;
#[cfg(test)]
pub(crate) mod test_server;

pub use client::{
    Connector, DataNode, SentinelNode, TcpConnector, Timeouts, SENTINEL_ASK_PERIOD, SENTINEL_INFO_PERIOD,
    SENTINEL_PING_PERIOD,
};
pub use info::{MemoryUse, ReplicaEntry, ReplicationInfo, Role};
pub use sentinel_reply::{KnownReplica, KnownSentinel, MonitoredPrimary, QuorumCheck};

use std::fmt;

/// Where a Valkey or Sentinel listens: the host exactly as announced (a hostname or an address).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    /// Hostname or IP address, as the unit announces it (replicas `replicaof` it verbatim).
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl Endpoint {
    /// An endpoint from its parts.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        Self { host: host.into(), port }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// ACL credentials for a connection. `Debug` redacts the password so it can never reach a log.
#[derive(Clone, PartialEq, Eq)]
pub struct Auth {
    /// ACL user name (the charm uses its admin user on both Valkey and Sentinel).
    pub user: String,
    /// The user's password.
    pub password: String,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth").field("user", &self.user).field("password", &"<redacted>").finish()
    }
}

/// Everything that can go wrong talking to Valkey or Sentinel.
#[derive(Debug, thiserror::Error)]
pub enum ValkeyError {
    /// The TCP connection or the AUTH handshake failed (node down, wrong password, timeout).
    #[error("cannot connect to {endpoint}: {source}")]
    Connect {
        /// Who we tried to reach.
        endpoint: Endpoint,
        /// The client's reason.
        #[source]
        source: redis::RedisError,
    },
    /// A command got an error reply or the connection broke while it ran.
    #[error("{command} on {endpoint} failed: {source}")]
    Command {
        /// Who ran it.
        endpoint: Endpoint,
        /// The command (without arguments: they may hold passwords).
        command: String,
        /// The client's reason (error code and message from the server included).
        #[source]
        source: redis::RedisError,
    },
    /// A reply arrived but did not have the expected shape.
    #[error("unexpected reply to {command} from {endpoint}: {detail}")]
    Reply {
        /// Who replied.
        endpoint: Endpoint,
        /// The command.
        command: String,
        /// What was wrong with it.
        detail: String,
    },
}

/// Server error codes that mean "not now" rather than "no": `LOADING` (loading its AOF or RDB),
/// `BUSY` (a script or function running past its time limit), `MASTERDOWN` (a replica whose link
/// is down with `replica-serve-stale-data no`), `TRYAGAIN`. The same command succeeds once the
/// server is done, so the charm waits for it (bounded) instead of failing the hook.
pub const TRANSIENT_CODES: [&str; 4] = ["LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN"];

/// Whether a server error code is one of [`TRANSIENT_CODES`].
pub fn is_transient_code(code: &str) -> bool {
    TRANSIENT_CODES.contains(&code)
}

impl ValkeyError {
    /// The server answered with a transient error ([`TRANSIENT_CODES`]); the node it came from.
    pub fn transient_at(&self) -> Option<&Endpoint> {
        // A handshake (AUTH) answered with one of them arrives as a connect error.
        match self {
            ValkeyError::Command { endpoint, source, .. } | ValkeyError::Connect { endpoint, source }
                if source.code().is_some_and(is_transient_code) =>
            {
                Some(endpoint)
            }
            _ => None,
        }
    }

    /// True when the error is a refused or timed-out connection or a broken link — the kind a
    /// retry on a later hook may cure — rather than a wrong reply.
    pub fn is_unreachable(&self) -> bool {
        match self {
            ValkeyError::Connect { .. } => true,
            ValkeyError::Command { source, .. } => {
                source.is_io_error() || source.is_timeout() || source.is_connection_dropped()
            }
            ValkeyError::Reply { .. } => false,
        }
    }
}

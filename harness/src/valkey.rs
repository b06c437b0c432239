//! Small, blocking Valkey/Sentinel connection helpers shared by the probe, the topology fixture and
//! the benchmarks: an address type, credentials, and connecting with short timeouts.
//!
//! Everything here is synchronous on purpose: the probe measures unavailability to the millisecond,
//! and a plain socket with explicit connect/read timeouts makes "how long did that take" obvious.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use redis::{ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo};

/// A `host:port` address of a data node or a Sentinel.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Endpoint {
    /// Host name or IP literal, as Sentinel announces it.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl Endpoint {
    /// Builds an endpoint from its parts.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        Self { host: host.into(), port }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// Why a `host:port` string could not be read.
#[derive(Debug, thiserror::Error)]
#[error("invalid address {0:?}: expected host:port")]
pub struct EndpointParseError(String);

impl FromStr for Endpoint {
    type Err = EndpointParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (host, port) = s.rsplit_once(':').ok_or_else(|| EndpointParseError(s.to_string()))?;
        let port = port.parse().map_err(|_| EndpointParseError(s.to_string()))?;
        if host.is_empty() {
            return Err(EndpointParseError(s.to_string()));
        }
        Ok(Self::new(host, port))
    }
}

/// Username/password used to authenticate; both optional (no AUTH is sent when the password is
/// absent), because Sentinels and data nodes are often protected differently.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// ACL user name; `None` authenticates as `default`.
    pub username: Option<String>,
    /// Password; `None` sends no AUTH at all.
    pub password: Option<String>,
}

impl fmt::Debug for Credentials {
    // The password is never printed: reports and panics end up in CI logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Credentials {
    /// Credentials for an ACL user.
    pub fn user(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self { username: Some(username.into()), password: Some(password.into()) }
    }
}

/// Connect and read/write timeouts for one connection.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// TCP connect timeout; short, so a dead host is noticed quickly.
    pub connect: Duration,
    /// Read/write timeout for each command; must exceed any `WAIT` timeout sent on the connection.
    pub io: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self { connect: Duration::from_millis(300), io: Duration::from_millis(500) }
    }
}

/// Opens an authenticated connection to `endpoint` with the given timeouts. The host goes through
/// [`crate::names::resolve`] first, so host names a host-mode model announces work from the host.
pub fn connect(
    endpoint: &Endpoint,
    credentials: &Credentials,
    timeouts: Timeouts,
) -> redis::RedisResult<redis::Connection> {
    let mut settings = RedisConnectionInfo::default().set_skip_set_lib_name();
    if let Some(user) = &credentials.username {
        settings = settings.set_username(user);
    }
    if let Some(password) = &credentials.password {
        settings = settings.set_password(password);
    }
    let info = ConnectionAddr::Tcp(crate::names::resolve(&endpoint.host), endpoint.port)
        .into_connection_info()?
        .set_redis_settings(settings);
    let client = redis::Client::open(info)?;
    let connection = client.get_connection_with_timeout(timeouts.connect)?;
    connection.set_read_timeout(Some(timeouts.io))?;
    connection.set_write_timeout(Some(timeouts.io))?;
    Ok(connection)
}

/// The first element of `ROLE`: `master`, `slave` or `sentinel`.
pub fn role(connection: &mut redis::Connection) -> redis::RedisResult<String> {
    let reply: redis::Value = redis::cmd("ROLE").query(connection)?;
    match reply {
        redis::Value::Array(items) => match items.into_iter().next() {
            Some(first) => Ok(redis::from_redis_value(first)?),
            None => Err((redis::ErrorKind::Parse, "empty ROLE reply").into()),
        },
        _ => Err((redis::ErrorKind::Parse, "ROLE reply is not an array").into()),
    }
}

/// Parses `INFO` text into (key, value) pairs, skipping section headers and blank lines.
pub fn parse_info(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.trim_end().split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_parses_and_prints() {
        let endpoint: Endpoint = "127.0.3.2:6379".parse().unwrap();
        assert_eq!(endpoint, Endpoint::new("127.0.3.2", 6379));
        assert_eq!(endpoint.to_string(), "127.0.3.2:6379");
        assert!("nohost".parse::<Endpoint>().is_err());
        assert!(":6379".parse::<Endpoint>().is_err());
        assert!("h:99999".parse::<Endpoint>().is_err());
    }

    #[test]
    fn credentials_debug_hides_password() {
        let printed = format!("{:?}", Credentials::user("charm", "s3cret"));
        assert!(!printed.contains("s3cret"), "{printed}");
        assert!(printed.contains("charm"));
    }

    #[test]
    fn info_is_split_into_pairs() {
        let info = "# Replication\r\nrole:master\r\nslave0:ip=a,port=1,state=online\r\n\r\n";
        let pairs = parse_info(info);
        assert_eq!(pairs[0], ("role".to_string(), "master".to_string()));
        assert_eq!(pairs[1].1, "ip=a,port=1,state=online");
        assert_eq!(pairs.len(), 2);
    }
}

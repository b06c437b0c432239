//! Queries against Sentinels: resolving the current primary (checked with `ROLE`), reading each
//! Sentinel's view of the monitored primary (`SENTINEL MASTER`), and counting failovers through
//! `config-epoch`, which rises by exactly one per completed failover.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::valkey::{self, Credentials, Endpoint, Timeouts};

/// Errors from talking to Sentinels.
#[derive(Debug, thiserror::Error)]
pub enum SentinelError {
    /// No Sentinel named a primary that answered `ROLE` with `master`.
    #[error("no sentinel resolved a live primary for {monitor:?}: {attempts}")]
    NoPrimary {
        /// Monitor name asked for.
        monitor: String,
        /// What each Sentinel answered, joined for the message.
        attempts: String,
    },
    /// A Sentinel could not be queried.
    #[error("sentinel {endpoint}: {source}")]
    Query {
        /// Which Sentinel.
        endpoint: Endpoint,
        /// The client error.
        #[source]
        source: redis::RedisError,
    },
    /// A `SENTINEL MASTER` reply lacked a field or held a malformed one.
    #[error("sentinel {endpoint}: field {field:?} missing or malformed in SENTINEL MASTER reply")]
    Field {
        /// Which Sentinel.
        endpoint: Endpoint,
        /// The field name.
        field: String,
    },
    /// A condition on the Sentinels did not hold before the deadline.
    #[error("timed out after {waited:?} waiting for {what}; last seen: {last}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long we waited.
        waited: Duration,
        /// The last observation, for diagnosis.
        last: String,
    },
}

/// How to reach a set of Sentinels watching one primary.
#[derive(Debug, Clone)]
pub struct SentinelSet {
    /// Sentinel addresses, tried in order.
    pub sentinels: Vec<Endpoint>,
    /// Monitor name (`primary` for this charm).
    pub monitor: String,
    /// Credentials for the Sentinels themselves.
    pub sentinel_auth: Credentials,
    /// Credentials for data nodes (used for the `ROLE` check).
    pub data_auth: Credentials,
    /// Timeouts for every connection opened here.
    pub timeouts: Timeouts,
}

/// One Sentinel's view of the monitored primary, from `SENTINEL MASTER <name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorView {
    /// Primary address as this Sentinel announces it.
    pub primary: Endpoint,
    /// Failover counter; equal on all Sentinels once a failover has propagated.
    pub config_epoch: u64,
    /// Replicas this Sentinel knows.
    pub num_slaves: u64,
    /// Other Sentinels this Sentinel knows.
    pub num_other_sentinels: u64,
    /// Flags such as `master`, `s_down`, `o_down`, `failover_in_progress`.
    pub flags: String,
}

impl SentinelSet {
    /// Asks each Sentinel in turn for the primary and returns the first answer whose `ROLE` is
    /// `master` (a Sentinel can lag behind a failover; the ROLE check catches that).
    pub fn resolve_primary(&self) -> Result<Endpoint, SentinelError> {
        let mut attempts = Vec::new();
        for sentinel in &self.sentinels {
            match self.primary_of(sentinel) {
                Ok(candidate) => match self.check_master(&candidate) {
                    Ok(()) => return Ok(candidate),
                    Err(why) => attempts.push(format!("{sentinel} -> {candidate}: {why}")),
                },
                Err(why) => attempts.push(format!("{sentinel}: {why}")),
            }
        }
        Err(SentinelError::NoPrimary { monitor: self.monitor.clone(), attempts: attempts.join("; ") })
    }

    fn primary_of(&self, sentinel: &Endpoint) -> redis::RedisResult<Endpoint> {
        let mut connection = valkey::connect(sentinel, &self.sentinel_auth, self.timeouts)?;
        let reply: Option<(String, u16)> = redis::cmd("SENTINEL")
            .arg("GET-MASTER-ADDR-BY-NAME")
            .arg(&self.monitor)
            .query(&mut connection)?;
        reply
            .map(|(host, port)| Endpoint::new(host, port))
            .ok_or_else(|| (redis::ErrorKind::Parse, "sentinel does not know the monitor").into())
    }

    fn check_master(&self, candidate: &Endpoint) -> Result<(), String> {
        let mut connection =
            valkey::connect(candidate, &self.data_auth, self.timeouts).map_err(|e| e.to_string())?;
        match valkey::role(&mut connection).map_err(|e| e.to_string())?.as_str() {
            "master" => Ok(()),
            other => Err(format!("ROLE is {other}")),
        }
    }

    /// Reads `SENTINEL MASTER <monitor>` from one Sentinel.
    pub fn view(&self, sentinel: &Endpoint) -> Result<MonitorView, SentinelError> {
        let query_error = |source| SentinelError::Query { endpoint: sentinel.clone(), source };
        let mut connection =
            valkey::connect(sentinel, &self.sentinel_auth, self.timeouts).map_err(query_error)?;
        let fields: BTreeMap<String, String> = redis::cmd("SENTINEL")
            .arg("MASTER")
            .arg(&self.monitor)
            .query(&mut connection)
            .map_err(query_error)?;
        parse_view(sentinel, &fields)
    }

    /// Every Sentinel's view, in the order of `self.sentinels`.
    pub fn views(&self) -> Result<Vec<MonitorView>, SentinelError> {
        self.sentinels.iter().map(|s| self.view(s)).collect()
    }

    /// The highest `config-epoch` among the Sentinels that answer (tests compare it before and
    /// after a fault: it must rise by exactly one).
    pub fn max_config_epoch(&self) -> Result<u64, SentinelError> {
        let views = self.views()?;
        Ok(views.iter().map(|v| v.config_epoch).max().unwrap_or(0))
    }

    /// Polls until every listed Sentinel reports the same primary and config-epoch, with no failover
    /// in progress, and returns that common view.
    pub fn wait_agreement(&self, timeout: Duration) -> Result<MonitorView, SentinelError> {
        self.wait_until("all sentinels to agree on one primary and epoch", timeout, |views| {
            let first = views.first()?;
            let agreed = views.iter().all(|v| {
                v.primary == first.primary
                    && v.config_epoch == first.config_epoch
                    && !v.flags.contains("failover_in_progress")
                    && !v.flags.contains("s_down")
            });
            agreed.then(|| first.clone())
        })
    }

    /// Polls `views()` until `accept` returns a value or the timeout passes; the error carries the
    /// last views (or the last query error).
    pub fn wait_until<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut accept: impl FnMut(&[MonitorView]) -> Option<T>,
    ) -> Result<T, SentinelError> {
        let start = Instant::now();
        loop {
            let last = match self.views() {
                Ok(views) => match accept(&views) {
                    Some(value) => return Ok(value),
                    None => format!("{views:?}"),
                },
                Err(error) => error.to_string(),
            };
            if start.elapsed() >= timeout {
                return Err(SentinelError::Timeout { what: what.to_string(), waited: start.elapsed(), last });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Builds a [`MonitorView`] from the field map of a `SENTINEL MASTER` reply.
pub fn parse_view(
    sentinel: &Endpoint,
    fields: &BTreeMap<String, String>,
) -> Result<MonitorView, SentinelError> {
    let text = |name: &str| {
        fields
            .get(name)
            .cloned()
            .ok_or_else(|| SentinelError::Field { endpoint: sentinel.clone(), field: name.into() })
    };
    let number = |name: &str| -> Result<u64, SentinelError> {
        text(name)?
            .parse()
            .map_err(|_| SentinelError::Field { endpoint: sentinel.clone(), field: name.into() })
    };
    let port = u16::try_from(number("port")?)
        .map_err(|_| SentinelError::Field { endpoint: sentinel.clone(), field: "port".into() })?;
    Ok(MonitorView {
        primary: Endpoint::new(text("ip")?, port),
        config_epoch: number("config-epoch")?,
        num_slaves: number("num-slaves")?,
        num_other_sentinels: number("num-other-sentinels")?,
        flags: text("flags")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn view_is_read_from_sentinel_master_fields() {
        let sentinel = Endpoint::new("127.0.0.2", 26379);
        let reply = fields(&[
            ("name", "primary"),
            ("ip", "127.0.0.3"),
            ("port", "6379"),
            ("flags", "master"),
            ("config-epoch", "4"),
            ("num-slaves", "2"),
            ("num-other-sentinels", "2"),
        ]);
        let view = parse_view(&sentinel, &reply).unwrap();
        assert_eq!(view.primary, Endpoint::new("127.0.0.3", 6379));
        assert_eq!((view.config_epoch, view.num_slaves, view.num_other_sentinels), (4, 2, 2));
    }

    #[test]
    fn missing_or_bad_field_is_named() {
        let sentinel = Endpoint::new("127.0.0.2", 26379);
        let reply = fields(&[("ip", "h"), ("port", "x")]);
        let error = parse_view(&sentinel, &reply).unwrap_err().to_string();
        assert!(error.contains("\"port\""), "{error}");
    }
}

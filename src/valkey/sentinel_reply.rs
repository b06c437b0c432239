//! Pure parsers for Sentinel's replies: `SENTINEL MASTER`, `SLAVES`, `SENTINELS`, `CKQUORUM`.
//!
//! Sentinel answers the first three with flat `key, value, key, value, …` arrays (one per
//! instance). They become plain structs holding the fields the charm decides on.

use std::collections::BTreeMap;

/// A flat key/value reply turned into a map.
pub type Fields = BTreeMap<String, String>;

/// Pairs up a flat `[k1, v1, k2, v2, …]` reply. A trailing odd element is dropped.
pub fn pairs(flat: Vec<String>) -> Fields {
    let mut it = flat.into_iter();
    let mut out = Fields::new();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        out.insert(k, v);
    }
    out
}

fn num<T: std::str::FromStr + Default>(f: &Fields, key: &str) -> T {
    f.get(key).and_then(|v| v.parse().ok()).unwrap_or_default()
}

fn flags(f: &Fields) -> Vec<String> {
    f.get("flags").map(|s| s.split(',').map(str::to_string).collect()).unwrap_or_default()
}

/// `SENTINEL MASTER primary`: the monitored primary as one Sentinel sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MonitoredPrimary {
    /// Host the Sentinel knows the primary by (a hostname with `announce-hostnames yes`).
    pub ip: String,
    /// Its port.
    pub port: u16,
    /// Sentinels that must agree the primary is down.
    pub quorum: u32,
    /// Replicas this Sentinel knows (including departed ones until a RESET).
    pub num_slaves: u32,
    /// Other Sentinels this Sentinel knows (including departed ones until a RESET).
    pub num_other_sentinels: u32,
    /// `master`, `s_down`, `o_down`, `failover_in_progress`, `disconnected`, …
    pub flags: Vec<String>,
    /// Rises by one per completed failover: the cleanest failover counter.
    pub config_epoch: u64,
    /// Current failover-timeout in ms.
    pub failover_timeout: u64,
    /// Current down-after-milliseconds.
    pub down_after: u64,
    /// Current parallel-syncs.
    pub parallel_syncs: u32,
}

impl MonitoredPrimary {
    /// Builds it from the paired reply.
    pub fn from_fields(f: &Fields) -> Self {
        Self {
            ip: f.get("ip").cloned().unwrap_or_default(),
            port: num(f, "port"),
            quorum: num(f, "quorum"),
            num_slaves: num(f, "num-slaves"),
            num_other_sentinels: num(f, "num-other-sentinels"),
            flags: flags(f),
            config_epoch: num(f, "config-epoch"),
            failover_timeout: num(f, "failover-timeout"),
            down_after: num(f, "down-after-milliseconds"),
            parallel_syncs: num(f, "parallel-syncs"),
        }
    }

    /// True while Sentinel runs a failover for it.
    pub fn failover_in_progress(&self) -> bool {
        self.flags.iter().any(|f| f == "failover_in_progress")
    }

    /// True when this Sentinel believes the primary is down (subjectively or objectively).
    pub fn is_down(&self) -> bool {
        self.flags.iter().any(|f| f == "s_down" || f == "o_down" || f == "disconnected")
    }
}

/// One entry of `SENTINEL SLAVES primary`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KnownReplica {
    /// Announced host of the replica.
    pub ip: String,
    /// Its port.
    pub port: u16,
    /// `slave`, `s_down`, `disconnected`, …
    pub flags: Vec<String>,
    /// `ok` or `err`: the replica's link to the primary as it reported in INFO.
    pub link_ok: bool,
    /// The replica's offset as of Sentinel's last INFO.
    pub repl_offset: u64,
    /// Its replica-priority as of Sentinel's last INFO (0 = never promoted).
    pub priority: u32,
    /// Milliseconds since Sentinel's last INFO reply from it (`info-refresh`). Sentinel skips a
    /// replica whose INFO is older than three INFO periods when it picks one to promote.
    pub info_refresh_ms: u64,
}

impl KnownReplica {
    /// Builds it from the paired reply.
    pub fn from_fields(f: &Fields) -> Self {
        Self {
            ip: f.get("ip").cloned().unwrap_or_default(),
            port: num(f, "port"),
            flags: flags(f),
            link_ok: f.get("master-link-status").map(String::as_str) == Some("ok"),
            repl_offset: num(f, "slave-repl-offset"),
            priority: num(f, "slave-priority"),
            info_refresh_ms: num(f, "info-refresh"),
        }
    }

    /// True when Sentinel considers the replica down or unreachable.
    pub fn is_down(&self) -> bool {
        self.flags.iter().any(|f| f == "s_down" || f == "o_down" || f == "disconnected")
    }
}

/// One entry of `SENTINEL SENTINELS primary`: a peer Sentinel.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KnownSentinel {
    /// Announced host of the peer.
    pub ip: String,
    /// Its port.
    pub port: u16,
    /// Its run id (stable for the process life; a restarted Sentinel keeps its `myid`).
    pub runid: String,
    /// `sentinel`, `s_down`, `disconnected`, …
    pub flags: Vec<String>,
}

impl KnownSentinel {
    /// Builds it from the paired reply.
    pub fn from_fields(f: &Fields) -> Self {
        Self {
            ip: f.get("ip").cloned().unwrap_or_default(),
            port: num(f, "port"),
            runid: f.get("runid").cloned().unwrap_or_default(),
            flags: flags(f),
        }
    }

    /// True when this peer looks down.
    pub fn is_down(&self) -> bool {
        self.flags.iter().any(|f| f == "s_down" || f == "o_down" || f == "disconnected")
    }
}

/// `SENTINEL CKQUORUM primary`: can the Sentinels reach quorum and a failover majority now?
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumCheck {
    /// True for `+OK`, false for `-NOQUORUM` (and other refusals).
    pub ok: bool,
    /// Sentinel's own sentence, for status and action messages.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn master_reply() {
        let f = pairs(flat(&[
            "name",
            "primary",
            "ip",
            "valkey-0.local",
            "port",
            "6379",
            "flags",
            "master",
            "config-epoch",
            "3",
            "num-slaves",
            "2",
            "num-other-sentinels",
            "2",
            "quorum",
            "2",
            "failover-timeout",
            "20000",
            "parallel-syncs",
            "1",
            "down-after-milliseconds",
            "5000",
        ]));
        let p = MonitoredPrimary::from_fields(&f);
        assert_eq!(p.ip, "valkey-0.local");
        assert_eq!(p.port, 6379);
        assert_eq!((p.quorum, p.num_slaves, p.num_other_sentinels), (2, 2, 2));
        assert_eq!((p.config_epoch, p.failover_timeout, p.down_after), (3, 20000, 5000));
        assert!(!p.failover_in_progress());
        assert!(!p.is_down());
    }

    #[test]
    fn master_flags_in_failover() {
        let f = pairs(flat(&["flags", "master,s_down,o_down,failover_in_progress"]));
        let p = MonitoredPrimary::from_fields(&f);
        assert!(p.failover_in_progress());
        assert!(p.is_down());
    }

    #[test]
    fn odd_reply_drops_the_dangling_key() {
        let f = pairs(flat(&["ip", "h", "port"]));
        assert_eq!(f.len(), 1);
        assert_eq!(MonitoredPrimary::from_fields(&f).port, 0);
    }

    #[test]
    fn replica_entry() {
        let f = pairs(flat(&[
            "name",
            "h1:6379",
            "ip",
            "h1",
            "port",
            "6379",
            "flags",
            "slave",
            "master-link-status",
            "ok",
            "slave-priority",
            "100",
            "slave-repl-offset",
            "777",
        ]));
        let r = KnownReplica::from_fields(&f);
        assert_eq!(r.ip, "h1");
        assert!(r.link_ok);
        assert_eq!((r.priority, r.repl_offset), (100, 777));
        assert!(!r.is_down());
        let down = KnownReplica::from_fields(&pairs(flat(&[
            "flags",
            "s_down,slave,disconnected",
            "master-link-status",
            "err",
        ])));
        assert!(down.is_down());
        assert!(!down.link_ok);
    }

    #[test]
    fn sentinel_entry() {
        let f = pairs(flat(&["ip", "h2", "port", "26379", "runid", "abc", "flags", "sentinel"]));
        let s = KnownSentinel::from_fields(&f);
        assert_eq!((s.ip.as_str(), s.port, s.runid.as_str()), ("h2", 26379, "abc"));
        assert!(!s.is_down());
    }
}

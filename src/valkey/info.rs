//! Pure parsers for `INFO replication` and `INFO server` replies.
//!
//! INFO is `field:value` lines grouped under `# Section` headers. Only the fields the charm
//! decides on are kept, in plain structs, so plan tests build them by hand.

use std::collections::BTreeMap;

/// The role a data node reports (`role:master|slave`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    /// Accepts writes.
    Primary,
    /// Replicates from `master_host:master_port`.
    Replica,
    /// Anything else (never seen from a data node, kept so parsing cannot fail on a new word).
    #[default]
    Unknown,
}

/// One `slaveN:` line of a primary: a replica as the primary sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReplicaEntry {
    /// Address the replica announced (`replica-announce-ip`, so the unit's hostname).
    pub ip: String,
    /// Its port.
    pub port: u16,
    /// `online` once the initial sync is over; `wait_bgsave`, `send_bulk` before.
    pub state: String,
    /// Replication offset the replica acknowledged.
    pub offset: u64,
    /// Seconds since its last acknowledgement.
    pub lag: u64,
}

/// The part of `INFO replication` the charm reasons about.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReplicationInfo {
    /// Primary or replica.
    pub role: Role,
    /// For a replica: the host it replicates from.
    pub master_host: Option<String>,
    /// For a replica: the port it replicates from.
    pub master_port: Option<u16>,
    /// For a replica: `true` when `master_link_status:up`.
    pub link_up: bool,
    /// The node's own replication offset (`master_repl_offset`).
    pub master_repl_offset: u64,
    /// For a replica: how far it has processed the primary's stream (`slave_repl_offset`).
    pub slave_repl_offset: Option<u64>,
    /// For a primary: its replicas.
    pub replicas: Vec<ReplicaEntry>,
    /// For a replica: its live `replica-priority` (`slave_priority`); 0 = Sentinel never promotes
    /// it. Every Valkey starts at 0 (the start-up fence, `workload::START_FENCE`) until it has
    /// resynced. `None` for a primary, whose INFO does not show it.
    pub priority: Option<u32>,
    /// `master_failover_state` (Valkey/Redis 6.2+): `no-failover`, `waiting-for-sync` while a
    /// `FAILOVER` holds writes until a replica acknowledged everything, `failover-in-progress`
    /// during the hand-over itself. `None` on engines without `FAILOVER`.
    pub failover_state: Option<String>,
}

impl ReplicationInfo {
    /// A `FAILOVER` is holding writes until a replica acknowledges the primary's whole stream.
    pub fn waiting_for_sync(&self) -> bool {
        self.failover_state.as_deref() == Some("waiting-for-sync")
    }

    /// The offset that says how much data this node holds: the replica offset for a replica,
    /// the stream offset for a primary.
    pub fn data_offset(&self) -> u64 {
        match self.role {
            Role::Replica => self.slave_repl_offset.unwrap_or(self.master_repl_offset),
            _ => self.master_repl_offset,
        }
    }
}

/// Splits an INFO reply into `field → value`, ignoring section headers and blank lines.
pub fn fields(reply: &str) -> BTreeMap<&str, &str> {
    reply
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .collect()
}

/// What `INFO memory` says counts against `maxmemory`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemoryUse {
    /// `used_memory` minus `mem_not_counted_for_evict` (replication and AOF buffers): what Valkey
    /// compares with `maxmemory` before it evicts or refuses a write.
    pub counted: u64,
    /// The `maxmemory` in force (0: no limit).
    pub maxmemory: u64,
}

/// Parses `INFO memory`; `None` when `used_memory` is missing.
pub fn parse_memory(reply: &str) -> Option<MemoryUse> {
    let f = fields(reply);
    let num = |k: &str| f.get(k).and_then(|v| v.parse::<u64>().ok());
    let used = num("used_memory")?;
    Some(MemoryUse {
        counted: used.saturating_sub(num("mem_not_counted_for_evict").unwrap_or(0)),
        maxmemory: num("maxmemory").unwrap_or(0),
    })
}

/// Parses `INFO replication`.
pub fn parse_replication(reply: &str) -> ReplicationInfo {
    let f = fields(reply);
    let role = match f.get("role") {
        Some(&"master") => Role::Primary,
        Some(&"slave") => Role::Replica,
        _ => Role::Unknown,
    };
    let num = |k: &str| f.get(k).and_then(|v| v.parse::<u64>().ok());
    let mut replicas: Vec<(u32, ReplicaEntry)> = f
        .iter()
        .filter_map(|(k, v)| {
            let n = k.strip_prefix("slave")?.parse::<u32>().ok()?;
            Some((n, parse_replica_entry(v)))
        })
        .collect();
    replicas.sort_by_key(|(n, _)| *n);
    ReplicationInfo {
        role,
        master_host: f.get("master_host").map(|s| s.to_string()),
        master_port: f.get("master_port").and_then(|v| v.parse().ok()),
        link_up: f.get("master_link_status") == Some(&"up"),
        master_repl_offset: num("master_repl_offset").unwrap_or(0),
        slave_repl_offset: num("slave_repl_offset"),
        replicas: replicas.into_iter().map(|(_, r)| r).collect(),
        priority: f.get("slave_priority").and_then(|v| v.parse().ok()),
        failover_state: f.get("master_failover_state").map(|s| s.to_string()),
    }
}

/// Parses the value of a `slaveN:` line: `ip=..,port=..,state=..,offset=..,lag=..`.
fn parse_replica_entry(value: &str) -> ReplicaEntry {
    let mut e = ReplicaEntry::default();
    for (k, v) in value.split(',').filter_map(|kv| kv.split_once('=')) {
        match k {
            "ip" => e.ip = v.to_string(),
            "port" => e.port = v.parse().unwrap_or(0),
            "state" => e.state = v.to_string(),
            "offset" => e.offset = v.parse().unwrap_or(0),
            "lag" => e.lag = v.parse().unwrap_or(0),
            _ => {}
        }
    }
    e
}

/// The engine version from `INFO server`: `valkey_version` (Valkey 8+), else `redis_version`.
pub fn parse_server_version(reply: &str) -> Option<String> {
    let f = fields(reply);
    f.get("valkey_version").or_else(|| f.get("redis_version")).map(|v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRIMARY: &str = "# Replication\r\nrole:master\r\nconnected_slaves:2\r\n\
slave0:ip=valkey-1.local,port=6379,state=online,offset=5321,lag=0\r\n\
slave1:ip=10.0.0.7,port=6380,state=wait_bgsave,offset=0,lag=3\r\n\
master_failover_state:no-failover\r\nmaster_replid:8f2c\r\nmaster_repl_offset:5321\r\n\
second_repl_offset:-1\r\nrepl_backlog_active:1\r\n";

    const REPLICA: &str = "# Replication\r\nrole:slave\r\nmaster_host:valkey-0.local\r\n\
master_port:6379\r\nmaster_link_status:up\r\nmaster_last_io_seconds_ago:1\r\n\
master_sync_in_progress:0\r\nslave_read_repl_offset:5321\r\nslave_repl_offset:5300\r\n\
slave_priority:100\r\nslave_read_only:1\r\nreplica_announced:1\r\nconnected_slaves:0\r\n\
master_failover_state:no-failover\r\nmaster_repl_offset:5321\r\n";

    #[test]
    fn primary_with_two_replicas() {
        let r = parse_replication(PRIMARY);
        assert_eq!(r.role, Role::Primary);
        assert_eq!(r.master_repl_offset, 5321);
        assert_eq!(r.data_offset(), 5321);
        assert_eq!(r.replicas.len(), 2);
        assert_eq!(
            r.replicas[0],
            ReplicaEntry {
                ip: "valkey-1.local".into(),
                port: 6379,
                state: "online".into(),
                offset: 5321,
                lag: 0
            }
        );
        assert_eq!(r.replicas[1].state, "wait_bgsave");
        assert_eq!(r.replicas[1].lag, 3);
        assert!(!r.link_up);
        assert_eq!(r.failover_state.as_deref(), Some("no-failover"));
        assert!(!r.waiting_for_sync());
        let held = parse_replication(&PRIMARY.replace("no-failover", "waiting-for-sync"));
        assert!(held.waiting_for_sync());
        assert_eq!(parse_replication("role:master\r\n").failover_state, None);
    }

    #[test]
    fn replica_with_link_up() {
        let r = parse_replication(REPLICA);
        assert_eq!(r.role, Role::Replica);
        assert_eq!(r.master_host.as_deref(), Some("valkey-0.local"));
        assert_eq!(r.master_port, Some(6379));
        assert!(r.link_up);
        assert_eq!(r.slave_repl_offset, Some(5300));
        assert_eq!(r.data_offset(), 5300);
        assert!(r.replicas.is_empty());
    }

    #[test]
    fn replica_with_link_down_and_unknown_role() {
        let r = parse_replication(&REPLICA.replace("link_status:up", "link_status:down"));
        assert!(!r.link_up);
        assert_eq!(parse_replication("role:sentinel\r\n").role, Role::Unknown);
        assert_eq!(parse_replication("").role, Role::Unknown);
    }

    #[test]
    fn ten_replicas_keep_numeric_order() {
        let mut s = String::from("role:master\r\n");
        for i in 0..11 {
            s.push_str(&format!("slave{i}:ip=h{i},port=6379,state=online,offset={i},lag=0\r\n"));
        }
        let r = parse_replication(&s);
        let ips: Vec<_> = r.replicas.iter().map(|e| e.ip.as_str()).collect();
        assert_eq!(ips[10], "h10");
        assert_eq!(ips[2], "h2");
    }

    #[test]
    fn server_version_prefers_valkey_version() {
        let v = "# Server\r\nredis_version:7.2.4\r\nserver_name:valkey\r\nvalkey_version:9.1.2\r\n";
        assert_eq!(parse_server_version(v).as_deref(), Some("9.1.2"));
        assert_eq!(parse_server_version("redis_version:7.0.15\r\n").as_deref(), Some("7.0.15"));
        assert_eq!(parse_server_version("# Server\r\n"), None);
    }

    #[test]
    fn memory_counted_against_maxmemory() {
        let reply = "# Memory\r\nused_memory:1049872\r\nused_memory_human:1.00M\r\n\
maxmemory:1\r\nmaxmemory_policy:noeviction\r\nmem_not_counted_for_evict:4096\r\n";
        assert_eq!(parse_memory(reply), Some(MemoryUse { counted: 1_045_776, maxmemory: 1 }));
        assert_eq!(parse_memory("# Memory\r\nmaxmemory:0\r\n"), None);
    }
}

//! "Deployed" means more than every unit showing active: the replicas hold the primary's data (equal
//! replication offsets) and every Sentinel knows the whole set (same primary, quorum ⌊n/2⌋+1, n−1
//! other Sentinels, n−1 replicas). [`judge`] decides that from plain observations (pure, tested
//! here); [`wait_ha_ready`] polls the real nodes until it holds.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::sentinel::SentinelSet;
use crate::valkey::{self, Credentials, Endpoint, Timeouts};

/// One Sentinel's `SENTINEL MASTER <monitor>` fields that readiness depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentinelFacts {
    /// Which Sentinel answered.
    pub sentinel: Endpoint,
    /// The primary it monitors.
    pub primary: Endpoint,
    /// Its quorum setting (must be ⌊n/2⌋+1 so a majority can fail over).
    pub quorum: u64,
    /// Replicas it discovered.
    pub num_slaves: u64,
    /// Other Sentinels it discovered (through the hello channel).
    pub num_other_sentinels: u64,
    /// Its flags; anything but `master` (e.g. `s_down`, `failover_in_progress`) is not settled.
    pub flags: String,
}

/// One data node's `INFO replication` fields that readiness depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeFacts {
    /// Which node answered.
    pub node: Endpoint,
    /// `master` or `slave`.
    pub role: String,
    /// Primary: `master_repl_offset`; replica: `slave_repl_offset` (what it has applied).
    pub offset: u64,
    /// Replica: `master_host`; `None` on a primary.
    pub master_host: Option<String>,
    /// Replica: `master_link_status:up`.
    pub link_up: bool,
}

/// Whether `n` units form a settled HA set; `Err` says the first thing still missing.
pub fn judge(units: usize, sentinels: &[SentinelFacts], nodes: &[NodeFacts]) -> Result<(), String> {
    let expected_others = units.saturating_sub(1) as u64;
    let quorum = (units / 2 + 1) as u64;
    if sentinels.len() != units || nodes.len() != units {
        return Err(format!(
            "{} of {units} Sentinels and {} data nodes answered",
            sentinels.len(),
            nodes.len()
        ));
    }
    let primary = &sentinels[0].primary;
    for s in sentinels {
        let problem = if &s.primary != primary {
            Some(format!("names primary {} (others {primary})", s.primary))
        } else if s.flags != "master" {
            Some(format!("flags {}", s.flags))
        } else if s.quorum != quorum {
            Some(format!("quorum {} (want {quorum})", s.quorum))
        } else if s.num_other_sentinels != expected_others {
            Some(format!("knows {} other Sentinels (want {expected_others})", s.num_other_sentinels))
        } else if s.num_slaves != expected_others {
            Some(format!("knows {} replicas (want {expected_others})", s.num_slaves))
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(format!("Sentinel {} {problem}", s.sentinel));
        }
    }
    let primaries: Vec<&NodeFacts> = nodes.iter().filter(|n| n.role == "master").collect();
    let [head] = primaries.as_slice() else {
        return Err(format!("{} nodes have role master", primaries.len()));
    };
    if &head.node != primary {
        return Err(format!("{} has role master, Sentinels name {primary}", head.node));
    }
    for n in nodes.iter().filter(|n| n.role != "master") {
        if n.master_host.as_deref() != Some(primary.host.as_str()) || !n.link_up {
            return Err(format!("{} replicates {:?} (link up: {})", n.node, n.master_host, n.link_up));
        }
        if n.offset != head.offset {
            return Err(format!("{} at offset {}, primary at {}", n.node, n.offset, head.offset));
        }
    }
    Ok(())
}

/// Reads one Sentinel's facts about `monitor`.
pub fn sentinel_facts(
    sentinel: &Endpoint,
    monitor: &str,
    auth: &Credentials,
    timeouts: Timeouts,
) -> Result<SentinelFacts, String> {
    let mut connection = valkey::connect(sentinel, auth, timeouts).map_err(|e| format!("{sentinel}: {e}"))?;
    let fields: BTreeMap<String, String> = redis::cmd("SENTINEL")
        .arg("MASTER")
        .arg(monitor)
        .query(&mut connection)
        .map_err(|e| format!("{sentinel}: {e}"))?;
    let text = |k: &str| fields.get(k).cloned().ok_or_else(|| format!("{sentinel}: no field {k}"));
    let number = |k: &str| text(k)?.parse::<u64>().map_err(|_| format!("{sentinel}: {k} is not a number"));
    let port = u16::try_from(number("port")?).map_err(|_| format!("{sentinel}: bad port"))?;
    Ok(SentinelFacts {
        sentinel: sentinel.clone(),
        primary: Endpoint::new(text("ip")?, port),
        quorum: number("quorum")?,
        num_slaves: number("num-slaves")?,
        num_other_sentinels: number("num-other-sentinels")?,
        flags: text("flags")?,
    })
}

/// Builds [`NodeFacts`] from `INFO replication` text (pure).
pub fn node_facts(node: &Endpoint, info: &str) -> Result<NodeFacts, String> {
    let fields: BTreeMap<String, String> = valkey::parse_info(info).into_iter().collect();
    let role = fields.get("role").cloned().ok_or_else(|| format!("{node}: INFO has no role"))?;
    let offset_key = if role == "master" { "master_repl_offset" } else { "slave_repl_offset" };
    let offset = fields
        .get(offset_key)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("{node}: INFO has no numeric {offset_key}"))?;
    Ok(NodeFacts {
        node: node.clone(),
        offset,
        master_host: fields.get("master_host").cloned(),
        link_up: fields.get("master_link_status").map(String::as_str) == Some("up"),
        role,
    })
}

fn read_node(node: &Endpoint, auth: &Credentials, timeouts: Timeouts) -> Result<NodeFacts, String> {
    let mut connection = valkey::connect(node, auth, timeouts).map_err(|e| format!("{node}: {e}"))?;
    let info: String =
        redis::cmd("INFO").arg("replication").query(&mut connection).map_err(|e| format!("{node}: {e}"))?;
    node_facts(node, &info)
}

/// Polls every Sentinel and data node until [`judge`] accepts them; the error is the last reason.
/// Each change of the reason is printed to stderr with the time since the wait began, so a slow
/// deploy shows which step (replication, Sentinel discovery, quorum) took the time.
pub fn wait_ha_ready(set: &SentinelSet, nodes: &[Endpoint], timeout: Duration) -> Result<(), String> {
    let started = Instant::now();
    let (monitor, timeouts) = (set.monitor.as_str(), set.timeouts);
    let mut last_reason = String::new();
    loop {
        let observed = (|| {
            let s: Vec<SentinelFacts> = set
                .sentinels
                .iter()
                .map(|s| sentinel_facts(s, monitor, &set.sentinel_auth, timeouts))
                .collect::<Result<_, _>>()?;
            let n: Vec<NodeFacts> =
                nodes.iter().map(|n| read_node(n, &set.data_auth, timeouts)).collect::<Result<_, _>>()?;
            judge(nodes.len(), &s, &n)
        })();
        match observed {
            Ok(()) => return Ok(()),
            Err(why) if started.elapsed() >= timeout => {
                return Err(format!("not HA-ready after {:?}: {why}", started.elapsed()))
            }
            Err(why) => {
                // Offsets move with every PING the primary sends; numbers aside, what is missing counts.
                let kind: String = why.chars().filter(|c| !c.is_ascii_digit()).collect();
                if kind != last_reason {
                    eprintln!("  {:>6} ms  waiting: {why}", started.elapsed().as_millis());
                    last_reason = kind;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(last: u8, port: u16) -> Endpoint {
        Endpoint::new(format!("127.0.9.{last}"), port)
    }

    fn settled() -> (Vec<SentinelFacts>, Vec<NodeFacts>) {
        let sentinels = (2..5)
            .map(|i| SentinelFacts {
                sentinel: at(i, 26379),
                primary: at(2, 6379),
                quorum: 2,
                num_slaves: 2,
                num_other_sentinels: 2,
                flags: "master".into(),
            })
            .collect();
        let nodes = (2..5)
            .map(|i| NodeFacts {
                node: at(i, 6379),
                role: if i == 2 { "master" } else { "slave" }.into(),
                offset: 1000,
                master_host: (i != 2).then(|| "127.0.9.2".to_string()),
                link_up: i != 2,
            })
            .collect();
        (sentinels, nodes)
    }

    #[test]
    fn a_settled_set_is_ready() {
        let (s, n) = settled();
        assert_eq!(judge(3, &s, &n), Ok(()));
    }

    #[test]
    fn each_missing_piece_is_named() {
        let (s, mut n) = settled();
        n[2].offset = 990;
        assert!(judge(3, &s, &n).unwrap_err().contains("offset 990"));

        let (mut s, n) = settled();
        s[1].num_other_sentinels = 1;
        assert!(judge(3, &s, &n).unwrap_err().contains("1 other Sentinels"));

        let (mut s, n) = settled();
        s[0].quorum = 1;
        assert!(judge(3, &s, &n).unwrap_err().contains("quorum 1 (want 2)"));

        let (mut s, n) = settled();
        s[2].num_slaves = 1;
        assert!(judge(3, &s, &n).unwrap_err().contains("1 replicas"));

        let (mut s, n) = settled();
        s[2].primary = at(3, 6379);
        assert!(judge(3, &s, &n).unwrap_err().contains("names primary"));

        let (s, mut n) = settled();
        n[1].role = "master".into();
        assert!(judge(3, &s, &n).unwrap_err().contains("2 nodes have role master"));

        let (s, mut n) = settled();
        n[1].link_up = false;
        assert!(judge(3, &s, &n).unwrap_err().contains("link up: false"));

        let (s, n) = settled();
        assert!(judge(3, &s[..2], &n).unwrap_err().contains("2 of 3 Sentinels"));
    }

    #[test]
    fn info_text_becomes_facts() {
        let replica = "# Replication\r\nrole:slave\r\nmaster_host:127.0.9.2\r\nmaster_link_status:up\r\n\
                       slave_repl_offset:42\r\n";
        let facts = node_facts(&at(3, 6379), replica).unwrap();
        assert_eq!((facts.role.as_str(), facts.offset, facts.link_up), ("slave", 42, true));
        let primary = "role:master\r\nconnected_slaves:2\r\nmaster_repl_offset:77\r\n";
        let facts = node_facts(&at(2, 6379), primary).unwrap();
        assert_eq!((facts.offset, facts.master_host), (77, None));
        assert!(node_facts(&at(2, 6379), "role:master\r\n").unwrap_err().contains("master_repl_offset"));
    }
}

//! Which unit announced which host, remembered after the unit is gone.
//!
//! The history (Sentinel's log, switchover records) names nodes by the host they announced; a live
//! unit maps a host back to its name through the peer relation, but a removed unit is no longer
//! there, so `failover-history` showed a removed primary as `127.0.2.3→valkey/3`. Every reconcile
//! merges the live units' hosts into `<storage>/etc/unit-hosts.json`, and [`crate::observe`]
//! names a host no live unit announces from it. A host announced again later by another unit
//! maps to the newer unit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Host → unit name.
pub type UnitHosts = BTreeMap<String, String>;

/// The file under the unit's `etc` directory.
pub fn unit_hosts_path(etc_dir: &Path) -> PathBuf {
    etc_dir.join("unit-hosts.json")
}

/// The remembered map; empty when missing or unreadable (names then fall back to hosts).
pub fn read(etc_dir: &Path) -> UnitHosts {
    std::fs::read_to_string(unit_hosts_path(etc_dir))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// `known` with the live `(host, unit)` pairs merged in, or `None` when nothing changed (so an
/// ordinary hook writes nothing).
pub fn merged<'a>(
    known: &UnitHosts,
    live: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Option<UnitHosts> {
    let mut next = known.clone();
    for (host, unit) in live {
        next.insert(host.to_string(), unit.to_string());
    }
    (next != *known).then_some(next)
}

/// Writes the map (replacing the file atomically, so a reader never sees half of it).
pub fn write(etc_dir: &Path, hosts: &UnitHosts) -> std::io::Result<()> {
    let path = unit_hosts_path(etc_dir);
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec(hosts).map_err(std::io::Error::other)?)?;
    std::fs::rename(tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_keeps_departed_units_and_reports_no_change_as_none() {
        let known: UnitHosts = [("10.0.0.3".to_string(), "valkey/1".to_string())].into();
        assert_eq!(merged(&known, [("10.0.0.3", "valkey/1")]), None);
        let next = merged(&known, [("10.0.0.4", "valkey/2")]).unwrap();
        assert_eq!(next["10.0.0.3"], "valkey/1", "a departed unit keeps its name");
        assert_eq!(next["10.0.0.4"], "valkey/2");
        let reused = merged(&next, [("10.0.0.3", "valkey/7")]).unwrap();
        assert_eq!(reused["10.0.0.3"], "valkey/7", "the newer unit wins a reused host");
    }

    #[test]
    fn write_then_read_round_trips_and_a_missing_file_reads_empty() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read(dir.path()).is_empty());
        let hosts: UnitHosts = [("h".to_string(), "valkey/0".to_string())].into();
        write(dir.path(), &hosts).unwrap();
        assert_eq!(read(dir.path()), hosts);
    }
}

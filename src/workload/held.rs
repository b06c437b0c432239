//! What a unit's disk says it held (docs/ha-protocol.md "A node that lost its data"): whether
//! `valkey.conf` names a replication source (Sentinel's `CONFIG REWRITE` and the charm keep that
//! line current, so a file without one is the last primary's) and whether the data directory
//! still holds Valkey's data files.
//!
//! *Why:* a started node that comes back without its files is empty. If it was the primary and
//! nobody else is primary, starting it from its file makes it primary again and its replicas copy
//! its empty dataset — every acknowledged write gone (issue 15). [`conf_replicaof`] is pure;
//! [`read_on_disk`] is the only effect.

use super::Paths;

/// The data files Valkey writes into its `dir`: the RDB snapshot and the AOF directory (the names
/// `render::render_valkey_conf` sets and Valkey's default `appenddirname`).
pub const DATA_FILES: [&str; 2] = ["dump.rdb", "appendonlydir"];

/// What the unit's disk holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OnDisk {
    /// `valkey.conf` exists (the unit started Valkey before).
    pub conf: bool,
    /// The replication source its `replicaof` line names; `None` for a primary's file (or none).
    pub replicaof: Option<String>,
    /// Some data file is there (a non-empty AOF directory or an RDB file).
    pub data_files: bool,
}

impl OnDisk {
    /// The file was written for a primary and the data it served is gone.
    pub fn primary_without_data(&self) -> bool {
        self.conf && self.replicaof.is_none() && !self.data_files
    }
}

/// The host of the first `replicaof` (or old-style `slaveof`) line of a valkey.conf.
pub fn conf_replicaof(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        match words.next() {
            Some(k) if k.eq_ignore_ascii_case("replicaof") || k.eq_ignore_ascii_case("slaveof") => {
                words.next().map(|h| h.trim_matches('"').to_string())
            }
            _ => None,
        }
    })
}

/// Reads `valkey.conf` and looks for the data files.
pub fn read_on_disk(paths: &Paths) -> OnDisk {
    let text = std::fs::read_to_string(paths.valkey_conf()).ok();
    let data = paths.data_dir();
    let present = |name: &str| {
        let p = data.join(name);
        match std::fs::metadata(&p) {
            Ok(m) if m.is_dir() => std::fs::read_dir(&p).map(|mut d| d.next().is_some()).unwrap_or(false),
            Ok(m) => m.len() > 0,
            Err(_) => false,
        }
    };
    OnDisk {
        conf: text.is_some(),
        replicaof: text.as_deref().and_then(conf_replicaof),
        data_files: DATA_FILES.iter().any(|f| present(f)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replication_source_is_read_from_the_file() {
        let table = [
            ("port 6379\nreplicaof valkey-0.lan 6379\n", Some("valkey-0.lan")),
            ("SLAVEOF \"10.0.0.1\" 6379\n", Some("10.0.0.1")),
            ("port 6379\n# replicaof nobody 6379\n", None),
            ("", None),
        ];
        for (text, want) in table {
            assert_eq!(conf_replicaof(text).as_deref(), want, "{text:?}");
        }
    }

    #[test]
    fn a_primary_without_files_is_noticed_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path());
        paths.create_dirs().unwrap();
        assert_eq!(read_on_disk(&paths), OnDisk::default(), "never started");
        std::fs::write(paths.valkey_conf(), "port 6379\n").unwrap();
        assert!(read_on_disk(&paths).primary_without_data());
        std::fs::create_dir_all(paths.data_dir().join("appendonlydir")).unwrap();
        assert!(read_on_disk(&paths).primary_without_data(), "an empty AOF directory holds nothing");
        std::fs::write(paths.data_dir().join("appendonlydir/x.manifest"), "file x\n").unwrap();
        assert!(!read_on_disk(&paths).primary_without_data());
        std::fs::write(paths.valkey_conf(), "replicaof valkey-0.lan 6379\n").unwrap();
        std::fs::remove_dir_all(paths.data_dir().join("appendonlydir")).unwrap();
        let replica = read_on_disk(&paths);
        assert!(!replica.data_files && !replica.primary_without_data(), "a replica resyncs anyway");
    }
}

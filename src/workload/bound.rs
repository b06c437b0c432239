//! Which addresses the running services use, read back from their files (docs/ha-protocol.md
//! "Address changes").
//!
//! A unit's address can change under it (a machine that moves, `juju-local change-address`).
//! Valkey and Sentinel listen on the address that was current when they started, and Sentinel
//! resolves every peer's hostname once, when it first learns of it. To know whether anything must
//! move, the charm compares what its files say with what Juju says now:
//! - the `bind` line of `valkey.conf` (rendered by the charm whenever it starts or rebinds Valkey),
//! - the `bind` line of `sentinel.conf` (Sentinel rewrites the file, but keeps that line),
//! - `peer-addresses.json`: the peers' addresses this unit's Sentinel last resolved.
//!
//! Parsing and rewriting are pure ([`conf_bind`], [`with_bind`]); [`read_bound`],
//! [`write_peer_addresses`] and [`is_local_address`] are the only effects.

use super::{Paths, WorkloadError};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Addresses the local services run with, as their files say.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bound {
    /// The `bind` address of `valkey.conf`; `None` when the file does not exist (never started).
    pub valkey: Option<String>,
    /// The `bind` address of `sentinel.conf`; `None` when the file does not exist.
    pub sentinel: Option<String>,
    /// Unit → address of every peer as this unit's Sentinel last resolved them; `None` before the
    /// first record. *Why kept:* Sentinel hands out hostnames but never shows the IP it resolved
    /// them to, so the only way to know that its resolution is stale is to remember what the
    /// addresses were when it (re)started.
    pub peers: Option<BTreeMap<String, String>>,
}

/// Whether `address` is (still) one of this machine's addresses: a socket can be bound to it.
/// A hook reads its address once (the snapshot keeps `network-get`'s answer for all its passes), so
/// when the machine's address changes while the hook runs, its own address is gone; Juju runs a
/// later hook (config-changed) with the new one. Only `EADDRNOTAVAIL` says gone: a name, a
/// wildcard or any other failure counts as local. Binds a UDP socket to port 0; sends nothing.
pub fn is_local_address(address: &str) -> bool {
    let Ok(ip) = address.parse::<std::net::IpAddr>() else { return true };
    match std::net::UdpSocket::bind((ip, 0)) {
        Ok(_) => true,
        Err(e) => e.kind() != std::io::ErrorKind::AddrNotAvailable,
    }
}

/// The file recording [`Bound::peers`].
pub fn peer_addresses_path(paths: &Paths) -> PathBuf {
    paths.state_dir().join("peer-addresses.json")
}

/// The first address of the first `bind` line of a Valkey or Sentinel config file.
pub fn conf_bind(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        match words.next() {
            Some(k) if k.eq_ignore_ascii_case("bind") => {
                words.next().map(|a| a.trim_matches('"').to_string())
            }
            _ => None,
        }
    })
}

/// `text` with every `bind` line replaced by `bind <address>` (one line, where the first was);
/// a file without one gets it at the top. Everything else is kept byte for byte: Sentinel owns
/// the rest of its file.
pub fn with_bind(text: &str, address: &str) -> String {
    let mut out = String::with_capacity(text.len() + address.len());
    let mut done = false;
    for line in text.split_inclusive('\n') {
        let is_bind = line.split_whitespace().next().is_some_and(|k| k.eq_ignore_ascii_case("bind"));
        if !is_bind {
            out.push_str(line);
        } else if !done {
            out.push_str(&format!("bind {address}\n"));
            done = true;
        }
    }
    if !done {
        out.insert_str(0, &format!("bind {address}\n"));
    }
    out
}

/// The `sentinel.conf` directives that name an instance by address: where [`with_renamed`]
/// replaces old addresses (never elsewhere: nothing else in the file is an address).
const ADDRESS_DIRECTIVES: [&str; 4] = ["monitor", "known-replica", "known-sentinel", "announce-ip"];

/// `text` (a `sentinel.conf`) with every old address of `renames` replaced by its new one, as a
/// whole word, in the `bind` line and the directives that name instances (monitor, known replicas
/// and sentinels, announce-ip). One pass, so two units that swapped addresses stay apart. A
/// known replica or sentinel that ends up listed twice (Sentinel had already learnt the new
/// address too) is kept once: Sentinel refuses to start on a duplicate. Lines without an old
/// address are kept byte for byte.
pub fn with_renamed(text: &str, renames: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut known = std::collections::BTreeSet::new();
    for line in text.split_inclusive('\n') {
        let words: Vec<&str> = line.split_whitespace().collect();
        let names_instances = match words.as_slice() {
            [first, ..] if first.eq_ignore_ascii_case("bind") => true,
            [first, second, ..] if first.eq_ignore_ascii_case("sentinel") => {
                ADDRESS_DIRECTIVES.iter().any(|d| second.eq_ignore_ascii_case(d))
            }
            _ => false,
        };
        // Sentinel quotes what it writes back (`sentinel announce-ip "10.0.0.1"`).
        let unquoted = |w: &str| w.trim_matches('"').to_string();
        let renamed = names_instances && words.iter().any(|w| renames.contains_key(&unquoted(w)));
        let line = match renamed {
            true => {
                let words: Vec<String> = words
                    .iter()
                    .map(|w| match (renames.get(&unquoted(w)), w.starts_with('"')) {
                        (Some(new), true) => format!("\"{new}\""),
                        (Some(new), false) => new.clone(),
                        (None, _) => w.to_string(),
                    })
                    .collect();
                format!("{}\n", words.join(" "))
            }
            false => line.to_string(),
        };
        let is_known = words.get(1).is_some_and(|d| d.starts_with("known-"));
        // Compared unquoted: Sentinel reads `"10.0.0.1"` and `10.0.0.1` as the same address.
        let key: Vec<String> = line.split_whitespace().map(unquoted).collect();
        if is_known && !known.insert(key.join(" ")) {
            continue;
        }
        out.push_str(&line);
    }
    out
}

/// Reads [`Bound`] from the unit's files; a missing or unreadable file reads as unknown.
pub fn read_bound(paths: &Paths) -> Bound {
    let bind_of = |p: PathBuf| std::fs::read_to_string(p).ok().and_then(|t| conf_bind(&t));
    Bound {
        valkey: bind_of(paths.valkey_conf()),
        sentinel: bind_of(paths.sentinel_conf()),
        peers: std::fs::read_to_string(peer_addresses_path(paths))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok()),
    }
}

/// Records the peers' addresses this unit's Sentinel has resolved.
pub fn write_peer_addresses(paths: &Paths, peers: &BTreeMap<String, String>) -> Result<(), WorkloadError> {
    let text = serde_json::to_string_pretty(peers).unwrap_or_default();
    super::write_private(&peer_addresses_path(paths), &text).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_this_machine_does_not_have_is_not_local() {
        assert!(is_local_address("127.0.0.1"));
        assert!(is_local_address("127.0.3.7"), "all of 127/8 is local on Linux");
        assert!(is_local_address("0.0.0.0"));
        assert!(is_local_address("valkey-0"), "a name is not judged");
        // TEST-NET-3 (RFC 5737): no machine here has it; binding fails with EADDRNOTAVAIL.
        assert!(!is_local_address("203.0.113.9"));
    }

    #[test]
    fn old_addresses_are_renamed_where_sentinel_names_instances() {
        let conf = "bind 10.0.0.1\nport 26379\nsentinel announce-ip \"10.0.0.1\"\n\
                    sentinel monitor primary 10.0.0.2 6379 2\n\
                    sentinel known-replica primary 10.0.0.1 6379\n\
                    sentinel known-replica primary 10.0.0.3 6379\n\
                    sentinel known-replica primary 10.0.0.30 6379\n\
                    sentinel known-replica primary \"10.0.0.11\" 6379\n\
                    sentinel known-sentinel primary 10.0.0.3 26379 \"abc\"\n\
                    sentinel known-sentinel primary 10.0.0.2 26379 def\n\
                    user admin on #10.0.0.1 ~*\n";
        // Unit 1 moved to .11, unit 2 (the primary) to .3, which unit 3 gave up for .30 (a swap
        // of addresses needs one pass); .30 and .11 (quoted) were already learnt by Sentinel: each
        // listed once.
        let renames: BTreeMap<String, String> =
            [("10.0.0.1", "10.0.0.11"), ("10.0.0.2", "10.0.0.3"), ("10.0.0.3", "10.0.0.30")]
                .into_iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect();
        let want = "bind 10.0.0.11\nport 26379\nsentinel announce-ip \"10.0.0.11\"\n\
                    sentinel monitor primary 10.0.0.3 6379 2\n\
                    sentinel known-replica primary 10.0.0.11 6379\n\
                    sentinel known-replica primary 10.0.0.30 6379\n\
                    sentinel known-sentinel primary 10.0.0.30 26379 \"abc\"\n\
                    sentinel known-sentinel primary 10.0.0.3 26379 def\n\
                    user admin on #10.0.0.1 ~*\n";
        assert_eq!(with_renamed(conf, &renames), want);
        // By hostname nothing but `bind` names an address.
        let by_name = "bind 10.0.0.1\nsentinel monitor primary valkey-2 6379 2\n";
        assert_eq!(
            with_renamed(by_name, &renames),
            "bind 10.0.0.11\nsentinel monitor primary valkey-2 6379 2\n"
        );
        assert_eq!(with_renamed(by_name, &BTreeMap::new()), by_name);
    }

    #[test]
    fn bind_is_read_from_the_first_bind_line() {
        let conf = "# Network\nport 6379\nbind 198.18.1.4\nbind 10.0.0.1\n";
        assert_eq!(conf_bind(conf).as_deref(), Some("198.18.1.4"));
        assert_eq!(conf_bind("BIND \"10.1.2.3\" -::1\n").as_deref(), Some("10.1.2.3"));
        assert_eq!(conf_bind("port 1\n# bind 1.2.3.4\n"), None);
        assert_eq!(conf_bind(""), None);
    }

    #[test]
    fn rebinding_replaces_only_the_bind_line() {
        let conf = "bind 198.18.1.4\nport 26379\nsentinel monitor primary valkey-0 6379 2\n";
        assert_eq!(
            with_bind(conf, "198.18.1.9"),
            "bind 198.18.1.9\nport 26379\nsentinel monitor primary valkey-0 6379 2\n"
        );
    }

    #[test]
    fn rebinding_collapses_several_bind_lines_and_adds_a_missing_one() {
        assert_eq!(with_bind("port 1\nbind a\nx y\nbind b\n", "c"), "port 1\nbind c\nx y\n");
        assert_eq!(with_bind("port 1\n", "c"), "bind c\nport 1\n");
        assert_eq!(with_bind("", "c"), "bind c\n");
    }

    #[test]
    fn files_round_trip() {
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths::new(tmp.path());
        paths.create_dirs().unwrap();
        assert_eq!(read_bound(&paths), Bound::default());
        std::fs::write(paths.valkey_conf(), "bind 198.18.1.2\n").unwrap();
        std::fs::write(paths.sentinel_conf(), "port 26379\nbind 198.18.1.3\n").unwrap();
        let peers: BTreeMap<String, String> = [("valkey/1".to_string(), "198.18.1.5".to_string())].into();
        write_peer_addresses(&paths, &peers).unwrap();
        let b = read_bound(&paths);
        assert_eq!(b.valkey.as_deref(), Some("198.18.1.2"));
        assert_eq!(b.sentinel.as_deref(), Some("198.18.1.3"));
        assert_eq!(b.peers, Some(peers));
    }
}

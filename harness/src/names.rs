//! Host-name resolution for host-mode models.
//!
//! In a juju-local model with `network-mode=hosts`, every unit lives in its own network namespace
//! and Sentinel announces units by host name (`valkey-0`). Those names resolve inside the
//! namespaces (each has its own `/etc/hosts`), but not for the test process on the host: the model
//! keeps them in `<JUJU_LOCAL_HOME>/models/<model>/hosts` instead, and this module reads that file.
//!
//! The map is process-wide because every socket the harness opens — probe writes, Sentinel queries,
//! consistency checks — goes through [`crate::valkey::connect`], which translates the host through
//! [`resolve`]. With no file registered (loopback models, real Juju) nothing is translated.
//!
//! Addresses change during a test (`change-address`), so the file is re-read whenever its
//! modification time or length differs from the last read. A read that fails or finds no names
//! (the file is being rewritten, or its model was destroyed) keeps the last good map.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// A hosts file that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum NamesError {
    /// The file could not be opened or read.
    #[error("cannot read hosts file {path}: {source}")]
    Read {
        /// Which file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A line is not `ADDRESS NAME [ALIAS...]`.
    #[error("hosts file line {line}: {why}: {text:?}")]
    Syntax {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        why: &'static str,
        /// The line as written.
        text: String,
    },
}

/// Parses hosts-file text (`ADDRESS NAME [ALIAS...]`, `#` comments, blank lines) into a map from
/// every name to its address. A name listed twice keeps its first address, as resolvers do.
pub fn parse_hosts(text: &str) -> Result<BTreeMap<String, IpAddr>, NamesError> {
    let mut names = BTreeMap::new();
    for (index, raw) in text.lines().enumerate() {
        let content = raw.split('#').next().unwrap_or_default();
        let mut words = content.split_whitespace();
        let Some(address) = words.next() else { continue };
        let syntax = |why| NamesError::Syntax { line: index + 1, why, text: raw.to_string() };
        let address: IpAddr = address.parse().map_err(|_| syntax("not an IP address"))?;
        let mut named = false;
        for name in words {
            named = true;
            names.entry(name.to_string()).or_insert(address);
        }
        if !named {
            return Err(syntax("an address without a name"));
        }
    }
    Ok(names)
}

/// One registered hosts file and what was last read from it.
#[derive(Debug)]
struct HostsFile {
    /// Where it lives.
    path: PathBuf,
    /// Modification time and length at the last good read; a change triggers a re-read.
    stamp: Option<(SystemTime, u64)>,
    /// Names from the last good read.
    names: BTreeMap<String, IpAddr>,
}

impl HostsFile {
    /// Re-reads the file when its stamp changed; keeps the last good map on any failure.
    fn refresh(&mut self) {
        let Ok(meta) = std::fs::metadata(&self.path) else { return };
        let stamp = meta.modified().ok().map(|time| (time, meta.len()));
        if stamp.is_some() && stamp == self.stamp {
            return;
        }
        let Ok(text) = std::fs::read_to_string(&self.path) else { return };
        match parse_hosts(&text) {
            Ok(names) if !names.is_empty() => {
                self.names = names;
                self.stamp = stamp;
            }
            // Empty or malformed: most likely caught mid-rewrite; try again on the next lookup.
            _ => {}
        }
    }
}

/// Every registered hosts file, in registration order (the first that knows a name wins).
static FILES: Mutex<Vec<HostsFile>> = Mutex::new(Vec::new());

fn files() -> std::sync::MutexGuard<'static, Vec<HostsFile>> {
    FILES.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Registers a hosts file for every later connection of this process. It must be readable and
/// well formed now (a typo in a path should fail loudly, not as a resolution error much later);
/// registering the same path twice is a no-op.
pub fn use_hosts_file(path: impl AsRef<Path>) -> Result<(), NamesError> {
    let path = path.as_ref().to_path_buf();
    let read_error = |source| NamesError::Read { path: path.clone(), source };
    let meta = std::fs::metadata(&path).map_err(read_error)?;
    let text = std::fs::read_to_string(&path).map_err(read_error)?;
    let names = parse_hosts(&text)?;
    let stamp = meta.modified().ok().map(|time| (time, meta.len()));
    let mut files = files();
    if !files.iter().any(|file| file.path == path) {
        files.push(HostsFile { path, stamp, names });
    }
    Ok(())
}

/// Forgets a registered hosts file (its model is gone). Unknown paths are ignored.
pub fn forget_hosts_file(path: impl AsRef<Path>) {
    files().retain(|file| file.path != path.as_ref());
}

/// The address `host` stands for: its address in a registered hosts file, else `host` unchanged
/// (an IP literal, or a name the system resolver handles).
pub fn resolve(host: &str) -> String {
    let mut files = files();
    for file in files.iter_mut() {
        file.refresh();
        if let Some(address) = file.names.get(host) {
            return address.to_string();
        }
    }
    host.to_string()
}

/// Whether two hosts (names or addresses) are the same machine, after [`resolve`].
pub fn same_host(a: &str, b: &str) -> bool {
    a == b || resolve(a) == resolve(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_their_addresses() {
        let text = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n\
                    # units\n\n198.18.3.2\tvalkey-0\n198.18.3.3 valkey-1   # primary\n";
        let names = parse_hosts(text).unwrap();
        assert_eq!(names["valkey-0"].to_string(), "198.18.3.2");
        assert_eq!(names["valkey-1"].to_string(), "198.18.3.3");
        assert_eq!(names["ip6-loopback"].to_string(), "::1");
        // The first address of a name wins, as in /etc/hosts.
        assert_eq!(names["localhost"].to_string(), "127.0.0.1");
        assert_eq!(names.len(), 5);
    }

    #[test]
    fn malformed_lines_are_named() {
        let error = parse_hosts("198.18.3.2 valkey-0\nvalkey-1 198.18.3.3\n").unwrap_err().to_string();
        assert!(error.contains("line 2") && error.contains("not an IP address"), "{error}");
        let error = parse_hosts("198.18.3.2\n").unwrap_err().to_string();
        assert!(error.contains("line 1") && error.contains("without a name"), "{error}");
    }

    #[test]
    fn registered_files_translate_and_follow_rewrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hosts");
        std::fs::write(&path, "198.18.7.2\tnames-test-0\n").unwrap();
        assert_eq!(resolve("names-test-0"), "names-test-0", "nothing is translated before registering");
        use_hosts_file(&path).unwrap();
        assert_eq!(resolve("names-test-0"), "198.18.7.2");
        assert_eq!(resolve("127.0.0.5"), "127.0.0.5", "addresses pass through");
        assert!(same_host("names-test-0", "198.18.7.2"));
        assert!(!same_host("names-test-0", "198.18.7.3"));

        // A rewrite (the length changes) is picked up by the next lookup.
        std::fs::write(&path, "198.18.7.12\tnames-test-0\n").unwrap();
        assert_eq!(resolve("names-test-0"), "198.18.7.12");
        // A file caught empty mid-rewrite keeps the last good map.
        std::fs::write(&path, "").unwrap();
        assert_eq!(resolve("names-test-0"), "198.18.7.12");

        forget_hosts_file(&path);
        assert_eq!(resolve("names-test-0"), "names-test-0");
    }

    #[test]
    fn a_missing_or_bad_file_is_refused_when_registered() {
        let dir = tempfile::tempdir().unwrap();
        let error = use_hosts_file(dir.path().join("absent")).unwrap_err().to_string();
        assert!(error.contains("cannot read hosts file"), "{error}");
        let bad = dir.path().join("bad");
        std::fs::write(&bad, "not-an-ip name\n").unwrap();
        assert!(matches!(use_hosts_file(&bad), Err(NamesError::Syntax { line: 1, .. })));
    }
}

//! A real Sentinel restarted from a file whose old addresses [`super::bound::with_renamed`]
//! replaced (docs/ha-protocol.md "Address changes"): it monitors the primary at its new address,
//! keeps its config-epoch, and lists a replica it knew at both addresses once — where the same
//! file with the addresses merely substituted does not load at all.

// A live test starts a real Sentinel from the file under test.
#![allow(clippy::disallowed_methods)]

use super::bound::with_renamed;
use super::test_support::{free_port, poll, query, valkey_server, KillOnDrop};
use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Old and new address of the moved primary (loopback; nothing needs to listen there).
const OLD: &str = "127.0.0.201";
const NEW: &str = "127.0.0.202";

fn sentinel_conf(port: u16, dir: &std::path::Path) -> String {
    format!(
        "bind 127.0.0.1\nport {port}\ndaemonize no\ndir \"{}\"\n\
         sentinel monitor primary {OLD} 6379 2\nsentinel config-epoch primary 3\n\
         sentinel known-replica primary \"{OLD}\" 6380\nsentinel known-replica primary {NEW} 6380\n",
        dir.display()
    )
}

#[test]
fn a_sentinel_restarted_from_a_renamed_file_monitors_the_new_address_and_lists_each_replica_once() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let conf = dir.path().join("sentinel.conf");
    let renames: BTreeMap<String, String> = [(OLD.to_string(), NEW.to_string())].into();

    // Substituting blindly lists the replica twice: Sentinel refuses the file.
    std::fs::write(
        &conf,
        sentinel_conf(port, dir.path()).replace(&format!("\"{OLD}\""), NEW).replace(OLD, NEW),
    )
    .unwrap();
    let naive =
        Command::new(valkey_server()).arg(&conf).arg("--sentinel").stdout(Stdio::null()).output().unwrap();
    assert!(!naive.status.success(), "a duplicate known-replica must not load");
    assert!(
        String::from_utf8_lossy(&naive.stderr).contains("Duplicate hostname and port for replica"),
        "{naive:?}"
    );

    std::fs::write(&conf, with_renamed(&sentinel_conf(port, dir.path()), &renames)).unwrap();
    let child = Command::new(valkey_server())
        .arg(&conf)
        .arg("--sentinel")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _guard = KillOnDrop(child);
    let mut last = String::new();
    let master = poll(Duration::from_secs(10), || {
        query(port, None, &["SENTINEL", "MASTER", "primary"]).map_err(|e| last = e).ok()
    });
    let master = master.unwrap_or_else(|| panic!("Sentinel does not answer from the renamed file: {last}"));
    assert_eq!(super::test_support::field(&master, "ip").as_deref(), Some(NEW));
    assert_eq!(super::test_support::field(&master, "config-epoch").as_deref(), Some("3"));
    let replicas = query(port, None, &["SENTINEL", "REPLICAS", "primary"]).unwrap();
    let redis::Value::Array(replicas) = replicas else { panic!("{replicas:?}") };
    assert_eq!(replicas.len(), 1, "{replicas:?}");
    assert_eq!(super::test_support::field(&replicas[0], "ip").as_deref(), Some(NEW));
}

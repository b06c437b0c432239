//! The raw baseline of the 1 GiB add-unit benchmark: filling a primary with a dataset, and timing
//! a plain `valkey-server --replicaof` full sync of it on the same machine (no charm, no Juju), so
//! the charm's add-unit time can be read beside what the copy itself costs.

// The benchmark's raw baseline runs valkey-server itself, without the charm.
#![allow(clippy::disallowed_methods)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::common::nodes::{self, field};
use super::common::poll;
use valkey_harness::valkey::{Credentials, Endpoint};

/// Size of each value written by [`fill`]: 1 MiB.
const VALUE_BYTES: usize = 1 << 20;
/// How long a full sync of the benchmark's dataset may take.
const SYNC_DEADLINE: Duration = Duration::from_secs(600);

/// Writes `mib` values of 1 MiB each (`bench:fill:<i>`) to `primary`, 16 per pipeline.
pub fn fill(primary: &Endpoint, admin: &Credentials, mib: usize) {
    let mut connection = nodes::connect(primary, admin).unwrap();
    let value = vec![b'x'; VALUE_BYTES];
    for batch in (0..mib).collect::<Vec<_>>().chunks(16) {
        let mut pipe = redis::pipe();
        for i in batch {
            pipe.cmd("SET").arg(format!("bench:fill:{i}")).arg(&value).ignore();
        }
        pipe.query::<()>(&mut connection).unwrap_or_else(|e| panic!("filling {primary}: {e}"));
    }
}

/// A `valkey-server` this benchmark started; killed (by pid) and reaped on Drop.
struct RawServer {
    /// The process.
    child: Child,
    /// Its working directory, removed after it stopped.
    _dir: tempfile::TempDir,
}

impl Drop for RawServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The number of keys on `node` (`DBSIZE`).
pub fn dbsize(node: &Endpoint, credentials: &Credentials) -> u64 {
    nodes::query(node, credentials, &redis::cmd("DBSIZE")).unwrap()
}

/// Starts a plain `valkey-server --replicaof primary` on a free loopback port and returns how
/// long it took until its link is up and its offset reached the primary's offset at the start
/// (checking it then holds at least `keys` keys).
pub fn time_full_sync(primary: &Endpoint, admin: &Credentials, keys: u64) -> Duration {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let target = nodes::replication(primary, admin).unwrap();
    let target: u64 = field(&target, "master_repl_offset").unwrap().parse().unwrap();
    let mut args: Vec<String> = [
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--replicaof",
        &primary.host,
        &primary.port.to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if let Some(user) = &admin.username {
        args.extend(["--masteruser".to_string(), user.clone()]);
    }
    if let Some(password) = &admin.password {
        args.extend(["--masterauth".to_string(), password.clone()]);
    }
    let started = Instant::now();
    let child = Command::new(valkey_server())
        .args(&args)
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start valkey-server");
    let _server = RawServer { child, _dir: dir };
    let replica = Endpoint::new("127.0.0.1", port);
    let open = Credentials { username: None, password: None };
    poll("the raw replica's full sync", SYNC_DEADLINE, || {
        let info = nodes::replication(&replica, &open)?;
        let offset: u64 = field(&info, "slave_repl_offset")?.parse().map_err(|_| "offset".to_string())?;
        match field(&info, "master_link_status")? == "up" && offset >= target {
            true => Ok(()),
            false => Err(format!("link {}, offset {offset} < {target}", field(&info, "master_link_status")?)),
        }
    });
    let took = started.elapsed();
    let copied = dbsize(&replica, &open);
    assert!(copied >= keys, "the raw replica holds {copied} keys, expected at least {keys}");
    took
}

/// The `valkey-server` of `scripts/setup-valkey` (or `VALKEY_SERVER_BIN`).
fn valkey_server() -> std::path::PathBuf {
    if let Some(path) = std::env::var_os("VALKEY_SERVER_BIN").filter(|v| !v.is_empty()) {
        return path.into();
    }
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/setup-valkey");
    let output = Command::new(script).output().expect("run scripts/setup-valkey");
    let stdout = String::from_utf8_lossy(&output.stdout);
    std::path::Path::new(stdout.lines().last().expect("a bin dir").trim()).join("valkey-server")
}

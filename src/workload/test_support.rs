//! Test support for real-server tests: the pinned valkey-server binary, free ports, polling,
//! a guard that kills a spawned process by pid when the test ends (pass or fail), and a
//! `dispatch` stand-in for the supervisor tests with the means to kill what it started.

// Tests of the workload seam start real servers and inspect them with raw clients.
#![allow(clippy::disallowed_methods)]

use super::pidfile::PidRecord;
use super::supervise::child_pidfile;
use super::{write_file, Credentials, ADMIN_USER};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::process::{Child, Command};
use std::time::Duration;

/// The bin directory of the pinned Valkey (runs `scripts/setup-valkey`, which is idempotent).
pub fn valkey_bin_dir() -> PathBuf {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/setup-valkey");
    let out = Command::new(script).output().expect("run scripts/setup-valkey");
    assert!(out.status.success(), "setup-valkey: {}", String::from_utf8_lossy(&out.stderr));
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// The pinned valkey-server.
pub fn valkey_server() -> PathBuf {
    valkey_bin_dir().join("valkey-server")
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Polls `f` every 20 ms until it returns `Some` or `timeout` passes.
pub fn poll<T>(timeout: Duration, f: impl FnMut() -> Option<T>) -> Option<T> {
    crate::switchover::poll_every(timeout, Duration::from_millis(20), f)
}

/// A `dispatch` stand-in in `dir`: a script that re-runs this test binary with only the ignored
/// test `entry` selected and its own arguments, one a line, in the env var `argv_var` (the tests
/// cannot run the real `dispatch`: it is another crate target).
pub fn fake_dispatch(dir: &Path, argv_var: &str, entry: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let script = format!(
        "#!/bin/sh\n{argv_var}=\"$(printf '%s\\n' \"$@\")\" exec '{}' --exact \
         {entry} --ignored --nocapture --test-threads=1\n",
        exe.display()
    );
    let path = dir.join("dispatch");
    write_file(&path, &script, 0o755).unwrap();
    path
}

/// Kills (`SIGKILL`) the child that the supervisor of pid file `sup` recorded, then the supervisor.
pub fn kill_supervised(sup: &Path) {
    for file in [child_pidfile(sup), sup.to_path_buf()] {
        if let Some(rec) = PidRecord::read(&file) {
            rec.signal(libc::SIGKILL);
        }
    }
}

/// Kills the process (by pid) when dropped.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A redis connection as `user` (or unauthenticated when `None`).
pub fn connect(port: u16, user: Option<(&str, &str)>) -> redis::RedisResult<redis::Connection> {
    let url = match user {
        Some((u, p)) => format!("redis://{u}:{p}@127.0.0.1:{port}/"),
        None => format!("redis://127.0.0.1:{port}/"),
    };
    redis::Client::open(url)?.get_connection_with_timeout(Duration::from_secs(1))
}

/// Runs `args` on a connection as `user`; the error text on failure.
pub fn query(port: u16, user: Option<(&str, &str)>, args: &[&str]) -> Result<redis::Value, String> {
    let mut con = connect(port, user).map_err(|e| e.to_string())?;
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query::<redis::Value>(&mut con).map_err(|e| e.to_string())
}

/// A `key value key value ...` reply as pairs.
pub fn field(reply: &redis::Value, key: &str) -> Option<String> {
    let redis::Value::Array(items) = reply else { return None };
    let strings: Vec<String> =
        items.iter().map(|v| redis::from_redis_value::<String>(v.clone()).unwrap_or_default()).collect();
    strings.chunks(2).find(|kv| kv[0] == key).map(|kv| kv[1].clone())
}

/// Starts valkey-server with `conf` (plus `extra` args) and waits until it answers as admin.
pub fn spawn(server: &Path, conf: &Path, extra: &[&str], port: u16, c: &Credentials) -> KillOnDrop {
    let child = Command::new(server)
        .arg(conf)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let guard = KillOnDrop(child);
    let up = poll(Duration::from_secs(10), || query(port, Some((ADMIN_USER, &c.admin)), &["PING"]).ok());
    assert!(up.is_some(), "{} did not come up on port {port}", conf.display());
    guard
}

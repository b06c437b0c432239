//! Test support: real `valkey-server` processes on 127.0.0.1 with free ports, killed by pid on
//! drop so no test leaves a server behind.

// The real-server fixture: spawns valkey-server and opens raw clients for tests.
#![allow(clippy::disallowed_methods)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The pinned valkey-server binary (fetched by `scripts/setup-valkey` when missing).
pub fn server_binary() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = root.join(".cache/valkey/bin/valkey-server");
    if bin.exists() {
        return bin;
    }
    let out = Command::new(root.join("scripts/setup-valkey")).output().expect("run scripts/setup-valkey");
    assert!(out.status.success(), "setup-valkey failed: {}", String::from_utf8_lossy(&out.stderr));
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("valkey-server")
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

/// Polls `cond` every 50 ms until it holds or `limit` passes; returns whether it held.
pub fn poll_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    crate::switchover::poll_every(limit, Duration::from_millis(50), || cond().then_some(())).is_some()
}

/// A running server (data node or Sentinel); killed on drop.
pub struct TestServer {
    /// The process.
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Directory holding its config, data and log (removed on drop).
    pub dir: tempfile::TempDir,
}

impl TestServer {
    /// Starts a data node with `extra` config lines.
    pub fn data(extra: &str) -> Self {
        Self::start(&server_binary(), extra, false)
    }

    /// Starts a Sentinel with `extra` config lines (the `sentinel monitor …` among them).
    pub fn sentinel(extra: &str) -> Self {
        Self::start(&server_binary(), extra, true)
    }

    /// Starts `binary` (another engine, e.g. Redis 7.0) as a data node or a Sentinel.
    ///
    /// Free ports are only free until someone binds them, and other test processes on this
    /// machine race for them too: a server counts as up only when *its own* log says it is ready
    /// (a data node logs "Ready to accept connections", a Sentinel "+monitor"); if it died instead
    /// (port taken meanwhile) it is started again on another port.
    pub fn start(binary: &Path, extra: &str, sentinel: bool) -> Self {
        let marker = if sentinel { "+monitor" } else { "Ready to accept connections" };
        let mut last_log = String::new();
        for _ in 0..5 {
            let mut server = Self::spawn(binary, extra, sentinel);
            let mut exited = false;
            let ready = poll_until(Duration::from_secs(10), || {
                exited = matches!(server.child.try_wait(), Ok(Some(_)));
                exited || server.log().contains(marker)
            });
            if ready && !exited {
                return server;
            }
            last_log = server.log();
        }
        panic!("server never came up: {last_log}");
    }

    fn spawn(binary: &Path, extra: &str, sentinel: bool) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let conf = dir.path().join("server.conf");
        let body = format!(
            "bind 127.0.0.1\nport {port}\ndir {}\nsave \"\"\nappendonly no\n{extra}\n",
            dir.path().display()
        );
        std::fs::write(&conf, body).expect("write conf");
        let log = std::fs::File::create(dir.path().join("log")).expect("log file");
        let mut cmd = Command::new(binary);
        cmd.arg(&conf);
        if sentinel {
            cmd.arg("--sentinel");
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup log"))
            .stderr(log)
            .spawn()
            .expect("spawn valkey-server");
        Self { child, port, dir }
    }

    /// The server's log so far (for assertion messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    /// Its endpoint.
    pub fn endpoint(&self) -> super::Endpoint {
        super::Endpoint::new("127.0.0.1", self.port)
    }
}

/// A raw, unauthenticated connection to a test server on 127.0.0.1 (tests outside `src/valkey/`
/// use this instead of opening clients themselves).
pub fn raw_connection(port: u16) -> redis::Connection {
    redis::Client::open(format!("redis://127.0.0.1:{port}")).unwrap().get_connection().unwrap()
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

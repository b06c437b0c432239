//! A raw Valkey + Sentinel topology, started directly (no Juju, no charm) so the probe and the
//! benchmarks can be exercised against the real thing: N data nodes (node 0 the first primary) and
//! N Sentinels on `127.0.X.2..`, ACL users with passwords, every process killed in `Drop`.
//!
//! - `block` — claims a free loopback block.
//! - `conf` — renders the config files (pure).
//! - `process` — spawning servers and polling with deadlines.

mod block;
mod conf;
mod process;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use block::AddressBlock;
pub use conf::{render_data_node, render_sentinel, DataNodeConf, Secrets, SentinelConf};

use process::{poll, spawn, Server};

use crate::sentinel::SentinelSet;
use crate::valkey::{self, Credentials, Endpoint, Timeouts};

/// The monitor name, as the charm uses it.
pub const MONITOR: &str = "primary";

/// Errors starting or driving the topology.
#[derive(Debug, thiserror::Error)]
pub enum TopologyError {
    /// The valkey-server binary is missing.
    #[error("valkey-server not found at {0} (run scripts/setup-valkey or set VALKEY_BIN_DIR)")]
    Binary(PathBuf),
    /// A file or process operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What we were doing.
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The topology did not reach the expected state in time.
    #[error("timed out after {waited:?} waiting for {what}; last: {last}")]
    Timeout {
        /// What we waited for.
        what: String,
        /// How long.
        waited: Duration,
        /// Last observation.
        last: String,
    },
    /// No node with that index, or it is already dead.
    #[error("no live data node {0}")]
    NoSuchNode(usize),
}

fn io_error(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> TopologyError {
    let what = what.into();
    move |source| TopologyError::Io { what, source }
}

/// The shape of the topology.
#[derive(Debug, Clone)]
pub struct TopologySpec {
    /// Data nodes, and as many Sentinels.
    pub nodes: usize,
    /// Sentinel `down-after-milliseconds` (2000 avoids the double failover seen at 1000).
    pub down_after_ms: u64,
    /// Sentinel `failover-timeout`.
    pub failover_timeout_ms: u64,
    /// `min-replicas-to-write` on every data node (0 = off).
    pub min_replicas_to_write: u32,
    /// Data node port.
    pub data_port: u16,
    /// Sentinel port.
    pub sentinel_port: u16,
    /// How long start-up (replication and discovery) may take.
    pub start_timeout: Duration,
}

impl Default for TopologySpec {
    fn default() -> Self {
        Self {
            nodes: 3,
            down_after_ms: 2000,
            failover_timeout_ms: 10_000,
            min_replicas_to_write: 0,
            data_port: 6379,
            sentinel_port: 26379,
            start_timeout: Duration::from_secs(30),
        }
    }
}

/// A running topology; dropping it kills every process.
#[derive(Debug)]
pub struct Topology {
    /// The shape it was started with.
    pub spec: TopologySpec,
    /// Passwords of the ACL users.
    secrets: Secrets,
    /// Data nodes, node 0 first.
    nodes: Vec<Server>,
    /// Sentinels, same order.
    sentinels: Vec<Server>,
    /// The claimed address block (released on drop, after the processes die).
    block: AddressBlock,
    /// Config files, working directories and logs.
    dir: tempfile::TempDir,
}

/// The directory holding `valkey-server`: env `VALKEY_BIN_DIR`, else `<workspace>/.cache/valkey/bin`.
pub fn valkey_bin_dir() -> PathBuf {
    match std::env::var_os("VALKEY_BIN_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../.cache/valkey/bin"),
    }
}

impl Topology {
    /// Starts the data nodes, waits for replication, starts the Sentinels, waits until every
    /// Sentinel sees every replica and every peer.
    pub fn start(spec: TopologySpec) -> Result<Self, TopologyError> {
        let binary = valkey_bin_dir().join("valkey-server");
        if !binary.is_file() {
            return Err(TopologyError::Binary(binary));
        }
        let block = AddressBlock::claim(spec.nodes, &[spec.data_port, spec.sentinel_port])
            .map_err(io_error("claiming an address block"))?;
        let dir =
            tempfile::Builder::new().prefix("valkey-topology-").tempdir().map_err(io_error("temp dir"))?;
        let secrets = Secrets {
            admin: random_secret(),
            replication: random_secret(),
            sentinel: random_secret(),
            sentinel_admin: random_secret(),
        };
        let mut topology = Self { spec, secrets, nodes: Vec::new(), sentinels: Vec::new(), block, dir };
        topology.start_data_nodes(&binary)?;
        topology.wait_replication()?;
        topology.start_sentinels(&binary)?;
        topology.wait_discovery()?;
        Ok(topology)
    }

    fn start_data_nodes(&mut self, binary: &Path) -> Result<(), TopologyError> {
        let primary = Endpoint::new(self.block.host(0).to_string(), self.spec.data_port);
        for n in 0..self.spec.nodes {
            let endpoint = Endpoint::new(self.block.host(n).to_string(), self.spec.data_port);
            let dir = self.dir.path().join(format!("node-{n}"));
            std::fs::create_dir_all(&dir).map_err(io_error("node dir"))?;
            let text = render_data_node(&DataNodeConf {
                listen: &endpoint,
                dir: &dir,
                replica_of: (n > 0).then_some(&primary),
                min_replicas_to_write: self.spec.min_replicas_to_write,
                secrets: &self.secrets,
            });
            let server = spawn(binary, &dir, &text, &[], endpoint)?;
            self.nodes.push(server);
        }
        Ok(())
    }

    fn start_sentinels(&mut self, binary: &Path) -> Result<(), TopologyError> {
        let primary = Endpoint::new(self.block.host(0).to_string(), self.spec.data_port);
        for n in 0..self.spec.nodes {
            let endpoint = Endpoint::new(self.block.host(n).to_string(), self.spec.sentinel_port);
            let dir = self.dir.path().join(format!("sentinel-{n}"));
            std::fs::create_dir_all(&dir).map_err(io_error("sentinel dir"))?;
            let text = render_sentinel(&SentinelConf {
                listen: &endpoint,
                dir: &dir,
                monitor: MONITOR,
                primary: &primary,
                quorum: self.spec.nodes / 2 + 1,
                down_after_ms: self.spec.down_after_ms,
                failover_timeout_ms: self.spec.failover_timeout_ms,
                secrets: &self.secrets,
            });
            let server = spawn(binary, &dir, &text, &["--sentinel"], endpoint)?;
            self.sentinels.push(server);
        }
        Ok(())
    }

    fn wait_replication(&self) -> Result<(), TopologyError> {
        let want = self.spec.nodes - 1;
        let primary = &self.nodes[0].endpoint;
        poll(&format!("{primary} to have {want} online replicas"), self.spec.start_timeout, || {
            let info = self.info(primary, "replication").map_err(|e| e.to_string())?;
            let online =
                info.iter().filter(|(k, v)| k.starts_with("slave") && v.contains("state=online")).count();
            if online == want {
                Ok(())
            } else {
                Err(format!("{online} online replicas"))
            }
        })
    }

    fn wait_discovery(&self) -> Result<(), TopologyError> {
        let want = (self.spec.nodes - 1) as u64;
        let set = self.sentinel_set();
        poll("every sentinel to see all replicas and peers", self.spec.start_timeout, || {
            let views = set.views().map_err(|e| e.to_string())?;
            if views.iter().all(|v| v.num_slaves == want && v.num_other_sentinels == want) {
                Ok(())
            } else {
                Err(format!("{views:?}"))
            }
        })
    }

    /// `INFO <section>` of a data node, as pairs.
    pub fn info(&self, node: &Endpoint, section: &str) -> redis::RedisResult<Vec<(String, String)>> {
        let mut connection = valkey::connect(node, &self.admin_credentials(), Timeouts::default())?;
        let text: String = redis::cmd("INFO").arg(section).query(&mut connection)?;
        Ok(valkey::parse_info(&text))
    }

    /// Every data node's address, node 0 first (dead ones included).
    pub fn data_endpoints(&self) -> Vec<Endpoint> {
        self.nodes.iter().map(|s| s.endpoint.clone()).collect()
    }

    /// Addresses of data nodes still running.
    pub fn live_data_endpoints(&self) -> Vec<Endpoint> {
        self.nodes.iter().filter(|s| s.child.is_some()).map(|s| s.endpoint.clone()).collect()
    }

    /// Every Sentinel's address.
    pub fn sentinel_endpoints(&self) -> Vec<Endpoint> {
        self.sentinels.iter().map(|s| s.endpoint.clone()).collect()
    }

    /// Credentials of the data nodes' `admin` user.
    pub fn admin_credentials(&self) -> Credentials {
        Credentials::user("admin", self.secrets.admin.clone())
    }

    /// Credentials of the Sentinels' `admin` user.
    pub fn sentinel_credentials(&self) -> Credentials {
        Credentials::user("admin", self.secrets.sentinel_admin.clone())
    }

    /// The Sentinels as a [`SentinelSet`], ready for the probe.
    pub fn sentinel_set(&self) -> SentinelSet {
        SentinelSet {
            sentinels: self.sentinel_endpoints(),
            monitor: MONITOR.to_string(),
            sentinel_auth: self.sentinel_credentials(),
            data_auth: self.admin_credentials(),
            timeouts: Timeouts::default(),
        }
    }

    /// Index of the data node at `endpoint`.
    pub fn node_index(&self, endpoint: &Endpoint) -> Option<usize> {
        self.nodes.iter().position(|s| &s.endpoint == endpoint)
    }

    /// Path of Sentinel `n`'s log (for the event timeline).
    pub fn sentinel_log(&self, n: usize) -> Option<&Path> {
        self.sentinels.get(n).map(|s| s.log.as_path())
    }

    /// `kill -9` data node `n` and reap it.
    pub fn kill_node(&mut self, n: usize) -> Result<(), TopologyError> {
        let server = self.nodes.get_mut(n).ok_or(TopologyError::NoSuchNode(n))?;
        let mut child = server.child.take().ok_or(TopologyError::NoSuchNode(n))?;
        child.kill().map_err(io_error(format!("kill node {n}")))?;
        child.wait().map_err(io_error(format!("reap node {n}")))?;
        Ok(())
    }

    /// `kill -STOP` data node `n`: it keeps its sockets but answers nothing (a hung host).
    pub fn freeze_node(&self, n: usize) -> Result<(), TopologyError> {
        self.signal_node(n, libc::SIGSTOP)
    }

    /// `kill -CONT` data node `n` after [`Topology::freeze_node`].
    pub fn thaw_node(&self, n: usize) -> Result<(), TopologyError> {
        self.signal_node(n, libc::SIGCONT)
    }

    fn signal_node(&self, n: usize, signal: libc::c_int) -> Result<(), TopologyError> {
        let child = self.nodes.get(n).and_then(|s| s.child.as_ref()).ok_or(TopologyError::NoSuchNode(n))?;
        let pid = libc::pid_t::try_from(child.id()).map_err(|_| TopologyError::NoSuchNode(n))?;
        // SAFETY: kill(2) on the pid of a child we have not reaped, so it cannot have been reused.
        if unsafe { libc::kill(pid, signal) } != 0 {
            return Err(io_error(format!("signal {signal} to node {n}"))(std::io::Error::last_os_error()));
        }
        Ok(())
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        for server in self.nodes.iter_mut().chain(self.sentinels.iter_mut()) {
            if let Some(mut child) = server.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

fn random_secret() -> String {
    // Enough entropy for a throwaway test password without another dependency.
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(Instant::now().elapsed().as_nanos());
    format!("{:016x}{:08x}", hasher.finish(), std::process::id())
}

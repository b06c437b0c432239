//! Builders for hand-made [`Observed`] values in plan, status and execute tests.

use super::*;
use crate::valkey::{ReplicaEntry, Role};
use crate::workload::OnDisk;

/// The announce host of unit `n` in fixtures.
pub fn host(n: u32) -> String {
    format!("valkey-{n}.test")
}

/// A peer with a host; `started` and `requested` as given.
pub fn peer(n: u32, started: bool, requested: Option<u64>) -> PeerUnit {
    PeerUnit {
        name: format!("valkey/{n}"),
        host: Some(host(n)),
        start_requested: requested,
        started,
        address: None,
        switchovers: Vec::new(),
    }
}

/// A Sentinel view of unit `n` that sees `primary` with `replicas` replicas and `peers` peers.
pub fn sentinel(n: u32, primary: u32, quorum: u32, replicas: u32, peers: u32) -> SentinelView {
    SentinelView {
        unit: format!("valkey/{n}"),
        host: host(n),
        primary: Some(MonitoredPrimary {
            ip: host(primary),
            port: VALKEY_PORT,
            quorum,
            num_slaves: replicas,
            num_other_sentinels: peers,
            flags: vec!["master".into()],
            config_epoch: 0,
            failover_timeout: 20000,
            down_after: 5000,
            parallel_syncs: 1,
        }),
        replicas: Vec::new(),
        peers: (0..)
            .filter(|i| *i != n)
            .take(peers as usize)
            .map(|i| KnownSentinel {
                ip: host(i),
                port: SENTINEL_PORT,
                runid: format!("r{i}"),
                flags: vec!["sentinel".into()],
            })
            .collect(),
    }
}

/// INFO of a primary at `offset` with replicas `(unit, offset)`.
pub fn primary_info(offset: u64, replicas: &[(u32, u64)]) -> ReplicationInfo {
    ReplicationInfo {
        role: Role::Primary,
        master_repl_offset: offset,
        replicas: replicas
            .iter()
            .map(|(n, off)| ReplicaEntry {
                ip: host(*n),
                port: VALKEY_PORT,
                state: "online".into(),
                offset: *off,
                lag: 0,
            })
            .collect(),
        ..Default::default()
    }
}

/// INFO of a replica of unit `of` at `offset`.
pub fn replica_info(of: u32, offset: u64, link_up: bool) -> ReplicationInfo {
    ReplicationInfo {
        role: Role::Replica,
        master_host: Some(host(of)),
        master_port: Some(VALKEY_PORT),
        link_up,
        master_repl_offset: offset,
        slave_repl_offset: Some(offset),
        replicas: Vec::new(),
        // Resynced and admitted for promotion (the start-up fence lifted).
        priority: Some(100),
        failover_state: None,
    }
}

impl Observed {
    /// Unit `n`, ready to start (relation, passwords, storage, binary, valid config), not leader,
    /// alone, nothing running.
    pub fn test(n: u32) -> Observed {
        Observed {
            unit: format!("valkey/{n}"),
            leader: false,
            now: 1_000,
            relation_id: Some("valkey-peers:0".into()),
            me: PeerUnit { name: format!("valkey/{n}"), host: Some(host(n)), ..Default::default() },
            peers: Vec::new(),
            app: AppData { secret_id: Some("secret:pw".into()), ..Default::default() },
            announce_host: Some(host(n)),
            bind_address: Some(format!("127.0.0.{}", n + 2)),
            config: Ok(CharmConfig::default()),
            credentials: Some(Credentials {
                admin: "a".repeat(64),
                replication: "r".repeat(64),
                sentinel: "s".repeat(64),
            }),
            storage: Some(PathBuf::from("/var/lib/valkey")),
            installed: Some(Installed {
                server: PathBuf::from("/bin/valkey-server"),
                version: "9.1.2".into(),
            }),
            install_error: None,
            retired: false,
            applied: None,
            recorded_switchovers: Vec::new(),
            local: LocalNode::default(),
            sentinels: Vec::new(),
            primary_info: None,
            // Already remembered: plan tests see no `RememberUnitHosts` unless they add a host.
            unit_hosts: [(host(n), format!("valkey/{n}"))].into(),
            cos: Default::default(),
            leaving: Vec::new(),
        }
    }

    /// Makes this unit the leader.
    pub fn leader(mut self) -> Self {
        self.leader = true;
        self
    }

    /// Adds peers.
    pub fn with_peers(mut self, peers: Vec<PeerUnit>) -> Self {
        for p in &peers {
            if let Some(h) = &p.host {
                self.unit_hosts.insert(h.clone(), p.name.clone());
            }
        }
        self.peers = peers;
        self
    }

    /// Marks this unit started with both services running and settings applied.
    pub fn running(mut self, replication: ReplicationInfo) -> Self {
        self.me.started = true;
        self.me.start_requested = Some(1);
        self.app.bootstrapped = true;
        self.app.members = self.units().filter(|u| u.started).filter_map(|u| u.host.clone()).collect();
        self.app.members.sort();
        self.local = LocalNode {
            valkey_running: true,
            sentinel_running: true,
            replication: Some(replication),
            version: Some("9.1.2".into()),
            bound: Default::default(),
            restart_delay: None,
            supervised: true,
            on_disk: OnDisk { conf: true, replicaof: None, data_files: true },
            memory: None,
            live_settings: Default::default(),
            sentinel_answers: true,
            sentinel_pid: None,
            tuned_pid: None,
            loose_files: Vec::new(),
            state_to_move: false,
            address_gone: false,
        };
        self.local.restart_delay = Some(crate::plan::valkey_restart_delay(&self));
        let units = self.live_count();
        self.applied = crate::plan::runtime_settings(self.config.as_ref().unwrap(), units).ok();
        self
    }
}

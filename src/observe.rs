//! Observe: read Juju, the local services, and the Sentinels into one plain [`Observed`] value.
//!
//! Everything the plan decides on is in [`Observed`]; nothing in it is a handle, so plan and status
//! tests build it by hand (`observe::fixture`). [`observe`] alone builds it, from [`read_juju`],
//! the unit's files and [`read_services`], and hands it over in a [`World`] with the handles
//! execution needs. It changes nothing (even the leader's first passwords are a step,
//! `Step::CreatePasswords`, read back by the loop's next pass).

use crate::config::{CharmConfig, ConfigError};
use crate::juju::{Context, HookToolError, HookTools};
use crate::peers::{self, AppData, PeerUnit};
use crate::plan::RuntimeSettings;
use crate::secrets::{self, SecretError};
use crate::valkey::{
    Auth, Connector, Endpoint, KnownReplica, KnownSentinel, MonitoredPrimary, ReplicationInfo, TcpConnector,
};
use crate::workload::{
    self, Credentials, Installed, Paths, Service, Supervisor, ADMIN_USER, MONITOR_NAME, SENTINEL_PORT,
    VALKEY_PORT,
};
use std::path::PathBuf;

/// Why the world could not be observed.
#[derive(Debug, thiserror::Error)]
pub enum ObserveError {
    /// A hook tool failed.
    #[error(transparent)]
    Tool(#[from] HookToolError),
    /// The passwords could not be read or created.
    #[error(transparent)]
    Secret(#[from] SecretError),
}

/// One observation and the handles execution needs to act on it.
pub struct World {
    /// The observation.
    pub observed: Observed,
    /// Workload paths, once storage is attached.
    pub paths: Option<Paths>,
    /// Supervisor, once storage and binary exist.
    pub supervisor: Option<Box<dyn Supervisor>>,
    /// Connector with the admin credentials.
    pub connector: TcpConnector,
}

/// Observes everything: Juju's view, the unit's files, the local services and the Sentinels.
pub fn observe(ctx: &Context, tools: &dyn HookTools) -> Result<World, ObserveError> {
    let facts = read_juju(tools, ctx)?;
    let paths = facts.storage.clone().map(Paths::new);
    let installed: Option<Installed> = paths.as_ref().and_then(workload::installed);
    let credentials: Option<Credentials> = match &facts.relation_id {
        Some(_) => secrets::read(tools, facts.leader, &facts.app)?,
        None => None,
    };
    let connector = TcpConnector {
        auth: credentials.as_ref().map(|c| Auth { user: ADMIN_USER.into(), password: c.admin.clone() }),
        ..Default::default()
    };
    let (announce_host, bind_address) = match &facts.network {
        Some((h, b)) => (Some(h.clone()), Some(b.clone())),
        None => (None, None),
    };
    let applied: Option<RuntimeSettings> = paths
        .as_ref()
        .and_then(|p| std::fs::read_to_string(applied_path(p)).ok())
        .and_then(|t| serde_json::from_str(&t).ok());
    // The supervisor renders Valkey's restart delay when it starts it: the same function of the
    // config and the unit count the plan compares with (`Step::RefreshSupervision`).
    let delay = crate::plan::restart_delay_for(&facts.config, 1 + facts.peers.len());
    let supervisor = match (&paths, &installed) {
        (Some(p), Some(i)) => Some(workload::supervisor_for(ctx, p, i, delay)),
        _ => None,
    };
    let (mut local, sentinels, primary_info) = match &credentials {
        Some(_) => read_services(&facts, announce_host.as_deref(), &connector, supervisor.as_deref()),
        None => (LocalNode::default(), Vec::new(), None),
    };
    if let (None, Some(sup)) = (&credentials, &supervisor) {
        read_supervision(&mut local, sup.as_ref());
    }
    if let Some(p) = &paths {
        read_files(&mut local, p, facts.me.started.then_some(()).and(supervisor.as_deref()));
    }
    local.address_gone = bind_address.as_deref().is_some_and(|a| !workload::bound::is_local_address(a));
    let observed = Observed {
        unit: ctx.unit.clone(),
        leader: facts.leader,
        now: unix_now(),
        relation_id: facts.relation_id,
        me: facts.me,
        peers: facts.peers,
        app: facts.app,
        announce_host,
        bind_address,
        config: facts.config,
        credentials,
        storage: facts.storage,
        installed,
        install_error: None,
        retired: retired_marker(&ctx.charm_dir).exists(),
        applied,
        recorded_switchovers: paths
            .as_ref()
            .map(|p| crate::history::recorded_switchovers(&p.state_dir()))
            .unwrap_or_default(),
        local,
        sentinels,
        primary_info,
        unit_hosts: paths.as_ref().map(|p| crate::history::names::read(&p.state_dir())).unwrap_or_default(),
        cos: crate::cos::observe::read(ctx, tools, paths.as_ref())?,
        leaving: Vec::new(),
    };
    Ok(World { observed, paths, supervisor, connector })
}

/// The units whose removal began, for a leaving unit's plan ([`Observed::leaving`]). Best
/// effort: without the answer a leaving primary hands over as before and a leaving replica still
/// steps aside, so a failing `goal-state` is logged, not fatal.
pub fn leaving_units(tools: &dyn HookTools) -> Vec<String> {
    tools.dying_units().unwrap_or_else(|e| {
        tracing::warn!("cannot tell which units are leaving (goal-state): {e}");
        Vec::new()
    })
}

/// What the supervisor says about the local services.
fn read_supervision(local: &mut LocalNode, sup: &dyn Supervisor) {
    local.valkey_running = sup.is_running(Service::Valkey);
    local.sentinel_running = sup.is_running(Service::Sentinel);
    local.restart_delay = sup.restart_delay();
    local.supervised = sup.has_supervision();
}

/// What the unit's files say: the addresses the services run with, the data on disk, config
/// files others may read, and — for a started unit whose Sentinel runs (`started`: its
/// supervisor) — which Sentinel process was last tuned.
fn read_files(local: &mut LocalNode, p: &Paths, started: Option<&dyn Supervisor>) {
    use std::os::unix::fs::PermissionsExt;
    local.bound = workload::read_bound(p);
    local.on_disk = workload::read_on_disk(p);
    local.state_to_move = p.state_to_move();
    local.loose_files = [p.valkey_conf(), p.sentinel_conf()]
        .into_iter()
        .filter(|f| std::fs::metadata(f).is_ok_and(|m| m.permissions().mode() & 0o077 != 0))
        .collect();
    if let (Some(sup), true) = (started, local.sentinel_running) {
        local.sentinel_pid = sup.pid(Service::Sentinel);
        local.tuned_pid = std::fs::read_to_string(workload::tuning::tuned_marker(p))
            .ok()
            .and_then(|s| s.trim().parse().ok());
    }
}

/// What one Sentinel reports about the monitored primary, its replicas and its peers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SentinelView {
    /// The unit running this Sentinel.
    pub unit: String,
    /// Its host.
    pub host: String,
    /// `SENTINEL MASTER primary`; `None` when it monitors nothing under that name.
    pub primary: Option<MonitoredPrimary>,
    /// `SENTINEL SLAVES primary`.
    pub replicas: Vec<KnownReplica>,
    /// `SENTINEL SENTINELS primary`.
    pub peers: Vec<KnownSentinel>,
}

/// This unit's own services.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LocalNode {
    /// The supervisor reports Valkey running.
    pub valkey_running: bool,
    /// The supervisor reports Sentinel running.
    pub sentinel_running: bool,
    /// The hook's bind address (`network-get`, read once per hook) is no longer this machine's:
    /// its address changed while the hook ran (`workload::bound::is_local_address`).
    pub address_gone: bool,
    /// Local `INFO replication`; `None` when Valkey did not answer.
    pub replication: Option<ReplicationInfo>,
    /// Local engine version; `None` when Valkey did not answer.
    pub version: Option<String>,
    /// The addresses the local services run with and the peers' addresses this unit's Sentinel
    /// resolved, as the files say (address changes: `crate::readdress`).
    pub bound: crate::workload::Bound,
    /// The restart delay Valkey's supervision applies to its next restart, as its files stand
    /// (`Supervisor::restart_delay`); `None` when they are missing or outdated.
    pub restart_delay: Option<std::time::Duration>,
    /// Something of this unit's supervision remains even if no process runs
    /// (`Supervisor::has_supervision`): a leaving unit must still remove it.
    pub supervised: bool,
    /// What the unit's disk holds: its valkey.conf's replication source and whether the data
    /// files are there (a node that lost its data must not become the source its peers copy).
    pub on_disk: crate::workload::OnDisk,
    /// The local Sentinel answered this observation. *Why:* a Sentinel that crash-loops (a corrupt
    /// sentinel.conf) is "running" for a moment after each restart; only an answer says it is up.
    pub sentinel_answers: bool,
    /// Local `INFO memory`, read only when `maxmemory` is set (status warns when the dataset
    /// reaches it); `None` otherwise or when Valkey did not answer.
    pub memory: Option<crate::valkey::MemoryUse>,
    /// The live values of the settings the charm owns ([`crate::plan::DRIFT_KEYS`]), read with
    /// `CONFIG GET`: a value changed behind the charm's back is set again (empty when Valkey did
    /// not answer).
    pub live_settings: std::collections::BTreeMap<String, String>,
    /// The local Sentinel's pid, read for a started unit whose Sentinel runs.
    pub sentinel_pid: Option<u32>,
    /// The pid of the Sentinel process last given the charm's INFO period (`workload::tuning`).
    pub tuned_pid: Option<u32>,
    /// Config files holding password hashes that someone made readable to others.
    pub loose_files: Vec<PathBuf>,
    /// The charm's records are still in `etc/`, where an older revision kept them
    /// (`Paths::state_to_move`).
    pub state_to_move: bool,
}

/// Everything a reconcile pass decides on.
#[derive(Debug, Clone)]
pub struct Observed {
    /// This unit (`valkey/0`).
    pub unit: String,
    /// Whether this unit leads (only the leader writes the app bag).
    pub leader: bool,
    /// Unix time of the observation (start-lock stall detection).
    pub now: u64,
    /// Id of the peer relation; `None` before `valkey-peers-relation-created`.
    pub relation_id: Option<String>,
    /// This unit's own bag.
    pub me: PeerUnit,
    /// The other live units' bags, by unit number.
    pub peers: Vec<PeerUnit>,
    /// The app bag.
    pub app: AppData,
    /// Host to announce (network-get hostname, else ingress address); `None` if unknown.
    pub announce_host: Option<String>,
    /// Address to bind to.
    pub bind_address: Option<String>,
    /// The validated config, or why it is invalid (the unit then blocks and changes nothing).
    pub config: Result<CharmConfig, ConfigError>,
    /// The passwords; `None` until the leader created the secret and it could be read.
    pub credentials: Option<Credentials>,
    /// Where the `data` storage is mounted; `None` until attached.
    pub storage: Option<PathBuf>,
    /// The installed server, if any.
    pub installed: Option<Installed>,
    /// Why installing failed (shown as blocked).
    pub install_error: Option<String>,
    /// This unit has handed over and stopped its services because it is leaving.
    pub retired: bool,
    /// Runtime settings last applied to the local services.
    pub applied: Option<RuntimeSettings>,
    /// Switchovers this unit ran, with their measured durations (`<storage>/etc/switchovers.jsonl`).
    pub recorded_switchovers: Vec<crate::history::Failover>,
    /// The local Valkey and Sentinel.
    pub local: LocalNode,
    /// What the reachable Sentinels of started units (this one included) report.
    pub sentinels: Vec<SentinelView>,
    /// `INFO replication` of the current primary, when reachable.
    pub primary_info: Option<ReplicationInfo>,
    /// Host → unit of every unit this one has seen, removed ones included
    /// ([`crate::history::names`]), so a departed primary is still named by unit.
    pub unit_hosts: crate::history::names::UnitHosts,
    /// The observability side: the `cos-agent` relation and the exporter services
    /// (`crate::cos`).
    pub cos: crate::cos::observe::CosObserved,
    /// Units of this application whose removal began (`goal-state`), this one included. Only a
    /// leaving unit asks ([`leaving_units`]); empty otherwise.
    pub leaving: Vec<String>,
}

impl Observed {
    /// Every live unit: this one and its peers.
    pub fn units(&self) -> impl Iterator<Item = &PeerUnit> {
        std::iter::once(&self.me).chain(self.peers.iter())
    }

    /// Every switchover record this unit knows: its own and those its peers publish, newest
    /// [`crate::history::shared::PUBLISHED`] (see `history::shared`).
    pub fn known_switchovers(&self) -> Vec<crate::history::Failover> {
        let published = self.units().map(|u| u.switchovers.as_slice());
        crate::history::shared::union(std::iter::once(self.recorded_switchovers.as_slice()).chain(published))
    }

    /// Number of live units.
    pub fn live_count(&self) -> usize {
        1 + self.peers.len()
    }

    /// Number of units that report started.
    pub fn started_count(&self) -> usize {
        self.units().filter(|u| u.started).count()
    }

    /// The unit that announced `host`, if any (this unit's announce host counts too); a unit no
    /// longer live is named from what this unit remembers ([`Observed::unit_hosts`]).
    pub fn unit_at(&self, host: &str) -> Option<&str> {
        if self.announce_host.as_deref() == Some(host) {
            return Some(&self.me.name);
        }
        self.units()
            .find(|u| u.host.as_deref() == Some(host))
            .map(|u| u.name.as_str())
            .or_else(|| self.unit_hosts.get(host).map(String::as_str))
    }

    /// Every name a live unit goes by: the host each publishes, this unit's own, and each peer's
    /// current address. *Why the address too:* a unit that just moved is reached (and re-learnt by
    /// Sentinel) at its new IP before its hook publishes it as its host; taken for a departed node,
    /// it kept a reset waiting its full 30 s for it to stop answering.
    pub fn live_names(&self) -> Vec<&str> {
        let hosts = self.units().filter_map(|u| u.host.as_deref());
        let addresses = self.peers.iter().filter_map(|p| p.address.as_deref());
        hosts.chain(addresses).chain(self.announce_host.as_deref()).collect()
    }

    /// The `(host, unit)` pairs of the live units (this one included) that announced a host.
    pub fn live_hosts(&self) -> Vec<(&str, &str)> {
        let mine = self.announce_host.as_deref().map(|h| (h, self.me.name.as_str()));
        let peers = self.peers.iter().filter_map(|u| u.host.as_deref().map(|h| (h, u.name.as_str())));
        mine.into_iter().chain(peers).collect()
    }

    /// The primary as the Sentinels see it ([`select_primary`]); `primary_info` is this node's.
    pub fn known_primary(&self) -> Option<Endpoint> {
        select_primary(self.sentinels.iter().filter_map(|s| s.primary.as_ref()))
            .map(|p| Endpoint::new(p.ip.clone(), p.port))
    }

    /// True when the known primary is this unit.
    pub fn i_am_primary(&self) -> bool {
        match (self.known_primary(), &self.announce_host) {
            (Some(p), Some(me)) => &p.host == me,
            _ => false,
        }
    }

    /// This unit's own Sentinel view, if it answered.
    pub fn my_sentinel(&self) -> Option<&SentinelView> {
        self.sentinels.iter().find(|s| s.unit == self.me.name)
    }

    /// The Sentinel an action asks: this unit's own when it answered, else any started unit's.
    pub fn sentinel_to_ask(&self) -> Option<Endpoint> {
        self.my_sentinel()
            .or_else(|| self.sentinels.first())
            .map(|s| Endpoint::new(s.host.clone(), SENTINEL_PORT))
    }

    /// The data node of unit `name` (an action's parameter), or why there is none.
    pub fn data_node_of(&self, name: &str) -> Result<Endpoint, String> {
        let unit = self
            .units()
            .find(|u| u.name == name)
            .ok_or_else(|| format!("{name} is not a unit of this application"))?;
        let host = if unit.name == self.me.name { self.announce_host.clone() } else { unit.host.clone() };
        let host = host.ok_or_else(|| format!("{name} has not published its address yet"))?;
        Ok(Endpoint::new(host, VALKEY_PORT))
    }

    /// How long a switchover or promotion may take: the configured failover-timeout (20 s while
    /// the config is invalid).
    pub fn failover_limit(&self) -> std::time::Duration {
        let ms = self.config.as_ref().map(|c| c.failover_timeout_ms).unwrap_or(20_000);
        std::time::Duration::from_millis(u64::from(ms))
    }
}

/// Unix time now.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Juju-side facts read with hook tools (cheap: a handful of tool calls).
pub struct JujuFacts {
    /// is-leader.
    pub leader: bool,
    /// Peer relation id.
    pub relation_id: Option<String>,
    /// Own bag.
    pub me: PeerUnit,
    /// Peers' bags.
    pub peers: Vec<PeerUnit>,
    /// App bag.
    pub app: AppData,
    /// config-get, validated.
    pub config: Result<CharmConfig, ConfigError>,
    /// network-get: (announce host, bind address).
    pub network: Option<(String, String)>,
    /// storage location.
    pub storage: Option<PathBuf>,
}

/// Reads the Juju side.
pub fn read_juju(tools: &dyn HookTools, ctx: &Context) -> Result<JujuFacts, HookToolError> {
    let (unit, app) = (ctx.unit.as_str(), ctx.app.as_str());
    let leader = tools.is_leader()?;
    let relation_id = tools.relation_ids(peers::ENDPOINT)?.into_iter().next();
    let (me, mut peer_units, app_data) = match &relation_id {
        Some(rid) => {
            let me = PeerUnit::from_bag(unit, &tools.relation_get_unit(rid, unit)?);
            let mut list = Vec::new();
            for name in tools.relation_list(rid)? {
                list.push(PeerUnit::from_bag(&name, &tools.relation_get_unit(rid, &name)?));
            }
            (me, list, AppData::from_bag(&tools.relation_get_app(rid, app)?))
        }
        None => (PeerUnit { name: unit.to_string(), ..Default::default() }, Vec::new(), AppData::default()),
    };
    peer_units.sort_by_key(PeerUnit::number);
    let config = CharmConfig::from_options(&tools.config_get()?);
    let network = match tools.network_get(peers::ENDPOINT) {
        Ok(n) => {
            let host = if n.hostname.is_empty() { n.ingress_address.clone() } else { n.hostname.clone() };
            let bind = if n.bind_address.is_empty() { n.ingress_address.clone() } else { n.bind_address };
            (!host.is_empty() && !bind.is_empty()).then_some((host, bind))
        }
        Err(_) => None,
    };
    let storage = storage_location(tools, ctx)?;
    Ok(JujuFacts { leader, relation_id, me, peers: peer_units, app: app_data, config, network, storage })
}

/// File in the charm directory that remembers where the `data` storage is mounted.
const STORAGE_CACHE: &str = ".valkey-storage-location";

/// Where the `data` storage is mounted, if an earlier hook found it (no hook tool asked): the
/// snapshot (crate::snapshot) lives there.
pub fn known_storage(ctx: &Context) -> Option<PathBuf> {
    let dir =
        std::fs::read_to_string(ctx.charm_dir.join(STORAGE_CACHE)).ok().map(|s| PathBuf::from(s.trim()))?;
    dir.is_dir().then_some(dir)
}

/// Where the `data` storage is mounted. A unit's storage never moves, so the answer is kept in the
/// charm directory: an update-status then spends two hook-tool calls less.
fn storage_location(tools: &dyn HookTools, ctx: &Context) -> Result<Option<PathBuf>, HookToolError> {
    if let Some(dir) = known_storage(ctx) {
        return Ok(Some(dir));
    }
    let cache = ctx.charm_dir.join(STORAGE_CACHE);
    let found = match &ctx.storage_location {
        Some(dir) if ctx.storage_id.as_deref().is_some_and(|id| id.starts_with("data/")) => Some(dir.clone()),
        _ => tools.storage_location("data")?,
    };
    if let Some(dir) = &found {
        // Best effort: without the cache the next hook simply asks again.
        let _ = std::fs::write(&cache, dir.to_string_lossy().as_bytes());
    }
    Ok(found)
}

/// The one rule for "the primary" among the Sentinels' views (observe reads its replication from
/// it, status measures replica lag against it, plan follows it):
/// 1. the highest config epoch (a Sentinel that missed a failover reports an older one);
/// 2. on a tie, a settled view beats one with a failover in progress: the Sentinel that leads a
///    failover reports the new epoch with the *old* address until it has re-pointed the replicas
///    (~1 s after the others switched);
/// 3. then the address more views name;
/// 4. then the lowest address, so the answer never depends on the order the views were read in.
pub fn select_primary<'a>(
    views: impl IntoIterator<Item = &'a MonitoredPrimary>,
) -> Option<&'a MonitoredPrimary> {
    let views: Vec<&MonitoredPrimary> = views.into_iter().collect();
    let votes = |p: &MonitoredPrimary| views.iter().filter(|v| v.ip == p.ip && v.port == p.port).count();
    let rank = |p: &MonitoredPrimary| (p.config_epoch, !p.failover_in_progress(), votes(p));
    views
        .iter()
        .copied()
        .max_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| (&b.ip, b.port).cmp(&(&a.ip, a.port))))
}

/// Reads the local services and the Sentinels of started units. Unreachable nodes are simply
/// absent from the result: the plan and status treat "no answer" as information.
pub fn read_services(
    facts: &JujuFacts,
    announce_host: Option<&str>,
    connector: &dyn Connector,
    supervisor: Option<&dyn Supervisor>,
) -> (LocalNode, Vec<SentinelView>, Option<ReplicationInfo>) {
    let mut local = LocalNode::default();
    if let Some(sup) = supervisor {
        read_supervision(&mut local, sup);
    }
    if let (true, Some(host)) = (local.valkey_running, announce_host) {
        if let Ok(mut node) = connector.data(&Endpoint::new(host, VALKEY_PORT)) {
            local.replication = node.replication().ok();
            local.version = node.version().ok();
            if facts.config.as_ref().is_ok_and(|c| c.maxmemory > 0) {
                local.memory = node.memory().ok().flatten();
            }
            for key in crate::plan::DRIFT_KEYS {
                if let Ok(Some(value)) = node.config_get(key) {
                    local.live_settings.insert(key.to_string(), value);
                }
            }
        }
    }
    // Everyone reads its own Sentinel; the leader and units still starting read every started
    // unit's Sentinel (quorum upkeep, resets, finding the primary).
    let wide = facts.leader || !facts.me.started;
    let mut targets: Vec<(String, String)> = Vec::new();
    if let (true, Some(host)) = (local.sentinel_running, announce_host) {
        targets.push((facts.me.name.clone(), host.to_string()));
    }
    if wide {
        for p in facts.peers.iter().filter(|p| p.started) {
            if let Some(h) = &p.host {
                targets.push((p.name.clone(), h.clone()));
            }
        }
    }
    // A leader that sees no started unit asks the recorded members (`peers::MEMBERS`): whether
    // anybody still backs `bootstrapped`, and whom they name as primary.
    let none_started = !facts.me.started && !facts.peers.iter().any(|p| p.started);
    if facts.leader && facts.app.bootstrapped && none_started {
        for h in &facts.app.members {
            let unit = facts.peers.iter().find(|p| p.host.as_ref() == Some(h)).map(|p| p.name.clone());
            targets.push((unit.unwrap_or_else(|| h.clone()), h.clone()));
        }
    }
    let sentinels: Vec<SentinelView> =
        targets.into_iter().filter_map(|(unit, host)| read_sentinel(connector, unit, host)).collect();
    local.sentinel_answers = local.sentinel_running && sentinels.iter().any(|s| s.unit == facts.me.name);
    let primary = select_primary(sentinels.iter().filter_map(|s| s.primary.as_ref()));
    let primary_info = primary.and_then(|p| primary_replication(connector, p, &local, announce_host));
    (local, sentinels, primary_info)
}

/// `INFO replication` of the primary. When the primary is this unit, the local read just made is
/// the same answer: no second connection (a quiet update-status on the primary saves ~0.3 ms).
fn primary_replication(
    connector: &dyn Connector,
    primary: &MonitoredPrimary,
    local: &LocalNode,
    announce_host: Option<&str>,
) -> Option<ReplicationInfo> {
    match (&local.replication, announce_host) {
        (Some(mine), Some(me)) if primary.ip == me && primary.port == VALKEY_PORT => Some(mine.clone()),
        _ => connector.data(&Endpoint::new(primary.ip.clone(), primary.port)).ok()?.replication().ok(),
    }
}

fn read_sentinel(connector: &dyn Connector, unit: String, host: String) -> Option<SentinelView> {
    let mut s = connector.sentinel(&Endpoint::new(host.clone(), SENTINEL_PORT)).ok()?;
    let primary = s.primary(MONITOR_NAME).ok()?;
    let replicas = s.replicas(MONITOR_NAME).unwrap_or_default();
    let peers = s.sentinels(MONITOR_NAME).unwrap_or_default();
    Some(SentinelView { unit, host, primary, replicas, peers })
}

/// Where the charm keeps its own small state files inside the storage.
pub fn applied_path(paths: &Paths) -> PathBuf {
    paths.state_dir().join("applied-settings.json")
}

/// The marker a retired unit leaves in its charm directory, so later hooks never restart it.
pub fn retired_marker(charm_dir: &std::path::Path) -> PathBuf {
    charm_dir.join(".valkey-retired")
}

#[cfg(test)]
#[path = "observe_fixture.rs"]
pub mod fixture;

#[cfg(test)]
#[path = "observe_tests.rs"]
mod tests;

//! The model's state: what a Juju controller would keep in its database, as plain data.
//!
//! One [`ModelState`] value per model lives in `<model-dir>/state.json`. Every reader and writer —
//! CLI commands, the agent and the hook tools — goes through [`crate::store::Store`], which holds an
//! exclusive file lock for the whole read-modify-write, so concurrent processes never lose updates.
//! The types here are pure data with small helpers; nothing in this module touches the disk.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

mod pending;
mod secret;
mod storage;
mod teardown;

pub use pending::{PendingChanges, SecretChange};
pub use secret::Secret;
pub use storage::{StorageSpec, STORAGE_PARENT_DIR};
pub use teardown::TeardownOrder;

/// A string-to-string map: a relation bag, a secret's content, a unit's state store.
pub type Bag = BTreeMap<String, String>;

/// Everything the model knows, persisted as one JSON document.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ModelState {
    /// Format version of this document; bumped on incompatible changes so old files are refused
    /// with a clear message instead of being misread.
    pub format: u32,
    /// Model name (`juju-local -m NAME`), as `juju status` shows it.
    pub name: String,
    /// Random UUID, exported to hooks as `JUJU_MODEL_UUID` and used to tag the model's processes.
    pub uuid: String,
    /// The first three octets of this model's address block (`127.0.K` in loopback mode,
    /// `198.18.K` in host mode): units get `<block>.2`, `<block>.3`, ...
    pub address_block: [u8; 3],
    /// Seconds between update-status hooks on each unit (Juju's default is 300).
    pub update_status_interval_secs: u64,
    /// Seconds a hook may run before the agent kills it and marks the unit in error.
    pub hook_timeout_secs: u64,
    /// Applications by name.
    pub applications: BTreeMap<String, Application>,
    /// Units by name (`valkey/0`), including dying ones until their `remove` hook has run.
    pub units: BTreeMap<String, Unit>,
    /// Relations by id (the number in `valkey-peers:0`).
    pub relations: BTreeMap<u32, Relation>,
    /// Secrets by id (the part after `secret:`).
    pub secrets: BTreeMap<String, Secret>,
    /// Actions and `juju-exec` commands by id, newest last.
    pub operations: BTreeMap<u64, Operation>,
    /// Counters for ids that must never be reused within the model.
    pub counters: Counters,
    /// Base delay before a failed hook is retried (doubles per attempt, capped at 5 minutes);
    /// milliseconds so tests can make it short.
    #[serde(default = "default_retry_delay_ms")]
    pub hook_retry_delay_ms: u64,
    /// Milliseconds between update-status hooks; overrides `update_status_interval_secs` when set,
    /// because model-config accepts sub-second Go durations (`500ms`).
    #[serde(default)]
    pub update_status_interval_ms: Option<u64>,
    /// Pid of the process that created the model (env `JUJU_LOCAL_OWNER_PID`); when it dies the
    /// agent destroys the model, so a killed test run leaks no processes.
    #[serde(default)]
    pub owner_pid: Option<u32>,
    /// How units are networked: loopback addresses (the default) or one network namespace per
    /// unit (host mode, see [`crate::hosts`]); fixed when the model is created.
    #[serde(default)]
    pub network_mode: crate::hosts::NetworkMode,
    /// Network faults injected in host mode, so `heal` and unit removal know what to undo.
    #[serde(default)]
    pub faults: crate::hosts::Faults,
    /// Machine mode: the root filesystem every machine's overlay has below its own layer, fixed
    /// when the model is created.
    #[serde(default)]
    pub rootfs: Option<PathBuf>,
    /// Whether `network-get` reports each unit's hostname. Host mode always does; machine mode
    /// does only when the model was created with `unit-hostnames=true`, since a real IAAS machine
    /// reports an address without a hostname.
    #[serde(default)]
    pub unit_hostnames: bool,
    /// Model-config `teardown-order`: whether a removed unit runs its own departed hooks or its
    /// storage-detaching hooks first (both happen on Juju; see [`TeardownOrder`]).
    #[serde(default)]
    pub teardown_order: TeardownOrder,
}

fn default_retry_delay_ms() -> u64 {
    5000
}

/// Monotonic id sources.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Counters {
    /// Next relation id.
    pub relation: u32,
    /// Next operation (action or exec) id.
    pub operation: u64,
    /// Next hook context id, exported as `JUJU_CONTEXT_ID`.
    pub context: u64,
    /// Next secret sequence number (part of the secret id).
    pub secret: u64,
    /// Next machine number.
    pub machine: u32,
    /// Next storage instance number (`data/N`), model-wide like Juju's.
    #[serde(default)]
    pub storage: u32,
}

/// A deployed application.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Application {
    /// Application name (`valkey`).
    pub name: String,
    /// Where the charm was deployed from; each unit gets its own copy of this directory.
    pub charm_source: PathBuf,
    /// Charm name from metadata.yaml.
    pub charm_name: String,
    /// Charm revision, bumped by upgrade-charm.
    pub charm_revision: u32,
    /// Options the user set with `deploy --config` or `config APP k=v` (defaults live in config.yaml).
    pub config: BTreeMap<String, serde_json::Value>,
    /// Attached file resources: name → absolute path of the model's copy.
    pub resources: BTreeMap<String, PathBuf>,
    /// Number the next unit gets (unit numbers are never reused).
    pub next_unit: u32,
    /// The current leader, if one has been elected.
    pub leader: Option<String>,
    /// Application status as set by the leader with `status-set --application`.
    pub status: StatusRecord,
    /// Workload version from `application-version-set`.
    pub workload_version: String,
    /// Peer relation endpoints from metadata.yaml (`valkey-peers`).
    pub peer_endpoints: Vec<String>,
    /// Filesystem storage names from metadata.yaml (`data`), each attached to every unit.
    pub storage_names: Vec<String>,
    /// Each storage name's `location:` and count, which say where Juju mounts its instances.
    #[serde(default)]
    pub storage_specs: BTreeMap<String, StorageSpec>,
    /// `provides:` endpoints from metadata.yaml, by name (what `integrate` matches).
    #[serde(default)]
    pub provides: BTreeMap<String, EndpointSpec>,
    /// `requires:` endpoints from metadata.yaml, by name.
    #[serde(default)]
    pub requires: BTreeMap<String, EndpointSpec>,
    /// `subordinate: true` in metadata.yaml: deploying it creates no unit; each principal unit
    /// that enters a container-scoped relation with it gets one (see [`Unit::principal`]).
    #[serde(default)]
    pub subordinate: bool,
}

/// A `provides:` or `requires:` endpoint as metadata.yaml declares it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct EndpointSpec {
    /// `interface:`, which both ends of a relation must share.
    pub interface: String,
    /// `limit:`, the most relations the endpoint may take part in (none: unlimited).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `scope: container`: the relation joins only units on the same machine (a principal unit
    /// and its subordinate); the default `global` joins every unit of both sides.
    #[serde(default)]
    pub container: bool,
}

/// One application's end of a cross-application relation.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct RelationEnd {
    /// The application's endpoint name (`database`).
    pub endpoint: String,
    /// `provider` or `requirer`, as Juju names the roles.
    pub role: String,
    /// The interface both ends share.
    pub interface: String,
}

/// A workload or agent status with its message and when it was set (unix seconds, fractional).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct StatusRecord {
    /// `active`, `blocked`, `waiting`, `maintenance`, `error`, `unknown`, `idle`, `executing`, ...
    pub status: String,
    /// Free text shown beside the status.
    pub message: String,
    /// When it was set.
    pub since: f64,
}

/// Where a unit is in its life, as Juju tracks it.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Life {
    /// Running normally.
    #[default]
    Alive,
    /// `remove-unit` was requested; teardown hooks are queued or running.
    Dying,
}

/// One unit of an application: a "machine" with its own address and directories.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Unit {
    /// `valkey/0`.
    pub name: String,
    /// Application name.
    pub application: String,
    /// Machine number shown in status and exported as `JUJU_MACHINE_ID`.
    pub machine: u32,
    /// The unit's own address (loopback, or its namespace's in host mode), reported by
    /// `network-get` and as `public-address`.
    pub address: Ipv4Addr,
    /// Hostname reported by `network-get`: `<app>-<n>` in host mode, where every unit's hosts file
    /// resolves it; empty in loopback mode, where nothing would.
    pub hostname: String,
    /// Alive or dying.
    pub life: Life,
    /// Workload status from `status-set`.
    pub workload_status: StatusRecord,
    /// Agent status: `allocating`, `idle`, `executing`, `error`, `lost`.
    pub agent_status: StatusRecord,
    /// Hooks and operations waiting to run on this unit, in order.
    pub queue: VecDeque<QueuedEvent>,
    /// The event being run right now, if any (with the context id of its hook tools).
    pub running: Option<RunningEvent>,
    /// A failed hook waiting to be retried: the event, attempt count and the earliest retry time.
    pub failed: Option<FailedEvent>,
    /// When the last update-status was queued (unix seconds).
    pub last_update_status: f64,
    /// For each relation id, the remote units this unit has seen join (what `relation-list` shows).
    pub relation_views: BTreeMap<u32, BTreeSet<String>>,
    /// The per-unit key-value store behind `state-get`/`state-set`.
    pub state: Bag,
    /// Ports opened with `open-port`, as `6379/tcp`.
    pub opened_ports: BTreeSet<String>,
    /// Storage instances attached to this unit: id (`data/0`) → its directory on the host (in the
    /// model directory).
    pub storage: BTreeMap<String, PathBuf>,
    /// Machine mode: id → where the instance is mounted inside the unit's machine (Juju's mount
    /// point, see [`StorageSpec::mount_point`]); the host directory is bound there when the machine
    /// boots. Empty in the other modes, where the host directory is the location, and for a
    /// subordinate (its principal's machine is booted already: its storage stays at its directory
    /// in the model, which every machine sees at the same path).
    #[serde(default)]
    pub storage_mounts: BTreeMap<String, PathBuf>,
    /// True once `install` has succeeded (a unit that never installed is still `allocating`).
    pub installed: bool,
    /// True once `start` has succeeded: update-status waits for it, as in Juju.
    #[serde(default)]
    pub started: bool,
    /// Machine mode: the unit's machine is down (killed, or being rebooted). Nothing runs on it,
    /// as nothing runs on a Juju machine whose agent is lost.
    #[serde(default)]
    pub machine_down: bool,
    /// This unit agent's cache of remote units' settings, per relation id (Juju's
    /// `RelationCache`, `internal/worker/uniter/runner/context/cache.go`): filled on first read,
    /// dropped for a unit when a `-joined`/`-changed` hook about it starts, so other hooks, and
    /// exec contexts, see the copy read earlier. Application bags are never cached.
    #[serde(default)]
    pub relation_cache: BTreeMap<u32, BTreeMap<String, Bag>>,
    /// For `remove-unit --force`: when (unix seconds) the unit is removed whatever its teardown
    /// hooks are doing — Juju's forced cleanup after `--max-wait` (`state/cleanup.go`,
    /// `scheduleForceCleanup`). Its hooks run until then.
    #[serde(default)]
    pub force_deadline: Option<f64>,
    /// For a subordinate unit: the principal unit it was deployed onto. It shares that unit's
    /// machine (number, address, network namespace, systemd machine) and is removed before it.
    #[serde(default)]
    pub principal: Option<String>,
}

impl Default for Unit {
    fn default() -> Self {
        Unit {
            name: String::new(),
            application: String::new(),
            machine: 0,
            address: Ipv4Addr::LOCALHOST,
            hostname: String::new(),
            life: Life::Alive,
            workload_status: StatusRecord::default(),
            agent_status: StatusRecord::default(),
            queue: VecDeque::new(),
            running: None,
            failed: None,
            last_update_status: 0.0,
            relation_views: BTreeMap::new(),
            state: Bag::new(),
            opened_ports: BTreeSet::new(),
            storage: BTreeMap::new(),
            storage_mounts: BTreeMap::new(),
            installed: false,
            started: false,
            machine_down: false,
            relation_cache: BTreeMap::new(),
            force_deadline: None,
            principal: None,
        }
    }
}

impl Unit {
    /// Where storage instance `id` is as the unit sees it (`storage-get location`,
    /// `JUJU_STORAGE_LOCATION`, status): its mount point in machine mode, else its host directory.
    pub fn storage_location(&self, id: &str) -> Option<&Path> {
        self.storage_mounts.get(id).or_else(|| self.storage.get(id)).map(PathBuf::as_path)
    }

    /// The principal unit whose machine this unit is on: its own name for a principal. Two
    /// units share a container-scoped relation's scope only when this matches (Juju's relation
    /// scope key ends in the principal's name: `state/relation.go`, `Relation.Unit`).
    pub fn container(&self) -> &str {
        self.principal.as_deref().unwrap_or(&self.name)
    }
}

/// An event waiting in a unit's queue.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum QueuedEvent {
    /// A hook, with the environment that is specific to it.
    Hook(HookEvent),
    /// An action or a `juju-exec` command, by operation id.
    Operation {
        /// Key into [`ModelState::operations`].
        id: u64,
    },
}

/// A hook to run and the variables that come with it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct HookEvent {
    /// Hook name as in `hooks/<name>`: `install`, `valkey-peers-relation-joined`, ...
    pub name: String,
    /// `JUJU_RELATION_ID` number, for relation hooks.
    pub relation_id: Option<u32>,
    /// `JUJU_REMOTE_UNIT`, for relation hooks about one unit.
    pub remote_unit: Option<String>,
    /// `JUJU_REMOTE_APP`, for relation hooks.
    pub remote_app: Option<String>,
    /// `JUJU_DEPARTING_UNIT`, for -relation-departed.
    pub departing_unit: Option<String>,
    /// `JUJU_STORAGE_ID`, for storage hooks.
    pub storage_id: Option<String>,
    /// `JUJU_SECRET_ID`, for secret hooks.
    pub secret_id: Option<String>,
}

/// The event a unit is running now.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunningEvent {
    /// What is running.
    pub event: QueuedEvent,
    /// `JUJU_CONTEXT_ID` of this run; its held-back changes are keyed by it.
    pub context_id: String,
    /// Pid of the hook process, so a restarted agent can tell whether it still runs.
    pub pid: Option<u32>,
    /// When it started (unix seconds).
    pub started: f64,
}

/// A hook that failed and will be retried.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FailedEvent {
    /// The hook to retry.
    pub event: QueuedEvent,
    /// How many times it has failed so far.
    pub attempts: u32,
    /// Earliest time of the next attempt (unix seconds).
    pub retry_at: f64,
}

/// A relation. Peer relations have one application on both sides.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Relation {
    /// The number in `valkey-peers:0`.
    pub id: u32,
    /// Endpoint name (`valkey-peers`) of a peer relation; for a cross-application relation the
    /// provider's endpoint (each side's own name is in [`Relation::ends`]).
    pub endpoint: String,
    /// For a cross-application relation: each application's end, by application name. Empty for
    /// a peer relation.
    #[serde(default)]
    pub ends: BTreeMap<String, RelationEnd>,
    /// `remove-relation` (or removing one of its applications) began: its units run `-departed`
    /// and `-broken`, and it is deleted once every unit has left it.
    #[serde(default)]
    pub dying: bool,
    /// Container-scoped (either endpoint says `scope: container`): each unit joins only the
    /// remote units of its own container, a principal unit and its subordinate.
    #[serde(default)]
    pub container: bool,
    /// Applications taking part (one for a peer relation).
    pub applications: BTreeSet<String>,
    /// Application bags by application name.
    pub app_bags: BTreeMap<String, Bag>,
    /// Unit bags by unit name.
    pub unit_bags: BTreeMap<String, Bag>,
}

impl Relation {
    /// The endpoint name `app` knows this relation by (`JUJU_RELATION`, `relation-ids`).
    pub fn endpoint_for(&self, app: &str) -> &str {
        self.ends.get(app).map_or(self.endpoint.as_str(), |end| end.endpoint.as_str())
    }

    /// Whether both sides are one application (a peer relation).
    pub fn is_peer(&self) -> bool {
        self.applications.len() == 1
    }
}

/// An action or a `juju-exec` command and, once it ran, its outcome.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Operation {
    /// Operation id; actions are shown to users as this number.
    pub id: u64,
    /// Target unit.
    pub unit: String,
    /// Action name, or `None` for a `juju-exec` command.
    pub action: Option<String>,
    /// Validated action parameters (with schema defaults filled in).
    pub params: serde_json::Map<String, serde_json::Value>,
    /// For `juju-exec`: the command line, run with `sh -c`.
    pub command: Option<String>,
    /// `pending`, `running`, `completed` or `failed`.
    pub status: String,
    /// Results from `action-set`, nested by dotted keys.
    pub results: serde_json::Map<String, serde_json::Value>,
    /// Message from `action-fail`, if it was called.
    pub failure: Option<String>,
    /// Lines from `action-log`.
    pub log: Vec<String>,
    /// Exit code of the process.
    pub return_code: Option<i32>,
    /// Captured standard output.
    pub stdout: String,
    /// Captured standard error.
    pub stderr: String,
    /// When it was enqueued, started and finished (unix seconds).
    pub enqueued: f64,
    /// When it started running.
    pub started: Option<f64>,
    /// When it finished.
    pub completed: Option<f64>,
}

/// The state-file format this build reads and writes.
pub const STATE_FORMAT: u32 = 1;

impl ModelState {
    /// The units of `app`, in unit-number order (not string order: `valkey/10` after `valkey/9`).
    pub fn units_of(&self, app: &str) -> Vec<&Unit> {
        let mut units: Vec<&Unit> = self.units.values().filter(|u| u.application == app).collect();
        units.sort_by_key(|u| unit_number(&u.name));
        units
    }

    /// The subordinate units deployed onto `principal`, in name order.
    pub fn subordinates_of(&self, principal: &str) -> Vec<&Unit> {
        self.units.values().filter(|u| u.principal.as_deref() == Some(principal)).collect()
    }

    /// The peer relation of `app` on `endpoint`, if it exists.
    pub fn peer_relation(&self, app: &str, endpoint: &str) -> Option<&Relation> {
        self.relations
            .values()
            .find(|r| r.endpoint == endpoint && r.applications.len() == 1 && r.applications.contains(app))
    }
}

/// The number after the slash in a unit name (`valkey/10` → 10); `u32::MAX` if malformed.
pub fn unit_number(unit: &str) -> u32 {
    unit.rsplit_once('/').and_then(|(_, n)| n.parse().ok()).unwrap_or(u32::MAX)
}

/// The application part of a unit name (`valkey/10` → `valkey`).
pub fn application_of(unit: &str) -> &str {
    unit.split_once('/').map_or(unit, |(app, _)| app)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_numbers_sort_numerically() {
        let mut state = ModelState::default();
        for n in [10, 2, 9] {
            let name = format!("valkey/{n}");
            state.units.insert(name.clone(), Unit { name, application: "valkey".into(), ..Unit::default() });
        }
        let names: Vec<_> = state.units_of("valkey").iter().map(|u| u.name.clone()).collect();
        assert_eq!(names, ["valkey/2", "valkey/9", "valkey/10"]);
        assert_eq!(application_of("valkey/10"), "valkey");
        assert_eq!(unit_number("bad"), u32::MAX);
    }
}

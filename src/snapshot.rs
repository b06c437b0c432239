//! Snapshot: the Juju view a hook read, kept on disk so a no-op update-status need not ask again.
//!
//! Each hook-tool process costs ~2–3 ms; an update-status that asked everything fresh spent
//! ~20 ms of its ~25 ms in them. Juju runs a hook on this unit whenever any fact we read changes
//! (relation-joined/changed/departed for bags and membership, config-changed for config and
//! address changes, secret-changed for the secret, leader-elected for leadership gained), so the
//! answers of the last hook are as fresh as Juju's own view. [`SnapshotTools`] wraps the real
//! tools for one invocation:
//! - **record** (every event but update-status, or no usable snapshot): every read is asked once
//!   and its answer remembered (a later pass of the same hook is served the same answer); writes
//!   are mirrored, so the snapshot describes the state after the hook's own `relation-set`s;
//! - **replay** (update-status with a snapshot of this charm build and unchanged leadership):
//!   reads are served from the snapshot; a read it lacks is asked and remembered.
//!
//! Two guards bound what a missed hook could cost: a snapshot older than [`REFRESH_AFTER`] is
//! read fresh (a periodic forced refresh: at Juju's default 5-minute update-status interval,
//! every sixth update-status asks everything), and the `update-status-cache` option (default
//! true) turns the replay off altogether ([`replayable`]).
//!
//! `is-leader` is always asked once (leadership can move without a hook here). `status-set` is
//! skipped in replay when the status equals the one this unit last set. The file holds the
//! passwords (secret content), so it is written 0600 beside the config files that hold them too,
//! and its `Debug` redacts them. A hook that fails removes it: Juju discards the hook's
//! `relation-set`s, so what we mirrored never happened. docs/ha-protocol.md "Hook cost".

use crate::juju::{Bag, Context, HookToolError, HookTools, NetworkInfo, SecretRef, StatusKind};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Bumped whenever [`Snapshot`]'s meaning changes; an older file is then read fresh.
pub const FORMAT: u32 = 1;

/// How old (seconds) a snapshot's answers may be and still be replayed: past this, an
/// update-status asks everything again, so a fact Juju changed without running a hook here is
/// picked up within this bound.
pub const REFRESH_AFTER: u64 = 30 * 60;

/// The config option that turns the update-status replay off (`false`: every hook asks fresh).
pub const CACHE_OPTION: &str = "update-status-cache";

/// File name inside the storage's `etc/` directory.
pub const FILE_NAME: &str = "juju-snapshot.json";

/// The remembered answers of one unit's hook tools.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// [`FORMAT`] when written; a mismatch makes the file unusable.
    pub format: u32,
    /// The charm build that wrote it ([`build_id`]): an upgraded charm may read differently.
    pub build: String,
    /// The unit it belongs to (a copied storage must not lend another unit its view).
    pub unit: String,
    /// `is-leader` when written; a change means leadership moved and everything is read fresh.
    pub leader: Option<bool>,
    /// When its answers were last all asked fresh (Unix seconds; 0 in files from before this
    /// field, which are therefore refreshed once).
    #[serde(default)]
    pub recorded_at: u64,
    /// `relation-ids`, by endpoint.
    pub relation_ids: BTreeMap<String, Vec<String>>,
    /// `relation-list`, by relation id.
    pub relation_lists: BTreeMap<String, Vec<String>>,
    /// Unit bags, by `relation id` + `\n` + unit.
    pub unit_bags: BTreeMap<String, Bag>,
    /// App bags, by `relation id` + `\n` + application.
    pub app_bags: BTreeMap<String, Bag>,
    /// `config-get`.
    pub config: Option<Map<String, Value>>,
    /// `network-get`, by binding.
    pub networks: BTreeMap<String, NetworkInfo>,
    /// `secret-get` answers (the passwords), by `id:`/`label:` + reference; `None` = no secret.
    pub secrets: BTreeMap<String, Option<Bag>>,
    /// The unit status this unit last set.
    pub unit_status: Option<(StatusKind, String)>,
    /// The application status this unit last set (as leader).
    pub app_status: Option<(StatusKind, String)>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("format", &self.format)
            .field("build", &self.build)
            .field("unit", &self.unit)
            .field("leader", &self.leader)
            .field("relation_lists", &self.relation_lists)
            .field("secrets", &format_args!("<{} redacted>", self.secrets.len()))
            .field("unit_status", &self.unit_status)
            .finish_non_exhaustive()
    }
}

/// Identity of the running charm build: crate version plus the binary's size and mtime, which
/// change with every upgrade-charm that brings a new `dispatch`.
pub fn build_id() -> String {
    let exe = std::env::current_exe().ok().and_then(|p| std::fs::metadata(p).ok());
    let (len, mtime) = exe
        .map(|m| {
            let t = m.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
            (m.len(), t.map(|d| d.as_nanos()).unwrap_or(0))
        })
        .unwrap_or((0, 0));
    format!("{}:{len}:{mtime}", env!("CARGO_PKG_VERSION"))
}

impl Snapshot {
    /// An empty snapshot for `unit` of this build, recorded now.
    pub fn empty(unit: &str) -> Snapshot {
        Snapshot {
            format: FORMAT,
            build: build_id(),
            unit: unit.to_string(),
            recorded_at: crate::observe::unix_now(),
            ..Default::default()
        }
    }

    /// The snapshot at `path`, if it exists, parses and belongs to `unit` and this build.
    pub fn load(path: &Path, unit: &str) -> Option<Snapshot> {
        let text = std::fs::read_to_string(path).ok()?;
        let snap: Snapshot = serde_json::from_str(&text).ok()?;
        (snap.format == FORMAT && snap.unit == unit && snap.build == build_id()).then_some(snap)
    }

    /// Writes it atomically with mode 0600 (it holds the passwords).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string(self).map_err(std::io::Error::other)?;
        crate::workload::write_file(path, &text, 0o600).map(|_| ()).map_err(std::io::Error::other)
    }
}

/// Where the snapshot lives for a unit whose storage is at `storage`.
pub fn path_in(storage: &Path) -> PathBuf {
    crate::workload::Paths::new(storage.to_path_buf()).state_dir().join(FILE_NAME)
}

/// This unit's snapshot file, once the storage location is known (no hook tool asked).
pub fn path_for(ctx: &Context) -> Option<PathBuf> {
    crate::observe::known_storage(ctx).map(|s| path_in(&s))
}

/// Whether `snap` may serve an update-status at `now` (Unix seconds): the operator left the
/// cache on (the option as the snapshot's own `config-get` answer has it: a change of it runs
/// config-changed, which records afresh) and its answers are younger than [`REFRESH_AFTER`] (a
/// clock that went backwards counts as stale).
pub fn replayable(snap: &Snapshot, now: u64) -> bool {
    let enabled = match snap.config.as_ref().and_then(|c| c.get(CACHE_OPTION)) {
        Some(Value::Bool(on)) => *on,
        Some(Value::String(s)) => s.trim() != "false",
        _ => true,
    };
    enabled && snap.recorded_at <= now && now - snap.recorded_at < REFRESH_AFTER
}

/// Opens the snapshot layer for one invocation: replay for an update-status that finds a
/// [`replayable`] snapshot and the leadership it was written under; record otherwise.
pub fn open<'a>(ctx: &Context, update_status: bool, inner: &'a dyn HookTools) -> SnapshotTools<'a> {
    let previous = path_for(ctx).and_then(|p| Snapshot::load(&p, &ctx.unit));
    let (unit, app) = (ctx.unit.as_str(), ctx.app.as_str());
    let now = crate::observe::unix_now();
    match previous {
        Some(snap) if update_status && replayable(&snap, now) => match inner.is_leader() {
            Ok(l) if snap.leader == Some(l) => SnapshotTools::replay(inner, unit, app, snap, l),
            asked => {
                let fresh = SnapshotTools::record(inner, unit, app, Some(snap));
                fresh.leader.set(asked.ok());
                fresh
            }
        },
        previous => SnapshotTools::record(inner, unit, app, previous),
    }
}

fn key(a: &str, b: &str) -> String {
    format!("{a}\n{b}")
}

fn secret_key(r: &SecretRef) -> String {
    match r {
        SecretRef::Id(id) => format!("id:{}", id.strip_prefix("secret:").unwrap_or(id)),
        SecretRef::Label(l) => format!("label:{l}"),
    }
}

/// Hook tools that record or replay the Juju view (see the module docs).
pub struct SnapshotTools<'a> {
    /// The real tools.
    inner: &'a dyn HookTools,
    /// This unit and its application, to mirror own `relation-set`s.
    unit: String,
    /// The application name.
    app: String,
    /// Serve reads from [`Self::snap`] (update-status) rather than asking.
    replay: bool,
    /// What is known; saved at the end of a successful invocation.
    snap: RefCell<Snapshot>,
    /// `is-leader`, once asked in this invocation.
    leader: Cell<Option<bool>>,
    /// Something was learnt or changed that the file does not have yet.
    changed: Cell<bool>,
    /// `status-set` calls skipped because nothing changed (for tests and logs).
    skipped: Cell<u32>,
}

impl<'a> SnapshotTools<'a> {
    /// Records every read from scratch, keeping only the last statuses from `previous`.
    pub fn record(inner: &'a dyn HookTools, unit: &str, app: &str, previous: Option<Snapshot>) -> Self {
        let mut snap = Snapshot::empty(unit);
        if let Some(p) = previous {
            (snap.unit_status, snap.app_status) = (p.unit_status, p.app_status);
        }
        Self::new(inner, unit, app, false, snap)
    }

    /// Serves reads from `snap`. The caller checked that leadership did not move (`leader`).
    pub fn replay(inner: &'a dyn HookTools, unit: &str, app: &str, snap: Snapshot, leader: bool) -> Self {
        let me = Self::new(inner, unit, app, true, snap);
        me.leader.set(Some(leader));
        me
    }

    fn new(inner: &'a dyn HookTools, unit: &str, app: &str, replay: bool, snap: Snapshot) -> Self {
        SnapshotTools {
            inner,
            unit: unit.to_string(),
            app: app.to_string(),
            replay,
            snap: RefCell::new(snap),
            leader: Cell::new(None),
            changed: Cell::new(!replay),
            skipped: Cell::new(0),
        }
    }

    /// True when reads are served from the snapshot.
    pub fn replaying(&self) -> bool {
        self.replay
    }

    /// How many `status-set` calls were skipped as unchanged.
    pub fn skipped_status_sets(&self) -> u32 {
        self.skipped.get()
    }

    /// The snapshot as it stands (what [`Self::finish`] would save).
    pub fn snapshot(&self) -> Snapshot {
        self.snap.borrow().clone()
    }

    /// Ends the invocation: saves the snapshot to `path` when the hook succeeded and something
    /// changed; removes it when the hook failed (Juju drops the hook's relation writes).
    /// Best effort: without a file the next update-status simply reads fresh.
    pub fn finish(&self, ctx: &Context, succeeded: bool) {
        let Some(path) = path_for(ctx) else { return };
        let path = path.as_path();
        if !succeeded {
            let _ = std::fs::remove_file(path);
            return;
        }
        if !self.changed.get() || !path.parent().is_some_and(Path::is_dir) {
            return;
        }
        let mut snap = self.snap.borrow_mut();
        snap.leader = self.leader.get().or(snap.leader);
        if let Err(e) = snap.save(path) {
            tracing::debug!("cannot save the Juju snapshot: {e}");
        }
    }

    /// Serves a read from the snapshot when it holds the answer, else asks and remembers it. In
    /// record mode the snapshot holds only what this invocation asked (and its own writes,
    /// mirrored): a second reconcile pass in the same hook sees the Juju view of its first, with
    /// the hook's own `relation-set`s — as Juju's hook context does, which reads each relation's
    /// settings once per hook and shows the unit its own pending changes.
    fn cached<T: Clone>(
        &self,
        get: impl Fn(&Snapshot) -> Option<T>,
        ask: impl FnOnce() -> Result<T, HookToolError>,
        put: impl FnOnce(&mut Snapshot, T),
    ) -> Result<T, HookToolError> {
        if let Some(v) = get(&self.snap.borrow()) {
            return Ok(v);
        }
        let v = ask()?;
        put(&mut self.snap.borrow_mut(), v.clone());
        self.changed.set(true);
        Ok(v)
    }
}

#[path = "snapshot_tools.rs"]
mod tools_impl;

#[cfg(test)]
#[path = "snapshot_tests.rs"]
mod tests;

//! The model directory on disk and safe access to its state file.
//!
//! Layout of a model directory (`<home>/models/<name>/`):
//! - `state.json` — the [`ModelState`], replaced atomically (write to a temporary file, rename);
//! - `state.lock` — the lock file: readers take a shared lock, writers an exclusive one for the
//!   whole read-modify-write, so CLI calls, the agent and hook tools never lose each other's updates;
//! - `contexts/<context-id>.json` — held-back changes of a running hook ([`PendingChanges`]);
//! - `tools/` — the hook-tool links (every tool name → the `jujuc` binary);
//! - `units/<app>-<n>/` — each unit's "machine": `charm/`, `storage/<name>-<id>/`, `logs/`;
//! - `resources/` — copies of attached resources;
//! - `log` — the model's debug log (what `juju-local debug-log` prints);
//! - `agent.pid` — pid of the model's agent while it runs.

use crate::state::{ModelState, PendingChanges, STATE_FORMAT};
use fs2::FileExt;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Errors from reading or writing the model directory.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No state file: the model was never created or has been destroyed.
    #[error("model not found at {0} (deploy something first, or check JUJU_LOCAL_HOME and -m)")]
    NoModel(PathBuf),
    /// The state file exists but cannot be parsed; it is left untouched for inspection.
    #[error("model state {path} is corrupt ({source}); it was left untouched: fix or remove it")]
    Corrupt {
        /// The state file.
        path: PathBuf,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// The state file was written by an incompatible version.
    #[error("model state {path} has format {found}, this juju-local reads format {expected}")]
    Format {
        /// The state file.
        path: PathBuf,
        /// Format found.
        found: u32,
        /// Format this build reads.
        expected: u32,
    },
    /// A filesystem operation failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// On which path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// Shorthand for results in this module.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StoreError {
    let path = path.to_path_buf();
    move |source| StoreError::Io { what, path, source }
}

/// Handle on one model directory.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// A handle on an existing model; fails with [`StoreError::NoModel`] if there is none.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self> {
        let store = Store { dir: dir.into() };
        if !store.state_path().exists() {
            return Err(StoreError::NoModel(store.dir));
        }
        Ok(store)
    }

    /// Creates the model directory and writes the initial state; fails if a model already exists.
    pub fn create(dir: impl Into<PathBuf>, mut state: ModelState) -> Result<Self> {
        let store = Store { dir: dir.into() };
        for sub in ["contexts", "tools", "units", "resources"] {
            let path = store.dir.join(sub);
            fs::create_dir_all(&path).map_err(io("cannot create", &path))?;
        }
        let _lock = store.lock(true)?;
        if store.state_path().exists() {
            return Ok(store);
        }
        state.format = STATE_FORMAT;
        store.write(&state)?;
        Ok(store)
    }

    /// The model directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of the state file.
    pub fn state_path(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    /// Path of the held-back changes of hook context `context_id`.
    pub fn pending_path(&self, context_id: &str) -> PathBuf {
        self.dir.join("contexts").join(format!("{context_id}.json"))
    }

    /// Directory holding the hook-tool links.
    pub fn tools_dir(&self) -> PathBuf {
        self.dir.join("tools")
    }

    /// A unit's machine directory (`valkey/0` → `units/valkey-0`).
    pub fn unit_dir(&self, unit: &str) -> PathBuf {
        self.dir.join("units").join(unit.replace('/', "-"))
    }

    /// The model's debug log.
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("log")
    }

    /// Reads the state under a shared lock.
    pub fn read(&self) -> Result<ModelState> {
        let _lock = self.lock(false)?;
        self.load()
    }

    /// Runs `f` on the state under an exclusive lock and saves the result if `f` succeeds.
    /// If `f` fails, nothing is written.
    pub fn update<T, E>(
        &self,
        f: impl FnOnce(&mut ModelState) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E>
    where
        E: From<StoreError>,
    {
        let _lock = self.lock(true)?;
        let mut state = self.load()?;
        let before = state.clone();
        let out = f(&mut state)?;
        if state != before {
            self.write(&state)?;
        }
        Ok(out)
    }

    /// Reads the held-back changes of a hook context (empty if none were made yet).
    pub fn read_pending(&self, context_id: &str, unit: &str) -> Result<PendingChanges> {
        let path = self.pending_path(context_id);
        match fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|source| StoreError::Corrupt { path, source })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(PendingChanges { unit: unit.to_string(), ..PendingChanges::default() })
            }
            Err(e) => Err(io("cannot read", &path)(e)),
        }
    }

    /// Writes the held-back changes of a hook context (atomically).
    pub fn write_pending(&self, context_id: &str, pending: &PendingChanges) -> Result<()> {
        let path = self.pending_path(context_id);
        let bytes = serde_json::to_vec_pretty(pending).expect("pending changes serialise");
        write_private(&path, &bytes)
    }

    /// Reads the state and a hook context's held-back changes together under a shared lock, so a
    /// hook tool sees one consistent picture (the agent commits pending files under the same lock).
    pub fn read_with_pending(&self, context_id: &str, unit: &str) -> Result<(ModelState, PendingChanges)> {
        let _lock = self.lock(false)?;
        Ok((self.load()?, self.read_pending(context_id, unit)?))
    }

    /// Runs `f` on the state (read-only) and a hook context's held-back changes under the exclusive
    /// lock, and saves the changes if `f` succeeds and changed them. Hook tools that hold changes
    /// back (relation-set, state-set, ...) use this so two tools of one hook never lose a write.
    pub fn update_pending<T, E>(
        &self,
        context_id: &str,
        unit: &str,
        f: impl FnOnce(&ModelState, &mut PendingChanges) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E>
    where
        E: From<StoreError>,
    {
        let _lock = self.lock(true)?;
        let state = self.load()?;
        let mut pending = self.read_pending(context_id, unit)?;
        let before = pending.clone();
        let out = f(&state, &mut pending)?;
        if pending != before {
            self.write_pending(context_id, &pending)?;
        }
        Ok(out)
    }

    /// Takes the model lock (shared or exclusive) until the returned file is dropped.
    pub fn lock(&self, exclusive: bool) -> Result<File> {
        let path = self.dir.join("state.lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io("cannot open", &path))?;
        // Through the fs2 trait explicitly: std has same-named inherent methods only since Rust 1.89.
        let locked = if exclusive { FileExt::lock_exclusive(&file) } else { FileExt::lock_shared(&file) };
        locked.map_err(io("cannot lock", &path))?;
        Ok(file)
    }

    fn load(&self) -> Result<ModelState> {
        let path = self.state_path();
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::NoModel(self.dir.clone()))
            }
            Err(e) => return Err(io("cannot read", &path)(e)),
        };
        let state: ModelState = serde_json::from_slice(&bytes)
            .map_err(|source| StoreError::Corrupt { path: path.clone(), source })?;
        if state.format != STATE_FORMAT {
            return Err(StoreError::Format { path, found: state.format, expected: STATE_FORMAT });
        }
        Ok(state)
    }

    fn write(&self, state: &ModelState) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(state).expect("model state serialises");
        write_private(&self.state_path(), &bytes)
    }
}

/// Writes `bytes` to a temporary file beside `path`, syncs it and renames it over `path`.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    write_with_mode(path, bytes, 0o644)
}

/// [`write_atomically`] for files that hold secret contents (the state, held-back changes):
/// readable and writable by the owner only (0600) from the moment the file exists.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    write_with_mode(path, bytes, 0o600)
}

fn write_with_mode(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    // A leftover of a crashed writer with this pid would keep its old mode: start afresh.
    let _ = fs::remove_file(&tmp);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)
        .map_err(io("cannot create", &tmp))?;
    file.write_all(bytes).map_err(io("cannot write", &tmp))?;
    file.sync_data().map_err(io("cannot sync", &tmp))?;
    fs::rename(&tmp, path).map_err(io("cannot rename onto", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_is_saved_and_failed_update_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            Store::create(dir.path().join("m"), ModelState { name: "m".into(), ..Default::default() })
                .unwrap();
        store
            .update(|s| {
                s.uuid = "u1".into();
                Ok::<_, StoreError>(())
            })
            .unwrap();
        let failed: std::result::Result<(), StoreError> = store.update(|s| {
            s.uuid = "u2".into();
            Err(StoreError::NoModel("x".into()))
        });
        assert!(failed.is_err());
        assert_eq!(store.read().unwrap().uuid, "u1");
    }

    #[test]
    fn corrupt_and_missing_state_give_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(Store::open(dir.path()), Err(StoreError::NoModel(_))));
        let store = Store::create(dir.path().join("m"), ModelState::default()).unwrap();
        fs::write(store.state_path(), b"{not json").unwrap();
        let err = store.read().unwrap_err();
        assert!(err.to_string().contains("corrupt"), "{err}");
        assert_eq!(fs::read(store.state_path()).unwrap(), b"{not json");
    }
}

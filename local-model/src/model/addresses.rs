//! The machine-wide registry of loopback blocks: each model owns one `127.0.K.0/24` so parallel
//! models (test runs, a demo) never hand out the same unit address.
//!
//! The registry is `/tmp/juju-local-$UID/blocks.json` (K → model dir), read and written under an
//! exclusive `fs2` lock. The location is fixed: it must not follow `$TMPDIR`, or two callers
//! with different `TMPDIR`s would keep two registries and hand out the same block. An entry
//! whose model dir no longer holds a `state.json` is stale (the model was destroyed or never
//! finished being created) and is reclaimed.

use super::ModelError;
use fs2::FileExt;
use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};

/// The registry file's content: block octet K → the model directory that owns it.
pub type Blocks = BTreeMap<u8, PathBuf>;

/// Lowest and highest K handed out (127.0.0.x is left to everything else on the machine).
const FIRST: u8 = 1;
const LAST: u8 = 254;

/// Directory of the registry: one per user (so users never fight over permissions), at one
/// fixed place whatever the caller's environment.
pub fn registry_dir() -> PathBuf {
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    PathBuf::from(format!("/tmp/juju-local-{uid}"))
}

/// Creates the registry directory (0700) or checks the existing one is this user's own: `/tmp`
/// is shared, and a directory someone else made there must not be trusted.
fn ensure_private_dir(dir: &Path) -> Result<(), ModelError> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(ModelError::io(format!("cannot create {}", dir.display()))(e)),
    }
    let meta = fs::symlink_metadata(dir).map_err(ModelError::io(format!("cannot read {}", dir.display())))?;
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    if !meta.is_dir() || meta.uid() != uid {
        return Err(ModelError::Usage(format!(
            "{} is not a directory of uid {uid}: remove it so juju-local can keep its address registry there",
            dir.display()
        )));
    }
    Ok(())
}

/// Picks the lowest free K after dropping stale entries (pure; `is_live` says whether an owner
/// still exists).
pub fn pick_block(blocks: &mut Blocks, dir: &Path, is_live: impl Fn(&Path) -> bool) -> Option<u8> {
    blocks.retain(|_, owner| owner != dir && is_live(owner));
    (FIRST..=LAST).find(|k| !blocks.contains_key(k))
}

/// Runs `f` with the registry loaded, under its lock, and saves what `f` leaves in it if `f`
/// succeeds. The lock is held across `f`, so a model can be created before anyone else looks.
pub fn with_registry<T>(f: impl FnOnce(&mut Blocks) -> Result<T, ModelError>) -> Result<T, ModelError> {
    let dir = registry_dir();
    ensure_private_dir(&dir)?;
    let lock_path = dir.join("blocks.lock");
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(ModelError::io(format!("cannot open {}", lock_path.display())))?;
    lock.lock_exclusive().map_err(ModelError::io(format!("cannot lock {}", lock_path.display())))?;
    let path = dir.join("blocks.json");
    let mut blocks: Blocks = match fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
        Err(_) => Blocks::new(),
    };
    let out = f(&mut blocks)?;
    let bytes = serde_json::to_vec_pretty(&blocks).expect("blocks serialise");
    crate::store::write_atomically(&path, &bytes)?;
    Ok(out)
}

/// Releases the block of the model at `dir`, if it holds one.
pub fn release(dir: &Path) -> Result<(), ModelError> {
    with_registry(|blocks| {
        blocks.retain(|_, owner| owner != dir);
        Ok(())
    })
}

/// Whether a model directory still holds a model, or processes of a model whose directory was
/// deleted under it are still running from there (their addresses are still bound, so the block
/// must not be handed out yet; the model's agent is stopping them).
pub fn model_exists(dir: &Path) -> bool {
    dir.join("state.json").exists() || crate::model::processes::any_under(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_lowest_free_block_and_reclaims_stale_ones() {
        let mut blocks = Blocks::new();
        blocks.insert(1, "/live".into());
        blocks.insert(2, "/gone".into());
        let k = pick_block(&mut blocks, Path::new("/new"), |p| p == Path::new("/live"));
        assert_eq!(k, Some(2));
        assert!(!blocks.contains_key(&2));
    }
}

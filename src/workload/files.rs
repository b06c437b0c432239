//! Writing configuration files safely: atomically (a reader never sees half a file), with the
//! right mode from the first byte (a password hash is never world-readable, not even briefly), and
//! only when the content changed (so callers know whether a restart or reload is due).

use super::WorkloadError;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Wraps an I/O error with what was done to which path.
pub(crate) fn io_err<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> WorkloadError + 'a {
    move |source| WorkloadError::Io { action, path: path.to_path_buf(), source }
}

/// Creates `dir` and its parents with mode 0700 (existing directories are tightened to 0700).
pub fn create_private_dir(dir: &Path) -> Result<(), WorkloadError> {
    create_dir_mode(dir, 0o700)
}

/// Creates `dir` and its parents with `mode` (an existing `dir` gets exactly `mode`); a new `dir`
/// belongs to whoever owns its parent ([`inherit_owner`]).
pub fn create_dir_mode(dir: &Path, mode: u32) -> Result<(), WorkloadError> {
    let existed = dir.is_dir();
    fs::DirBuilder::new().recursive(true).mode(mode).create(dir).map_err(io_err("create directory", dir))?;
    if !existed {
        inherit_owner(dir)?;
    }
    fs::set_permissions(dir, fs::Permissions::from_mode(mode)).map_err(io_err("chmod", dir))
}

/// Gives `path` to the owner of its directory when that is not the caller. *Why:* under systemd the
/// services run as the service user (`super::user`), which owns their directories; a file the
/// charm (root) writes there — valkey.conf, a script Sentinel runs — must be the service user's,
/// or the service could not read it or rewrite it (`CONFIG REWRITE`). Without root the chown is
/// neither possible nor needed (everything is the caller's).
fn inherit_owner(path: &Path) -> Result<(), WorkloadError> {
    use std::os::unix::fs::MetadataExt;
    let Some(dir) = path.parent() else { return Ok(()) };
    let (Ok(d), Ok(f)) = (fs::metadata(dir), fs::symlink_metadata(path)) else { return Ok(()) };
    if (d.uid(), d.gid()) == (f.uid(), f.gid()) {
        return Ok(());
    }
    std::os::unix::fs::lchown(path, Some(d.uid()), Some(d.gid())).map_err(io_err("chown", path))
}

/// Writes `contents` to `path` with `mode`, atomically (temp file + rename in the same
/// directory), only if the content or mode differ. Returns whether anything changed.
pub fn write_file(path: &Path, contents: &str, mode: u32) -> Result<bool, WorkloadError> {
    if let Ok(meta) = fs::metadata(path) {
        if meta.permissions().mode() & 0o7777 == mode {
            if let Ok(existing) = fs::read(path) {
                if existing == contents.as_bytes() {
                    return Ok(false);
                }
            }
        }
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    // The directory may belong to the service user (`super::user`): a link planted under the temp
    // name must not make root write through it, so the temp file is created new (`O_EXCL` follows
    // no link) after whatever had its name is gone.
    let _ = fs::remove_file(&tmp);
    let result = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)
            .map_err(io_err("create", &tmp))?;
        // The umask may have narrowed the mode given to open(); set it exactly.
        f.set_permissions(fs::Permissions::from_mode(mode)).map_err(io_err("chmod", &tmp))?;
        inherit_owner(&tmp)?;
        f.write_all(contents.as_bytes()).map_err(io_err("write", &tmp))?;
        f.sync_all().map_err(io_err("sync", &tmp))?;
        fs::rename(&tmp, path).map_err(io_err("rename into", path))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map(|()| true)
}

/// [`write_file`] with mode 0600: configuration holding password hashes or passwords.
pub fn write_private(path: &Path, contents: &str) -> Result<bool, WorkloadError> {
    write_file(path, contents, 0o600)
}

/// Narrows an existing file to 0600 if anyone but its owner may read it; returns whether it did.
/// *Why:* Valkey and Sentinel rewrite their config files (`CONFIG REWRITE`, Sentinel's state) with
/// mode `0644 & ~umask`; a server started without the supervisor's 0077 umask (an older
/// supervisor, a unit file without `UMask=`) leaves them world-readable, hashes included.
pub fn keep_private(path: &Path) -> Result<bool, WorkloadError> {
    let Ok(meta) = fs::metadata(path) else { return Ok(false) };
    if meta.permissions().mode() & 0o077 == 0 {
        return Ok(false);
    }
    fs::set_permissions(path, fs::Permissions::from_mode(0o600)).map_err(io_err("chmod", path))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loosened_files_are_narrowed_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("valkey.conf");
        assert!(!keep_private(&path).unwrap(), "a missing file is left alone");
        write_private(&path, "port 6379\n").unwrap();
        assert!(!keep_private(&path).unwrap());
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(keep_private(&path).unwrap());
        assert_eq!(mode(&path), 0o600);
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn writes_only_when_different_and_keeps_mode_0600() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("valkey.conf");
        assert!(write_private(&path, "port 6379\n").unwrap(), "first write changes");
        assert_eq!(fs::read_to_string(&path).unwrap(), "port 6379\n");
        assert_eq!(mode(&path), 0o600);
        assert!(!write_private(&path, "port 6379\n").unwrap(), "same content is not rewritten");
        assert!(write_private(&path, "port 6380\n").unwrap());
        assert_eq!(fs::read_to_string(&path).unwrap(), "port 6380\n");
        let leftovers: Vec<_> = fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(leftovers.len(), 1, "no temp files left: {leftovers:?}");
    }

    #[test]
    fn a_mode_change_alone_rewrites() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("script.sh");
        fs::write(&path, "#!/bin/sh\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(write_file(&path, "#!/bin/sh\n", 0o700).unwrap());
        assert_eq!(mode(&path), 0o700);
    }

    #[test]
    fn a_link_planted_under_the_temp_name_is_not_written_through() {
        let tmp = tempfile::tempdir().unwrap();
        let victim = tmp.path().join("victim");
        fs::write(&victim, "untouched").unwrap();
        let path = tmp.path().join("valkey.conf");
        let planted = tmp.path().join(format!(".valkey.conf.tmp-{}", std::process::id()));
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        assert!(write_private(&path, "port 1\n").unwrap());
        assert_eq!(fs::read_to_string(&victim).unwrap(), "untouched");
        assert_eq!(fs::read_to_string(&path).unwrap(), "port 1\n");
    }

    #[test]
    fn missing_directory_is_a_clear_error() {
        let err = write_private(Path::new("/nonexistent-dir-for-test/x.conf"), "x").unwrap_err();
        assert!(err.to_string().contains("/nonexistent-dir-for-test"), "{err}");
    }
}

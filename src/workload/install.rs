//! Getting a Valkey binary onto the unit: the attached `valkey-server` resource when there is one
//! (a known, pinned build), else the base's `valkey-server` package ([`super::apt`]). A base
//! without that package (Ubuntu 24.04) blocks with the `juju attach-resource` command to run: the
//! charm never falls back to Redis from the archive on its own (another engine, another failover
//! path, other figures). Redis 7.0 still runs when the operator attaches its binary as the
//! resource. An apt lock held by another process is a hook error, which Juju retries.
//!
//! Either way the result is `bin_dir()/valkey-server` (a copy of the resource, or a link to the
//! package's binary) plus a `valkey-sentinel` link and a version file, so later hooks learn what is
//! installed from two small reads instead of running the binary.

use super::apt::{self, Packages};
use super::files::{io_err, write_file};
use super::{Paths, WorkloadError};
use crate::juju::HookTools;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The resource name in metadata.yaml.
pub const RESOURCE_NAME: &str = "valkey-server";
/// What to tell an operator when no binary can be found.
pub const NO_SOURCE_HINT: &str = "this base has no valkey-server package; attach a binary: \
     juju attach-resource valkey valkey-server=/path/to/valkey-server";
/// The packaged binary looked for on PATH (Redis from the archive is never picked up).
const PACKAGED: &str = "valkey-server";

/// An installed server binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    /// `bin_dir()/valkey-server`: run with a config file for a data node, plus `--sentinel` for
    /// a Sentinel.
    pub server: PathBuf,
    /// The engine version (`9.1.2`), for application-version-set and feature checks.
    pub version: String,
}

/// Where the version of the installed binary is recorded.
fn version_file(paths: &Paths) -> PathBuf {
    paths.bin_dir().join("valkey-server.version")
}

/// Parses `valkey-server --version` output (`Valkey server v=9.1.2 sha=... malloc=libc ...`,
/// `Redis server v=7.0.15 ...`) into the version.
pub fn parse_version(output: &str) -> Option<String> {
    output.split_whitespace().find_map(|w| w.strip_prefix("v=")).filter(|v| !v.is_empty()).map(str::to_string)
}

/// Runs `<server> --version` and returns the version (`9.1.2`).
// The workload seam: asks the installed server binary for its version.
#[allow(clippy::disallowed_methods)]
pub fn detect_version(server: &Path) -> Result<String, WorkloadError> {
    let verr = |detail: String| WorkloadError::Version { server: server.to_path_buf(), detail };
    let out = Command::new(server).arg("--version").output().map_err(|e| verr(e.to_string()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(verr(format!(
            "exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    parse_version(&text).ok_or_else(|| verr(format!("unexpected output {:?}", text.trim())))
}

/// What is installed, without running anything: `None` before [`install`] succeeded.
pub fn installed(paths: &Paths) -> Option<Installed> {
    let server = paths.bin_dir().join("valkey-server");
    if !server.exists() {
        return None;
    }
    let version = match fs::read_to_string(version_file(paths)) {
        Ok(v) if !v.trim().is_empty() => v.trim().to_string(),
        _ => detect_version(&server).ok()?,
    };
    Some(Installed { server, version })
}

/// Installs (or refreshes) the server binary: resource first, then a packaged `valkey-server` on
/// PATH (or in /usr/bin), then `apt-get install valkey-server`. Idempotent.
pub fn install(tools: &dyn HookTools, paths: &Paths) -> Result<Installed, WorkloadError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path).chain([PathBuf::from("/usr/bin")]).collect();
    let apt = apt::Apt::on_this_base();
    install_from(tools, paths, &dirs, apt.as_ref().map(|a| a as &dyn Packages))
}

/// [`install`] with the directories searched for a packaged binary, and the package manager to
/// use when none is found (`None`: none; tests pass a fake and never install packages).
pub fn install_from(
    tools: &dyn HookTools,
    paths: &Paths,
    search: &[PathBuf],
    packages: Option<&dyn Packages>,
) -> Result<Installed, WorkloadError> {
    super::files::create_dir_mode(&paths.bin_dir(), 0o755)?;
    let attached = tools.resource_get(RESOURCE_NAME)?.filter(|p| fs::metadata(p).is_ok_and(|m| m.len() > 0));
    let server = paths.bin_dir().join("valkey-server");
    match attached {
        Some(resource) => copy_binary(&resource, &server)?,
        None => {
            let packaged = match (find_packaged(search), packages) {
                (Some(found), _) => Some(found),
                (None, Some(apt)) => apt::install_package(apt)?,
                (None, None) => None,
            };
            let packaged =
                packaged.ok_or_else(|| WorkloadError::NoSource { hint: NO_SOURCE_HINT.to_string() })?;
            replace_link(&packaged, &server)?;
        }
    }
    replace_link(Path::new("valkey-server"), &paths.bin_dir().join("valkey-sentinel"))?;
    let version = detect_version(&server)?;
    write_file(&version_file(paths), &format!("{version}\n"), 0o644)?;
    Ok(Installed { server, version })
}

/// Copies `from` to `to` (mode 0755) through a temp file and a rename, unless identical.
fn copy_binary(from: &Path, to: &Path) -> Result<(), WorkloadError> {
    if let (Ok(a), Ok(b)) = (fs::read(from), fs::read(to)) {
        if a == b && !fs::symlink_metadata(to).is_ok_and(|m| m.file_type().is_symlink()) {
            return Ok(());
        }
    }
    let tmp = to.with_extension("tmp");
    fs::copy(from, &tmp).map_err(io_err("copy resource to", &tmp))?;
    fs::set_permissions(&tmp, fs::Permissions::from_mode(0o755)).map_err(io_err("chmod", &tmp))?;
    fs::rename(&tmp, to).map_err(io_err("rename into", to))
}

/// Points the symlink `link` at `target`, replacing whatever is there.
fn replace_link(target: &Path, link: &Path) -> Result<(), WorkloadError> {
    if fs::read_link(link).is_ok_and(|t| t == target) {
        return Ok(());
    }
    let tmp = link.with_extension("link-tmp");
    let _ = fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp).map_err(io_err("symlink", &tmp))?;
    fs::rename(&tmp, link).map_err(io_err("rename into", link))
}

/// The first packaged `valkey-server` in `dirs`.
fn find_packaged(dirs: &[PathBuf]) -> Option<PathBuf> {
    dirs.iter().map(|d| d.join(PACKAGED)).find(|p| p.is_file())
}

#[cfg(test)]
#[path = "install_tests.rs"]
mod tests;

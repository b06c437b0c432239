//! The service user (issue 15 item 7): under systemd, Valkey and Sentinel run as the unprivileged
//! system user [`SERVICE_USER`], so a flaw in either is not root on the machine.
//!
//! Whether there is one is decided by capability, never by where the charm runs: only a charm
//! running as root can create a user and have systemd switch to it ([`wanted`]); otherwise the
//! services run as the charm's own user and nothing here applies. The user is created on first
//! use with `useradd --system` semantics (no home, no login shell, its own group) and owns the
//! unit's data, config, run and log directories (0700) and everything in them; the storage root and
//! `bin/` stay root's, traversable (0711 / 0755) so the user reaches its directories and the binary
//! but cannot replace the binary the charm also runs.

use super::files::io_err;
use super::{Paths, WorkloadError};
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

/// The system user the services run as.
pub const SERVICE_USER: &str = "valkey";

/// A user account as `/etc/passwd` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Its name.
    pub name: String,
    /// Its uid.
    pub uid: u32,
    /// Its primary group's gid.
    pub gid: u32,
}

/// The service user's name when this process may switch the services to it (it runs as root);
/// `None`: not applicable, the services run as the charm's user.
// geteuid(2) through libc (SAFETY below).
#[allow(unsafe_code)]
pub fn wanted() -> Option<&'static str> {
    // SAFETY: geteuid(2) has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    root.then_some(SERVICE_USER)
}

/// Finds `name` in `passwd` (the text of `/etc/passwd`).
pub fn find_account(passwd: &str, name: &str) -> Option<Account> {
    passwd.lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        if f.len() < 4 || f[0] != name {
            return None;
        }
        Some(Account { name: name.to_string(), uid: f[2].parse().ok()?, gid: f[3].parse().ok()? })
    })
}

/// The account `name`, created as a system user (own group, no home, no login) when missing.
// The workload seam: useradd.
#[allow(clippy::disallowed_methods)]
pub fn ensure(name: &str) -> Result<Account, WorkloadError> {
    let passwd = Path::new("/etc/passwd");
    let read = || fs::read_to_string(passwd).map_err(io_err("read", passwd));
    if let Some(account) = find_account(&read()?, name) {
        return Ok(account);
    }
    let nologin = ["/usr/sbin/nologin", "/sbin/nologin", "/bin/false"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or("/bin/false");
    let args = [
        "--system",
        "--user-group",
        "--no-create-home",
        "--home-dir",
        "/nonexistent",
        "--shell",
        nologin,
        "--comment",
        "Valkey and Sentinel (Juju charm)",
        name,
    ];
    let command = || format!("useradd {}", args.join(" "));
    let out = Command::new("useradd")
        .args(args)
        .output()
        .map_err(|e| WorkloadError::Command { command: command(), detail: e.to_string() })?;
    // Another unit of the same machine may have created it meanwhile (exit 9: already exists).
    if let Some(account) = find_account(&read()?, name) {
        return Ok(account);
    }
    Err(WorkloadError::Command {
        command: command(),
        detail: format!("{}: {}", out.status, String::from_utf8_lossy(&out.stderr).trim()),
    })
}

/// Gives `account` the unit's writable directories and everything in them (without following
/// links), and makes the storage root and `bin/` traversable. Cheap when nothing changed: only
/// entries with another owner are changed.
pub fn adopt(paths: &Paths, account: &Account) -> Result<(), WorkloadError> {
    for (dir, mode) in [(paths.root(), 0o711), (&paths.bin_dir() as &Path, 0o755)] {
        if dir.is_dir() {
            fs::set_permissions(dir, fs::Permissions::from_mode(mode)).map_err(io_err("chmod", dir))?;
        }
    }
    for dir in [paths.data_dir(), paths.etc_dir(), paths.run_dir(), paths.log_dir()] {
        own_tree(&dir, account)?;
    }
    Ok(())
}

/// `chown -hR` of `path` to `account`, skipping what it already owns.
fn own_tree(path: &Path, account: &Account) -> Result<(), WorkloadError> {
    let Ok(meta) = fs::symlink_metadata(path) else { return Ok(()) };
    if meta.uid() != account.uid || meta.gid() != account.gid {
        std::os::unix::fs::lchown(path, Some(account.uid), Some(account.gid))
            .map_err(io_err("chown", path))?;
    }
    if meta.is_dir() {
        for entry in fs::read_dir(path).map_err(io_err("read directory", path))? {
            own_tree(&entry.map_err(io_err("read directory", path))?.path(), account)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_are_found_by_exact_name() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\nvalkeyx:x:5:5::/:/bin/false\nvalkey:x:998:997:V:/nonexistent:/usr/sbin/nologin\n";
        assert_eq!(
            find_account(passwd, "valkey"),
            Some(Account { name: "valkey".into(), uid: 998, gid: 997 })
        );
        assert_eq!(find_account(passwd, "valke"), None);
        assert_eq!(find_account("broken line\nvalkey:x:nan:1\n", "valkey"), None);
    }

    #[test]
    fn root_alone_has_a_service_user() {
        // SAFETY: see `wanted`.
        #[allow(unsafe_code)]
        let root = unsafe { libc::geteuid() } == 0;
        assert_eq!(wanted().is_some(), root);
    }

    #[test]
    fn adopting_hands_the_writable_dirs_over_and_opens_the_root_for_traversal() {
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths::new(tmp.path().join("unit"));
        paths.create_dirs().unwrap();
        fs::write(paths.valkey_conf(), "port 1\n").unwrap();
        // This process's own ids: chown to them works as any user.
        let me = fs::metadata(tmp.path()).unwrap();
        let account = Account { name: "me".into(), uid: me.uid(), gid: me.gid() };
        adopt(&paths, &account).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(paths.root()), 0o711);
        assert_eq!(mode(&paths.bin_dir()), 0o755);
        assert_eq!(mode(&paths.etc_dir()), 0o700, "writable dirs stay private");
        assert_eq!(fs::metadata(paths.valkey_conf()).unwrap().uid(), me.uid());
    }
}

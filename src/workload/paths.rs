//! Where a unit's workload files live: everything under the `data` storage, so a unit's state is
//! one directory (several local-model units share a host without colliding).

use std::path::{Path, PathBuf};

/// The charm's records that revisions before [`Paths::state_dir`] kept in `etc/`.
pub const STATE_FILES: [&str; 7] = [
    "applied-settings.json",
    "peer-addresses.json",
    "unit-hosts.json",
    "switchovers.jsonl",
    "juju-snapshot.json",
    "exporter.applied",
    "exporter-unavailable",
];

/// The layout under one root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// The unit's `data` storage location.
    pub root: PathBuf,
}

impl Paths {
    /// A layout rooted at `root` (the storage location).
    pub fn new(root: impl Into<PathBuf>) -> Paths {
        Paths { root: root.into() }
    }

    /// `root/db`: Valkey's `dir` (RDB and AOF files).
    pub fn data_dir(&self) -> PathBuf {
        self.root.join("db")
    }

    /// `root/etc`: rendered configuration (0600: it holds password hashes).
    pub fn etc_dir(&self) -> PathBuf {
        self.root.join("etc")
    }

    /// `root/etc/valkey.conf`.
    pub fn valkey_conf(&self) -> PathBuf {
        self.etc_dir().join("valkey.conf")
    }

    /// `root/etc/sentinel.conf`: Sentinel rewrites it as it learns; the charm renders it only when
    /// (re)starting Sentinel.
    pub fn sentinel_conf(&self) -> PathBuf {
        self.etc_dir().join("sentinel.conf")
    }

    /// `root/etc/client-reconfig.sh`: what Sentinel runs at `+switch-master`.
    pub fn reconfig_script(&self) -> PathBuf {
        self.etc_dir().join("client-reconfig.sh")
    }

    /// `root/etc/valkey-restarted.sh`: what Valkey's supervisor runs after a restart.
    pub fn restarted_script(&self) -> PathBuf {
        self.etc_dir().join("valkey-restarted.sh")
    }

    /// `root/etc/sentinel-notify.sh`: Sentinel's `notification-script` (a node, a Sentinel or a
    /// link went down or came back: the charm is asked to look).
    pub fn notify_script(&self) -> PathBuf {
        self.etc_dir().join("sentinel-notify.sh")
    }

    /// `root/etc/service-exited.sh`: what systemd runs after a service stopped (`ExecStopPost=`);
    /// an exit the charm did not ask for asks it to look.
    pub fn exited_script(&self) -> PathBuf {
        self.etc_dir().join("service-exited.sh")
    }

    /// `root/run/events`: the services' requests to the charm, one empty file per hook
    /// ([`super::relay`]).
    pub fn spool_dir(&self) -> PathBuf {
        self.run_dir().join("events")
    }

    /// `root/state`: the charm's own records (applied settings, addresses, unit names, switchover
    /// history, the update-status snapshot). Root's alone, unlike `etc/`, which the service user
    /// owns: a compromised server cannot alter what the charm remembers.
    pub fn state_dir(&self) -> PathBuf {
        self.root.join("state")
    }

    /// `root/run`: pid files.
    pub fn run_dir(&self) -> PathBuf {
        self.root.join("run")
    }

    /// `root/log`: Valkey's and Sentinel's log files and the supervisors' output.
    pub fn log_dir(&self) -> PathBuf {
        self.root.join("log")
    }

    /// `root/bin`: the installed `valkey-server` (copy of the resource, or a link to the apt binary).
    pub fn bin_dir(&self) -> PathBuf {
        self.root.join("bin")
    }

    /// `root/run/valkey.sock`: Valkey's local socket. *Why:* after the unit's address changed,
    /// Valkey still listens on the old one, which no longer exists; the charm reaches it here to
    /// move it (`CONFIG SET bind`) without a restart.
    pub fn valkey_socket(&self) -> PathBuf {
        self.run_dir().join("valkey.sock")
    }

    /// `root/run/valkey.pid`: written by valkey-server itself.
    pub fn valkey_pidfile(&self) -> PathBuf {
        self.run_dir().join("valkey.pid")
    }

    /// `root/run/sentinel.pid`: written by the Sentinel itself.
    pub fn sentinel_pidfile(&self) -> PathBuf {
        self.run_dir().join("sentinel.pid")
    }

    /// `root/log/valkey.log`.
    pub fn valkey_log(&self) -> PathBuf {
        self.log_dir().join("valkey.log")
    }

    /// `root/log/sentinel.log`.
    pub fn sentinel_log(&self) -> PathBuf {
        self.log_dir().join("sentinel.log")
    }

    /// Creates every directory of the layout (mode 0700: they hold credentials and data; `bin/`
    /// 0755).
    pub fn create_dirs(&self) -> Result<(), super::WorkloadError> {
        for dir in [self.data_dir(), self.etc_dir(), self.run_dir(), self.log_dir(), self.spool_dir()] {
            super::files::create_private_dir(&dir)?;
        }
        self.move_state()?;
        // Only the server binary: readable by the service user (`super::user`), writable by root.
        super::files::create_dir_mode(&self.bin_dir(), 0o755)
    }

    /// Whether the unit's files predate [`Paths::state_dir`] (a revision that kept the charm's
    /// records in `etc/`): [`Paths::move_state`] is due.
    pub fn state_to_move(&self) -> bool {
        self.etc_dir().is_dir() && !self.state_dir().is_dir()
    }

    /// Creates [`Paths::state_dir`] (0700, the charm's user) and moves the charm's records an
    /// older revision kept in `etc/` into it. Idempotent.
    pub fn move_state(&self) -> Result<(), super::WorkloadError> {
        let state = self.state_dir();
        super::files::create_private_dir(&state)?;
        for name in STATE_FILES {
            let (old, new) = (self.etc_dir().join(name), state.join(name));
            if old.exists() && !new.exists() {
                std::fs::rename(&old, &new).map_err(|source| super::WorkloadError::Io {
                    action: "move into state/",
                    path: old.clone(),
                    source,
                })?;
            }
        }
        Ok(())
    }

    /// The root, borrowed.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_under_root() {
        let p = Paths::new("/srv/v");
        assert_eq!(p.data_dir(), PathBuf::from("/srv/v/db"));
        assert_eq!(p.valkey_conf(), PathBuf::from("/srv/v/etc/valkey.conf"));
        assert_eq!(p.sentinel_conf(), PathBuf::from("/srv/v/etc/sentinel.conf"));
        assert_eq!(p.reconfig_script(), PathBuf::from("/srv/v/etc/client-reconfig.sh"));
        assert_eq!(p.run_dir(), PathBuf::from("/srv/v/run"));
        assert_eq!(p.log_dir(), PathBuf::from("/srv/v/log"));
        assert_eq!(p.bin_dir(), PathBuf::from("/srv/v/bin"));
    }

    #[test]
    fn create_dirs_makes_private_directories() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let p = Paths::new(tmp.path().join("unit"));
        p.create_dirs().unwrap();
        p.create_dirs().unwrap();
        for dir in [p.data_dir(), p.etc_dir(), p.run_dir(), p.log_dir(), p.spool_dir(), p.state_dir()] {
            let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700, "{}", dir.display());
        }
        let bin = std::fs::metadata(p.bin_dir()).unwrap().permissions().mode() & 0o777;
        assert_eq!(bin, 0o755, "the binary's directory: readable, root's");
        assert!(!p.state_to_move());
    }

    /// A unit upgraded from a revision that kept the charm's records in `etc/` (owned by the
    /// service user) gets them moved into `state/`; what is already there is never overwritten.
    #[test]
    fn records_an_older_revision_kept_in_etc_move_to_state() {
        let tmp = tempfile::tempdir().unwrap();
        let p = Paths::new(tmp.path().join("unit"));
        std::fs::create_dir_all(p.etc_dir()).unwrap();
        std::fs::write(p.etc_dir().join("applied-settings.json"), "{\"old\":1}").unwrap();
        std::fs::write(p.etc_dir().join("switchovers.jsonl"), "line\n").unwrap();
        std::fs::write(p.etc_dir().join("valkey.conf"), "port 6379\n").unwrap();
        assert!(p.state_to_move());
        p.move_state().unwrap();
        assert!(!p.state_to_move());
        let read = |name: &str| std::fs::read_to_string(p.state_dir().join(name)).unwrap();
        assert_eq!(read("applied-settings.json"), "{\"old\":1}");
        assert_eq!(read("switchovers.jsonl"), "line\n");
        assert!(!p.etc_dir().join("applied-settings.json").exists());
        assert!(p.etc_dir().join("valkey.conf").exists(), "the servers' files stay in etc/");
        // A record left behind in etc/ next to a newer one in state/: the newer one is kept.
        std::fs::write(p.etc_dir().join("unit-hosts.json"), "stale").unwrap();
        std::fs::write(p.state_dir().join("unit-hosts.json"), "fresh").unwrap();
        p.move_state().unwrap();
        assert_eq!(read("unit-hosts.json"), "fresh");
    }
}

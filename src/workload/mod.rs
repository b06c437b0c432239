//! The workload: where its files live, how they are rendered, how the binary is installed and how
//! the two services (Valkey and its Sentinel) are supervised.
//!
//! Rendering is pure ([`render`]); effects sit behind small APIs ([`files`], [`install`],
//! [`service`]) so the HA logic can be tested without servers.

pub mod apt;
pub mod bound;
pub mod detached;
pub mod direct;
pub mod exporter_package;
#[cfg(test)]
mod failover_tests;
pub mod files;
pub mod held;
pub mod install;
pub mod metrics_serve;
pub mod paths;
pub mod pidfile;
pub mod relay;
#[cfg(test)]
mod rename_live_tests;
pub mod render;
pub mod service;
pub mod sidecar;
pub mod supervise;
pub mod systemd;
#[cfg(test)]
pub(crate) mod test_support;
pub mod tuning;
pub mod user;

pub use bound::{read_bound, Bound};
pub use files::{write_file, write_private};
pub use held::{read_on_disk, OnDisk};
pub use install::{detect_version, install, installed, Installed};
pub use paths::Paths;
pub use render::{
    acl_hash, render_exited_script, render_notify_script, render_reconfig_script, render_restarted_script,
    render_sentinel_conf, render_valkey_conf, SentinelConf, ValkeyConf,
};
pub use service::{supervise_main, supervisor_for, Service, Supervisor};

use std::fmt;
use std::path::PathBuf;

/// The user the charm itself (and the operator, via get-password) uses: all commands, all keys.
pub const ADMIN_USER: &str = "charm-admin";
/// The user replicas authenticate as (`masteruser`): only what replication needs.
pub const REPLICATION_USER: &str = "replication";
/// The user Sentinels authenticate as, on data nodes and on each other.
pub const SENTINEL_USER: &str = "sentinel";
/// Arguments every Valkey start adds after its config file: the start-up fence. A Valkey that
/// starts from disk has lost its replication offset (an AOF load does not restore it, measured
/// with 9.1.2), so Sentinel — which picks the replica with the highest offset — could promote any
/// of them after a whole-deployment restart, even one that lagged behind. Starting at
/// `replica-priority 0` keeps every restarted node out of elections until the charm has seen it
/// resync from the current primary (`plan::Step::AllowPromotion`). On the command line, not in
/// valkey.conf, so Sentinel's `CONFIG REWRITE` cannot remove it from the next start.
pub const START_FENCE: [&str; 2] = ["--replica-priority", "0"];
/// Valkey's port on every unit (each unit has its own address).
pub const VALKEY_PORT: u16 = 6379;
/// Sentinel's port on every unit.
pub const SENTINEL_PORT: u16 = 26379;
/// The name Sentinel monitors the primary under; consumers of `valkey_client` assume `primary`.
pub const MONITOR_NAME: &str = "primary";

/// The three passwords the charm generates. `Debug` never shows them, so a stray `{:?}` in a log
/// line cannot leak a password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Password of [`ADMIN_USER`].
    pub admin: String,
    /// Password of [`REPLICATION_USER`].
    pub replication: String,
    /// Password of [`SENTINEL_USER`].
    pub sentinel: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("admin", &"<redacted>")
            .field("replication", &"<redacted>")
            .field("sentinel", &"<redacted>")
            .finish()
    }
}

/// What can go wrong on the workload side.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    /// A file could not be read or written.
    #[error("{action} {path}: {source}", path = path.display())]
    Io {
        /// What was being done ("write", "copy", "create directory").
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// No Valkey binary: no resource attached, none installed, none installable.
    #[error("no valkey-server found: {hint}")]
    NoSource {
        /// What the operator should do.
        hint: String,
    },
    /// The server binary's `--version` did not say which version it is.
    #[error("cannot tell the version of {server}: {detail}", server = server.display())]
    Version {
        /// The binary.
        server: PathBuf,
        /// What it printed or why it could not run.
        detail: String,
    },
    /// Another process (apt, unattended-upgrades) holds the package manager's lock: transient,
    /// the hook fails and Juju retries it.
    #[error(
        "the package manager is busy (another apt or unattended-upgrades holds its lock); retrying: {detail}"
    )]
    PackagesBusy {
        /// apt's own words.
        detail: String,
    },
    /// A command (apt-get, systemctl, the supervisor) failed.
    #[error("{command} failed: {detail}")]
    Command {
        /// The command line, without secrets.
        command: String,
        /// Exit status and stderr.
        detail: String,
    },
    /// A service did not reach the wanted state in time.
    #[error("{service} did not {what} within {seconds} s")]
    Timeout {
        /// Which service.
        service: String,
        /// "start" or "stop".
        what: &'static str,
        /// The bound that ran out.
        seconds: u64,
    },
    /// A hook tool failed while installing (resource-get).
    #[error(transparent)]
    HookTool(#[from] crate::juju::HookToolError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_debug_redacts() {
        let c = Credentials {
            admin: "a-secret".into(),
            replication: "r-secret".into(),
            sentinel: "s-secret".into(),
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("secret\""), "{shown}");
        assert!(!shown.contains("a-secret") && !shown.contains("r-secret") && !shown.contains("s-secret"));
        assert!(shown.contains("<redacted>"));
    }
}

//! The base's package manager, as the install step uses it: only the `valkey-server` package (a
//! base without it — Ubuntu 24.04 — gets no Valkey from the archive, and the charm does not fall
//! back to Redis on its own), and an honest reading of what apt said: a lock held by another apt
//! or unattended-upgrades is a reason to retry, a missing package a reason to ask for the resource.

use super::WorkloadError;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The archive package installed when no resource is attached.
pub const PACKAGE: &str = "valkey-server";

/// How long apt itself waits for a lock another apt holds before giving up (`DPkg::Lock::Timeout`).
pub const LOCK_WAIT_SECS: u32 = 30;

/// One run of apt: whether it exited 0, and its stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AptRun {
    /// Exit status 0.
    pub success: bool,
    /// What it printed on stderr (apt's `E:` lines).
    pub stderr: String,
}

/// What an apt run came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AptOutcome {
    /// It did what was asked.
    Done,
    /// The archive has no such package (or the lists do not know it yet).
    NoPackage,
    /// Another process holds apt's or dpkg's lock (unattended-upgrades on a fresh machine).
    Locked(String),
    /// Anything else (network, broken dpkg state): its `E:` lines.
    Failed(String),
}

/// Reads an apt run (pure; tested on apt's own messages).
pub fn classify(run: &AptRun) -> AptOutcome {
    if run.success {
        return AptOutcome::Done;
    }
    let errors: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("E:")).collect();
    let summary = if errors.is_empty() { run.stderr.trim().to_string() } else { errors.join(" ") };
    let has = |needle: &str| run.stderr.contains(needle);
    if has("Could not get lock") || has("Unable to acquire the dpkg frontend lock") || has("Unable to lock") {
        AptOutcome::Locked(summary)
    } else if has("Unable to locate package") || has("has no installation candidate") {
        AptOutcome::NoPackage
    } else {
        AptOutcome::Failed(summary)
    }
}

/// The package manager, behind a trait so the install decisions are tested without apt.
pub trait Packages {
    /// `apt-get install -y <package>`.
    fn install(&self, package: &str) -> AptRun;
    /// `apt-get update`.
    fn update(&self) -> AptRun;
    /// Where the package puts its server binary.
    fn binary(&self) -> PathBuf;
    /// Stops and disables the service the package enabled (it would hold port 6379).
    fn disable_service(&self, package: &str);
}

/// The real apt of a Debian or Ubuntu base.
#[derive(Debug, Clone, Copy, Default)]
pub struct Apt;

impl Apt {
    /// The base's apt, if it has one.
    pub fn on_this_base() -> Option<Apt> {
        Path::new("/usr/bin/apt-get").exists().then_some(Apt)
    }

    // The workload seam: the package manager.
    #[allow(clippy::disallowed_methods)]
    fn apt_get(args: &[&str]) -> AptRun {
        let lock_wait = format!("DPkg::Lock::Timeout={LOCK_WAIT_SECS}");
        let out = Command::new("apt-get")
            .args(["-q", "-o", &lock_wait])
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .output();
        match out {
            Ok(o) => {
                AptRun { success: o.status.success(), stderr: String::from_utf8_lossy(&o.stderr).into() }
            }
            Err(e) => AptRun { success: false, stderr: format!("E: cannot run apt-get: {e}") },
        }
    }
}

impl Packages for Apt {
    fn install(&self, package: &str) -> AptRun {
        Apt::apt_get(&["install", "-y", "--no-install-recommends", package])
    }

    fn update(&self) -> AptRun {
        Apt::apt_get(&["update"])
    }

    fn binary(&self) -> PathBuf {
        PathBuf::from("/usr/bin/valkey-server")
    }

    // The workload seam: the packaged unit.
    #[allow(clippy::disallowed_methods)]
    fn disable_service(&self, package: &str) {
        if Path::new("/run/systemd/system").exists() {
            let _ = Command::new("systemctl").args(["disable", "--now", package]).output();
        }
    }
}

/// Installs [`PACKAGE`]: `Ok(Some(binary))` when installed, `Ok(None)` when the archive has no
/// such package (even after one `apt-get update`), and an error — which the hook's error policy
/// retries — when apt is locked or fails otherwise.
pub fn install_package(apt: &dyn Packages) -> Result<Option<PathBuf>, WorkloadError> {
    let mut outcome = classify(&apt.install(PACKAGE));
    if outcome == AptOutcome::NoPackage {
        // Stale or missing package lists on a fresh machine: refresh once and try again.
        match classify(&apt.update()) {
            AptOutcome::Done | AptOutcome::NoPackage => outcome = classify(&apt.install(PACKAGE)),
            other => outcome = other,
        }
    }
    match outcome {
        AptOutcome::Done => {
            apt.disable_service(PACKAGE);
            Ok(Some(apt.binary()))
        }
        AptOutcome::NoPackage => Ok(None),
        AptOutcome::Locked(detail) => Err(WorkloadError::PackagesBusy { detail }),
        AptOutcome::Failed(detail) => {
            Err(WorkloadError::Command { command: format!("apt-get install {PACKAGE}"), detail })
        }
    }
}

#[cfg(test)]
#[path = "apt_tests.rs"]
mod tests;

//! The exporter's Debian package: installed with apt where it is missing, and the service the
//! package enables (listening on every address, on the port the charm's exporter takes) stopped
//! and disabled.

use super::apt::{classify, Apt, AptOutcome, Packages};
use super::WorkloadError;
use std::path::{Path, PathBuf};

/// The package.
pub const PACKAGE: &str = "prometheus-redis-exporter";
/// Its binary.
pub const BINARY: &str = "/usr/bin/prometheus-redis-exporter";

/// The exporter binary, installing the package when it is missing: `Ok(None)` when this base's
/// archive has no such package (or no apt), an error when apt is busy or fails otherwise.
pub fn ensure_installed() -> Result<Option<PathBuf>, WorkloadError> {
    if Path::new(BINARY).exists() {
        // Installed by the image or by hand: its own service may still be enabled.
        if let Some(apt) = Apt::on_this_base() {
            apt.disable_service(PACKAGE);
        }
        return Ok(Some(PathBuf::from(BINARY)));
    }
    match Apt::on_this_base() {
        Some(apt) => install_with(&apt),
        None => Ok(None),
    }
}

/// Installs [`PACKAGE`] with `apt` (one `apt-get update` and a second try when the lists lack it).
pub fn install_with(apt: &dyn Packages) -> Result<Option<PathBuf>, WorkloadError> {
    let mut outcome = classify(&apt.install(PACKAGE));
    if outcome == AptOutcome::NoPackage {
        outcome = match classify(&apt.update()) {
            AptOutcome::Done | AptOutcome::NoPackage => classify(&apt.install(PACKAGE)),
            other => other,
        };
    }
    match outcome {
        AptOutcome::Done => {
            apt.disable_service(PACKAGE);
            Ok(Some(PathBuf::from(BINARY)))
        }
        AptOutcome::NoPackage => Ok(None),
        AptOutcome::Locked(detail) => Err(WorkloadError::PackagesBusy { detail }),
        AptOutcome::Failed(detail) => {
            Err(WorkloadError::Command { command: format!("apt-get install {PACKAGE}"), detail })
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::apt::AptRun;
    use std::cell::RefCell;

    /// apt that answers from a script and records what it was asked.
    struct ScriptedApt {
        answers: RefCell<Vec<AptRun>>,
        asked: RefCell<Vec<String>>,
    }

    impl ScriptedApt {
        fn new(answers: &[(bool, &str)]) -> Self {
            let answers = answers.iter().rev().map(|(ok, e)| AptRun { success: *ok, stderr: e.to_string() });
            ScriptedApt { answers: RefCell::new(answers.collect()), asked: RefCell::new(Vec::new()) }
        }
        fn next(&self, what: String) -> AptRun {
            self.asked.borrow_mut().push(what);
            self.answers.borrow_mut().pop().expect("an answer")
        }
    }

    impl Packages for ScriptedApt {
        fn install(&self, package: &str) -> AptRun {
            self.next(format!("install {package}"))
        }
        fn update(&self) -> AptRun {
            self.next("update".into())
        }
        fn binary(&self) -> PathBuf {
            PathBuf::from("/unused")
        }
        fn disable_service(&self, package: &str) {
            self.asked.borrow_mut().push(format!("disable {package}"));
        }
    }

    #[test]
    fn installs_then_disables_the_packaged_service() {
        let apt = ScriptedApt::new(&[(true, "")]);
        assert_eq!(install_with(&apt).unwrap(), Some(PathBuf::from(BINARY)));
        assert_eq!(
            *apt.asked.borrow(),
            ["install prometheus-redis-exporter", "disable prometheus-redis-exporter"]
        );
    }

    #[test]
    fn a_missing_package_is_looked_for_once_more_after_an_update() {
        let missing = "E: Unable to locate package prometheus-redis-exporter\n";
        let apt = ScriptedApt::new(&[(false, missing), (true, ""), (false, missing)]);
        assert_eq!(install_with(&apt).unwrap(), None);
        assert_eq!(
            *apt.asked.borrow(),
            ["install prometheus-redis-exporter", "update", "install prometheus-redis-exporter"]
        );
        let busy = "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 9 (apt)\n";
        let apt = ScriptedApt::new(&[(false, busy)]);
        assert!(matches!(install_with(&apt), Err(WorkloadError::PackagesBusy { .. })));
    }
}

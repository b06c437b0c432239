//! Where `juju-exec` lives: the scripts Valkey's supervisor and Sentinel run (outside any hook)
//! call it to queue the charm's custom events, so the charm writes its full path into them.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// Where Juju installs `juju-exec` on a machine when it is not on `PATH`.
pub const DEFAULT_JUJU_EXEC: &str = "/usr/bin/juju-exec";

/// The first `juju-exec` in the directories of `path` (a `PATH` value), else [`DEFAULT_JUJU_EXEC`].
pub fn juju_exec_on(path: Option<&OsStr>) -> PathBuf {
    path.and_then(|p| std::env::split_paths(p).map(|d| d.join("juju-exec")).find(|c| c.is_file()))
        .unwrap_or_else(|| Path::new(DEFAULT_JUJU_EXEC).to_path_buf())
}

/// The `juju-exec` this hook would run: the first on `PATH` (Juju's tools directory in a hook).
pub fn juju_exec() -> PathBuf {
    juju_exec_on(std::env::var_os("PATH").as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_juju_exec_on_path_wins_else_the_usual_location() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        std::fs::write(b.path().join("juju-exec"), "").unwrap();
        let path = std::env::join_paths([a.path(), b.path()]).unwrap();
        assert_eq!(juju_exec_on(Some(&path)), b.path().join("juju-exec"));
        std::fs::write(a.path().join("juju-exec"), "").unwrap();
        assert_eq!(juju_exec_on(Some(&path)), a.path().join("juju-exec"));
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(juju_exec_on(Some(empty.path().as_os_str())), Path::new(DEFAULT_JUJU_EXEC));
        assert_eq!(juju_exec_on(None), Path::new(DEFAULT_JUJU_EXEC));
    }
}

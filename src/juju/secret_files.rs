//! Secret values handed to `secret-add`/`secret-set` through files, never through argv: every
//! local user can read any process's `/proc/<pid>/cmdline` while the tool runs. Juju's tools read
//! `key#file=PATH` arguments (`core/secrets/secret.go`, `CreateSecretData`); the files live in a
//! fresh 0700 directory, each 0600, and are removed when the [`SecretFiles`] is dropped, whether
//! the tool succeeded or not.

use super::Bag;
use std::fs::{self, DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// A secret's content written out for one tool call; the arguments name the files.
#[derive(Debug)]
pub struct SecretFiles {
    dir: PathBuf,
    args: Vec<String>,
}

impl SecretFiles {
    /// Writes each value of `content` to `<private dir under base>/<key>` and prepares the
    /// `key#file=PATH` arguments. Nothing is left behind if a write fails.
    pub fn write(base: &Path, content: &Bag) -> std::io::Result<SecretFiles> {
        let nonce: u64 = rand::random();
        let dir = base.join(format!("charm-secret-{}-{nonce:016x}", std::process::id()));
        DirBuilder::new().mode(0o700).create(&dir)?;
        let files = SecretFiles { dir, args: Vec::new() };
        files.fill(content)
    }

    fn fill(mut self, content: &Bag) -> std::io::Result<SecretFiles> {
        for (key, value) in content {
            let path = self.dir.join(key);
            let mut file = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path)?;
            file.write_all(value.as_bytes())?;
            self.args.push(format!("{key}#file={}", path.display()));
        }
        Ok(self)
    }

    /// The `key#file=PATH` arguments, in key order.
    pub fn args(&self) -> &[String] {
        &self.args
    }
}

impl Drop for SecretFiles {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn values_go_to_private_files_named_by_the_arguments_and_vanish_on_drop() {
        let base = tempfile::tempdir().unwrap();
        let content: Bag = [("admin-password".to_string(), "s3cret-value".to_string())].into();
        let files = SecretFiles::write(base.path(), &content).unwrap();
        let [arg] = files.args() else { panic!("one argument: {:?}", files.args()) };
        let path = arg.strip_prefix("admin-password#file=").expect("key#file=PATH");
        assert!(!arg.contains("s3cret"), "the value is in no argument");
        assert_eq!(fs::read_to_string(path).unwrap(), "s3cret-value", "exact value, no newline");
        assert_eq!(fs::metadata(path).unwrap().permissions().mode() & 0o777, 0o600);
        let dir = Path::new(path).parent().unwrap().to_path_buf();
        assert_eq!(fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        drop(files);
        assert!(!dir.exists(), "removed after use");
    }
}

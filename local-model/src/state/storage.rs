//! Where a filesystem storage instance is mounted on its unit's machine, as Juju decides it.
//!
//! Juju mounts a charm's filesystem storage at the `location:` its metadata.yaml declares when the
//! store is a singleton (at most one instance, the default without `multiple:`), at
//! `<location>/<storage-id>` when it may have several, and at `/var/lib/juju/storage/<storage-id>`
//! when it declares no location; a location inside `/var/lib/juju/storage` is refused
//! (`domain/storage/mount.go`, `FilesystemMountPoint`; `state/filesystem.go` before). The machine's
//! `rootfs` provider bind-mounts the instance's directory there
//! (`internal/storage/provider/rootfs.go`, `attachFilesystem`), and `storage-get location` and
//! `JUJU_STORAGE_LOCATION` answer that mount point (`apiserver/common/storagecommon`,
//! `filesystemStorageAttachmentInfo`: the attachment's `MountPoint`).
//!
//! juju-local keeps every instance in a directory of the model (`units/<unit>/storage/<id>`). In
//! machine mode that directory is bound into the unit's machine at the mount point, as Juju's rootfs
//! provider does; in loopback and hosts modes the units share one filesystem, so each unit's
//! storage is answered by its own directory.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Juju's parent directory of charm storage on a Unix machine (`core/paths`, `StorageDir`).
pub const STORAGE_PARENT_DIR: &str = "/var/lib/juju/storage";

/// A filesystem store as metadata.yaml declares it (`storage.<name>`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StorageSpec {
    /// `location:`, empty when not declared.
    #[serde(default)]
    pub location: String,
    /// At most one instance (no `multiple:`, or a range whose maximum is 1): Juju's
    /// `CountMax == 1`.
    #[serde(default = "singleton")]
    pub singleton: bool,
}

fn singleton() -> bool {
    true
}

impl Default for StorageSpec {
    /// No location, a singleton (metadata.yaml's defaults).
    fn default() -> Self {
        StorageSpec { location: String::new(), singleton: true }
    }
}

impl StorageSpec {
    /// The spec of a store with `location` (empty: none) and `multiple:`'s `range` (`None`: no
    /// `multiple:`, a singleton). A range is `n`, `n-m`, `n-` or `n+`.
    pub fn new(location: &str, range: Option<&str>) -> StorageSpec {
        let singleton = match range.map(str::trim) {
            None => true,
            Some(r) if r.ends_with('-') || r.ends_with('+') => false,
            Some(r) => r.rsplit('-').next().and_then(|max| max.trim().parse::<u32>().ok()) == Some(1),
        };
        StorageSpec { location: location.to_string(), singleton }
    }

    /// Where instance `id` (`data/0`) is mounted on its unit's machine, or why Juju would refuse
    /// the location.
    pub fn mount_point(&self, id: &str) -> Result<PathBuf, String> {
        if self.location.starts_with(&format!("{STORAGE_PARENT_DIR}/")) {
            return Err(format!(
                "invalid location {:?}: must not fall within {STORAGE_PARENT_DIR:?}",
                self.location
            ));
        }
        Ok(match (self.location.is_empty(), self.singleton) {
            (false, true) => PathBuf::from(&self.location),
            (false, false) => PathBuf::from(&self.location).join(id),
            (true, _) => PathBuf::from(STORAGE_PARENT_DIR).join(id),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_singleton_with_a_location_is_mounted_there_as_on_juju() {
        // The charm's own store: `data`, `location: /var/lib/valkey`, no `multiple:`.
        assert_eq!(
            StorageSpec::new("/var/lib/valkey", None).mount_point("data/3"),
            Ok("/var/lib/valkey".into())
        );
        assert_eq!(StorageSpec::new("/srv/x", Some("0-1")).mount_point("x/0"), Ok("/srv/x".into()));
    }

    #[test]
    fn several_instances_or_no_location_get_the_storage_id_appended() {
        assert_eq!(StorageSpec::new("/srv/x", Some("1-3")).mount_point("x/7"), Ok("/srv/x/x/7".into()));
        assert_eq!(StorageSpec::new("/srv/x", Some("2+")).mount_point("x/7"), Ok("/srv/x/x/7".into()));
        assert_eq!(
            StorageSpec::new("", None).mount_point("data/0"),
            Ok("/var/lib/juju/storage/data/0".into())
        );
    }

    #[test]
    fn a_location_inside_jujus_storage_dir_is_refused() {
        let err = StorageSpec::new("/var/lib/juju/storage/mine", None).mount_point("data/0").unwrap_err();
        assert!(err.contains("must not fall within \"/var/lib/juju/storage\""), "{err}");
    }
}

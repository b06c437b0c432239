//! [`HookTools`] for [`SnapshotTools`]: reads go through the snapshot, writes go to Juju and are
//! mirrored into it, `status-set` is skipped in replay when nothing changed.

use super::{key, secret_key, SnapshotTools};
use crate::juju::{Bag, HookToolError, HookTools, LogLevel, NetworkInfo, SecretRef, StatusKind};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

impl HookTools for SnapshotTools<'_> {
    fn relation_ids(&self, endpoint: &str) -> Result<Vec<String>, HookToolError> {
        self.cached(
            |s| s.relation_ids.get(endpoint).cloned(),
            || self.inner.relation_ids(endpoint),
            |s, v| {
                s.relation_ids.insert(endpoint.to_string(), v);
            },
        )
    }

    fn relation_list(&self, relation_id: &str) -> Result<Vec<String>, HookToolError> {
        self.cached(
            |s| s.relation_lists.get(relation_id).cloned(),
            || self.inner.relation_list(relation_id),
            |s, v| {
                s.relation_lists.insert(relation_id.to_string(), v);
            },
        )
    }

    fn relation_get_unit(&self, relation_id: &str, unit: &str) -> Result<Bag, HookToolError> {
        let k = key(relation_id, unit);
        self.cached(
            |s| s.unit_bags.get(&k).cloned(),
            || self.inner.relation_get_unit(relation_id, unit),
            |s, v| {
                s.unit_bags.insert(k.clone(), v);
            },
        )
    }

    fn relation_get_app(&self, relation_id: &str, app: &str) -> Result<Bag, HookToolError> {
        let k = key(relation_id, app);
        self.cached(
            |s| s.app_bags.get(&k).cloned(),
            || self.inner.relation_get_app(relation_id, app),
            |s, v| {
                s.app_bags.insert(k.clone(), v);
            },
        )
    }

    fn relation_set(
        &self,
        relation_id: &str,
        app: bool,
        changes: &BTreeMap<String, Option<String>>,
    ) -> Result<(), HookToolError> {
        self.inner.relation_set(relation_id, app, changes)?;
        // Mirror the write: Juju runs no relation-changed on the writer for its own bags.
        let mut snap = self.snap.borrow_mut();
        let bag = match app {
            true => snap.app_bags.get_mut(&key(relation_id, &self.app)),
            false => snap.unit_bags.get_mut(&key(relation_id, &self.unit)),
        };
        if let Some(bag) = bag {
            for (k, v) in changes {
                match v.as_deref() {
                    Some(v) if !v.is_empty() => bag.insert(k.clone(), v.to_string()),
                    _ => bag.remove(k),
                };
            }
        }
        self.changed.set(true);
        Ok(())
    }

    fn config_get(&self) -> Result<Map<String, Value>, HookToolError> {
        self.cached(|s| s.config.clone(), || self.inner.config_get(), |s, v| s.config = Some(v))
    }

    fn dying_units(&self) -> Result<Vec<String>, HookToolError> {
        // Live, never from the snapshot: a removal may begin during the hook; only a leaving
        // unit asks.
        self.inner.dying_units()
    }

    fn is_leader(&self) -> Result<bool, HookToolError> {
        if let Some(l) = self.leader.get() {
            return Ok(l);
        }
        let l = self.inner.is_leader()?;
        self.leader.set(Some(l));
        if self.snap.borrow().leader != Some(l) {
            self.changed.set(true);
        }
        Ok(l)
    }

    fn status_set(&self, kind: StatusKind, message: &str, application: bool) -> Result<(), HookToolError> {
        let now = Some((kind, message.to_string()));
        let same = {
            let s = self.snap.borrow();
            if application {
                s.app_status == now
            } else {
                s.unit_status == now
            }
        };
        if self.replay && same {
            self.skipped.set(self.skipped.get() + 1);
            return Ok(());
        }
        self.inner.status_set(kind, message, application)?;
        let mut s = self.snap.borrow_mut();
        if application {
            s.app_status = now;
        } else {
            s.unit_status = now;
        }
        self.changed.set(true);
        Ok(())
    }

    fn application_version_set(&self, version: &str) -> Result<(), HookToolError> {
        self.inner.application_version_set(version)
    }

    fn action_get(&self) -> Result<Map<String, Value>, HookToolError> {
        self.inner.action_get()
    }

    fn action_set(&self, results: &BTreeMap<String, String>) -> Result<(), HookToolError> {
        self.inner.action_set(results)
    }

    fn action_fail(&self, message: &str) -> Result<(), HookToolError> {
        self.inner.action_fail(message)
    }

    fn action_log(&self, message: &str) -> Result<(), HookToolError> {
        self.inner.action_log(message)
    }

    fn log(&self, level: LogLevel, message: &str) -> Result<(), HookToolError> {
        self.inner.log(level, message)
    }

    fn storage_location(&self, name: &str) -> Result<Option<PathBuf>, HookToolError> {
        self.inner.storage_location(name)
    }

    fn network_get(&self, binding: &str) -> Result<NetworkInfo, HookToolError> {
        self.cached(
            |s| s.networks.get(binding).cloned(),
            || self.inner.network_get(binding),
            |s, v| {
                s.networks.insert(binding.to_string(), v);
            },
        )
    }

    fn open_port(&self, port: u16) -> Result<(), HookToolError> {
        self.inner.open_port(port)
    }

    fn secret_add(&self, label: &str, content: &Bag) -> Result<String, HookToolError> {
        let uri = self.inner.secret_add(label, content)?;
        self.forget_secrets();
        // Mirror it, like a relation write: a later pass of this hook reads what it created.
        let mut snap = self.snap.borrow_mut();
        for r in [SecretRef::Id(uri.clone()), SecretRef::Label(label.to_string())] {
            snap.secrets.insert(secret_key(&r), Some(content.clone()));
        }
        Ok(uri)
    }

    fn secret_get(&self, secret: &SecretRef, refresh: bool) -> Result<Option<Bag>, HookToolError> {
        let k = secret_key(secret);
        self.cached(
            |s| s.secrets.get(&k).cloned(),
            || self.inner.secret_get(secret, refresh),
            |s, v| {
                s.secrets.insert(k.clone(), v);
            },
        )
    }

    fn secret_set(&self, uri: &str, content: &Bag) -> Result<(), HookToolError> {
        self.inner.secret_set(uri, content)?;
        self.forget_secrets();
        Ok(())
    }

    fn secret_grant(&self, uri: &str, relation_id: &str) -> Result<(), HookToolError> {
        self.inner.secret_grant(uri, relation_id)
    }

    fn secret_revoke(&self, uri: &str, relation_id: &str) -> Result<(), HookToolError> {
        self.inner.secret_revoke(uri, relation_id)
    }

    fn secret_remove(&self, uri: &str) -> Result<(), HookToolError> {
        self.inner.secret_remove(uri)?;
        self.forget_secrets();
        Ok(())
    }

    fn resource_get(&self, name: &str) -> Result<Option<PathBuf>, HookToolError> {
        self.inner.resource_get(name)
    }
}

impl SnapshotTools<'_> {
    /// A secret was created or changed in this hook: the next hook asks again.
    fn forget_secrets(&self) {
        let mut s = self.snap.borrow_mut();
        s.secrets.clear();
        self.changed.set(true);
    }
}

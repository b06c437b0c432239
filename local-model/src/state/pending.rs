//! Held-back changes: what a running hook's tools recorded, applied only when it exits 0.

use super::{Bag, Secret};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Changes a hook made that Juju holds back until the hook exits 0, kept in
/// `<model-dir>/contexts/<context-id>.json` while the hook runs, applied by the agent on success
/// and dropped on failure.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PendingChanges {
    /// The unit the hook runs on.
    pub unit: String,
    /// Relation id → key → new value (`None` deletes) for the unit's own bag.
    pub unit_bags: BTreeMap<u32, BTreeMap<String, Option<String>>>,
    /// Relation id → key → new value (`None` deletes) for the application bag (leader only).
    pub app_bags: BTreeMap<u32, BTreeMap<String, Option<String>>>,
    /// Key → new value (`None` deletes) for the unit's state store.
    pub state: BTreeMap<String, Option<String>>,
    /// Ports to open (`true`) or close (`false`).
    pub ports: BTreeMap<String, bool>,
    /// Secret operations in the order they were made.
    pub secrets: Vec<SecretChange>,
}

/// One held-back secret operation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum SecretChange {
    /// `secret-add`: the full secret as created (its id was printed to the hook already).
    Add {
        /// The new secret.
        secret: Secret,
    },
    /// `secret-set`: a new revision, and/or a new label or description.
    Set {
        /// Secret id.
        id: String,
        /// New content, if given.
        content: Option<Bag>,
        /// New label, if given.
        label: Option<String>,
        /// New description, if given.
        description: Option<String>,
    },
    /// `secret-grant`.
    Grant {
        /// Secret id.
        id: String,
        /// Relation id.
        relation_id: u32,
        /// Unit or application granted.
        grantee: String,
    },
    /// `secret-revoke`: the opposite of a grant.
    Revoke {
        /// Secret id.
        id: String,
        /// Relation id.
        relation_id: u32,
        /// Unit or application whose access ends.
        grantee: String,
    },
    /// `secret-remove` (all revisions, or one).
    Remove {
        /// Secret id.
        id: String,
        /// A single revision, or all when `None`.
        revision: Option<u32>,
    },
    /// `secret-get --refresh`: the consumer moves to the latest revision.
    Track {
        /// Secret id.
        id: String,
        /// Consumer unit.
        unit: String,
        /// Revision now tracked.
        revision: u32,
    },
    /// `secret-get <id> --label L` by a consumer: its own name for the secret.
    ConsumerLabel {
        /// Secret id.
        id: String,
        /// Consumer unit.
        unit: String,
        /// The label.
        label: String,
    },
}

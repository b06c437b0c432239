//! The `HookTools` trait (one method per hook tool the charm uses) and its real implementation,
//! which runs the tools with the flags documented in `juju-contract.md` and parses `--format=json`.

use super::error::HookToolError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A relation data bag, or a secret's content: string keys to string values.
pub type Bag = BTreeMap<String, String>;

/// Workload status kinds a charm may set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusKind {
    /// Everything is as it should be.
    Active,
    /// Waiting on something outside this unit (another unit, the leader, the lock).
    Waiting,
    /// The charm is doing something that takes a while.
    Maintenance,
    /// A human must act (bad config, missing resource).
    Blocked,
}

/// `juju-log --log-level` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// Fine detail.
    Debug,
    /// Normal operation.
    Info,
    /// Something odd that the charm handled.
    Warning,
    /// Something failed.
    Error,
}

/// What `network-get <binding>` reports, reduced to what the charm uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkInfo {
    /// First bind address (`bind-addresses[0].addresses[0].value`).
    pub bind_address: String,
    /// Its hostname, when the substrate gives one (empty otherwise).
    pub hostname: String,
    /// `ingress-addresses[0]`: the address other units reach this one on.
    pub ingress_address: String,
}

/// How to name a secret for `secret-get`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// By URI or id (`secret:abc` or `abc`).
    Id(String),
    /// By the owner's label.
    Label(String),
}

/// One method per hook tool the charm uses. The real implementation is [`ProcessHookTools`];
/// [`super::fake::FakeHookTools`] keeps everything in memory for unit tests.
pub trait HookTools {
    /// `relation-ids <endpoint>`: ids such as `valkey-peers:0`.
    fn relation_ids(&self, endpoint: &str) -> Result<Vec<String>, HookToolError>;
    /// `relation-list -r <id>`: remote units (never this unit).
    fn relation_list(&self, relation_id: &str) -> Result<Vec<String>, HookToolError>;
    /// `relation-get -r <id> - <unit>`: a unit's bag (this unit's own bag included).
    fn relation_get_unit(&self, relation_id: &str, unit: &str) -> Result<Bag, HookToolError>;
    /// `relation-get -r <id> --app - <app>`: an application's bag.
    fn relation_get_app(&self, relation_id: &str, app: &str) -> Result<Bag, HookToolError>;
    /// `relation-set -r <id> [--app] --file -`: `None` values delete keys.
    fn relation_set(
        &self,
        relation_id: &str,
        app: bool,
        changes: &BTreeMap<String, Option<String>>,
    ) -> Result<(), HookToolError>;
    /// `config-get --format=json`: all options with values.
    fn config_get(&self) -> Result<serde_json::Map<String, serde_json::Value>, HookToolError>;
    /// `is-leader --format=json`.
    fn is_leader(&self) -> Result<bool, HookToolError>;
    /// `goal-state --format=json`: the units of this application that are being removed (status
    /// `dying`: Juju reports a unit so from the moment its removal began until it is dead;
    /// `apiserver/facades/agent/uniter/goal-state_test.go`, `TestGoalStatesSingleRelationDyingUnits`).
    fn dying_units(&self) -> Result<Vec<String>, HookToolError>;
    /// `status-set [--application] <kind> <message>`.
    fn status_set(&self, kind: StatusKind, message: &str, application: bool) -> Result<(), HookToolError>;
    /// `application-version-set <version>`.
    fn application_version_set(&self, version: &str) -> Result<(), HookToolError>;
    /// `action-get --format=json`: the action's parameters.
    fn action_get(&self) -> Result<serde_json::Map<String, serde_json::Value>, HookToolError>;
    /// `action-set k=v ...` (dotted keys nest).
    fn action_set(&self, results: &BTreeMap<String, String>) -> Result<(), HookToolError>;
    /// `action-fail <message>`.
    fn action_fail(&self, message: &str) -> Result<(), HookToolError>;
    /// `action-log <message>`.
    fn action_log(&self, message: &str) -> Result<(), HookToolError>;
    /// `juju-log --log-level <level> -- <message>`.
    fn log(&self, level: LogLevel, message: &str) -> Result<(), HookToolError>;
    /// `storage-list <name>` then `storage-get -s <id> location`: where storage `name` is mounted,
    /// or `None` when not attached.
    fn storage_location(&self, name: &str) -> Result<Option<PathBuf>, HookToolError>;
    /// `network-get --format=json <binding>`.
    fn network_get(&self, binding: &str) -> Result<NetworkInfo, HookToolError>;
    /// `open-port <port>/tcp`.
    fn open_port(&self, port: u16) -> Result<(), HookToolError>;
    /// `secret-add --label <label> --owner application k=v ...`: returns the secret's URI.
    fn secret_add(&self, label: &str, content: &Bag) -> Result<String, HookToolError>;
    /// `secret-get --format=json <ref> [--refresh]`: the content; `Ok(None)` when not found.
    fn secret_get(&self, secret: &SecretRef, refresh: bool) -> Result<Option<Bag>, HookToolError>;
    /// `secret-set <uri> k=v ...`: a new revision.
    fn secret_set(&self, uri: &str, content: &Bag) -> Result<(), HookToolError>;
    /// `secret-grant <uri> -r <relation id>`: the related application may read the secret.
    fn secret_grant(&self, uri: &str, relation_id: &str) -> Result<(), HookToolError>;
    /// `secret-revoke <uri> -r <relation id>`.
    fn secret_revoke(&self, uri: &str, relation_id: &str) -> Result<(), HookToolError>;
    /// `secret-remove <uri>`: every revision.
    fn secret_remove(&self, uri: &str) -> Result<(), HookToolError>;
    /// `resource-get <name>`: path of the attached file, `Ok(None)` when none is attached.
    fn resource_get(&self, name: &str) -> Result<Option<PathBuf>, HookToolError>;
}

/// Runs the real hook tools found on `PATH` (Juju's tools directory) or in `tools_dir`.
#[derive(Debug, Clone, Default)]
pub struct ProcessHookTools {
    /// Directory holding the tools; `None` means look them up on `PATH`.
    pub tools_dir: Option<PathBuf>,
}

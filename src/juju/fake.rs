//! [`FakeHookTools`]: an in-memory Juju for unit tests of the HA logic.
//!
//! Built with a builder (`FakeHookTools::new("valkey/0").leader(true).peer("valkey/1", bag)`),
//! it answers like the real tools — including the leader-only refusals and `secret-get`'s
//! not-found — and records everything the charm did (statuses, relation writes, action results,
//! logs, ports) for assertions. Failures can be injected per tool with Juju's own stderr text.

use super::error::{classify, HookToolError};
use super::hook_tools::{Bag, LogLevel, NetworkInfo, StatusKind};
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The peer relation id the fake uses.
pub const FAKE_RELATION_ID: &str = "valkey-peers:0";

/// One `status-set` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRecord {
    /// The kind.
    pub kind: StatusKind,
    /// The message.
    pub message: String,
    /// `--application`.
    pub application: bool,
}

/// One `relation-set` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationWrite {
    /// `--app`.
    pub app: bool,
    /// The keys written (`None` = deleted).
    pub changes: BTreeMap<String, Option<String>>,
}

/// A stored secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeSecret {
    /// `secret:<id>`.
    pub uri: String,
    /// Owner label.
    pub label: String,
    /// Current content.
    pub content: Bag,
}

/// A related client application, as seen from this unit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FakeClientRelation {
    /// The remote application's name.
    pub app: String,
    /// Its units (relation-list).
    pub units: Vec<String>,
    /// Its application bag (what it asked).
    pub remote_app_bag: Bag,
    /// This application's bag in the relation (what the charm answered).
    pub app_bag: Bag,
}

/// Everything the fake knows and remembers.
#[derive(Debug, Clone, Default)]
pub struct FakeState {
    /// This unit.
    pub unit: String,
    /// Its application.
    pub app: String,
    /// `is-leader`.
    pub leader: bool,
    /// Units whose removal began (`goal-state` status `dying`).
    pub dying: std::collections::BTreeSet<String>,
    /// Whether the peer relation exists (relation-ids).
    pub peer_relation: bool,
    /// config-get output.
    pub config: Map<String, Value>,
    /// Remote peer bags by unit name.
    pub peers: BTreeMap<String, Bag>,
    /// This unit's own bag.
    pub own_bag: Bag,
    /// The application bag.
    pub app_bag: Bag,
    /// storage location of `data`.
    pub storage: Option<PathBuf>,
    /// network-get answer.
    pub network: NetworkInfo,
    /// Secrets by URI.
    pub secrets: Vec<FakeSecret>,
    /// Attached resources by name.
    pub resources: BTreeMap<String, PathBuf>,
    /// action-get answer.
    pub action_params: Map<String, Value>,
    /// Every status-set, in order.
    pub statuses: Vec<StatusRecord>,
    /// Every relation-set, in order.
    pub relation_writes: Vec<RelationWrite>,
    /// action-set results, merged.
    pub action_results: BTreeMap<String, String>,
    /// action-fail message.
    pub action_failure: Option<String>,
    /// action-log lines.
    pub action_logs: Vec<String>,
    /// juju-log lines.
    pub logs: Vec<(LogLevel, String)>,
    /// open-port calls.
    pub opened_ports: Vec<u16>,
    /// application-version-set value.
    pub app_version: Option<String>,
    /// Injected failures: tool name → stderr (classified like the real tools).
    pub failures: BTreeMap<String, String>,
    /// Tool names in call order, to assert how many calls a hook makes.
    pub calls: Vec<String>,
    /// Client relations (`valkey-client:<n>`) by id.
    pub client_relations: BTreeMap<String, FakeClientRelation>,
    /// Secret grants: (uri, relation id).
    pub grants: std::collections::BTreeSet<(String, String)>,
}

/// The in-memory hook tools.
#[derive(Debug, Default)]
pub struct FakeHookTools {
    /// All state, behind a RefCell because [`HookTools`] takes `&self`.
    pub state: RefCell<FakeState>,
}

impl FakeHookTools {
    /// A unit (`valkey/0`) that is not leader, has the peer relation, default network
    /// (`10.0.0.<n+1>`), no config set, no storage.
    pub fn new(unit: &str) -> FakeHookTools {
        let app = unit.split('/').next().unwrap_or(unit).to_string();
        let n: u32 = unit.rsplit('/').next().and_then(|n| n.parse().ok()).unwrap_or(0);
        let address = format!("10.0.0.{}", n + 1);
        let state = FakeState {
            unit: unit.to_string(),
            app,
            peer_relation: true,
            network: NetworkInfo {
                bind_address: address.clone(),
                hostname: String::new(),
                ingress_address: address,
            },
            ..FakeState::default()
        };
        FakeHookTools { state: RefCell::new(state) }
    }

    /// Sets leadership.
    pub fn leader(self, leader: bool) -> Self {
        self.state.borrow_mut().leader = leader;
        self
    }

    /// Sets one config option.
    pub fn config(self, key: &str, value: Value) -> Self {
        self.state.borrow_mut().config.insert(key.to_string(), value);
        self
    }

    /// Adds a remote peer with its bag.
    pub fn peer(self, unit: &str, bag: Bag) -> Self {
        self.state.borrow_mut().peers.insert(unit.to_string(), bag);
        self
    }

    /// Sets this unit's own bag.
    pub fn own_bag(self, bag: Bag) -> Self {
        self.state.borrow_mut().own_bag = bag;
        self
    }

    /// Sets the application bag.
    pub fn app_bag(self, bag: Bag) -> Self {
        self.state.borrow_mut().app_bag = bag;
        self
    }

    /// Removes the peer relation (relation-ids returns nothing).
    pub fn no_peer_relation(self) -> Self {
        self.state.borrow_mut().peer_relation = false;
        self
    }

    /// Attaches `data` storage at `location`.
    pub fn storage(self, location: impl Into<PathBuf>) -> Self {
        self.state.borrow_mut().storage = Some(location.into());
        self
    }

    /// Sets the network-get answer.
    pub fn network(self, info: NetworkInfo) -> Self {
        self.state.borrow_mut().network = info;
        self
    }

    /// Stores a secret (as if the leader had added it earlier).
    pub fn secret(self, uri: &str, label: &str, content: Bag) -> Self {
        self.state.borrow_mut().secrets.push(FakeSecret { uri: uri.into(), label: label.into(), content });
        self
    }

    /// Attaches a file resource.
    pub fn resource(self, name: &str, path: impl Into<PathBuf>) -> Self {
        self.state.borrow_mut().resources.insert(name.to_string(), path.into());
        self
    }

    /// Sets the action's parameters.
    pub fn action_params(self, params: Map<String, Value>) -> Self {
        self.state.borrow_mut().action_params = params;
        self
    }

    /// Makes every call of `tool` fail with `stderr` (classified like the real tools' output).
    pub fn failing(self, tool: &str, stderr: &str) -> Self {
        self.set_failure(tool, Some(stderr));
        self
    }

    /// Injects (`Some`) or clears (`None`) a failure of `tool` between hooks.
    pub fn set_failure(&self, tool: &str, stderr: Option<&str>) {
        let mut s = self.state.borrow_mut();
        match stderr {
            Some(e) => s.failures.insert(tool.to_string(), e.to_string()),
            None => s.failures.remove(tool),
        };
    }

    /// Adds or replaces a client relation between hooks.
    pub fn set_client_relation(&self, relation_id: &str, relation: FakeClientRelation) {
        self.state.borrow_mut().client_relations.insert(relation_id.to_string(), relation);
    }

    /// Removes a client relation (it is broken: relation-ids no longer lists it).
    pub fn remove_client_relation(&self, relation_id: &str) {
        self.state.borrow_mut().client_relations.remove(relation_id);
    }

    /// A client relation now.
    pub fn client_relation(&self, relation_id: &str) -> Option<FakeClientRelation> {
        self.state.borrow().client_relations.get(relation_id).cloned()
    }

    /// Secret grants now: (uri, relation id).
    pub fn grants(&self) -> Vec<(String, String)> {
        self.state.borrow().grants.iter().cloned().collect()
    }

    /// Changes leadership between hooks.
    pub fn set_leader(&self, leader: bool) {
        self.state.borrow_mut().leader = leader;
    }

    /// Adds or replaces a peer between hooks.
    pub fn set_peer(&self, unit: &str, bag: Bag) {
        self.state.borrow_mut().peers.insert(unit.to_string(), bag);
    }

    /// Removes a peer (it departed).
    pub fn remove_peer(&self, unit: &str) {
        self.state.borrow_mut().peers.remove(unit);
    }

    /// Sets a config option between hooks.
    pub fn set_config(&self, key: &str, value: Value) {
        self.state.borrow_mut().config.insert(key.to_string(), value);
    }

    /// Every status-set so far.
    pub fn statuses(&self) -> Vec<StatusRecord> {
        self.state.borrow().statuses.clone()
    }

    /// The last unit status set.
    pub fn unit_status(&self) -> Option<(StatusKind, String)> {
        self.last_status(false)
    }

    /// The last application status set.
    pub fn app_status(&self) -> Option<(StatusKind, String)> {
        self.last_status(true)
    }

    fn last_status(&self, application: bool) -> Option<(StatusKind, String)> {
        let s = self.state.borrow();
        s.statuses.iter().rev().find(|r| r.application == application).map(|r| (r.kind, r.message.clone()))
    }

    /// Every relation-set so far.
    pub fn relation_writes(&self) -> Vec<RelationWrite> {
        self.state.borrow().relation_writes.clone()
    }

    /// This unit's bag now.
    pub fn own_bag_now(&self) -> Bag {
        self.state.borrow().own_bag.clone()
    }

    /// The application bag now.
    pub fn app_bag_now(&self) -> Bag {
        self.state.borrow().app_bag.clone()
    }

    /// action-set results.
    pub fn action_results(&self) -> BTreeMap<String, String> {
        self.state.borrow().action_results.clone()
    }

    /// action-fail message, if any.
    pub fn action_failure(&self) -> Option<String> {
        self.state.borrow().action_failure.clone()
    }

    /// juju-log messages.
    pub fn logs(&self) -> Vec<(LogLevel, String)> {
        self.state.borrow().logs.clone()
    }

    /// open-port calls.
    pub fn opened_ports(&self) -> Vec<u16> {
        self.state.borrow().opened_ports.clone()
    }

    /// application-version-set value.
    pub fn app_version(&self) -> Option<String> {
        self.state.borrow().app_version.clone()
    }

    /// Stored secrets.
    pub fn secrets(&self) -> Vec<FakeSecret> {
        self.state.borrow().secrets.clone()
    }

    /// Tool names called, in order.
    pub fn calls(&self) -> Vec<String> {
        self.state.borrow().calls.clone()
    }

    /// Records the call and returns the injected failure, if any.
    pub(super) fn enter(&self, tool: &str) -> Result<(), HookToolError> {
        let mut s = self.state.borrow_mut();
        s.calls.push(tool.to_string());
        match s.failures.get(tool) {
            Some(stderr) => Err(classify(tool, 1, stderr)),
            None => Ok(()),
        }
    }

    /// The relation must exist: the peer relation or a client relation.
    pub(super) fn check_relation(&self, tool: &str, relation_id: &str) -> Result<(), HookToolError> {
        let s = self.state.borrow();
        if (s.peer_relation && relation_id == FAKE_RELATION_ID)
            || s.client_relations.contains_key(relation_id)
        {
            Ok(())
        } else {
            Err(classify(tool, 1, &format!("ERROR relation {relation_id:?} not found")))
        }
    }
}

#[cfg(test)]
#[path = "fake_tests.rs"]
mod tests;

//! The answers of [`FakeHookTools`]: each tool reads or changes the in-memory state the way the
//! real tool would, including Juju's refusals (leader-only writes, missing units and secrets).

use super::error::{classify, HookToolError};
use super::event::{CLIENT_ENDPOINT, PEER_ENDPOINT, STORAGE_NAME};
use super::fake::{FakeHookTools, FakeSecret, RelationWrite, StatusRecord, FAKE_RELATION_ID};
use super::hook_tools::{Bag, HookTools, LogLevel, NetworkInfo, SecretRef, StatusKind};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

impl HookTools for FakeHookTools {
    fn relation_ids(&self, endpoint: &str) -> Result<Vec<String>, HookToolError> {
        self.enter("relation-ids")?;
        let s = self.state.borrow();
        Ok(if s.peer_relation && endpoint == PEER_ENDPOINT {
            vec![FAKE_RELATION_ID.to_string()]
        } else if endpoint == CLIENT_ENDPOINT {
            s.client_relations.keys().cloned().collect()
        } else {
            vec![]
        })
    }

    fn relation_list(&self, relation_id: &str) -> Result<Vec<String>, HookToolError> {
        self.enter("relation-list")?;
        self.check_relation("relation-list", relation_id)?;
        let s = self.state.borrow();
        if let Some(c) = s.client_relations.get(relation_id) {
            return Ok(c.units.clone());
        }
        Ok(s.peers.keys().cloned().collect())
    }

    fn relation_get_unit(&self, relation_id: &str, unit: &str) -> Result<Bag, HookToolError> {
        self.enter("relation-get")?;
        self.check_relation("relation-get", relation_id)?;
        let s = self.state.borrow();
        if unit == s.unit {
            return Ok(s.own_bag.clone());
        }
        s.peers
            .get(unit)
            .cloned()
            .ok_or_else(|| classify("relation-get", 1, &format!("ERROR unit {unit:?} not found")))
    }

    fn relation_get_app(&self, relation_id: &str, app: &str) -> Result<Bag, HookToolError> {
        self.enter("relation-get")?;
        self.check_relation("relation-get", relation_id)?;
        let s = self.state.borrow();
        if let Some(c) = s.client_relations.get(relation_id) {
            return Ok(if app == s.app { c.app_bag.clone() } else { c.remote_app_bag.clone() });
        }
        Ok(if app == s.app { s.app_bag.clone() } else { Bag::new() })
    }

    fn relation_set(
        &self,
        relation_id: &str,
        app: bool,
        changes: &BTreeMap<String, Option<String>>,
    ) -> Result<(), HookToolError> {
        self.enter("relation-set")?;
        self.check_relation("relation-set", relation_id)?;
        let mut s = self.state.borrow_mut();
        if app && !s.leader {
            return Err(classify("relation-set", 1, "ERROR cannot write relation settings"));
        }
        let leader = s.leader;
        let bag = match s.client_relations.get_mut(relation_id) {
            Some(c) if app && leader => &mut c.app_bag,
            Some(_) => return Err(classify("relation-set", 1, "ERROR cannot write relation settings")),
            None if app => &mut s.app_bag,
            None => &mut s.own_bag,
        };
        for (k, v) in changes {
            match v.as_deref() {
                Some(v) if !v.is_empty() => bag.insert(k.clone(), v.to_string()),
                _ => bag.remove(k),
            };
        }
        s.relation_writes.push(RelationWrite { app, changes: changes.clone() });
        Ok(())
    }

    fn config_get(&self) -> Result<Map<String, Value>, HookToolError> {
        self.enter("config-get")?;
        Ok(self.state.borrow().config.clone())
    }

    fn is_leader(&self) -> Result<bool, HookToolError> {
        self.enter("is-leader")?;
        Ok(self.state.borrow().leader)
    }

    fn dying_units(&self) -> Result<Vec<String>, HookToolError> {
        self.enter("goal-state")?;
        Ok(self.state.borrow().dying.iter().cloned().collect())
    }

    fn status_set(&self, kind: StatusKind, message: &str, application: bool) -> Result<(), HookToolError> {
        self.enter("status-set")?;
        let mut s = self.state.borrow_mut();
        if application && !s.leader {
            return Err(classify(
                "status-set",
                1,
                "ERROR setting application status: this unit is not the leader",
            ));
        }
        s.statuses.push(StatusRecord { kind, message: message.to_string(), application });
        Ok(())
    }

    fn application_version_set(&self, version: &str) -> Result<(), HookToolError> {
        self.enter("application-version-set")?;
        self.state.borrow_mut().app_version = Some(version.to_string());
        Ok(())
    }

    fn action_get(&self) -> Result<Map<String, Value>, HookToolError> {
        self.enter("action-get")?;
        Ok(self.state.borrow().action_params.clone())
    }

    fn action_set(&self, results: &BTreeMap<String, String>) -> Result<(), HookToolError> {
        self.enter("action-set")?;
        self.state.borrow_mut().action_results.extend(results.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(())
    }

    fn action_fail(&self, message: &str) -> Result<(), HookToolError> {
        self.enter("action-fail")?;
        self.state.borrow_mut().action_failure = Some(message.to_string());
        Ok(())
    }

    fn action_log(&self, message: &str) -> Result<(), HookToolError> {
        self.enter("action-log")?;
        self.state.borrow_mut().action_logs.push(message.to_string());
        Ok(())
    }

    fn log(&self, level: LogLevel, message: &str) -> Result<(), HookToolError> {
        self.enter("juju-log")?;
        self.state.borrow_mut().logs.push((level, message.to_string()));
        Ok(())
    }

    fn storage_location(&self, name: &str) -> Result<Option<PathBuf>, HookToolError> {
        self.enter("storage-list")?;
        Ok(if name == STORAGE_NAME { self.state.borrow().storage.clone() } else { None })
    }

    fn network_get(&self, binding: &str) -> Result<NetworkInfo, HookToolError> {
        self.enter("network-get")?;
        let _ = binding;
        Ok(self.state.borrow().network.clone())
    }

    fn open_port(&self, port: u16) -> Result<(), HookToolError> {
        self.enter("open-port")?;
        let mut s = self.state.borrow_mut();
        if !s.opened_ports.contains(&port) {
            s.opened_ports.push(port);
        }
        Ok(())
    }

    fn secret_add(&self, label: &str, content: &Bag) -> Result<String, HookToolError> {
        self.enter("secret-add")?;
        let mut s = self.state.borrow_mut();
        if !s.leader {
            return Err(classify("secret-add", 1, "ERROR this unit is not the leader"));
        }
        let uri = format!("secret:fake{}", s.secrets.len() + 1);
        s.secrets.push(FakeSecret { uri: uri.clone(), label: label.to_string(), content: content.clone() });
        Ok(uri)
    }

    fn secret_get(&self, secret: &SecretRef, refresh: bool) -> Result<Option<Bag>, HookToolError> {
        self.enter("secret-get")?;
        let _ = refresh;
        let s = self.state.borrow();
        let found = s.secrets.iter().find(|x| match secret {
            SecretRef::Id(id) => x.uri == *id || x.uri.strip_prefix("secret:") == Some(id.as_str()),
            SecretRef::Label(label) => x.label == *label,
        });
        Ok(found.map(|x| x.content.clone()))
    }

    fn secret_set(&self, uri: &str, content: &Bag) -> Result<(), HookToolError> {
        self.enter("secret-set")?;
        let mut s = self.state.borrow_mut();
        match s.secrets.iter_mut().find(|x| x.uri == uri) {
            Some(x) => {
                x.content = content.clone();
                Ok(())
            }
            None => Err(classify("secret-set", 1, &format!("ERROR secret {uri:?} not found"))),
        }
    }

    fn secret_grant(&self, uri: &str, relation_id: &str) -> Result<(), HookToolError> {
        self.enter("secret-grant")?;
        self.check_relation("secret-grant", relation_id)?;
        let mut s = self.state.borrow_mut();
        if !s.secrets.iter().any(|x| x.uri == uri) {
            return Err(classify("secret-grant", 1, &format!("ERROR secret {uri:?} not found")));
        }
        s.grants.insert((uri.to_string(), relation_id.to_string()));
        Ok(())
    }

    fn secret_revoke(&self, uri: &str, relation_id: &str) -> Result<(), HookToolError> {
        self.enter("secret-revoke")?;
        self.state.borrow_mut().grants.remove(&(uri.to_string(), relation_id.to_string()));
        Ok(())
    }

    fn secret_remove(&self, uri: &str) -> Result<(), HookToolError> {
        self.enter("secret-remove")?;
        let mut s = self.state.borrow_mut();
        let before = s.secrets.len();
        s.secrets.retain(|x| x.uri != uri);
        if s.secrets.len() == before {
            return Err(classify("secret-remove", 1, &format!("ERROR secret {uri:?} not found")));
        }
        s.grants.retain(|(u, _)| u != uri);
        Ok(())
    }

    fn resource_get(&self, name: &str) -> Result<Option<PathBuf>, HookToolError> {
        self.enter("resource-get")?;
        Ok(self.state.borrow().resources.get(name).cloned())
    }
}

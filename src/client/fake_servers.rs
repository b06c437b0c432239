//! Test support: this unit's Valkey and Sentinel as ACL tables in memory, with a primary to
//! name and a switch to take the local Valkey down.

use super::servers::LocalServers;
use crate::valkey::acl::AclNode;
use crate::valkey::ValkeyError;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// One fake server's ACL table (name → `ACL LIST` line) and how often it was persisted.
#[derive(Default)]
pub(super) struct Table {
    pub(super) users: BTreeMap<String, String>,
    pub(super) persisted: u32,
}

/// This unit's fake Valkey and Sentinel.
#[derive(Default, Clone)]
pub(super) struct FakeServers {
    pub(super) valkey: Rc<RefCell<Table>>,
    pub(super) sentinel: Rc<RefCell<Table>>,
    pub(super) primary: Rc<RefCell<String>>,
    /// The local Valkey is down (killed): its ACL commands and version fail.
    pub(super) valkey_down: Rc<RefCell<bool>>,
}

fn refused() -> ValkeyError {
    ValkeyError::Connect {
        endpoint: crate::valkey::Endpoint::new("10.0.0.1", 6379),
        source: redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
    }
}

struct FakeNode(Rc<RefCell<Table>>);

impl AclNode for FakeNode {
    fn setuser(&mut self, args: &[String]) -> Result<(), ValkeyError> {
        let line = format!("user {}", args.join(" ").replace(" reset", ""));
        self.0.borrow_mut().users.insert(args[0].clone(), line);
        Ok(())
    }
    fn deluser(&mut self, name: &str) -> Result<u32, ValkeyError> {
        Ok(u32::from(self.0.borrow_mut().users.remove(name).is_some()))
    }
    fn list(&mut self) -> Result<Vec<String>, ValkeyError> {
        Ok(self.0.borrow().users.values().cloned().collect())
    }
    fn persist(&mut self) -> Result<(), ValkeyError> {
        self.0.borrow_mut().persisted += 1;
        Ok(())
    }
}

impl LocalServers for FakeServers {
    fn acl(&self, sentinel: bool) -> Result<Box<dyn AclNode>, ValkeyError> {
        if !sentinel && *self.valkey_down.borrow() {
            return Err(refused());
        }
        Ok(Box::new(FakeNode(if sentinel { self.sentinel.clone() } else { self.valkey.clone() })))
    }
    fn persisted(&self, _sentinel: bool, _names: &[String]) -> bool {
        true
    }
    fn primary_host(&self) -> Result<Option<String>, ValkeyError> {
        Ok(Some(self.primary.borrow().clone()))
    }
    fn valkey_version(&self) -> Result<String, ValkeyError> {
        if *self.valkey_down.borrow() {
            return Err(refused());
        }
        Ok("9.1.2".into())
    }
}

impl FakeServers {
    pub(super) fn users(&self, sentinel: bool) -> Vec<String> {
        let t = if sentinel { &self.sentinel } else { &self.valkey };
        t.borrow().users.keys().cloned().collect()
    }
}

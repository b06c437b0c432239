//! The effects the client relation needs from this unit's own servers, behind one small trait
//! so the handler is tested with a fake: ACL commands on the local Valkey and Sentinel, the
//! primary as the local Sentinel names it, the Valkey version, and whether the config files
//! already hold the users (so a file the charm re-rendered gets them back).

use super::answer::Topology;
use crate::valkey::acl::AclNode;
use crate::valkey::{Connector, Endpoint, TcpConnector, ValkeyError};
use crate::workload::{Paths, MONITOR_NAME, SENTINEL_PORT, VALKEY_PORT};
use std::path::PathBuf;

/// This unit's Valkey and Sentinel, as the client relation uses them.
pub trait LocalServers {
    /// ACL commands on the local Valkey (`sentinel` false) or Sentinel (true).
    fn acl(&self, sentinel: bool) -> Result<Box<dyn AclNode>, ValkeyError>;
    /// Whether the server's config file names every user in `names` (they survive a restart).
    fn persisted(&self, sentinel: bool, names: &[String]) -> bool;
    /// The primary's host as the local Sentinel reports it; `None` when it knows none.
    fn primary_host(&self) -> Result<Option<String>, ValkeyError>;
    /// The local Valkey's version.
    fn valkey_version(&self) -> Result<String, ValkeyError>;
}

/// The real servers of this unit, reached with the admin credentials.
pub struct LiveServers {
    /// Connector with the admin user.
    pub connector: TcpConnector,
    /// The local Valkey (the unit's bind address, port 6379 in production).
    pub valkey: Endpoint,
    /// The local Sentinel (port 26379 in production).
    pub sentinel: Endpoint,
    /// valkey.conf and sentinel.conf (`None` before storage is attached).
    pub conf_files: Option<(PathBuf, PathBuf)>,
}

impl LiveServers {
    /// The servers on `bind` at the production ports, with their files under `paths`.
    pub fn on(connector: TcpConnector, bind: &str, paths: Option<&Paths>) -> Self {
        LiveServers {
            connector,
            valkey: Endpoint::new(bind, VALKEY_PORT),
            sentinel: Endpoint::new(bind, SENTINEL_PORT),
            conf_files: paths.map(|p| (p.valkey_conf(), p.sentinel_conf())),
        }
    }

    fn endpoint(&self, sentinel: bool) -> &Endpoint {
        if sentinel {
            &self.sentinel
        } else {
            &self.valkey
        }
    }
}

impl LocalServers for LiveServers {
    fn acl(&self, sentinel: bool) -> Result<Box<dyn AclNode>, ValkeyError> {
        self.connector.acl(self.endpoint(sentinel), sentinel)
    }

    fn persisted(&self, sentinel: bool, names: &[String]) -> bool {
        let Some((valkey, sentinel_conf)) = &self.conf_files else { return false };
        let file = if sentinel { sentinel_conf } else { valkey };
        let text = std::fs::read_to_string(file).unwrap_or_default();
        names.iter().all(|n| text.contains(&format!("user {n} ")))
    }

    fn primary_host(&self) -> Result<Option<String>, ValkeyError> {
        let mut s = self.connector.sentinel(&self.sentinel)?;
        Ok(s.primary_addr(MONITOR_NAME)?.map(|e| e.host))
    }

    fn valkey_version(&self) -> Result<String, ValkeyError> {
        self.connector.data(&self.valkey)?.version()
    }
}

/// The topology an answer publishes: the primary the local Sentinel names, every other started
/// unit as a replica, every started unit's Sentinel.
pub fn topology(primary: String, started_hosts: &[String], valkey_version: String) -> Topology {
    let replicas = started_hosts.iter().filter(|h| **h != primary).cloned().collect();
    Topology { primary, replicas, units: started_hosts.to_vec(), valkey_version }
}

/// [`LiveServers`] found only when first needed, so a hook with no client relation and no
/// client user pays nothing for them: the admin password from the charm's secret, the bind
/// address from network-get, the config files from the storage location.
pub struct LazyServers<'a> {
    tools: &'a dyn crate::juju::HookTools,
    app: &'a str,
    found: std::cell::OnceCell<Result<LiveServers, String>>,
}

impl<'a> LazyServers<'a> {
    /// Servers of application `app`'s unit, reached through what `tools` tell.
    pub fn new(tools: &'a dyn crate::juju::HookTools, app: &'a str) -> Self {
        LazyServers { tools, app, found: std::cell::OnceCell::new() }
    }

    fn live(&self) -> Result<&LiveServers, ValkeyError> {
        let found = self.found.get_or_init(|| find(self.tools, self.app));
        found.as_ref().map_err(|detail| ValkeyError::Reply {
            endpoint: Endpoint::new("local", VALKEY_PORT),
            command: "find local servers".into(),
            detail: detail.clone(),
        })
    }
}

fn find(tools: &dyn crate::juju::HookTools, app_name: &str) -> Result<LiveServers, String> {
    use crate::juju::event::{PEER_ENDPOINT, STORAGE_NAME};
    let rid = tools.relation_ids(PEER_ENDPOINT).map_err(|e| e.to_string())?.into_iter().next();
    let rid = rid.ok_or("no peer relation")?;
    let app_bag = tools.relation_get_app(&rid, app_name).map_err(|e| e.to_string())?;
    let app = crate::peers::AppData::from_bag(&app_bag);
    let creds = crate::secrets::ensure(tools, false, &rid, &app).map_err(|e| e.to_string())?;
    let creds = creds.ok_or("the charm's passwords are not created yet")?;
    let net = tools.network_get(PEER_ENDPOINT).map_err(|e| e.to_string())?;
    let bind = if net.bind_address.is_empty() { net.ingress_address } else { net.bind_address };
    let paths = tools.storage_location(STORAGE_NAME).map_err(|e| e.to_string())?.map(Paths::new);
    let auth = crate::valkey::Auth { user: crate::workload::ADMIN_USER.into(), password: creds.admin };
    let connector = TcpConnector { auth: Some(auth), ..Default::default() };
    Ok(LiveServers::on(connector, &bind, paths.as_ref()))
}

impl LocalServers for LazyServers<'_> {
    fn acl(&self, sentinel: bool) -> Result<Box<dyn AclNode>, ValkeyError> {
        self.live()?.acl(sentinel)
    }
    fn persisted(&self, sentinel: bool, names: &[String]) -> bool {
        self.live().is_ok_and(|l| l.persisted(sentinel, names))
    }
    fn primary_host(&self) -> Result<Option<String>, ValkeyError> {
        self.live()?.primary_host()
    }
    fn valkey_version(&self) -> Result<String, ValkeyError> {
        self.live()?.valkey_version()
    }
}

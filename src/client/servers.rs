//! The effects the client relation needs from this unit's own servers, behind one small trait
//! so the handler is tested with a fake: ACL commands on the local Valkey and Sentinel, the
//! primary as the local Sentinel names it, the Valkey version, and whether the config files
//! already hold the users (so a file the charm re-rendered gets them back).

use super::answer::Topology;
use crate::valkey::acl::AclNode;
use crate::valkey::{Connector, Endpoint, TcpConnector, ValkeyError};
use crate::workload::{Paths, MONITOR_NAME, SENTINEL_PORT, VALKEY_PORT};

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

/// The real servers on this unit's bind address, reached with the admin credentials.
pub struct LiveServers {
    /// Connector with the admin user.
    pub connector: TcpConnector,
    /// The unit's bind address.
    pub bind: String,
    /// Where the config files are (`None` before storage is attached).
    pub paths: Option<Paths>,
}

impl LiveServers {
    fn endpoint(&self, sentinel: bool) -> Endpoint {
        Endpoint::new(self.bind.clone(), if sentinel { SENTINEL_PORT } else { VALKEY_PORT })
    }
}

impl LocalServers for LiveServers {
    fn acl(&self, sentinel: bool) -> Result<Box<dyn AclNode>, ValkeyError> {
        self.connector.acl(&self.endpoint(sentinel), sentinel)
    }

    fn persisted(&self, sentinel: bool, names: &[String]) -> bool {
        let Some(p) = &self.paths else { return false };
        let file = if sentinel { p.sentinel_conf() } else { p.valkey_conf() };
        let text = std::fs::read_to_string(file).unwrap_or_default();
        names.iter().all(|n| text.contains(&format!("user {n} ")))
    }

    fn primary_host(&self) -> Result<Option<String>, ValkeyError> {
        let mut s = self.connector.sentinel(&self.endpoint(true))?;
        Ok(s.primary_addr(MONITOR_NAME)?.map(|e| e.host))
    }

    fn valkey_version(&self) -> Result<String, ValkeyError> {
        self.connector.data(&self.endpoint(false))?.version()
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
    Ok(LiveServers { connector: TcpConnector { auth: Some(auth), ..Default::default() }, bind, paths })
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

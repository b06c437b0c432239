//! Where models live (`JUJU_LOCAL_HOME`, default `$HOME/.local/share/juju-local`), and creating and
//! destroying a whole model: its directory, its address block, its hook-tool links.

use super::{addresses, processes, ModelError};
use crate::hosts::{net, plan, NetworkMode};
use crate::state::ModelState;
use crate::store::{Store, StoreError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use crate::tools::TOOL_NAMES;

/// Default update-status interval (Juju's 5 minutes).
pub const DEFAULT_UPDATE_STATUS_SECS: u64 = 300;
/// Default hook timeout.
pub const DEFAULT_HOOK_TIMEOUT_SECS: u64 = 300;
/// Default base delay before retrying a failed hook.
pub const DEFAULT_RETRY_DELAY_MS: u64 = 5000;

/// The directory holding all models.
#[derive(Debug, Clone)]
pub struct Home {
    /// `<home>`; models are in `<home>/models/<name>/`.
    pub root: PathBuf,
}

impl Home {
    /// From `JUJU_LOCAL_HOME`, else `$HOME/.local/share/juju-local`.
    pub fn from_env() -> Home {
        let root = match std::env::var_os("JUJU_LOCAL_HOME") {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => {
                let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| "/tmp".into());
                home.join(".local/share/juju-local")
            }
        };
        Home { root }
    }

    /// The model commands use without `-m`: the one last added or switched to while it exists,
    /// else `default` (as `juju add-model` and `juju switch` make a model current).
    pub fn current_model(&self) -> String {
        std::fs::read_to_string(self.root.join("current-model"))
            .ok()
            .map(|name| name.trim().to_string())
            .filter(|name| !name.is_empty() && self.model_dir(name).join("state.json").exists())
            .unwrap_or_else(|| "default".to_string())
    }

    /// Records (or, with `None`, forgets) the current model.
    pub fn set_current_model(&self, name: Option<&str>) -> std::io::Result<()> {
        let path = self.root.join("current-model");
        match name {
            Some(name) => {
                std::fs::create_dir_all(&self.root)?;
                std::fs::write(path, format!("{name}\n"))
            }
            None => match std::fs::remove_file(path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
        }
    }

    /// Directory of model `name`.
    pub fn model_dir(&self, name: &str) -> PathBuf {
        self.root.join("models").join(name)
    }

    /// Names of the existing models, sorted.
    pub fn models(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.root.join("models"))
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join("state.json").exists())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        names
    }

    /// Opens model `name`, with a clear error if it does not exist.
    pub fn open(&self, name: &str) -> Result<Store, ModelError> {
        match Store::open(self.model_dir(name)) {
            Err(StoreError::NoModel(_)) => Err(ModelError::Usage(format!("model \"{name}\" not found"))),
            other => Ok(other?),
        }
    }

    /// Creates model `name` in loopback mode (see [`Home::create_with`]).
    pub fn create(&self, name: &str) -> Result<Store, ModelError> {
        self.create_with(name, NetworkMode::Loopback)
    }

    /// Creates model `name`: takes an address block, builds the host-mode bridge if asked for,
    /// writes the initial state and links the hook tools. Fails if it exists already, or if host
    /// mode cannot work here (not root, no iproute2).
    pub fn create_with(&self, name: &str, mode: NetworkMode) -> Result<Store, ModelError> {
        validate_model_name(name)?;
        let rootfs = match mode {
            NetworkMode::Loopback => None,
            NetworkMode::Hosts => {
                net::require()?;
                None
            }
            NetworkMode::Machines => Some(crate::machines::container::require()?),
        };
        let dir = self.model_dir(name);
        if dir.join("state.json").exists() {
            return Err(ModelError::Usage(format!("model \"{name}\" already exists")));
        }
        let jujuc = jujuc_path()?;
        let store = addresses::with_registry(|blocks| {
            let k = addresses::pick_block(blocks, &dir, addresses::model_exists)
                .ok_or_else(|| ModelError::Usage("no free loopback block left (254 models)".into()))?;
            let address_block = match mode {
                NetworkMode::Loopback => [127, 0, k],
                NetworkMode::Hosts | NetworkMode::Machines => {
                    net::create_bridge(k)?;
                    [plan::PREFIX[0], plan::PREFIX[1], k]
                }
            };
            let state = ModelState {
                name: name.to_string(),
                uuid: new_uuid(),
                address_block,
                network_mode: mode,
                rootfs: rootfs.clone(),
                update_status_interval_secs: DEFAULT_UPDATE_STATUS_SECS,
                hook_timeout_secs: DEFAULT_HOOK_TIMEOUT_SECS,
                hook_retry_delay_ms: DEFAULT_RETRY_DELAY_MS,
                owner_pid: std::env::var("JUJU_LOCAL_OWNER_PID").ok().and_then(|p| p.trim().parse().ok()),
                ..ModelState::default()
            };
            let store = Store::create(&dir, state).inspect_err(|_| {
                if mode.has_namespaces() {
                    net::destroy_block(k);
                }
            })?;
            blocks.insert(k, dir.clone());
            Ok(store)
        })?;
        link_tools(&store.tools_dir(), &jujuc)?;
        Ok(store)
    }

    /// Opens model `name`, creating it first if needed (what `deploy` does).
    pub fn open_or_create(&self, name: &str) -> Result<Store, ModelError> {
        if self.model_dir(name).join("state.json").exists() {
            self.open(name)
        } else {
            self.create(name)
        }
    }
}

/// Model names: lowercase letters, digits and dashes, like Juju's.
pub fn validate_model_name(name: &str) -> Result<(), ModelError> {
    let ok = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(ModelError::Usage(format!("\"{name}\" is not a valid model name")))
    }
}

/// A random version-4 UUID.
pub fn new_uuid() -> String {
    let b: [u8; 16] = rand::random();
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-4{}-{:x}{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        (b[8] & 0x3) | 0x8,
        &hex[17..20],
        &hex[20..32]
    )
}

/// The `jujuc` binary: env `JUJU_LOCAL_JUJUC`, else beside the running executable.
pub fn jujuc_path() -> Result<PathBuf, ModelError> {
    if let Some(p) = std::env::var_os("JUJU_LOCAL_JUJUC").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().map_err(ModelError::io("cannot locate juju-local"))?;
    let path = exe.with_file_name("jujuc");
    if !path.exists() {
        return Err(ModelError::Usage(format!(
            "hook tools binary {} not found (build it, or set JUJU_LOCAL_JUJUC)",
            path.display()
        )));
    }
    Ok(path)
}

/// Creates `<tools>/<name>` → `jujuc` for every hook tool (replacing stale links).
pub fn link_tools(tools: &Path, jujuc: &Path) -> Result<(), ModelError> {
    std::fs::create_dir_all(tools).map_err(ModelError::io(format!("cannot create {}", tools.display())))?;
    for name in TOOL_NAMES {
        let link = tools.join(name);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(jujuc, &link)
            .map_err(ModelError::io(format!("cannot link {}", link.display())))?;
    }
    Ok(())
}

/// Reads the agent's pid from `agent.pid`, if the file exists and parses.
pub fn agent_pid(dir: &Path) -> Option<i32> {
    std::fs::read_to_string(dir.join("agent.pid")).ok()?.trim().parse().ok()
}

/// Destroys a model: stops its agent (unless that is us), stops every process its units started,
/// removes its host-mode network (namespaces, links, bridge, `/etc/netns` entries), frees its
/// address block and deletes its directory.
pub fn destroy(store: &Store) -> Result<(), ModelError> {
    let dir = store.dir().to_path_buf();
    let state = store.read().ok();
    let uuid = state.as_ref().map(|s| s.uuid.clone());
    if let Some(pid) = agent_pid(&dir).filter(|p| *p != std::process::id() as i32) {
        stop_pid(pid);
    }
    if let Some(s) = &state {
        crate::machines::remove_all(&dir, s);
    }
    if let Some(uuid) = uuid.as_deref().filter(|u| !u.is_empty()) {
        processes::stop(uuid, None, Some(&dir));
    }
    if let Some(s) = state.as_ref().filter(|s| s.network_mode.has_namespaces()) {
        net::destroy_block(plan::block_of(s));
    }
    std::fs::remove_dir_all(&dir).map_err(ModelError::io(format!("cannot remove {}", dir.display())))?;
    addresses::release(&dir)
}

/// SIGTERM, up to 5 s to exit, then SIGKILL.
pub fn stop_pid(pid: i32) {
    if !processes::alive(pid) {
        return;
    }
    processes::signal(pid, libc::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(5);
    while processes::alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if processes::alive(pid) {
        processes::signal(pid, libc::SIGKILL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_and_names() {
        let u = new_uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(validate_model_name("test-1").is_ok());
        assert!(validate_model_name("Bad/name").is_err());
        assert!(validate_model_name("").is_err());
    }
}

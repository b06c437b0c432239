//! The hook context a tool runs in: who is calling (from the environment the agent set) and the
//! model it belongs to, plus the two ways a tool touches the model — reading the state as the hook
//! sees it (committed state with the hook's own held-back changes applied) and recording a
//! held-back change.

use super::commit::apply_pending;
use super::ToolError;
use crate::state::{application_of, ModelState, PendingChanges, Relation, Unit};
use crate::store::Store;
use std::path::{Path, PathBuf};

/// The variables the agent exports to every hook, as far as the tools use them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HookEnv {
    /// `JUJU_LOCAL_MODEL_DIR` (tests), else the directory of `JUJU_AGENT_SOCKET_ADDRESS`
    /// (`@<model-dir>/agent.socket`, as the agent exports it to hooks), else the parent of the
    /// tools dir the tool link lives in (a process outside any hook running a tool by path).
    pub model_dir: Option<PathBuf>,
    /// `JUJU_UNIT_NAME`: the unit every tool acts for.
    pub unit: Option<String>,
    /// `JUJU_CONTEXT_ID`: keys the held-back changes of this hook.
    pub context_id: Option<String>,
    /// `JUJU_RELATION_ID` (`valkey-peers:0`): the default `-r` in relation hooks.
    pub relation_id: Option<String>,
    /// `JUJU_REMOTE_UNIT`: the default unit of relation-get.
    pub remote_unit: Option<String>,
    /// `JUJU_REMOTE_APP`: the default application of `relation-get --app`.
    pub remote_app: Option<String>,
    /// `JUJU_ACTION_UUID`: the operation id (decimal) of a running action or juju-exec command.
    pub action_id: Option<String>,
    /// `JUJU_STORAGE_ID`: the default `-s` of storage-get in storage hooks.
    pub storage_id: Option<String>,
}

impl HookEnv {
    /// Reads the environment through `get` (empty values count as unset, as Juju exports empty
    /// `JUJU_REMOTE_UNIT` for -created hooks). `argv0` locates the model when
    /// `JUJU_LOCAL_MODEL_DIR` is unset: the link is `<model-dir>/tools/<tool>`, and it is not
    /// canonicalised because the link's target is the shared jujuc binary.
    pub fn from_lookup(argv0: &Path, get: impl Fn(&str) -> Option<String>) -> HookEnv {
        let var = |name: &str| get(name).filter(|v| !v.is_empty());
        let from_socket = || {
            let socket = var("JUJU_AGENT_SOCKET_ADDRESS")?;
            let path = Path::new(socket.strip_prefix('@')?);
            (path.file_name()? == "agent.socket").then(|| path.parent().map(Path::to_path_buf))?
        };
        let model_dir = var("JUJU_LOCAL_MODEL_DIR").map(PathBuf::from).or_else(from_socket).or_else(|| {
            let tools = argv0.parent().filter(|p| !p.as_os_str().is_empty())?;
            tools.parent().map(Path::to_path_buf)
        });
        HookEnv {
            model_dir,
            unit: var("JUJU_UNIT_NAME"),
            context_id: var("JUJU_CONTEXT_ID"),
            relation_id: var("JUJU_RELATION_ID"),
            remote_unit: var("JUJU_REMOTE_UNIT"),
            remote_app: var("JUJU_REMOTE_APP"),
            action_id: var("JUJU_ACTION_UUID"),
            storage_id: var("JUJU_STORAGE_ID"),
        }
    }
}

/// A tool's handle on its hook: the environment and the model store.
#[derive(Debug, Clone)]
pub struct HookContext {
    /// The caller's environment.
    pub env: HookEnv,
    /// The model.
    pub store: Store,
}

impl HookContext {
    /// Opens the model the environment points at.
    pub fn open(env: HookEnv) -> Result<HookContext, ToolError> {
        let dir = env.model_dir.clone().ok_or_else(|| {
            ToolError::Failed(
                "cannot locate the model: JUJU_LOCAL_MODEL_DIR is unset and the tool was not run by path"
                    .into(),
            )
        })?;
        Ok(HookContext { store: Store::open(dir)?, env })
    }

    /// The calling unit's name.
    pub fn unit(&self) -> Result<&str, ToolError> {
        self.env.unit.as_deref().ok_or_else(|| ToolError::Failed("JUJU_UNIT_NAME is not set".into()))
    }

    /// The hook context id.
    pub fn context_id(&self) -> Result<&str, ToolError> {
        self.env.context_id.as_deref().ok_or_else(|| ToolError::Failed("JUJU_CONTEXT_ID is not set".into()))
    }

    /// The model as this hook sees it: the committed state with the hook's own held-back changes
    /// applied (Juju's hook context caches its own writes the same way). Without a context id
    /// (a tool run by hand with only `JUJU_UNIT_NAME`) it is the committed state.
    pub fn view(&self) -> Result<ModelState, ToolError> {
        let Some(context_id) = self.env.context_id.as_deref() else {
            return Ok(self.store.read()?);
        };
        let (mut state, pending) = self.store.read_with_pending(context_id, self.unit()?)?;
        apply_pending(&mut state, &pending);
        Ok(state)
    }

    /// Records held-back changes: `f` gets the hook's view and the pending changes to extend,
    /// under the model's exclusive lock; nothing is saved if it fails.
    pub fn hold<T>(
        &self,
        f: impl FnOnce(&ModelState, &mut PendingChanges) -> Result<T, ToolError>,
    ) -> Result<T, ToolError> {
        self.store.update_pending(self.context_id()?, self.unit()?, |state, pending| {
            let mut view = state.clone();
            apply_pending(&mut view, pending);
            f(&view, pending)
        })
    }
}

/// The unit `name` in `state`, or Juju's `unit "x" not found`.
pub fn unit_in<'s>(state: &'s ModelState, name: &str) -> Result<&'s Unit, ToolError> {
    state.units.get(name).ok_or_else(|| ToolError::Failed(format!("unit \"{name}\" not found")))
}

/// Whether `unit` is its application's leader.
pub fn is_leader(state: &ModelState, unit: &str) -> bool {
    state.applications.get(application_of(unit)).and_then(|a| a.leader.as_deref()) == Some(unit)
}

/// The number in a relation id given as `N` or `endpoint:N` (only the part after the last `:`).
pub fn relation_number(text: &str) -> Option<u32> {
    text.rsplit(':').next()?.parse().ok()
}

/// The relation a tool addresses: `-r` if given, else the hook's own relation. It must exist and
/// include the unit's application; otherwise it is a usage error, as in Juju.
pub fn resolve_relation<'s>(
    state: &'s ModelState,
    unit: &str,
    flag: Option<&str>,
    env: &HookEnv,
) -> Result<&'s Relation, ToolError> {
    let given = match flag.or(env.relation_id.as_deref()) {
        Some(text) => text,
        None => return Err(ToolError::Usage("no relation id specified".into())),
    };
    let invalid = |why: &str| {
        ToolError::Usage(format!("invalid value {} for option -r: {why}", super::args::go_quote(given)))
    };
    let id = relation_number(given).ok_or_else(|| invalid("invalid relation id"))?;
    state
        .relations
        .get(&id)
        .filter(|r| r.applications.contains(application_of(unit)))
        .ok_or_else(|| invalid("relation not found"))
}

/// `endpoint:id`, the way Juju names a relation to the charms of `app` (each side of a
/// cross-application relation by its own endpoint).
pub fn relation_key(relation: &Relation, app: &str) -> String {
    format!("{}:{}", relation.endpoint_for(app), relation.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn model_dir_comes_from_env_or_from_the_link_path() {
        let vars: BTreeMap<&str, &str> = [("JUJU_UNIT_NAME", "v/0"), ("JUJU_REMOTE_UNIT", "")].into();
        let env =
            HookEnv::from_lookup(Path::new("/m/tools/relation-get"), |k| vars.get(k).map(|v| v.to_string()));
        assert_eq!(env.model_dir, Some(PathBuf::from("/m")));
        assert_eq!(env.unit.as_deref(), Some("v/0"));
        assert_eq!(env.remote_unit, None);
        let env = HookEnv::from_lookup(Path::new("relation-get"), |_| None);
        assert_eq!(env.model_dir, None);
        let env = HookEnv::from_lookup(Path::new("relation-get"), |k| {
            (k == "JUJU_LOCAL_MODEL_DIR").then(|| "/x".to_string())
        });
        assert_eq!(env.model_dir, Some(PathBuf::from("/x")));
        // What a hook gets from the agent, as Juju's hook tools find their agent's socket.
        let env = HookEnv::from_lookup(Path::new("relation-get"), |k| {
            (k == "JUJU_AGENT_SOCKET_ADDRESS").then(|| "@/models/m1/agent.socket".to_string())
        });
        assert_eq!(env.model_dir, Some(PathBuf::from("/models/m1")));
        let env = HookEnv::from_lookup(Path::new("relation-get"), |k| {
            (k == "JUJU_AGENT_SOCKET_ADDRESS").then(|| "@/var/lib/juju/x.socket".to_string())
        });
        assert_eq!(env.model_dir, None);
    }

    #[test]
    fn relation_numbers_accept_both_forms() {
        assert_eq!(relation_number("valkey-peers:3"), Some(3));
        assert_eq!(relation_number("12"), Some(12));
        assert_eq!(relation_number("a:b:4"), Some(4));
        assert_eq!(relation_number("peers:"), None);
    }
}

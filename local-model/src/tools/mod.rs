//! The hook tools (`relation-get`, `status-set`, `secret-add`, ...) behind the `jujuc` multi-call
//! binary, with Juju 3.6's flags, output formats, error texts and exit codes.
//!
//! ## Layout
//! - [`args`] — GNU-style flag parsing; [`format`](mod@format) — smart/json/yaml output.
//! - [`context`] — the caller's environment, the model view and held-back changes.
//! - [`commit`] — [`commit::apply_pending`], which the agent runs when a hook exits 0.
//! - One file per tool family: [`relation`], [`unit`](mod@unit) (config, leadership, storage, network,
//!   resources), [`ports`], [`unit_state`], [`status`], [`action`], [`secret`] (owners' changes),
//!   [`secret_read`], [`secret_access`] (shared lookup and permissions), [`exec`] (`juju-exec`).
//!
//! Every tool is `fn(&HookContext, &[String], &mut Streams) -> Result<(), ToolError>`; [`run`] picks
//! it by name and the binary turns the error into `ERROR <msg>` and an exit code.

pub mod action;
pub mod args;
pub mod base64;
pub mod commit;
pub mod context;
pub mod exec;
pub mod format;
pub mod goal;
pub mod ports;
pub mod relation;
pub mod secret;
pub mod secret_access;
pub mod secret_read;
pub mod status;
pub mod unit;
pub mod unit_state;

use crate::store::StoreError;
use context::{HookContext, HookEnv};
use std::io::{Read, Write};

/// Why a tool failed; decides the exit code.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// Bad flags or arguments (exit 2, like Juju's `Init` errors).
    #[error("{0}")]
    Usage(String),
    /// The tool ran and failed (exit 1).
    #[error("{0}")]
    Failed(String),
    /// The tool name is not one jujuc knows (exit 2).
    #[error("unknown command: {0}")]
    UnknownTool(String),
    /// The model could not be read or written (exit 1).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing output failed (exit 1).
    #[error("cannot write output: {0}")]
    Io(#[from] std::io::Error),
}

impl ToolError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            ToolError::Usage(_) | ToolError::UnknownTool(_) => 2,
            _ => 1,
        }
    }
}

/// The standard streams of a tool invocation, so tools can be driven in-process too.
pub struct Streams<'a> {
    /// Input (`relation-set --file -`).
    pub stdin: &'a mut dyn Read,
    /// Output.
    pub stdout: &'a mut dyn Write,
    /// Diagnostics (and `juju-exec`'s relayed stderr).
    pub stderr: &'a mut dyn Write,
}

type Tool = fn(&HookContext, &[String], &mut Streams) -> Result<(), ToolError>;

/// The tool function for a name, if jujuc provides it.
fn lookup(name: &str) -> Option<Tool> {
    Some(match name {
        "relation-ids" => relation::relation_ids,
        "relation-list" => relation::relation_list,
        "relation-get" => relation::relation_get,
        "relation-set" => relation::relation_set,
        "config-get" => unit::config_get,
        "is-leader" => unit::is_leader,
        "storage-list" => unit::storage_list,
        "storage-get" => unit::storage_get,
        "network-get" => unit::network_get,
        "unit-get" => unit::unit_get,
        "resource-get" => unit::resource_get,
        "open-port" => ports::open_port,
        "close-port" => ports::close_port,
        "opened-ports" => ports::opened_ports,
        "state-get" => unit_state::state_get,
        "state-set" => unit_state::state_set,
        "state-delete" => unit_state::state_delete,
        "status-set" => status::status_set,
        "status-get" => status::status_get,
        "application-version-set" => status::application_version_set,
        "juju-log" => status::juju_log,
        "action-get" => action::action_get,
        "action-set" => action::action_set,
        "action-fail" => action::action_fail,
        "action-log" => action::action_log,
        "secret-add" => secret::secret_add,
        "secret-set" => secret::secret_set,
        "secret-grant" => secret::secret_grant,
        "secret-revoke" => secret::secret_revoke,
        "secret-remove" => secret::secret_remove,
        "secret-get" => secret_read::secret_get,
        "secret-ids" => secret_read::secret_ids,
        "secret-info-get" => secret_read::secret_info_get,
        "goal-state" => goal::goal_state,
        "relation-model-get" => goal::relation_model_get,
        _ => return None,
    })
}

/// Every tool name the model links to `jujuc` (what `<model-dir>/tools/` should contain).
pub const TOOL_NAMES: [&str; 41] = [
    "relation-ids",
    "relation-list",
    "relation-get",
    "relation-set",
    "config-get",
    "is-leader",
    "status-set",
    "status-get",
    "application-version-set",
    "action-get",
    "action-set",
    "action-fail",
    "action-log",
    "juju-log",
    "storage-list",
    "storage-get",
    "storage-add",
    "network-get",
    "open-port",
    "close-port",
    "opened-ports",
    "secret-add",
    "secret-get",
    "secret-set",
    "secret-grant",
    "secret-revoke",
    "secret-ids",
    "secret-info-get",
    "secret-remove",
    "state-get",
    "state-set",
    "state-delete",
    "resource-get",
    "juju-exec",
    "juju-reboot",
    "credential-get",
    "leader-get",
    "leader-set",
    "unit-get",
    "goal-state",
    "relation-model-get",
];

/// Tools the model links (Juju has them) that the local model does not implement: they fail with
/// a clear message instead of "unknown command".
const UNSUPPORTED: [&str; 5] = ["storage-add", "juju-reboot", "credential-get", "leader-get", "leader-set"];

/// Runs tool `name` with `args` and returns the exit code it should end with on success (a tool's
/// own status: 0, except `juju-exec`, which passes on its command's code).
pub fn run(name: &str, args: &[String], env: HookEnv, io: &mut Streams) -> Result<i32, ToolError> {
    if name == "juju-exec" {
        return exec::juju_exec(env, args, io);
    }
    if UNSUPPORTED.contains(&name) {
        return Err(ToolError::Failed(format!("{name} is not supported by juju-local")));
    }
    let tool = lookup(name).ok_or_else(|| ToolError::UnknownTool(name.to_string()))?;
    let hook = HookContext::open(env)?;
    tool(&hook, args, io)?;
    Ok(0)
}

/// Seconds since the Unix epoch, for status and log timestamps.
pub fn now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

//! Actions. Each one ends in `action-set` (success) or `action-fail` (with a human reason) —
//! never both silent — and exits 0: a failed action must not put the unit into error.

pub mod failover;
pub mod failover_history;
pub mod get_password;
pub mod get_primary;
pub mod promote_replica;

use crate::juju::{ActionKind, Context, HookTools};
use std::collections::BTreeMap;

/// An action's answer: results to set, or the reason it failed.
pub type ActionResult = Result<BTreeMap<String, String>, String>;

/// Runs an action and reports its result to Juju; returns the exit code (always 0 unless even
/// reporting failed).
pub fn run(kind: ActionKind, ctx: &Context, tools: &dyn HookTools) -> i32 {
    let result = match kind {
        ActionKind::GetPrimary => get_primary::run(ctx, tools),
        ActionKind::Failover => failover::run(ctx, tools),
        ActionKind::GetPassword => get_password::run(ctx, tools),
        ActionKind::FailoverHistory => failover_history::run(ctx, tools),
        ActionKind::PromoteReplica => promote_replica::run(ctx, tools),
    };
    let reported = match result {
        Ok(results) => tools.action_set(&results),
        Err(reason) => {
            tracing::warn!("action {} failed: {reason}", kind.name());
            tools.action_fail(&reason)
        }
    };
    match reported {
        Ok(()) => 0,
        Err(e) => {
            tracing::error!("cannot report the action result: {e}");
            eprintln!("cannot report the action result: {e}");
            1
        }
    }
}

/// Builds a results map from pairs.
pub fn results(pairs: &[(&str, String)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

/// A string parameter, `None` when absent or empty.
pub fn param(tools: &dyn HookTools, key: &str) -> Result<Option<String>, String> {
    let params = tools.action_get().map_err(|e| format!("cannot read the parameters: {e}"))?;
    match params.get(key) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) if s.is_empty() => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("parameter {key} must be a string, got {other}")),
    }
}

//! `juju-exec <unit> -- <command...>` (or `-u <unit>`): runs a command in a hook context on a
//! unit, the way a process outside any hook (a Sentinel `client-reconfig-script`) dispatches an
//! event. It queues an operation for the unit's agent, waits for its outcome and relays the
//! command's output and exit code. Needs no hook environment, only the model.
//!
//! As Juju's (`cmd/jujud/run/run.go`): it refuses to run inside a hook context
//! (`JUJU_CONTEXT_ID` set), has no `--timeout`/`--wait` flags and waits as long as the command
//! runs; and only root may use it, because the unit agent's socket is root's — in juju-local the
//! model's owner (the uid owning the model directory) stands for root.

use super::args::{self, Flag};
use super::context::HookEnv;
use super::{now, Streams, ToolError};
use crate::state::{Operation, QueuedEvent};
use crate::store::Store;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

/// How often the operation is polled while waiting.
const POLL: Duration = Duration::from_millis(20);

/// Juju's refusal inside a hook (`RunCommand.Init`): a hook context cannot nest another.
pub fn refuse_in_hook(context_id: Option<&str>) -> Result<(), ToolError> {
    match context_id {
        Some(id) if !id.is_empty() => Err(ToolError::Usage(format!(
            "juju-exec cannot be called from within a hook, have context {}",
            args::go_quote(id)
        ))),
        _ => Ok(()),
    }
}

/// Only the model's owner may queue work on its units, as only root may dial a unit agent's
/// `run.socket` on a Juju machine (the dial fails with "permission denied").
fn refuse_other_users(model_dir: &Path) -> Result<(), ToolError> {
    let owner = std::fs::metadata(model_dir)
        .map_err(|e| ToolError::Failed(format!("dialing juju exec socket: {}: {e}", model_dir.display())))?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if me != 0 && me != owner.uid() {
        return Err(ToolError::Failed(format!(
            "dialing juju exec socket: permission denied (uid {me}; only root or the model's owner, uid {}, may run juju-exec)",
            owner.uid()
        )));
    }
    Ok(())
}

/// Joins a command line for `sh -c`: a single argument is taken as a shell command already;
/// several are quoted where needed so each stays one word.
pub fn shell_join(words: &[String]) -> String {
    if let [only] = words {
        return only.clone();
    }
    let quote = |w: &String| {
        let plain = !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c));
        if plain {
            w.clone()
        } else {
            format!("'{}'", w.replace('\'', "'\\''"))
        }
    };
    words.iter().map(quote).collect::<Vec<_>>().join(" ")
}

/// Runs `juju-exec`; returns the command's exit code.
pub fn juju_exec(env: HookEnv, args: &[String], io: &mut Streams) -> Result<i32, ToolError> {
    refuse_in_hook(env.context_id.as_deref())?;
    let flags = [
        Flag::value(&["u"]),
        Flag::switch(&["no-context"]),
        Flag::switch(&["force-remote-unit"]),
        Flag::switch(&["operator"]),
        Flag::value(&["r", "relation"]),
        Flag::value(&["remote-unit"]),
        Flag::value(&["remote-app"]),
    ];
    let parsed = args::parse_with(&flags, args, false)?;
    let mut words = parsed.positionals.clone();
    let unit = match parsed.value("u") {
        Some(unit) => unit.to_string(),
        None if !words.is_empty() => words.remove(0),
        None => return Err(ToolError::Usage("missing unit name".into())),
    };
    if words.first().map(String::as_str) == Some("--") {
        words.remove(0);
    }
    if words.is_empty() {
        return Err(ToolError::Usage("missing commands".into()));
    }
    let dir = env.model_dir.ok_or_else(|| {
        ToolError::Failed(
            "cannot locate the model: JUJU_LOCAL_MODEL_DIR is unset and juju-exec was not run by path".into(),
        )
    })?;
    refuse_other_users(&dir)?;
    let store = Store::open(dir)?;
    let command = shell_join(&words);
    let id = store.update(|state| {
        if !state.units.contains_key(&unit) {
            return Err(ToolError::Failed(format!("unit \"{unit}\" not found")));
        }
        // Never reuse an id, whichever convention other writers of the counter follow.
        let next_free = state.operations.keys().next_back().map_or(0, |last| last + 1);
        let id = state.counters.operation.max(next_free);
        state.counters.operation = id + 1;
        let op = Operation {
            id,
            unit: unit.clone(),
            command: Some(command),
            status: "pending".into(),
            enqueued: now(),
            ..Operation::default()
        };
        state.operations.insert(id, op);
        if let Some(u) = state.units.get_mut(&unit) {
            u.queue.push_back(QueuedEvent::Operation { id });
        }
        Ok(id)
    })?;
    loop {
        let state = store.read()?;
        let op = state
            .operations
            .get(&id)
            .ok_or_else(|| ToolError::Failed(format!("operation {id} disappeared")))?;
        if op.status == "completed" || op.status == "failed" {
            io.stdout.write_all(op.stdout.as_bytes())?;
            io.stderr.write_all(op.stderr.as_bytes())?;
            let fallback = if op.status == "failed" { 1 } else { 0 };
            return Ok(op.return_code.unwrap_or(fallback));
        }
        std::thread::sleep(POLL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_joined_for_sh() {
        let words = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(shell_join(&words(&["echo hi && true"])), "echo hi && true");
        assert_eq!(
            shell_join(&words(&["env", "JUJU_DISPATCH_PATH=hooks/x", "./dispatch"])),
            "env JUJU_DISPATCH_PATH=hooks/x ./dispatch"
        );
        assert_eq!(shell_join(&words(&["echo", "a b", "it's"])), "echo 'a b' 'it'\\''s'");
    }
}

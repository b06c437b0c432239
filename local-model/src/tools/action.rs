//! `action-get`, `action-set`, `action-fail`, `action-log`: an action's parameters and results.
//! Results, failure and log lines go straight into the operation record (`state.operations[id]`),
//! where `juju-local run` reads them; the agent decides the final status when the process exits.

use super::args::{self, OUTPUT_FLAGS};
use super::context::HookContext;
use super::format::emit;
use super::{Streams, ToolError};
use crate::state::{ModelState, Operation};
use serde_json::{Map, Value};

/// Result keys Juju fills in itself; charms may not set them.
const RESERVED: [&str; 4] = ["stdout", "stdout-encoding", "stderr", "stderr-encoding"];

/// Whether `key` is a valid action key segment: `[a-z0-9]`, optionally with single inner hyphens
/// (`[a-z0-9](-?[a-z0-9])*`).
pub fn valid_segment(key: &str) -> bool {
    let bytes = key.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    !bytes.is_empty()
        && alnum(&bytes[0])
        && alnum(&bytes[bytes.len() - 1])
        && bytes.iter().all(|b| alnum(b) || *b == b'-')
        && !key.contains("--")
}

/// Parses `action-set` arguments into (key path, value) pairs, with Juju's validation.
pub fn parse_results(args: &[String]) -> Result<Vec<(Vec<String>, String)>, ToolError> {
    let mut out = Vec::new();
    for arg in args {
        let (key, value) = args::key_value(arg).ok_or_else(|| {
            ToolError::Usage(format!("argument {} must be of the form key...=value", args::go_quote(arg)))
        })?;
        let path: Vec<String> = key.split('.').map(str::to_string).collect();
        for segment in &path {
            if !valid_segment(segment) {
                return Err(ToolError::Usage(format!(
                    "key {} must start and end with lowercase alphanumeric, and contain only lowercase alphanumeric, hyphens and periods",
                    args::go_quote(segment)
                )));
            }
            // Juju refuses a reserved name at any depth.
            if RESERVED.contains(&segment.as_str()) {
                let quoted = args::go_quote(segment);
                return Err(ToolError::Usage(format!("cannot set reserved action key {quoted}")));
            }
        }
        out.push((path, value.to_string()));
    }
    Ok(out)
}

/// Sets `value` at the dotted `path` in `map`, creating (or replacing non-map values with)
/// nested maps on the way.
pub fn insert_nested(map: &mut Map<String, Value>, path: &[String], value: String) {
    let Some((last, parents)) = path.split_last() else { return };
    let mut here = map;
    for key in parents {
        let slot = here.entry(key.clone()).or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        here = slot.as_object_mut().expect("just made an object");
    }
    here.insert(last.clone(), Value::String(value));
}

/// The running action's operation id, or Juju's `not running an action`.
fn action_id(hook: &HookContext) -> Result<u64, ToolError> {
    let text =
        hook.env.action_id.as_deref().ok_or_else(|| ToolError::Failed("not running an action".into()))?;
    text.parse().map_err(|_| ToolError::Failed(format!("invalid JUJU_ACTION_UUID {}", args::go_quote(text))))
}

fn operation_mut(state: &mut ModelState, id: u64) -> Result<&mut Operation, ToolError> {
    state.operations.get_mut(&id).ok_or_else(|| ToolError::Failed(format!("action {id} not found")))
}

/// `action-get [<key>[.<key>...]]`: the action's parameters, or one of them (`null` if absent).
pub fn action_get(hook: &HookContext, args: &[String], io: &mut Streams) -> Result<(), ToolError> {
    let parsed = args::parse(&OUTPUT_FLAGS, args)?;
    parsed.at_most(1)?;
    let id = action_id(hook)?;
    let state = hook.store.read()?;
    let op = state.operations.get(&id).ok_or_else(|| ToolError::Failed(format!("action {id} not found")))?;
    let mut value = Value::Object(op.params.clone());
    if let Some(path) = parsed.positionals.first() {
        for key in path.split('.') {
            value = value.get(key).cloned().unwrap_or(Value::Null);
        }
    }
    emit(io.stdout, &parsed, &value)
}

/// `action-set key=value [sub.key=value ...]`: adds results; dotted keys nest.
pub fn action_set(hook: &HookContext, args: &[String], _io: &mut Streams) -> Result<(), ToolError> {
    let parsed = args::parse(&[], args)?;
    let results = parse_results(&parsed.positionals)?;
    let id = action_id(hook)?;
    hook.store.update(|state| {
        let op = operation_mut(state, id)?;
        for (path, value) in results {
            insert_nested(&mut op.results, &path, value);
        }
        Ok(())
    })
}

/// `action-fail ["<message>"]`: marks the action failed; the process keeps running.
pub fn action_fail(hook: &HookContext, args: &[String], _io: &mut Streams) -> Result<(), ToolError> {
    let parsed = args::parse(&[], args)?;
    parsed.at_most(1)?;
    let message =
        parsed.positionals.first().cloned().unwrap_or_else(|| "action failed without reason given".into());
    let id = action_id(hook)?;
    hook.store.update(|state| {
        operation_mut(state, id)?.failure = Some(message);
        Ok(())
    })
}

/// `action-log <message...>`: a progress line for the operator.
pub fn action_log(hook: &HookContext, args: &[String], _io: &mut Streams) -> Result<(), ToolError> {
    let parsed = args::parse(&[], args)?;
    if parsed.positionals.is_empty() {
        return Err(ToolError::Usage("no message specified".into()));
    }
    let id = action_id(hook)?;
    hook.store.update(|state| {
        operation_mut(state, id)?.log.push(parsed.positionals.join(" "));
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn dotted_keys_nest_and_later_values_win() {
        let mut results = Map::new();
        for (path, value) in parse_results(&strings(&["a.b=1", "a.c=2", "top=x", "top.sub=y"])).unwrap() {
            insert_nested(&mut results, &path, value);
        }
        assert_eq!(Value::Object(results), json!({"a": {"b": "1", "c": "2"}, "top": {"sub": "y"}}));
    }

    #[test]
    fn key_segments_are_validated() {
        for good in ["a", "a-b", "a1", "9", "x-1-y"] {
            assert!(valid_segment(good), "{good}");
        }
        for bad in ["", "A", "-a", "a-", "a--b", "a_b", "a b"] {
            assert!(!valid_segment(bad), "{bad}");
        }
        let err = parse_results(&strings(&["Bad=1"])).unwrap_err();
        assert!(err.to_string().starts_with("key \"Bad\" must start and end with lowercase alphanumeric"));
        let err = parse_results(&strings(&["a.stdout=x"])).unwrap_err();
        assert_eq!(err.to_string(), "cannot set reserved action key \"stdout\"");
        let err = parse_results(&strings(&["novalue"])).unwrap_err();
        assert_eq!(err.to_string(), "argument \"novalue\" must be of the form key...=value");
        assert!(matches!(err, ToolError::Usage(_)));
    }
}

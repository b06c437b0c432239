//! `state-get`, `state-set`, `state-delete`: the per-unit key-value store the agent keeps for the
//! charm. Writes are held back until the hook succeeds; reads see them at once.

use super::args::{self, Flag, OUTPUT_FLAGS};
use super::context::{unit_in, HookContext};
use super::format::emit;
use super::relation::read_settings_file;
use super::{Streams, ToolError};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// `state-get [--strict] [<key>|-]`: the whole store (`null` when empty) or one value (`""` when
/// missing, an error with `--strict`).
pub fn state_get(hook: &HookContext, args: &[String], io: &mut Streams) -> Result<(), ToolError> {
    let mut flags = OUTPUT_FLAGS.to_vec();
    flags.push(Flag::switch(&["strict"]));
    let parsed = args::parse(&flags, args)?;
    parsed.at_most(1)?;
    let state = hook.view()?;
    let store = &unit_in(&state, hook.unit()?)?.state;
    // Juju prints "" for a missing key (its lookup returns the zero string), and "-" means all.
    let value = match parsed.positionals.first().filter(|k| *k != "-") {
        Some(key) => match store.get(key) {
            Some(v) => json!(v),
            None if parsed.switch("strict") => {
                return Err(ToolError::Failed(format!("{} not found", args::go_quote(key))))
            }
            None => json!(""),
        },
        None if store.is_empty() => Value::Null,
        None => json!(store),
    };
    emit(io.stdout, &parsed, &value)
}

/// `state-set [--file PATH|-] key=value ...` (`key=` deletes; `-` reads stdin, as ops.hookcmds
/// sends it). Held back.
pub fn state_set(hook: &HookContext, args: &[String], io: &mut Streams) -> Result<(), ToolError> {
    let parsed = args::parse(&[Flag::value(&["file"])], args)?;
    let mut changes: BTreeMap<String, Option<String>> = BTreeMap::new();
    if let Some(path) = parsed.value("file") {
        changes.extend(read_settings_file(path, io)?);
    }
    for arg in &parsed.positionals {
        let (k, v) = args::key_value(arg).ok_or_else(|| {
            ToolError::Usage(format!("expected \"key=value\", got {}", args::go_quote(arg)))
        })?;
        changes.insert(k.to_string(), (!v.is_empty()).then(|| v.to_string()));
    }
    hook.hold(|_, pending| {
        pending.state.extend(changes);
        Ok(())
    })
}

/// `state-delete <key>`. Held back.
pub fn state_delete(hook: &HookContext, args: &[String], _io: &mut Streams) -> Result<(), ToolError> {
    let parsed = args::parse(&[], args)?;
    parsed.at_most(1)?;
    let key = parsed.positionals.first().ok_or_else(|| ToolError::Usage("no key specified".into()))?;
    hook.hold(|_, pending| {
        pending.state.insert(key.clone(), None);
        Ok(())
    })
}

//! Reading secrets: `secret-get`, `secret-ids`, `secret-info-get`.
//!
//! Owners always read the latest revision. A consumer reads the revision it tracks; its first read
//! starts tracking the latest, `--refresh` moves it to the latest and `--peek` reads the latest
//! without moving. Tracking changes are held back like every other secret change.

use super::args::{self, Flag, OUTPUT_FLAGS};
use super::context::HookContext;
use super::format::{emit, emit_yaml_or_json};
use super::secret_access::{can_read, check_manage, find, owns, secret_id, valid_reference};
use super::{Streams, ToolError};
use crate::state::{application_of, SecretChange};
use serde_json::{json, Map, Value};

/// `secret-get <ID> [<key>] [--refresh|--peek]`, or `secret-get --label L [<key>]`; output is
/// YAML (default) or JSON, as in Juju.
pub fn secret_get(hook: &HookContext, args: &[String], io: &mut Streams) -> Result<(), ToolError> {
    let mut flags = OUTPUT_FLAGS.to_vec();
    flags.extend([Flag::value(&["label"]), Flag::switch(&["refresh"]), Flag::switch(&["peek"])]);
    let parsed = args::parse(&flags, args)?;
    parsed.at_most(2)?;
    let (refresh, peek) = (parsed.switch("refresh"), parsed.switch("peek"));
    if refresh && peek {
        return Err(ToolError::Usage("specify one of --peek or --refresh but not both".into()));
    }
    let label = parsed.value("label");
    // With only a label, the single positional is a content key.
    let (reference, key) = match (label, parsed.positionals.as_slice()) {
        (Some(_), [only]) if !only.starts_with("secret:") => (None, Some(only.clone())),
        (_, [reference, rest @ ..]) => (Some(reference.clone()), rest.first().cloned()),
        (_, []) => (None, None),
    };
    if reference.is_none() && label.is_none() {
        return Err(ToolError::Usage("require either a secret URI or label".into()));
    }
    if let Some(r) = reference.as_deref().filter(|r| !valid_reference(r)) {
        return Err(ToolError::Usage(format!("secret URI {} not valid", args::go_quote(r))));
    }
    let unit = hook.unit()?.to_string();
    let content = hook.hold(|state, pending| {
        let secret = find(state, &unit, reference.as_deref(), label)?;
        if !can_read(secret, &unit) {
            return Err(ToolError::Failed("permission denied".into()));
        }
        // An id and a label together name the secret: the owner's label or this consumer's own.
        if let (Some(_), Some(label)) = (&reference, label) {
            let id = secret.id.clone();
            if owns(secret, &unit) {
                if secret.label.as_deref() != Some(label) && check_manage(state, secret, &unit).is_ok() {
                    let label = Some(label.to_string());
                    pending.secrets.push(SecretChange::Set { id, content: None, label, description: None });
                }
            } else if secret.consumer_labels.get(&unit).map(String::as_str) != Some(label) {
                let (unit, label) = (unit.clone(), label.to_string());
                pending.secrets.push(SecretChange::ConsumerLabel { id, unit, label });
            }
        }
        let latest = secret.revisions.keys().next_back().copied().unwrap_or(0);
        let tracked = secret.tracking.get(&unit).copied();
        let revision = if owns(secret, &unit) || peek {
            latest
        } else if refresh || tracked.is_none() {
            if tracked != Some(latest) {
                let change =
                    SecretChange::Track { id: secret.id.clone(), unit: unit.clone(), revision: latest };
                pending.secrets.push(change);
            }
            latest
        } else {
            tracked.unwrap_or(latest)
        };
        Ok(secret.revisions.get(&revision).cloned().unwrap_or_default())
    })?;
    let value = match key {
        Some(key) => content.get(&key).map_or(Value::Null, |v| json!(v)),
        None => json!(content),
    };
    emit_yaml_or_json(io.stdout, &parsed, &value)
}

/// `secret-ids`: the ids (bare, as Juju prints them) of the secrets this unit owns, itself or
/// through its application; `null` in JSON when there are none (Go's nil slice).
pub fn secret_ids(hook: &HookContext, args: &[String], io: &mut Streams) -> Result<(), ToolError> {
    let parsed = args::parse(&OUTPUT_FLAGS, args)?;
    parsed.at_most(0)?;
    let state = hook.view()?;
    let unit = hook.unit()?;
    let ids: Vec<&String> = state.secrets.values().filter(|s| owns(s, unit)).map(|s| &s.id).collect();
    let value = if ids.is_empty() { Value::Null } else { json!(ids) };
    emit(io.stdout, &parsed, &value)
}

/// `secret-info-get <ID>` or `--label L`: metadata of a secret this unit owns, keyed by id. A
/// secret it does not own is "not found", as Juju only looks among the caller's own.
pub fn secret_info_get(hook: &HookContext, args: &[String], io: &mut Streams) -> Result<(), ToolError> {
    let mut flags = OUTPUT_FLAGS.to_vec();
    flags.push(Flag::value(&["label"]));
    let parsed = args::parse(&flags, args)?;
    parsed.at_most(1)?;
    let reference = parsed.positionals.first().map(String::as_str);
    let label = parsed.value("label");
    match (reference, label) {
        (None, None) => return Err(ToolError::Usage("require either a secret URI or label".into())),
        (Some(_), Some(_)) => {
            return Err(ToolError::Usage("specify either a secret URI or label but not both".into()))
        }
        (Some(r), None) if !valid_reference(r) => {
            return Err(ToolError::Usage(format!("secret URI {} not valid", args::go_quote(r))))
        }
        _ => {}
    }
    let state = hook.view()?;
    let unit = hook.unit()?;
    let wanted = reference.map_or(label.unwrap_or_default(), secret_id);
    let secret = state
        .secrets
        .values()
        .filter(|s| owns(s, unit))
        .find(|s| match reference {
            Some(_) => s.id == wanted,
            None => s.label.as_deref() == Some(wanted),
        })
        .ok_or_else(|| ToolError::Failed(format!("secret {} not found", args::go_quote(wanted))))?;
    let mut info = Map::new();
    info.insert("revision".into(), json!(secret.revisions.keys().next_back().copied().unwrap_or(0)));
    info.insert("label".into(), json!(secret.label.clone().unwrap_or_default()));
    let owner = if secret.owner == application_of(unit) { "application" } else { "unit" };
    info.insert("owner".into(), json!(owner));
    if let Some(description) = secret.description.as_ref().filter(|d| !d.is_empty()) {
        info.insert("description".into(), json!(description));
    }
    let mut out = Map::new();
    out.insert(secret.id.clone(), Value::Object(info));
    emit_yaml_or_json(io.stdout, &parsed, &Value::Object(out))
}

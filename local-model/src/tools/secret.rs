//! Secret owners' tools: `secret-add`, `secret-set`, `secret-grant`, `secret-revoke`,
//! `secret-remove`, all held back until the hook succeeds. Who may do what is in
//! [`super::secret_access`].

use super::args::{self, Flag, Parsed};
use super::context::{is_leader, resolve_relation, HookContext};
use super::relation::{remote_app, scalar_text};
use super::secret_access::{check_manage, find};
use super::{Streams, ToolError};
use crate::state::{application_of, Bag, ModelState, Secret, SecretChange};
use rand::Rng;

/// Whether `key` is a valid secret content key (`[a-z](-?[a-z0-9]){2,}`).
pub fn valid_key(key: &str) -> bool {
    let b = key.as_bytes();
    b.len() >= 3
        && b[0].is_ascii_lowercase()
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && !key.ends_with('-')
        && !key.contains("--")
        && key.chars().filter(|c| *c != '-').count() >= 3
}

/// Largest value one key may hold, and largest content in all (Juju 3.6's
/// `maxValueSizeBytes`/`maxContentSizeBytes`, `core/secrets/secret.go`).
const MAX_VALUE_BYTES: usize = 8 * 1024;
const MAX_CONTENT_BYTES: usize = 64 * 1024;

/// One `key=value` argument's key and value as Juju's `CreateSecretData` reads them:
/// `key#file=PATH` takes the file's content (so the value never appears in any argv),
/// `key#base64=B64` a value already encoded, anything else the value as given.
fn content_value(arg: &str) -> Result<(String, String), ToolError> {
    let (key, value) = args::key_value(arg)
        .ok_or_else(|| ToolError::Usage(format!("key value {} not valid", args::go_quote(arg))))?;
    if let Some(key) = key.strip_suffix("#file") {
        let size = std::fs::metadata(value).map(|m| m.len()).unwrap_or(0);
        if size > MAX_VALUE_BYTES as u64 {
            return Err(ToolError::Failed(format!(
                "secret content in file {} too large: {size} bytes",
                args::go_quote(value)
            )));
        }
        let text = std::fs::read_to_string(value).map_err(|e| {
            ToolError::Failed(format!("reading content for secret key {}: {e}", args::go_quote(key)))
        })?;
        return Ok((key.to_string(), text));
    }
    if let Some(key) = key.strip_suffix("#base64") {
        let bytes = super::base64::decode(value).ok_or_else(|| {
            ToolError::Usage(format!("value of key {} is not valid base64", args::go_quote(key)))
        })?;
        let text = String::from_utf8(bytes).map_err(|_| {
            ToolError::Usage(format!(
                "value of key {} is not UTF-8 text (juju-local keeps text)",
                args::go_quote(key)
            ))
        })?;
        return Ok((key.to_string(), text));
    }
    Ok((key.to_string(), value.to_string()))
}

/// Secret content from `key=value` / `key#file=PATH` / `key#base64=B64` arguments and an
/// optional `--file` YAML map, checked as Juju checks it (key syntax, value and total sizes).
pub fn parse_content(values: &[String], file: Option<&str>) -> Result<Bag, ToolError> {
    let mut content = Bag::new();
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ToolError::Failed(format!("cannot read {path}: {e}")))?;
        let map: std::collections::BTreeMap<String, serde_yaml::Value> = serde_yaml::from_str(&text)
            .map_err(|e| ToolError::Failed(format!("cannot parse {path}: {e}")))?;
        for (k, v) in map {
            let text =
                scalar_text(&v).ok_or_else(|| ToolError::Failed(format!("value of {k} is not a string")))?;
            content.insert(k, text);
        }
    }
    for arg in values {
        let (key, value) = content_value(arg)?;
        content.insert(key, value);
    }
    if let Some(bad) = content.keys().find(|k| !valid_key(k)) {
        return Err(ToolError::Usage(format!("key {} not valid", args::go_quote(bad))));
    }
    if let Some((k, v)) = content.iter().find(|(_, v)| v.len() > MAX_VALUE_BYTES) {
        return Err(ToolError::Failed(format!(
            "secret content for key {} too large: {} bytes",
            args::go_quote(k),
            v.len()
        )));
    }
    let total: usize = content.values().map(String::len).sum();
    if total > MAX_CONTENT_BYTES {
        return Err(ToolError::Failed(format!("secret content too large: {total} bytes")));
    }
    Ok(content)
}

/// A new secret id in Juju's style (20 characters of base32hex, like an xid).
fn new_id() -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuv";
    let mut rng = rand::rng();
    (0..20).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

const ADD_FLAGS: [Flag; 6] = [
    Flag::value(&["label"]),
    Flag::value(&["owner"]),
    Flag::value(&["description"]),
    Flag::value(&["file"]),
    Flag::value(&["expire"]),
    Flag::value(&["rotate"]),
];

/// Rotation policies Juju accepts for `--rotate` (rotation itself is not modelled).
const ROTATE_POLICIES: [&str; 7] = ["never", "hourly", "daily", "weekly", "monthly", "quarterly", "yearly"];

fn check_rotate_policy(parsed: &Parsed) -> Result<(), ToolError> {
    match parsed.value("rotate") {
        Some(policy) if !ROTATE_POLICIES.contains(&policy) => {
            Err(ToolError::Usage(format!("rotate policy {} not valid", args::go_quote(policy))))
        }
        _ => Ok(()),
    }
}

/// `secret-add [--owner application|unit] [--label L] [--description D] key=value ...`: prints
/// the new secret's URI. Held back.
pub fn secret_add(hook: &HookContext, args: &[String], io: &mut Streams) -> Result<(), ToolError> {
    let parsed = args::parse(&ADD_FLAGS, args)?;
    if parsed.positionals.is_empty() && parsed.value("file").is_none() {
        return Err(ToolError::Usage("missing secret value or filename".into()));
    }
    check_rotate_policy(&parsed)?;
    let owner_kind = parsed.value("owner").unwrap_or("application");
    if owner_kind != "application" && owner_kind != "unit" {
        return Err(ToolError::Usage(format!("secret owner {} not valid", args::go_quote(owner_kind))));
    }
    let content = parse_content(&parsed.positionals, parsed.value("file"))?;
    if content.is_empty() {
        return Err(ToolError::Failed("empty secret value not valid".into()));
    }
    let unit = hook.unit()?.to_string();
    let owner = if owner_kind == "unit" { unit.clone() } else { application_of(&unit).to_string() };
    let label = parsed.value("label").map(str::to_string);
    let id = hook.hold(|state, pending| {
        if owner != unit && !is_leader(state, &unit) {
            return Err(ToolError::Failed("this unit is not the leader".into()));
        }
        if let Some(label) = &label {
            if state.secrets.values().any(|s| s.owner == owner && s.label.as_ref() == Some(label)) {
                return Err(ToolError::Failed(format!(
                    "secret with label {} already exists",
                    args::go_quote(label)
                )));
            }
        }
        let mut secret = Secret {
            id: new_id(),
            owner,
            label,
            description: parsed.value("description").map(str::to_string),
            created: crate::model::clock::now(),
            ..Secret::default()
        };
        secret.revisions.insert(1, content);
        let id = secret.id.clone();
        pending.secrets.push(SecretChange::Add { secret });
        Ok(id)
    })?;
    writeln!(io.stdout, "secret:{id}")?;
    Ok(())
}

/// The one required secret reference of an owner tool.
fn one_reference(parsed: &Parsed) -> Result<&str, ToolError> {
    parsed
        .positionals
        .first()
        .map(String::as_str)
        .ok_or_else(|| ToolError::Usage("missing secret URI".into()))
}

/// Runs an owner's change on an existing secret: finds it, checks permission, records it.
fn manage(
    hook: &HookContext,
    reference: &str,
    change: impl FnOnce(&ModelState, &Secret) -> Result<SecretChange, ToolError>,
) -> Result<(), ToolError> {
    let unit = hook.unit()?.to_string();
    hook.hold(|state, pending| {
        let secret = find(state, &unit, Some(reference), None)?;
        check_manage(state, secret, &unit)?;
        pending.secrets.push(change(state, secret)?);
        Ok(())
    })
}

/// `secret-set <ID> [key=value ...] [--label L] [--description D]`: a new revision if the content
/// changed. Held back.
pub fn secret_set(hook: &HookContext, args: &[String], _io: &mut Streams) -> Result<(), ToolError> {
    let parsed = args::parse(&ADD_FLAGS, args)?;
    check_rotate_policy(&parsed)?;
    let reference = one_reference(&parsed)?;
    let content = parse_content(&parsed.positionals[1..], parsed.value("file"))?;
    let label = parsed.value("label").map(str::to_string);
    let description = parsed.value("description").map(str::to_string);
    manage(hook, reference, |_, secret| {
        let content = (!content.is_empty()).then_some(content);
        Ok(SecretChange::Set { id: secret.id.clone(), content, label, description })
    })
}

fn grant_or_revoke(hook: &HookContext, args: &[String], grant: bool) -> Result<(), ToolError> {
    let parsed = args::parse(&[Flag::value(&["r", "relation"]), Flag::value(&["unit"])], args)?;
    parsed.at_most(1)?;
    let reference = one_reference(&parsed)?;
    // `-r` defaults to the hook's own relation, as Juju's relation-id flag does.
    let relation_flag = parsed.value("r").or(hook.env.relation_id.as_deref());
    let relation_flag = relation_flag.ok_or_else(|| ToolError::Usage("no relation id specified".into()))?;
    let unit = hook.unit()?.to_string();
    // As Juju's `Init` (`internal/worker/uniter/runner/jujuc/secret-grant.go`): `--unit` must be
    // a unit name of the relation's remote application.
    {
        let state = hook.view()?;
        let relation = resolve_relation(&state, &unit, Some(relation_flag), &hook.env)?;
        let app = remote_app(relation, &unit);
        if let Some(grantee) = parsed.value("unit") {
            let valid =
                grantee.split_once('/').is_some_and(|(a, n)| !a.is_empty() && n.parse::<u32>().is_ok());
            if !valid {
                return Err(ToolError::Usage(format!("unit {} not valid", args::go_quote(grantee))));
            }
            if application_of(grantee) != app {
                return Err(ToolError::Usage(format!(
                    "cannot specify unit {} in relation to application {}",
                    args::go_quote(grantee),
                    args::go_quote(&app)
                )));
            }
        }
    }
    manage(hook, reference, |state, secret| {
        let relation = resolve_relation(state, &unit, Some(relation_flag), &hook.env)?;
        let grantee = parsed.value("unit").map_or_else(|| remote_app(relation, &unit), str::to_string);
        let (id, relation_id) = (secret.id.clone(), relation.id);
        Ok(if grant {
            SecretChange::Grant { id, relation_id, grantee }
        } else {
            SecretChange::Revoke { id, relation_id, grantee }
        })
    })
}

/// `secret-grant <ID> -r <relation> [--unit <unit>]`: lets the relation's remote application (or
/// one unit) read the secret. Held back.
pub fn secret_grant(hook: &HookContext, args: &[String], _io: &mut Streams) -> Result<(), ToolError> {
    grant_or_revoke(hook, args, true)
}

/// `secret-revoke <ID> -r <relation> [--unit <unit>]`: undoes a grant. Held back.
pub fn secret_revoke(hook: &HookContext, args: &[String], _io: &mut Streams) -> Result<(), ToolError> {
    grant_or_revoke(hook, args, false)
}

/// `secret-remove <ID> [--revision N]`: removes the secret or one revision. Held back.
pub fn secret_remove(hook: &HookContext, args: &[String], _io: &mut Streams) -> Result<(), ToolError> {
    let parsed = args::parse(&[Flag::value(&["revision"])], args)?;
    parsed.at_most(1)?;
    let reference = one_reference(&parsed)?;
    let revision = match parsed.value("revision") {
        None => None,
        Some(text) => Some(text.parse::<u32>().map_err(|_| {
            ToolError::Usage(format!("invalid value {} for option --revision", args::go_quote(text)))
        })?),
    };
    manage(hook, reference, |_, secret| {
        if let Some(r) = revision.filter(|r| !secret.revisions.contains_key(r)) {
            return Err(ToolError::Failed(format!("secret revision {r} not found")));
        }
        Ok(SecretChange::Remove { id: secret.id.clone(), revision })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_keys_and_ids() {
        for good in ["password", "pw1", "admin-password", "a-b-c"] {
            assert!(valid_key(good), "{good}");
        }
        for bad in ["pw", "Password", "1abc", "abc-", "a--bc", "a_bc"] {
            assert!(!valid_key(bad), "{bad}");
        }
        assert_eq!(new_id().len(), 20);
    }

    #[test]
    fn content_parsing_reads_files_and_rejects_bad_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v");
        std::fs::write(&path, "from-file").unwrap();
        let args = vec!["user=admin".to_string(), format!("token#file={}", path.display())];
        let content = parse_content(&args, None).unwrap();
        assert_eq!(content["user"], "admin");
        assert_eq!(content["token"], "from-file");
        let err = parse_content(&["PW=x".to_string()], None).unwrap_err();
        assert_eq!(err.to_string(), "key \"PW\" not valid");
    }
}

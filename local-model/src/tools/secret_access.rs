//! Who may see and change a secret, and how a secret is looked up — the rules every secret
//! tool shares.
//!
//! Ownership: `--owner application` (the default) makes the application the owner — every unit of
//! it may read, only the leader may change it; `--owner unit` makes the unit the owner. Anyone
//! else reads only through a grant (to its unit or its application).

use super::args;
use super::context::is_leader;
use super::ToolError;
use crate::state::{application_of, ModelState, Secret};

/// The bare id of a secret reference: `secret:ID`, `secret://MODEL/ID` or `ID`.
pub fn secret_id(reference: &str) -> &str {
    match reference.strip_prefix("secret:") {
        Some(rest) => rest.trim_start_matches("//").rsplit('/').next().unwrap_or(rest),
        None => reference,
    }
}

/// Whether `unit` owns the secret itself or through its application (owners may read).
pub fn owns(secret: &Secret, unit: &str) -> bool {
    secret.owner == unit || secret.owner == application_of(unit)
}

/// Whether `unit` may read the secret: its owner or a grantee.
pub fn can_read(secret: &Secret, unit: &str) -> bool {
    owns(secret, unit) || secret.grants.values().any(|g| g.contains(unit) || g.contains(application_of(unit)))
}

/// Fails unless `unit` may change the secret: a unit-owned secret by that unit, an
/// application-owned one by the application's leader.
pub fn check_manage(state: &ModelState, secret: &Secret, unit: &str) -> Result<(), ToolError> {
    let allowed = secret.owner == unit || (secret.owner == application_of(unit) && is_leader(state, unit));
    if allowed {
        Ok(())
    } else {
        Err(ToolError::Failed("permission denied".into()))
    }
}

/// Finds a secret by id, or by label: the owner's label for owners, the consumer's own label
/// (set with `secret-get <id> --label`) for consumers.
pub fn find<'s>(
    state: &'s ModelState,
    unit: &str,
    id: Option<&str>,
    label: Option<&str>,
) -> Result<&'s Secret, ToolError> {
    let not_found = |what: &str| ToolError::Failed(format!("secret {} not found", args::go_quote(what)));
    match (id, label) {
        (Some(reference), _) => state.secrets.get(secret_id(reference)).ok_or_else(|| not_found(reference)),
        (None, Some(label)) => state
            .secrets
            .values()
            .find(|s| {
                let own_label = owns(s, unit) && s.label.as_deref() == Some(label);
                own_label || s.consumer_labels.get(unit).map(String::as_str) == Some(label)
            })
            .ok_or_else(|| not_found(label)),
        (None, None) => Err(ToolError::Usage("missing secret URI or label".into())),
    }
}

/// Whether a secret reference has a shape Juju accepts: `secret:...`, or a bare id (20
/// characters of base32hex, as Juju makes them).
pub fn valid_reference(reference: &str) -> bool {
    reference.starts_with("secret:")
        || (reference.len() == 20
            && reference.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'v').contains(&b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_reduce_to_bare_ids() {
        assert_eq!(secret_id("secret:abc"), "abc");
        assert_eq!(secret_id("secret://model-uuid/abc"), "abc");
        assert_eq!(secret_id("abc"), "abc");
        assert!(valid_reference("secret:anything"));
        assert!(valid_reference("0123456789abcdefghij"));
        assert!(!valid_reference("nonsense"));
    }

    #[test]
    fn grants_let_units_or_whole_applications_read() {
        let mut secret = Secret { id: "s".into(), owner: "valkey".into(), ..Secret::default() };
        assert!(can_read(&secret, "valkey/3"));
        assert!(!can_read(&secret, "client/0"));
        secret.grants.insert(1, ["client".to_string()].into());
        assert!(can_read(&secret, "client/0") && !owns(&secret, "client/0"));
        let mut state = ModelState::default();
        let app = crate::state::Application { leader: Some("valkey/0".into()), ..Default::default() };
        state.applications.insert("valkey".into(), app);
        assert!(check_manage(&state, &secret, "valkey/0").is_ok());
        assert_eq!(check_manage(&state, &secret, "valkey/1").unwrap_err().to_string(), "permission denied");
    }
}

//! The hook's environment, parsed once into typed fields.
//!
//! Juju builds a fresh environment for every hook (juju-contract.md §1). Reading it in one place
//! means a missing or malformed variable fails the hook with one clear message instead of
//! surfacing later as an empty string somewhere deep in the charm.

use std::path::PathBuf;

/// Why the environment could not become a [`Context`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContextError {
    /// A variable Juju always sets is absent or empty.
    #[error("missing environment variable {var}: not running under a Juju unit agent?")]
    Missing {
        /// The variable's name.
        var: &'static str,
    },
    /// A variable is present but malformed.
    #[error("invalid {var}={value:?}: {reason}")]
    Invalid {
        /// The variable's name.
        var: &'static str,
        /// What it held.
        value: String,
        /// What was expected.
        reason: &'static str,
    },
}

/// Everything the environment says about this hook invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// This unit's name (`valkey/0`): the key of its own relation bag and of every log line.
    pub unit: String,
    /// Application name (`valkey`): the key of the application bag and of unit-file names.
    pub app: String,
    /// The unit's number (`0`): ties in the start lock go to the lowest number.
    pub unit_number: u32,
    /// Model name, for messages.
    pub model_name: String,
    /// Model UUID: makes host-wide names (systemd units) unique across models.
    pub model_uuid: String,
    /// The charm directory (`JUJU_CHARM_DIR`, legacy `CHARM_DIR`): where `dispatch` lives, which the
    /// direct supervisor and the client-reconfig script run.
    pub charm_dir: PathBuf,
    /// `JUJU_DISPATCH_PATH` (`hooks/install`, `actions/failover`), when set; the event comes from it.
    pub dispatch_path: Option<String>,
    /// `JUJU_HOOK_NAME` (empty for actions, so `None`).
    pub hook_name: Option<String>,
    /// `JUJU_RELATION`: the endpoint of a relation hook.
    pub relation: Option<String>,
    /// `JUJU_RELATION_ID` (`valkey-peers:0`) in relation hooks.
    pub relation_id: Option<String>,
    /// `JUJU_REMOTE_UNIT`: the peer a -joined/-changed/-departed hook is about.
    pub remote_unit: Option<String>,
    /// `JUJU_REMOTE_APP`.
    pub remote_app: Option<String>,
    /// `JUJU_DEPARTING_UNIT` in -departed hooks: lets a leaving unit know it is the one leaving.
    pub departing_unit: Option<String>,
    /// `JUJU_STORAGE_ID` (`data/0`) in storage hooks.
    pub storage_id: Option<String>,
    /// `JUJU_STORAGE_LOCATION` in storage hooks: where the storage is mounted.
    pub storage_location: Option<PathBuf>,
    /// `JUJU_ACTION_NAME` when running an action.
    pub action_name: Option<String>,
    /// `JUJU_ACTION_UUID` when running an action (for logs).
    pub action_uuid: Option<String>,
    /// `JUJU_SECRET_ID` in secret hooks: which secret changed.
    pub secret_id: Option<String>,
    /// `JUJU_VERSION`, for messages and feature checks.
    pub juju_version: Option<String>,
}

/// A variable's value, `None` when unset or empty (Juju sets some variables to "" when unused).
fn opt(get: &impl Fn(&str) -> Option<String>, var: &str) -> Option<String> {
    get(var).filter(|v| !v.is_empty())
}

/// Splits `valkey/0` into (`valkey`, 0).
fn split_unit(unit: &str) -> Result<(String, u32), ContextError> {
    let invalid = |reason| ContextError::Invalid { var: "JUJU_UNIT_NAME", value: unit.to_string(), reason };
    let (app, number) = unit.rsplit_once('/').ok_or_else(|| invalid("expected <application>/<number>"))?;
    if app.is_empty() {
        return Err(invalid("expected <application>/<number>"));
    }
    let number = number.parse::<u32>().map_err(|_| invalid("unit number is not a non-negative integer"))?;
    Ok((app.to_string(), number))
}

impl Context {
    /// Builds the context from a variable lookup (`std::env::var` in production, a map in tests).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Context, ContextError> {
        let unit = opt(&get, "JUJU_UNIT_NAME").ok_or(ContextError::Missing { var: "JUJU_UNIT_NAME" })?;
        let (app, unit_number) = split_unit(&unit)?;
        let charm_dir = opt(&get, "JUJU_CHARM_DIR")
            .or_else(|| opt(&get, "CHARM_DIR"))
            .ok_or(ContextError::Missing { var: "JUJU_CHARM_DIR" })?;
        Ok(Context {
            unit,
            app,
            unit_number,
            model_name: opt(&get, "JUJU_MODEL_NAME")
                .ok_or(ContextError::Missing { var: "JUJU_MODEL_NAME" })?,
            model_uuid: opt(&get, "JUJU_MODEL_UUID")
                .ok_or(ContextError::Missing { var: "JUJU_MODEL_UUID" })?,
            charm_dir: PathBuf::from(charm_dir),
            dispatch_path: opt(&get, "JUJU_DISPATCH_PATH"),
            hook_name: opt(&get, "JUJU_HOOK_NAME"),
            relation: opt(&get, "JUJU_RELATION"),
            relation_id: opt(&get, "JUJU_RELATION_ID"),
            remote_unit: opt(&get, "JUJU_REMOTE_UNIT"),
            remote_app: opt(&get, "JUJU_REMOTE_APP"),
            departing_unit: opt(&get, "JUJU_DEPARTING_UNIT"),
            storage_id: opt(&get, "JUJU_STORAGE_ID"),
            storage_location: opt(&get, "JUJU_STORAGE_LOCATION").map(PathBuf::from),
            action_name: opt(&get, "JUJU_ACTION_NAME"),
            action_uuid: opt(&get, "JUJU_ACTION_UUID"),
            secret_id: opt(&get, "JUJU_SECRET_ID"),
            juju_version: opt(&get, "JUJU_VERSION"),
        })
    }

    /// Builds the context from this process's environment.
    pub fn from_process_env() -> Result<Context, ContextError> {
        Context::from_env(|k| std::env::var(k).ok())
    }

    /// True when this hook runs because this very unit is leaving the relation.
    pub fn is_departing_self(&self) -> bool {
        self.departing_unit.as_deref() == Some(self.unit.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    const BASE: [(&str, &str); 4] = [
        ("JUJU_UNIT_NAME", "valkey/12"),
        ("JUJU_CHARM_DIR", "/var/lib/juju/agents/unit-valkey-12/charm"),
        ("JUJU_MODEL_NAME", "prod"),
        ("JUJU_MODEL_UUID", "5d2c"),
    ];

    #[test]
    fn parses_unit_and_relation_fields() {
        let mut pairs = BASE.to_vec();
        pairs.extend([
            ("JUJU_DISPATCH_PATH", "hooks/valkey-peers-relation-departed"),
            ("JUJU_HOOK_NAME", "valkey-peers-relation-departed"),
            ("JUJU_RELATION", "valkey-peers"),
            ("JUJU_RELATION_ID", "valkey-peers:3"),
            ("JUJU_REMOTE_UNIT", "valkey/2"),
            ("JUJU_REMOTE_APP", "valkey"),
            ("JUJU_DEPARTING_UNIT", "valkey/12"),
            ("JUJU_ACTION_NAME", ""),
        ]);
        let ctx = Context::from_env(env(&pairs)).unwrap();
        assert_eq!(ctx.unit, "valkey/12");
        assert_eq!(ctx.app, "valkey");
        assert_eq!(ctx.unit_number, 12);
        assert_eq!(ctx.model_name, "prod");
        assert_eq!(ctx.charm_dir, PathBuf::from("/var/lib/juju/agents/unit-valkey-12/charm"));
        assert_eq!(ctx.relation_id.as_deref(), Some("valkey-peers:3"));
        assert_eq!(ctx.remote_unit.as_deref(), Some("valkey/2"));
        assert_eq!(ctx.action_name, None, "empty variables read as unset");
        assert!(ctx.is_departing_self());
    }

    #[test]
    fn storage_action_and_secret_fields() {
        let mut pairs = BASE.to_vec();
        pairs.extend([
            ("JUJU_STORAGE_ID", "data/0"),
            ("JUJU_STORAGE_LOCATION", "/srv/data"),
            ("JUJU_ACTION_NAME", "failover"),
            ("JUJU_ACTION_UUID", "42"),
            ("JUJU_SECRET_ID", "secret:abc"),
        ]);
        let ctx = Context::from_env(env(&pairs)).unwrap();
        assert_eq!(ctx.storage_id.as_deref(), Some("data/0"));
        assert_eq!(ctx.storage_location, Some(PathBuf::from("/srv/data")));
        assert_eq!(ctx.action_name.as_deref(), Some("failover"));
        assert_eq!(ctx.secret_id.as_deref(), Some("secret:abc"));
        assert!(!ctx.is_departing_self());
    }

    #[test]
    fn legacy_charm_dir_is_accepted() {
        let pairs = [
            ("JUJU_UNIT_NAME", "valkey/0"),
            ("CHARM_DIR", "/c"),
            ("JUJU_MODEL_NAME", "m"),
            ("JUJU_MODEL_UUID", "u"),
        ];
        assert_eq!(Context::from_env(env(&pairs)).unwrap().charm_dir, PathBuf::from("/c"));
    }

    #[test]
    fn bad_environments_are_rejected_with_the_variable_named() {
        let table: [(&[(&str, &str)], &str); 5] = [
            (&[], "missing environment variable JUJU_UNIT_NAME"),
            (&[("JUJU_UNIT_NAME", "valkey")], "invalid JUJU_UNIT_NAME=\"valkey\""),
            (&[("JUJU_UNIT_NAME", "valkey/x")], "unit number is not a non-negative integer"),
            (&[("JUJU_UNIT_NAME", "/0")], "invalid JUJU_UNIT_NAME"),
            (&[("JUJU_UNIT_NAME", "valkey/0")], "missing environment variable JUJU_CHARM_DIR"),
        ];
        for (pairs, want) in table {
            let err = Context::from_env(env(pairs)).unwrap_err().to_string();
            assert!(err.contains(want), "{pairs:?}: {err}");
        }
    }
}

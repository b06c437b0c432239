//! `get-password [username]`: a user's password from the charm's Juju secret.

use super::{param, results, ActionResult};
use crate::juju::{Context, HookTools};
use crate::observe::read_juju;
use crate::secrets::{self, password_of};
use crate::workload::{ADMIN_USER, REPLICATION_USER, SENTINEL_USER};

/// Runs the action.
pub fn run(ctx: &Context, tools: &dyn HookTools) -> ActionResult {
    let user = param(tools, "username")?.unwrap_or_else(|| ADMIN_USER.to_string());
    let facts = read_juju(tools, ctx).map_err(|e| e.to_string())?;
    let rid = facts.relation_id.as_deref().ok_or("the peer relation does not exist yet")?;
    let creds = secrets::ensure(tools, facts.leader, rid, &facts.app)
        .map_err(|e| e.to_string())?
        .ok_or("the leader has not created the passwords yet")?;
    let password = password_of(&creds, &user).ok_or_else(|| {
        format!("unknown user '{user}' (known: {ADMIN_USER}, {REPLICATION_USER}, {SENTINEL_USER})")
    })?;
    Ok(results(&[("username", user.clone()), ("password", password.to_string())]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::juju::fake::FakeHookTools;
    use crate::juju::{ActionKind, Bag};
    use crate::peers::SECRET_ID;

    /// A context whose charm directory nobody else uses (the charm keeps small caches there).
    fn ctx() -> Context {
        let dir = std::env::temp_dir().join(format!("get-password-test-{}", std::process::id()));
        let dir = dir.to_string_lossy().to_string();
        Context::from_env(move |k| {
            match k {
                "JUJU_UNIT_NAME" => Some("valkey/1"),
                "JUJU_CHARM_DIR" => Some(dir.as_str()),
                "JUJU_MODEL_NAME" => Some("m"),
                "JUJU_MODEL_UUID" => Some("u"),
                _ => None,
            }
            .map(str::to_string)
        })
        .unwrap()
    }

    fn tools(params: serde_json::Value) -> (FakeHookTools, crate::workload::Credentials) {
        let creds = secrets::generate();
        let app: Bag = [(SECRET_ID.to_string(), "secret:pw".to_string())].into();
        let t = FakeHookTools::new("valkey/1")
            .app_bag(app)
            .secret("secret:pw", secrets::SECRET_LABEL, secrets::to_bag(&creds))
            .action_params(params.as_object().unwrap().clone());
        (t, creds)
    }

    #[test]
    fn default_user_is_admin() {
        let (t, creds) = tools(serde_json::json!({}));
        assert_eq!(crate::actions::run(ActionKind::GetPassword, &ctx(), &t), 0);
        let r = t.action_results();
        assert_eq!(r["username"], ADMIN_USER);
        assert_eq!(r["password"], creds.admin);
        assert_eq!(t.action_failure(), None);
    }

    #[test]
    fn named_and_unknown_users() {
        let (t, creds) = tools(serde_json::json!({"username": "replication"}));
        crate::actions::run(ActionKind::GetPassword, &ctx(), &t);
        assert_eq!(t.action_results()["password"], creds.replication);
        let (t, _) = tools(serde_json::json!({"username": "root"}));
        assert_eq!(crate::actions::run(ActionKind::GetPassword, &ctx(), &t), 0);
        assert_eq!(
            t.action_failure().as_deref(),
            Some("unknown user 'root' (known: charm-admin, replication, sentinel)")
        );
        assert!(t.action_results().is_empty());
    }
}

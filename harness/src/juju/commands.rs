//! One method per juju subcommand in the subset, each building juju 3.6's exact argv.

use std::path::Path;
use std::time::Duration;

use super::{action_outcome, exec_output, ActionOutcome, ExecOutput, Juju, JujuError, Status};

impl Juju {
    /// `juju add-model NAME`; the model becomes current and is destroyed on Drop.
    pub fn add_model(&mut self, name: &str) -> Result<(), JujuError> {
        self.add_model_with(name, &[])
    }

    /// `juju add-model NAME [--config k=v]...`: model settings fixed at creation (juju-local's
    /// `network-mode=hosts`, or any model-config key); otherwise as [`Juju::add_model`].
    pub fn add_model_with(&mut self, name: &str, config: &[(&str, &str)]) -> Result<(), JujuError> {
        let mut args = vec!["add-model".to_string(), name.to_string()];
        for (key, value) in config {
            args.extend(["--config".to_string(), pair(key, value)?]);
        }
        self.raw(&args)?.success()?;
        self.model = Some(name.to_string());
        self.armed = true;
        Ok(())
    }

    /// `juju destroy-model NAME --no-prompt --destroy-storage`.
    pub fn destroy_model(&mut self) -> Result<(), JujuError> {
        let model = self.model.clone().ok_or_else(|| JujuError::Invalid("no model to destroy".into()))?;
        self.armed = false;
        let args = ["destroy-model", &model, "--no-prompt", "--destroy-storage"].map(String::from).to_vec();
        self.raw(&args)?.success()?;
        Ok(())
    }

    /// `juju deploy CHARM APP -n N [--config k=v]... [--resource name=path]...`.
    pub fn deploy(
        &self,
        charm: &Path,
        app: &str,
        units: usize,
        config: &[(&str, &str)],
        resources: &[(&str, &Path)],
    ) -> Result<(), JujuError> {
        let mut rest = vec![charm.display().to_string(), app.to_string(), "-n".into(), units.to_string()];
        for (key, value) in config {
            rest.extend(["--config".to_string(), pair(key, value)?]);
        }
        for (name, path) in resources {
            rest.extend(["--resource".to_string(), format!("{name}={}", path.display())]);
        }
        self.model_command("deploy", rest).map(drop)
    }

    /// `juju add-unit APP -n N`.
    pub fn add_unit(&self, app: &str, count: usize) -> Result<(), JujuError> {
        self.model_command("add-unit", vec![app.into(), "-n".into(), count.to_string()]).map(drop)
    }

    /// `juju remove-unit UNIT... --no-prompt [--force]`.
    pub fn remove_unit(&self, units: &[&str], force: bool) -> Result<(), JujuError> {
        if units.is_empty() {
            return Err(JujuError::Invalid("remove_unit needs at least one unit".into()));
        }
        let mut rest: Vec<String> = units.iter().map(|u| u.to_string()).collect();
        rest.push("--no-prompt".into());
        if force {
            rest.push("--force".into());
        }
        self.model_command("remove-unit", rest).map(drop)
    }

    /// Brings `app` to `count` units with `add-unit` / `remove-unit` (highest numbers go first).
    /// Juju's own `scale-application` works only on Kubernetes models, so this is how machine
    /// models scale.
    pub fn scale_application(&self, app: &str, count: usize) -> Result<(), JujuError> {
        let status = self.status()?;
        let units: Vec<&str> = status.units(app).into_iter().map(|(name, _)| name).collect();
        if count > units.len() {
            self.add_unit(app, count - units.len())
        } else if count < units.len() {
            let mut doomed = units[count..].to_vec();
            doomed.reverse();
            self.remove_unit(&doomed, false)
        } else {
            Ok(())
        }
    }

    /// `juju config APP k=v...`.
    pub fn config_set(&self, app: &str, settings: &[(&str, &str)]) -> Result<(), JujuError> {
        if settings.is_empty() {
            return Err(JujuError::Invalid("config_set needs at least one setting".into()));
        }
        let mut rest = vec![app.to_string()];
        for (key, value) in settings {
            rest.push(pair(key, value)?);
        }
        self.model_command("config", rest).map(drop)
    }

    /// `juju config APP --format json` → the value of every option that has one.
    pub fn config_get(
        &self,
        app: &str,
    ) -> Result<std::collections::BTreeMap<String, serde_json::Value>, JujuError> {
        let finished = self.model_command("config", vec![app.into(), "--format".into(), "json".into()])?;
        let json = finished.json()?;
        let settings = json
            .get("settings")
            .and_then(|s| s.as_object())
            .ok_or_else(|| finished.bad_output("no \"settings\" object"))?;
        Ok(settings
            .iter()
            .filter_map(|(key, option)| option.get("value").map(|value| (key.clone(), value.clone())))
            .collect())
    }

    /// `juju model-config k=v...`.
    pub fn model_config(&self, settings: &[(&str, &str)]) -> Result<(), JujuError> {
        if settings.is_empty() {
            return Err(JujuError::Invalid("model_config needs at least one setting".into()));
        }
        let rest = settings.iter().map(|(k, v)| pair(k, v)).collect::<Result<Vec<_>, _>>()?;
        self.model_command("model-config", rest).map(drop)
    }

    /// `juju run TARGET ACTION k=v... --format json --wait <action_wait>`. A failed action is an
    /// `Ok` outcome with status `failed` (juju exits 1 then, after printing the record).
    pub fn run_action(
        &self,
        target: &str,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<ActionOutcome, JujuError> {
        let mut rest = vec![target.to_string(), action.to_string()];
        for (key, value) in params {
            rest.push(pair(key, value)?);
        }
        rest.extend(["--format".into(), "json".into(), "--wait".into(), go_duration(self.action_wait)]);
        let finished = self.raw(&self.model_args("run", rest))?;
        match finished.json() {
            Ok(record) => action_outcome(&record).map_err(|why| finished.bad_output(why)),
            Err(_) if finished.code != Some(0) => finished.success().map(|_| unreachable!("non-zero exit")),
            Err(error) => Err(error),
        }
    }

    /// `juju exec --unit UNIT --format json -- COMMAND`: runs a shell command line in a hook
    /// context on the unit. A non-zero exit of the command is reported in `code`, not as an error.
    pub fn exec(&self, unit: &str, shell_command: &str) -> Result<ExecOutput, JujuError> {
        let rest = ["--unit", unit, "--format", "json", "--", shell_command].map(String::from).to_vec();
        let finished = self.raw(&self.model_args("exec", rest))?;
        match finished.json() {
            Ok(record) => exec_output(&record).map_err(|why| finished.bad_output(why)),
            Err(_) if finished.code != Some(0) => finished.success().map(|_| unreachable!("non-zero exit")),
            Err(error) => Err(error),
        }
    }

    /// `juju status --format json`.
    pub fn status(&self) -> Result<Status, JujuError> {
        let finished = self.model_command("status", vec!["--format".into(), "json".into()])?;
        serde_json::from_str(&finished.stdout).map_err(|e| finished.bad_output(e.to_string()))
    }

    /// `juju debug-log --replay --no-tail`: the model's log so far (for failure messages).
    pub fn debug_log(&self) -> Result<String, JujuError> {
        let finished = self.model_command("debug-log", vec!["--replay".into(), "--no-tail".into()])?;
        Ok(finished.stdout)
    }
}

/// `key=value`, refusing keys that would change the meaning of the argument.
fn pair(key: &str, value: &str) -> Result<String, JujuError> {
    if key.is_empty() || key.contains('=') || key.starts_with('-') {
        return Err(JujuError::Invalid(format!("bad key {key:?}")));
    }
    Ok(format!("{key}={value}"))
}

/// A Go duration string (`600s`) for juju flags.
fn go_duration(duration: Duration) -> String {
    format!("{}s", duration.as_secs().max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_reject_keys_that_would_become_flags() {
        assert_eq!(pair("a", "b=c").unwrap(), "a=b=c");
        assert!(pair("-m", "x").is_err());
        assert!(pair("a=b", "x").is_err());
        assert!(pair("", "x").is_err());
    }

    #[test]
    fn durations_are_whole_seconds() {
        assert_eq!(go_duration(Duration::from_secs(600)), "600s");
        assert_eq!(go_duration(Duration::from_millis(10)), "1s");
    }
}

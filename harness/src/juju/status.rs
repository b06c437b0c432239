//! Typed subsets of juju's JSON outputs: `juju status --format json`, `juju run --format json`,
//! `juju exec --format json`. Unknown fields are ignored, absent ones default, so the same types
//! read real Juju 3.6 and `juju-local`.

use std::collections::BTreeMap;

use serde::Deserialize;

/// `juju status --format json`, the parts scenarios look at.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, serde::Serialize)]
pub struct Status {
    /// Applications by name.
    #[serde(default)]
    pub applications: BTreeMap<String, ApplicationStatus>,
}

/// One application.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, serde::Serialize)]
pub struct ApplicationStatus {
    /// The application's own status (set by the leader).
    #[serde(default, rename = "application-status")]
    pub application_status: StatusInfo,
    /// The workload version (`application-version-set`); juju omits it until set.
    #[serde(default)]
    pub version: Option<String>,
    /// Units by name (`valkey/0`). Absent in juju's output when there are none.
    #[serde(default)]
    pub units: BTreeMap<String, UnitStatus>,
}

/// One unit.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, serde::Serialize)]
pub struct UnitStatus {
    /// What the charm said (`status-set`).
    #[serde(default, rename = "workload-status")]
    pub workload_status: StatusInfo,
    /// What the agent is doing (`idle`, `executing`, `error`, ...).
    #[serde(default, rename = "juju-status")]
    pub juju_status: StatusInfo,
    /// Present and true only on the leader.
    #[serde(default)]
    pub leader: bool,
    /// The unit's address.
    #[serde(default, rename = "public-address")]
    pub public_address: Option<String>,
    /// The machine it runs on.
    #[serde(default)]
    pub machine: Option<String>,
    /// The subordinate units deployed onto it, by name (Juju 3.6: `subordinates`).
    #[serde(default)]
    pub subordinates: BTreeMap<String, UnitStatus>,
}

/// A status value and its message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct StatusInfo {
    /// `active`, `blocked`, `idle`, ...
    #[serde(default)]
    pub current: String,
    /// Free text; juju omits it when empty.
    #[serde(default)]
    pub message: String,
}

impl Status {
    /// Units of `app`, sorted by unit number (`valkey/2` before `valkey/10`).
    pub fn units(&self, app: &str) -> Vec<(&str, &UnitStatus)> {
        let mut units: Vec<(&str, &UnitStatus)> = self
            .applications
            .get(app)
            .map(|a| a.units.iter().map(|(name, unit)| (name.as_str(), unit)).collect())
            .unwrap_or_default();
        units.sort_by_key(|(name, _)| unit_number(name));
        units
    }

    /// The leader unit of `app`, if any.
    pub fn leader(&self, app: &str) -> Option<&str> {
        self.units(app).into_iter().find(|(_, unit)| unit.leader).map(|(name, _)| name)
    }

    /// The unit called `name`, in any application.
    pub fn unit(&self, name: &str) -> Option<&UnitStatus> {
        self.applications.values().find_map(|app| app.units.get(name))
    }

    /// True when `app` has exactly `count` units, all `active` and `idle`.
    pub fn is_idle_active(&self, app: &str, count: usize) -> bool {
        let units = self.units(app);
        units.len() == count
            && units
                .iter()
                .all(|(_, u)| u.workload_status.current == "active" && u.juju_status.current == "idle")
    }

    /// One line per unit, for error messages.
    pub fn summary(&self) -> String {
        let mut lines = Vec::new();
        for (app, status) in &self.applications {
            if status.units.is_empty() {
                lines.push(format!("{app}: no units"));
            }
            for (name, unit) in self.units(app) {
                lines.push(format!(
                    "{name}{} {}/{} {:?} {}",
                    if unit.leader { "*" } else { "" },
                    unit.workload_status.current,
                    unit.juju_status.current,
                    unit.workload_status.message,
                    unit.public_address.as_deref().unwrap_or("-"),
                ));
            }
        }
        if lines.is_empty() {
            "no applications".into()
        } else {
            lines.join(" | ")
        }
    }
}

/// The number after the slash of a unit name (`u64::MAX` if malformed, so it sorts last).
pub fn unit_number(unit: &str) -> u64 {
    unit.rsplit_once('/').and_then(|(_, n)| n.parse().ok()).unwrap_or(u64::MAX)
}

/// The result of `juju run <unit> <action>`.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionOutcome {
    /// The unit that ran it (resolved from `app/leader`).
    pub unit: String,
    /// Task id.
    pub id: String,
    /// `completed` or `failed` (or `cancelled`, `error`).
    pub status: String,
    /// What the action set with `action-set`, plus `return-code` (and `stdout`/`stderr`).
    pub results: serde_json::Value,
    /// The failure message (from `action-fail`), if any.
    pub message: Option<String>,
}

impl ActionOutcome {
    /// Whether the action completed.
    pub fn completed(&self) -> bool {
        self.status == "completed"
    }

    /// A result value as a string, looked up by dotted path (`primary.address`).
    pub fn result(&self, path: &str) -> Option<String> {
        let value = path.split('.').try_fold(&self.results, |value, key| value.get(key))?;
        Some(match value {
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        })
    }
}

/// The result of `juju exec --unit <unit> -- <command>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    /// The command's exit code.
    pub code: i64,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

/// Reads the single task of a `run`/`exec` JSON record `{"<unit>": {...}}`.
pub fn single_task(record: &serde_json::Value) -> Result<(String, &serde_json::Value), String> {
    let object = record.as_object().ok_or("not a JSON object")?;
    let mut entries = object.iter();
    match (entries.next(), entries.next()) {
        (Some((unit, task)), None) => Ok((unit.clone(), task)),
        _ => Err(format!("expected one task, got {}", object.len())),
    }
}

/// Builds an [`ActionOutcome`] from a `juju run --format json` record.
pub fn action_outcome(record: &serde_json::Value) -> Result<ActionOutcome, String> {
    let (unit, task) = single_task(record)?;
    let text = |key: &str| task.get(key).and_then(|v| v.as_str()).map(str::to_string);
    Ok(ActionOutcome {
        unit: text("unit").unwrap_or(unit),
        id: text("id").unwrap_or_default(),
        status: text("status").ok_or("task has no status")?,
        results: task.get("results").cloned().unwrap_or(serde_json::Value::Object(Default::default())),
        message: text("message").filter(|m| !m.is_empty()),
    })
}

/// Builds an [`ExecOutput`] from a `juju exec --format json` record.
pub fn exec_output(record: &serde_json::Value) -> Result<ExecOutput, String> {
    let (_, task) = single_task(record)?;
    let results = task.get("results").ok_or("task has no results")?;
    let text = |key: &str| results.get(key).and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let code = match results.get("return-code") {
        Some(serde_json::Value::Number(n)) => n.as_i64().ok_or("return-code is not an integer")?,
        Some(serde_json::Value::String(s)) => s.parse().map_err(|_| "return-code is not an integer")?,
        _ => 0,
    };
    Ok(ExecOutput { code, stdout: text("stdout"), stderr: text("stderr") })
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = r#"{"model":{"name":"m"},"machines":{},"applications":{"valkey":{
        "charm":"valkey","version":"9.1.2","application-status":{"current":"active","message":"primary valkey/0"},
        "units":{
          "valkey/10":{"workload-status":{"current":"active","message":"replica"},
                       "juju-status":{"current":"idle"},"machine":"2","public-address":"127.0.5.4"},
          "valkey/2":{"workload-status":{"current":"active","message":"primary"},
                      "juju-status":{"current":"idle","since":"x"},"leader":true,
                      "public-address":"127.0.5.2","open-ports":["6379/tcp"]}}}}}"#;

    #[test]
    fn status_subset_is_read_and_units_sort_numerically() {
        let status: Status = serde_json::from_str(STATUS).unwrap();
        let names: Vec<&str> = status.units("valkey").iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["valkey/2", "valkey/10"]);
        assert_eq!(status.leader("valkey"), Some("valkey/2"));
        assert_eq!(status.unit("valkey/10").unwrap().public_address.as_deref(), Some("127.0.5.4"));
        assert!(status.is_idle_active("valkey", 2));
        assert!(!status.is_idle_active("valkey", 3));
        assert!(status.summary().contains("valkey/2* active/idle \"primary\" 127.0.5.2"));
        assert_eq!(status.applications["valkey"].version.as_deref(), Some("9.1.2"));
    }

    #[test]
    fn application_without_units_reads_as_empty() {
        let status: Status = serde_json::from_str(r#"{"applications":{"valkey":{"charm":"x"}}}"#).unwrap();
        assert!(status.units("valkey").is_empty());
        assert!(status.is_idle_active("valkey", 0));
        assert_eq!(status.summary(), "valkey: no units");
    }

    #[test]
    fn action_record_is_read() {
        let record = serde_json::json!({"valkey/1": {"id": "7", "status": "failed", "message": "no replica in sync",
            "unit": "valkey/1", "results": {"return-code": 0, "primary": {"address": "h"}}}});
        let outcome = action_outcome(&record).unwrap();
        assert_eq!((outcome.unit.as_str(), outcome.id.as_str()), ("valkey/1", "7"));
        assert!(!outcome.completed());
        assert_eq!(outcome.message.as_deref(), Some("no replica in sync"));
        assert_eq!(outcome.result("primary.address").as_deref(), Some("h"));
        assert_eq!(outcome.result("return-code").as_deref(), Some("0"));
        assert_eq!(outcome.result("nope"), None);
    }

    #[test]
    fn exec_record_is_read() {
        let record = serde_json::json!({"valkey/0": {"id": "8", "status": "completed",
            "results": {"return-code": 3, "stdout": "out\n", "stderr": "err\n"}}});
        assert_eq!(
            exec_output(&record).unwrap(),
            ExecOutput { code: 3, stdout: "out\n".into(), stderr: "err\n".into() }
        );
        assert!(exec_output(&serde_json::json!({})).is_err());
    }
}

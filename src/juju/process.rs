//! [`ProcessHookTools`]: the hook tools run as processes, with the flags of juju-contract.md.
//!
//! Arguments may carry secret values (`secret-add k=v`, `action-set password=...`); they are
//! never logged and never put into error messages — errors name the tool only.

use super::error::{classify, HookToolError};
use super::hook_tools::{Bag, HookTools, LogLevel, NetworkInfo, ProcessHookTools, SecretRef, StatusKind};
use super::secret_files::SecretFiles;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

impl ProcessHookTools {
    /// Tools looked up on `PATH`, as Juju arranges.
    pub fn new() -> ProcessHookTools {
        ProcessHookTools { tools_dir: None }
    }

    /// Tools taken from `dir` (tests, or a local model's tools directory).
    pub fn in_dir(dir: impl Into<PathBuf>) -> ProcessHookTools {
        ProcessHookTools { tools_dir: Some(dir.into()) }
    }

    /// Runs `tool args...` (feeding `stdin` when given) and returns its stdout.
    // The hook-tool seam: the one place the charm runs Juju's tools.
    #[allow(clippy::disallowed_methods)]
    fn run(&self, tool: &str, args: &[&str], stdin: Option<&str>) -> Result<String, HookToolError> {
        let program = match &self.tools_dir {
            Some(dir) => dir.join(tool),
            None => PathBuf::from(tool),
        };
        let mut cmd = Command::new(program);
        cmd.args(args)
            .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let spawn = |source| HookToolError::Spawn { tool: tool.to_string(), source };
        let mut child = cmd.spawn().map_err(spawn)?;
        if let Some(input) = stdin {
            // Take the pipe so it is closed (EOF) before waiting. A tool that exits without
            // reading (an early error) breaks the pipe; its exit status and stderr say more.
            let mut pipe = child.stdin.take().expect("stdin was piped");
            let _ = pipe.write_all(input.as_bytes());
        }
        let out = child.wait_with_output().map_err(spawn)?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(classify(tool, out.status.code().unwrap_or(-1), &String::from_utf8_lossy(&out.stderr)))
        }
    }

    /// Runs a tool with `--format=json` and decodes its output.
    fn json<T: DeserializeOwned>(&self, tool: &str, args: &[&str]) -> Result<T, HookToolError> {
        let mut full = vec!["--format=json"];
        full.extend_from_slice(args);
        let out = self.run(tool, &full, None)?;
        serde_json::from_str(out.trim())
            .map_err(|source| HookToolError::Parse { tool: tool.to_string(), source })
    }
}

/// `goal-state`'s answer, as far as the charm reads it.
#[derive(Debug, serde::Deserialize)]
struct GoalState {
    /// This application's units by name.
    #[serde(default)]
    units: BTreeMap<String, GoalUnit>,
}

/// One unit in `goal-state`.
#[derive(Debug, serde::Deserialize)]
struct GoalUnit {
    /// Its workload status, or `dying` once its removal began.
    status: String,
}

/// A bag from JSON: `null` is empty, non-string values are kept as their JSON text.
fn to_bag(value: Option<Map<String, Value>>) -> Bag {
    value
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| match v {
            Value::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect()
}

/// `k=v` arguments for tools that take them.
fn kv_args(content: &BTreeMap<String, String>) -> Vec<String> {
    content.iter().map(|(k, v)| format!("{k}={v}")).collect()
}

/// Writes a secret's values to private files for `tool` (see [`SecretFiles`]); the files are
/// removed when the returned value is dropped, after the tool ran.
fn secret_files(tool: &str, content: &Bag) -> Result<SecretFiles, HookToolError> {
    SecretFiles::write(&std::env::temp_dir(), content)
        .map_err(|source| HookToolError::Spawn { tool: tool.to_string(), source })
}

/// The raw network-get document.
#[derive(serde::Deserialize, Default)]
struct RawNetwork {
    #[serde(rename = "bind-addresses", default)]
    bind_addresses: Option<Vec<RawBind>>,
    #[serde(rename = "ingress-addresses", default)]
    ingress_addresses: Option<Vec<String>>,
}

#[derive(serde::Deserialize)]
struct RawBind {
    #[serde(default)]
    addresses: Option<Vec<RawAddress>>,
}

#[derive(serde::Deserialize)]
struct RawAddress {
    #[serde(default)]
    hostname: Option<String>,
    #[serde(default)]
    value: Option<String>,
}

/// Reduces network-get's document to [`NetworkInfo`].
pub(crate) fn parse_network(text: &str) -> Result<NetworkInfo, serde_json::Error> {
    let raw: RawNetwork = serde_json::from_str(text.trim())?;
    let first = raw
        .bind_addresses
        .unwrap_or_default()
        .into_iter()
        .flat_map(|b| b.addresses.unwrap_or_default())
        .next();
    let (hostname, bind) =
        first.map(|a| (a.hostname.unwrap_or_default(), a.value.unwrap_or_default())).unwrap_or_default();
    let ingress =
        raw.ingress_addresses.unwrap_or_default().into_iter().next().unwrap_or_else(|| bind.clone());
    Ok(NetworkInfo { bind_address: bind, hostname, ingress_address: ingress })
}

impl HookTools for ProcessHookTools {
    fn relation_ids(&self, endpoint: &str) -> Result<Vec<String>, HookToolError> {
        Ok(self.json::<Option<Vec<String>>>("relation-ids", &[endpoint])?.unwrap_or_default())
    }

    fn relation_list(&self, relation_id: &str) -> Result<Vec<String>, HookToolError> {
        Ok(self.json::<Option<Vec<String>>>("relation-list", &["-r", relation_id])?.unwrap_or_default())
    }

    fn relation_get_unit(&self, relation_id: &str, unit: &str) -> Result<Bag, HookToolError> {
        Ok(to_bag(self.json("relation-get", &["-r", relation_id, "-", unit])?))
    }

    fn relation_get_app(&self, relation_id: &str, app: &str) -> Result<Bag, HookToolError> {
        Ok(to_bag(self.json("relation-get", &["-r", relation_id, "--app", "-", app])?))
    }

    fn relation_set(
        &self,
        relation_id: &str,
        app: bool,
        changes: &BTreeMap<String, Option<String>>,
    ) -> Result<(), HookToolError> {
        if changes.is_empty() {
            return Ok(());
        }
        // Juju deletes keys set to the empty string.
        let doc: BTreeMap<&str, &str> =
            changes.iter().map(|(k, v)| (k.as_str(), v.as_deref().unwrap_or(""))).collect();
        let yaml = serde_json::to_string(&doc).expect("a string map always serialises");
        let mut args = vec!["-r", relation_id];
        if app {
            args.push("--app");
        }
        args.extend(["--file", "-"]);
        self.run("relation-set", &args, Some(&yaml)).map(drop)
    }

    fn config_get(&self) -> Result<Map<String, Value>, HookToolError> {
        Ok(self.json::<Option<Map<String, Value>>>("config-get", &[])?.unwrap_or_default())
    }

    fn is_leader(&self) -> Result<bool, HookToolError> {
        self.json("is-leader", &[])
    }

    fn dying_units(&self) -> Result<Vec<String>, HookToolError> {
        let goal: GoalState = self.json("goal-state", &[])?;
        Ok(goal.units.into_iter().filter(|(_, u)| u.status == "dying").map(|(name, _)| name).collect())
    }

    fn status_set(&self, kind: StatusKind, message: &str, application: bool) -> Result<(), HookToolError> {
        let kind = match kind {
            StatusKind::Active => "active",
            StatusKind::Waiting => "waiting",
            StatusKind::Maintenance => "maintenance",
            StatusKind::Blocked => "blocked",
        };
        let mut args = Vec::new();
        if application {
            args.push("--application");
        }
        args.extend([kind, message]);
        self.run("status-set", &args, None).map(drop)
    }

    fn application_version_set(&self, version: &str) -> Result<(), HookToolError> {
        self.run("application-version-set", &[version], None).map(drop)
    }

    fn action_get(&self) -> Result<Map<String, Value>, HookToolError> {
        Ok(self.json::<Option<Map<String, Value>>>("action-get", &[])?.unwrap_or_default())
    }

    fn action_set(&self, results: &BTreeMap<String, String>) -> Result<(), HookToolError> {
        if results.is_empty() {
            return Ok(());
        }
        let args = kv_args(results);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        self.run("action-set", &refs, None).map(drop)
    }

    fn action_fail(&self, message: &str) -> Result<(), HookToolError> {
        self.run("action-fail", &[message], None).map(drop)
    }

    fn action_log(&self, message: &str) -> Result<(), HookToolError> {
        self.run("action-log", &[message], None).map(drop)
    }

    fn log(&self, level: LogLevel, message: &str) -> Result<(), HookToolError> {
        let level = match level {
            LogLevel::Debug => "DEBUG",
            LogLevel::Info => "INFO",
            LogLevel::Warning => "WARNING",
            LogLevel::Error => "ERROR",
        };
        self.run("juju-log", &["--log-level", level, "--", message], None).map(drop)
    }

    fn storage_location(&self, name: &str) -> Result<Option<PathBuf>, HookToolError> {
        let ids = self.json::<Option<Vec<String>>>("storage-list", &[name])?.unwrap_or_default();
        let Some(id) = ids.first() else { return Ok(None) };
        let info: Map<String, Value> = match self.json("storage-get", &["-s", id]) {
            Ok(info) => info,
            Err(HookToolError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(info.get("location").and_then(Value::as_str).filter(|s| !s.is_empty()).map(PathBuf::from))
    }

    fn network_get(&self, binding: &str) -> Result<NetworkInfo, HookToolError> {
        let out = self.run("network-get", &["--format=json", binding], None)?;
        parse_network(&out).map_err(|source| HookToolError::Parse { tool: "network-get".into(), source })
    }

    fn open_port(&self, port: u16) -> Result<(), HookToolError> {
        self.run("open-port", &[&format!("{port}/tcp")], None).map(drop)
    }

    fn secret_add(&self, label: &str, content: &Bag) -> Result<String, HookToolError> {
        let files = secret_files("secret-add", content)?;
        let mut args = vec!["--label", label, "--owner", "application"];
        args.extend(files.args().iter().map(String::as_str));
        Ok(self.run("secret-add", &args, None)?.trim().to_string())
    }

    fn secret_get(&self, secret: &SecretRef, refresh: bool) -> Result<Option<Bag>, HookToolError> {
        let mut args = match secret {
            SecretRef::Id(id) => vec![id.as_str()],
            SecretRef::Label(label) => vec!["--label", label.as_str()],
        };
        if refresh {
            args.push("--refresh");
        }
        match self.json::<Option<Map<String, Value>>>("secret-get", &args) {
            Ok(content) => Ok(Some(to_bag(content))),
            Err(HookToolError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn secret_set(&self, uri: &str, content: &Bag) -> Result<(), HookToolError> {
        let files = secret_files("secret-set", content)?;
        let mut args = vec![uri];
        args.extend(files.args().iter().map(String::as_str));
        self.run("secret-set", &args, None).map(drop)
    }

    fn secret_grant(&self, uri: &str, relation_id: &str) -> Result<(), HookToolError> {
        self.run("secret-grant", &[uri, "-r", relation_id], None).map(drop)
    }

    fn secret_revoke(&self, uri: &str, relation_id: &str) -> Result<(), HookToolError> {
        self.run("secret-revoke", &[uri, "-r", relation_id], None).map(drop)
    }

    fn secret_remove(&self, uri: &str) -> Result<(), HookToolError> {
        self.run("secret-remove", &[uri], None).map(drop)
    }

    fn resource_get(&self, name: &str) -> Result<Option<PathBuf>, HookToolError> {
        match self.run("resource-get", &[name], None) {
            Ok(out) => Ok(Some(out.trim()).filter(|p| !p.is_empty()).map(PathBuf::from)),
            Err(HookToolError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
#[path = "process_tests.rs"]
mod tests;

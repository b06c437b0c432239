//! `status-set`, `status-get`, `application-version-set`, `juju-log`. These take effect at once
//! and are never undone, even when the hook later fails (juju-contract §2).

use super::args::{self, Flag, Parsed, OUTPUT_FLAGS};
use super::context::{is_leader, unit_in, HookContext};
use super::format::emit;
use super::{now, Streams, ToolError};
use crate::state::{application_of, StatusRecord};
use crate::store::StoreError;
use serde_json::{json, Map, Value};
use std::io::Write;

/// The workload statuses a charm may set.
const SETTABLE: [&str; 4] = ["maintenance", "blocked", "waiting", "active"];

/// `status-set [--application] <status> [<message>]`.
pub fn status_set(hook: &HookContext, args: &[String], _io: &mut Streams) -> Result<(), ToolError> {
    let parsed = args::parse(&[Flag::switch(&["application"])], args)?;
    parsed.at_most(2)?;
    let status = parsed
        .positionals
        .first()
        .ok_or_else(|| ToolError::Usage("invalid args, require <status> [message]".into()))?;
    if !SETTABLE.contains(&status.as_str()) {
        return Err(ToolError::Usage(format!(
            "invalid status {}, expected one of [{}]",
            args::go_quote(status),
            SETTABLE.join(" ")
        )));
    }
    let record = StatusRecord {
        status: status.clone(),
        message: parsed.positionals.get(1).cloned().unwrap_or_default(),
        since: now(),
    };
    let unit = hook.unit()?;
    hook.store.update(|state| {
        unit_in(state, unit)?;
        if parsed.switch("application") {
            if !is_leader(state, unit) {
                return Err(ToolError::Failed(
                    "setting application status: this unit is not the leader".into(),
                ));
            }
            if let Some(app) = state.applications.get_mut(application_of(unit)) {
                app.status = record;
            }
        } else if let Some(u) = state.units.get_mut(unit) {
            u.workload_status = record;
        }
        Ok(())
    })
}

/// One status as status-get shows it: `status`, plus `message` and `status-data` with
/// `--include-data`.
fn details(record: &StatusRecord, include_data: bool) -> Value {
    let status = if record.status.is_empty() { "unknown" } else { record.status.as_str() };
    let mut out = Map::new();
    out.insert("status".into(), json!(status));
    if include_data {
        out.insert("message".into(), json!(record.message));
        out.insert("status-data".into(), json!({}));
    }
    Value::Object(out)
}

/// `status-get [--include-data] [--application]`.
pub fn status_get(hook: &HookContext, args: &[String], io: &mut Streams) -> Result<(), ToolError> {
    let mut flags = OUTPUT_FLAGS.to_vec();
    flags.extend([Flag::switch(&["include-data"]), Flag::switch(&["application"])]);
    let parsed = args::parse(&flags, args)?;
    parsed.at_most(0)?;
    let include = parsed.switch("include-data");
    let state = hook.view()?;
    let unit = unit_in(&state, hook.unit()?)?;
    if !parsed.switch("application") {
        if !include && is_smart(&parsed) {
            let status = details(&unit.workload_status, false)["status"].clone();
            return emit(io.stdout, &parsed, &status);
        }
        return emit(io.stdout, &parsed, &details(&unit.workload_status, include));
    }
    if !is_leader(&state, &unit.name) {
        return Err(ToolError::Failed("finding application status: this unit is not the leader".into()));
    }
    let app = state.applications.get(&unit.application);
    let mut out = details(&app.map(|a| a.status.clone()).unwrap_or_default(), include);
    let units: Map<String, Value> = state
        .units_of(&unit.application)
        .into_iter()
        .map(|u| (u.name.clone(), details(&u.workload_status, include)))
        .collect();
    out["units"] = Value::Object(units);
    emit(io.stdout, &parsed, &json!({ "application-status": out }))
}

fn is_smart(parsed: &Parsed) -> bool {
    matches!(parsed.value("format"), None | Some("smart"))
}

/// `application-version-set <version>`: the workload version `juju status` shows.
pub fn application_version_set(
    hook: &HookContext,
    args: &[String],
    _io: &mut Streams,
) -> Result<(), ToolError> {
    let parsed = args::parse(&[], args)?;
    parsed.at_most(1)?;
    let version =
        parsed.positionals.first().ok_or_else(|| ToolError::Usage("no version specified".into()))?;
    let unit = hook.unit()?;
    hook.store.update(|state| {
        unit_in(state, unit)?;
        if let Some(app) = state.applications.get_mut(application_of(unit)) {
            app.workload_version = version.clone();
        }
        Ok::<_, ToolError>(())
    })
}

/// A log level as Juju's loggo names it, or `None` if it is not one.
pub fn log_level(text: &str) -> Option<&'static str> {
    Some(match text.to_ascii_uppercase().as_str() {
        "TRACE" => "TRACE",
        "DEBUG" => "DEBUG",
        "INFO" => "INFO",
        "WARN" | "WARNING" => "WARNING",
        "ERROR" => "ERROR",
        "CRITICAL" => "CRITICAL",
        _ => return None,
    })
}

/// `juju-log [-l LEVEL | --log-level LEVEL] [--debug] <message...>`: appends
/// `<unix-time> <unit> <LEVEL> <message>` to the model's log. An unknown level logs at INFO after a
/// warning, as Juju does.
pub fn juju_log(hook: &HookContext, args: &[String], io: &mut Streams) -> Result<(), ToolError> {
    let flags = [Flag::value(&["l", "log-level"]), Flag::switch(&["debug"]), Flag::value(&["format"])];
    let parsed = args::parse(&flags, args)?;
    if parsed.positionals.is_empty() {
        return Err(ToolError::Usage("no message specified".into()));
    }
    if parsed.value("format").is_some() {
        write!(io.stderr, "--format flag deprecated for command \"juju-log\"")?;
    }
    let unit = hook.unit()?;
    let mut lines = Vec::new();
    let level = match (parsed.value("l"), parsed.switch("debug")) {
        (_, true) => "DEBUG",
        (None, false) => "INFO",
        (Some(text), false) => log_level(text).unwrap_or_else(|| {
            lines.push(format!("WARNING Specified log level of {} is not valid", args::go_quote(text)));
            "INFO"
        }),
    };
    // In a relation hook Juju prefixes the relation (`valkey-peers:0: message`).
    let prefix = hook.env.relation_id.as_deref().map(|r| format!("{r}: ")).unwrap_or_default();
    lines.push(format!("{level} {prefix}{}", parsed.positionals.join(" ")));
    let path = hook.store.log_path();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|source| StoreError::Io { what: "cannot open", path: path.clone(), source })?;
    let stamp = now();
    let text: String = lines.iter().map(|l| format!("{stamp:.3} {unit} {l}\n")).collect();
    file.write_all(text.as_bytes())?;
    Ok(())
}

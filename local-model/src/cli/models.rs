//! Model-level commands: add-model, destroy-model, models and model-config.

use super::{split_kv, CliError, Format, Result};
use crate::agent::spawn;
use crate::hosts::NetworkMode;
use crate::model::duration;
use crate::model::home::{self, Home};
use crate::state::ModelState;
use std::time::Duration;

/// `add-model NAME [--config k=v]...`: every setting is checked before the model is created.
pub fn add_model(home: &Home, name: &str, config: &[String]) -> Result<()> {
    let mut mode = NetworkMode::default();
    let mut unit_hostnames = None;
    let mut settings = Vec::new();
    for spec in config {
        let (k, v) = split_kv(spec)?;
        if k == NETWORK_MODE {
            mode = NetworkMode::parse(v)?;
            continue;
        }
        if k == UNIT_HOSTNAMES {
            unit_hostnames = Some(parse_bool(UNIT_HOSTNAMES, v)?);
            continue;
        }
        check_key(k).map_err(|_| {
            CliError::Usage(format!(
                "unknown model config key \"{k}\" (known: network-mode, unit-hostnames, {})",
                KEYS.join(", ")
            ))
        })?;
        settings.push((k, v));
    }
    let mut probe = ModelState::default();
    settings.iter().try_for_each(|(k, v)| set(&mut probe, k, v))?;
    if unit_hostnames.is_some() && mode != NetworkMode::Machines {
        return Err(CliError::Usage(format!("{UNIT_HOSTNAMES} applies to network-mode=machines only")));
    }
    let store = home.create_with(name, mode)?;
    if !settings.is_empty() || unit_hostnames.is_some() {
        store.update(|s: &mut ModelState| -> Result<()> {
            s.unit_hostnames = unit_hostnames.unwrap_or(false);
            settings.iter().try_for_each(|(k, v)| set(s, k, v))
        })?;
    }
    spawn::ensure_running(&store)?;
    eprintln!("Added '{name}' model");
    Ok(())
}

/// `destroy-model NAME`: stops the agent and every unit process, frees the addresses, removes the
/// directory.
pub fn destroy_model(home: &Home, name: &str) -> Result<()> {
    let store = home.open(name)?;
    home::destroy(&store)?;
    eprintln!("Model destroyed.");
    Ok(())
}

/// `models`.
pub fn list(home: &Home, current: &str, format: Option<Format>) -> Result<()> {
    let names = home.models();
    match format {
        Some(Format::Json) | Some(Format::Yaml) => {
            let models: Vec<serde_json::Value> = names
                .iter()
                .map(|n| serde_json::json!({"name": n, "short-name": n, "type": "iaas"}))
                .collect();
            let doc = serde_json::json!({"models": models, "current-model": current});
            if format == Some(Format::Json) {
                println!("{doc}");
            } else {
                print!("{}", serde_yaml::to_string(&doc).expect("yaml"));
            }
        }
        _ => {
            println!("Model");
            for n in names {
                println!("{n}{}", if n == current { "*" } else { "" });
            }
        }
    }
    Ok(())
}

/// The model-config keys this model understands.
const KEYS: [&str; 4] = ["update-status-hook-interval", "hook-timeout", "hook-retry-delay", TEARDOWN_ORDER];

/// The local key choosing a removed unit's teardown order (`crate::state::TeardownOrder`).
const TEARDOWN_ORDER: &str = "teardown-order";

/// The read-only key naming the model's network mode (set by `add-model --config`).
const NETWORK_MODE: &str = "network-mode";
/// Machine mode only, set by `add-model --config`: whether `network-get` reports hostnames.
const UNIT_HOSTNAMES: &str = "unit-hostnames";

/// A boolean setting as Juju spells it.
fn parse_bool(key: &str, value: &str) -> Result<bool> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(CliError::Usage(format!("{key} must be true or false, not {other:?}"))),
    }
}

/// The model's network mode as `add-model --config network-mode=` spells it.
fn network_mode(state: &ModelState) -> &'static str {
    match state.network_mode {
        NetworkMode::Loopback => "loopback",
        NetworkMode::Hosts => "hosts",
        NetworkMode::Machines => "machines",
    }
}

/// Reads one model-config value (a Go duration string, or the teardown order).
fn get(state: &ModelState, key: &str) -> String {
    let d = match key {
        TEARDOWN_ORDER => return state.teardown_order.to_string(),
        "update-status-hook-interval" => match state.update_status_interval_ms {
            Some(ms) => Duration::from_millis(ms),
            None => Duration::from_secs(state.update_status_interval_secs),
        },
        "hook-timeout" => Duration::from_secs(state.hook_timeout_secs),
        _ => Duration::from_millis(state.hook_retry_delay_ms),
    };
    duration::format(d)
}

/// Checks one model-config value without applying it.
fn check_value(key: &str, value: &str) -> Result<()> {
    match key {
        TEARDOWN_ORDER => crate::state::TeardownOrder::parse(value, 0).map(drop),
        _ => duration::parse(value).map(drop),
    }
    .map_err(CliError::Usage)
}

/// Sets one model-config value from a Go duration string (or a teardown order).
fn set(state: &mut ModelState, key: &str, value: &str) -> Result<()> {
    if key == TEARDOWN_ORDER {
        let clock_seed = (crate::model::clock::now() * 1000.0) as u64;
        state.teardown_order =
            crate::state::TeardownOrder::parse(value, clock_seed).map_err(CliError::Usage)?;
        return Ok(());
    }
    let d = duration::parse(value).map_err(CliError::Usage)?;
    match key {
        "update-status-hook-interval" => {
            state.update_status_interval_secs = d.as_secs();
            state.update_status_interval_ms = Some(d.as_millis() as u64);
        }
        "hook-timeout" => {
            if d < Duration::from_secs(1) {
                return Err(CliError::Usage("hook-timeout must be at least 1s".into()));
            }
            state.hook_timeout_secs = d.as_secs();
        }
        _ => state.hook_retry_delay_ms = d.as_millis() as u64,
    }
    Ok(())
}

fn check_key(key: &str) -> Result<()> {
    if KEYS.contains(&key) {
        Ok(())
    } else {
        Err(CliError::Usage(format!("unknown model config key \"{key}\" (known: {})", KEYS.join(", "))))
    }
}

/// Every model-config attribute as `model-config --format json` prints it:
/// `{"key": {"Value": v, "Source": "model"}}` (`cmd/juju/model/config.go` formats
/// `config.ConfigValues` this way; jubilant reads the `Value` fields).
fn config_document(state: &ModelState) -> serde_json::Value {
    let mut doc = serde_json::Map::new();
    for key in KEYS {
        doc.insert(key.to_string(), serde_json::json!({"Value": get(state, key), "Source": "model"}));
    }
    doc.insert(NETWORK_MODE.into(), serde_json::json!({"Value": network_mode(state), "Source": "model"}));
    serde_json::Value::Object(doc)
}

/// `model-config [key | key=value ...] [--reset k,...] [--format json|yaml]`.
pub fn model_config(
    home: &Home,
    model: &str,
    settings: &[String],
    reset: &[String],
    format: Option<Format>,
) -> Result<()> {
    let store = home.open(model)?;
    let sets: Vec<&String> = settings.iter().filter(|s| s.contains('=')).collect();
    let gets: Vec<&String> = settings.iter().filter(|s| !s.contains('=')).collect();
    if !gets.is_empty() && (!sets.is_empty() || !reset.is_empty() || gets.len() > 1) {
        return Err(CliError::Usage("can only retrieve a single value, or all values".into()));
    }
    if gets.first().is_some_and(|k| k.as_str() == NETWORK_MODE) {
        println!("{}", network_mode(&store.read()?));
        return Ok(());
    }
    if let Some(key) = gets.first() {
        check_key(key)?;
        println!("{}", get(&store.read()?, key));
        return Ok(());
    }
    if sets.is_empty() && reset.is_empty() {
        let state = store.read()?;
        match format {
            Some(Format::Json) => {
                println!("{}", config_document(&state));
                return Ok(());
            }
            Some(Format::Yaml) => {
                print!("{}", serde_yaml::to_string(&config_document(&state)).expect("yaml"));
                return Ok(());
            }
            _ => {}
        }
        println!("{:<30}{:<9}Value", "Attribute", "From");
        for key in KEYS {
            println!("{key:<30}{:<9}{}", "model", get(&state, key));
        }
        println!("{NETWORK_MODE:<30}{:<9}{}", "model", network_mode(&state));
        return Ok(());
    }
    let fixed =
        sets.iter().map(|s| s.split('=').next().unwrap_or_default()).chain(reset.iter().map(String::as_str));
    if fixed.into_iter().any(|k| k == NETWORK_MODE) {
        return Err(CliError::Usage(
            "network-mode is fixed when the model is created (add-model NAME --config network-mode=...)"
                .into(),
        ));
    }
    let mut pairs = Vec::new();
    for spec in sets {
        let (k, v) = split_kv(spec)?;
        check_key(k)?;
        check_value(k, v)?;
        pairs.push((k.to_string(), v.to_string()));
    }
    for key in reset {
        check_key(key)?;
    }
    store.update(|s: &mut ModelState| -> Result<()> {
        for key in reset {
            match key.as_str() {
                "update-status-hook-interval" => {
                    s.update_status_interval_secs = home::DEFAULT_UPDATE_STATUS_SECS;
                    s.update_status_interval_ms = None;
                }
                "hook-timeout" => s.hook_timeout_secs = home::DEFAULT_HOOK_TIMEOUT_SECS,
                TEARDOWN_ORDER => s.teardown_order = Default::default(),
                _ => s.hook_retry_delay_ms = home::DEFAULT_RETRY_DELAY_MS,
            }
        }
        for (k, v) in &pairs {
            set(s, k, v)?;
        }
        Ok(())
    })?;
    Ok(())
}

//! `config APP [key | key=value ...] [--reset k,...]`: show or change application options.
//! A change queues config-changed on every unit (only when a value really changed, as in Juju).

use super::{split_kv, CliError, Format, Result};
use crate::agent::spawn;
use crate::model::home::Home;
use crate::model::{charm, lifecycle, ModelError};
use crate::state::{Life, ModelState};
use clap::Args;
use serde_json::{json, Value};

/// Arguments of `config`.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Application.
    pub app: String,
    /// `key` to show one value, `key=value` to set.
    pub settings: Vec<String>,
    /// Keys to reset to their defaults.
    #[arg(long, value_delimiter = ',')]
    pub reset: Vec<String>,
    /// Output format when showing everything.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
}

/// Runs `config`.
pub fn config(home: &Home, model: &str, args: ConfigArgs) -> Result<()> {
    let store = home.open(model)?;
    let state = store.read()?;
    let app = &args.app;
    let application = state
        .applications
        .get(app)
        .ok_or_else(|| ModelError::Usage(format!("application \"{app}\" not found")))?;
    let options = charm::read_config(&store.dir().join("charms").join(app))?;
    let sets: Vec<&String> = args.settings.iter().filter(|s| s.contains('=')).collect();
    let gets: Vec<&String> = args.settings.iter().filter(|s| !s.contains('=')).collect();
    if !gets.is_empty() && (!sets.is_empty() || !args.reset.is_empty() || gets.len() > 1) {
        return Err(CliError::Usage("can only retrieve a single value, or all values".into()));
    }
    let unknown = |k: &str| CliError::Usage(format!("unknown option \"{k}\""));
    if let Some(key) = gets.first() {
        let opt = options.get(key.as_str()).ok_or_else(|| unknown(key))?;
        match application.config.get(key.as_str()).or(opt.default.as_ref()) {
            Some(Value::String(s)) => println!("{s}"),
            Some(v) => println!("{v}"),
            None => println!(),
        }
        return Ok(());
    }
    if sets.is_empty() && args.reset.is_empty() {
        let mut settings = serde_json::Map::new();
        for (key, opt) in &options {
            let user = application.config.get(key);
            let mut entry =
                json!({"type": opt.kind, "source": if user.is_some() { "user" } else { "default" }});
            if let Some(d) = &opt.default {
                entry["default"] = d.clone();
            }
            if let Some(v) = user.or(opt.default.as_ref()) {
                entry["value"] = v.clone();
            }
            settings.insert(key.clone(), entry);
        }
        // Juju lists the application's own settings beside the charm's; `trust` is the one a
        // machine application has (`cmd/juju/application/config.go`, jubilant's app_config).
        let app_config = json!({"trust": {"default": false, "description": "Does this application have access to trusted credentials",
            "source": "default", "type": "bool", "value": false}});
        let doc = json!({"application": app, "charm": application.charm_name, "application-config": app_config,
            "settings": settings});
        if args.format == Some(Format::Json) {
            println!("{doc}");
        } else {
            print!("{}", serde_yaml::to_string(&doc).expect("yaml"));
        }
        return Ok(());
    }
    let mut changes = Vec::new();
    for spec in sets {
        let (k, v) = split_kv(spec)?;
        let opt = options.get(k).ok_or_else(|| unknown(k))?;
        changes.push((k.to_string(), Some(charm::typed_config_value(k, opt, &Value::String(v.into()))?)));
    }
    for k in &args.reset {
        options.get(k.as_str()).ok_or_else(|| unknown(k))?;
        changes.push((k.clone(), None));
    }
    store.update(|s: &mut ModelState| -> Result<()> {
        let a = s
            .applications
            .get_mut(app)
            .ok_or_else(|| CliError::Usage(format!("application \"{app}\" not found")))?;
        let before = a.config.clone();
        for (k, v) in &changes {
            match v {
                Some(v) => a.config.insert(k.clone(), v.clone()),
                None => a.config.remove(k),
            };
        }
        if a.config != before {
            let names: Vec<String> =
                s.units_of(app).iter().filter(|u| u.life == Life::Alive).map(|u| u.name.clone()).collect();
            for unit in names {
                lifecycle::enqueue_hook(s, &unit, lifecycle::hook("config-changed"));
            }
        }
        Ok(())
    })?;
    spawn::ensure_running(&store)?;
    Ok(())
}

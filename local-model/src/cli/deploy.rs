//! Commands that change which applications and units exist: deploy, add-unit, remove-unit,
//! scale-application, refresh and attach-resource.

use super::{split_kv, CliError, Result};
use crate::agent::spawn;
use crate::model::charm::{self, CharmMeta};
use crate::model::home::Home;
use crate::model::{clock, lifecycle, units, ModelError};
use crate::state::{Application, Life, ModelState, StatusRecord};
use crate::store::Store;
use clap::Args;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Arguments of `deploy`.
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// Charm directory (with metadata.yaml).
    pub charm: PathBuf,
    /// Application name (default: the charm's name).
    pub app: Option<String>,
    /// Number of units.
    #[arg(short = 'n', long = "num-units", default_value_t = 1)]
    pub n: u32,
    /// `key=value` or a YAML file of options (repeatable).
    #[arg(long)]
    pub config: Vec<String>,
    /// `name=PATH` file resources (repeatable).
    #[arg(long)]
    pub resource: Vec<String>,
    /// Accepted for compatibility.
    #[arg(long)]
    pub base: Option<String>,
    /// Accepted for compatibility.
    #[arg(long)]
    pub trust: bool,
}

/// Arguments of `remove-unit`.
#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// Units to remove.
    #[arg(required = true)]
    pub units: Vec<String>,
    /// Remove the unit even if its teardown hooks fail or hang: they run for at most a minute
    /// (as Juju's forced cleanup), then its processes are killed.
    #[arg(long)]
    pub force: bool,
    /// With `--force`: do not wait for the teardown hooks; kill its processes at once.
    #[arg(long)]
    pub no_wait: bool,
    /// Accepted for compatibility (storage is always removed with the unit).
    #[arg(long)]
    pub destroy_storage: bool,
    /// Accepted for compatibility.
    #[arg(long)]
    pub no_prompt: bool,
}

/// `deploy CHARM_DIR [APP] [-n N] [--config ...] [--resource ...]`.
pub fn deploy(home: &Home, model: &str, args: DeployArgs) -> Result<()> {
    let charm_dir = absolute(&args.charm)?;
    let meta = charm::read_metadata(&charm_dir)?;
    let options = charm::read_config(&charm_dir)?;
    charm::read_actions(&charm_dir)?;
    // A subordinate's units come from its container-scoped relations, never from `-n`
    // (`cmd/juju/application/deployer/charm.go`: a subordinate deploys with 0 units).
    let n = match (meta.subordinate, args.n) {
        (false, n) => n,
        (true, 1) => 0,
        (true, _) => {
            return Err(CliError::Usage("cannot use --num-units or --to with subordinate application".into()))
        }
    };
    let app = args.app.clone().unwrap_or_else(|| meta.name.clone());
    validate_app_name(&app)?;
    let config = parse_deploy_config(&args.config, &app, &options)?;
    let mut resources = BTreeMap::new();
    for spec in &args.resource {
        let (name, path) = split_kv(spec)?;
        check_resource(&meta, name, Path::new(path))?;
        resources.insert(name.to_string(), PathBuf::from(path));
    }
    let store = home.open_or_create(model)?;
    if store.read()?.applications.contains_key(&app) {
        return Err(CliError::Usage(format!("cannot add application \"{app}\": application already exists")));
    }
    units::copy_charm(&charm_dir, &store.dir().join("charms").join(&app))?;
    let mut copies = BTreeMap::new();
    for (name, path) in &resources {
        copies.insert(name.clone(), copy_resource(&store, &app, name, path)?);
    }
    store.update(|s: &mut ModelState| -> Result<()> {
        if s.applications.contains_key(&app) {
            return Err(CliError::Usage(format!(
                "cannot add application \"{app}\": application already exists"
            )));
        }
        s.applications.insert(
            app.clone(),
            Application {
                name: app.clone(),
                charm_source: charm_dir.clone(),
                charm_name: meta.name.clone(),
                config: config.clone(),
                resources: copies.clone(),
                status: StatusRecord {
                    status: "unknown".into(),
                    message: String::new(),
                    since: clock::now(),
                },
                peer_endpoints: meta.peers.clone(),
                storage_names: meta.storage.clone(),
                storage_specs: meta.storage_specs.clone(),
                provides: meta.provides.clone(),
                requires: meta.requires.clone(),
                subordinate: meta.subordinate,
                ..Application::default()
            },
        );
        lifecycle::create_peer_relations(s, &app);
        Ok(())
    })?;
    units::add_units(&store, &app, n)?;
    spawn::ensure_running(&store)?;
    eprintln!("Deployed \"{app}\" from local charm \"{}\", revision 0", meta.name);
    Ok(())
}

/// `add-unit APP [-n N]`.
pub fn add_unit(home: &Home, model: &str, app: &str, n: u32) -> Result<()> {
    let store = home.open(model)?;
    units::add_units(&store, app, n)?;
    spawn::ensure_running(&store)?;
    Ok(())
}

/// `remove-unit UNIT... [--force]`: all units are checked before any is touched.
pub fn remove_unit(home: &Home, model: &str, args: RemoveArgs) -> Result<()> {
    let store = home.open(model)?;
    let uuid = store.read()?.uuid;
    if args.no_wait && !args.force {
        return Err(CliError::Usage("--no-wait without --force not valid".into()));
    }
    let now = crate::model::clock::now();
    let force_by =
        args.force.then_some(now + if args.no_wait { 0.0 } else { lifecycle::FORCE_MAX_WAIT_SECS });
    let forced = store.update(|s: &mut ModelState| -> Result<Vec<crate::state::Unit>> {
        for unit in &args.units {
            if !unit.contains('/') {
                return Err(CliError::Usage(format!("invalid unit name \"{unit}\"")));
            }
            match s.units.get(unit) {
                None => return Err(CliError::Usage(format!("unit \"{unit}\" not found"))),
                Some(u) if u.principal.is_some() => {
                    // `apiserver/facades/client/application/application.go`, `DestroyUnit`.
                    return Err(CliError::Usage(format!(
                        "unit \"{unit}\" is a subordinate, to remove use remove-relation. Note: this will remove all units of \"{}\"",
                        u.application
                    )));
                }
                Some(u) if u.life == Life::Dying && !args.force => {
                    return Err(CliError::Usage(format!("unit \"{unit}\" is already being removed")))
                }
                Some(_) => {}
            }
        }
        let mut forced = Vec::new();
        for unit in &args.units {
            lifecycle::begin_removal(s, unit, force_by)?;
        }
        // `--force --no-wait`: gone at once. A hook still running on it is killed by the teardown;
        // its outcome is ignored. Otherwise the agent removes it after its hooks or the bound.
        for unit in lifecycle::forced_due(s, now) {
            if let Some(removed) = lifecycle::finish_removal(s, &unit) {
                forced.push(removed);
            }
        }
        Ok(forced)
    })?;
    for unit in forced {
        units::tear_down(&store, &uuid, &unit.name, Some(&unit))?;
    }
    spawn::ensure_running(&store)?;
    for unit in &args.units {
        eprintln!("will remove unit {unit}");
    }
    Ok(())
}

/// `scale-application APP N`: adds units, or removes the highest-numbered ones.
pub fn scale(home: &Home, model: &str, app: &str, scale: u32) -> Result<()> {
    let store = home.open(model)?;
    let state = store.read()?;
    if !state.applications.contains_key(app) {
        return Err(ModelError::Usage(format!("application \"{app}\" not found")).into());
    }
    let alive: Vec<String> =
        state.units_of(app).iter().filter(|u| u.life == Life::Alive).map(|u| u.name.clone()).collect();
    let current = alive.len() as u32;
    if scale > current {
        units::add_units(&store, app, scale - current)?;
    } else if scale < current {
        let victims: Vec<String> = alive.iter().rev().take((current - scale) as usize).cloned().collect();
        store.update(|s: &mut ModelState| -> Result<()> {
            for unit in &victims {
                lifecycle::begin_removal(s, unit, None)?;
            }
            Ok(())
        })?;
    }
    spawn::ensure_running(&store)?;
    Ok(())
}

/// `refresh APP --path DIR`: new charm copy everywhere, then upgrade-charm and config-changed.
pub fn refresh(home: &Home, model: &str, app: &str, path: &Path) -> Result<()> {
    let store = home.open(model)?;
    let charm_dir = absolute(path)?;
    let meta = charm::read_metadata(&charm_dir)?;
    let state = store.read()?;
    let application = state
        .applications
        .get(app)
        .ok_or_else(|| ModelError::Usage(format!("application \"{app}\" not found")))?;
    if application.charm_name != meta.name {
        return Err(CliError::Usage(format!(
            "cannot refresh \"{app}\": charm \"{}\" is not \"{}\"",
            meta.name, application.charm_name
        )));
    }
    units::copy_charm(&charm_dir, &store.dir().join("charms").join(app))?;
    store.update(|s: &mut ModelState| -> Result<()> {
        let a = s.applications.get_mut(app).expect("checked");
        a.charm_source = charm_dir.clone();
        a.charm_revision += 1;
        a.peer_endpoints = meta.peers.clone();
        a.storage_names = meta.storage.clone();
        a.storage_specs = meta.storage_specs.clone();
        a.provides = meta.provides.clone();
        a.requires = meta.requires.clone();
        lifecycle::create_peer_relations(s, app);
        let names: Vec<String> = s.units_of(app).iter().map(|u| u.name.clone()).collect();
        for unit in names {
            units::copy_charm(&charm_dir, &store.unit_dir(&unit).join("charm"))?;
            lifecycle::enqueue_hook(s, &unit, lifecycle::hook("upgrade-charm"));
            lifecycle::enqueue_hook(s, &unit, lifecycle::hook("config-changed"));
        }
        Ok(())
    })?;
    spawn::ensure_running(&store)?;
    Ok(())
}

/// `attach-resource APP name=PATH`: copies the file and fires upgrade-charm, as Juju does.
pub fn attach_resource(home: &Home, model: &str, app: &str, spec: &str) -> Result<()> {
    let store = home.open(model)?;
    let (name, path) = split_kv(spec)?;
    if !store.read()?.applications.contains_key(app) {
        return Err(ModelError::Usage(format!("application \"{app}\" not found")).into());
    }
    let meta = charm::read_metadata(&store.dir().join("charms").join(app))?;
    check_resource(&meta, name, Path::new(path))?;
    let copy = copy_resource(&store, app, name, Path::new(path))?;
    store.update(|s: &mut ModelState| -> Result<()> {
        s.applications.get_mut(app).expect("checked").resources.insert(name.to_string(), copy.clone());
        let names: Vec<String> = s.units_of(app).iter().map(|u| u.name.clone()).collect();
        for unit in names {
            lifecycle::enqueue_hook(s, &unit, lifecycle::hook("upgrade-charm"));
        }
        Ok(())
    })?;
    spawn::ensure_running(&store)?;
    Ok(())
}

fn check_resource(meta: &CharmMeta, name: &str, path: &Path) -> Result<()> {
    if !meta.resources.iter().any(|r| r == name) {
        return Err(CliError::Usage(format!("charm \"{}\" has no resource \"{name}\"", meta.name)));
    }
    if !path.is_file() {
        return Err(CliError::Usage(format!("resource file {} not found", path.display())));
    }
    Ok(())
}

fn copy_resource(store: &Store, app: &str, name: &str, path: &Path) -> Result<PathBuf> {
    let dir = store.dir().join("resources").join(app);
    std::fs::create_dir_all(&dir).map_err(ModelError::io(format!("cannot create {}", dir.display())))?;
    let dst = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::copy(path, &tmp).map_err(ModelError::io(format!("cannot copy {}", path.display())))?;
    std::fs::rename(&tmp, &dst).map_err(ModelError::io(format!("cannot rename {}", tmp.display())))?;
    Ok(dst)
}

fn absolute(path: &Path) -> Result<PathBuf> {
    if !path.is_dir() {
        return Err(CliError::Usage(format!("charm directory {} not found", path.display())));
    }
    std::fs::canonicalize(path).map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))
}

fn validate_app_name(app: &str) -> Result<()> {
    let ok = app.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && app.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(CliError::Usage(format!("invalid application name \"{app}\"")))
    }
}

/// Parses `--config` values: `k=v` pairs or YAML files (`{app: {k: v}}` or `{k: v}`), checked
/// against the charm's options.
pub fn parse_deploy_config(
    specs: &[String],
    app: &str,
    options: &BTreeMap<String, charm::ConfigOption>,
) -> Result<BTreeMap<String, Value>> {
    let mut out = BTreeMap::new();
    for spec in specs {
        let pairs: Vec<(String, Value)> = if spec.contains('=') {
            let (k, v) = split_kv(spec)?;
            vec![(k.to_string(), Value::String(v.to_string()))]
        } else {
            let text = std::fs::read_to_string(spec)
                .map_err(|e| CliError::Usage(format!("cannot read config file {spec}: {e}")))?;
            let doc: Value = serde_yaml::from_str(&text)
                .map_err(|e| CliError::Usage(format!("config file {spec}: {e}")))?;
            let map = match doc.get(app) {
                Some(Value::Object(m)) => m.clone(),
                _ => doc.as_object().cloned().unwrap_or_default(),
            };
            map.into_iter().collect()
        };
        for (key, value) in pairs {
            let opt =
                options.get(&key).ok_or_else(|| CliError::Usage(format!("unknown option \"{key}\"")))?;
            out.insert(key.clone(), charm::typed_config_value(&key, opt, &value)?);
        }
    }
    Ok(out)
}

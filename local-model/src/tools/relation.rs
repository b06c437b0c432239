//! `relation-ids`, `relation-list`, `relation-get`, `relation-set`.
//!
//! Access rules (juju-contract §4): a unit reads any bag of a unit in the relation and writes only
//! its own; the application bag is written by the leader only, read by the other side, and in a
//! peer relation by every unit of the application. Writes are held back until the hook succeeds.

use super::args::{self, Flag, Parsed, OUTPUT_FLAGS};
use super::context::{is_leader, relation_key, resolve_relation, HookContext};
use super::format::emit;
use super::{Streams, ToolError};
use crate::state::{application_of, unit_number, Bag, ModelState, Relation};
use serde_json::{json, Value};
use std::collections::BTreeMap;

const RELATION: Flag = Flag::value(&["r", "relation"]);
const APP: Flag = Flag::switch(&["app"]);

fn parse(args: &[String], extra: &[Flag]) -> Result<Parsed, ToolError> {
    let mut flags = OUTPUT_FLAGS.to_vec();
    flags.extend_from_slice(extra);
    args::parse(&flags, args)
}

/// `relation-ids [<endpoint>]`: the ids of the unit's relations on an endpoint (default: the
/// current relation's endpoint), as `endpoint:N`.
pub fn relation_ids(hook: &HookContext, args: &[String], io: &mut Streams) -> Result<(), ToolError> {
    let parsed = parse(args, &[])?;
    parsed.at_most(1)?;
    let state = hook.view()?;
    let unit = hook.unit()?;
    let app = application_of(unit);
    let endpoint = match parsed.positionals.first() {
        Some(name) => name.clone(),
        None => resolve_relation(&state, unit, None, &hook.env)
            .map_err(|_| ToolError::Usage("no endpoint name specified".into()))?
            .endpoint_for(app)
            .to_string(),
    };
    // A relation being removed drops out once this unit has left it (its -broken hook started):
    // Juju's context lists only the relations the unit is still in
    // (`internal/worker/uniter/runner/context/context.go`, `RelationIds`).
    let me = state.units.get(unit);
    let listed = |r: &Relation| {
        let in_scope = me.is_some_and(|u| u.relation_views.contains_key(&r.id));
        let alive = me.is_some_and(|u| u.life == crate::state::Life::Alive) && !r.dying;
        in_scope || alive
    };
    let mut ids: Vec<String> = state
        .relations
        .values()
        .filter(|r| r.endpoint_for(app) == endpoint && r.applications.contains(app) && listed(r))
        .map(|r| relation_key(r, app))
        .collect();
    ids.sort(); // Juju sorts the `endpoint:N` strings.
    emit(io.stdout, &parsed, &json!(ids))
}

/// `relation-list [-r ID] [--app]`: the remote units this unit sees in the relation (never itself),
/// or with `--app` the remote application's name.
pub fn relation_list(hook: &HookContext, args: &[String], io: &mut Streams) -> Result<(), ToolError> {
    let parsed = parse(args, &[RELATION, APP])?;
    parsed.at_most(0)?;
    let state = hook.view()?;
    let unit = hook.unit()?;
    let relation = resolve_relation(&state, unit, parsed.value("r"), &hook.env)?;
    if parsed.switch("app") {
        return emit(io.stdout, &parsed, &json!(remote_app(relation, unit)));
    }
    let mut units: Vec<String> = state
        .units
        .get(unit)
        .and_then(|u| u.relation_views.get(&relation.id))
        .map(|v| v.iter().filter(|name| *name != unit).cloned().collect())
        .unwrap_or_default();
    units.sort_by_key(|u| (application_of(u).to_string(), unit_number(u)));
    emit(io.stdout, &parsed, &json!(units))
}

/// The application on the other side of a relation (the unit's own for a peer relation).
pub fn remote_app(relation: &Relation, unit: &str) -> String {
    let own = application_of(unit);
    relation.applications.iter().find(|a| *a != own).map_or(own, String::as_str).to_string()
}

/// `relation-get [-r ID] [--app] [<key>|-] [<unit-or-app>]`.
pub fn relation_get(hook: &HookContext, args: &[String], io: &mut Streams) -> Result<(), ToolError> {
    let parsed = parse(args, &[RELATION, APP])?;
    parsed.at_most(2)?;
    let key = parsed.positionals.first().filter(|k| *k != "-").cloned();
    let state = hook.view()?;
    let unit = hook.unit()?;
    let relation = resolve_relation(&state, unit, parsed.value("r"), &hook.env)?;
    // Juju's defaults: an explicit name wins; else the remote app with --app; else the remote
    // unit; else the remote app (an app-data -changed hook has no remote unit).
    let (app, target) = match (parsed.positionals.get(1), parsed.switch("app")) {
        (Some(name), app) => (app, name.clone()),
        (None, true) => (true, hook.env.remote_app.clone().ok_or_else(no_target)?),
        (None, false) => match (&hook.env.remote_unit, &hook.env.remote_app) {
            (Some(remote), _) => (false, remote.clone()),
            (None, Some(remote)) => (true, remote.clone()),
            (None, None) => return Err(no_target()),
        },
    };
    let member = state
        .units
        .get(unit)
        .and_then(|u| u.relation_views.get(&relation.id))
        .is_some_and(|v| v.contains(&target));
    let bag = if app {
        read_app_bag(&state, relation, unit, application_of(&target))?
    } else if member {
        cached_member_bag(hook, &state, relation.id, unit, &target)?
    } else {
        read_unit_bag(&state, relation, unit, &target)?
    };
    let value = match key {
        Some(key) => bag.get(&key).map_or(Value::Null, |v| json!(v)),
        None => json!(bag),
    };
    emit(io.stdout, &parsed, &value)
}

/// A remote member's settings as this unit's agent caches them (Juju's `RelationCache.Settings`,
/// `internal/worker/uniter/runner/context/cache.go`): the cached copy if there is one, else the
/// live bag, which is then cached until a `-joined`/`-changed` hook about that unit starts
/// ([`crate::model::lifecycle::on_hook_start`]). Hooks, update-status and exec contexts alike.
fn cached_member_bag(
    hook: &HookContext,
    view: &ModelState,
    rel: u32,
    reader: &str,
    target: &str,
) -> Result<Bag, ToolError> {
    let cached = view.units.get(reader).and_then(|u| u.relation_cache.get(&rel)).and_then(|c| c.get(target));
    if let Some(bag) = cached {
        return Ok(bag.clone());
    }
    hook.store.update(|state: &mut ModelState| -> Result<Bag, ToolError> {
        let live =
            state.relations.get(&rel).and_then(|r| r.unit_bags.get(target)).cloned().unwrap_or_default();
        let Some(me) = state.units.get_mut(reader) else { return Ok(live) };
        Ok(me.relation_cache.entry(rel).or_default().entry(target.to_string()).or_insert(live).clone())
    })
}

fn no_target() -> ToolError {
    ToolError::Usage("no unit or application specified".into())
}

fn read_unit_bag(
    state: &ModelState,
    relation: &Relation,
    reader: &str,
    target: &str,
) -> Result<Bag, ToolError> {
    if let Some(bag) = relation.unit_bags.get(target) {
        return Ok(bag.clone());
    }
    let member = state.units.get(target).is_some_and(|u| relation.applications.contains(&u.application));
    if target == reader || member {
        return Ok(Bag::new());
    }
    Err(ToolError::Failed(format!(
        "cannot read settings for unit \"{target}\" in relation \"{}\": unit \"{target}\": settings not found",
        relation_key(relation, application_of(reader))
    )))
}

fn read_app_bag(state: &ModelState, relation: &Relation, reader: &str, app: &str) -> Result<Bag, ToolError> {
    if !relation.applications.contains(app) {
        return Err(ToolError::Failed(format!(
            "cannot read settings for application \"{app}\" in relation \"{}\": application \"{app}\": settings not found",
            relation_key(relation, application_of(reader))
        )));
    }
    let own = app == application_of(reader);
    let peer = relation.applications.len() == 1;
    if own && !peer && !is_leader(state, reader) {
        return Err(ToolError::Failed("permission denied".into()));
    }
    Ok(relation.app_bags.get(app).cloned().unwrap_or_default())
}

/// `relation-set [-r ID] [--app] [--file PATH|-] key=value ...` (`key=` deletes). Held back.
pub fn relation_set(hook: &HookContext, args: &[String], io: &mut Streams) -> Result<(), ToolError> {
    let parsed = args::parse(&[RELATION, APP, Flag::value(&["file"]), Flag::value(&["format"])], args)?;
    let mut overrides: BTreeMap<String, Option<String>> = BTreeMap::new();
    for arg in &parsed.positionals {
        let (k, v) = args::key_value(arg).ok_or_else(|| {
            ToolError::Usage(format!("expected \"key=value\", got {}", args::go_quote(arg)))
        })?;
        if overrides.insert(k.to_string(), (!v.is_empty()).then(|| v.to_string())).is_some() {
            return Err(ToolError::Usage(format!("key {} specified more than once", args::go_quote(k))));
        }
    }
    if parsed.value("format").is_some() {
        write!(io.stderr, "--format flag deprecated for command \"relation-set\"")?;
    }
    let mut settings = match parsed.value("file") {
        Some(path) => read_settings_file(path, io)?,
        None => BTreeMap::new(),
    };
    settings.extend(overrides);
    let app = parsed.switch("app");
    let unit = hook.unit()?.to_string();
    hook.hold(|state, pending| {
        let relation = resolve_relation(state, &unit, parsed.value("r"), &hook.env)?;
        if app && !is_leader(state, &unit) {
            return Err(ToolError::Failed("cannot write relation settings".into()));
        }
        let target = if app { &mut pending.app_bags } else { &mut pending.unit_bags };
        target.entry(relation.id).or_default().extend(settings);
        Ok(())
    })
}

/// Reads a YAML (or JSON) map of settings from a file or stdin (`-`, as Juju's `cmd.FileVar`);
/// null or empty values delete. Shared by `relation-set --file` and `state-set --file`.
pub fn read_settings_file(
    path: &str,
    io: &mut Streams,
) -> Result<BTreeMap<String, Option<String>>, ToolError> {
    let mut text = String::new();
    if path == "-" {
        io.stdin.read_to_string(&mut text)?;
    } else {
        text = std::fs::read_to_string(path)
            .map_err(|e| ToolError::Failed(format!("cannot read settings file {path}: {e}")))?;
    }
    let doc: serde_yaml::Value = serde_yaml::from_str(&text)
        .map_err(|e| ToolError::Failed(format!("cannot parse settings file: {e}")))?;
    let map = match doc {
        serde_yaml::Value::Null => return Ok(BTreeMap::new()),
        serde_yaml::Value::Mapping(map) => map,
        _ => return Err(ToolError::Failed("cannot parse settings file: expected a map of settings".into())),
    };
    let mut out = BTreeMap::new();
    for (k, v) in map {
        let key = scalar_text(&k).ok_or_else(|| ToolError::Failed("settings keys must be strings".into()))?;
        let value = match v {
            serde_yaml::Value::Null => None,
            other => {
                let text = scalar_text(&other).ok_or_else(|| {
                    ToolError::Failed(format!("value of setting \"{key}\" is not a string"))
                })?;
                (!text.is_empty()).then_some(text)
            }
        };
        out.insert(key, value);
    }
    Ok(out)
}

/// A YAML scalar as text (`1` → `"1"`, `true` → `"true"`); `None` for maps and lists.
pub fn scalar_text(value: &serde_yaml::Value) -> Option<String> {
    match value {
        serde_yaml::Value::String(s) => Some(s.clone()),
        serde_yaml::Value::Number(n) => Some(n.to_string()),
        serde_yaml::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

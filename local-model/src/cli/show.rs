//! Read-only views as Juju 3.6 prints them with `--format json`: `show-unit`
//! (`cmd/juju/application/showunit.go`), `show-model` (`cmd/juju/model/show.go`), `version`
//! (`cmd/juju/commands/version.go`), `secrets` (`cmd/juju/secrets/list.go`) and `show-secret`
//! (`cmd/juju/secrets/show.go`). The documents are
//! pure functions of the state; the commands print them as JSON or YAML.

use super::status::charm_url;
use super::{CliError, Format, Result};
use crate::agent::hook::JUJU_VERSION;
use crate::model::clock::{juju_time, rfc3339};
use crate::model::home::Home;
use crate::state::{Life, ModelState, Secret};
use serde_json::{json, Map, Value};

/// The owner every juju-local model has (Juju names models `<owner>/<name>`).
const OWNER: &str = "admin";

fn print(doc: &Value, format: Option<Format>) {
    match format {
        Some(Format::Json) => println!("{doc}"),
        _ => print!("{}", serde_yaml::to_string(doc).expect("yaml")),
    }
}

/// Juju's release string for this machine: `3.6.9-ubuntu-amd64`.
pub fn release() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "powerpc64" => "ppc64el",
        other => other,
    };
    format!("{JUJU_VERSION}-ubuntu-{arch}")
}

/// `version [--all] [--format json|yaml]`: the release alone, or with its build details.
pub fn version(all: bool, format: Option<Format>) -> Result<()> {
    if !all {
        match format {
            Some(Format::Json) => println!("{}", json!(release())),
            Some(Format::Yaml) => println!("{}", release()),
            _ => println!("{}", release()),
        }
        return Ok(());
    }
    let doc = json!({"version": release(), "git-commit": "", "git-tree-state": "clean",
        "compiler": "rustc", "official": false});
    print(&doc, format.or(Some(Format::Yaml)));
    Ok(())
}

/// The `show-unit` record of one unit: its charm, leadership, ports and the relation data it
/// sees (its own bag as `local-unit`, each remote unit it has seen join as `related-units`).
pub fn unit_document(state: &ModelState, unit: &str) -> Option<Value> {
    let u = state.units.get(unit)?;
    let app = state.applications.get(&u.application)?;
    let mut relations = Vec::new();
    for (id, rel) in &state.relations {
        if !rel.applications.contains(&u.application) || !u.relation_views.contains_key(id) {
            continue;
        }
        let bag = |name: &str| json!(rel.unit_bags.get(name).cloned().unwrap_or_default());
        let related: Map<String, Value> = u.relation_views[id]
            .iter()
            .map(|remote| (remote.clone(), json!({"in-scope": true, "data": bag(remote)})))
            .collect();
        let remote_app = crate::tools::relation::remote_app(rel, unit);
        relations.push(json!({"relation-id": id, "endpoint": rel.endpoint_for(&u.application),
            "related-endpoint": rel.endpoint_for(&remote_app),
            "application-data": rel.app_bags.get(&u.application).cloned().unwrap_or_default(),
            "local-unit": {"in-scope": true, "data": bag(unit)}, "related-units": related}));
    }
    let life = match u.life {
        Life::Alive => "alive",
        Life::Dying => "dying",
    };
    let mut doc = json!({"opened-ports": u.opened_ports.iter().collect::<Vec<_>>(), "charm": charm_url(app),
        "leader": app.leader.as_deref() == Some(unit), "life": life, "relation-info": relations,
        "machine": u.machine.to_string(), "public-address": u.address.to_string()});
    if !app.workload_version.is_empty() {
        doc["workload-version"] = json!(app.workload_version);
    }
    Some(doc)
}

/// `show-unit UNIT... [--format json|yaml]`; an unknown unit is an error, as in Juju.
pub fn show_unit(home: &Home, model: &str, units: &[String], format: Option<Format>) -> Result<()> {
    let state = home.open(model)?.read()?;
    let mut doc = Map::new();
    for unit in units {
        let record = unit_document(&state, unit)
            .ok_or_else(|| CliError::Usage(format!("unit \"{unit}\" not found")))?;
        doc.insert(unit.clone(), record);
    }
    print(&Value::Object(doc), format);
    Ok(())
}

/// The `show-model` record of the model.
pub fn model_document(state: &ModelState) -> Value {
    let mut machines = Map::new();
    for u in state.units.values() {
        machines.insert(u.machine.to_string(), json!({"cores": 0}));
    }
    let since = state.units.values().map(|u| u.agent_status.since).fold(crate::model::clock::now(), f64::min);
    json!({"name": format!("{OWNER}/{}", state.name), "short-name": state.name, "model-uuid": state.uuid,
        "model-type": "iaas", "controller-uuid": "", "controller-name": "juju-local", "is-controller": false,
        "owner": OWNER, "cloud": "localhost", "region": "localhost", "type": "local", "life": "alive",
        "status": {"current": "available", "since": juju_time(since)},
        "users": {OWNER: {"display-name": OWNER, "access": "admin", "last-connection": "just now"}},
        "machines": machines, "agent-version": JUJU_VERSION})
}

/// `show-model [NAME] [--format json|yaml]`: a one-entry map keyed by the model name.
pub fn show_model(home: &Home, model: &str, format: Option<Format>) -> Result<()> {
    // Juju accepts `[controller:][owner/]name`; only the name part selects a local model.
    let name = model.rsplit(':').next().unwrap_or(model);
    let name = name.rsplit('/').next().unwrap_or(name);
    let state = home.open(name)?.read()?;
    let mut doc = Map::new();
    doc.insert(name.to_string(), model_document(&state));
    print(&Value::Object(doc), format);
    Ok(())
}

/// One secret as `secrets` and `show-secret` print it: latest revision, owner, times, label.
fn secret_entry(s: &Secret) -> Value {
    let revision = s.revisions.keys().next_back().copied().unwrap_or(1);
    let mut entry = json!({"revision": revision, "owner": s.owner, "created": rfc3339(s.created),
        "updated": rfc3339(s.updated.max(s.created))});
    if let Some(label) = &s.label {
        entry["label"] = json!(label);
    }
    if let Some(d) = &s.description {
        entry["description"] = json!(d);
    }
    entry
}

/// The `secrets` list: secret id (without `secret:`) → latest revision, owner and label.
pub fn secrets_document(state: &ModelState, owner: Option<&str>) -> Value {
    let doc: Map<String, Value> = state
        .secrets
        .values()
        .filter(|s| owner.is_none_or(|o| o == s.owner))
        .map(|s| (s.id.clone(), secret_entry(s)))
        .collect();
    Value::Object(doc)
}

/// What `show-secret` shows of one secret (`cmd/juju/secrets/show.go`): the list entry, plus
/// `content: {"Data": {...}}` of the asked revision (default latest) with `reveal`, or every
/// revision's number and times with `revisions`. The secret is found by id (with or without
/// `secret:`) or by its owner's label.
pub fn secret_document(
    state: &ModelState,
    identifier: &str,
    reveal: bool,
    revision: Option<u32>,
    revisions: bool,
) -> Result<Value, String> {
    let id = identifier.strip_prefix("secret:").unwrap_or(identifier);
    let s = state
        .secrets
        .get(id)
        .or_else(|| state.secrets.values().find(|s| s.label.as_deref() == Some(identifier)))
        .ok_or_else(|| format!("secret {identifier:?} not found"))?;
    let mut entry = secret_entry(s);
    if reveal {
        let wanted = revision.unwrap_or_else(|| s.revisions.keys().next_back().copied().unwrap_or(1));
        let content =
            s.revisions.get(&wanted).ok_or_else(|| format!("secret revision {wanted} not found"))?;
        entry["content"] = json!({ "Data": content });
    }
    if revisions {
        let latest = s.revisions.keys().next_back().copied().unwrap_or(1);
        let list: Vec<Value> = s
            .revisions
            .keys()
            .map(|n| {
                let updated = if *n == latest { s.updated.max(s.created) } else { s.created };
                json!({"revision": n, "created": rfc3339(s.created), "updated": rfc3339(updated)})
            })
            .collect();
        entry["revisions"] = json!(list);
    }
    let mut doc = Map::new();
    doc.insert(s.id.clone(), entry);
    Ok(Value::Object(doc))
}

/// `show-secret ID|LABEL [--reveal] [--revision N] [--revisions] [--format json|yaml]`.
pub fn show_secret(home: &Home, model: &str, args: &ShowSecretArgs) -> Result<()> {
    if args.revisions && (args.reveal || args.revision.is_some()) {
        return Err(CliError::Usage("specify either --revisions or --reveal/--revision, not both".into()));
    }
    let state = home.open(model)?.read()?;
    let doc = secret_document(&state, &args.identifier, args.reveal, args.revision, args.revisions)
        .map_err(CliError::Usage)?;
    print(&doc, args.format);
    Ok(())
}

/// Arguments of `show-secret`.
#[derive(Debug, clap::Args)]
pub struct ShowSecretArgs {
    /// Secret id (`secret:...` or bare) or label.
    pub identifier: String,
    /// Show the content.
    #[arg(long)]
    pub reveal: bool,
    /// Which revision to reveal (default: the latest).
    #[arg(long)]
    pub revision: Option<u32>,
    /// List every revision.
    #[arg(long)]
    pub revisions: bool,
    /// Output format (default yaml).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
}

/// `secrets [--owner O] [--format json|yaml]`.
pub fn secrets(home: &Home, model: &str, owner: Option<&str>, format: Option<Format>) -> Result<()> {
    let state = home.open(model)?.read()?;
    print(&secrets_document(&state, owner), format);
    Ok(())
}

//! What a unit can ask about itself: `config-get`, `is-leader`, `storage-list`, `storage-get`,
//! `network-get`, `unit-get`, `resource-get`. All read-only.
//!
//! Configuration defaults and the endpoints `network-get` accepts come from the unit's own copy
//! of the charm (`<unit-dir>/charm/config.yaml`, `metadata.yaml`), as a real unit reads them.

use super::args::{self, Flag, Parsed, OUTPUT_FLAGS};
use super::context::{is_leader as unit_leads, resolve_relation, unit_in, HookContext};
use super::format::emit;
use super::{Streams, ToolError};
use crate::state::{application_of, ModelState, Unit};
use serde_json::{json, Map, Value};

fn parse(args: &[String], extra: &[Flag]) -> Result<Parsed, ToolError> {
    let mut flags = OUTPUT_FLAGS.to_vec();
    flags.extend_from_slice(extra);
    args::parse(&flags, args)
}

/// A YAML file of the unit's charm copy, or `Null` if it does not exist.
fn charm_yaml(hook: &HookContext, unit: &str, file: &str) -> Result<serde_yaml::Value, ToolError> {
    let path = hook.store.unit_dir(unit).join("charm").join(file);
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_yaml::from_str(&text)
            .map_err(|e| ToolError::Failed(format!("cannot parse {}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(serde_yaml::Value::Null),
        Err(e) => Err(ToolError::Failed(format!("cannot read {}: {e}", path.display()))),
    }
}

/// `config-get [--all] [<key>]`: charm defaults merged with the application's user config; unset
/// options without a default are left out (or `null` with `--all`); an unknown key prints `null`.
pub fn config_get(hook: &HookContext, args: &[String], io: &mut Streams) -> Result<(), ToolError> {
    let parsed = parse(args, &[Flag::switch(&["a", "all"])])?;
    parsed.at_most(1)?;
    if let Some(key) = parsed.positionals.first().filter(|_| parsed.switch("a")) {
        let quoted = args::go_quote(key);
        return Err(ToolError::Usage(format!("cannot use argument --all together with key {quoted}")));
    }
    let state = hook.view()?;
    let unit = hook.unit()?;
    let mut config = Map::new();
    let doc = charm_yaml(hook, unit, "config.yaml")?;
    if let Some(options) = doc.get("options").and_then(serde_yaml::Value::as_mapping) {
        for (name, option) in options {
            let Some(name) = name.as_str() else { continue };
            let default = option.get("default").cloned().unwrap_or(serde_yaml::Value::Null);
            let value = serde_json::to_value(default).unwrap_or(Value::Null);
            if !value.is_null() || parsed.switch("a") {
                config.insert(name.to_string(), value);
            }
        }
    }
    if let Some(app) = state.applications.get(application_of(unit)) {
        config.extend(app.config.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    let value = match parsed.positionals.first() {
        Some(key) => config.get(key).cloned().unwrap_or(Value::Null),
        None => Value::Object(config),
    };
    emit(io.stdout, &parsed, &value)
}

/// `is-leader`: whether this unit leads its application.
pub fn is_leader(hook: &HookContext, args: &[String], io: &mut Streams) -> Result<(), ToolError> {
    let parsed = parse(args, &[])?;
    parsed.at_most(0)?;
    let state = hook.view()?;
    emit(io.stdout, &parsed, &json!(unit_leads(&state, hook.unit()?)))
}

/// `storage-list [<name>]`: the unit's storage ids (`data/0`), optionally of one storage name.
pub fn storage_list(hook: &HookContext, args: &[String], io: &mut Streams) -> Result<(), ToolError> {
    let parsed = parse(args, &[])?;
    parsed.at_most(1)?;
    let state = hook.view()?;
    let unit = unit_in(&state, hook.unit()?)?;
    let name = parsed.positionals.first();
    let ids: Vec<&String> = unit
        .storage
        .keys()
        .filter(|id| name.is_none_or(|n| id.split('/').next() == Some(n.as_str())))
        .collect();
    emit(io.stdout, &parsed, &json!(ids))
}

/// `storage-get [-s ID] [kind|location]`: a storage instance's attributes (default: the
/// storage of the current storage hook).
pub fn storage_get(hook: &HookContext, args: &[String], io: &mut Streams) -> Result<(), ToolError> {
    let parsed = parse(args, &[Flag::value(&["s"])])?;
    parsed.at_most(1)?;
    let id = parsed.value("s").map(str::to_string).or_else(|| hook.env.storage_id.clone());
    let id = id.ok_or_else(|| ToolError::Usage("no storage instance specified".into()))?;
    let state = hook.view()?;
    let unit = unit_in(&state, hook.unit()?)?;
    let location = unit
        .storage_location(&id)
        .ok_or_else(|| ToolError::Failed(format!("storage instance \"{id}\" not found")))?;
    let attrs = json!({"kind": "filesystem", "location": location.to_string_lossy()});
    let value = match parsed.positionals.first() {
        Some(key) => attrs.get(key.as_str()).cloned().unwrap_or(Value::Null),
        None => attrs,
    };
    emit(io.stdout, &parsed, &value)
}

/// The binding names a charm declares: its peers/provides/requires endpoints and extra-bindings.
fn bindings(hook: &HookContext, state: &ModelState, unit: &str) -> Result<Vec<String>, ToolError> {
    let meta = charm_yaml(hook, unit, "metadata.yaml")?;
    let mut names = Vec::new();
    for section in ["peers", "provides", "requires", "extra-bindings"] {
        if let Some(map) = meta.get(section).and_then(serde_yaml::Value::as_mapping) {
            names.extend(map.keys().filter_map(|k| k.as_str().map(str::to_string)));
        }
    }
    if let Some(app) = state.applications.get(application_of(unit)) {
        names.extend(app.peer_endpoints.iter().cloned());
    }
    Ok(names)
}

/// The network-get document for a unit (Juju's shape): the loopback interface, or in host mode
/// (an address in 198.18.0.0/16) the namespace's `eth0` and its /24. Juju's YAML output
/// also carries legacy copies of three keys (`address`, `interfacename`, `macaddress`) that its
/// JSON leaves out (`json:"-"` in network-get.go); `yaml_copies` adds them.
pub fn network_info(unit: &Unit, yaml_copies: bool) -> Value {
    let ip = unit.address.to_string();
    let [a, b, c, _] = unit.address.octets();
    let (cidr, iface) = if [a, b] == crate::hosts::plan::PREFIX {
        (format!("{a}.{b}.{c}.0/24"), crate::hosts::plan::UNIT_IFACE)
    } else {
        ("127.0.0.0/8".to_string(), "lo")
    };
    let mut address = json!({"cidr": cidr, "hostname": unit.hostname, "value": ip});
    let mut interface = json!({"interface-name": iface, "mac-address": ""});
    if yaml_copies {
        address["address"] = json!(ip);
        interface["interfacename"] = json!(iface);
        interface["macaddress"] = json!("");
    }
    interface["addresses"] = json!([address]);
    json!({
        "bind-addresses": [interface],
        "egress-subnets": [format!("{ip}/32")],
        "ingress-addresses": [ip],
    })
}

/// `network-get <binding> [-r ID] [--bind-address] [--ingress-address] [--egress-subnets]
/// [--primary-address]`.
pub fn network_get(hook: &HookContext, args: &[String], io: &mut Streams) -> Result<(), ToolError> {
    const KEYS: [&str; 4] = ["bind-address", "ingress-address", "egress-subnets", "primary-address"];
    let flags = [
        Flag::value(&["r", "relation"]),
        Flag::switch(&["bind-address"]),
        Flag::switch(&["ingress-address"]),
        Flag::switch(&["egress-subnets"]),
        Flag::switch(&["primary-address"]),
    ];
    let parsed = parse(args, &flags)?;
    parsed.at_most(1)?;
    let state = hook.view()?;
    let unit_name = hook.unit()?;
    let binding =
        parsed.positionals.first().ok_or_else(|| ToolError::Usage("no arguments specified".into()))?;
    if parsed.switch("primary-address") && KEYS[..3].iter().any(|k| parsed.switch(k)) {
        return Err(ToolError::Failed("--primary-address must be the only flag specified".into()));
    }
    if let Some(flag) = parsed.value("r") {
        resolve_relation(&state, unit_name, Some(flag), &hook.env)?;
    }
    if !bindings(hook, &state, unit_name)?.contains(binding) {
        return Err(ToolError::Failed(format!("no network config found for binding \"{binding}\"")));
    }
    let unit = unit_in(&state, unit_name)?;
    let json = parsed.value("format") == Some("json");
    let info = network_info(unit, !json);
    let ip = json!(unit.address.to_string());
    let mut picked: Vec<(&str, Value)> = Vec::new();
    for key in KEYS.into_iter().filter(|k| parsed.switch(k)) {
        let value = if key == "egress-subnets" { info["egress-subnets"].clone() } else { ip.clone() };
        picked.push((key, value));
    }
    let value = match picked.len() {
        0 => info,
        1 => picked.remove(0).1,
        _ => Value::Object(picked.into_iter().map(|(k, v)| (k.to_string(), v)).collect()),
    };
    emit(io.stdout, &parsed, &value)
}

/// `unit-get private-address|public-address`: the unit's address.
pub fn unit_get(hook: &HookContext, args: &[String], io: &mut Streams) -> Result<(), ToolError> {
    let parsed = parse(args, &[])?;
    parsed.at_most(1)?;
    let key = parsed.positionals.first().ok_or_else(|| ToolError::Usage("no setting specified".into()))?;
    if key != "private-address" && key != "public-address" {
        return Err(ToolError::Usage(format!("unknown setting {}", args::go_quote(key))));
    }
    let state = hook.view()?;
    let unit = unit_in(&state, hook.unit()?)?;
    emit(io.stdout, &parsed, &json!(unit.address.to_string()))
}

/// `resource-get <name>`: the path of the file resource attached to the application.
pub fn resource_get(hook: &HookContext, args: &[String], io: &mut Streams) -> Result<(), ToolError> {
    let parsed = args::parse(&[], args)?;
    parsed.at_most(1)?;
    let name = parsed
        .positionals
        .first()
        .ok_or_else(|| ToolError::Usage("missing required resource name".into()))?;
    let state = hook.view()?;
    let app = application_of(hook.unit()?);
    let path = state.applications.get(app).and_then(|a| a.resources.get(name)).ok_or_else(|| {
        ToolError::Failed(format!(
            "could not download resource: HTTP request failed: resource#{app}/{name} not found"
        ))
    })?;
    writeln!(io.stdout, "{}", path.display())?;
    Ok(())
}

//! What the model needs to know about a charm, parsed from its `metadata.yaml`, `config.yaml` and
//! `actions.yaml`. Pure parsing: the caller reads the files.

use super::ModelError;
use crate::state::{EndpointSpec, StorageSpec};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The parts of `metadata.yaml` the model acts on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CharmMeta {
    /// Charm name (`name:`), shown as `charm` in status.
    pub name: String,
    /// Peer endpoints (`peers:` keys): each gets a peer relation when the application is deployed.
    pub peers: Vec<String>,
    /// Every endpoint name (peers, provides, requires), for validation by `network-get`.
    pub endpoints: Vec<String>,
    /// Filesystem storage names (`storage:` keys): one instance per unit.
    pub storage: Vec<String>,
    /// Each store's `location:` and `multiple:` (where Juju mounts it).
    pub storage_specs: BTreeMap<String, StorageSpec>,
    /// Resource names (`resources:` keys), to validate `--resource` and `attach-resource`.
    pub resources: Vec<String>,
    /// Endpoint → its `interface:` (status shows it for each relation).
    pub interfaces: BTreeMap<String, String>,
    /// `provides:` endpoints with their interface and limit.
    pub provides: BTreeMap<String, EndpointSpec>,
    /// `requires:` endpoints with their interface and limit.
    pub requires: BTreeMap<String, EndpointSpec>,
    /// `subordinate: true`: units are deployed onto principal units by container-scoped
    /// relations, never by `deploy -n` or `add-unit`.
    pub subordinate: bool,
}

/// One option from `config.yaml`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigOption {
    /// `string`, `int`, `float`, `boolean` or `secret`.
    pub kind: String,
    /// Default value, if declared.
    pub default: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawMeta {
    name: Option<String>,
    #[serde(default)]
    peers: Option<BTreeMap<String, serde_yaml::Value>>,
    #[serde(default)]
    provides: Option<BTreeMap<String, serde_yaml::Value>>,
    #[serde(default)]
    requires: Option<BTreeMap<String, serde_yaml::Value>>,
    #[serde(default)]
    storage: Option<BTreeMap<String, serde_yaml::Value>>,
    #[serde(default)]
    resources: Option<BTreeMap<String, serde_yaml::Value>>,
    #[serde(default)]
    subordinate: bool,
}

/// Parses `metadata.yaml` text; `path` is only used in error messages.
pub fn parse_metadata(text: &str, path: &Path) -> Result<CharmMeta, ModelError> {
    let raw: RawMeta =
        serde_yaml::from_str(text).map_err(|e| ModelError::Charm(format!("{}: {e}", path.display())))?;
    let name = raw
        .name
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ModelError::Charm(format!("{}: missing charm name", path.display())))?;
    let mut interfaces = BTreeMap::new();
    for (endpoint, spec) in [&raw.peers, &raw.provides, &raw.requires].into_iter().flatten().flatten() {
        if let Some(interface) = spec.get("interface").and_then(serde_yaml::Value::as_str) {
            interfaces.insert(endpoint.clone(), interface.to_string());
        }
    }
    let specs = |m: &Option<BTreeMap<String, serde_yaml::Value>>| -> BTreeMap<String, EndpointSpec> {
        m.iter()
            .flatten()
            .map(|(name, spec)| {
                let interface = spec.get("interface").and_then(serde_yaml::Value::as_str).unwrap_or_default();
                let limit = spec.get("limit").and_then(serde_yaml::Value::as_u64).map(|l| l as u32);
                let container = spec.get("scope").and_then(serde_yaml::Value::as_str) == Some("container");
                (name.clone(), EndpointSpec { interface: interface.to_string(), limit, container })
            })
            .collect()
    };
    let (provides, requires) = (specs(&raw.provides), specs(&raw.requires));
    if raw.subordinate && !requires.values().any(|spec| spec.container) {
        // Juju's charm validation (`internal/charm/meta.go`, `Meta.Check`).
        return Err(ModelError::Charm(format!(
            "{}: subordinate charm \"{name}\" lacks \"requires\" relation with container scope",
            path.display()
        )));
    }
    let storage_specs = raw
        .storage
        .iter()
        .flatten()
        .map(|(name, spec)| {
            let location = spec.get("location").and_then(serde_yaml::Value::as_str).unwrap_or_default();
            let range = spec.get("multiple").and_then(|m| m.get("range"));
            let range = range
                .and_then(|r| r.as_str().map(str::to_string).or_else(|| r.as_u64().map(|n| n.to_string())));
            (name.clone(), StorageSpec::new(location, range.as_deref()))
        })
        .collect();
    let keys = |m: Option<BTreeMap<String, serde_yaml::Value>>| -> Vec<String> {
        m.map(|m| m.into_keys().collect()).unwrap_or_default()
    };
    let peers = keys(raw.peers);
    let mut endpoints = peers.clone();
    endpoints.extend(keys(raw.provides));
    endpoints.extend(keys(raw.requires));
    Ok(CharmMeta {
        name,
        peers,
        endpoints,
        storage: keys(raw.storage),
        storage_specs,
        resources: keys(raw.resources),
        interfaces,
        provides,
        requires,
        subordinate: raw.subordinate,
    })
}

/// Reads and parses `<charm>/metadata.yaml`; a missing file is a clear error.
pub fn read_metadata(charm: &Path) -> Result<CharmMeta, ModelError> {
    let path = charm.join("metadata.yaml");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        ModelError::Charm(format!("{} is not a charm: cannot read metadata.yaml: {e}", charm.display()))
    })?;
    parse_metadata(&text, &path)
}

#[derive(Deserialize)]
struct RawConfig {
    #[serde(default)]
    options: Option<BTreeMap<String, RawOption>>,
}

#[derive(Deserialize)]
struct RawOption {
    #[serde(rename = "type", default = "default_kind")]
    kind: String,
    #[serde(default)]
    default: Option<serde_yaml::Value>,
}

fn default_kind() -> String {
    "string".into()
}

/// Parses `config.yaml` text into its options.
pub fn parse_config(text: &str) -> Result<BTreeMap<String, ConfigOption>, ModelError> {
    let raw: RawConfig =
        serde_yaml::from_str(text).map_err(|e| ModelError::Charm(format!("config.yaml: {e}")))?;
    let mut out = BTreeMap::new();
    for (name, opt) in raw.options.unwrap_or_default() {
        let default = match opt.default {
            None | Some(serde_yaml::Value::Null) => None,
            Some(v) => Some(
                serde_json::to_value(v)
                    .map_err(|e| ModelError::Charm(format!("config.yaml: {name}: {e}")))?,
            ),
        };
        out.insert(name, ConfigOption { kind: opt.kind, default });
    }
    Ok(out)
}

/// Reads `<charm>/config.yaml` (no file = no options).
pub fn read_config(charm: &Path) -> Result<BTreeMap<String, ConfigOption>, ModelError> {
    match std::fs::read_to_string(charm.join("config.yaml")) {
        Ok(text) => parse_config(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(ModelError::Charm(format!("cannot read config.yaml: {e}"))),
    }
}

/// Reads `<charm>/actions.yaml` as JSON (no file = no actions).
pub fn read_actions(charm: &Path) -> Result<serde_json::Map<String, serde_json::Value>, ModelError> {
    let text = match std::fs::read_to_string(charm.join("actions.yaml")) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Default::default()),
        Err(e) => return Err(ModelError::Charm(format!("cannot read actions.yaml: {e}"))),
    };
    let value: serde_json::Value =
        serde_yaml::from_str(&text).map_err(|e| ModelError::Charm(format!("actions.yaml: {e}")))?;
    match value {
        serde_json::Value::Object(map) => Ok(map),
        serde_json::Value::Null => Ok(Default::default()),
        _ => Err(ModelError::Charm("actions.yaml: expected a map of actions".into())),
    }
}

/// Checks a user-supplied option value (text from `k=v`, or a YAML value from a file) against its
/// declared type and returns the typed value.
pub fn typed_config_value(
    key: &str,
    opt: &ConfigOption,
    value: &serde_json::Value,
) -> Result<serde_json::Value, ModelError> {
    use serde_json::Value;
    let bad = || ModelError::Usage(format!("option \"{key}\" expected {}, got {}", opt.kind, short(value)));
    let text = match value {
        Value::String(s) => Some(s.as_str()),
        _ => None,
    };
    match opt.kind.as_str() {
        "int" => match value {
            Value::Number(n) if n.is_i64() => Ok(value.clone()),
            _ => text.and_then(|t| t.trim().parse::<i64>().ok()).map(Value::from).ok_or_else(bad),
        },
        "float" => match value {
            Value::Number(n) => Ok(Value::from(n.as_f64().unwrap_or_default())),
            _ => text.and_then(|t| t.trim().parse::<f64>().ok()).map(Value::from).ok_or_else(bad),
        },
        "boolean" => match value {
            Value::Bool(_) => Ok(value.clone()),
            _ => match text.map(str::trim) {
                Some("true" | "True" | "TRUE" | "yes" | "on") => Ok(Value::Bool(true)),
                Some("false" | "False" | "FALSE" | "no" | "off") => Ok(Value::Bool(false)),
                _ => Err(bad()),
            },
        },
        _ => match value {
            Value::String(_) => Ok(value.clone()),
            Value::Number(_) | Value::Bool(_) => Ok(Value::String(short(value))),
            _ => Err(bad()),
        },
    }
}

fn short(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn storage_locations_and_counts_are_read() {
        let meta = parse_metadata(
            "name: t\nstorage:\n  data:\n    type: filesystem\n    location: /var/lib/t\n  \
             logs:\n    type: filesystem\n    location: /srv/logs\n    multiple:\n      range: 3\n",
            Path::new("m"),
        )
        .unwrap();
        assert_eq!(
            meta.storage_specs["data"],
            StorageSpec { location: "/var/lib/t".into(), singleton: true }
        );
        assert_eq!(
            meta.storage_specs["logs"],
            StorageSpec { location: "/srv/logs".into(), singleton: false }
        );
    }

    #[test]
    fn metadata_lists_peers_storage_and_resources() {
        let meta = parse_metadata(
            "name: t\npeers:\n  p:\n    interface: x\nstorage:\n  data:\n    type: filesystem\nresources:\n  bin:\n    type: file\n",
            Path::new("m"),
        )
        .unwrap();
        assert_eq!(meta.name, "t");
        assert_eq!(meta.peers, ["p"]);
        assert_eq!(meta.storage, ["data"]);
        assert_eq!(meta.storage_specs["data"], StorageSpec::new("", None));
        assert_eq!(meta.resources, ["bin"]);
        assert!(parse_metadata("peers: {}\n", Path::new("m")).is_err());
    }

    #[test]
    fn config_values_are_checked_against_types() {
        let opts = parse_config("options:\n  n: {type: int, default: 3}\n  b: {type: boolean}\n").unwrap();
        assert_eq!(opts["n"].default, Some(json!(3)));
        assert_eq!(typed_config_value("n", &opts["n"], &json!("42")).unwrap(), json!(42));
        assert!(typed_config_value("n", &opts["n"], &json!("x")).is_err());
        assert_eq!(typed_config_value("b", &opts["b"], &json!("false")).unwrap(), json!(false));
        assert!(typed_config_value("b", &opts["b"], &json!("maybe")).is_err());
    }
}

//! The alert rules (`src/prometheus_alert_rules/*.yaml`, compiled in) as the `cos_agent` unit
//! bag carries them: `{"groups": [...]}` with this application's topology injected the way the
//! `cos_agent` library does it (cosl `AlertRules`): `%%juju_topology%%` in each expression
//! becomes the application's matchers, each rule gets the topology labels, and each group name
//! is prefixed with the topology identifier so two applications' groups never collide.

use super::Topology;
use serde_json::{json, Map, Value};

/// The rule files, by name.
pub const RULE_FILES: &[(&str, &str)] =
    &[("valkey.rules.yaml", include_str!("../prometheus_alert_rules/valkey.rules.yaml"))];

/// The placeholder the rule files put where the topology matchers go.
pub const TOPOLOGY_PLACEHOLDER: &str = "%%juju_topology%%";

/// A rule file that does not parse (a build-time mistake; the unit tests catch it).
#[derive(Debug, thiserror::Error)]
#[error("alert rule file {file}: {detail}")]
pub struct RuleFileError {
    /// The file.
    pub file: &'static str,
    /// What is wrong.
    pub detail: String,
}

/// Every rule file's groups, with `topology` injected: `{"groups": [...]}`.
pub fn alert_rules(topology: &Topology) -> Result<Value, RuleFileError> {
    let mut groups = Vec::new();
    for (file, text) in RULE_FILES {
        groups.extend(file_groups(file, text, topology)?);
    }
    Ok(json!({ "groups": groups }))
}

/// One file's groups with `topology` injected.
pub fn file_groups(file: &'static str, text: &str, topology: &Topology) -> Result<Vec<Value>, RuleFileError> {
    let err = |detail: String| RuleFileError { file, detail };
    let injected = text.replace(TOPOLOGY_PLACEHOLDER, &topology.promql_matchers());
    let parsed: Value = serde_yaml::from_str(&injected).map_err(|e| err(e.to_string()))?;
    let Some(Value::Array(groups)) = parsed.get("groups").cloned() else {
        return Err(err("no `groups` list".into()));
    };
    let labels = topology_labels(topology);
    groups
        .into_iter()
        .map(|mut group| {
            let name = group
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| err("a group without a name".into()))?;
            group["name"] = Value::String(format!("{}_{name}_alerts", topology.identifier()));
            let rules = group.get_mut("rules").and_then(Value::as_array_mut);
            for rule in rules.ok_or_else(|| err("a group without rules".into()))? {
                let rule_labels = rule
                    .as_object_mut()
                    .ok_or_else(|| err("a rule that is not a mapping".into()))?
                    .entry("labels")
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(l) = rule_labels {
                    l.extend(labels.clone());
                }
            }
            Ok(group)
        })
        .collect()
}

/// `juju_model`, `juju_model_uuid`, `juju_application` (and `juju_charm`) as rule labels.
fn topology_labels(t: &Topology) -> Map<String, Value> {
    [
        ("juju_model", &t.model),
        ("juju_model_uuid", &t.model_uuid),
        ("juju_application", &t.application),
        ("juju_charm", &t.charm),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), Value::String(v.clone())))
    .collect()
}

//! Action parameters: `k=v` arguments parsed as YAML scalars (dotted keys nest), validated
//! against the action's schema in `actions.yaml` (types, required, additionalProperties: false,
//! enum, minimum/maximum), with schema defaults filled in.

use super::ModelError;
use serde_json::{Map, Value};

/// Parses `k=v` arguments into a parameter object; values are YAML scalars (`3` is a number,
/// `true` a boolean, `valkey/1` a string); `a.b=v` nests.
pub fn parse_args(args: &[String]) -> Result<Map<String, Value>, ModelError> {
    let mut out = Map::new();
    for arg in args {
        let (key, raw) = arg
            .split_once('=')
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| ModelError::Usage(format!("argument {arg:?} must be of the form key=value")))?;
        let value: Value = if raw.is_empty() {
            Value::String(String::new())
        } else {
            serde_yaml::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string()))
        };
        let value = match value {
            Value::Null => Value::String(raw.to_string()),
            v => v,
        };
        insert_dotted(&mut out, key, value);
    }
    Ok(out)
}

/// Inserts `value` at the dotted path `key` (`a.b` → `{"a":{"b":value}}`).
pub fn insert_dotted(map: &mut Map<String, Value>, key: &str, value: Value) {
    match key.split_once('.') {
        None => {
            map.insert(key.to_string(), value);
        }
        Some((head, rest)) => {
            let entry = map.entry(head.to_string()).or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            insert_dotted(entry.as_object_mut().expect("object"), rest, value);
        }
    }
}

/// Validates `params` for `action` against the charm's actions and returns them with defaults.
pub fn validate(
    actions: &Map<String, Value>,
    action: &str,
    mut params: Map<String, Value>,
) -> Result<Map<String, Value>, ModelError> {
    let spec = actions.get(action).ok_or_else(|| {
        let known: Vec<&str> = actions.keys().map(String::as_str).collect();
        ModelError::Usage(format!(
            "action \"{action}\" not defined (the charm defines: {})",
            known.join(", ")
        ))
    })?;
    let empty = Map::new();
    let props = spec.get("params").and_then(Value::as_object).unwrap_or(&empty);
    let fail = |msg: String| ModelError::Usage(format!("validation failed: {msg}"));
    if spec.get("additionalProperties") == Some(&Value::Bool(false)) {
        if let Some(extra) = params.keys().find(|k| !props.contains_key(*k)) {
            return Err(fail(format!("additional property \"{extra}\" is not allowed")));
        }
    }
    for required in spec.get("required").and_then(Value::as_array).into_iter().flatten() {
        let Some(name) = required.as_str() else { continue };
        if !params.contains_key(name) {
            return Err(fail(format!("\"{name}\" is required")));
        }
    }
    for (name, schema) in props {
        match params.get_mut(name) {
            Some(value) => check_value(name, schema, value).map_err(fail)?,
            None => {
                if let Some(default) = schema.get("default") {
                    params.insert(name.clone(), default.clone());
                }
            }
        }
    }
    Ok(params)
}

/// Checks one value against a (draft-4 subset) schema; a string that reads as the expected
/// scalar type is converted, as Juju's YAML parsing of `k=v` would have typed it.
fn check_value(name: &str, schema: &Value, value: &mut Value) -> Result<(), String> {
    if let Some(kind) = schema.get("type").and_then(Value::as_str) {
        let ok = match kind {
            "string" => {
                if let Value::Number(_) | Value::Bool(_) = value {
                    return Err(format!("\"{name}\": expected string, given {}", type_name(value)));
                }
                value.is_string()
            }
            "integer" => value.as_i64().is_some() || value.as_u64().is_some(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            _ => true,
        };
        if !ok {
            return Err(format!("\"{name}\": expected {kind}, given {}", type_name(value)));
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(value) {
            let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
            return Err(format!("\"{name}\": must be one of {}", list.join(", ")));
        }
    }
    if let Some(n) = value.as_f64() {
        if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
            if n < min {
                return Err(format!("\"{name}\": must be >= {min}"));
            }
        }
        if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
            if n > max {
                return Err(format!("\"{name}\": must be <= {max}"));
            }
        }
    }
    Ok(())
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn actions() -> Map<String, Value> {
        json!({"go": {"params": {"target": {"type": "string"}, "n": {"type": "integer", "default": 2,
            "minimum": 1}, "mode": {"type": "string", "enum": ["a", "b"]}},
            "required": ["target"], "additionalProperties": false}})
        .as_object()
        .unwrap()
        .clone()
    }

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_yaml_scalars_and_nests() {
        let p = parse_args(&args(&["a=3", "b=true", "c=valkey/1", "d.e=x"])).unwrap();
        assert_eq!(Value::Object(p), json!({"a": 3, "b": true, "c": "valkey/1", "d": {"e": "x"}}));
        assert!(parse_args(&args(&["novalue"])).is_err());
        assert!(parse_args(&args(&["=x"])).is_err());
    }

    #[test]
    fn validates_against_schema() {
        let ok = validate(&actions(), "go", parse_args(&args(&["target=v/1"])).unwrap()).unwrap();
        assert_eq!(Value::Object(ok), json!({"target": "v/1", "n": 2}));
        let err =
            |a: &[&str]| validate(&actions(), "go", parse_args(&args(a)).unwrap()).unwrap_err().to_string();
        assert!(err(&["n=1"]).contains("\"target\" is required"));
        assert!(err(&["target=x", "n=abc"]).contains("expected integer"));
        assert!(err(&["target=x", "zzz=1"]).contains("additional property \"zzz\""));
        assert!(err(&["target=x", "n=0"]).contains(">= 1"));
        assert!(err(&["target=x", "mode=c"]).contains("one of"));
        assert!(err(&["target=3"]).contains("expected string"));
        assert!(validate(&actions(), "nope", Map::new()).unwrap_err().to_string().contains("not defined"));
    }
}

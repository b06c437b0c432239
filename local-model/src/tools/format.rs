//! Output formats of the hook tools, as Juju's `cmd` package writes them:
//! - `json`: Go's `encoding/json` — map keys sorted, `null` for nothing, `<`, `>`, `&` escaped as
//!   `\u003c`..., one trailing newline;
//! - `yaml`: a YAML document (nothing at all for `null`);
//! - `smart` (the default): strings as they are, lists of strings one per line, booleans as
//!   `True`/`False`, nothing for `null` or `""`, anything else as YAML.
//!
//! Values are `serde_json::Value`s so every tool builds its answer once and the format is chosen here.

use super::args::Parsed;
use super::ToolError;
use serde_json::Value;
use std::io::Write;

/// An output format chosen with `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Juju's default: plain text for scalars and string lists, YAML for the rest.
    Smart,
    /// Go-style JSON.
    Json,
    /// YAML.
    Yaml,
}

impl Format {
    /// Parses the `--format` value (default smart).
    pub fn from_flag(value: Option<&str>) -> Result<Format, ToolError> {
        match value {
            None | Some("smart") => Ok(Format::Smart),
            Some("json") => Ok(Format::Json),
            Some("yaml") => Ok(Format::Yaml),
            Some(other) => Err(unknown_format(other)),
        }
    }
}

/// The usage error for a `--format` value the tool does not offer.
fn unknown_format(name: &str) -> ToolError {
    let q = super::args::go_quote(name);
    ToolError::Usage(format!("invalid value {q} for option --format: unknown format {q}"))
}

/// Renders `value` in `format`, including the trailing newline (or nothing at all).
pub fn render(format: Format, value: &Value) -> String {
    match format {
        Format::Json => {
            let mut out = String::new();
            write_json(&mut out, value);
            out.push('\n');
            out
        }
        Format::Yaml => yaml(value),
        Format::Smart => smart(value),
    }
}

/// Writes `value` to stdout, or to the `-o/--output` file, in the `--format` of `parsed`
/// (default smart).
pub fn emit(out: &mut dyn Write, parsed: &Parsed, value: &Value) -> Result<(), ToolError> {
    let format = Format::from_flag(parsed.value("format"))?;
    emit_as(out, parsed, value, format)
}

/// Like [`emit`] for the tools whose only formats are yaml (the default) and json, as Juju's
/// secret tools.
pub fn emit_yaml_or_json(out: &mut dyn Write, parsed: &Parsed, value: &Value) -> Result<(), ToolError> {
    let format = match parsed.value("format") {
        None => Format::Yaml,
        Some("smart") => return Err(unknown_format("smart")),
        Some(other) => Format::from_flag(Some(other))?,
    };
    emit_as(out, parsed, value, format)
}

fn emit_as(out: &mut dyn Write, parsed: &Parsed, value: &Value, format: Format) -> Result<(), ToolError> {
    let text = render(format, value);
    match parsed.value("o") {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| ToolError::Failed(format!("cannot write output file {path}: {e}"))),
        None => out.write_all(text.as_bytes()).map_err(ToolError::from),
    }
}

fn smart(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) if s.is_empty() => String::new(),
        Value::String(s) => format!("{s}\n"),
        Value::Bool(true) => "True\n".into(),
        Value::Bool(false) => "False\n".into(),
        Value::Array(items) if items.iter().all(Value::is_string) => {
            let lines: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            let joined = lines.join("\n");
            if joined.is_empty() {
                String::new()
            } else {
                format!("{joined}\n")
            }
        }
        other => yaml(other),
    }
}

fn yaml(value: &Value) -> String {
    if value.is_null() {
        return String::new();
    }
    let text = serde_yaml::to_string(&sorted_yaml(value)).unwrap_or_default();
    let trimmed = text.trim_end_matches('\n');
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("{trimmed}\n")
    }
}

/// A YAML value with map keys in sorted order, whatever order the JSON map kept.
fn sorted_yaml(value: &Value) -> serde_yaml::Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut out = serde_yaml::Mapping::new();
            for k in keys {
                out.insert(serde_yaml::Value::String(k.clone()), sorted_yaml(&map[k]));
            }
            serde_yaml::Value::Mapping(out)
        }
        Value::Array(items) => serde_yaml::Value::Sequence(items.iter().map(sorted_yaml).collect()),
        Value::String(s) => serde_yaml::Value::String(s.clone()),
        Value::Bool(b) => serde_yaml::Value::Bool(*b),
        Value::Null => serde_yaml::Value::Null,
        Value::Number(n) => serde_yaml::to_value(n).unwrap_or(serde_yaml::Value::Null),
    }
}

/// Appends `value` as Go's `json.Marshal` would write it.
pub fn write_json(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_json_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(out, k);
                out.push(':');
                write_json(out, &map[k]);
            }
            out.push('}');
        }
    }
}

fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_is_go_style() {
        let v = json!({"z": 1, "a": [true, null], "m": {"y": "<&>", "b": "line\nnext"}});
        assert_eq!(
            render(Format::Json, &v),
            "{\"a\":[true,null],\"m\":{\"b\":\"line\\nnext\",\"y\":\"\\u003c\\u0026\\u003e\"},\"z\":1}\n"
        );
        assert_eq!(render(Format::Json, &Value::Null), "null\n");
        assert_eq!(render(Format::Json, &json!([])), "[]\n");
    }

    #[test]
    fn smart_prints_plain_text_for_scalars_and_string_lists() {
        assert_eq!(render(Format::Smart, &json!("x")), "x\n");
        assert_eq!(render(Format::Smart, &json!("")), "");
        assert_eq!(render(Format::Smart, &Value::Null), "");
        assert_eq!(render(Format::Smart, &json!(true)), "True\n");
        assert_eq!(render(Format::Smart, &json!(["a", "b"])), "a\nb\n");
        assert_eq!(render(Format::Smart, &json!([])), "");
        assert_eq!(render(Format::Smart, &json!(5)), "5\n");
        assert_eq!(render(Format::Smart, &json!({"b": "2", "a": "1"})), "a: '1'\nb: '2'\n");
    }

    #[test]
    fn yaml_sorts_keys_and_prints_nothing_for_null() {
        assert_eq!(render(Format::Yaml, &json!({"k": {"z": 1, "a": "v"}})), "k:\n  a: v\n  z: 1\n");
        assert_eq!(render(Format::Yaml, &Value::Null), "");
    }

    #[test]
    fn unknown_format_is_a_usage_error() {
        let err = Format::from_flag(Some("xml")).unwrap_err();
        assert!(matches!(err, ToolError::Usage(_)));
        assert_eq!(err.to_string(), "invalid value \"xml\" for option --format: unknown format \"xml\"");
    }
}

//! The Grafana dashboard (`src/grafana_dashboards/valkey.json`, compiled in), encoded as the
//! `cos_agent` library encodes dashboards: the JSON with a stable `uid` and a `charm: <name>`
//! tag, xz-compressed (the format of Python's `lzma.compress`, which the requirer's
//! `lzma.decompress` reads), then standard base64.

use base64::Engine as _;
use serde_json::Value;
use std::io::Write as _;

/// xz preset: 1 needs about 10 MB to compress (preset 9 would take 674 MB in every hook) and a
/// dashboard of a few tens of kB compresses nearly as well.
pub const XZ_PRESET: u32 = 1;

/// The dashboards, by file name.
pub const DASHBOARD_FILES: &[(&str, &str)] =
    &[("valkey.json", include_str!("../grafana_dashboards/valkey.json"))];

/// The dashboard JSON as shipped: `uid` set from the charm and file name (stable across
/// revisions, at most 40 characters as Grafana allows), the `charm: <name>` tag added.
pub fn prepared(charm: &str, file: &str, text: &str) -> Result<Value, serde_json::Error> {
    let mut dashboard: Value = serde_json::from_str(text)?;
    let uid: String = format!("{charm}-{}", file.trim_end_matches(".json")).chars().take(40).collect();
    dashboard["uid"] = Value::String(uid);
    let tag = format!("charm: {charm}");
    let tags = dashboard.as_object_mut().map(|d| d.entry("tags").or_insert_with(|| Value::Array(vec![])));
    if let Some(Value::Array(tags)) = tags {
        if !tags.iter().any(|t| t.as_str().is_some_and(|s| s.starts_with("charm: "))) {
            tags.push(Value::String(tag));
        }
    }
    Ok(dashboard)
}

/// base64(xz(`text`)).
pub fn encode(text: &str) -> String {
    let mut xz = liblzma::write::XzEncoder::new(Vec::new(), XZ_PRESET);
    // Writing to a Vec cannot fail.
    xz.write_all(text.as_bytes()).expect("xz into memory");
    let compressed = xz.finish().expect("xz into memory");
    base64::engine::general_purpose::STANDARD.encode(compressed)
}

/// Every dashboard, prepared and encoded.
pub fn dashboards(charm: &str) -> Result<Vec<String>, serde_json::Error> {
    DASHBOARD_FILES
        .iter()
        .map(|(file, text)| prepared(charm, file, text).map(|d| encode(&d.to_string())))
        .collect()
}

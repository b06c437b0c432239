//! What `charmcraft pack` would put in the `.charm`, computed from charmcraft.yaml: each part's
//! output (dump parts: their source moved by `organize`; the rust part: `dispatch`) filtered by
//! its `prime` list, plus the files charmcraft's package service writes itself.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_yaml::Value;

use super::{repo, strings, tree};

/// Files charmcraft writes into every packed charm besides the parts' output (its package
/// service: metadata, actions and config mediated from the project, and the manifest).
const CHARMCRAFT_FILES: &[&str] = &["metadata.yaml", "config.yaml", "actions.yaml", "manifest.yaml"];
/// Keys the craft-parts `rust` plugin accepts (craft_parts/plugins/rust_plugin.py).
const RUST_PLUGIN_KEYS: &[&str] = &[
    "rust-channel",
    "rust-features",
    "rust-path",
    "rust-no-default-features",
    "rust-use-global-lto",
    "rust-ignore-toolchain-file",
    "rust-cargo-parameters",
    "rust-inherit-ldflags",
];

/// What one dump part contributes to the prime directory: its source's files moved by
/// `organize` (an exact name, or `*` into a directory), filtered by `prime`.
fn dump_part_files(name: &str, part: &Value) -> BTreeSet<String> {
    let source = part["source"].as_str().unwrap_or_else(|| panic!("part {name}: no source"));
    let organize = part["organize"].as_mapping().cloned().unwrap_or_default();
    let mut files = BTreeSet::new();
    for rel in tree(&repo().join(source)) {
        let mut placed = rel.clone();
        for (from, to) in &organize {
            let (from, to) = (from.as_str().unwrap(), to.as_str().unwrap());
            if from == rel {
                placed = to.to_string();
            } else if from == "*" && !rel.contains('/') && to.ends_with('/') {
                placed = format!("{to}{rel}");
            }
        }
        files.insert(placed);
    }
    filter_prime(name, part, files)
}

/// Keeps the files `prime` selects (all when it is absent); a directory entry keeps its contents
/// and itself.
fn filter_prime(name: &str, part: &Value, files: BTreeSet<String>) -> BTreeSet<String> {
    let prime = strings(&part["prime"]);
    assert!(!prime.iter().any(|p| p.starts_with('-')), "part {name}: exclusions are not modelled here");
    let mut kept: BTreeSet<String> = files
        .into_iter()
        .filter(|f| prime.is_empty() || prime.iter().any(|p| f == p || f.starts_with(&format!("{p}/"))))
        .collect();
    // Parent directories of primed files are primed too.
    let parents: Vec<String> =
        kept.iter().filter_map(|f| f.rsplit_once('/').map(|(dir, _)| dir.to_string())).collect();
    kept.extend(parents);
    kept
}

/// The files `charmcraft pack` would put in the `.charm`, from charmcraft.yaml.
pub fn packed_files(charmcraft: &Value) -> BTreeSet<String> {
    let parts = charmcraft["parts"].as_mapping().expect("charmcraft.yaml: parts");
    let mut files: BTreeSet<String> = CHARMCRAFT_FILES.iter().map(|s| s.to_string()).collect();
    for (name, part) in parts {
        let name = name.as_str().unwrap();
        match part["plugin"].as_str() {
            Some("dump") => files.extend(dump_part_files(name, part)),
            Some("rust") => {
                // cargo install puts the package's binaries in bin/; override-build makes the one
                // binary `dispatch` at the root, and only it is primed.
                assert_eq!(strings(&part["prime"]), ["dispatch"], "part {name} must prime only dispatch");
                let build = part["override-build"].as_str().unwrap_or_default();
                assert!(
                    build.contains("craftctl default") && build.contains("bin/dispatch"),
                    "part {name}: override-build must run the plugin and move bin/dispatch: {build}"
                );
                for key in part.as_mapping().unwrap().keys().filter_map(Value::as_str) {
                    if key.starts_with("rust-") {
                        assert!(
                            RUST_PLUGIN_KEYS.contains(&key),
                            "part {name}: unknown rust plugin key {key}"
                        );
                    }
                }
                // The plugin runs `cargo install --path <rust-path>` for each path: together they
                // must install a `dispatch` binary for override-build to move.
                let paths = strings(&part["rust-path"]);
                let bins: Vec<String> = if paths.is_empty() { vec![".".into()] } else { paths }
                    .iter()
                    .flat_map(|p| bin_targets(p))
                    .collect();
                assert!(
                    bins.iter().any(|b| b == "dispatch"),
                    "part {name}: rust-path builds {bins:?}, no dispatch"
                );
                files.insert("dispatch".into());
            }
            other => panic!("part {name}: plugin {other:?} is not modelled by this test"),
        }
    }
    files
}

/// The binary targets of the package whose manifest is `<repo>/<dir>/Cargo.toml` (what
/// `cargo install --path <dir>` installs), from `cargo metadata`.
fn bin_targets(dir: &str) -> Vec<String> {
    let manifest = repo().join(dir).join("Cargo.toml");
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--no-deps", "--offline", "--format-version", "1", "--manifest-path"])
        .arg(&manifest)
        .output()
        .expect("run cargo metadata");
    assert!(out.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("cargo metadata JSON");
    let manifest = manifest.canonicalize().unwrap();
    let package = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["manifest_path"].as_str().is_some_and(|m| Path::new(m) == manifest))
        .unwrap_or_else(|| panic!("no package at {}", manifest.display()));
    package["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"].as_array().is_some_and(|k| k.iter().any(|k| k == "bin")))
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

//! Packaging checks: what reaches a real machine is what the local model runs.
//!
//! 1. The charm directory `scripts/build-charm` assembles (what `juju-local deploy` takes) holds
//!    exactly the files a `charmcraft pack` of `charmcraft.yaml` would: the parts' `prime` lists,
//!    plus the files charmcraft writes itself (metadata.yaml, config.yaml, actions.yaml,
//!    manifest.yaml). So a green local run says something about the packed `.charm`.
//! 2. The systemd unit files the charm renders on real machines pass `systemd-analyze verify`.
//! 3. Every end-to-end scenario file in `tests/` has a spread task (and no task points at a file
//!    that is gone), so a new scenario cannot silently skip real Juju.
//! 4. The README's "What is where" table names every top-level entry and every charm module.

// Packaging checks run charmcraft, the build scripts and systemd-analyze; the charm's walls do not bind them.
#![allow(clippy::disallowed_methods)]

#[path = "packaging/charmcraft.rs"]
mod charmcraft;
#[path = "packaging/layout.rs"]
mod layout;
#[path = "packaging/spread.rs"]
mod spread;
#[path = "packaging/systemd.rs"]
mod systemd;

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_yaml::Value;
use valkey_charm::juju::Event;

/// The workspace root (this package's manifest dir).
fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Parses a YAML file of the repository.
fn yaml(name: &str) -> Value {
    let text = fs::read_to_string(repo().join(name)).unwrap_or_else(|e| panic!("read {name}: {e}"));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("parse {name}: {e}"))
}

/// A YAML sequence of strings (empty when absent).
fn strings(v: &Value) -> Vec<String> {
    v.as_sequence()
        .map(|s| s.iter().map(|x| x.as_str().expect("string entry").to_string()).collect())
        .unwrap_or_default()
}

/// Every path under `dir`, relative, `/`-separated; symlinks are listed, not followed.
fn tree(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            let rel = entry.path().strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            if entry.file_type().unwrap().is_dir() {
                stack.push(entry.path());
            }
            out.insert(rel);
        }
    }
    out
}

/// `scripts/build-charm` with the `dispatch` cargo built for this test.
fn build_charm(out: &Path) {
    let output = Command::new(repo().join("scripts/build-charm"))
        .arg("--binary")
        .arg(env!("CARGO_BIN_EXE_dispatch"))
        .arg("--out")
        .arg(out)
        .output()
        .expect("run scripts/build-charm");
    assert!(output.status.success(), "build-charm: {}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), out.to_str().unwrap(), "prints the dir");
}

#[test]
fn charm_dir_holds_exactly_what_charmcraft_would_pack() {
    let charmcraft = yaml("charmcraft.yaml");
    assert_eq!(charmcraft["type"].as_str(), Some("charm"));
    assert_eq!(charmcraft["base"].as_str(), Some("ubuntu@24.04"));
    let platforms: BTreeSet<&str> =
        charmcraft["platforms"].as_mapping().expect("platforms").keys().filter_map(Value::as_str).collect();
    assert_eq!(platforms, BTreeSet::from(["amd64", "arm64"]));

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("valkey");
    build_charm(&dir);
    let expected = charmcraft::packed_files(&charmcraft);
    assert_eq!(tree(&dir), expected, "charm dir vs. what charmcraft.yaml primes + charmcraft's own files");

    // dispatch: the very binary cargo built, executable.
    let dispatch = fs::symlink_metadata(dir.join("dispatch")).unwrap();
    assert!(dispatch.is_file() && dispatch.permissions().mode() & 0o111 != 0, "dispatch not executable");
    assert_eq!(dispatch.len(), fs::metadata(env!("CARGO_BIN_EXE_dispatch")).unwrap().len());

    // charmcraft copies these project files verbatim (they are non-empty, so all are packed).
    for name in ["metadata.yaml", "config.yaml", "actions.yaml"] {
        let (built, source) = (fs::read(dir.join(name)).unwrap(), fs::read(repo().join(name)).unwrap());
        assert!(built == source, "{name} differs from the project's");
    }
    let manifest: Value =
        serde_yaml::from_str(&fs::read_to_string(dir.join("manifest.yaml")).unwrap()).unwrap();
    let base = &manifest["bases"][0];
    assert_eq!((base["name"].as_str(), base["channel"].as_str()), (Some("ubuntu"), Some("24.04")));
    let arch = base["architectures"][0].as_str().expect("manifest architecture");
    assert!(platforms.contains(arch), "manifest architecture {arch} is not a platform");
}

#[test]
fn hook_links_cover_every_hook_the_charm_handles() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("valkey");
    build_charm(&dir);
    let hooks: BTreeSet<String> = fs::read_dir(dir.join("hooks"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    for hook in &hooks {
        let link =
            fs::read_link(dir.join("hooks").join(hook)).unwrap_or_else(|_| panic!("{hook} not a link"));
        assert_eq!(link, Path::new("../dispatch"), "hooks/{hook}");
        let event = Event::parse(&format!("hooks/{hook}"));
        assert!(!matches!(event, Event::Unknown(_)), "hooks/{hook} is a hook the charm does not handle");
    }

    // Every hook Juju can send this charm (per metadata.yaml) that the charm handles has a link.
    let metadata = yaml("metadata.yaml");
    let mut candidates: Vec<String> = [
        "install",
        "start",
        "stop",
        "remove",
        "config-changed",
        "upgrade-charm",
        "update-status",
        "leader-elected",
        "leader-settings-changed",
        "secret-changed",
        "secret-rotate",
        "secret-remove",
        "secret-expired",
        "collect-metrics",
        "pre-series-upgrade",
        "post-series-upgrade",
        valkey_charm::juju::event::PRIMARY_CHANGED_HOOK,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for kind in ["peers", "provides", "requires"] {
        for endpoint in metadata[kind].as_mapping().into_iter().flat_map(|m| m.keys()) {
            let endpoint = endpoint.as_str().unwrap();
            for e in ["created", "joined", "changed", "departed", "broken"] {
                candidates.push(format!("{endpoint}-relation-{e}"));
            }
        }
    }
    for store in metadata["storage"].as_mapping().into_iter().flat_map(|m| m.keys()) {
        for e in ["attached", "detaching"] {
            candidates.push(format!("{}-storage-{e}", store.as_str().unwrap()));
        }
    }
    let handled: BTreeSet<String> = candidates
        .into_iter()
        .filter(|h| !matches!(Event::parse(&format!("hooks/{h}")), Event::Unknown(_)))
        .collect();
    let missing: Vec<&String> = handled.difference(&hooks).collect();
    assert!(missing.is_empty(), "handled hooks without a hooks/ link: {missing:?}");
}

#[test]
fn readme_layout_table_names_every_top_level_entry_and_charm_module() {
    layout::check(&repo());
}

//! The systemd unit files the charm renders on real machines pass `systemd-analyze verify`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use valkey_charm::juju::Context;
use valkey_charm::workload::systemd::Systemd;
use valkey_charm::workload::{Installed, Paths, Service};

use super::repo;

/// The `valkey-server` `scripts/setup-valkey` provides.
fn valkey_server() -> PathBuf {
    let output = Command::new(repo().join("scripts/setup-valkey")).output().expect("run setup-valkey");
    assert!(output.status.success(), "setup-valkey: {}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    Path::new(stdout.lines().last().expect("bin dir").trim()).join("valkey-server")
}

#[test]
fn systemd_units_pass_systemd_analyze_verify() {
    // Rendered through the charm's public API, as on a real machine (only the directories differ).
    let tmp = tempfile::tempdir().unwrap();
    let env = [
        ("JUJU_UNIT_NAME", "valkey/0".to_string()),
        ("JUJU_CHARM_DIR", tmp.path().join("charm").display().to_string()),
        ("JUJU_MODEL_NAME", "spread".to_string()),
        ("JUJU_MODEL_UUID", "d1f6a1a8-6f1e-4a43-8d8f-0c3d5e1d2b7a".to_string()),
    ];
    let ctx = Context::from_env(|k| env.iter().find(|(name, _)| *name == k).map(|(_, v)| v.clone())).unwrap();
    // The storage location metadata.yaml gives (/var/lib/valkey), under the temp dir.
    let paths = Paths::new(tmp.path().join("var/lib/valkey"));
    paths.create_dirs().unwrap();
    let server = paths.bin_dir().join("valkey-server");
    fs::copy(valkey_server(), &server).unwrap();
    let installed = Installed { server, version: "9.1.2".into() };
    let mut systemd = Systemd::new(&ctx, &paths, &installed, Duration::from_millis(8000));
    systemd.unit_dir = tmp.path().join("units");
    fs::create_dir_all(&systemd.unit_dir).unwrap();
    let units: Vec<PathBuf> = [Service::Valkey, Service::Sentinel]
        .into_iter()
        .map(|svc| {
            let path = systemd.unit_dir.join(systemd.unit_name(svc));
            fs::write(&path, systemd.render_unit(svc)).unwrap();
            path
        })
        .collect();
    assert_eq!(
        units.iter().map(|u| u.file_name().unwrap().to_str().unwrap()).collect::<Vec<_>>(),
        ["valkey-valkey-0.service", "valkey-valkey-0-sentinel.service"]
    );

    if Command::new("systemd-analyze").arg("--version").output().is_err() {
        println!("skipped: systemd-analyze not installed");
        return;
    }
    for unit in &units {
        let out = Command::new("systemd-analyze").arg("verify").arg(unit).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let name = unit.file_name().unwrap().to_str().unwrap();
        // verify exits 0 on unknown keys and only warns: any line about our file is a failure.
        let complaints: Vec<&str> = stderr.lines().filter(|l| l.contains(name)).collect();
        assert!(out.status.success() && complaints.is_empty(), "{name}:\n{stderr}");
        println!("systemd-analyze verify {name}: ok");
    }
}

// Tests of the side-service seam: real supervisor processes, a real metrics server, raw HTTP.
#![allow(clippy::disallowed_methods)]
use super::*;
use crate::workload::pidfile::PidRecord;
use crate::workload::test_support::{self, free_port, kill_supervised, poll};
use std::io::{Read, Write};
use std::process::Command;

/// Env var carrying the argv (one per line) into [`side_process`].
const ARGV_VAR: &str = "VALKEY_CHARM_SIDECAR_TEST_ARGV";

/// Not a test: the entry point of `dispatch supervise …` and `dispatch metrics-serve …` in these
/// tests (the real `dispatch` is another crate target; a wrapper script re-runs this binary).
#[test]
#[ignore = "entry point of the side-service processes, run by the sidecar tests"]
fn side_process() {
    if let Ok(argv) = std::env::var(ARGV_VAR) {
        let mut args = vec!["dispatch".to_string()];
        args.extend(argv.lines().map(str::to_string));
        let code = match args.get(1).map(String::as_str) {
            Some("supervise") => crate::workload::supervise_main(&args),
            Some("metrics-serve") => crate::workload::metrics_serve::main(&args),
            _ => 2,
        };
        std::process::exit(code);
    }
}

/// A `dispatch` stand-in that runs [`side_process`] with its arguments.
fn fake_dispatch(dir: &Path) -> PathBuf {
    test_support::fake_dispatch(dir, ARGV_VAR, "workload::sidecar::tests::side_process")
}

/// Kills what the test's supervisor started, whatever happened.
struct Cleanup(Paths);

impl Drop for Cleanup {
    fn drop(&mut self) {
        kill_supervised(&direct_pidfile(&self.0, "charm-metrics"));
    }
}

/// `GET path` on 127.0.0.1:`port`: status code and body; `None` when nothing answers.
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let code = text.split_whitespace().nth(1)?.parse().ok()?;
    Some((code, text.split_once("\r\n\r\n")?.1.to_string()))
}

fn metrics_service(dispatch: &Path, port: u16, file: &Path) -> SideService {
    SideService {
        name: "charm-metrics",
        description: "test".into(),
        program: dispatch.to_path_buf(),
        args: vec![
            "metrics-serve".into(),
            "--listen".into(),
            format!("127.0.0.1:{port}"),
            "--file".into(),
            file.display().to_string(),
        ],
    }
}

#[test]
fn a_side_service_is_supervised_restarted_on_change_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::new(dir.path().join("data"));
    paths.create_dirs().unwrap();
    let _cleanup = Cleanup(paths.clone());
    let dispatch = fake_dispatch(dir.path());
    let sup = SideSupervisor::Direct { dispatch: dispatch.clone(), paths: paths.clone() };
    let file = dir.path().join("charm-metrics.prom");
    let port = free_port();
    let svc = metrics_service(&dispatch, port, &file);

    assert!(sup.ensure(&svc).unwrap(), "started");
    assert!(sup.is_running("charm-metrics") && sup.all_running(&["charm-metrics"]));
    let up = poll(Duration::from_secs(10), || get(port, "/metrics"));
    assert_eq!(up.map(|(c, _)| c), Some(503), "no metrics written yet");
    write_file(&file, "valkey_charm_started 1\n", 0o644).unwrap();
    let (code, body) = get(port, "/metrics").unwrap();
    assert_eq!(code, 200);
    assert!(body.starts_with("valkey_charm_started 1\n"), "{body}");
    assert!(body.contains("\nvalkey_charm_metrics_file_age_seconds "), "{body}");
    assert_eq!(get(port, "/").map(|(c, _)| c), Some(404));

    // Unchanged: left alone. Changed: restarted with the new definition.
    let pid = PidRecord::read(&child_pidfile(&direct_pidfile(&paths, "charm-metrics"))).unwrap().pid;
    assert!(!sup.ensure(&svc).unwrap(), "same definition, not restarted");
    let moved = free_port();
    assert!(sup.ensure(&metrics_service(&dispatch, moved, &file)).unwrap(), "new port, restarted");
    let new_pid = PidRecord::read(&child_pidfile(&direct_pidfile(&paths, "charm-metrics"))).unwrap().pid;
    assert_ne!(pid, new_pid);
    assert!(poll(Duration::from_secs(10), || get(moved, "/metrics").filter(|(c, _)| *c == 200)).is_some());
    assert!(get(port, "/metrics").is_none(), "the old listener is gone");

    // A crash: the supervisor brings it back after its delay.
    PidRecord::of(new_pid).unwrap().signal(libc::SIGKILL);
    let back = poll(Duration::from_secs(15), || {
        let rec = PidRecord::read(&child_pidfile(&direct_pidfile(&paths, "charm-metrics")))?;
        (rec.pid != new_pid && rec.is_alive()).then_some(())
    });
    assert!(back.is_some(), "not restarted after a crash");

    sup.remove("charm-metrics").unwrap();
    assert!(!sup.is_running("charm-metrics"));
    assert!(get(moved, "/metrics").is_none(), "removed: nothing listens");
}

#[test]
fn systemd_unit_of_a_side_service_quotes_and_restarts() {
    let svc = SideService {
        name: "exporter",
        description: "Valkey metrics exporter".into(),
        program: "/usr/bin/prometheus-redis-exporter".into(),
        args: vec!["--redis.addr=redis://10.0.0.1:6379".into(), "--weird arg".into()],
    };
    let unit = SideSupervisor::render_unit("valkey/3", &svc);
    assert!(unit.contains("Description=Valkey metrics exporter of Juju unit valkey/3\n"));
    assert!(unit.contains(
        "ExecStart=/usr/bin/prometheus-redis-exporter --redis.addr=redis://10.0.0.1:6379 \"--weird arg\"\n"
    ));
    assert!(unit.contains("Restart=always\nRestartSec=2000ms\n"));
    assert!(!unit.contains("PrivateTmp"), "a local model's files live under /tmp");
    assert_eq!(SideSupervisor::unit_name("valkey-valkey-3", "exporter"), "valkey-valkey-3-exporter.service");
}

#[test]
fn the_side_units_the_charm_renders_pass_systemd_analyze_verify() {
    let exporter = Path::new(crate::cos::exporter::EXPORTER_BINARY);
    if Command::new("systemd-analyze").arg("--version").output().is_err() || !exporter.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "systemd-analyze or the exporter missing in CI (scripts/setup)"
        );
        eprintln!("skipped: systemd-analyze or {} not installed", exporter.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::new(dir.path().join("var/lib/valkey"));
    paths.create_dirs().unwrap();
    let dispatch = fake_dispatch(dir.path());
    let spec =
        crate::cos::plan::ServiceSpec { listen_host: "127.0.0.1".into(), bind_address: "10.1.2.3".into() };
    for svc in crate::cos::execute::side_services(exporter.to_path_buf(), dispatch, &paths, &spec) {
        let name = SideSupervisor::unit_name("valkey-valkey-0", svc.name);
        let unit = dir.path().join(&name);
        write_file(&unit, &SideSupervisor::render_unit("valkey/0", &svc), 0o644).unwrap();
        let out = Command::new("systemd-analyze").arg("verify").arg(&unit).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        // verify exits 0 on unknown keys and only warns: any line about our file is a failure.
        let complaints: Vec<&str> = stderr.lines().filter(|l| l.contains(&name)).collect();
        assert!(out.status.success() && complaints.is_empty(), "{name}:\n{stderr}");
    }
}

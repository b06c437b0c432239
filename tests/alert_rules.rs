//! The alert rules under `promtool` (Debian's `prometheus` package): the rules exactly as the
//! charm ships them over `cos-agent` (topology injected by `valkey_charm::cos::rules`) pass
//! `promtool check rules`, and every case in `tests/alert_rules/*_test.yaml` passes
//! `promtool test rules` — each alert fires on its fault, and a healthy deployment fires nothing.
//!
//! Without promtool this test fails in CI (`CI` set) and says why; elsewhere it says it skipped.

// The test seam: runs promtool and Prometheus, and asks Prometheus over loopback HTTP.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::process::Command;
use valkey_charm::cos::{rules, Topology};

/// The topology the test files' series carry.
fn topology() -> Topology {
    Topology {
        model: "test".into(),
        model_uuid: "00000000-0000-4000-8000-000000000000".into(),
        application: "valkey".into(),
        charm: "valkey".into(),
    }
}

/// promtool, if installed.
fn promtool() -> Option<PathBuf> {
    let found = Command::new("promtool").arg("--version").output().is_ok_and(|o| o.status.success());
    found.then(|| PathBuf::from("promtool"))
}

fn run(promtool: &Path, dir: &Path, args: &[&str]) -> String {
    let out = Command::new(promtool).args(args).current_dir(dir).output().expect("run promtool");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "promtool {} failed:\n{text}", args.join(" "));
    text
}

#[test]
fn shipped_rules_pass_promtool_check_and_every_test_case() {
    let Some(promtool) = promtool() else {
        let why =
            "promtool not found: `apt-get install prometheus` (scripts/setup does) to test the alert rules";
        assert!(std::env::var_os("CI").is_none(), "{why}");
        eprintln!("skipped: {why}");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let rendered = rules::alert_rules(&topology()).expect("rules render");
    // JSON is YAML: promtool reads the very structure the relation carries.
    std::fs::write(dir.path().join("valkey.rules.rendered.yaml"), rendered.to_string()).unwrap();
    let checked = run(&promtool, dir.path(), &["check", "rules", "valkey.rules.rendered.yaml"]);
    let count = rendered["groups"][0]["rules"].as_array().unwrap().len();
    assert!(checked.contains(&format!("SUCCESS: {count} rules found")), "{checked}");

    let cases_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/alert_rules");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&cases_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with("_test.yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no test files in {}", cases_dir.display());
    let mut tested = String::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        std::fs::copy(file, dir.path().join(&name)).unwrap();
        let out = run(&promtool, dir.path(), &["test", "rules", &name]);
        println!("{name}: {}", out.trim());
        tested.push_str(&std::fs::read_to_string(file).unwrap());
    }
    // Every alert the charm ships has at least one case in which it fires.
    for rule in rendered["groups"][0]["rules"].as_array().unwrap() {
        let alert = rule["alert"].as_str().unwrap();
        let fires = tested
            .split("- eval_time:")
            .any(|case| case.contains(&format!("alertname: {alert}\n")) && case.contains("exp_labels:"));
        assert!(fires, "no promtool case in which {alert} fires");
    }
}

/// A Prometheus server (Debian's `prometheus`) on a free loopback port with no targets; killed on
/// drop.
struct Prometheus {
    child: std::process::Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prometheus {
    fn start() -> Option<Prometheus> {
        let found = Command::new("prometheus").arg("--version").output().is_ok_and(|o| o.status.success());
        if !found {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("prometheus.yml");
        std::fs::write(&config, "global:\n  scrape_interval: 1m\n").unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start prometheus");
        let p = Prometheus { child, port, _dir: dir };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while p.get("/-/ready").is_none_or(|(code, _)| code != 200) {
            assert!(std::time::Instant::now() < deadline, "prometheus did not become ready");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        Some(p)
    }

    /// `GET path`: status code and body.
    fn get(&self, path: &str) -> Option<(u16, String)> {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        s.set_read_timeout(Some(std::time::Duration::from_secs(10))).ok()?;
        write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
        let mut text = String::new();
        s.read_to_string(&mut text).ok()?;
        let code = text.split_whitespace().nth(1)?.parse().ok()?;
        Some((code, text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default()))
    }
}

/// Percent-encodes a query parameter.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The PromQL of the dashboard's panels and annotations (not its Grafana template queries).
fn dashboard_queries() -> Vec<String> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/grafana_dashboards/valkey.json"),
    )
    .unwrap();
    let d: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut out = Vec::new();
    for panel in d["panels"].as_array().unwrap() {
        for t in panel["targets"].as_array().unwrap() {
            out.push(t["expr"].as_str().unwrap().to_string());
        }
    }
    for a in d["annotations"]["list"].as_array().unwrap() {
        out.push(a["expr"].as_str().unwrap().to_string());
    }
    out
}

#[test]
fn every_dashboard_query_is_promql_a_real_prometheus_accepts() {
    let Some(prom) = Prometheus::start() else {
        let why =
            "prometheus not found: `apt-get install prometheus` (scripts/setup does) to check the dashboard";
        assert!(std::env::var_os("CI").is_none(), "{why}");
        eprintln!("skipped: {why}");
        return;
    };
    let queries = dashboard_queries();
    assert!(queries.len() >= 12, "{} queries", queries.len());
    for q in &queries {
        // Grafana fills the template variables; any value does for the syntax.
        let promql = q.replace("$juju_model", ".*").replace("$juju_application", ".*");
        let (code, body) =
            prom.get(&format!("/api/v1/query?query={}", encode(&promql))).expect("query answered");
        assert_eq!(code, 200, "{promql}\n{body}");
        assert!(body.contains("\"status\":\"success\""), "{promql}\n{body}");
    }
}

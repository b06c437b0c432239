//! A real central Prometheus for the observability scenarios (Debian's `prometheus` package): it
//! receives what the collectors remote-write (`--web.enable-remote-write-receiver`), evaluates
//! the alert rules the charm published (loaded with [`Central::load_rules`], evaluated every
//! second) and answers the HTTP API the tests query (`/api/v1/alerts`, `/api/v1/query`).
//!
//! It listens on an address the units' machines reach (the model bridge's host address in host
//! and machine mode), keeps its data in a temporary directory, and is stopped by pid on Drop
//! (SIGTERM, then SIGKILL after a grace period), so no run leaves it behind.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How often the central Prometheus evaluates the rules.
pub const EVALUATION_INTERVAL: Duration = Duration::from_secs(1);

/// The Debian package's server binary.
const PROMETHEUS: &str = "/usr/bin/prometheus";

/// One alert as `/api/v1/alerts` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// `alertname`.
    pub name: String,
    /// `pending` or `firing`.
    pub state: String,
    /// Every label (alertname and the series' labels, topology included).
    pub labels: serde_json::Map<String, serde_json::Value>,
}

impl Alert {
    /// The value of label `key`, or "".
    pub fn label(&self, key: &str) -> &str {
        self.labels.get(key).and_then(|v| v.as_str()).unwrap_or_default()
    }
}

/// A running central Prometheus.
pub struct Central {
    child: Child,
    address: SocketAddr,
    dir: tempfile::TempDir,
}

/// Why Prometheus cannot run here (printed by the scenario that skips), if it cannot.
pub fn unavailable() -> Option<String> {
    (!Path::new(PROMETHEUS).is_file())
        .then(|| format!("{PROMETHEUS} is missing (Debian's prometheus package: scripts/setup installs it)"))
}

impl Central {
    /// Starts Prometheus on `address` with no rules and waits until it is ready. Its TSDB goes
    /// to `keep` when given (kept after the run, e.g. for `bench/panels`), else to its temporary
    /// directory.
    pub fn start(address: SocketAddr, keep: Option<&Path>) -> Central {
        let dir = tempfile::Builder::new().prefix("central-prometheus-").tempdir().expect("temp dir");
        write_config(dir.path(), &[]);
        let log = std::fs::File::create(dir.path().join("prometheus.log")).expect("log file");
        let tsdb = keep.map_or_else(|| dir.path().join("data"), Path::to_path_buf);
        let child = Command::new(PROMETHEUS)
            .arg(format!("--config.file={}", dir.path().join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", tsdb.display()))
            .arg(format!("--web.listen-address={address}"))
            .arg("--web.enable-remote-write-receiver")
            .arg("--web.enable-lifecycle")
            .arg("--log.level=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start prometheus");
        let mut central = Central { child, address, dir };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = central.child.try_wait().expect("prometheus status") {
                panic!("prometheus exited at start ({status}): {}", central.log());
            }
            if matches!(central.http("GET", "/-/ready"), Ok((200, _))) {
                break;
            }
            assert!(Instant::now() < deadline, "prometheus not ready in 60 s: {}", central.log());
            std::thread::sleep(Duration::from_millis(200));
        }
        println!("central prometheus on {address} (pid {})", central.child.id());
        central
    }

    /// The remote-write URL the collectors send to.
    pub fn remote_write_url(&self) -> String {
        format!("http://{}/api/v1/write", self.address)
    }

    /// Replaces the rule files with `rules` (each a rules document: `{"groups": [...]}`, JSON
    /// being YAML), checks them with `promtool`, reloads Prometheus and returns how many rule
    /// groups it then evaluates.
    pub fn load_rules(&self, rules: &[String]) -> usize {
        let mut files = Vec::new();
        for (i, text) in rules.iter().enumerate() {
            let path = self.dir.path().join(format!("rules-{i}.json"));
            std::fs::write(&path, text).expect("write rules");
            let check = Command::new("promtool").arg("check").arg("rules").arg(&path).output();
            let check = check.expect("run promtool");
            assert!(
                check.status.success(),
                "promtool check rules {text}: {}",
                String::from_utf8_lossy(&check.stdout)
            );
            files.push(path);
        }
        write_config(self.dir.path(), &files);
        let (code, body) = self.http("POST", "/-/reload").expect("reload prometheus");
        assert_eq!(code, 200, "reload: {body}");
        let expected: usize = rules
            .iter()
            .filter_map(|text| serde_json::from_str::<serde_json::Value>(text).ok())
            .map(|doc| doc["groups"].as_array().map_or(0, Vec::len))
            .sum();
        let (groups, _) = super::poll("the rules to be loaded", Duration::from_secs(30), || {
            let loaded = self.api("/api/v1/rules")?["groups"].as_array().map_or(0, Vec::len);
            (loaded == expected).then_some(loaded).ok_or(format!("{loaded} of {expected} groups loaded"))
        });
        println!("central prometheus: {groups} rule groups loaded from {} files", files.len());
        groups
    }

    /// Every alert Prometheus holds now (pending and firing).
    pub fn alerts(&self) -> Result<Vec<Alert>, String> {
        let data = self.api("/api/v1/alerts")?;
        let list = data["alerts"].as_array().ok_or_else(|| format!("no alerts list: {data}"))?;
        Ok(list
            .iter()
            .map(|a| {
                let labels = a["labels"].as_object().cloned().unwrap_or_default();
                let name = labels.get("alertname").and_then(|v| v.as_str()).unwrap_or_default().to_string();
                Alert { name, state: a["state"].as_str().unwrap_or_default().to_string(), labels }
            })
            .collect())
    }

    /// The firing alerts only.
    pub fn firing(&self) -> Result<Vec<Alert>, String> {
        Ok(self.alerts()?.into_iter().filter(|a| a.state == "firing").collect())
    }

    /// The result vector of the instant query `promql`.
    pub fn query(&self, promql: &str) -> Result<Vec<serde_json::Value>, String> {
        let data = self.api(&format!("/api/v1/query?query={}", percent_encode(promql)))?;
        data["result"].as_array().cloned().ok_or_else(|| format!("no result vector: {data}"))
    }

    /// How many rule-group evaluation rounds Prometheus has finished so far, over all groups
    /// (its own `prometheus_rule_group_iterations_total`).
    pub fn rounds(&self) -> Result<f64, String> {
        let body = self.http("GET", "/metrics")?.1;
        Ok(body
            .lines()
            .filter(|l| l.starts_with("prometheus_rule_group_iterations_total"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum())
    }

    /// Waits (bounded) until every loaded rule group has been evaluated `rounds` more times.
    pub fn wait_rounds(&self, rounds: u32, groups: usize) {
        let start = self.rounds().expect("rule rounds");
        let wanted = start + f64::from(rounds) * groups.max(1) as f64;
        let limit = EVALUATION_INTERVAL * (rounds + 30);
        super::poll(&format!("{rounds} evaluation rounds"), limit, || {
            let now = self.rounds()?;
            (now >= wanted).then_some(()).ok_or(format!("{now} of {wanted} group evaluations"))
        });
    }

    /// The `data` of a successful API answer.
    fn api(&self, path: &str) -> Result<serde_json::Value, String> {
        let (code, body) = self.http("GET", path)?;
        let doc: serde_json::Value =
            serde_json::from_str(&body).map_err(|e| format!("{path}: {e}: {body}"))?;
        if code != 200 || doc["status"] != "success" {
            return Err(format!("{path}: HTTP {code}: {body}"));
        }
        Ok(doc["data"].clone())
    }

    /// One HTTP/1.0 request (the connection closes after the answer): status code and body.
    fn http(&self, method: &str, path: &str) -> Result<(u16, String), String> {
        let mut stream = TcpStream::connect_timeout(&self.address, Duration::from_secs(2))
            .map_err(|e| format!("connect {}: {e}", self.address))?;
        stream.set_read_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
        let request =
            format!("{method} {path} HTTP/1.0\r\nHost: {}\r\nContent-Length: 0\r\n\r\n", self.address);
        stream.write_all(request.as_bytes()).map_err(|e| format!("send: {e}"))?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).map_err(|e| format!("read: {e}"))?;
        let text = String::from_utf8_lossy(&raw);
        let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| format!("no HTTP answer: {text}"))?;
        let code = head
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| format!("bad status: {head}"))?;
        Ok((code, body.to_string()))
    }

    /// The end of Prometheus's own log, for failure messages.
    pub fn log(&self) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Central {
    fn drop(&mut self) {
        let pid = self.child.id();
        // SIGTERM first, so it closes its storage cleanly (`kill`: no unsafe code in tests).
        let _ = Command::new("kill").arg("-TERM").arg(pid.to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                println!("central prometheus (pid {pid}) stopped");
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        println!("central prometheus (pid {pid}) killed after 10 s");
    }
}

/// Writes `prometheus.yml`: rules evaluated every second, no scrape job (data arrives by remote
/// write only).
fn write_config(dir: &Path, rule_files: &[PathBuf]) {
    let files: Vec<String> = rule_files.iter().map(|p| format!("\"{}\"", p.display())).collect();
    let text = format!(
        "global:\n  evaluation_interval: {}s\n  scrape_interval: 15s\nrule_files: [{}]\n",
        EVALUATION_INTERVAL.as_secs(),
        files.join(", ")
    );
    std::fs::write(dir.join("prometheus.yml"), text).expect("write prometheus.yml");
}

/// `Ok` when a TCP connection to `at` is refused (nothing listens there); the outcome otherwise.
pub fn refused(at: SocketAddr) -> Result<(), String> {
    match TcpStream::connect_timeout(&at, Duration::from_secs(3)) {
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => Ok(()),
        Err(e) => Err(format!("{at}: {e}")),
        Ok(_) => Err(format!("{at} accepted the connection")),
    }
}

/// Percent-encodes a query parameter (everything but unreserved characters).
pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

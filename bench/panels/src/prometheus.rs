//! The central Prometheus of a finished run, started again on its kept TSDB (read through the
//! HTTP API on loopback), and the range queries of the panels.

use anyhow::{anyhow, bail, Context, Result};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One series of a range query: its label (the value of the grouping label) and its points
/// (unix seconds, value).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// What the legend shows.
    pub label: String,
    /// `(unix seconds, value)`, in time order.
    pub points: Vec<(f64, f64)>,
}

/// A Prometheus server running on a kept TSDB; stopped on Drop.
pub struct Server {
    child: Child,
    address: SocketAddr,
    _config: tempfile::TempDir,
}

impl Server {
    /// Starts `prometheus` on `tsdb` (no scrape job, no rule) on a free loopback port.
    pub fn start(binary: &Path, tsdb: &Path) -> Result<Server> {
        let config = tempfile::tempdir()?;
        std::fs::write(config.path().join("prometheus.yml"), "global: {}\n")?;
        let address = TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config.path().join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", tsdb.display()))
            .arg(format!("--web.listen-address={address}"))
            .arg("--log.level=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let mut server = Server { child, address, _config: config };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !matches!(server.get("/-/ready"), Ok((200, _))) {
            if let Some(status) = server.child.try_wait()? {
                bail!("prometheus exited ({status}) on {}", tsdb.display());
            }
            if Instant::now() > deadline {
                bail!("prometheus on {} not ready in 60 s", tsdb.display());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(server)
    }

    /// The time span the TSDB holds (unix seconds), from its head block's statistics.
    pub fn span(&self) -> Result<(f64, f64)> {
        let data = self.api("/api/v1/status/tsdb")?;
        let head = &data["headStats"];
        let min = head["minTime"].as_f64().ok_or_else(|| anyhow!("no headStats.minTime: {data}"))?;
        let max = head["maxTime"].as_f64().ok_or_else(|| anyhow!("no headStats.maxTime: {data}"))?;
        if max <= min {
            bail!("the TSDB holds no samples");
        }
        Ok((min / 1000.0, max / 1000.0))
    }

    /// `query_range` of `promql` over `span` at `step` seconds; each series is named by the value
    /// of `label`.
    pub fn range(&self, promql: &str, span: (f64, f64), step: f64, label: &str) -> Result<Vec<Series>> {
        let path = format!(
            "/api/v1/query_range?query={}&start={}&end={}&step={step}",
            encode(promql),
            span.0,
            span.1
        );
        let data = self.api(&path)?;
        let result = data["result"].as_array().ok_or_else(|| anyhow!("{promql}: no result: {data}"))?;
        let mut series: Vec<Series> = result
            .iter()
            .map(|s| Series {
                label: s["metric"][label].as_str().unwrap_or("?").to_string(),
                points: s["values"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| Some((p[0].as_f64()?, p[1].as_str()?.parse().ok()?)))
                    .collect(),
            })
            .collect();
        series.sort_by(|a, b| a.label.cmp(&b.label));
        Ok(series)
    }

    fn api(&self, path: &str) -> Result<serde_json::Value> {
        let (code, body) = self.get(path)?;
        let doc: serde_json::Value =
            serde_json::from_str(&body).with_context(|| format!("{path}: {body}"))?;
        if code != 200 || doc["status"] != "success" {
            bail!("{path}: HTTP {code}: {body}");
        }
        Ok(doc["data"].clone())
    }

    /// One HTTP/1.0 GET: status code and body.
    fn get(&self, path: &str) -> Result<(u16, String)> {
        let mut stream = TcpStream::connect_timeout(&self.address, Duration::from_secs(2))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        write!(stream, "GET {path} HTTP/1.0\r\nHost: {}\r\n\r\n", self.address)?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        let text = String::from_utf8_lossy(&raw);
        let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| anyhow!("no HTTP answer"))?;
        let code =
            head.split(' ').nth(1).and_then(|c| c.parse().ok()).ok_or_else(|| anyhow!("bad status line"))?;
        Ok((code, body.to_string()))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Percent-encodes a query parameter.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn encodes_promql() {
        assert_eq!(super::encode("up{job=\"a\"} > 0"), "up%7Bjob%3D%22a%22%7D%20%3E%200");
    }
}

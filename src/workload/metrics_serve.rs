//! `dispatch metrics-serve --listen HOST:PORT --file PATH`: serves the charm's own metrics (a
//! Prometheus text file the charm rewrites on every reconcile, `crate::cos::signals`) on
//! `GET /metrics`, and adds the file's age (`valkey_charm_metrics_file_age_seconds`), so a scrape
//! tells how old the charm's last look is. One request at a time, each bounded in time and size;
//! anything else than `GET /metrics` gets 404.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How long one client may take to send its request or read the answer.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest request head read.
const MAX_HEAD: usize = 8192;

/// Parsed arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeArgs {
    /// Address to listen on.
    pub listen: String,
    /// The metrics file.
    pub file: PathBuf,
}

/// Parses the whole argv (everything up to and including `metrics-serve` is skipped).
pub fn parse_args(args: &[String]) -> Result<ServeArgs, String> {
    let start = args.iter().position(|a| a == "metrics-serve").map_or(0, |i| i + 1);
    let mut rest = args[start..].iter();
    let (mut listen, mut file) = (None, None);
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--listen" => listen = Some(rest.next().ok_or("--listen needs an address")?.clone()),
            "--file" => file = Some(PathBuf::from(rest.next().ok_or("--file needs a path")?)),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(ServeArgs { listen: listen.ok_or("--listen is required")?, file: file.ok_or("--file is required")? })
}

/// The body for the file at `path`: its text plus its age; `None` when it cannot be read.
pub fn body(path: &Path, now: SystemTime) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok()?;
    let age = now.duration_since(modified).unwrap_or_default().as_secs_f64();
    Some(format!(
        "{text}# HELP valkey_charm_metrics_file_age_seconds Seconds since the charm last wrote these metrics.\n\
         # TYPE valkey_charm_metrics_file_age_seconds gauge\nvalkey_charm_metrics_file_age_seconds {age:.3}\n"
    ))
}

fn answer(stream: &mut TcpStream, file: &Path) -> std::io::Result<()> {
    stream.set_read_timeout(Some(CLIENT_TIMEOUT))?;
    stream.set_write_timeout(Some(CLIENT_TIMEOUT))?;
    let mut reader = BufReader::new(std::io::Read::take(stream.try_clone()?, MAX_HEAD as u64));
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Drain the head (bounded) so the client sees a clean answer.
    let mut line = String::new();
    while reader.read_line(&mut line)? > 2 {
        line.clear();
    }
    let mut words = request_line.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let (status, content) = match (method, path) {
        ("GET", "/metrics") => match body(file, SystemTime::now()) {
            Some(b) => ("200 OK", b),
            None => ("503 Service Unavailable", "the charm has not written its metrics yet\n".to_string()),
        },
        _ => ("404 Not Found", "only GET /metrics\n".to_string()),
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{content}",
        content.len()
    )
}

/// Entry point: serves until killed; returns an exit code when it cannot listen.
pub fn main(args: &[String]) -> i32 {
    let parsed = match parse_args(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("metrics-serve: {e}");
            return 2;
        }
    };
    let listener = match TcpListener::bind(&parsed.listen) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("metrics-serve: cannot listen on {}: {e}", parsed.listen);
            return 1;
        }
    };
    // A failed accept (a client that went away) is skipped.
    for mut stream in listener.incoming().flatten() {
        let _ = answer(&mut stream, &parsed.file);
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_parsed_and_bad_ones_refused() {
        let args: Vec<String> =
            ["dispatch", "metrics-serve", "--listen", "127.0.0.1:9122", "--file", "/m.prom"]
                .map(String::from)
                .into();
        assert_eq!(
            parse_args(&args).unwrap(),
            ServeArgs { listen: "127.0.0.1:9122".into(), file: PathBuf::from("/m.prom") }
        );
        let no_file: Vec<String> = ["metrics-serve", "--listen", "x"].map(String::from).into();
        assert_eq!(parse_args(&no_file).unwrap_err(), "--file is required");
        let odd: Vec<String> = ["metrics-serve", "--port", "1"].map(String::from).into();
        assert!(parse_args(&odd).unwrap_err().contains("--port"));
    }

    #[test]
    fn the_body_is_the_file_plus_its_age() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("m.prom");
        assert_eq!(body(&file, SystemTime::now()), None, "no file yet");
        std::fs::write(&file, "valkey_charm_started 1\n").unwrap();
        let later = SystemTime::now() + Duration::from_secs(90);
        let text = body(&file, later).unwrap();
        assert!(text.starts_with("valkey_charm_started 1\n# HELP valkey_charm_metrics_file_age_seconds"));
        let age: f64 = text.lines().last().unwrap().rsplit(' ').next().unwrap().parse().unwrap();
        assert!((89.0..=91.0).contains(&age), "{age}");
    }
}

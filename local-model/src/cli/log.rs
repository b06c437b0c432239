//! `debug-log`: prints the model's log (hook output, juju-log lines, hook failures), optionally
//! following it until interrupted.

use super::Result;
use crate::model::home::Home;
use clap::Args;
use std::io::{Read, Seek, SeekFrom, Write};
use std::time::Duration;

/// Arguments of `debug-log`.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// Start from the beginning of the log.
    #[arg(long)]
    pub replay: bool,
    /// Exit at the end of the log instead of following it.
    #[arg(long)]
    pub no_tail: bool,
    /// Only lines of these units (repeatable).
    #[arg(long)]
    pub include: Vec<String>,
    /// Show this many lines from the end (default 10, all with --replay).
    #[arg(short = 'n', long = "lines")]
    pub lines: Option<usize>,
    /// Exit once this many lines were shown (Juju's `--limit`; implies `--no-tail`).
    #[arg(long)]
    pub limit: Option<usize>,
}

fn wanted(line: &str, include: &[String]) -> bool {
    include.is_empty()
        || include.iter().any(|u| {
            // Juju also accepts the tag form `unit-valkey-0`.
            let unit = match u.strip_prefix("unit-").and_then(|s| s.rsplit_once('-')) {
                Some((app, n)) => format!("{app}/{n}"),
                None => u.clone(),
            };
            line.split(' ').nth(1) == Some(unit.as_str())
        })
}

/// Runs `debug-log`.
pub fn debug_log(home: &Home, model: &str, args: LogArgs) -> Result<()> {
    let store = home.open(model)?;
    let path = store.log_path();
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| wanted(l, &args.include)).collect();
    let keep = match (args.lines, args.replay) {
        (Some(n), _) => n,
        (None, true) => lines.len(),
        (None, false) => 10,
    };
    let mut out = std::io::stdout().lock();
    let shown = &lines[lines.len().saturating_sub(keep)..];
    // Juju's `--limit N` stops after N lines, counted from where the log output starts
    // (`cmd/juju/commands/debuglog.go`: the API closes the stream after N records).
    let shown = match args.limit {
        Some(limit) => &shown[..shown.len().min(limit)],
        None => shown,
    };
    for line in shown {
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
    if args.no_tail || args.limit.is_some() {
        return Ok(());
    }
    let mut offset = text.len() as u64;
    let mut partial = String::new();
    while store.state_path().exists() {
        std::thread::sleep(Duration::from_millis(200));
        let Ok(mut f) = std::fs::File::open(&path) else { continue };
        if f.seek(SeekFrom::Start(offset)).is_err() {
            continue;
        }
        let mut chunk = String::new();
        if let Ok(n) = f.read_to_string(&mut chunk) {
            offset += n as u64;
            partial.push_str(&chunk);
            while let Some(i) = partial.find('\n') {
                let line: String = partial.drain(..=i).collect();
                if wanted(line.trim_end(), &args.include) {
                    let _ = write!(out, "{line}");
                }
            }
            let _ = out.flush();
        }
    }
    Ok(())
}

//! Hook resource accounting: for every finished hook, action or exec command, the agent appends
//! one JSON line to `<model>/hook-timings.jsonl` with its wall time and the peak resident memory
//! of the hook process itself (from `wait4`, so it is the hook, not the agent or the model).
//!
//! The records are what a benchmark compares between charms (hook latency and memory); the
//! `juju-local hook-timings` command prints them. Appends use `O_APPEND` and one `write` per line,
//! so units finishing at once never interleave their records.

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// File name of the timings log inside the model directory.
pub const FILE_NAME: &str = "hook-timings.jsonl";

/// One finished event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HookTiming {
    /// Unit that ran it (`valkey/0`).
    pub unit: String,
    /// Hook name, action name, or `exec` for a `juju-exec` command.
    pub event: String,
    /// `hook`, `action` or `exec`, so hooks can be compared without operations in the way.
    pub kind: String,
    /// Wall time from spawn to exit as the agent saw it, in milliseconds.
    pub wall_ms: f64,
    /// Peak resident set size of the hook process (`ru_maxrss`), in KiB; 0 when it never started.
    pub max_rss_kib: u64,
    /// Exit code; `None` when it was killed (timeout) or could not start.
    pub rc: Option<i32>,
    /// When it finished (unix seconds).
    pub at: f64,
}

/// Path of the timings log of the model in `model_dir`.
pub fn path(model_dir: &Path) -> PathBuf {
    model_dir.join(FILE_NAME)
}

/// Appends one record as a JSON line (best effort: accounting must never fail a hook).
pub fn append(model_dir: &Path, record: &HookTiming) {
    let mut line = serde_json::to_string(record).expect("timing serialises");
    line.push('\n');
    let file = std::fs::OpenOptions::new().create(true).append(true).open(path(model_dir));
    if let Ok(mut file) = file {
        let _ = file.write_all(line.as_bytes());
    }
}

/// Parses the log's text; lines that do not parse (a torn last line) are skipped.
pub fn parse(text: &str) -> Vec<HookTiming> {
    text.lines().filter_map(|line| serde_json::from_str(line).ok()).collect()
}

/// Reads every record of the model in `model_dir` (none if nothing ran yet).
pub fn read(model_dir: &Path) -> Vec<HookTiming> {
    std::fs::read_to_string(path(model_dir)).map(|t| parse(&t)).unwrap_or_default()
}

/// Keeps the records of `unit` and `event` (each filter only when given).
pub fn select(records: Vec<HookTiming>, unit: Option<&str>, event: Option<&str>) -> Vec<HookTiming> {
    records
        .into_iter()
        .filter(|r| unit.is_none_or(|u| r.unit == u))
        .filter(|r| event.is_none_or(|e| r.event == e))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(unit: &str, event: &str) -> HookTiming {
        HookTiming {
            unit: unit.into(),
            event: event.into(),
            kind: "hook".into(),
            wall_ms: 4.2,
            max_rss_kib: 3120,
            rc: Some(0),
            at: 1.0,
        }
    }

    #[test]
    fn records_round_trip_and_filter() {
        let dir = tempfile::tempdir().unwrap();
        append(dir.path(), &record("a/0", "install"));
        append(dir.path(), &record("a/1", "install"));
        append(dir.path(), &record("a/1", "start"));
        let all = read(dir.path());
        assert_eq!(all.len(), 3);
        assert_eq!(all[0], record("a/0", "install"));
        assert_eq!(select(all.clone(), Some("a/1"), None).len(), 2);
        assert_eq!(select(all.clone(), None, Some("install")).len(), 2);
        assert_eq!(select(all, Some("a/1"), Some("start")), vec![record("a/1", "start")]);
    }

    #[test]
    fn a_torn_line_is_skipped() {
        let line = serde_json::to_string(&record("a/0", "install")).unwrap();
        let parsed = parse(&format!("{line}\n{{\"unit\":\"a/"));
        assert_eq!(parsed.len(), 1);
    }
}

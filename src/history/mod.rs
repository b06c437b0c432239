//! Failover history: every change of primary this unit's Sentinel saw, automatic or manual.
//!
//! *Where it comes from.* Sentinel already writes each failover's events to its log with
//! millisecond timestamps, on every unit; the history is read back from there on demand (the
//! `failover-history` action, the `primary-changed` hook) instead of being kept in a second place
//! that could disagree. A failover starts, as far as clients are concerned, when the primary last
//! answered: Sentinel logs `+sdown master` exactly down-after-milliseconds after that, so an
//! automatic failover's duration is `+switch-master` − `+sdown` + down-after. That bounds the
//! write outage clients saw from above: Sentinel pings once a second, so the last answer it saw
//! may precede the fault by up to 1 s (measured: history 6.4 s where the probe saw 5.4 s of
//! unavailability). A `+switch-master` with no
//! `+sdown` before it was requested (the `failover` action, a leaving primary): its duration is
//! the one the switchover measured and recorded beside the log ([`record_switchover`]), or from
//! `+try-failover` when this unit's Sentinel led it.
//!
//! Times: Sentinel logs the machine's local wall time (`22 Nov 2026 05:36:42.371`); a record
//! keeps it as UTC milliseconds since the epoch ([`Failover::at_ms`]), the sort and merge key on
//! every unit whatever its time zone, and local time is formatted only for display ([`clock`]).
//! Records written before carried only the local-time text; they still read ([`Record`]).
//! Parsing is pure and tested on captured log lines.

pub mod clock;
pub mod names;
pub mod shared;

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// How a failover came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Sentinel found the primary down and replaced it.
    Automatic,
    /// Requested: the `failover` action or a leaving primary's hand-over.
    Switchover,
}

/// One change of primary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Record", into = "Record")]
pub struct Failover {
    /// When Sentinel switched (`+switch-master`): UTC milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// The primary before (host as announced; the action maps it to a unit name).
    pub old_primary: String,
    /// The primary after.
    pub new_primary: String,
    /// Automatic or requested.
    pub kind: Kind,
    /// Automatic: from the old primary's last answer to Sentinel to the switch (an upper bound,
    /// within 1 s, of the outage clients saw).
    /// Switchover: as measured by the switchover. `None` when nothing measured it.
    pub duration_ms: Option<u64>,
}

impl Failover {
    /// When it happened, as this machine's local wall time (`YYYY-MM-DD HH:MM:SS.mmm`).
    pub fn local_time(&self) -> String {
        clock::display(self.at_ms)
    }
}

/// A [`Failover`] as stored (switchovers file, peer data, the action's JSON): `at_ms` is the key;
/// `time`, the local wall time, is written for people and for units on older revisions, and read
/// only from records that predate `at_ms` (as this machine's local time).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// UTC milliseconds since the epoch (absent in old records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_ms: Option<i64>,
    /// Local wall time, `YYYY-MM-DD HH:MM:SS.mmm`.
    #[serde(default)]
    pub time: String,
    /// See [`Failover`].
    pub old_primary: String,
    /// See [`Failover`].
    pub new_primary: String,
    /// See [`Failover`].
    pub kind: Kind,
    /// See [`Failover`].
    pub duration_ms: Option<u64>,
}

impl TryFrom<Record> for Failover {
    type Error = String;

    fn try_from(r: Record) -> Result<Self, String> {
        let at_ms = match r.at_ms {
            Some(ms) => ms,
            None => clock::local_to_utc_ms(clock::naive_ms(&r.time).ok_or("a record without a time")?),
        };
        let Record { old_primary, new_primary, kind, duration_ms, .. } = r;
        Ok(Failover { at_ms, old_primary, new_primary, kind, duration_ms })
    }
}

impl From<Failover> for Record {
    fn from(f: Failover) -> Self {
        Record {
            at_ms: Some(f.at_ms),
            time: f.local_time(),
            old_primary: f.old_primary,
            new_primary: f.new_primary,
            kind: f.kind,
            duration_ms: f.duration_ms,
        }
    }
}

/// One parsed Sentinel log line: milliseconds on a naive local clock, the event, its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Line<'a> {
    /// Local wall time in ms since 1970-01-01 00:00, as if it were UTC ([`clock::naive_ms`]).
    ms: i64,
    /// `+sdown`, `+switch-master`, ...
    event: &'a str,
    /// The rest of the line, split on spaces.
    args: Vec<&'a str>,
}

const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// Parses `31585:X 22 Nov 2026 05:36:41.335 # +switch-master primary 127.0.1.2 6379 ...`.
fn parse_line(line: &str) -> Option<Line<'_>> {
    let mut words = line.split_whitespace();
    let _pid_role = words.next()?;
    let day: i64 = words.next()?.parse().ok()?;
    let month = MONTHS.iter().position(|m| Some(*m) == words.clone().next())? as i64 + 1;
    words.next();
    let year: i64 = words.next()?.parse().ok()?;
    let clock = words.next()?;
    let (hms, millis) = clock.split_once('.')?;
    let mut hms_parts = hms.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m, s) = (hms_parts.next()??, hms_parts.next()??, hms_parts.next()??);
    let millis: i64 = millis.parse().ok()?;
    let _level = words.next()?;
    let event = words.next()?;
    let ms = (clock::days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + s) * 1000 + millis;
    Some(Line { ms, event, args: words.collect() })
}

/// The failovers in a Sentinel log of monitor `name`, oldest first. `down_after_ms` is the
/// monitor's down-after-milliseconds (the gap between the primary's last answer and `+sdown`).
pub fn from_sentinel_log(text: &str, name: &str, down_after_ms: u64) -> Vec<Failover> {
    let mut out = Vec::new();
    // The first +sdown / +try-failover of the primary since the last switch.
    let (mut sdown, mut tried): (Option<i64>, Option<i64>) = (None, None);
    for line in text.lines().filter_map(parse_line) {
        let about_primary = line.args.first() == Some(&"master") && line.args.get(1) == Some(&name);
        match line.event {
            "+sdown" if about_primary => sdown = sdown.or(Some(line.ms)),
            "-sdown" if about_primary => sdown = None,
            "+try-failover" if about_primary => tried = tried.or(Some(line.ms)),
            "+switch-master" if line.args.first() == Some(&name) && line.args.len() >= 5 => {
                let (kind, duration_ms) = match (sdown, tried) {
                    (Some(t), _) => (Kind::Automatic, Some((line.ms - t).max(0) as u64 + down_after_ms)),
                    (None, Some(t)) => (Kind::Switchover, Some((line.ms - t).max(0) as u64)),
                    (None, None) => (Kind::Switchover, None),
                };
                out.push(Failover {
                    at_ms: clock::local_to_utc_ms(line.ms),
                    old_primary: line.args[1].to_string(),
                    new_primary: line.args[3].to_string(),
                    kind,
                    duration_ms,
                });
                (sdown, tried) = (None, None);
            }
            _ => {}
        }
    }
    out
}

/// Where switchovers run on this unit are recorded (one JSON [`Failover`] per line).
pub fn switchovers_path(etc_dir: &Path) -> PathBuf {
    etc_dir.join("switchovers.jsonl")
}

/// Records a switchover this unit ran, with the duration it measured.
pub fn record_switchover(etc_dir: &Path, record: &Failover) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(switchovers_path(etc_dir))?;
    let line = serde_json::to_string(record).map_err(std::io::Error::other)?;
    writeln!(file, "{line}")
}

/// Reads the recorded switchovers; unreadable lines are skipped (a torn write loses one entry,
/// not the history).
pub fn recorded_switchovers(etc_dir: &Path) -> Vec<Failover> {
    std::fs::read_to_string(switchovers_path(etc_dir))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// How far apart a logged switch and a recorded switchover may be and still be the same one: a
/// switchover is recorded when its Sentinel names the new primary, which may come a little before
/// a Sentinel logs `+switch-master` (the leading one logs it after re-pointing the other replicas,
/// about one INFO period later) — [`SAME_SWITCH_BEFORE_MS`] — or after it, a leaving primary
/// recording only once the failover ended.
const SAME_SWITCH_MS: i64 = 30_000;
/// How much earlier than the logged `+switch-master` the record of the same switchover may be.
const SAME_SWITCH_BEFORE_MS: i64 = 5_000;

/// The log's failovers with the durations of recorded switchovers filled in: a requested switch
/// in the log takes the measured duration of the recorded switchover to the same new primary
/// recorded from [`SAME_SWITCH_BEFORE_MS`] before it to [`SAME_SWITCH_MS`] after it. Recorded
/// switchovers the log lacks (a rotated log) are kept too. Sorted by time.
pub fn merge(mut logged: Vec<Failover>, recorded: Vec<Failover>) -> Vec<Failover> {
    let mut unmatched = Vec::new();
    for r in recorded {
        let same = logged.iter_mut().find(|l| {
            l.kind == Kind::Switchover
                && l.new_primary == r.new_primary
                && (-SAME_SWITCH_BEFORE_MS..=SAME_SWITCH_MS).contains(&(r.at_ms - l.at_ms))
        });
        match same {
            Some(l) => l.duration_ms = r.duration_ms.or(l.duration_ms),
            None => unmatched.push(r),
        }
    }
    logged.extend(unmatched);
    logged.sort_by_key(|f| f.at_ms);
    logged
}

/// The status note for the most recent failover, while it is recent (`now_ms` within
/// `window_ms`): `last failover 05:36:42 valkey/0→valkey/1 in 6.2 s` (local wall time). `name`
/// maps hosts to unit names.
pub fn status_note(
    history: &[Failover],
    now_ms: i64,
    window_ms: i64,
    name: impl Fn(&str) -> String,
) -> Option<String> {
    let last = history.last()?;
    if !(0..=window_ms).contains(&(now_ms - last.at_ms)) {
        return None;
    }
    let time = last.local_time();
    let clock = time.split(' ').nth(1)?.split('.').next()?;
    let took = last.duration_ms.map(|d| format!(" in {:.1} s", d as f64 / 1000.0)).unwrap_or_default();
    Some(format!("last failover {clock} {}→{}{took}", name(&last.old_primary), name(&last.new_primary)))
}

/// How much of the end of the Sentinel log the status reads: a recent failover's lines are near
/// the end, and reading a bounded tail keeps every hook cheap however long the log grew.
const STATUS_TAIL_BYTES: u64 = 64 * 1024;
/// How long the status mentions the last failover.
pub const STATUS_WINDOW_MS: i64 = 10 * 60 * 1000;

/// The status note for a failover in the last [`STATUS_WINDOW_MS`], read from the tail of the
/// Sentinel log at `log` merged with the `recorded` switchovers (none when the log is missing or
/// holds no recent failover).
pub fn recent_note(
    log: &Path,
    name: &str,
    down_after_ms: u64,
    recorded: Vec<Failover>,
    unit: impl Fn(&str) -> String,
) -> Option<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(log).ok()?;
    let len = file.metadata().ok()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(STATUS_TAIL_BYTES))).ok()?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail).ok()?;
    // The first line may be cut: it simply fails to parse.
    let history = merge(from_sentinel_log(&String::from_utf8_lossy(&tail), name, down_after_ms), recorded);
    status_note(&history, clock::now_ms(), STATUS_WINDOW_MS, unit)
}

/// `last failover 05:36:42 valkey/0→valkey/1 in 7.2 s` for [`STATUS_WINDOW_MS`] after a
/// failover, from the tail of this unit's Sentinel log, with hosts named by unit (the leader
/// appends it to the application status).
pub fn last_failover_note(o: &crate::observe::Observed) -> Option<String> {
    let log = crate::workload::Paths::new(o.storage.clone()?).sentinel_log();
    let down_after = o.config.as_ref().map(|c| u64::from(c.down_after_ms)).unwrap_or_default();
    let recorded = o.known_switchovers();
    recent_note(&log, crate::workload::MONITOR_NAME, down_after, recorded, |h| {
        o.unit_at(h).unwrap_or(h).to_string()
    })
}

#[cfg(test)]
mod tests;

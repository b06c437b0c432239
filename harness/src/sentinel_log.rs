//! Reading Sentinel's log into a failover timeline: `+sdown`, `+odown`, `+elected-leader`,
//! `+selected-slave`, `+promoted-slave`, `+switch-master`, ..., with times relative to the fault.
//!
//! Valkey logs `pid:X 22 Nov 2026 04:34:36.123 # +sdown master primary 127.0.0.2 6379` in local
//! time; we compare naive local timestamps, converting the fault's wall-clock time the same way.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The events a failover timeline shows: the steps in the order they normally happen, then the
/// failures that explain a slow run (no eligible replica, lost election, a retry after
/// 2 × failover-timeout, a reset in the middle).
pub const FAILOVER_EVENTS: &[&str] = &[
    "+sdown",
    "+odown",
    "+try-failover",
    "+elected-leader",
    "+selected-slave",
    "+promoted-slave",
    "+switch-master",
    "-failover-abort-no-good-slave",
    "-failover-abort-not-elected",
    "-failover-abort-slave-timeout",
    "+failover-end-for-timeout",
    // A `SENTINEL RESET` forgets replicas; during a failover it makes the failover abort.
    "+reset-master",
];

/// One Sentinel event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SentinelEvent {
    /// Naive local time of the line, in milliseconds since the epoch.
    pub local_ms: i64,
    /// The event name, e.g. `+odown`.
    pub name: String,
    /// The rest of the line.
    pub detail: String,
}

/// Parses one log line; `None` for lines that are not `+`/`-` events or lack a timestamp.
pub fn parse_line(line: &str) -> Option<SentinelEvent> {
    // "<pid>:<role> <dd> <Mon> <yyyy> <hh:mm:ss.mmm> <level> <message>"
    let mut parts = line.splitn(7, ' ');
    let _pid_role = parts.next()?;
    let day: u32 = parts.next()?.parse().ok()?;
    let month = month_number(parts.next()?)?;
    let year: i64 = parts.next()?.parse().ok()?;
    let clock = parts.next()?;
    let _level = parts.next()?;
    let message = parts.next()?;
    let (name, detail) = message.split_once(' ').unwrap_or((message, ""));
    if !(name.starts_with('+') || name.starts_with('-')) {
        return None;
    }
    let (hms, millis) = clock.split_once('.')?;
    let mut hms = hms.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    let millis: i64 = millis.parse().ok()?;
    let days = days_from_civil(year, month, day);
    let local_ms = ((days * 24 + h) * 60 + m) * 60_000 + s * 1000 + millis;
    Some(SentinelEvent { local_ms, name: name.to_string(), detail: detail.to_string() })
}

/// Every event in a log text.
pub fn parse_log(text: &str) -> Vec<SentinelEvent> {
    text.lines().filter_map(parse_line).collect()
}

/// `time` as naive local milliseconds since the epoch (the clock Valkey's log uses).
pub fn local_ms(time: SystemTime) -> i64 {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let secs = since.as_secs() as libc::time_t;
    // SAFETY: localtime_r writes only into the tm we pass; both pointers are valid for the call.
    let offset_secs = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&secs, &mut tm).is_null() {
            0
        } else {
            tm.tm_gmtoff
        }
    };
    since.as_millis() as i64 + offset_secs * 1000
}

/// Events named in [`FAILOVER_EVENTS`] at or after `fault_local_ms`, each with its time relative to
/// the fault, first occurrence per name, in time order.
pub fn timeline(events: &[SentinelEvent], fault_local_ms: i64) -> Vec<(String, Duration)> {
    let mut seen = Vec::new();
    let mut sorted: Vec<&SentinelEvent> = events
        .iter()
        .filter(|e| e.local_ms >= fault_local_ms && FAILOVER_EVENTS.contains(&e.name.as_str()))
        .collect();
    sorted.sort_by_key(|e| e.local_ms);
    for event in sorted {
        if seen.iter().any(|(name, _)| name == &event.name) {
            continue;
        }
        let after = Duration::from_millis((event.local_ms - fault_local_ms) as u64);
        seen.push((event.name.clone(), after));
    }
    seen
}

fn month_number(name: &str) -> Option<u32> {
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    MONTHS.iter().position(|m| *m == name).map(|i| i as u32 + 1)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's civil-days algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days_match_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2026, 11, 22), 20_779);
    }

    #[test]
    fn event_line_is_parsed() {
        let event =
            parse_line("4242:X 22 Nov 2026 04:34:36.123 # +sdown master primary 127.0.0.2 6379").unwrap();
        assert_eq!(event.name, "+sdown");
        assert_eq!(event.detail, "master primary 127.0.0.2 6379");
        assert_eq!(event.local_ms, 20_779 * 86_400_000 + ((4 * 60 + 34) * 60 + 36) * 1000 + 123);
    }

    #[test]
    fn non_event_lines_are_skipped() {
        assert!(parse_line("4242:X 22 Nov 2026 04:34:36.123 * Sentinel ID is abc").is_none());
        assert!(parse_line("garbage").is_none());
    }

    #[test]
    fn timeline_is_relative_to_the_fault_and_keeps_first_occurrences() {
        let log = "1:X 22 Nov 2026 00:00:00.500 # +sdown sentinel old\n\
                   1:X 22 Nov 2026 00:00:02.000 # +sdown master primary a 1\n\
                   1:X 22 Nov 2026 00:00:02.100 # +odown master primary a 1\n\
                   1:X 22 Nov 2026 00:00:02.900 # -failover-abort-no-good-slave master primary a 1\n\
                   1:X 22 Nov 2026 00:00:03.000 # +sdown slave b\n\
                   1:X 22 Nov 2026 00:00:03.200 # +switch-master primary a 1 b 1\n";
        let fault = days_from_civil(2026, 11, 22) * 86_400_000 + 1000;
        let line = timeline(&parse_log(log), fault);
        let names: Vec<&str> = line.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["+sdown", "+odown", "-failover-abort-no-good-slave", "+switch-master"]);
        assert_eq!(line[0].1, Duration::from_millis(1000));
        assert_eq!(line[3].1, Duration::from_millis(2200));
    }

    #[test]
    fn local_time_is_within_a_day_of_utc() {
        let now = SystemTime::now();
        let utc = now.duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;
        assert!((local_ms(now) - utc).abs() <= 14 * 3_600_000);
    }
}

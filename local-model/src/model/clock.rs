//! Wall-clock time: unix seconds for the state file, Juju's `22 Nov 2026 04:34:32Z` for status.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now as fractional unix seconds.
pub fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or_default()
}

/// Formats unix seconds the way `juju status` prints `since` (UTC): `22 Nov 2026 04:34:32Z`.
pub fn juju_time(secs: f64) -> String {
    let (y, mo, d, h, mi, s) = civil(secs);
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!("{d:02} {} {y} {h:02}:{mi:02}:{s:02}Z", MONTHS[(mo - 1) as usize])
}

/// Formats unix seconds as RFC 3339 UTC (`2026-11-22T04:34:32Z`), as in action timings.
pub fn rfc3339(secs: f64) -> String {
    let (y, mo, d, h, mi, s) = civil(secs);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// Formats unix seconds as Juju prints action timings: `2026-11-22 04:34:32 +0000 UTC`.
pub fn juju_timing(secs: f64) -> String {
    let (y, mo, d, h, mi, s) = civil(secs);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02} +0000 UTC")
}

/// Splits unix seconds into (year, month, day, hour, minute, second), UTC.
fn civil(secs: f64) -> (i64, u32, u32, u32, u32, u32) {
    let secs = secs.max(0.0) as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Days to civil date (proleptic Gregorian), after H. Hinnant's public-domain algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, (rem / 3600) as u32, (rem % 3600 / 60) as u32, (rem % 60) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_juju() {
        assert_eq!(juju_time(1_795_322_072.5), "22 Nov 2026 04:34:32Z");
        assert_eq!(rfc3339(0.0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400.0), "2000-02-29T00:00:00Z");
    }
}

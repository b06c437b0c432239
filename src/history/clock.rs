//! Time for the failover history: records are keyed in UTC milliseconds since the Unix epoch, so
//! they sort and merge the same way on every unit whatever its time zone; Sentinel logs local
//! wall time, converted here once when a line is read; local time is formatted only for display.

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    now.as_millis() as i64
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// Milliseconds of a naive wall-clock time (`YYYY-MM-DD HH:MM:SS.mmm`) counted as if it were UTC.
pub fn naive_ms(time: &str) -> Option<i64> {
    let (date, clock) = time.split_once(' ')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, mo, da) = (d.next()??, d.next()??, d.next()??);
    let (hms, millis) = clock.split_once('.')?;
    let mut c = hms.split(':').map(|p| p.parse::<i64>().ok());
    let (h, mi, s) = (c.next()??, c.next()??, c.next()??);
    Some((days_from_civil(y, mo, da) * 86_400 + h * 3600 + mi * 60 + s) * 1000 + millis.parse::<i64>().ok()?)
}

/// The UTC epoch milliseconds of a naive local wall-clock time in this machine's time zone (as
/// Sentinel logs it), daylight saving time included.
// mktime has no safe std equivalent (SAFETY below).
#[allow(unsafe_code)]
pub fn local_to_utc_ms(naive: i64) -> i64 {
    let (secs, millis) = (naive.div_euclid(1000), naive.rem_euclid(1000));
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    // SAFETY: mktime reads and normalises only the zeroed struct we pass, a valid pointer.
    let utc = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        tm.tm_year = (y - 1900) as libc::c_int;
        tm.tm_mon = (m - 1) as libc::c_int;
        tm.tm_mday = d as libc::c_int;
        tm.tm_hour = (rest / 3600) as libc::c_int;
        tm.tm_min = (rest / 60 % 60) as libc::c_int;
        tm.tm_sec = (rest % 60) as libc::c_int;
        tm.tm_isdst = -1;
        libc::mktime(&mut tm)
    };
    if utc == -1 {
        return naive; // Out of the C library's range: keep the wall clock rather than nothing.
    }
    utc as i64 * 1000 + millis
}

/// A UTC epoch time as this machine's local wall time, `YYYY-MM-DD HH:MM:SS.mmm` (for display).
// localtime_r has no safe std equivalent (SAFETY below).
#[allow(unsafe_code)]
pub fn display(at_ms: i64) -> String {
    let secs = at_ms.div_euclid(1000) as libc::time_t;
    // SAFETY: localtime_r writes only into the zeroed struct we pass; both pointers are valid.
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&secs, &mut tm);
        tm
    };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        at_ms.rem_euclid(1000)
    )
}

/// The civil date of a day count since 1970-01-01 (the inverse of [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

/// Test support: runs `body` with the process's time zone set to the POSIX `tz` (such as `UTC0`
/// or `JST-9`), one test at a time.
#[cfg(test)]
pub fn in_zone<T>(tz: &str, body: impl FnOnce() -> T) -> T {
    static ZONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    extern "C" {
        fn tzset();
    }
    let _one = ZONE.lock().unwrap_or_else(|e| e.into_inner());
    std::env::set_var("TZ", tz);
    // SAFETY: tzset only re-reads TZ; the lock keeps other zone-setting tests out meanwhile.
    #[allow(unsafe_code)]
    unsafe {
        tzset()
    };
    body()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_round_trip() {
        for days in [-1, 0, 59, 365, 10_957, 20_779, 100_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(naive_ms("1970-01-02 00:00:01.250"), Some(86_401_250));
        assert_eq!(naive_ms("not a time"), None);
    }

    #[test]
    fn local_wall_time_converts_to_utc_by_the_zone() {
        let naive = naive_ms("2026-11-22 05:36:42.371").unwrap();
        assert_eq!(in_zone("UTC0", || local_to_utc_ms(naive)), naive);
        // Tokyo is 9 h ahead: the same wall clock there is 9 h earlier in UTC.
        assert_eq!(in_zone("JST-9", || local_to_utc_ms(naive)), naive - 9 * 3_600_000);
        // New York in November: EST, 5 h behind.
        assert_eq!(in_zone("EST5EDT,M3.2.0,M11.1.0", || local_to_utc_ms(naive)), naive + 5 * 3_600_000);
        assert_eq!(in_zone("JST-9", || display(naive - 9 * 3_600_000)), "2026-11-22 05:36:42.371");
        assert_eq!(in_zone("UTC0", || display(naive)), "2026-11-22 05:36:42.371");
    }
}

//! History parsing on captured Sentinel log lines (Valkey 9.1.2, local model, 3 units).

use super::clock::{in_zone, naive_ms, now_ms};
use super::*;

/// UTC ms of a wall-clock time (the tests' logs are read in UTC unless they say otherwise).
fn utc(time: &str) -> i64 {
    naive_ms(time).unwrap()
}

/// A frozen primary (down-after 5000), as the failover leader's Sentinel logged it.
const AUTOMATIC: &str = "\
32277:X 22 Nov 2026 05:36:21.128 * +slave slave 127.0.1.4:6379 127.0.1.4 6379 @ primary 127.0.1.2 6379
32277:X 22 Nov 2026 05:36:40.197 # +sdown master primary 127.0.1.2 6379
32277:X 22 Nov 2026 05:36:40.256 # +odown master primary 127.0.1.2 6379 #quorum 2/2
32277:X 22 Nov 2026 05:36:40.256 # +new-epoch 1
32277:X 22 Nov 2026 05:36:40.256 # +try-failover master primary 127.0.1.2 6379
32277:X 22 Nov 2026 05:36:40.321 # +elected-leader master primary 127.0.1.2 6379
32277:X 22 Nov 2026 05:36:42.371 # +failover-end master primary 127.0.1.2 6379
32277:X 22 Nov 2026 05:36:42.371 # +switch-master primary 127.0.1.2 6379 127.0.1.3 6379
32277:X 22 Nov 2026 05:36:47.432 # +sdown slave 127.0.1.2:6379 127.0.1.2 6379 @ primary 127.0.1.3 6379
";

/// A requested switch as a Sentinel that did not lead it logs it, then a false alarm.
const REQUESTED: &str = "\
31585:X 22 Nov 2026 23:59:59.900 # +config-update-from sentinel bd96 127.0.1.4 26379 @ primary 127.0.1.3 6379
31585:X 23 Nov 2026 00:00:00.100 # +switch-master primary 127.0.1.3 6379 127.0.1.4 6379
31585:X 23 Nov 2026 00:01:00.000 # +sdown master primary 127.0.1.4 6379
31585:X 23 Nov 2026 00:01:00.500 # -sdown master primary 127.0.1.4 6379
";

#[test]
fn an_automatic_failover_lasts_from_the_last_answer_to_the_switch() {
    let h = in_zone("UTC0", || from_sentinel_log(AUTOMATIC, "primary", 5000));
    assert_eq!(
        h,
        vec![Failover {
            at_ms: utc("2026-11-22 05:36:42.371"),
            old_primary: "127.0.1.2".into(),
            new_primary: "127.0.1.3".into(),
            kind: Kind::Automatic,
            duration_ms: Some(2174 + 5000),
        }]
    );
}

#[test]
fn a_requested_switch_has_no_sdown_and_a_false_alarm_is_no_failover() {
    let h = in_zone("UTC0", || from_sentinel_log(REQUESTED, "primary", 5000));
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!((h[0].kind, h[0].duration_ms), (Kind::Switchover, None));
    assert_eq!(h[0].at_ms, utc("2026-11-23 00:00:00.100"));
    // The leader of a requested switch logs +try-failover: its duration counts from there.
    let led = "1:X 22 Nov 2026 10:00:00.000 # +try-failover master primary 10.0.0.1 6379\n\
               1:X 22 Nov 2026 10:00:01.250 # +switch-master primary 10.0.0.1 6379 10.0.0.2 6379\n";
    assert_eq!(from_sentinel_log(led, "primary", 5000)[0].duration_ms, Some(1250));
}

#[test]
fn other_monitors_and_garbage_are_ignored() {
    let text = "garbage\n\n1:X 22 Nov 2026 10:00:00.000 # +sdown master other 10.0.0.1 6379\n\
                1:X 22 Nov 2026 10:00:01.000 # +switch-master other 10.0.0.1 6379 10.0.0.2 6379\n\
                1:X 99 Foo 2026 10:00:01.000 # +switch-master primary 10.0.0.1 6379 10.0.0.2 6379\n";
    assert!(from_sentinel_log(text, "primary", 5000).is_empty());
}

#[test]
fn recorded_switchovers_give_their_measured_duration() {
    let logged = in_zone("UTC0", || from_sentinel_log(REQUESTED, "primary", 5000));
    let recorded = |time: &str, new: &str| Failover {
        at_ms: utc(time),
        old_primary: "127.0.1.3".into(),
        new_primary: new.into(),
        kind: Kind::Switchover,
        duration_ms: Some(1100),
    };
    let merged = merge(
        logged.clone(),
        vec![
            recorded("2026-11-23 00:00:01.000", "127.0.1.4"),
            recorded("2026-11-20 00:00:00.000", "127.0.1.9"),
        ],
    );
    assert_eq!(merged.len(), 2, "{merged:?}");
    assert_eq!(merged[0].new_primary, "127.0.1.9", "sorted by time; unmatched records kept");
    assert_eq!(merged[1].duration_ms, Some(1100));
    // The `failover` action records when Sentinel names the new primary: before the leading
    // Sentinel logs +switch-master, which it does after re-pointing the other replicas.
    let early = merge(logged.clone(), vec![recorded("2026-11-22 23:59:59.000", "127.0.1.4")]);
    assert_eq!((early.len(), early[0].duration_ms), (1, Some(1100)), "{early:?}");
    // A record for another node, or long before or after the switch, does not match.
    for (time, new) in [("2026-11-23 00:05:00.000", "127.0.1.4"), ("2026-11-22 23:59:50.000", "127.0.1.4")] {
        let far = merge(logged.clone(), vec![recorded(time, new)]);
        assert_eq!((far.len(), far.iter().any(|f| f.duration_ms.is_none())), (2, true), "{time}");
    }
}

#[test]
fn records_round_trip_through_the_file() {
    let dir = tempfile::tempdir().unwrap();
    assert!(recorded_switchovers(dir.path()).is_empty());
    let r = Failover {
        at_ms: now_ms(),
        old_primary: "a".into(),
        new_primary: "b".into(),
        kind: Kind::Switchover,
        duration_ms: Some(900),
    };
    record_switchover(dir.path(), &r).unwrap();
    std::fs::write(switchovers_path(dir.path()), format!("{}\n{{torn\n", serde_json::to_string(&r).unwrap()))
        .unwrap();
    record_switchover(dir.path(), &r).unwrap();
    assert_eq!(recorded_switchovers(dir.path()), vec![r.clone(), r]);
}

#[test]
fn status_note_is_short_and_only_while_recent() {
    in_zone("UTC0", || {
        let h = from_sentinel_log(AUTOMATIC, "primary", 5000);
        let name =
            |host: &str| format!("valkey/{}", host.rsplit('.').next().unwrap().parse::<u32>().unwrap() - 2);
        assert_eq!(
            status_note(&h, utc("2026-11-22 05:40:00.000"), 600_000, name).as_deref(),
            Some("last failover 05:36:42 valkey/0→valkey/1 in 7.2 s")
        );
        assert_eq!(status_note(&h, utc("2026-11-22 06:00:00.000"), 600_000, name), None, "too old");
        assert_eq!(status_note(&[], utc("2026-11-22 05:40:00.000"), 600_000, name), None);
    });
}

#[test]
fn recent_note_reads_the_log_tail() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("sentinel.log");
    let unit = |h: &str| h.to_string();
    assert_eq!(recent_note(&log, "primary", 5000, Vec::new(), unit), None, "no log yet");
    // A switch logged just now, after more than the tail's worth of other lines.
    let now_at = now_ms();
    let now = clock::display(now_at);
    let (date, clock) = now.split_once(' ').unwrap();
    let mut d = date.split('-');
    let (y, m, day) = (d.next().unwrap(), d.next().unwrap(), d.next().unwrap());
    let month = MONTHS[m.parse::<usize>().unwrap() - 1];
    let stamp = format!("1:X {day} {month} {y} {clock}");
    let filler =
        format!("{stamp} * +slave slave 10.0.0.3:6379 10.0.0.3 6379 @ primary 10.0.0.1 6379\n").repeat(2000);
    let text = format!(
        "{filler}{stamp} # +sdown master primary 10.0.0.1 6379\n{stamp} # +switch-master primary 10.0.0.1 6379 10.0.0.2 6379\n"
    );
    std::fs::write(&log, text).unwrap();
    let clock_s = clock.split('.').next().unwrap();
    assert_eq!(
        recent_note(&log, "primary", 5000, Vec::new(), unit),
        Some(format!("last failover {clock_s} 10.0.0.1→10.0.0.2 in 5.0 s"))
    );
    // A requested switch this unit's Sentinel did not lead: no duration in the log, the one a
    // peer measured and published is used.
    let text = format!("{stamp} # +switch-master primary 10.0.0.2 6379 10.0.0.3 6379\n");
    std::fs::write(&log, text).unwrap();
    let note = |recorded| recent_note(&log, "primary", 5000, recorded, unit);
    assert_eq!(note(Vec::new()), Some(format!("last failover {clock_s} 10.0.0.2→10.0.0.3")));
    let measured = Failover {
        at_ms: now_at,
        old_primary: "10.0.0.2".into(),
        new_primary: "10.0.0.3".into(),
        kind: Kind::Switchover,
        duration_ms: Some(351),
    };
    assert_eq!(note(vec![measured]), Some(format!("last failover {clock_s} 10.0.0.2→10.0.0.3 in 0.4 s")));
}

/// Two units in different time zones log the same instants in different wall times; the
/// records they share sort and merge by the instant.
#[test]
fn records_from_units_in_other_time_zones_sort_by_the_instant() {
    // Tokyo logs a switch at 14:00 local (05:00 UTC); a UTC unit logs one at 06:00 UTC, later,
    // although "06:00" sorts before "14:00" as text.
    let tokyo = "1:X 22 Nov 2026 14:00:00.000 # +switch-master primary 10.0.0.1 6379 10.0.0.2 6379\n";
    let here = "1:X 22 Nov 2026 06:00:00.000 # +switch-master primary 10.0.0.2 6379 10.0.0.3 6379\n";
    let early = in_zone("JST-9", || from_sentinel_log(tokyo, "primary", 5000));
    let late = in_zone("UTC0", || from_sentinel_log(here, "primary", 5000));
    assert_eq!(early[0].at_ms, utc("2026-11-22 05:00:00.000"));
    // As shared through the peer relation (encoded on one unit, parsed on another).
    let shared = shared::parse(&shared::encode(&early));
    let all = shared::union([late.as_slice(), shared.as_slice()]);
    let order: Vec<&str> = all.iter().map(|f| f.new_primary.as_str()).collect();
    assert_eq!(order, ["10.0.0.2", "10.0.0.3"]);
    let merged = merge(late, shared);
    assert_eq!(merged.iter().map(|f| f.new_primary.as_str()).collect::<Vec<_>>(), ["10.0.0.2", "10.0.0.3"]);
}

/// Records written before `at_ms` existed carry only the local wall time: still read, in this
/// machine's zone; new records carry both, and `at_ms` wins.
#[test]
fn old_records_without_at_ms_still_read() {
    let old = r#"{"time":"2026-11-22 05:36:42.371","old_primary":"a","new_primary":"b","kind":"switchover","duration_ms":900}"#;
    let f: Failover = in_zone("JST-9", || serde_json::from_str(old).unwrap());
    assert_eq!(f.at_ms, utc("2026-11-22 05:36:42.371") - 9 * 3_600_000);
    assert_eq!((f.old_primary.as_str(), f.new_primary.as_str(), f.duration_ms), ("a", "b", Some(900)));
    let written = in_zone("UTC0", || serde_json::to_value(&f).unwrap());
    assert_eq!(written["at_ms"], f.at_ms);
    assert_eq!(written["time"], "2026-11-21 20:36:42.371", "display: local wall time");
    // Read back elsewhere (another zone), `at_ms` is the truth, not the text.
    let back: Failover = in_zone("JST-9", || serde_json::from_value(written).unwrap());
    assert_eq!(back, f);
    // A record with neither is malformed: the shared bag reads as none rather than a wrong time.
    let neither = r#"[{"old_primary":"a","new_primary":"b","kind":"switchover","duration_ms":null}]"#;
    assert_eq!(shared::parse(neither), Vec::<Failover>::new());
}

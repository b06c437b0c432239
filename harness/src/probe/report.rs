//! Pure summary of a probe log: how many writes were acknowledged, the longest silence between two
//! acknowledgements, the windows in which writes failed, and which primary took which writes.

use std::collections::BTreeMap;
use std::time::Duration;

use super::ProbeLog;

/// The time between two consecutive acknowledged writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Gap {
    /// When the earlier write was acknowledged.
    #[serde(serialize_with = "crate::duration_ms::one")]
    pub from: Duration,
    /// When the later write was acknowledged.
    #[serde(serialize_with = "crate::duration_ms::one")]
    pub to: Duration,
}

impl Gap {
    /// The gap's length.
    pub fn length(&self) -> Duration {
        self.to.saturating_sub(self.from)
    }
}

/// A stretch during which writes failed: from the last acknowledgement before the first failure to
/// the next acknowledgement (or the end of the run, if writes never came back).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UnavailabilityWindow {
    /// Last acknowledgement before the failures (probe start if there was none).
    #[serde(serialize_with = "crate::duration_ms::one")]
    pub start: Duration,
    /// First acknowledgement after them, or the end of the run.
    #[serde(serialize_with = "crate::duration_ms::one")]
    pub end: Duration,
    /// Whether writes were acknowledged again before the run ended.
    pub recovered: bool,
    /// Failed attempts inside the window.
    pub errors: u64,
}

impl UnavailabilityWindow {
    /// The window's length.
    pub fn length(&self) -> Duration {
        self.end.saturating_sub(self.start)
    }
}

/// Summary of one probe run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// Acknowledged writes.
    pub acknowledged: u64,
    /// Writes applied but not confirmed by `WAIT`.
    pub unconfirmed: u64,
    /// Failed attempts (writes and resolutions).
    pub errors: u64,
    /// Writes refused with `NOREPLICAS` (min-replicas-to-write at work).
    pub noreplicas_count: u64,
    /// Longest time between consecutive acknowledgements.
    pub longest_gap: Option<Gap>,
    /// Every window of failed writes, in order.
    pub unavailability: Vec<UnavailabilityWindow>,
    /// Acknowledged writes per primary address: shows where writes went across a failover.
    pub writes_by_primary: BTreeMap<String, u64>,
    /// How long the probe ran.
    #[serde(serialize_with = "crate::duration_ms::one")]
    pub elapsed: Duration,
}

impl Report {
    /// Summarises a log.
    pub fn from_log(log: &ProbeLog) -> Self {
        let mut writes_by_primary = BTreeMap::new();
        for ack in &log.acks {
            *writes_by_primary.entry(ack.primary.clone()).or_insert(0) += 1;
        }
        let longest_gap =
            log.acks.windows(2).map(|pair| Gap { from: pair[0].at, to: pair[1].at }).max_by_key(Gap::length);
        Self {
            acknowledged: log.acks.len() as u64,
            unconfirmed: log.unconfirmed.len() as u64,
            errors: log.errors.len() as u64,
            noreplicas_count: log.errors.iter().filter(|e| e.code.as_deref() == Some("NOREPLICAS")).count()
                as u64,
            longest_gap,
            unavailability: windows(log),
            writes_by_primary,
            elapsed: log.elapsed,
        }
    }

    /// The first unavailability window that ends after `at` (the window a fault injected at `at`
    /// caused), if any.
    pub fn window_after(&self, at: Duration) -> Option<&UnavailabilityWindow> {
        self.unavailability.iter().find(|w| w.end > at)
    }
}

fn windows(log: &ProbeLog) -> Vec<UnavailabilityWindow> {
    // Merge acks and errors by time; an ack and an error at the same instant: the error first,
    // since an ack can only follow it.
    let mut events: Vec<(Duration, bool)> = log.acks.iter().map(|a| (a.at, true)).collect();
    events.extend(log.errors.iter().map(|e| (e.at, false)));
    events.sort_by_key(|&(at, is_ack)| (at, is_ack));
    let mut result = Vec::new();
    let mut last_ack = Duration::ZERO;
    let mut open: Option<UnavailabilityWindow> = None;
    for (at, is_ack) in events {
        match (is_ack, open.as_mut()) {
            (true, Some(window)) => {
                window.end = at;
                window.recovered = true;
                result.extend(open.take());
                last_ack = at;
            }
            (true, None) => last_ack = at,
            (false, Some(window)) => window.errors += 1,
            (false, None) => {
                open = Some(UnavailabilityWindow { start: last_ack, end: at, recovered: false, errors: 1 })
            }
        }
    }
    if let Some(mut window) = open {
        window.end = log.elapsed.max(window.end);
        result.push(window);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::super::{Ack, ProbeError};
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn ack(seq: u64, at: u64, primary: &str) -> Ack {
        Ack { seq, at: ms(at), primary: primary.into() }
    }

    fn error(at: u64, code: Option<&str>) -> ProbeError {
        ProbeError { at: ms(at), seq: None, code: code.map(str::to_string), message: "x".into() }
    }

    #[test]
    fn failover_shows_one_recovered_window_and_the_longest_gap() {
        let log = ProbeLog {
            run_id: "r".into(),
            acks: vec![ack(1, 10, "a"), ack(2, 20, "a"), ack(5, 2100, "b"), ack(6, 2110, "b")],
            errors: vec![error(25, None), error(40, Some("NOREPLICAS")), error(1000, None)],
            elapsed: ms(2200),
            ..ProbeLog::default()
        };
        let report = Report::from_log(&log);
        assert_eq!(report.acknowledged, 4);
        assert_eq!(report.errors, 3);
        assert_eq!(report.noreplicas_count, 1);
        assert_eq!(report.longest_gap, Some(Gap { from: ms(20), to: ms(2100) }));
        assert_eq!(
            report.unavailability,
            vec![UnavailabilityWindow { start: ms(20), end: ms(2100), recovered: true, errors: 3 }]
        );
        assert_eq!(report.writes_by_primary.get("a"), Some(&2));
        assert_eq!(report.writes_by_primary.get("b"), Some(&2));
        assert_eq!(report.window_after(ms(500)).map(UnavailabilityWindow::length), Some(ms(2080)));
        assert!(report.window_after(ms(2100)).is_none());
    }

    #[test]
    fn unrecovered_window_runs_to_the_end() {
        let log = ProbeLog {
            acks: vec![ack(1, 10, "a")],
            errors: vec![error(30, None)],
            elapsed: ms(500),
            ..ProbeLog::default()
        };
        let report = Report::from_log(&log);
        assert_eq!(
            report.unavailability,
            vec![UnavailabilityWindow { start: ms(10), end: ms(500), recovered: false, errors: 1 }]
        );
        assert_eq!(report.longest_gap, None);
    }

    #[test]
    fn separate_failures_make_separate_windows() {
        let log = ProbeLog {
            acks: vec![ack(1, 10, "a"), ack(2, 50, "a"), ack(3, 90, "a")],
            errors: vec![error(20, None), error(60, None), error(70, None)],
            elapsed: ms(100),
            ..ProbeLog::default()
        };
        let windows = Report::from_log(&log).unavailability;
        assert_eq!(windows.len(), 2);
        assert_eq!((windows[0].start, windows[0].end, windows[0].errors), (ms(10), ms(50), 1));
        assert_eq!((windows[1].start, windows[1].end, windows[1].errors), (ms(50), ms(90), 2));
    }
}

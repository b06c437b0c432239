//! Pure summary of benchmark runs: one row per metric with its median and p95 (nearest rank), and
//! a plain-text table of those rows for the README.

use std::time::Duration;

use super::{RunMeasurement, WriteMeasurement};
use crate::sentinel_log::FAILOVER_EVENTS;
use crate::stats::{median, p95};

/// One metric over all runs.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SummaryRow {
    /// What is measured, with its unit, e.g. `write unavailability (ms)`.
    pub metric: String,
    /// Nearest-rank median; `None` when no run produced a sample.
    pub median: Option<f64>,
    /// Nearest-rank 95th percentile.
    pub p95: Option<f64>,
    /// How many runs produced a sample (timeline events can be absent from a run).
    pub samples: usize,
}

fn row(metric: impl Into<String>, samples: &[f64]) -> SummaryRow {
    SummaryRow { metric: metric.into(), median: median(samples), p95: p95(samples), samples: samples.len() }
}

fn millis(duration: Duration) -> f64 {
    duration.as_micros() as f64 / 1000.0
}

/// Summarises runs: unavailability, losses, failovers counted, acknowledged writes (for runs that
/// measured writes), deploy and operation times (when measured), then each Sentinel event of the
/// failover timeline that occurred in at least one run.
pub fn summarise(runs: &[RunMeasurement]) -> Vec<SummaryRow> {
    let writes: Vec<&WriteMeasurement> = runs.iter().filter_map(|r| r.writes.as_ref()).collect();
    let column = |f: &dyn Fn(&WriteMeasurement) -> f64| writes.iter().map(|w| f(w)).collect::<Vec<f64>>();
    let mut rows = Vec::new();
    if !writes.is_empty() {
        rows.extend([
            row("write unavailability (ms)", &column(&|w| w.unavailability.map(millis).unwrap_or(0.0))),
            row("acknowledged writes lost", &column(&|w| w.lost_acknowledged as f64)),
            row("config-epoch increments", &column(&|w| w.epoch_increments as f64)),
            row("writes acknowledged", &column(&|w| w.acknowledged as f64)),
        ]);
    }
    let optional = [
        ("deploy to active (ms)", runs.iter().filter_map(|r| r.deploy_to_active).collect::<Vec<_>>()),
        ("deploy to HA-ready (ms)", runs.iter().filter_map(|r| r.ha_ready).collect()),
        ("operation (ms)", runs.iter().filter_map(|r| r.operation).collect()),
    ];
    for (metric, durations) in optional {
        if !durations.is_empty() {
            rows.push(row(metric, &durations.into_iter().map(millis).collect::<Vec<_>>()));
        }
    }
    let rss: Vec<f64> = runs.iter().filter_map(|r| r.peak_rss_kb.map(|kb| kb as f64)).collect();
    if !rss.is_empty() {
        rows.push(row("dispatch peak RSS (KiB)", &rss));
    }
    let tools: Vec<f64> = runs
        .iter()
        .filter(|r| !r.hook_tool_calls.is_empty())
        .map(|r| r.hook_tool_calls.iter().map(|(_, n)| *n as f64).sum())
        .collect();
    if !tools.is_empty() {
        rows.push(row("hook tools per update-status (leader)", &tools));
    }
    let hooks: Vec<_> = runs.iter().flat_map(|r| r.hooks.iter()).collect();
    if !hooks.is_empty() {
        let wall: Vec<f64> = hooks.iter().map(|h| millis(h.wall)).collect();
        let rss: Vec<f64> = hooks.iter().map(|h| h.max_rss_kib as f64).collect();
        rows.push(row("update-status hook wall (ms)", &wall));
        rows.push(row("update-status hook peak RSS (KiB)", &rss));
    }
    let mut names: Vec<&str> = Vec::new();
    for (name, _) in runs.iter().flat_map(|r| r.samples.iter()) {
        if !names.contains(&name.as_str()) {
            names.push(name);
        }
    }
    for name in names {
        let samples: Vec<f64> = runs
            .iter()
            .flat_map(|r| r.samples.iter())
            .filter(|(n, _)| n == name)
            .map(|(_, d)| millis(*d))
            .collect();
        rows.push(row(name, &samples));
    }
    for event in FAILOVER_EVENTS {
        let samples: Vec<f64> = runs
            .iter()
            .filter_map(|r| r.timeline.iter().find(|(name, _)| name == event).map(|(_, at)| millis(*at)))
            .collect();
        if !samples.is_empty() {
            rows.push(row(format!("{event} after fault (ms)"), &samples));
        }
    }
    rows
}

/// Renders rows as an aligned text table (one decimal below 100, where it matters: hook times).
pub fn render_table(rows: &[SummaryRow]) -> String {
    let width = rows.iter().map(|r| r.metric.len()).max().unwrap_or(6).max(6);
    let cell = |value: Option<f64>| {
        value.map_or_else(
            || "-".to_string(),
            |v| if v.abs() < 100.0 { format!("{v:.1}") } else { format!("{v:.0}") },
        )
    };
    let mut out = format!("{:<width$}  {:>9}  {:>9}  {:>4}\n", "metric", "median", "p95", "runs");
    for r in rows {
        out.push_str(&format!(
            "{:<width$}  {:>9}  {:>9}  {:>4}\n",
            r.metric,
            cell(r.median),
            cell(r.p95),
            r.samples
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(unavailable_ms: Option<u64>, lost: u64, odown_ms: Option<u64>) -> RunMeasurement {
        RunMeasurement {
            writes: Some(WriteMeasurement {
                unavailability: unavailable_ms.map(Duration::from_millis),
                lost_acknowledged: lost,
                epoch_increments: 1,
                acknowledged: 100,
            }),
            timeline: odown_ms
                .map(|ms| vec![("+odown".to_string(), Duration::from_millis(ms))])
                .unwrap_or_default(),
            ..RunMeasurement::default()
        }
    }

    #[test]
    fn summary_has_median_p95_and_only_seen_events() {
        let runs = [run(Some(2100), 0, Some(2050)), run(Some(2300), 0, None), run(Some(2000), 3, Some(2010))];
        let rows = summarise(&runs);
        let unavailable = &rows[0];
        assert_eq!(
            (unavailable.median, unavailable.p95, unavailable.samples),
            (Some(2100.0), Some(2300.0), 3)
        );
        assert_eq!(rows[1].p95, Some(3.0));
        let odown = rows.iter().find(|r| r.metric.starts_with("+odown")).unwrap();
        assert_eq!((odown.median, odown.samples), (Some(2010.0), 2));
        assert!(!rows.iter().any(|r| r.metric.starts_with("+sdown")));
        assert!(!rows.iter().any(|r| r.metric.starts_with("operation")), "no run measured one");
    }

    #[test]
    fn operation_and_deploy_times_appear_when_measured() {
        let measured = RunMeasurement {
            deploy_to_active: Some(Duration::from_millis(9000)),
            operation: Some(Duration::from_millis(800)),
            ..RunMeasurement::default()
        };
        let rows = summarise(&[measured, RunMeasurement::default()]);
        assert!(!rows.iter().any(|r| r.metric.starts_with("write")), "no run measured writes: {rows:?}");
        let operation = rows.iter().find(|r| r.metric == "operation (ms)").unwrap();
        assert_eq!((operation.median, operation.samples), (Some(800.0), 1));
        assert!(rows.iter().any(|r| r.metric == "deploy to active (ms)"));
    }

    #[test]
    fn hook_samples_are_pooled_over_runs() {
        use crate::bench::hook_timings::HookSample;
        let sample = |ms: u64, kib: u64| HookSample {
            unit: "valkey/0".into(),
            wall: Duration::from_millis(ms),
            max_rss_kib: kib,
        };
        let first = RunMeasurement {
            hooks: vec![sample(8, 5000), sample(9, 5100)],
            hook_tool_calls: vec![("is-leader".into(), 1), ("relation-get".into(), 4)],
            ..RunMeasurement::default()
        };
        let second = RunMeasurement {
            hooks: vec![sample(30, 5200)],
            ha_ready: Some(Duration::from_millis(7000)),
            ..RunMeasurement::default()
        };
        let rows = summarise(&[first, second]);
        let wall = rows.iter().find(|r| r.metric == "update-status hook wall (ms)").unwrap();
        assert_eq!((wall.median, wall.p95, wall.samples), (Some(9.0), Some(30.0), 3));
        let rss = rows.iter().find(|r| r.metric == "update-status hook peak RSS (KiB)").unwrap();
        assert_eq!(rss.p95, Some(5200.0));
        let ready = rows.iter().find(|r| r.metric == "deploy to HA-ready (ms)").unwrap();
        assert_eq!((ready.median, ready.samples), (Some(7000.0), 1));
        assert!(render_table(&rows).contains("9.0"), "hook times keep a decimal");
        let tools = rows.iter().find(|r| r.metric == "hook tools per update-status (leader)").unwrap();
        assert_eq!((tools.median, tools.samples), (Some(5.0), 1), "runs without a count are left out");
    }

    #[test]
    fn run_without_failures_counts_as_zero_unavailability() {
        let rows = summarise(&[run(None, 0, None)]);
        assert_eq!(rows[0].median, Some(0.0));
    }

    #[test]
    fn table_is_aligned_and_marks_missing_values() {
        let rows = vec![
            SummaryRow {
                metric: "write unavailability (ms)".into(),
                median: Some(2100.4),
                p95: Some(2300.0),
                samples: 3,
            },
            SummaryRow { metric: "x".into(), median: None, p95: None, samples: 0 },
        ];
        let table = render_table(&rows);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[1].contains("2100") && lines[1].contains("2300"), "{table}");
        assert!(lines[2].trim_end().ends_with("-          -     0"), "{table}");
        assert!(lines.iter().all(|l| l.len() == lines[0].len()), "{table}");
    }
}

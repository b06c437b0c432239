//! Real update-status hooks as the local model's agent ran them: shorten the update-status
//! interval, let the agent fire the hooks on every unit, and read the wall time and peak RSS it
//! recorded for each (`juju-local hook-timings --format json`). Unlike a timed `./dispatch` inside
//! `juju exec`, this is exactly what a charm costs per hook on the model, spawn to exit, for any
//! charm (Rust or Python ops) alike.

use std::time::{Duration, Instant};

use crate::juju::{Juju, JujuError};

/// One finished update-status hook.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HookSample {
    /// The unit it ran on.
    pub unit: String,
    /// Spawn to exit, as the agent measured it.
    #[serde(serialize_with = "crate::duration_ms::one")]
    pub wall: Duration,
    /// Peak RSS of the hook process (children it waited for included), KiB.
    pub max_rss_kib: u64,
}

/// Reads the successful update-status hooks that finished at or after `since` (unix seconds) from
/// `hook-timings --format json` output, oldest first (pure).
pub fn parse(json: &str, since: f64) -> Result<Vec<HookSample>, String> {
    let records: Vec<serde_json::Value> =
        serde_json::from_str(json).map_err(|e| format!("hook-timings output is not a JSON array: {e}"))?;
    let mut samples = Vec::new();
    for record in &records {
        let text = |k: &str| record.get(k).and_then(serde_json::Value::as_str);
        let number = |k: &str| record.get(k).and_then(serde_json::Value::as_f64);
        let at = number("at").ok_or_else(|| format!("record without `at`: {record}"))?;
        let wanted = text("event") == Some("update-status")
            && text("kind") == Some("hook")
            && record.get("rc").and_then(serde_json::Value::as_i64) == Some(0)
            && at >= since;
        if !wanted {
            continue;
        }
        let wall_ms = number("wall_ms").ok_or_else(|| format!("record without wall_ms: {record}"))?;
        let rss = record.get("max_rss_kib").and_then(serde_json::Value::as_u64);
        samples.push((
            at,
            HookSample {
                unit: text("unit").unwrap_or_default().to_string(),
                wall: Duration::from_secs_f64(wall_ms.max(0.0) / 1000.0),
                max_rss_kib: rss.ok_or_else(|| format!("record without max_rss_kib: {record}"))?,
            },
        ));
    }
    samples.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(samples.into_iter().map(|(_, s)| s).collect())
}

fn unix_now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// Sets `update-status-hook-interval` to `interval` (a Go duration) and waits until the agent has
/// recorded `count` successful update-status hooks after that; returns the first `count`.
/// `Ok(Err(why))` when the model is not `juju-local` or the hooks did not come in time.
pub fn collect_update_status(
    juju: &Juju,
    count: usize,
    interval: &str,
    timeout: Duration,
) -> Result<Result<Vec<HookSample>, String>, JujuError> {
    if juju.local_home().is_none() {
        return Ok(Err("hook timings are a juju-local extra (unset JUJU to use it)".into()));
    }
    let model = juju.model().unwrap_or("default").to_string();
    let since = unix_now();
    juju.model_config(&[("update-status-hook-interval", interval)])?;
    let started = Instant::now();
    let args: Vec<String> = ["hook-timings", "-m", &model, "--event", "update-status", "--format", "json"]
        .map(String::from)
        .into();
    loop {
        let finished = juju.raw(&args)?.success()?;
        let mut samples = match parse(&finished.stdout, since) {
            Ok(samples) => samples,
            Err(why) => return Ok(Err(why)),
        };
        if samples.len() >= count {
            samples.truncate(count);
            return Ok(Ok(samples));
        }
        if started.elapsed() >= timeout {
            return Ok(Err(format!(
                "only {} of {count} update-status hooks after {:?}",
                samples.len(),
                started.elapsed()
            )));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECORDS: &str = r#"[
      {"unit":"valkey/0","event":"start","kind":"hook","wall_ms":40.0,"max_rss_kib":6000,"rc":0,"at":100.0},
      {"unit":"valkey/1","event":"update-status","kind":"hook","wall_ms":9.5,"max_rss_kib":5700,"rc":0,"at":103.0},
      {"unit":"valkey/0","event":"update-status","kind":"hook","wall_ms":8.25,"max_rss_kib":5736,"rc":0,"at":102.0},
      {"unit":"valkey/0","event":"update-status","kind":"hook","wall_ms":7.0,"max_rss_kib":5736,"rc":0,"at":99.0},
      {"unit":"valkey/2","event":"update-status","kind":"hook","wall_ms":300.0,"max_rss_kib":5736,"rc":1,"at":104.0},
      {"unit":"valkey/2","event":"exec","kind":"exec","wall_ms":3.0,"max_rss_kib":1000,"rc":0,"at":105.0}
    ]"#;

    #[test]
    fn only_successful_update_status_hooks_since_the_mark_count_in_time_order() {
        let samples = parse(RECORDS, 101.0).unwrap();
        let units: Vec<&str> = samples.iter().map(|s| s.unit.as_str()).collect();
        assert_eq!(units, ["valkey/0", "valkey/1"]);
        assert_eq!(samples[0].wall, Duration::from_micros(8250));
        assert_eq!(samples[1].max_rss_kib, 5700);
    }

    #[test]
    fn malformed_output_is_an_error() {
        assert!(parse("not json", 0.0).unwrap_err().contains("not a JSON array"));
        let no_wall =
            r#"[{"unit":"u/0","event":"update-status","kind":"hook","rc":0,"at":1.0,"max_rss_kib":1}]"#;
        assert!(parse(no_wall, 0.0).unwrap_err().contains("wall_ms"));
    }
}

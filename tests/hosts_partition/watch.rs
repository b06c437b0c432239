//! Observing the Sentinels and data nodes of a partitioned deployment: timing an election from
//! the cut, holding an invariant over a window ("no failover for 3 × down-after"), and reading
//! the primary's resync counters.

use std::time::{Duration, Instant, SystemTime};

use crate::common::nodes::{self, field};
use crate::common::unit_at;
use valkey_harness::deployment::CharmDeployment;
use valkey_harness::sentinel::{MonitorView, SentinelSet};
use valkey_harness::sentinel_log;
use valkey_harness::valkey::{Credentials, Endpoint};

/// How often the election is sampled: the bound under test is ~3.5 s, so 20 ms is fine-grained.
const SAMPLE: Duration = Duration::from_millis(20);

/// When the majority side replaced the primary, measured from the cut.
#[derive(Debug)]
pub struct Election {
    /// When the first majority Sentinel (the failover leader) named another primary with a
    /// higher config-epoch: the election and the promotion are done by then.
    pub first_switch: Duration,
    /// When every majority Sentinel named it.
    pub agreed: Duration,
    /// The unit promoted.
    pub new_unit: String,
    /// The config-epoch they agree on.
    pub epoch: u64,
}

/// Samples the `majority` Sentinels until all of them name one primary other than `old_unit`
/// with a config-epoch above `epoch`; panics after `timeout` with the last views.
pub fn watch_election(
    majority: &SentinelSet,
    units: &[(String, String)],
    old_unit: &str,
    epoch: u64,
    cut_at: Instant,
    timeout: Duration,
) -> Election {
    let mut first_switch = None;
    loop {
        let views: Vec<Result<MonitorView, String>> =
            majority.sentinels.iter().map(|s| majority.view(s).map_err(|e| e.to_string())).collect();
        let moved: Vec<(&MonitorView, String)> = views
            .iter()
            .flatten()
            .map(|view| (view, unit_at(units, &view.primary)))
            .filter(|(view, unit)| view.config_epoch > epoch && unit != old_unit)
            .collect();
        if first_switch.is_none() && !moved.is_empty() {
            first_switch = Some(cut_at.elapsed());
        }
        if let Some((first, unit)) = moved.first() {
            let all = moved.len() == views.len()
                && moved.iter().all(|(v, u)| u == unit && v.config_epoch == first.config_epoch);
            if all {
                return Election {
                    first_switch: first_switch.unwrap_or_else(|| cut_at.elapsed()),
                    agreed: cut_at.elapsed(),
                    new_unit: unit.clone(),
                    epoch: first.config_epoch,
                };
            }
        }
        assert!(
            cut_at.elapsed() < timeout,
            "the majority did not elect a new primary within {timeout:?}: {views:?}"
        );
        std::thread::sleep(SAMPLE);
    }
}

/// Checks `check` every 200 ms until `until`; panics at the first violation. A query that fails
/// is not a violation (it is no evidence of a failover), but every Sentinel must have been read
/// at least once, or the window proved nothing.
pub fn hold(
    what: &str,
    until: Instant,
    mut check: impl FnMut() -> Result<Result<(), String>, String>,
) -> usize {
    let mut samples = 0;
    let mut last_error = String::new();
    loop {
        match check() {
            Ok(Ok(())) => samples += 1,
            Ok(Err(violation)) => panic!("{what} was violated: {violation}"),
            Err(error) => last_error = error,
        }
        if Instant::now() >= until {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(samples > 0, "{what}: no observation succeeded; last error: {last_error}");
    samples
}

/// `(sync_full, sync_partial_ok)` from a primary's `INFO stats`: how many full and partial
/// resyncs it has served.
pub fn resyncs(primary: &Endpoint, admin: &Credentials) -> Result<(u64, u64), String> {
    let text: String = nodes::query(primary, admin, redis::cmd("INFO").arg("stats"))?;
    let info = valkey_harness::valkey::parse_info(&text).into_iter().collect();
    let number = |name: &str| -> Result<u64, String> {
        field(&info, name)?.trim().parse().map_err(|_| format!("{name} is not a number"))
    };
    Ok((number("sync_full")?, number("sync_partial_ok")?))
}

/// Every Sentinel's view in `set`, or the first query error as text (for `poll` and `hold`).
pub fn views(set: &SentinelSet) -> Result<Vec<MonitorView>, String> {
    set.views().map_err(|e| e.to_string())
}

/// Checks one view against the primary and epoch that must not change; `o_down` or a failover
/// in progress is a violation even before the primary moves.
pub fn unchanged(
    view: &MonitorView,
    units: &[(String, String)],
    primary_unit: &str,
    epoch: u64,
) -> Result<(), String> {
    let unit = unit_at(units, &view.primary);
    if unit != primary_unit || view.config_epoch != epoch {
        return Err(format!(
            "primary {unit} at epoch {}, expected {primary_unit} at {epoch}",
            view.config_epoch
        ));
    }
    if view.flags.contains("o_down") || view.flags.contains("failover_in_progress") {
        return Err(format!("flags {}", view.flags));
    }
    Ok(())
}

/// Prints the failover steps in `unit`'s Sentinel log, relative to `fault` (wall clock), so a
/// slow election shows where the time went.
pub fn print_timeline(deployment: &CharmDeployment<'_>, unit: &str, fault: SystemTime) {
    match deployment.sentinel_log(unit) {
        Ok(text) => {
            let events = sentinel_log::parse_log(&text);
            let steps = sentinel_log::timeline(&events, sentinel_log::local_ms(fault));
            let steps: Vec<String> = steps.iter().map(|(name, at)| format!("{name} {at:?}")).collect();
            println!("{unit}'s Sentinel after the cut: {}", steps.join(", "));
        }
        Err(error) => println!("{unit}'s Sentinel log: {error}"),
    }
}

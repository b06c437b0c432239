//! Drift of the local Sentinel's own settings (issue 15): `down-after-milliseconds`,
//! `failover-timeout` and `parallel-syncs` changed live with `SENTINEL SET` are compared with the
//! charm's config on every hook, through the `SENTINEL MASTER` reply every hook already reads, and
//! set again by [`crate::plan::Step::ApplySettings`]. (The quorum is the leader's: `SetQuorum`
//! compares every started Sentinel's live quorum with the majority on each of its hooks.)
//!
//! Pure: a table test below.

use crate::observe::Observed;
use crate::plan::RuntimeSettings;

/// The live value of a Sentinel setting the charm owns, as `SENTINEL MASTER` reports it.
fn live_value(p: &crate::valkey::MonitoredPrimary, key: &str) -> Option<String> {
    match key {
        "down-after-milliseconds" => Some(p.down_after.to_string()),
        "failover-timeout" => Some(p.failover_timeout.to_string()),
        "parallel-syncs" => Some(p.parallel_syncs.to_string()),
        _ => None,
    }
}

/// Whether this unit's own Sentinel runs with a setting other than the wanted one. Only a
/// Sentinel that answered counts: no view, no drift.
pub fn sentinel_drifted(o: &Observed, wanted: &RuntimeSettings) -> bool {
    let Some(mine) = o.sentinels.iter().find(|s| s.unit == o.unit).and_then(|s| s.primary.as_ref()) else {
        return false;
    };
    wanted.sentinel.iter().any(|(k, want)| live_value(mine, k).is_some_and(|live| &live != want))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::fixture::sentinel;
    use crate::plan::runtime_settings;

    #[test]
    fn a_sentinel_setting_changed_live_is_drift() {
        let mut o = Observed::test(0);
        let wanted = runtime_settings(o.config.as_ref().unwrap(), 3).unwrap();
        assert!(!sentinel_drifted(&o, &wanted), "no Sentinel read: no drift");
        let mut view = sentinel(0, 0, 2, 2, 2);
        let p = view.primary.as_mut().unwrap();
        p.down_after = wanted.sentinel["down-after-milliseconds"].parse().unwrap();
        p.failover_timeout = wanted.sentinel["failover-timeout"].parse().unwrap();
        p.parallel_syncs = wanted.sentinel["parallel-syncs"].parse().unwrap();
        o.sentinels = vec![view.clone()];
        assert!(!sentinel_drifted(&o, &wanted), "as wanted");
        type Change = fn(&mut crate::valkey::MonitoredPrimary);
        let cases: [(&str, Change); 3] = [
            ("down-after-milliseconds", |p| p.down_after += 1),
            ("failover-timeout", |p| p.failover_timeout = 1),
            ("parallel-syncs", |p| p.parallel_syncs += 1),
        ];
        for (what, change) in cases {
            let mut v = view.clone();
            change(v.primary.as_mut().unwrap());
            o.sentinels = vec![v.clone()];
            assert!(sentinel_drifted(&o, &wanted), "{what} changed by hand is drift");
            // Another unit's Sentinel is not this unit's to repair.
            v.unit = "valkey/1".into();
            o.sentinels = vec![v];
            assert!(!sentinel_drifted(&o, &wanted), "{what} on another unit's Sentinel");
        }
    }
}

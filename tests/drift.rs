//! Scenario: settings changed behind the charm's back are repaired (issue 15, item 4). Three
//! units; on the primary an operator (or an intruder with the admin password) turns the
//! split-brain fence off (`min-replicas-to-write 0`) and persistence off (`appendonly no`) with
//! `CONFIG SET`. The charm compares the live values with the wanted ones on every hook (not only
//! with its own record of what it applied), so the next hook — update-status at the latest — sets
//! both back. How long it took is printed, never asserted.
//!
//! The same for Sentinel's own settings: `down-after-milliseconds`, `failover-timeout`,
//! `parallel-syncs` and the quorum changed with `SENTINEL SET` on one Sentinel are set back (the
//! unit's own hooks compare the first three with the config; the leader's, every quorum with the
//! majority).

mod common;

use common::nodes;
use common::settle::{Baseline, CONVERGE};
use common::{poll, Deployed};
use std::collections::BTreeMap;

#[test]
fn settings_changed_live_are_set_back() {
    let fixture = Deployed::new("drift", 3, &[]);
    let Baseline { admin, primary, sentinels, .. } = fixture.baseline();
    assert_eq!(nodes::config_get(&primary, &admin, "min-replicas-to-write").unwrap(), "1");
    assert_eq!(nodes::config_get(&primary, &admin, "appendonly").unwrap(), "yes");
    for (key, value) in [("min-replicas-to-write", "0"), ("appendonly", "no")] {
        let _: () =
            nodes::query(&primary, &admin, redis::cmd("CONFIG").arg("SET").arg(key).arg(value)).unwrap();
    }
    assert_eq!(nodes::config_get(&primary, &admin, "min-replicas-to-write").unwrap(), "0");
    let (_, took) = poll("the fence and persistence set back", CONVERGE, || {
        let fence = nodes::config_get(&primary, &admin, "min-replicas-to-write")?;
        let aof = nodes::config_get(&primary, &admin, "appendonly")?;
        (fence == "1" && aof == "yes")
            .then_some(())
            .ok_or(format!("min-replicas-to-write {fence}, appendonly {aof}"))
    });
    println!("drift repaired {took:?} after the live change");

    // Sentinel's own settings, on one Sentinel.
    let sentinel = sentinels.sentinels[0].clone();
    let wanted = [
        ("down-after-milliseconds", "5000"),
        ("failover-timeout", "20000"),
        ("parallel-syncs", "1"),
        ("quorum", "2"),
    ];
    let live = |map: &BTreeMap<String, String>| -> Vec<(String, String)> {
        wanted.iter().map(|(k, _)| (k.to_string(), nodes::field(map, k).unwrap_or("?").to_string())).collect()
    };
    let before = nodes::sentinel_master(&sentinel, &admin).unwrap();
    let as_wanted: Vec<(String, String)> =
        wanted.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    assert_eq!(live(&before), as_wanted, "the config's values before the change");
    for (key, value) in [
        ("down-after-milliseconds", "60000"),
        ("failover-timeout", "12345"),
        ("parallel-syncs", "2"),
        ("quorum", "1"),
    ] {
        let _: () = nodes::query(
            &sentinel,
            &admin,
            redis::cmd("SENTINEL").arg("SET").arg("primary").arg(key).arg(value),
        )
        .unwrap_or_else(|e| panic!("SENTINEL SET {key} {value}: {e}"));
    }
    let changed = nodes::sentinel_master(&sentinel, &admin).unwrap();
    assert_eq!(nodes::field(&changed, "down-after-milliseconds").unwrap(), "60000", "the change took");
    let (_, took) = poll("Sentinel's settings set back", CONVERGE, || {
        let now = live(&nodes::sentinel_master(&sentinel, &admin)?);
        (now == as_wanted).then_some(()).ok_or(format!("{now:?}"))
    });
    println!("Sentinel drift repaired {took:?} after the live change");
}

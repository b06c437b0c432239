//! Scenario: settings changed behind the charm's back are repaired (issue 15, item 4). Three
//! units; on the primary an operator (or an intruder with the admin password) turns the
//! split-brain fence off (`min-replicas-to-write 0`) and persistence off (`appendonly no`) with
//! `CONFIG SET`. The charm compares the live values with the wanted ones on every hook (not only
//! with its own record of what it applied), so the next hook — update-status at the latest — sets
//! both back. How long it took is printed, never asserted.

mod common;

use common::nodes;
use common::settle::{Baseline, CONVERGE};
use common::{poll, Deployed};

#[test]
fn settings_changed_live_are_set_back() {
    let fixture = Deployed::new("drift", 3, &[]);
    let Baseline { admin, primary, .. } = fixture.baseline();
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
}

//! Scenario (issue 15, item 2): scale to 0, then back up. Removing every unit leaves the app
//! bag's `bootstrapped` flag behind; the next leader used to wait for ever for "a reachable
//! Sentinel that knows the primary". Bootstrap state that no live unit backs is void, so the new
//! units bootstrap a new primary; and the last primary's teardown has nobody to hand over to, so
//! it just stops instead of failing (`hand-over failed: NOGOODSLAVE`).

mod common;

use std::time::{Duration, Instant};

use common::nodes;
use common::settle::settled;
use common::{Deployed, APP};

/// Deadline for the last units to be gone.
const GONE: Duration = Duration::from_secs(120);
/// Keys written to the new deployment.
const KEYS: u32 = 50;

#[test]
fn scale_to_zero_and_back_up_bootstraps_a_new_primary() {
    let fixture = Deployed::new("scale-zero", 2, &[]);
    let started = Instant::now();
    fixture.juju.scale_application(APP, 0).unwrap();
    fixture
        .juju
        .wait_for("every unit to be gone", GONE, |status| status.units(APP).is_empty())
        .unwrap_or_else(|e| panic!("{e}\n{}", fixture.log_tail()));
    println!("scaled to 0 in {:?}", started.elapsed());
    let log = fixture.juju.debug_log().unwrap();
    let failed: Vec<&str> = log.lines().filter(|l| l.contains("hand-over failed")).collect();
    assert!(failed.is_empty(), "the last units' teardown failed: {failed:#?}");

    let started = Instant::now();
    fixture.juju.add_unit(APP, 3).unwrap();
    fixture.wait_settled(3, "scaled back to 3");
    println!("3 new units active {:?} after add-unit", started.elapsed());
    let admin = fixture.admin();
    let sentinels = fixture.deployment().sentinel_set(&admin).unwrap();
    let (primary, _) = settled(&fixture, &sentinels, &admin, None);

    // Writes work and reach both replicas.
    let mut connection = nodes::connect(&primary, &admin).unwrap();
    for n in 0..KEYS {
        let () = redis::cmd("SET").arg(format!("reborn:{n}")).arg(n).query(&mut connection).unwrap();
    }
    let acked: u32 = redis::cmd("WAIT").arg(2).arg(5000).query(&mut connection).unwrap();
    assert_eq!(acked, 2, "both replicas must acknowledge the writes");
    let keys: Vec<String> = (0..KEYS).map(|n| format!("reborn:{n}")).collect();
    for (unit, address) in fixture.units() {
        let values: Vec<Option<String>> =
            nodes::query(&nodes::data(&address), &admin, redis::cmd("MGET").arg(&keys)).unwrap();
        assert!(values.iter().all(Option::is_some), "{unit} lacks keys written after the scale-up");
    }
}

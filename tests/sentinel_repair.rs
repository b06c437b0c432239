//! Scenario (issue 15, item 6): a replica's `sentinel.conf` is corrupted and its Sentinel killed,
//! so its supervisor restarts it into a crash loop (`FATAL CONFIG FILE ERROR`) that never ends on
//! its own. The charm's next hook must notice that Sentinel does not come up, render a fresh
//! sentinel.conf and start it: the unit's Sentinel rejoins its peers and agrees on the primary.

mod common;

use std::time::Instant;

use common::nodes;
use common::settle::{settled, Baseline, CONVERGE};
use common::{poll, Deployed};

#[test]
fn a_crash_looping_sentinel_gets_a_fresh_config() {
    let fixture = Deployed::new("sentinel-repair", 3, &[]);
    let Baseline { admin, units, sentinels, primary, primary_unit, epoch } = fixture.baseline();
    let (victim, address) = units.iter().find(|(u, _)| *u != primary_unit).unwrap().clone();
    let corrupt = "id=$(storage-list --format=json data | tr -d '[]\" ' | cut -d, -f1) && \
                   root=$(storage-get -s \"$id\" location) && \
                   printf 'sentinel monitor primary\\nthis is not a directive\\n' > \"$root/etc/sentinel.conf\" && \
                   kill -9 $(cut -d' ' -f1 \"$root/run/sentinel.pid\")";
    let out = fixture.juju.exec(&victim, corrupt).unwrap();
    assert_eq!(out.code, 0, "corrupting {victim}'s sentinel.conf: {}", out.stderr);
    let broken = Instant::now();
    // The supervisor restarts it, and it dies again: it stays silent.
    poll("the corrupted Sentinel to be down", CONVERGE, || {
        match nodes::sentinel_master(&nodes::sentinel(&address), &admin) {
            Ok(_) => Err("still answers".to_string()),
            Err(_) => Ok(()),
        }
    });
    let (_, took) = poll("the charm to repair the Sentinel", CONVERGE, || {
        let view = nodes::sentinel_master(&nodes::sentinel(&address), &admin)?;
        let named = nodes::sentinel_primary(&view)?;
        (named == primary).then_some(()).ok_or(format!("names {named}"))
    });
    println!("{victim}'s Sentinel answers again {took:?} after it was corrupted ({:?})", broken.elapsed());
    let (after, epoch_after) = settled(&fixture, &sentinels, &admin, Some(&primary_unit));
    assert_eq!(after, primary);
    assert_eq!(epoch_after, epoch, "repairing a Sentinel must not fail anything over");
    fixture.wait_settled(3, "after the repair");
}

//! Scenario: a unit moves before its start has finished. Its Valkey and Sentinel run (rendered
//! with its first address) but it is not `started`, because a replica it must be discovered by is
//! cut off; then it gets a new address and the replica comes back. Its start must finish at the
//! new address: its services move (`Step::Rebind`) before the start is retried — without that,
//! the retry rendered the new address and waited for ever for a Valkey still bound to the old
//! one. Then: one primary, no failover, all three units active, every Sentinel sees every unit up,
//! and no rendered config holds the old address.

use std::time::Duration;

use crate::checks::{address_of, by_name, configs_hold_no_old_address, every_sentinel_sees_everyone_up};
use crate::common::nodes;
use crate::common::settle::settled;
use crate::common::{unit_at, Deployed, APP};

#[test]
fn a_unit_that_moves_before_its_start_finished_starts_at_its_new_address() {
    let Some(fixture) = Deployed::new_hosts("addr-start", 2, &[]) else { return };
    let admin = fixture.admin();
    let (primary, epoch) = settled(&fixture, &by_name(&fixture, &admin), &admin, None);
    let units = fixture.units();
    let primary_unit = unit_at(&units, &primary);
    let replica = units.iter().map(|(u, _)| u.clone()).find(|u| *u != primary_unit).expect("a replica");

    // The replica is unreachable, so the newcomer's start cannot finish: its Sentinel stays
    // undiscovered by the replica's.
    fixture.cut(&replica, None);
    fixture.juju.add_unit(APP, 1).expect("add-unit");
    let newcomer = fixture
        .units()
        .into_iter()
        .map(|(u, _)| u)
        .find(|u| !units.iter().any(|(known, _)| known == u))
        .expect("the new unit in juju status");
    let waiting_for = format!("waiting for {replica}'s sentinel to discover this unit");
    fixture
        .juju
        .wait_for(&format!("{newcomer} to wait for {replica}'s Sentinel"), Duration::from_secs(120), |s| {
            s.unit(&newcomer).is_some_and(|u| u.workload_status.message.contains(&waiting_for))
        })
        .unwrap_or_else(|e| panic!("{e}\n{}", fixture.log_tail()));

    let old = address_of(&fixture, &newcomer);
    let new = fixture.change_address(&newcomer);
    println!("{newcomer}: {old} -> {new} before its start finished");
    assert_ne!(old, new, "change-address must give a new address");
    fixture.heal(&replica, None);

    let (after, epoch_after) = settled(&fixture, &by_name(&fixture, &admin), &admin, Some(&primary_unit));
    assert_eq!(unit_at(&fixture.units(), &after), primary_unit);
    assert_eq!(epoch_after, epoch, "nothing here may cause a failover");
    let gone = [old];
    every_sentinel_sees_everyone_up(&fixture, &admin, &gone, &primary_unit);
    configs_hold_no_old_address(&fixture, &gone, &primary_unit);
    let addresses: Vec<String> = fixture.units().into_iter().map(|(_, a)| a).collect();
    assert!(addresses.contains(&new), "{newcomer} is listed at {new}: {addresses:?}");
    let masters = nodes::masters(&addresses, &admin).unwrap();
    assert_eq!(masters.len(), 1, "exactly one primary: {masters:?}");
}

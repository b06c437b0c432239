//! Scenario: the primary moves while it is cut off, so the charm cannot win the race against
//! down-after-milliseconds: the majority fails it over first (config-epoch rises), the old primary
//! gets its new address while still isolated, and after `heal` it must rejoin as a replica of the
//! new primary at its new address — one primary, all units active, no further failover, every
//! Sentinel seeing every unit up, no old address in any rendered config, and every `WAIT 1`
//! acknowledged write on every node. Then a replica whose Valkey has no local socket (as one
//! started by an older charm) moves: it is restarted on its new address, without a failover.
//! Run both ways: units known by hostname, and by IP only (as on a real IAAS machine).

use std::time::{Duration, Instant};

use crate::checks::{
    address_of, at_addresses, configs_hold_no_old_address, every_sentinel_sees_everyone_up, naming, run_id,
    Naming,
};
use crate::common::hosts::hostname;
use crate::common::nodes::{self, field};
use crate::common::settle::settled;
use crate::common::{poll, start_probe, unit_at, Deployed};
use crate::{CONVERGE, WRITES_PER_PHASE};
use valkey_harness::probe::verify;
use valkey_harness::valkey::Endpoint;

#[test]
fn a_primary_that_moves_while_cut_off_rejoins_as_a_replica() {
    let Some(fixture) = Deployed::new_hosts("addr-cut", 3, &[]) else { return };
    assert_eq!(naming(&fixture), Naming::Hostnames);
    primary_moves_while_cut_off(&fixture);
}

#[test]
fn a_primary_known_by_ip_that_moves_while_cut_off_rejoins_as_a_replica() {
    let Some(fixture) = Deployed::new_hosts_by_address("addr-cut-ip", 3, &[]) else { return };
    let naming = naming(&fixture);
    println!("units named by {naming:?}");
    if crate::common::substrate::Substrate::pinned() != Some(crate::common::substrate::Substrate::Hosts) {
        assert_eq!(naming, Naming::Addresses, "machine mode without unit-hostnames must name units by IP");
    }
    primary_moves_while_cut_off(&fixture);
}

/// The scenario; every unit is reached at its current address from `juju status`.
fn primary_moves_while_cut_off(fixture: &Deployed) {
    let admin = fixture.admin();
    let (primary, epoch) = settled(fixture, &at_addresses(fixture, &admin, &[]), &admin, None);
    let units = fixture.units();
    let old_primary = unit_at(&units, &primary);
    let others: Vec<String> = units.iter().map(|(u, _)| u.clone()).filter(|u| *u != old_primary).collect();
    let other_refs: Vec<&str> = others.iter().map(String::as_str).collect();
    let old_primary_address = address_of(fixture, &old_primary);
    // The probe asks the majority first: the old primary's Sentinel is cut off, then moves.
    let probe =
        start_probe(&at_addresses(fixture, &admin, &other_refs), "addr-cut", WRITES_PER_PHASE, CONVERGE);

    // Cut off: the two other Sentinels fail it over.
    probe.mark("cut primary");
    let cut_at = Instant::now();
    fixture.cut(&old_primary, None);
    // (An election may need a second round on a busy machine: that is Sentinel's business, not
    // this scenario's, so any higher epoch will do; what the move adds is checked below.)
    let ((new_primary, cut_epoch), took) =
        poll("the majority to fail the cut primary over", CONVERGE, || {
            let mut seen = Vec::new();
            for unit in &others {
                let view = nodes::sentinel_master(&nodes::sentinel(&address_of(fixture, unit)), &admin)?;
                let epoch_now: u64 = field(&view, "config-epoch")?.parse().map_err(|e| format!("{e}"))?;
                let settled = !field(&view, "flags")?.contains("failover_in_progress");
                seen.push((field(&view, "ip")?.to_string(), epoch_now, settled));
            }
            let old_names = [hostname(&old_primary), old_primary_address.clone()];
            match seen.iter().all(|s| *s == seen[0] && s.1 > epoch && s.2 && !old_names.contains(&s.0)) {
                true => Ok((seen[0].0.clone(), seen[0].1)),
                false => Err(format!("{seen:?}")),
            }
        });
    println!("{new_primary} took over {took:?} after the cut (epoch {epoch} -> {cut_epoch})");

    // Moved while isolated, then back on the network.
    let old = address_of(fixture, &old_primary);
    probe.mark("change-address cut primary");
    let new = fixture.change_address(&old_primary);
    println!("{old_primary}: {old} -> {new} (cut off)");
    assert_ne!(old, new, "change-address must give a new address");
    probe.mark("heal");
    fixture.heal(&old_primary, None);
    let healed = Instant::now();
    let (after, epoch_after) = settled(fixture, &at_addresses(fixture, &admin, &[]), &admin, None);
    let now_primary = unit_at(&fixture.units(), &after);
    println!(
        "settled around {now_primary} {:?} after heal ({:?} after the cut)",
        healed.elapsed(),
        cut_at.elapsed()
    );
    assert_eq!(epoch_after, cut_epoch, "the move and the heal must cause no further failover");
    assert_ne!(now_primary, old_primary, "the old primary must have rejoined as a replica");
    let addresses: Vec<String> = fixture.units().into_iter().map(|(_, a)| a).collect();
    let masters = nodes::masters(&addresses, &admin).unwrap();
    assert_eq!(masters.len(), 1, "exactly one primary: {masters:?}");
    every_sentinel_sees_everyone_up(fixture, &admin, std::slice::from_ref(&old), &now_primary);
    configs_hold_no_old_address(fixture, std::slice::from_ref(&old), &now_primary);
    let acked = probe.acked();
    assert!(probe.wait_acked(acked + WRITES_PER_PHASE, CONVERGE), "writes stalled after the heal");

    // A replica whose Valkey has no local socket (as one started by an older charm) moves: it
    // cannot be rebound at runtime, so it is restarted on its new address, as a replica.
    let replica = others.iter().find(|u| **u != now_primary).expect("a replica").clone();
    let before = run_id(&address_of(fixture, &replica), &admin);
    let rm = "rm \"$(cat \"$JUJU_CHARM_DIR/.valkey-storage-location\")/run/valkey.sock\"";
    let out = fixture.juju.exec(&replica, rm).expect("juju exec rm");
    assert_eq!(out.code, 0, "{rm}: {}", out.stderr);
    let old_replica = address_of(fixture, &replica);
    probe.mark("change-address socketless replica");
    let moved_at = Instant::now();
    let new = fixture.change_address(&replica);
    println!("{replica}: {old_replica} -> {new} (no local socket)");
    let (after, epoch_now) =
        settled(fixture, &at_addresses(fixture, &admin, &[]), &admin, Some(&now_primary));
    println!("socketless replica move: settled {:?} after change-address", moved_at.elapsed());
    assert_eq!(epoch_now, cut_epoch, "a replica's move must not cause a failover");
    assert_eq!(unit_at(&fixture.units(), &after), now_primary);
    assert_ne!(
        run_id(&address_of(fixture, &replica), &admin),
        before,
        "without a socket the replica is restarted"
    );
    let gone = [old, old_replica];
    every_sentinel_sees_everyone_up(fixture, &admin, &gone, &now_primary);
    configs_hold_no_old_address(fixture, &gone, &now_primary);
    let acked = probe.acked();
    assert!(probe.wait_acked(acked + WRITES_PER_PHASE, CONVERGE), "writes stalled after the replica moved");

    let log = probe.stop();
    let report = crate::common::print_probe(&log);
    let data: Vec<Endpoint> = fixture.units().iter().map(|(_, a)| nodes::data(a)).collect();
    verify(&log, &data, &admin, Duration::from_secs(30)).unwrap_or_else(|e| panic!("writes lost: {e}"));
    assert!(report.acknowledged >= 3 * WRITES_PER_PHASE, "{report:?}");
}

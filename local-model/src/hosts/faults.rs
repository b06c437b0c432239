//! Network faults on a host-mode model: `cut` (a unit, or the link between two units), `heal`
//! and `change-address`. Each runs under the model lock, applies its `ip` commands and records
//! the fault in the state, so `heal` and unit removal know what to undo.

use super::plan;
use super::{net, Faults, HostsError};
use crate::model::lifecycle;
use crate::state::{Life, ModelState};
use crate::store::Store;
use std::net::Ipv4Addr;

/// The machine and address of an alive unit of a host-mode model.
fn host_of(state: &ModelState, unit: &str) -> Result<(u32, Ipv4Addr), HostsError> {
    if !state.network_mode.has_namespaces() {
        return Err(HostsError::Usage(format!(
            "model \"{}\" has no separate hosts (create it with add-model NAME --config network-mode=hosts or machines)",
            state.name
        )));
    }
    match state.units.get(unit) {
        Some(u) if u.life == Life::Alive => Ok((u.machine, u.address)),
        _ => Err(HostsError::Usage(format!("unit \"{unit}\" not found"))),
    }
}

/// Both ends of a partition, checked.
fn pair_of(state: &ModelState, a: &str, b: &str) -> Result<[(u32, Ipv4Addr); 2], HostsError> {
    if a == b {
        return Err(HostsError::Usage(format!("cannot cut {a} from itself")));
    }
    Ok([host_of(state, a)?, host_of(state, b)?])
}

/// Makes `a` and `b` drop each other's packets (`on`), or stop doing so.
fn partition(k: u8, ends: [(u32, Ipv4Addr); 2], on: bool) -> Result<(), HostsError> {
    let [(ma, ipa), (mb, ipb)] = ends;
    for (machine, peer) in [(ma, ipb), (mb, ipa)] {
        match net::ip(&plan::drop_peer(k, machine, peer, on)) {
            // Deleting an entry that is already gone is what healing wants.
            Err(_) if !on => {}
            other => other?,
        }
    }
    Ok(())
}

/// `cut UNIT`: the unit's link to the bridge goes down; its processes keep running. With `from`,
/// only traffic between the two units is dropped (both directions).
pub fn cut(store: &Store, unit: &str, from: Option<&str>) -> Result<(), HostsError> {
    store.update(|s: &mut ModelState| -> Result<(), HostsError> {
        let k = plan::block_of(s);
        match from {
            None => {
                let (machine, _) = host_of(s, unit)?;
                net::ip(&plan::link(k, machine, false))?;
                s.faults.cut.insert(unit.to_string());
            }
            Some(peer) => {
                partition(k, pair_of(s, unit, peer)?, true)?;
                s.faults.partitions.insert(Faults::pair(unit, peer));
            }
        }
        Ok(())
    })
}

/// `heal UNIT`: undoes every fault on the unit (its cut and all its partitions); with `from`,
/// only the partition between the two.
pub fn heal(store: &Store, unit: &str, from: Option<&str>) -> Result<(), HostsError> {
    store.update(|s: &mut ModelState| -> Result<(), HostsError> {
        let k = plan::block_of(s);
        let (machine, _) = host_of(s, unit)?;
        let pairs: Vec<(String, String)> = match from {
            Some(peer) => {
                pair_of(s, unit, peer)?;
                vec![Faults::pair(unit, peer)]
            }
            None => {
                net::ip(&plan::link(k, machine, true))?;
                s.faults.cut.remove(unit);
                s.faults.partitions.iter().filter(|(a, b)| a == unit || b == unit).cloned().collect()
            }
        };
        for (a, b) in pairs {
            if let Ok(ends) = pair_of(s, &a, &b) {
                partition(k, ends, false)?;
            }
            s.faults.partitions.remove(&(a, b));
        }
        Ok(())
    })
}

/// Forgets a unit that is being torn down: undoes its partitions in the peers' namespaces (its
/// own namespace goes away with it) and drops it from the fault records.
/// `address` is the unit's last address (it may have left the state already).
pub fn forget(state: &mut ModelState, unit: &str, address: Option<Ipv4Addr>) {
    let k = plan::block_of(state);
    let pairs: Vec<(String, String)> =
        state.faults.partitions.iter().filter(|(a, b)| a == unit || b == unit).cloned().collect();
    for (a, b) in pairs {
        let peer = if a == unit { &b } else { &a };
        if let (Some(address), Some(p)) = (address, state.units.get(peer)) {
            let _ = net::ip(&plan::drop_peer(k, p.machine, address, false));
        }
        state.faults.partitions.remove(&(a, b));
    }
    state.faults.cut.remove(unit);
}

/// `change-address UNIT`: the unit gets the next unused address of the block (never one handed
/// out before), every hosts file is rewritten, its relation bags carry the new address (peers
/// that see it get relation-changed), partitions follow it, and `config-changed` is queued on
/// it — as Juju does when a machine's address changes. Returns the new address.
pub fn change_address(store: &Store, unit: &str) -> Result<Ipv4Addr, HostsError> {
    store.update(|s: &mut ModelState| -> Result<Ipv4Addr, HostsError> {
        let k = plan::block_of(s);
        let (machine, old) = host_of(s, unit)?;
        let new = lifecycle::machine_address(s.address_block, s.counters.machine)
            .map_err(|e| HostsError::Usage(e.to_string()))?;
        net::ip_all(&plan::readdress(k, machine, old, new))?;
        s.counters.machine += 1;
        let partitioned: Vec<String> = s
            .faults
            .partitions
            .iter()
            .filter_map(|(a, b)| {
                if a == unit {
                    Some(b.clone())
                } else if b == unit {
                    Some(a.clone())
                } else {
                    None
                }
            })
            .collect();
        for peer in partitioned {
            if let Some(p) = s.units.get(&peer) {
                let _ = net::ip(&plan::drop_peer(k, p.machine, old, false));
                net::ip(&plan::drop_peer(k, p.machine, new, true))?;
            }
        }
        plan::readdress_unit(s, unit, new);
        net::write_hosts(store.dir(), s, None)?;
        Ok(new)
    })
}

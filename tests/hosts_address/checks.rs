//! Checks shared by the address-change scenarios: Sentinels by name, every Sentinel seeing every
//! unit up, and the rendered configs naming only hostnames.

use std::time::Duration;

use crate::common::hosts::hostname;
use crate::common::nodes::{self, field};
use crate::common::{poll, Deployed};
use valkey_harness::sentinel::SentinelSet;
use valkey_harness::valkey::Credentials;

/// The Sentinels by host name, so the probe and the checks follow every move (the harness
/// resolves names through the model's hosts file, re-read when it changes).
pub fn by_name(fixture: &Deployed, admin: &Credentials) -> SentinelSet {
    let mut set = fixture.deployment().sentinel_set(admin).expect("sentinel set");
    set.sentinels = fixture.units().iter().map(|(u, _)| nodes::sentinel(&hostname(u))).collect();
    set
}

/// The unit's current address, from `juju status`.
pub fn address_of(fixture: &Deployed, unit: &str) -> String {
    let units = fixture.units();
    units
        .iter()
        .find(|(u, _)| u == unit)
        .map(|(_, a)| a.clone())
        .unwrap_or_else(|| panic!("{unit} in {units:?}"))
}

/// Waits until every Sentinel lists every other unit's data node and Sentinel with no `s_down`
/// or `disconnected` flag: a Sentinel that still held a moved unit's old IP would flag it down
/// (it cannot reach it there) while `num-slaves` looks right.
pub fn every_sentinel_sees_everyone_up(fixture: &Deployed, admin: &Credentials, gone: &[String]) {
    let units = fixture.units();
    let ((), took) = poll("every Sentinel to see every unit up", Duration::from_secs(60), || {
        for (unit, _) in &units {
            let at = nodes::sentinel(&hostname(unit));
            for what in ["SLAVES", "SENTINELS"] {
                let entries: Vec<Vec<String>> =
                    nodes::query(&at, admin, redis::cmd("SENTINEL").arg(what).arg("primary"))?;
                // Every other unit's data node (SLAVES) and Sentinel (SENTINELS).
                let want = units.len() - 1;
                if entries.len() != want {
                    return Err(format!("{unit}'s Sentinel lists {} {what}, want {want}", entries.len()));
                }
                for entry in entries {
                    let map: std::collections::BTreeMap<String, String> = entry
                        .chunks(2)
                        .map(|kv| (kv[0].clone(), kv.get(1).cloned().unwrap_or_default()))
                        .collect();
                    let flags = field(&map, "flags")?;
                    let ip = field(&map, "ip")?;
                    if flags.contains("s_down") || flags.contains("disconnected") {
                        return Err(format!("{unit}'s Sentinel flags {what} {ip}: {flags}"));
                    }
                    if gone.iter().any(|g| g == ip) {
                        return Err(format!("{unit}'s Sentinel names {what} by an old address {ip}"));
                    }
                }
            }
        }
        Ok(())
    });
    println!("every Sentinel sees every unit up after {took:?}");
}

/// Reads `valkey.conf` and `sentinel.conf` of every unit with `juju exec` (the storage location
/// the charm keeps in its directory) and checks that no old address appears and that the only
/// address of the model's network in them is the unit's own, on the `bind` line.
pub fn configs_name_only_hostnames(fixture: &Deployed, gone: &[String]) {
    let units = fixture.units();
    let (subnet, _) = units[0].1.rsplit_once('.').expect("an IPv4 address");
    let subnet = format!("{subnet}.");
    for (unit, address) in &units {
        for file in ["valkey.conf", "sentinel.conf"] {
            let command = format!("cat \"$(cat \"$JUJU_CHARM_DIR/.valkey-storage-location\")/etc/{file}\"");
            let out = fixture.juju.exec(unit, &command).unwrap_or_else(|e| panic!("{unit}: {command}: {e}"));
            assert_eq!(out.code, 0, "{unit}: {command}: {}", out.stderr);
            let text = out.stdout;
            for old in gone {
                assert!(!text.contains(old.as_str()), "{unit}'s {file} still names {old}:\n{text}");
            }
            let pinned: Vec<&str> =
                text.lines().filter(|l| l.contains(&subnet) && *l != format!("bind {address}")).collect();
            assert!(pinned.is_empty(), "{unit}'s {file} pins addresses where a hostname belongs: {pinned:?}");
            assert!(
                text.lines().any(|l| l == format!("bind {address}")),
                "{unit}'s {file} binds elsewhere:\n{text}"
            );
        }
    }
    println!("configs of {} units name only hostnames; no old address ({gone:?})", units.len());
}

/// The `run_id` of a unit's Valkey (`INFO server`): it changes only when the process restarts.
pub fn run_id(unit: &str, admin: &Credentials) -> String {
    let at = nodes::data(&hostname(unit));
    let text: String = nodes::query(&at, admin, redis::cmd("INFO").arg("server")).unwrap();
    text.lines().find_map(|l| l.strip_prefix("run_id:")).expect("run_id in INFO server").trim().to_string()
}

/// Whether the unit's Valkey has its local socket (`<storage>/run/valkey.sock`), the charm's way
/// in after a move.
pub fn has_local_socket(fixture: &Deployed, unit: &str) -> bool {
    let command = "test -S \"$(cat \"$JUJU_CHARM_DIR/.valkey-storage-location\")/run/valkey.sock\"";
    fixture.juju.exec(unit, command).unwrap_or_else(|e| panic!("{unit}: {command}: {e}")).code == 0
}

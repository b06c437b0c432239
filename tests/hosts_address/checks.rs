//! Checks shared by the address-change scenarios: the Sentinels by name or at their current
//! addresses, every Sentinel seeing every unit up at a current name, and the rendered configs
//! naming no old address. Units reach each other by hostname when the model gives them one
//! (`Deployed::new_hosts`) and by IP otherwise (`Deployed::new_hosts_by_address`, as on a real
//! IAAS machine); the checks read which from the configs and hold each path to its own rule.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::common::hosts::hostname;
use crate::common::nodes::{self, field};
use crate::common::{poll, Deployed};
use valkey_harness::sentinel::SentinelSet;
use valkey_harness::valkey::Credentials;

/// How the units name each other in their configs and to Sentinel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    /// By hostname (`valkey-0`); the one address in a config is its `bind` line.
    Hostnames,
    /// By IP address, as network-get reports it on a real IAAS machine (empty hostname).
    Addresses,
}

/// The Sentinels by host name, so the probe and the checks follow every move (the harness
/// resolves names through the model's hosts file, re-read when it changes). Hostname path only.
pub fn by_name(fixture: &Deployed, admin: &Credentials) -> SentinelSet {
    let mut set = fixture.deployment().sentinel_set(admin).expect("sentinel set");
    set.sentinels = fixture.units().iter().map(|(u, _)| nodes::sentinel(&hostname(u))).collect();
    set
}

/// The Sentinels at their current addresses (`juju status`), those of the `first` units first:
/// the harness asks them in order, so a probe that must outlive moves asks first the units that
/// do not move. Works by hostname too (Sentinel's answers are names the harness resolves).
pub fn at_addresses(fixture: &Deployed, admin: &Credentials, first: &[&str]) -> SentinelSet {
    let mut units = fixture.units();
    units.sort_by_key(|(u, _)| !first.contains(&u.as_str()));
    let mut set = fixture.deployment().sentinel_set(admin).expect("sentinel set");
    set.sentinels = units.iter().map(|(_, a)| nodes::sentinel(a)).collect();
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

/// How the deployment names its units, read from the first unit's `valkey.conf`: its
/// `replica-announce-ip` is its own address when it is known by IP.
pub fn naming(fixture: &Deployed) -> Naming {
    let (unit, address) = fixture.units().into_iter().next().expect("a unit");
    let text = rendered(fixture, &unit, "valkey.conf");
    match directive(&text, "replica-announce-ip") {
        Some(announced) if announced == address => Naming::Addresses,
        Some(announced) if announced == hostname(&unit) => Naming::Hostnames,
        other => panic!("{unit} at {address} announces {other:?} (neither its address nor its hostname)"),
    }
}

/// Waits until every Sentinel (reached at its unit's current address) lists every replica (every
/// unit but the `primary`) and every other unit's Sentinel, each by a current name of a distinct
/// such unit (its current address, or its hostname on the hostname path), none by a `gone` address, with no `s_down` or
/// `disconnected` flag: a Sentinel that still held a moved unit's old IP would flag it down (it
/// cannot reach it there) or list it twice, while `num-slaves` can look right.
pub fn every_sentinel_sees_everyone_up(
    fixture: &Deployed,
    admin: &Credentials,
    gone: &[String],
    primary: &str,
) {
    let units = fixture.units();
    let ((), took) = poll("every Sentinel to see every unit up", Duration::from_secs(60), || {
        for (unit, address) in &units {
            let at = nodes::sentinel(address);
            for what in ["SLAVES", "SENTINELS"] {
                let entries: Vec<Vec<String>> =
                    nodes::query(&at, admin, redis::cmd("SENTINEL").arg(what).arg("primary"))?;
                // Every replica (SLAVES) and every other unit's Sentinel (SENTINELS).
                let want = units.len() - 1;
                if entries.len() != want {
                    return Err(format!("{unit}'s Sentinel lists {} {what}, want {want}", entries.len()));
                }
                let mut seen = Vec::new();
                for entry in entries {
                    let map: BTreeMap<String, String> = entry
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
                    let excluded = if what == "SLAVES" { primary } else { unit.as_str() };
                    let Some((named, _)) =
                        units.iter().find(|(u, a)| u != excluded && (a == ip || hostname(u) == ip))
                    else {
                        return Err(format!(
                            "{unit}'s Sentinel lists {what} {ip}, no current name of a unit it should list"
                        ));
                    };
                    if seen.contains(named) {
                        return Err(format!("{unit}'s Sentinel lists {named} twice among {what}"));
                    }
                    seen.push(named.clone());
                }
            }
        }
        Ok(())
    });
    println!("every Sentinel sees every unit up after {took:?}");
}

/// Reads `valkey.conf` and `sentinel.conf` of every unit with `juju exec` (the storage location
/// the charm keeps in its directory) and checks that no `gone` address appears, that each binds
/// its unit's current address, and that every Sentinel's `monitor` names the current `primary`
/// unit. By hostname the only address of the model's network
/// in them is the unit's own, on the `bind` line; by IP every address in them is a unit's current
/// one, and the unit announces its own (`replica-announce-ip`, Sentinel's `announce-ip`).
pub fn configs_hold_no_old_address(fixture: &Deployed, gone: &[String], primary: &str) {
    let units = fixture.units();
    let naming = naming(fixture);
    let current: Vec<&str> = units.iter().map(|(_, a)| a.as_str()).collect();
    let name_of = |unit: &str| match naming {
        Naming::Hostnames => hostname(unit),
        Naming::Addresses => address_of_in(&units, unit),
    };
    let primary_name = name_of(primary);
    let (subnet, _) = units[0].1.rsplit_once('.').expect("an IPv4 address");
    let subnet = format!("{subnet}.");
    for (unit, address) in &units {
        for file in ["valkey.conf", "sentinel.conf"] {
            let text = rendered(fixture, unit, file);
            let words: Vec<&str> = text.split_whitespace().map(|w| w.trim_matches('"')).collect();
            for old in gone {
                assert!(!words.contains(&old.as_str()), "{unit}'s {file} still names {old}:\n{text}");
            }
            assert_eq!(
                directive(&text, "bind").as_deref(),
                Some(address.as_str()),
                "{unit}'s {file}:\n{text}"
            );
            let addresses: Vec<&str> = words.iter().copied().filter(|w| w.starts_with(&subnet)).collect();
            match naming {
                Naming::Hostnames => {
                    let pinned: Vec<&str> = text
                        .lines()
                        .filter(|l| l.contains(&subnet) && *l != format!("bind {address}"))
                        .collect();
                    assert!(
                        pinned.is_empty(),
                        "{unit}'s {file} pins addresses where a hostname belongs: {pinned:?}"
                    );
                }
                Naming::Addresses => {
                    let stale: Vec<&&str> = addresses.iter().filter(|a| !current.contains(a)).collect();
                    assert!(
                        stale.is_empty(),
                        "{unit}'s {file} names addresses no unit has: {stale:?}\n{text}"
                    );
                }
            }
            let announce = match file {
                "valkey.conf" => "replica-announce-ip",
                _ => "sentinel announce-ip",
            };
            assert_eq!(directive(&text, announce), Some(name_of(unit)), "{unit}'s {file} announces:\n{text}");
            // (valkey.conf's `replicaof` is the charm's last rendering: a failover re-points the
            // replica at runtime only, so it is held only to naming no old address.)
            if file == "sentinel.conf" {
                let named = directive(&text, "sentinel monitor primary");
                assert_eq!(
                    named,
                    Some(primary_name.clone()),
                    "{unit}'s Sentinel monitors another primary:\n{text}"
                );
            }
        }
    }
    println!(
        "configs of {} units (by {naming:?}) name {primary} as primary, no old address ({gone:?})",
        units.len()
    );
}

/// The unit's address in `units`.
fn address_of_in(units: &[(String, String)], unit: &str) -> String {
    units.iter().find(|(u, _)| u == unit).map(|(_, a)| a.clone()).unwrap_or_else(|| panic!("{unit}"))
}

/// The first word after `key` (one or more words) at the start of a line, if any line has it,
/// without the quotes Sentinel puts around what it writes back.
fn directive(text: &str, key: &str) -> Option<String> {
    let key: Vec<&str> = key.split_whitespace().collect();
    text.lines().find_map(|line| {
        let words: Vec<&str> = line.split_whitespace().collect();
        (words.len() > key.len() && words[..key.len()] == key[..])
            .then(|| words[key.len()].trim_matches('"').to_string())
    })
}

/// A unit's rendered config file (`valkey.conf`, `sentinel.conf`), read with `juju exec`.
fn rendered(fixture: &Deployed, unit: &str, file: &str) -> String {
    let command = format!("cat \"$(cat \"$JUJU_CHARM_DIR/.valkey-storage-location\")/etc/{file}\"");
    let out = fixture.juju.exec(unit, &command).unwrap_or_else(|e| panic!("{unit}: {command}: {e}"));
    assert_eq!(out.code, 0, "{unit}: {command}: {}", out.stderr);
    out.stdout
}

/// The `run_id` of the Valkey at `address` (`INFO server`): it changes only when the process
/// restarts.
pub fn run_id(address: &str, admin: &Credentials) -> String {
    let at = nodes::data(address);
    let text: String = nodes::query(&at, admin, redis::cmd("INFO").arg("server")).unwrap();
    text.lines().find_map(|l| l.strip_prefix("run_id:")).expect("run_id in INFO server").trim().to_string()
}

/// Whether the unit's Valkey has its local socket (`<storage>/run/valkey.sock`), the charm's way
/// in after a move.
pub fn has_local_socket(fixture: &Deployed, unit: &str) -> bool {
    let command = "test -S \"$(cat \"$JUJU_CHARM_DIR/.valkey-storage-location\")/run/valkey.sock\"";
    fixture.juju.exec(unit, command).unwrap_or_else(|e| panic!("{unit}: {command}: {e}")).code == 0
}

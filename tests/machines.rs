//! The charm's production path — systemd units on machines booted with systemd — under the faults
//! that only that path has (juju-local's machine mode; real Juju runs the same scenarios):
//! 1. the restart delay reaches systemd: the bootstrap primary's `RestartSec` follows the
//!    deployment as it grows, and a changed `down-after-milliseconds` reaches every unit's
//!    `RestartSec` without restarting a service; no start limit;
//! 2. a crash-looping Sentinel is restarted for as long as it keeps crashing (systemd's default
//!    start limit would leave it `failed`);
//! 3. a retired unit's services do not come back when its machine reboots;
//! 4. the primary's whole machine vanishes: one failover, no acknowledged write lost, and when the
//!    machine comes back its node rejoins as a replica;
//! 6. Valkey and Sentinel run as the `valkey` system user in a systemd sandbox (a private /tmp,
//!    writing only the `data` storage, mounted at the charm's `location:` as on Juju), their files
//!    stay the user's and private after `CONFIG REWRITE`, and the root relay of their requests runs.
//! 5. the primary's Valkey dies, its data files are lost and its machine reboots: the boot does
//!    not start its
//!    Valkey (it would be an empty primary its replicas copy); the charm keeps it down until a
//!    replica is promoted, then it rejoins as a replica, and no acknowledged write is lost.
//!
//! Each test prints `skipped: ...` and returns on another substrate (not root, or loopback).

mod common;

use std::time::Duration;

use common::settle::{replaced, settled, Baseline, CONVERGE};
use common::substrate::Substrate;
use common::{poll, start_probe, unit_at, Deployed, APP};
use valkey_harness::probe::verify;

/// Deploys `units` units on juju-local's machines (its machine faults are local commands), or
/// says why not.
fn on_local_machines(scenario: &str, units: usize, config: &[(&str, &str)]) -> Option<Deployed> {
    let fixture = on_machines(scenario, units, config)?;
    if fixture.juju.local_home().is_none() {
        println!("skipped: {scenario} needs juju-local's machine faults (JUJU names another CLI)");
        return None;
    }
    Some(fixture)
}

/// Deploys `units` units on machines, or says why not.
fn on_machines(scenario: &str, units: usize, config: &[(&str, &str)]) -> Option<Deployed> {
    let fixture = Deployed::new(scenario, units, config);
    if fixture.substrate != Substrate::Machines {
        println!("skipped: {scenario} needs machine mode (root; see tests/common/substrate.rs)");
        return None;
    }
    Some(fixture)
}

/// The systemd unit name of `unit`'s Valkey (`valkey/2` → `valkey-valkey-2.service`).
fn valkey_service(unit: &str) -> String {
    format!("{APP}-{}.service", unit.replace('/', "-"))
}

/// `systemctl show -p PROPERTY --value SERVICE` on `unit`.
fn property(fixture: &Deployed, unit: &str, service: &str, property: &str) -> String {
    fixture.on_unit(unit, &format!("systemctl show -p {property} --value {service}"))
}

#[test]
fn the_restart_delay_follows_the_deployment_and_the_config_into_systemd() {
    let Some(fixture) = on_machines("restart-delay", 3, &[]) else { return };
    let units: Vec<String> = fixture.units().into_iter().map(|(u, _)| u).collect();
    // Every unit — the bootstrap primary, which rendered its unit alone, included — waits out
    // down-after (5 s) + 3 s, and no start limit applies.
    for unit in &units {
        let service = valkey_service(unit);
        assert_eq!(property(&fixture, unit, &service, "RestartUSec"), "8s", "{unit}");
        assert_eq!(property(&fixture, unit, &service, "StartLimitIntervalUSec"), "0", "{unit}");
        let sentinel = format!("{APP}-{}-sentinel.service", unit.replace('/', "-"));
        assert_eq!(property(&fixture, unit, &sentinel, "StartLimitIntervalUSec"), "0", "{unit}");
    }
    let pids: Vec<String> =
        units.iter().map(|u| property(&fixture, u, &valkey_service(u), "MainPID")).collect();
    fixture.juju.config_set(APP, &[("down-after-milliseconds", "3000")]).expect("config");
    for unit in &units {
        let (_, took) = poll(&format!("{unit}'s RestartSec to follow the config"), CONVERGE, || {
            match property(&fixture, unit, &valkey_service(unit), "RestartUSec").as_str() {
                "6s" => Ok(()),
                other => Err(other.to_string()),
            }
        });
        println!("{unit}: RestartSec 6s {took:?} after the config change");
    }
    let after: Vec<String> =
        units.iter().map(|u| property(&fixture, u, &valkey_service(u), "MainPID")).collect();
    assert_eq!(after, pids, "a new restart delay must not restart Valkey");
}

/// The unit's data storage location, as its hooks see it.
const STORAGE: &str =
    "$(storage-get -s \"$(storage-list --format=json data | tr -d '[]\" ' | cut -d, -f1)\" location)";

/// The `location:` of the charm's `data` storage in metadata.yaml: where Juju mounts it on the
/// unit's machine (a singleton store; `domain/storage/mount.go`, `FilesystemMountPoint`).
fn data_location() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("metadata.yaml");
    let meta: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(path).expect("metadata.yaml")).expect("metadata.yaml");
    meta["storage"]["data"]["location"].as_str().expect("data has a location").to_string()
}

#[test]
fn the_services_run_as_the_service_user_in_a_sandbox() {
    let Some(fixture) = on_machines("service-user", 1, &[]) else { return };
    let unit = fixture.units()[0].0.clone();
    let sentinel = format!("{APP}-{}-sentinel.service", unit.replace('/', "-"));
    // The storage is where Juju mounts it, outside /tmp: the services get a private /tmp, and
    // write only the storage's own directories.
    let location = data_location();
    assert_eq!(fixture.on_unit(&unit, &format!("echo {STORAGE}")), location, "storage-get location");
    let writable = ["db", "etc", "run", "log"].map(|d| format!("{location}/{d}")).join(" ");
    for service in [valkey_service(&unit), sentinel] {
        assert_eq!(property(&fixture, &unit, &service, "PrivateTmp"), "yes", "{service} PrivateTmp");
        assert_eq!(
            property(&fixture, &unit, &service, "ReadWritePaths"),
            writable,
            "{service} ReadWritePaths"
        );
        for (key, want) in [
            ("User", "valkey"),
            ("Group", "valkey"),
            ("UMask", "0077"),
            ("NoNewPrivileges", "yes"),
            ("ProtectSystem", "strict"),
            ("ProtectHome", "yes"),
            ("ProtectKernelTunables", "yes"),
            ("RestrictSUIDSGID", "yes"),
            ("CapabilityBoundingSet", ""),
        ] {
            assert_eq!(property(&fixture, &unit, &service, key), want, "{service} {key}");
        }
        assert_eq!(fixture.on_unit(&unit, &format!("systemctl is-active {service}")), "active");
    }
    let users = fixture.on_unit(&unit, "ps -o user= -C valkey-server | sort -u");
    assert_eq!(users, "valkey", "every valkey-server process runs as the service user");
    // Valkey rewrites its own file (as Sentinel does after a failover): still the user's, 0600.
    let admin = fixture.admin();
    let node = common::nodes::data(&fixture.units()[0].1);
    let _: () =
        common::nodes::query(&node, &admin, redis::cmd("CONFIG").arg("REWRITE")).expect("CONFIG REWRITE");
    let modes = fixture.on_unit(
        &unit,
        &format!("cd {STORAGE} && stat -c '%n %U %a' etc/valkey.conf etc/sentinel.conf db etc run log bin"),
    );
    assert_eq!(
        modes,
        "etc/valkey.conf valkey 600\netc/sentinel.conf valkey 600\ndb valkey 700\netc valkey 700\n\
         run valkey 700\nlog valkey 700\nbin root 755",
    );
    // The service user cannot write the system, nor run juju-exec (hence the root relay).
    let denied = fixture.on_unit(
        &unit,
        &format!(
            "j=$(command -v juju-exec); setpriv --reuid valkey --regid valkey --clear-groups sh -c \
             'touch /etc/x 2>/dev/null && echo wrote; '\"$j\"' {unit} -- true >/dev/null 2>&1 && echo ran; true'"
        ),
    );
    assert_eq!(denied, "", "the service user wrote /etc or ran juju-exec");
    // The root relay is waiting for the services' requests.
    let relay = format!("{APP}-{}-relay.path", unit.replace('/', "-"));
    assert_eq!(fixture.on_unit(&unit, &format!("systemctl is-active {relay}")), "active");
}

#[test]
fn a_crash_looping_sentinel_is_restarted_for_as_long_as_it_crashes() {
    let Some(fixture) = on_machines("crash-loop", 3, &[]) else { return };
    let unit = fixture.units()[1].0.clone();
    let sentinel = format!("{APP}-{}-sentinel.service", unit.replace('/', "-"));
    // Seven crashes within a few seconds: systemd's default limit (5 starts in 10 s) would
    // leave the unit failed after the fifth.
    for crash in 1..=7 {
        let pid = property(&fixture, &unit, &sentinel, "MainPID");
        assert_ne!(pid, "0", "crash {crash}: the Sentinel is not running");
        fixture.on_unit(&unit, &format!("kill -9 {pid}"));
        poll(&format!("the Sentinel back after crash {crash}"), CONVERGE, || {
            let now = property(&fixture, &unit, &sentinel, "MainPID");
            (now != "0" && now != pid).then_some(()).ok_or(now)
        });
    }
    assert_eq!(fixture.on_unit(&unit, &format!("systemctl is-active {sentinel}")), "active");
    let restarts: u32 = property(&fixture, &unit, &sentinel, "NRestarts").parse().expect("NRestarts");
    assert!(restarts >= 7, "{restarts} restarts");
}

#[test]
fn a_retired_units_services_stay_down_after_its_machine_reboots() {
    let Some(fixture) = on_local_machines("retire-reboot", 3, &[]) else { return };
    let Baseline { primary_unit, .. } = fixture.baseline();
    let unit = fixture.units().into_iter().map(|(u, _)| u).find(|u| *u != primary_unit).expect("a replica");
    // The leaving unit's `stop` handler (what Juju runs before it removes the unit), run on the
    // machine as the hook would; then the machine reboots before it is taken away.
    fixture.on_unit(&unit, "JUJU_DISPATCH_PATH=hooks/stop ./dispatch");
    assert_eq!(fixture.on_unit(&unit, "systemctl list-unit-files --no-legend 'valkey*' | wc -l"), "0");
    fixture.reboot_machine(&unit);
    // `start` runs after the reboot; a retired unit starts nothing.
    fixture
        .juju
        .wait_for("the rebooted unit's start hook to finish", CONVERGE, |s| {
            s.unit(&unit).is_some_and(|u| u.juju_status.current == "idle")
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(fixture.on_unit(&unit, "systemctl list-units --no-legend --all 'valkey*' | wc -l"), "0");
    assert_eq!(fixture.on_unit(&unit, "pgrep -c valkey-server || true"), "0");
}

#[test]
fn a_vanished_primary_machine_fails_over_once_and_comes_back_as_a_replica() {
    let Some(fixture) = on_local_machines("vanished", 3, &[]) else { return };
    let Baseline { admin, units, sentinels, primary: old, primary_unit: old_unit, epoch } =
        fixture.baseline();
    let probe = start_probe(&sentinels, "vanished", 100, CONVERGE);
    probe.mark("kill-machine primary");
    fixture.kill_machine(&old_unit);
    // The vanished machine's Sentinel answers no more: ask the two that are left.
    let mut survivors = sentinels.clone();
    survivors.sentinels.retain(|s| s.host != old.host);
    assert_eq!(survivors.sentinels.len(), 2, "{:?}", survivors.sentinels);
    let moved = replaced(&survivors, &old, "no failover after the machine vanished");
    let new_unit = unit_at(&units, &moved);
    println!("{old_unit}'s machine vanished; {new_unit} promoted");
    let acked = probe.acked();
    assert!(probe.wait_acked(acked + 100, CONVERGE), "writes did not resume on the new primary");

    probe.mark("start-machine");
    fixture.start_machine(&old_unit);
    let (primary, epoch_after) = settled(&fixture, &sentinels, &admin, Some(&new_unit));
    assert_eq!(epoch_after, epoch + 1, "one vanished machine must cause exactly one failover");
    let info = common::nodes::replication(&old, &admin).unwrap();
    assert_eq!(common::nodes::field(&info, "role").unwrap(), "slave", "{info:?}");
    assert_eq!(common::nodes::field(&info, "master_host").unwrap(), primary.host, "{info:?}");
    let acked = probe.acked();
    assert!(probe.wait_acked(acked + 100, CONVERGE), "writes stopped after the machine came back");
    let log = probe.stop();
    common::print_probe(&log);
    verify(&log, &fixture.deployment().data_endpoints().unwrap(), &admin, Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("writes lost: {e}"));
}

#[test]
fn a_primary_rebooted_without_its_data_rejoins_as_a_replica_and_nothing_is_lost() {
    let Some(fixture) = on_local_machines("reboot-wiped", 3, &[]) else { return };
    let Baseline { admin, units, sentinels, primary: old, primary_unit: old_unit, epoch } =
        fixture.baseline();
    let probe = start_probe(&sentinels, "reboot-wiped", 100, CONVERGE);
    // The primary's Valkey dies (no shutdown save), its disk loses its data files (a replaced
    // disk, a mistaken rm), and its machine reboots at once — within the restart delay and
    // quicker than down-after, so the Sentinels still name it when it is back.
    let pid = property(&fixture, &old_unit, &valkey_service(&old_unit), "MainPID");
    let wipe = format!(
        "kill -9 {pid} && id=$(storage-list --format=json data | tr -d '[]\" ' | cut -d, -f1) && \
         root=$(storage-get -s \"$id\" location) && rm -rf \"$root/db/appendonlydir\" \"$root/db/dump.rdb\""
    );
    probe.mark("kill -9, wipe and reboot the primary");
    fixture.on_unit(&old_unit, &wipe);
    fixture.reboot_machine(&old_unit);
    // Started by the boot it would be an empty primary its replicas copy; the charm keeps it down
    // until the Sentinels have promoted a replica, then brings it back as that one's replica.
    let moved = replaced(&sentinels, &old, "the primary without its data was not replaced");
    let new_unit = unit_at(&units, &moved);
    let (primary, epoch_after) = settled(&fixture, &sentinels, &admin, Some(&new_unit));
    assert_eq!(primary, moved);
    println!("{old_unit} rebooted without its data; {new_unit} is primary");
    assert_eq!(epoch_after, epoch + 1, "exactly one failover");
    let info = common::nodes::replication(&old, &admin).unwrap();
    assert_eq!(common::nodes::field(&info, "role").unwrap(), "slave", "{info:?}");
    let acked = probe.acked();
    assert!(probe.wait_acked(acked + 100, CONVERGE), "writes stopped after the reboot");
    let log = probe.stop();
    common::print_probe(&log);
    verify(&log, &fixture.deployment().data_endpoints().unwrap(), &admin, Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("writes lost: {e}"));
}

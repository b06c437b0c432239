//! Scenario: the primary's valkey-server is killed (`kill -9`, through `juju exec`) under a
//! continuous writer (`WAIT 1`), with and without persistence. The killed node comes back (the
//! charm's supervisor restarts it), the deployment settles, no acknowledged write is lost on any
//! node, and — because the charm delays a primary's restart past Sentinel's down-after
//! (valkey-facts.md "Trap") — Sentinel has promoted a replica: config-epoch rose by exactly one.
//! Timings are printed only.

mod common;

use std::time::{Duration, Instant};

use common::kept;
use common::nodes::{self, field};
use common::settle::{settled, CONVERGE};
use common::{poll, start_probe, unit_at, Deployed, APP};
use valkey_harness::probe::verify;
use valkey_harness::valkey::{Credentials, Endpoint};

/// Acknowledged writes awaited before the fault and after recovery.
const WRITES_PER_PHASE: u64 = 100;
/// Keys written (and confirmed by both replicas) before the fault.
const KEYS: u32 = 50;

#[test]
fn killed_primary_with_persistence_is_replaced_without_loss() {
    crash_scenario("crash-aof", false);
}

#[test]
fn killed_primary_without_persistence_never_wipes_the_data() {
    crash_scenario("crash-noaof", true);
}

/// Deploys 3 units (down-after 2000 ms, the floor, to keep it short), optionally turns
/// persistence off afterwards (an operator's valid choice on a running deployment), kills the
/// primary under writes and checks the outcome.
fn crash_scenario(name: &str, appendonly_off_later: bool) {
    let fixture = Deployed::new(name, 3, &[("down-after-milliseconds", "2000")]);
    let admin = fixture.admin();
    if appendonly_off_later {
        fixture.juju.config_set(APP, &[("appendonly", "false")]).unwrap();
        let units = fixture.units();
        poll("appendonly off on every node", CONVERGE, || {
            let values: Result<Vec<String>, String> =
                units.iter().map(|(_, a)| nodes::config_get(&nodes::data(a), &admin, "appendonly")).collect();
            let values = values?;
            values.iter().all(|v| v == "no").then_some(()).ok_or(format!("{values:?}"))
        });
        fixture.wait_settled(3, "appendonly=false");
    }
    let units = fixture.units();
    let deployment = fixture.deployment();
    let sentinels = deployment.sentinel_set(&admin).unwrap();
    let (old, epoch) = settled(&fixture, &sentinels, &admin, None);
    let old_unit = unit_at(&units, &old);
    kept::write(&old, &admin, KEYS, "the crash");

    let probe = start_probe(&sentinels, "{name}", WRITES_PER_PHASE, CONVERGE);

    let run_id = server_field(&old, &admin, "run_id").unwrap();
    let killed_at = Instant::now();
    probe.mark("kill -9 primary");
    let pid = deployment.kill_valkey(&old_unit, &old, &admin, "KILL").unwrap();
    println!("killed valkey-server pid {pid} of {old_unit} (primary)");

    // The crash is handled once the killed node runs again (a new run_id) ...
    let (_, took) = poll(&format!("{old_unit}'s valkey-server to be restarted"), CONVERGE, || {
        match server_field(&old, &admin, "run_id")? {
            id if id != run_id => Ok(()),
            _ => Err("still the killed process".to_string()),
        }
    });
    println!("{old_unit} restarted {took:?} after the kill");
    // ... and everything agrees again around one primary.
    let (primary, epoch_after) = settled(&fixture, &sentinels, &admin, None);
    println!("settled on {} {:?} after the kill", unit_at(&units, &primary), killed_at.elapsed());
    // The restarted node came back fenced (replica-priority 0); its supervisor told the charm
    // (`valkey-restarted`), which admitted it once it had resynced from the new primary.
    let (_, took) = poll(&format!("{old_unit} to be told of its restart and admitted"), CONVERGE, || {
        let log = fixture.juju.debug_log().map_err(|e| e.to_string())?;
        let told = log.lines().any(|l| l.contains(old_unit.as_str()) && l.contains("valkey-restarted:"));
        let info = nodes::replication(&old, &admin)?;
        match (told, field(&info, "slave_priority")?) {
            (true, p) if p != "0" => Ok(()),
            (told, p) => Err(format!("valkey-restarted logged: {told}, slave_priority {p}")),
        }
    });
    println!("{old_unit} admitted for promotion {took:?} after settling");
    let acked = probe.acked();
    assert!(probe.wait_acked(acked + WRITES_PER_PHASE, CONVERGE), "writes did not resume after the crash");
    let log = probe.stop();
    common::print_probe(&log);
    // The new primary's Sentinel log (via juju exec) explains the timeline when it is long.
    let new_unit = unit_at(&units, &primary);
    match deployment.sentinel_log(&new_unit) {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            println!("{new_unit} sentinel log tail:\n{}", lines[lines.len().saturating_sub(30)..].join("\n"));
        }
        Err(e) => println!("no sentinel log of {new_unit}: {e}"),
    }

    // No acknowledged write is lost, on any node: neither the probe's nor the keys written first.
    let endpoints = deployment.data_endpoints().unwrap();
    keys_everywhere(&endpoints, &admin);
    verify(&log, &endpoints, &admin, Duration::from_secs(30)).unwrap_or_else(|e| panic!("writes lost: {e}"));
    // Sentinel replaced the primary exactly once (the charm delays a primary's restart past
    // down-after so that it does), and get-primary agrees.
    assert_eq!(epoch_after, epoch + 1, "one crash must cause exactly one failover (primary now {primary})");
    assert_ne!(primary, old, "the killed primary must have been replaced");
    assert_eq!(sentinels.wait_agreement(CONVERGE).unwrap().config_epoch, epoch + 1, "a second failover");
    assert_eq!(deployment.primary().unwrap().endpoint, primary, "get-primary disagrees with the Sentinels");
}

/// A field of `INFO server`.
fn server_field(node: &Endpoint, admin: &Credentials, name: &str) -> Result<String, String> {
    let text: String = nodes::query(node, admin, redis::cmd("INFO").arg("server"))?;
    let info = valkey_harness::valkey::parse_info(&text).into_iter().collect();
    field(&info, name).map(str::to_string)
}

/// Checks every data node serves every key written before the crash.
fn keys_everywhere(endpoints: &[Endpoint], admin: &Credentials) {
    let keys = kept::names(KEYS);
    for node in endpoints {
        let values: Vec<Option<String>> = nodes::query(node, admin, redis::cmd("MGET").arg(&keys)).unwrap();
        let present = values.iter().filter(|v| v.is_some()).count();
        assert_eq!(
            present,
            keys.len(),
            "{node} lost {} of {} keys confirmed by both replicas",
            keys.len() - present,
            keys.len()
        );
    }
}

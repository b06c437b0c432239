//! Scenario (issue 15, items 3 and 6): settings that silently disable HA. `replica-priority=0`
//! on every unit must show in every unit's and the application's status what it costs; an
//! absurd `maxmemory` (1 byte: every write would fail with OOM) is refused, and while the config
//! is invalid the charm still restarts dead services, with the last good settings.

mod common;

use std::time::{Duration, Instant};

use common::nodes;
use common::{poll, Deployed, APP};

/// Deadline for config changes and restarts to reach every unit (update-status runs every 10 s).
const CONVERGE: Duration = Duration::from_secs(90);
/// What `replica-priority=0` costs, as the status must say it.
const PRIORITY_COST: &str = "cannot fail over: replica-priority 0 on every replica";

#[test]
fn settings_that_disable_ha_are_shown_or_refused_and_self_healing_goes_on() {
    let fixture = Deployed::new("ha-costs", 3, &[]);
    let admin = fixture.admin();

    // replica-priority=0 everywhere: every status says the deployment cannot fail over, and why.
    let started = Instant::now();
    fixture.juju.config_set(APP, &[("replica-priority", "0")]).unwrap();
    let status = fixture
        .juju
        .wait_for("every status to show what replica-priority 0 costs", CONVERGE, |status| {
            let units = status.units(APP);
            let app = &status.applications[APP].application_status;
            units.len() == 3
                && app.message.contains(PRIORITY_COST)
                && units.iter().all(|(_, u)| {
                    u.workload_status.current == "active" && u.workload_status.message.contains(PRIORITY_COST)
                })
        })
        .unwrap_or_else(|e| panic!("{e}\n{}", fixture.log_tail()));
    println!("replica-priority=0 shown after {:?}", started.elapsed());
    println!("  app: {}", status.applications[APP].application_status.message);
    for (unit, u) in status.units(APP) {
        println!("  {unit}: {}", u.workload_status.message);
    }
    fixture.juju.config_set(APP, &[("replica-priority", "100")]).unwrap();
    fixture
        .juju
        .wait_for("the cost to disappear with the setting", CONVERGE, |status| {
            let units = status.units(APP);
            !status.applications[APP].application_status.message.contains(PRIORITY_COST)
                && units.iter().all(|(_, u)| !u.workload_status.message.contains("cannot fail over"))
        })
        .unwrap_or_else(|e| panic!("{e}\n{}", fixture.log_tail()));

    // maxmemory=1 is refused: every unit blocked, naming the floor; Valkey keeps its old limit.
    fixture.juju.config_set(APP, &[("maxmemory", "1")]).unwrap();
    fixture
        .juju
        .wait_for("every unit blocked on maxmemory", CONVERGE, |status| {
            let units = status.units(APP);
            units.len() == 3
                && units.iter().all(|(_, u)| {
                    u.workload_status.current == "blocked"
                        && u.workload_status.message.contains("invalid maxmemory: 1 is below the floor")
                })
        })
        .unwrap_or_else(|e| panic!("{e}\n{}", fixture.log_tail()));
    let units = fixture.units();
    for (_, address) in &units {
        assert_eq!(nodes::config_get(&nodes::data(address), &admin, "maxmemory").unwrap(), "0");
    }

    // While the config is invalid, a unit whose every process died is restarted by its next hook.
    let primary = fixture.deployment().primary().unwrap().endpoint;
    let (victim, address) = units.iter().find(|(_, a)| nodes::data(a) != primary).unwrap().clone();
    fixture.deployment().kill_workload(&victim).unwrap();
    assert!(nodes::replication(&nodes::data(&address), &admin).is_err(), "{victim} still answers");
    let killed = Instant::now();
    let (_, took) =
        poll("the dead unit's services to be restarted while the config is invalid", CONVERGE, || {
            nodes::replication(&nodes::data(&address), &admin)?;
            nodes::sentinel_master(&nodes::sentinel(&address), &admin)
        });
    println!("{victim} restarted {took:?} after its processes were killed ({:?})", killed.elapsed());
    assert_eq!(
        nodes::config_get(&nodes::data(&address), &admin, "maxmemory").unwrap(),
        "0",
        "last good value"
    );
    let status = fixture.juju.status().unwrap();
    let shown = &status.unit(&victim).unwrap().workload_status;
    assert_eq!(shown.current, "blocked", "the invalid value still blocks {victim}: {}", shown.message);

    fixture.juju.config_set(APP, &[("maxmemory", "0")]).unwrap();
    fixture.wait_settled(3, "maxmemory fixed");
}

//! Scenario: observability end to end, as an operator relating COS would get it. A real central
//! Prometheus (Debian's package, [`common::prometheus`]) runs on the host side of the model's
//! network; the test collector subordinate (`tests/fixtures/cos-collector`, the part the
//! opentelemetry-collector plays) sits beside every unit, reads the principal's `cos-agent`
//! publication, scrapes the published jobs on the machine's loopback with a Prometheus in agent
//! mode and remote-writes the samples, with the Juju topology labels, to the central Prometheus,
//! which evaluates the alert rules the principal published.
//!
//! 1. `collector_path_with_a_fake_principal`: a shell principal publishing a hand-written
//!    `config` (`tests/fixtures/cos-agent-fake`): its series arrive with the topology labels, a
//!    healthy deployment fires no alert over several evaluation rounds, and a `kill -9` of one
//!    unit's workload fires that unit's alert and nothing else.
//! 2. `valkey_faults_fire_their_alerts`: the charm itself (×3) with the collector: nothing fires
//!    while healthy; `kill -9` of the primary, a replica cut off from the primary
//!    (`juju-local cut`), and a frozen Sentinel (SIGSTOP) each fire their alert within a
//!    deadline and nothing unrelated fires; the exporter's port refuses connections on the
//!    unit's public address (it listens on the machine's loopback only).
//!
//! The charm scenario needs separate hosts (machine mode, or host mode with
//! `VALKEY_E2E_SUBSTRATE=hosts`): `cut` exists there only, and in loopback mode a unit's public
//! address is a loopback one. The fake-principal scenario also runs in loopback mode (any user).
//! Without root, Prometheus or the machines' packages, a scenario prints why it skips.

mod common;

use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::prometheus::{self, Alert, Central};
use common::substrate::Substrate;
use common::{poll, Deployed};
use valkey_harness::deployment::SENTINEL_PORT;
use valkey_harness::juju::Juju;
use valkey_harness::valkey::Endpoint;

/// Deadline for the collectors to settle and for the first samples to arrive.
const ARRIVE: Duration = Duration::from_secs(180);
/// Deadline for an alert to fire after its fault (the rule's `for` and the failover included).
const FIRE: Duration = Duration::from_secs(240);
/// Evaluation rounds a healthy deployment must pass without any alert.
const QUIET_ROUNDS: u32 = 10;

const COLLECTOR: &str = "cos-collector";
const FAKE: &str = "cos-agent-fake";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn skip(scenario: &str, why: &str) {
    println!("skipped: {why} ({scenario})");
}

/// Why this machine cannot run a scenario on `substrate`, if it cannot: root for separate hosts,
/// Debian's prometheus and jq on the host (central Prometheus; the collector outside machines),
/// and the same in the machines' root filesystem (machine mode).
fn unavailable(substrate: Substrate) -> Option<String> {
    if substrate != Substrate::Loopback && !common::hosts::running_as_root() {
        return Some("separate hosts (machine or host mode) need root".into());
    }
    if let Some(why) = prometheus::unavailable() {
        return Some(why);
    }
    if !Path::new("/usr/bin/jq").is_file() {
        return Some("jq is missing on the host (scripts/setup installs it)".into());
    }
    if substrate == Substrate::Machines {
        let rootfs = std::env::var_os("JUJU_LOCAL_ROOTFS")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/var/cache/juju-local/rootfs/current"));
        for tool in ["usr/bin/prometheus", "usr/bin/jq", "usr/bin/prometheus-redis-exporter"] {
            if !rootfs.join(tool).is_file() {
                return Some(format!(
                    "the machines' root filesystem {} has no /{tool}: run scripts/setup-machines",
                    rootfs.display()
                ));
            }
        }
    }
    None
}

/// Skips (printing why) or, in CI as root, fails when the scenario cannot run here.
fn can_run(scenario: &str, substrate: Substrate) -> bool {
    match unavailable(substrate) {
        None => true,
        Some(why) if std::env::var_os("CI").is_some() && common::hosts::running_as_root() => {
            panic!("{scenario} cannot run in CI: {why}")
        }
        Some(why) => {
            skip(scenario, &why);
            false
        }
    }
}

/// The host's address on the model's bridge (`198.18.K.1`), from a unit's address, and a free
/// port there for the central Prometheus. In loopback mode (`127.0.K.x`) the same rule gives
/// `127.0.K.1`, a loopback address no unit has.
fn central_address(unit_address: &str) -> SocketAddr {
    let unit: std::net::Ipv4Addr = unit_address.parse().expect("a unit's IPv4 address");
    let [a, b, c, _] = unit.octets();
    let host = IpAddr::from([a, b, c, 1]);
    let port = TcpListener::bind((host, 0)).expect("a free port on the bridge").local_addr().unwrap().port();
    SocketAddr::new(host, port)
}

/// Runs `juju <args>` in the driver's model; panics when it fails.
fn juju(driver: &Juju, args: &[&str]) -> String {
    let model = driver.model().expect("model").to_string();
    let mut all = vec![args[0].to_string(), "-m".to_string(), model];
    all.extend(args[1..].iter().map(|s| s.to_string()));
    let finished = driver.raw(&all).expect("juju").success().unwrap_or_else(|e| panic!("juju {args:?}: {e}"));
    finished.stdout
}

/// Deploys the collector (remote-writing to `central`) and relates it to `principal`; waits
/// until each of the `units` principal units has an active, idle collector beside it. Returns
/// `(principal unit, collector unit)` pairs.
fn add_collector(driver: &Juju, principal: &str, units: usize, central: &Central) -> Vec<(String, String)> {
    let url = format!("remote-write-url={}", central.remote_write_url());
    juju(driver, &["deploy", fixture(COLLECTOR).to_str().unwrap(), COLLECTOR, "--config", &url]);
    juju(driver, &["integrate", &format!("{principal}:cos-agent"), &format!("{COLLECTOR}:cos-agent")]);
    let (pairs, took) = poll("a collector beside every unit", ARRIVE, || {
        let status = driver.status().map_err(|e| e.to_string())?;
        let mut pairs = Vec::new();
        for (unit, s) in status.units(principal) {
            let Some((sub, st)) =
                s.subordinates.iter().find(|(n, _)| n.starts_with(&format!("{COLLECTOR}/")))
            else {
                return Err(format!("{unit} has no collector yet"));
            };
            if st.workload_status.current != "active" || st.juju_status.current != "idle" {
                return Err(format!(
                    "{sub}: {} {:?} / {}",
                    st.workload_status.current, st.workload_status.message, st.juju_status.current
                ));
            }
            pairs.push((unit.to_string(), sub.clone()));
        }
        (pairs.len() == units)
            .then_some(pairs.clone())
            .ok_or(format!("{} of {units} collectors", pairs.len()))
    });
    println!("collectors active beside {units} units in {took:?}");
    pairs
}

/// The alert rules the principal published, as the collector on `sub` received them.
fn published_rules(driver: &Juju, sub: &str) -> String {
    let out = driver.exec(sub, "cat \"$JUJU_CHARM_DIR/collector/rules.json\"").expect("exec");
    assert_eq!(out.code, 0, "rules on {sub}: {out:?}");
    let rules: serde_json::Value = serde_json::from_str(&out.stdout).expect("rules are JSON");
    let count: usize = rules["groups"]
        .as_array()
        .map_or(0, |g| g.iter().map(|g| g["rules"].as_array().map_or(0, Vec::len)).sum());
    assert!(count > 0, "{sub} received no alert rule: {rules}");
    out.stdout
}

/// Waits until every scrape job's series `up` of every unit in `units` is 1, the same number of
/// jobs for each, with the Juju topology labels of that unit.
fn wait_series(central: &Central, app: &str, units: &[(String, String)], model_uuid: &str) {
    let (jobs, took) = poll("every unit's scrape jobs up", ARRIVE, || {
        let series = central.query(&format!("up{{juju_application=\"{app}\"}}"))?;
        let mut jobs = None;
        for (unit, _) in units {
            let mine: Vec<&serde_json::Value> =
                series.iter().filter(|s| s["metric"]["juju_unit"] == unit.as_str()).collect();
            if mine.is_empty() {
                return Err(format!("no series of {unit} yet"));
            }
            for s in &mine {
                let m = &s["metric"];
                assert_eq!(m["juju_model_uuid"], model_uuid, "{s}");
                assert!(m["juju_model"].as_str().is_some_and(|n| !n.is_empty()), "{s}");
                if s["value"][1] != "1" {
                    return Err(format!("{unit}: {s}"));
                }
            }
            if *jobs.get_or_insert(mine.len()) != mine.len() {
                return Err(format!("{unit} has {} jobs up, another unit {jobs:?}", mine.len()));
            }
        }
        Ok(jobs.unwrap_or(0))
    });
    println!("{jobs} scrape jobs up on each of {} units, labelled, after {took:?}", units.len());
}

/// Asserts that `rounds` evaluation rounds pass with no alert at all, pending or firing.
fn assert_quiet(central: &Central, groups: usize, what: &str) {
    central.wait_rounds(QUIET_ROUNDS, groups);
    let alerts = central.alerts().expect("alerts");
    assert!(alerts.is_empty(), "{what}: alerts after {QUIET_ROUNDS} rounds: {alerts:#?}");
    println!("{what}: no alert over {QUIET_ROUNDS} evaluation rounds");
}

/// Waits until an alert `accepts` fires; then every firing alert must be `expected`. Returns
/// the alert that fired.
fn wait_alert(
    central: &Central,
    what: &str,
    accepts: impl Fn(&Alert) -> bool,
    expected: impl Fn(&Alert) -> bool,
) -> Alert {
    let (alert, took) = poll(what, FIRE, || {
        let firing = central.firing()?;
        firing.iter().find(|a| accepts(a)).cloned().ok_or(format!("firing: {:?}", names(&firing)))
    });
    println!("{what}: {} fired after {took:?} ({:?})", alert.name, alert.labels);
    let firing = central.firing().expect("alerts");
    let unrelated: Vec<&Alert> = firing.iter().filter(|a| !expected(a)).collect();
    assert!(unrelated.is_empty(), "{what}: unrelated alerts fire too: {unrelated:#?}");
    alert
}

fn names(alerts: &[Alert]) -> Vec<String> {
    alerts.iter().map(|a| format!("{}{{{}}}", a.name, a.label("juju_unit"))).collect()
}

/// The model's uuid (`juju show-model`).
fn model_uuid(driver: &Juju) -> String {
    let model = driver.model().expect("model").to_string();
    let out = juju(driver, &["show-model", &model, "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&out).expect("show-model JSON");
    doc.as_object()
        .and_then(|m| m.values().next())
        .and_then(|m| m["model-uuid"].as_str())
        .expect("model-uuid")
        .to_string()
}

#[test]
fn collector_path_with_a_fake_principal() {
    let scenario = "observability-fake";
    let root = common::hosts::running_as_root();
    let substrate =
        Substrate::pinned().unwrap_or(if root { Substrate::Machines } else { Substrate::Loopback });
    if !can_run(scenario, substrate) {
        return;
    }
    let mut driver = Juju::from_env().expect("juju CLI");
    if driver.local_home().is_none() {
        return skip(scenario, "the fake principal and the bridge address need juju-local");
    }
    let model = format!("e2e-{scenario}-{}", std::process::id());
    driver.add_model_with(&model, &[("network-mode", substrate.mode())]).expect("add-model");
    println!("substrate: {}", substrate.mode());
    driver.deploy(&fixture(FAKE), FAKE, 2, &[], &[]).expect("deploy the fake principal");
    let status = driver.wait_idle_active(FAKE, 2, common::SETTLE).expect("fake principal active");
    let first = status.units(FAKE)[0].1.public_address.clone().expect("address");
    let central = Central::start(central_address(&first), None);
    let pairs = add_collector(&driver, FAKE, 2, &central);
    let groups = central.load_rules(&[published_rules(&driver, &pairs[0].1)]);
    wait_series(&central, FAKE, &pairs, &model_uuid(&driver));
    assert_quiet(&central, groups, "healthy fake principals");

    let (victim, _) = &pairs[1];
    let out = driver.exec(victim, "kill -9 $(cat \"$JUJU_CHARM_DIR/workload/pid\")").expect("exec");
    assert_eq!(out.code, 0, "{out:?}");
    wait_alert(
        &central,
        &format!("FakeWorkloadDown for {victim}"),
        |a| a.name == "FakeWorkloadDown" && a.label("juju_unit") == victim,
        |a| a.name == "FakeWorkloadDown" && a.label("juju_unit") == victim,
    );
    drop(central);
}

/// Whether the charm under test provides `cos-agent` (the publication of issue 17).
fn charm_publishes() -> bool {
    let meta = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("metadata.yaml"))
        .unwrap_or_default();
    let doc: serde_yaml::Value = serde_yaml::from_str(&meta).unwrap_or_default();
    doc["provides"]["cos-agent"].is_mapping()
}

/// The exporter answers on the machine's loopback only: from outside, on the unit's public
/// address, its port refuses the connection.
fn assert_exporter_loopback_only(units: &[(String, String)]) {
    for (unit, address) in units {
        let at = SocketAddr::new(address.parse().expect("address"), 9121);
        if let Err(why) = prometheus::refused(at) {
            panic!("{unit}: the exporter port on the public address must refuse: {why}");
        }
    }
    println!("exporter port 9121 refused on every unit's public address");
}

/// Whether `alert` is about `unit` (its `juju_unit`), or about the whole application (no unit).
fn about(alert: &Alert, unit: &str) -> bool {
    alert.label("juju_unit") == unit || alert.label("juju_unit").is_empty()
}

#[test]
fn valkey_faults_fire_their_alerts() {
    let scenario = "observability";
    let substrate = Substrate::pinned().unwrap_or(Substrate::Machines);
    if substrate == Substrate::Loopback {
        return skip(scenario, "a replica cut off and the exporters' loopback-only port need separate hosts");
    }
    if !can_run(scenario, substrate) {
        return;
    }
    if !charm_publishes() {
        return skip(scenario, "the charm does not provide cos-agent yet (metadata.yaml)");
    }
    let Some(fixture) = Deployed::new_hosts(scenario, 3, &[]) else { return };
    // Juju's default update-status interval, not the scenarios' 10 s: the charm repairs a hung
    // Sentinel at its next reconcile, and the alerts (`for: 1m`) are what an operator sees of a
    // fault between two reconciles.
    fixture.juju.model_config(&[("update-status-hook-interval", "5m")]).expect("model-config");
    let units = fixture.units();
    let run = Run::from_env();
    let central = Central::start(central_address(&units[0].1), run.tsdb().as_deref());
    let pairs = add_collector(&fixture.juju, common::APP, 3, &central);
    let groups = central.load_rules(&[published_rules(&fixture.juju, &pairs[0].1)]);
    wait_series(&central, common::APP, &pairs, &model_uuid(&fixture.juju));
    assert_exporter_loopback_only(&units);
    assert_quiet(&central, groups, "healthy valkey ×3");
    let deployment = fixture.deployment();
    let admin = fixture.admin();

    // 1. A frozen Sentinel (SIGSTOP): its exporter cannot read it. Thawed, it may report TILT.
    let primary = deployment.primary().expect("get-primary");
    let (frozen, address) = units.iter().find(|(u, _)| *u != primary.unit).cloned().expect("a replica");
    let sentinel = Endpoint::new(address.clone(), SENTINEL_PORT);
    let pid = deployment.kill_valkey(&frozen, &sentinel, &admin, "STOP").expect("kill -STOP sentinel");
    run.mark(&format!("Sentinel of {frozen} frozen"));
    let thaw = common::Thaw { juju: &fixture.juju, unit: frozen.clone(), pid };
    wait_alert(
        &central,
        &format!("a Sentinel alert for the frozen Sentinel of {frozen}"),
        |a| {
            a.label("juju_unit") == frozen
                && (a.name == "SentinelDown"
                    || (a.name == "ValkeyUnitUnreachable" && a.label("process") == "sentinel"))
        },
        |a| {
            a.label("juju_unit") == frozen
                && (a.name.starts_with("Sentinel") || a.name == "ValkeyUnitUnreachable")
        },
    );
    drop(thaw);
    run.mark("thawed");
    wait_clear(&central, "the thawed Sentinel", |a| {
        a.name == "SentinelDown" || a.name == "ValkeyUnitUnreachable"
    });

    // 2. A replica cut off from the primary (`juju-local cut --from`): its replication link is down.
    let primary = deployment.primary().expect("get-primary");
    let replica = units
        .iter()
        .map(|(u, _)| u.clone())
        .find(|u| *u != primary.unit && *u != frozen)
        .expect("another replica");
    fixture.cut(&replica, Some(&primary.unit));
    run.mark(&format!("{replica} cut from the primary"));
    wait_alert(
        &central,
        &format!("ValkeyReplicaLinkDown for {replica} cut from {}", primary.unit),
        |a| a.name == "ValkeyReplicaLinkDown" && a.label("juju_unit") == replica,
        |a| {
            (a.name == "ValkeyReplicaLinkDown" && a.label("juju_unit") == replica)
                || (a.name == "ValkeyReplicationLag" && a.label("juju_unit") == primary.unit)
                || a.name == "SentinelTilt"
        },
    );
    fixture.heal(&replica, Some(&primary.unit));
    run.mark("healed");
    wait_clear(&central, "the healed replica", |a| {
        a.name == "ValkeyReplicaLinkDown" || a.name == "ValkeyReplicationLag"
    });

    // 3. `kill -9` of the primary: the node-down or failover alert fires.
    let primary = deployment.primary().expect("get-primary");
    deployment.kill_valkey(&primary.unit, &primary.endpoint, &admin, "KILL").expect("kill -9 the primary");
    run.mark(&format!("kill -9 primary {}", primary.unit));
    wait_alert(
        &central,
        &format!("a node-down or failover alert after kill -9 of the primary {}", primary.unit),
        |a| {
            (a.name == "ValkeyNodeDown" && a.label("juju_unit") == primary.unit)
                || a.name == "ValkeyFailover"
                || a.name == "ValkeyFailoverRecorded"
        },
        |a| {
            matches!(a.name.as_str(), "ValkeyFailover" | "ValkeyFailoverRecorded" | "SentinelTilt")
                || (about(a, &primary.unit)
                    && matches!(a.name.as_str(), "ValkeyNodeDown" | "ValkeyUnitUnreachable"))
        },
    );

    // 4. For the picture (`VALKEY_OBS_RUN`): once settled, a switchover, and a minute of metrics.
    if run.dir.is_some() {
        fixture.wait_settled(3, "after the crash");
        central.wait_rounds(40, groups);
        run.mark("switchover");
        let outcome =
            fixture.juju.run_action(&format!("{}/leader", common::APP), "failover", &[]).expect("failover");
        assert!(outcome.completed(), "failover action: {outcome:?}");
        fixture.wait_settled(3, "after the switchover");
        central.wait_rounds(60, groups);
    }
    drop(central);
    run.save();
}

/// Where a run keeps its central TSDB and its marks (`VALKEY_OBS_RUN`, for `bench/panels`).
struct Run {
    dir: Option<PathBuf>,
    marks: std::cell::RefCell<Vec<serde_json::Value>>,
}

impl Run {
    fn from_env() -> Run {
        let dir = std::env::var_os("VALKEY_OBS_RUN").filter(|d| !d.is_empty()).map(PathBuf::from);
        if let Some(dir) = &dir {
            std::fs::create_dir_all(dir).expect("VALKEY_OBS_RUN directory");
            println!("keeping the central TSDB and the marks in {}", dir.display());
        }
        Run { dir, marks: Default::default() }
    }

    fn tsdb(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join("tsdb"))
    }

    /// Records that `label` happens now.
    fn mark(&self, label: &str) {
        let at =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs_f64();
        self.marks.borrow_mut().push(serde_json::json!({"label": label, "at": at}));
    }

    fn save(&self) {
        if let Some(dir) = &self.dir {
            let text = serde_json::to_string_pretty(&*self.marks.borrow()).expect("marks");
            std::fs::write(dir.join("marks.json"), text).expect("write marks.json");
        }
    }
}

/// Waits until no alert `matches` is pending or firing any more (a fault undone).
fn wait_clear(central: &Central, what: &str, matches: impl Fn(&Alert) -> bool) {
    let (_, took) = poll(&format!("the alerts of {what} to clear"), FIRE, || {
        let left: Vec<Alert> = central.alerts()?.into_iter().filter(|a| matches(a)).collect();
        left.is_empty().then_some(()).ok_or(format!("still: {:?}", names(&left)))
    });
    println!("{what}: its alerts cleared after {took:?}");
}

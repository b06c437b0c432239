//! Subordinate applications as Juju 3.6 runs them, observed through the shell test charm
//! (principal, provides `source`) and the subordinate fixture charm (`subordinate: true`,
//! requires `host` with `scope: container`). Each rule names the Juju source it follows.

mod common;

use common::{eventually, TestModel};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn subordinate_charm() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/subordinate-charm")
}

/// `n` principal units, settled, plus the subordinate application deployed (no unit yet).
fn principal_and_subordinate(m: &TestModel, n: u32) {
    m.ok(&["deploy", common::test_charm().to_str().unwrap(), "-n", &n.to_string()]);
    m.ok(&["deploy", subordinate_charm().to_str().unwrap()]);
    m.wait();
}

/// A new model with [`principal_and_subordinate`] related (`source` ↔ `host`) and settled.
fn related(name: &str, n: u32) -> TestModel {
    let m = TestModel::new(name);
    principal_and_subordinate(&m, n);
    m.ok(&["integrate", "test-charm", "subordinate-charm"]);
    m.wait();
    m
}

fn status(m: &TestModel) -> Value {
    serde_json::from_str(&m.ok(&["status", "--format", "json"])).expect("status is JSON")
}

fn units_of(m: &TestModel, app: &str) -> Vec<String> {
    m.state().units_of(app).iter().map(|u| u.name.clone()).collect()
}

/// The subordinate unit on `principal`, once it exists.
fn subordinate_on(m: &TestModel, principal: &str) -> String {
    eventually(Duration::from_secs(30), &format!("a subordinate on {principal}"), || {
        m.state().subordinates_of(principal).first().map(|u| u.name.clone())
    })
}

/// `juju deploy` of a subordinate creates no unit (`cmd/juju/application/deployer/charm.go`:
/// a subordinate's unit count 1 becomes 0, any other is refused); units are never added
/// directly (`state/application.go`, `AddUnit`) nor removed directly
/// (`apiserver/facades/client/application/application.go`, `DestroyUnit`); a subordinate charm
/// needs a container-scoped `requires` endpoint (`internal/charm/meta.go`, `Check`).
#[test]
fn deploy_creates_no_subordinate_unit_and_add_or_remove_unit_is_refused() {
    let m = TestModel::new("sub-deploy");
    principal_and_subordinate(&m, 1);
    assert!(units_of(&m, "subordinate-charm").is_empty());
    let st = status(&m);
    let app = &st["applications"]["subordinate-charm"];
    assert!(app.get("units").is_none(), "{app}");
    assert_eq!(app["subordinate-to"], serde_json::json!([]), "{app}");
    let err = m.fails(&["deploy", subordinate_charm().to_str().unwrap(), "other", "-n", "2"]);
    assert_eq!(err, "ERROR cannot use --num-units or --to with subordinate application");
    let err = m.fails(&["add-unit", "subordinate-charm"]);
    assert_eq!(err, "ERROR cannot directly add units to subordinate application \"subordinate-charm\"");
    m.ok(&["integrate", "test-charm", "subordinate-charm"]);
    m.wait();
    let sub = subordinate_on(&m, "test-charm/0");
    let err = m.fails(&["remove-unit", &sub]);
    assert_eq!(
        err,
        format!(
            "ERROR unit \"{sub}\" is a subordinate, to remove use remove-relation. Note: this will remove all units of \"subordinate-charm\""
        )
    );
    let bad = tempfile::tempdir().unwrap();
    std::fs::write(
        bad.path().join("metadata.yaml"),
        "name: lonely\nsubordinate: true\nrequires:\n  host:\n    interface: test-data\n",
    )
    .unwrap();
    let err = m.fails(&["deploy", bad.path().to_str().unwrap()]);
    assert!(
        err.ends_with("subordinate charm \"lonely\" lacks \"requires\" relation with container scope"),
        "{err}"
    );
}

/// `integrate` of a container-scoped relation deploys one subordinate unit onto each principal
/// unit when that unit enters the relation's scope (`state/relationunit.go`, `EnterScope` →
/// `subordinateOps`), on the principal's machine. The subordinate runs Juju's new-unit order
/// (install, relation-created, leader-elected on the first, config-changed, start), then joins
/// only its own principal: a container scope's key ends in the principal's name
/// (`state/relation.go`, `Relation.Unit`), so a principal never sees another's subordinate.
#[test]
fn integrate_puts_one_subordinate_on_each_principal_that_joins_only_its_own_principal() {
    let m = TestModel::new("sub-integrate");
    principal_and_subordinate(&m, 2);
    m.clear_events();
    m.ok(&["integrate", "test-charm:source", "subordinate-charm:host"]);
    m.wait();
    for principal in ["test-charm/0", "test-charm/1"] {
        let sub = subordinate_on(&m, principal);
        let state = m.state();
        let (p, s) = (&state.units[principal], &state.units[&sub]);
        assert_eq!((s.machine, s.address), (p.machine, p.address), "{sub} is on {principal}'s machine");
        assert_eq!(
            m.exec(&sub, "echo $JUJU_MACHINE_ID $JUJU_PRINCIPAL_UNIT"),
            format!("{} {principal}", p.machine)
        );
        let leader = state.applications["subordinate-charm"].leader.as_deref() == Some(sub.as_str());
        let mut expected = vec!["install", "host-relation-created"];
        if leader {
            expected.push("leader-elected");
        }
        expected.extend(["config-changed", "start"]);
        let joined = format!("host-relation-joined:{principal}");
        let changed = format!("host-relation-changed:{principal}");
        expected.extend([joined.as_str(), changed.as_str()]);
        assert_eq!(m.events_of(&sub), expected, "{sub}");
        assert_eq!(
            m.events_of(principal),
            [
                "source-relation-created".to_string(),
                format!("source-relation-joined:{sub}"),
                format!("source-relation-changed:{sub}")
            ],
            "{principal} meets its own subordinate only"
        );
        assert_eq!(m.exec(&sub, "relation-list -r $(relation-ids host)"), principal);
        assert_eq!(m.exec(principal, "relation-list -r $(relation-ids source)"), sub);
        assert_eq!(
            m.exec(&sub, &format!("relation-get -r $(relation-ids host) private-address {principal}")),
            p.address.to_string()
        );
    }
    assert_eq!(units_of(&m, "subordinate-charm").len(), 2);
}

/// `juju status` (3.6, `cmd/juju/status/formatted.go`) lists a subordinate unit under its
/// principal's `subordinates` map, with no machine of its own and no `units` on the subordinate
/// application, which names its principal applications in `subordinate-to` (what jubilant's
/// `Status.get_units` walks). The machines section holds the principals' machines only.
#[test]
fn status_shows_subordinates_under_their_principal_unit() {
    let m = related("sub-status", 2);
    let subs: Vec<String> = ["test-charm/0", "test-charm/1"].iter().map(|p| subordinate_on(&m, p)).collect();
    m.wait();
    let st = status(&m);
    let app = &st["applications"]["subordinate-charm"];
    assert!(app.get("units").is_none(), "{app}");
    assert_eq!(app["subordinate-to"], serde_json::json!(["test-charm"]));
    assert_eq!(app["relations"]["host"][0]["scope"], "container", "{app}");
    assert_eq!(st["applications"]["test-charm"]["relations"]["source"][0]["scope"], "container");
    for (principal, sub) in ["test-charm/0", "test-charm/1"].iter().zip(&subs) {
        let unit = &st["applications"]["test-charm"]["units"][principal];
        let entry = &unit["subordinates"][sub];
        assert_eq!(entry["workload-status"]["current"], "active", "{unit}");
        assert_eq!(entry["workload-status"]["message"], format!("beside {principal}"));
        assert_eq!(entry["public-address"], unit["public-address"]);
        assert!(entry.get("machine").is_none(), "{entry}");
        assert_eq!(unit["subordinates"].as_object().unwrap().len(), 1, "{unit}");
    }
    assert_eq!(st["machines"].as_object().unwrap().len(), 2, "{}", st["machines"]);
    let table = m.ok(&["status"]);
    let line = table.lines().find(|l| l.trim_start().starts_with(&subs[0])).expect("subordinate row");
    assert!(line.starts_with("  "), "indented under its principal: {table}");
}

/// A principal unit added later gets its subordinate too: the newcomer runs relation-created for
/// the container relation and enters its scope (`EnterScope` creates the subordinate).
#[test]
fn a_new_principal_unit_gets_a_subordinate() {
    let m = related("sub-add", 1);
    m.ok(&["add-unit", "test-charm"]);
    m.wait();
    let sub = subordinate_on(&m, "test-charm/1");
    m.wait();
    assert_eq!(m.exec(&sub, "relation-list -r $(relation-ids host)"), "test-charm/1");
    assert_eq!(units_of(&m, "subordinate-charm").len(), 2);
}

/// Removing a principal unit removes its subordinate first: the subordinate becomes Dying with
/// it, and the principal's agent waits until it has no subordinate before the unit is Dead
/// (`internal/worker/uniter/uniter.go`, `terminate`: `HasSubordinates`), so the subordinate's
/// `remove` hook runs before the principal's and the machine outlives it.
#[test]
fn removing_a_principal_removes_its_subordinate_first() {
    let m = related("sub-remove-unit", 2);
    let sub = subordinate_on(&m, "test-charm/1");
    let keep = subordinate_on(&m, "test-charm/0");
    m.wait();
    m.clear_events();
    m.ok(&["remove-unit", "test-charm/1"]);
    eventually(Duration::from_secs(60), "test-charm/1 gone", || {
        (!m.state().units.contains_key("test-charm/1")).then_some(())
    });
    let events: Vec<String> = m.events().iter().map(|e| format!("{} {}", e.unit, e.short())).collect();
    let at =
        |what: &str| events.iter().position(|e| e == what).unwrap_or_else(|| panic!("{what} in {events:?}"));
    assert!(at(&format!("{sub} remove")) < at("test-charm/1 remove"), "{events:?}");
    assert!(
        at(&format!("{sub} host-relation-departed:test-charm/1")) < at(&format!("{sub} stop")),
        "{events:?}"
    );
    assert!(!m.state().units.contains_key(&sub));
    assert!(!m.dir().join("units").join(sub.replace('/', "-")).exists());
    assert!(m.state().units.contains_key(&keep), "the other principal keeps its subordinate");
}

/// `remove-relation` of the container relation: every unit departs and breaks it, then each
/// subordinate, with no other container relation to its principal's application left, destroys
/// itself (`internal/worker/uniter/relation/statetracker.go`, `maybeSetSubordinateDying`;
/// `doc/death-and-destruction.md`, "remove-relation"). The principals stay.
#[test]
fn remove_relation_removes_the_subordinate_units() {
    let m = related("sub-remove-rel", 2);
    let subs: Vec<String> = ["test-charm/0", "test-charm/1"].iter().map(|p| subordinate_on(&m, p)).collect();
    m.wait();
    m.clear_events();
    m.ok(&["remove-relation", "test-charm", "subordinate-charm"]);
    eventually(Duration::from_secs(60), "subordinates gone", || {
        units_of(&m, "subordinate-charm").is_empty().then_some(())
    });
    m.wait();
    for (principal, sub) in ["test-charm/0", "test-charm/1"].iter().zip(&subs) {
        assert_eq!(
            m.events_of(sub),
            [
                format!("host-relation-departed:{principal}"),
                "host-relation-broken".into(),
                "stop".into(),
                "remove".into()
            ],
            "{sub}"
        );
        assert_eq!(
            m.events_of(principal),
            [format!("source-relation-departed:{sub}"), "source-relation-broken".to_string()],
            "{principal}"
        );
    }
    assert_eq!(units_of(&m, "test-charm").len(), 2);
    let st = status(&m);
    assert!(st["applications"]["test-charm"]["units"]["test-charm/0"].get("subordinates").is_none());
}

/// In host mode a subordinate runs in its principal's network namespace: the same machine as
/// far as the network goes (what a collector scraping the unit's loopback needs).
#[test]
fn host_mode_subordinate_shares_the_principal_network_namespace() {
    let Some(m) = TestModel::hosts("sub-hosts", 2) else { return };
    m.ok(&["deploy", subordinate_charm().to_str().unwrap()]);
    m.ok(&["integrate", "test-charm", "subordinate-charm"]);
    m.wait();
    let ns = |unit: &str| m.exec(unit, "readlink /proc/self/ns/net");
    let sub = subordinate_on(&m, "test-charm/1");
    m.wait();
    assert_eq!(ns(&sub), ns("test-charm/1"));
    assert_ne!(ns(&sub), ns("test-charm/0"));
    let hosts = std::fs::read_to_string(m.dir().join("hosts")).unwrap();
    assert!(!hosts.contains("subordinate-charm"), "a subordinate has no host entry of its own: {hosts}");
}

/// In machine mode a subordinate runs on its principal's machine: the same systemd, so what it
/// starts with `systemctl` is a service of that machine; removing it leaves the machine running.
#[test]
fn machine_mode_subordinate_runs_on_the_principal_machine() {
    let Some(m) = TestModel::machines("sub-machines", 1) else { return };
    m.ok(&["deploy", subordinate_charm().to_str().unwrap()]);
    m.ok(&["integrate", "test-charm", "subordinate-charm"]);
    m.wait();
    let sub = subordinate_on(&m, "test-charm/0");
    m.wait();
    let boot =
        |unit: &str| m.exec(unit, "cat /proc/sys/kernel/random/boot_id; hostname; readlink /proc/1/ns/pid");
    assert_eq!(boot(&sub), boot("test-charm/0"));
    assert_eq!(m.exec(&sub, "systemctl is-system-running --wait || true"), "running");
    m.ok(&["remove-relation", "test-charm", "subordinate-charm"]);
    eventually(Duration::from_secs(60), "subordinate gone", || {
        units_of(&m, "subordinate-charm").is_empty().then_some(())
    });
    assert_eq!(m.exec("test-charm/0", "systemctl is-system-running || true"), "running");
}

/// `remove-application` of the subordinate destroys its relations first (`state/application.go`,
/// `removeOps`), so its units go as with remove-relation and the principals stay; of the
/// principal, each subordinate goes before its principal's machine.
#[test]
fn remove_application_of_either_side() {
    let m = related("sub-remove-app", 2);
    subordinate_on(&m, "test-charm/1");
    m.wait();
    m.ok(&["remove-application", "subordinate-charm"]);
    assert!(units_of(&m, "subordinate-charm").is_empty());
    assert!(!m.state().applications.contains_key("subordinate-charm"));
    assert_eq!(units_of(&m, "test-charm").len(), 2);
    m.ok(&["deploy", subordinate_charm().to_str().unwrap()]);
    m.ok(&["integrate", "test-charm", "subordinate-charm"]);
    m.wait();
    let sub = subordinate_on(&m, "test-charm/0");
    m.wait();
    m.clear_events();
    m.ok(&["remove-application", "test-charm"]);
    assert!(m.state().units.is_empty(), "{:?}", m.state().units.keys().collect::<Vec<_>>());
    let events: Vec<String> = m.events().iter().map(|e| format!("{} {}", e.unit, e.short())).collect();
    let at =
        |what: &str| events.iter().position(|e| e == what).unwrap_or_else(|| panic!("{what} in {events:?}"));
    assert!(at(&format!("{sub} remove")) < at("test-charm/0 remove"), "{events:?}");
}

/// jubilant (Canonical's Python client) reads the status as it reads Juju's: a subordinate
/// application's units are found through `subordinate-to` and each principal's `subordinates`
/// (`Status.get_units`), and `wait` with `jubilant.all_active` sees them.
#[test]
fn jubilant_finds_subordinate_units() {
    let Some(python) = common::pyenv_python() else {
        println!("skipped: no .cache/pyenv (run scripts/setup to install jubilant and ops)");
        return;
    };
    let m = related("sub-jubilant", 2);
    subordinate_on(&m, "test-charm/1");
    m.wait();
    let script = r#"
import sys, jubilant
juju = jubilant.Juju(model=sys.argv[2], cli_binary=sys.argv[1])
status = juju.wait(lambda s: jubilant.all_active(s, "test-charm", "subordinate-charm"), timeout=60)
subs = status.get_units("subordinate-charm")
assert sorted(subs) == ["subordinate-charm/0", "subordinate-charm/1"], subs
assert status.apps["subordinate-charm"].subordinate_to == ["test-charm"], status.apps["subordinate-charm"]
for name, unit in status.apps["test-charm"].units.items():
    assert len(unit.subordinates) == 1, (name, unit)
    (sub,) = unit.subordinates.values()
    assert sub.workload_status.message == "beside " + name, sub
    assert sub.public_address == unit.public_address, (sub, unit)
print("jubilant subordinates: ok")
"#;
    let out = std::process::Command::new(python)
        .args(["-c", script, common::JUJU_LOCAL, &m.name])
        .env("JUJU_LOCAL_HOME", m.home.path())
        .env("JUJU_LOCAL_OWNER_PID", std::process::id().to_string())
        .env_remove("JUJU_MODEL")
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "jubilant: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("jubilant subordinates: ok"), "{stdout}");
}

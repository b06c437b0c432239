//! Scenarios on one 3-unit deployment: the settled topology (one primary, replicas in sync,
//! every Sentinel agreeing with quorum 2, status texts, get-primary, application version), then
//! the passwords (each authenticates, none appears in the log, relation data or status; the
//! `default` user cannot get in).

mod common;

use std::time::Duration;

use common::nodes::{self, field};
use common::{poll, unit_at, Deployed, APP, VALKEY_VERSION};
use valkey_harness::valkey::{Credentials, Endpoint};

/// Deadline for replicas and Sentinels to converge once the units report active.
const CONVERGE: Duration = Duration::from_secs(60);

#[test]
fn three_units_settle_into_one_primary_and_keep_passwords_secret() {
    let fixture = Deployed::new("three", 3, &[]);
    let admin = fixture.admin();
    topology_is_settled(&fixture, &admin);
    passwords_never_leak(&fixture, &admin);
}

/// Scenario 2: one primary, replicas in sync, Sentinels agree, status says so.
fn topology_is_settled(fixture: &Deployed, admin: &Credentials) {
    let units = fixture.units();
    let addresses: Vec<String> = units.iter().map(|(_, a)| a.clone()).collect();

    // Exactly one data node says role master.
    let masters = nodes::masters(&addresses, admin).unwrap();
    assert_eq!(masters.len(), 1, "exactly one primary expected, got {masters:?}");
    let primary = masters[0].clone();
    let primary_unit = unit_at(&units, &primary);
    let replicas: Vec<Endpoint> =
        addresses.iter().map(|a| nodes::data(a)).filter(|node| *node != primary).collect();
    println!("primary {primary_unit} at {primary}");

    // Replicas' links are up and their offsets equal the primary's.
    let ((), took) = poll("replicas in sync", CONVERGE, || nodes::all_in_sync(&primary, &replicas, admin));
    println!("replicas in sync {took:?} after active");

    // Every Sentinel reports the same primary, quorum 2, two peers, two replicas, CKQUORUM OK.
    let sentinels: Vec<Endpoint> = addresses.iter().map(|a| nodes::sentinel(a)).collect();
    let (epochs, took) = poll("every sentinel to agree", CONVERGE, || {
        let mut epochs = Vec::new();
        for sentinel in &sentinels {
            let view = nodes::sentinel_master(sentinel, admin)?;
            let named = nodes::sentinel_primary(&view)?;
            let counts =
                (field(&view, "quorum")?, field(&view, "num-other-sentinels")?, field(&view, "num-slaves")?);
            if named != primary || counts != ("2", "2", "2") {
                return Err(format!("{sentinel}: primary {named}, quorum/others/replicas {counts:?}"));
            }
            let quorum = nodes::ckquorum(sentinel, admin)?;
            if !quorum.starts_with("OK") {
                return Err(format!("{sentinel}: CKQUORUM {quorum}"));
            }
            epochs.push(field(&view, "config-epoch")?.to_string());
        }
        Ok(epochs)
    });
    println!("sentinels agree {took:?} after active; config-epochs {epochs:?}");

    // Unit status texts name the role and the Sentinel health.
    let status = fixture.juju.status().unwrap();
    for (unit, unit_status) in status.units(APP) {
        let message = &unit_status.workload_status.message;
        println!("{unit}: {message}");
        assert_eq!(unit_status.workload_status.current, "active", "{unit}: {message}");
        assert!(message.contains("3/3 sentinels, quorum 2"), "{unit}: {message:?}");
        if unit == primary_unit {
            assert!(message.starts_with("primary"), "{unit}: {message:?}");
        } else {
            let expected = format!("replica of {primary_unit}");
            assert!(message.starts_with(&expected), "{unit}: {message:?}, expected {expected:?}");
        }
        assert!(!message.contains("cannot fail over"), "{unit}: {message:?}");
    }
    // The application status comes from the leader and names the primary.
    assert_eq!(status.units(APP).iter().filter(|(_, u)| u.leader).count(), 1, "{}", status.summary());
    let app_status = &status.applications[APP].application_status;
    println!("application: {} {:?}", app_status.current, app_status.message);
    assert_eq!(app_status.current, "active", "{app_status:?}");
    assert!(app_status.message.contains(&primary_unit), "{app_status:?}");

    // get-primary agrees with every Sentinel (which agree with INFO, above).
    let reported = fixture.deployment().primary().unwrap();
    assert_eq!(reported.unit, primary_unit);
    assert_eq!(reported.endpoint, primary);

    // The application version is the workload's.
    let raw = fixture.raw_status();
    assert_eq!(raw["applications"][APP]["version"], VALKEY_VERSION, "{}", raw["applications"][APP]);
}

/// Scenario 5: passwords authenticate where they should and appear nowhere else.
fn passwords_never_leak(fixture: &Deployed, admin: &Credentials) {
    let units = fixture.units();
    let (_, first_address) = &units[0];
    let data = nodes::data(first_address);
    let sentinel = nodes::sentinel(first_address);

    // Every user the charm has: the admin (default of get-password) plus the ones it names.
    let mut secrets: Vec<(String, String)> = vec![(
        admin.username.clone().expect("admin username"),
        admin.password.clone().expect("admin password"),
    )];
    for user in ["replication", "sentinel"] {
        let outcome =
            fixture.juju.run_action(&format!("{APP}/leader"), "get-password", &[("username", user)]).unwrap();
        assert!(outcome.completed(), "get-password username={user}: {outcome:?}");
        assert_eq!(outcome.result("username").as_deref(), Some(user));
        secrets.push((user.to_string(), outcome.result("password").expect("password result")));
    }
    for (user, password) in &secrets {
        assert!(password.len() >= 32, "{user}'s password is too short to be random");
        // Each password is the user's real one: it authenticates on the data node.
        let credentials = Credentials::user(user.clone(), password.clone());
        let pong: String = nodes::query(&data, &credentials, &redis::cmd("PING"))
            .unwrap_or_else(|e| panic!("{user} cannot authenticate on {data}: {e}"));
        assert_eq!(pong, "PONG");
    }
    // The admin also manages the Sentinels.
    let pong: String = nodes::query(&sentinel, admin, &redis::cmd("PING")).unwrap();
    assert_eq!(pong, "PONG");

    // The charm logs little when all is well; a refused request makes sure the log being
    // searched really holds the charm's lines (bad input: one clear error, nothing broken).
    let refused =
        fixture.juju.run_action(&format!("{APP}/leader"), "get-password", &[("username", "nobody")]).unwrap();
    assert_eq!(refused.status, "failed", "{refused:?}");
    assert!(refused.message.as_deref().is_some_and(|m| m.contains("nobody")), "{refused:?}");
    let log = fixture.juju.debug_log().unwrap();
    assert!(log.contains("get-password"), "the refused action is not in debug-log:\n{log}");

    // Where a password could leak: the model's log, every relation bag, status, config.
    let mut places: Vec<(String, String)> = vec![
        ("juju debug-log --replay".into(), log),
        ("juju status --format json".into(), fixture.raw_status().to_string()),
        ("juju config".into(), format!("{:?}", fixture.juju.config_get(APP).unwrap())),
    ];
    for (unit, _) in &units {
        let mut script = String::from("set -e; for id in $(relation-ids valkey-peers); do ");
        for (other, _) in &units {
            script.push_str(&format!("echo \"== $id {other}\"; relation-get -r \"$id\" - {other}; "));
        }
        script.push_str(&format!("echo \"== $id app\"; relation-get -r \"$id\" --app - {APP}; done"));
        let output = fixture.juju.exec(unit, &script).unwrap();
        assert_eq!(output.code, 0, "relation-get on {unit}: {}", output.stderr);
        // The bags were really read: every unit's host and the app's secret reference are there.
        assert!(output.stdout.contains("secret-id"), "{unit} sees no secret-id:\n{}", output.stdout);
        for (_, address) in &units {
            assert!(output.stdout.contains(address.as_str()), "{unit} misses {address}:\n{}", output.stdout);
        }
        places.push((format!("relation data seen by {unit}"), output.stdout));
    }
    for (place, text) in &places {
        for (user, password) in &secrets {
            assert!(!text.contains(password.as_str()), "{user}'s password appears in {place}");
        }
    }
    println!("checked {} passwords against {} places", secrets.len(), places.len());

    // `default` cannot get in: without AUTH every command is refused, and AUTH default fails.
    for node in [&data, &sentinel] {
        let nobody = Credentials::default();
        let refused = nodes::query::<String>(node, &nobody, &redis::cmd("PING"));
        let error = refused.expect_err("an unauthenticated PING must be refused");
        assert!(error.contains("NOAUTH") || error.contains("Authentication"), "{node}: {error}");
        let guessed = Credentials::user("default", "");
        let error = nodes::connect(node, &guessed).err().expect("AUTH default with no password must fail");
        println!("{node}: unauthenticated: {error}");
    }
}

//! Scenario: the `valkey-client` relation end to end. Valkey ×3 and two requirer applications
//! (`tests/fixtures/valkey-requirer`, a shell charm speaking v1 as the data-platform library does)
//! with prefixes `a` and `b`:
//! 1. each requirer receives `endpoints` (the primary), `sentinel-endpoints` (all three) and
//!    `secret-user`, and reads the secret with `secret-get`; with that user writes under its prefix
//!    succeed, writes outside it and reads/writes of the other application's keys are refused
//!    (`NOPERM`), and every Sentinel names the primary to it;
//! 2. after the `failover` action app-a's recorded `endpoints` names the new primary; after a
//!    `kill -9` of that primary's valkey-server (Sentinel's automatic failover) app-b's recorded
//!    `endpoints` names a new primary that takes app-b's writes (the times are printed: the issue's
//!    benchmark figures, never asserted);
//! 3. after `remove-relation valkey app-a` app-a's password fails on every Valkey and Sentinel and
//!    app-a can no longer read the secret, while app-b's user still writes and its data is intact.
//!
//! `VALKEY_REQUIRER_CHARM` names the requirer to deploy (default: the fixture directory, which
//! juju-local deploys as is; real Juju needs it packed into a `.charm`).

mod client_relation_support;
mod common;

use std::time::Instant;

use client_relation_support::{
    check_user, deploy_requirers, failover_followed_by, juju, received, requirer_charm, set, CONVERGE,
};
use common::nodes::{self, query};
use common::{poll, unit_at, Deployed, APP};
use valkey_harness::valkey::Endpoint;

#[test]
fn client_relation_gives_each_application_a_scoped_user_that_follows_the_primary() {
    let fixture = Deployed::new("client", 3, &[]);
    let charm = requirer_charm();
    // 1. two requirers with prefixes a and b, both related.
    deploy_requirers(&fixture, &charm, &[("app-a", &["prefix=a"]), ("app-b", &["prefix=b"])]);

    // 2. each receives a working, scoped user.
    let (a, took) = poll("app-a's answer", CONVERGE, || received(&fixture, "app-a/0"));
    println!("app-a answered {took:?} after settling");
    let (b, _) = poll("app-b's answer", CONVERGE, || received(&fixture, "app-b/0"));
    assert_ne!(a.user.username, b.user.username, "one user per application");
    check_user(&fixture, &a, "a", "b");
    check_user(&fixture, &b, "b", "a");

    // 3. failover: the requirer's view of endpoints follows the primary.
    let (moved, after, took) =
        failover_followed_by(&fixture, "app-a/0", "app-a's endpoints naming the new primary");
    let units = fixture.units();
    println!("failover → app-a's endpoints name {after}: {took:?} after the action returned");
    let key = "a:after-failover";
    assert_eq!(set(&moved.endpoints, &moved.user, key).expect("write through the new endpoints"), "OK");

    // 3b. kill -9 of the primary's valkey-server: Sentinel fails over on its own, and app-b's
    // view of endpoints follows; a client writing through it resumes without asking Sentinel.
    let admin = fixture.admin();
    let killed = fixture.deployment().primary().expect("get-primary");
    let killed_at = Instant::now();
    fixture
        .deployment()
        .kill_valkey(&killed.unit, &killed.endpoint, &admin, "KILL")
        .expect("kill -9 primary");
    let (b_moved, _) = poll("app-b's endpoints naming a new primary", CONVERGE, || {
        let got = received(&fixture, "app-b/0")?;
        let unit = unit_at(&units, &got.endpoints);
        if unit == killed.unit {
            return Err(format!("endpoints still the killed {unit}"));
        }
        match set(&got.endpoints, &got.user, "b:after-crash") {
            Ok(_) => Ok(got),
            Err(e) => Err(format!("write through {} ({unit}): {e}", got.endpoints)),
        }
    });
    println!(
        "kill -9 {} → app-b's endpoints name {} and take its writes: {:?} after the kill",
        killed.unit,
        unit_at(&units, &b_moved.endpoints),
        killed_at.elapsed()
    );

    // 4. remove-relation: app-a's user is gone everywhere; app-b still works.
    let read_secret = format!("secret-get {} password", a.secret_user);
    let readable = fixture.juju.exec("app-a/0", &read_secret).expect("exec secret-get");
    assert_eq!(
        (readable.code, readable.stdout.trim()),
        (0, a.user.password.as_deref().unwrap()),
        "before removal"
    );
    juju(&fixture, &["remove-relation", APP, "app-a"]);
    let targets: Vec<Endpoint> =
        units.iter().flat_map(|(_, address)| [nodes::data(address), nodes::sentinel(address)]).collect();
    let (_, took) = poll("app-a's password refused everywhere", CONVERGE, || {
        for target in &targets {
            match nodes::connect(target, &a.user) {
                Ok(_) => return Err(format!("{target} still accepts app-a's user")),
                // WRONGPASS, which the redis crate reports as `AuthenticationFailed`.
                Err(e) if e.contains("AuthenticationFailed") || e.contains("invalid username-password") => {}
                Err(e) => return Err(format!("{target}: unexpected error {e}")),
            }
        }
        Ok(())
    });
    println!("remove-relation → app-a's user gone from {} servers in {took:?}", targets.len());
    let uri = &a.secret_user;
    let (_, took) = poll("app-a's secret revoked", CONVERGE, || {
        let out =
            fixture.juju.exec("app-a/0", &format!("secret-get {uri} password")).map_err(|e| e.to_string())?;
        match out.code {
            0 => Err(format!("app-a/0 still reads {uri}")),
            _ => Ok(()),
        }
    });
    println!("remove-relation → app-a can no longer read {uri}: {took:?}");
    let b_now = received(&fixture, "app-b/0").expect("app-b's answer");
    assert_eq!(set(&b_now.endpoints, &b_now.user, "b:after-removal").expect("app-b still writes"), "OK");
    let kept: Option<String> = query(&b_now.endpoints, &b_now.user, redis::cmd("GET").arg("b:key")).unwrap();
    assert_eq!(kept.as_deref(), Some("v"), "app-b's data survived");
}

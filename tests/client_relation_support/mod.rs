//! What the `valkey-client` scenarios share: deploying and relating the requirer fixture
//! (`tests/fixtures/valkey-requirer`), reading what its unit recorded of the provider's answer,
//! checking that the user it received works and is scoped, and following the primary through a
//! `failover` action.

// Each scenario uses a different subset.
#![allow(dead_code)]

use std::time::Duration;

use crate::common::nodes::query;
use crate::common::{poll, unit_at, Deployed, APP};
use valkey_harness::deployment::MONITOR;
use valkey_harness::valkey::{Credentials, Endpoint};

/// Deadline for a requirer to settle, for an answer to arrive, and for users to go.
pub const CONVERGE: Duration = Duration::from_secs(120);

/// The requirer to deploy: `VALKEY_REQUIRER_CHARM` (real Juju needs it packed into a `.charm`),
/// else the fixture directory, which juju-local deploys as is.
pub fn requirer_charm() -> String {
    std::env::var("VALKEY_REQUIRER_CHARM").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/valkey-requirer").to_string()
    })
}

/// What one requirer unit recorded of the provider's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// `endpoints`: the primary.
    pub endpoints: Endpoint,
    /// `sentinel-endpoints` (v0: `sentinel_endpoints`).
    pub sentinels: Vec<Endpoint>,
    /// The user secret's `username` and `password`, read with `secret-get`.
    pub user: Credentials,
    /// The user secret's URI.
    pub secret_user: String,
}

/// Reads `$JUJU_CHARM_DIR/received/<name>` on `unit` (empty when not recorded yet).
pub fn recorded(fixture: &Deployed, unit: &str, name: &str) -> Result<String, String> {
    let out = fixture
        .juju
        .exec(unit, &format!("cat \"$JUJU_CHARM_DIR/received/{name}\" 2>/dev/null || true"))
        .map_err(|e| format!("exec on {unit}: {e}"))?;
    Ok(out.stdout.trim().to_string())
}

/// The answer `unit` recorded, once it holds every part.
pub fn received(fixture: &Deployed, unit: &str) -> Result<Received, String> {
    let part = |name: &str| -> Result<String, String> {
        let value = recorded(fixture, unit, name)?;
        if value.is_empty() {
            Err(format!("{unit} has no {name} yet"))
        } else {
            Ok(value)
        }
    };
    let endpoints = part("endpoints")?.parse().map_err(|e| format!("endpoints: {e:?}"))?;
    let sentinels = part("sentinel-endpoints")?
        .split(',')
        .map(|s| s.parse().map_err(|e| format!("sentinel-endpoints {s:?}: {e:?}")))
        .collect::<Result<Vec<Endpoint>, String>>()?;
    let secret_user = part("secret-user")?;
    let user = Credentials::user(part("username")?, part("password")?);
    Ok(Received { endpoints, sentinels, user, secret_user })
}

/// Deploys each `(app, config)` from `charm` with those `--config` values and relates it to
/// Valkey; then waits until every one is idle and active.
pub fn deploy_requirers(fixture: &Deployed, charm: &str, apps: &[(&str, &[&str])]) {
    for (app, config) in apps {
        let mut args = vec!["deploy", charm, app];
        for c in *config {
            args.extend(["--config", c]);
        }
        juju(fixture, &args);
        juju(fixture, &["integrate", APP, app]);
    }
    for (app, _) in apps {
        fixture.juju.wait_idle_active(app, 1, CONVERGE).unwrap_or_else(|e| panic!("{app}: {e}"));
    }
}

/// Runs `juju <args>` in the fixture's model and panics when it fails.
pub fn juju(fixture: &Deployed, args: &[&str]) {
    let model = fixture.juju.model().expect("model").to_string();
    let mut all = vec![args[0].to_string(), "-m".to_string(), model];
    all.extend(args[1..].iter().map(|s| s.to_string()));
    fixture.juju.raw(&all).expect("juju").success().unwrap_or_else(|e| panic!("juju {args:?}: {e}"));
}

/// `SET key value` with `user` on `endpoint`.
pub fn set(endpoint: &Endpoint, user: &Credentials, key: &str) -> Result<String, String> {
    query(endpoint, user, redis::cmd("SET").arg(key).arg("v"))
}

/// Asserts `result` is an ACL refusal (`NOPERM`; the redis crate spells the kind `NoPerm`).
pub fn refused<T: std::fmt::Debug>(what: &str, result: Result<T, String>) {
    match result {
        Err(e) if e.to_uppercase().contains("NOPERM") => {}
        other => panic!("{what}: expected NOPERM, got {other:?}"),
    }
}

/// The user `got` works for `prefix` only (its neighbour uses `other`): `endpoints` is the
/// primary, writes and reads under the prefix succeed, a write outside it and reads and writes of
/// the other prefix are refused, and every Sentinel names the primary to it.
pub fn check_user(fixture: &Deployed, got: &Received, prefix: &str, other: &str) {
    let admin = fixture.admin();
    let primary = fixture.deployment().primary().expect("get-primary");
    assert_eq!(
        unit_at(&fixture.units(), &got.endpoints),
        primary.unit,
        "endpoints {} is not the primary",
        got.endpoints
    );
    assert_eq!(got.sentinels.len(), 3, "sentinel-endpoints: {:?}", got.sentinels.len());
    let mine = format!("{prefix}:key");
    assert_eq!(set(&got.endpoints, &got.user, &mine).expect("write under the prefix"), "OK");
    let read: Option<String> = query(&got.endpoints, &got.user, redis::cmd("GET").arg(&mine)).unwrap();
    assert_eq!(read.as_deref(), Some("v"));
    refused("write outside the prefix", set(&got.endpoints, &got.user, "outside"));
    let theirs = format!("{other}:key");
    set(&got.endpoints, &admin, &theirs).expect("admin writes the other app's key");
    refused(
        "read of the other app's key",
        query::<Option<String>>(&got.endpoints, &got.user, redis::cmd("GET").arg(&theirs)),
    );
    refused("write of the other app's key", set(&got.endpoints, &got.user, &theirs));
    for sentinel in &got.sentinels {
        let addr: Vec<String> =
            query(sentinel, &got.user, redis::cmd("SENTINEL").arg("GET-MASTER-ADDR-BY-NAME").arg(MONITOR))
                .unwrap_or_else(|e| panic!("sentinel discovery on {sentinel}: {e}"));
        let named: Endpoint = format!("{}:{}", addr[0], addr[1]).parse().unwrap();
        assert_eq!(unit_at(&fixture.units(), &named), primary.unit, "{sentinel} names {named}");
    }
}

/// Runs the `failover` action, asserts it moved the primary, then waits (`what` names the wait)
/// until `unit` recorded `endpoints` naming the new primary. Returns that answer, the new
/// primary's unit, and how long after the action the answer arrived.
pub fn failover_followed_by(fixture: &Deployed, unit: &str, what: &str) -> (Received, String, Duration) {
    let before = fixture.deployment().primary().expect("get-primary");
    let outcome = fixture.juju.run_action(&format!("{APP}/leader"), "failover", &[]).unwrap();
    assert_eq!(outcome.status, "completed", "failover: {:?}", outcome.message);
    let after = fixture.deployment().primary().expect("get-primary");
    assert_ne!(after.unit, before.unit, "failover did not move the primary");
    let units = fixture.units();
    let (moved, took) = poll(what, CONVERGE, || {
        let got = received(fixture, unit)?;
        let at = unit_at(&units, &got.endpoints);
        if at == after.unit {
            Ok(got)
        } else {
            Err(format!("endpoints still {} ({at})", got.endpoints))
        }
    });
    (moved, after.unit, took)
}

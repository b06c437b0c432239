//! Scenario: the `valkey-client` relation with a v0 requirer, bad requests, and config re-renders.
//! Valkey ×3 and three requirer applications (`tests/fixtures/valkey-requirer`): `app-a` (v1,
//! prefix `a`), `app-old` (v0 — the flat `database`/`requested-secrets` of the older
//! data_interfaces library — prefix `old`) and `app-bad` (v1, asking first for an empty resource):
//! 1. app-old receives the flat v0 answer (`database`, `resource`, `endpoints`, `sentinel-endpoints`
//!    and `sentinel_endpoints`, `secret-user`, `secret-tls`, `version`, `mode`; no `requests`) and a
//!    user scoped to `old:*`
//!    (writes under it succeed, app-a's keys and keys outside are refused), with which every
//!    Sentinel names the primary; its secret is readable by app-old;
//! 2. app-bad's requests are refused one after another — an empty resource, malformed JSON in
//!    `requests`, an unknown `version` — each with its reason at ERROR in the charm log and in the
//!    application status (naming app-bad), while nothing else changes: every Valkey's and
//!    Sentinel's client users (`ACL LIST`) are as before, app-a's recorded user and secret are the
//!    same and still write, and the 200 keys app-a wrote are all there (`DBSIZE` unchanged);
//! 3. app-bad fixes its request: it is served a working user, and the refusal leaves the status
//!    through the relation's own hooks;
//! 4. two `juju config valkey maxmemory=…` changes re-render every unit's valkey.conf: a client
//!    logging in again and again on every Valkey and Sentinel meanwhile (app-a's user, a fresh
//!    connection each time) never gets `WRONGPASS`/`NOAUTH`, and every valkey.conf still holds
//!    every client user afterwards.
//!
//! `VALKEY_REQUIRER_CHARM` names the requirer to deploy (as in `tests/client_relation.rs`).

mod client_relation_support;
mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use client_relation_support::{
    check_user, deploy_requirers, juju, received, recorded, requirer_charm, set, Received, CONVERGE,
};
use common::nodes::{self, query};
use common::{poll, Deployed, APP};
use valkey_harness::valkey::{Credentials, Endpoint};

/// Keys app-a writes before the bad requests, all checked afterwards.
const KEYS: usize = 200;

/// Every Valkey's and Sentinel's client users (`ACL LIST` lines of users named `relation-…`).
fn client_users(fixture: &Deployed) -> BTreeMap<String, Vec<String>> {
    let admin = fixture.admin();
    let mut all = BTreeMap::new();
    for (unit, address) in fixture.units() {
        for (what, endpoint) in [("valkey", nodes::data(&address)), ("sentinel", nodes::sentinel(&address))] {
            let list: Vec<String> = query(&endpoint, &admin, redis::cmd("ACL").arg("LIST"))
                .unwrap_or_else(|e| panic!("ACL LIST on {endpoint}: {e}"));
            let mut users: Vec<String> =
                list.into_iter().filter(|l| l.starts_with("user relation-")).collect();
            users.sort();
            all.insert(format!("{unit} {what}"), users);
        }
    }
    all
}

/// The valkey application's status message.
fn app_message(fixture: &Deployed) -> Result<String, String> {
    let status = fixture.juju.status().map_err(|e| e.to_string())?;
    let app = status.applications.get(APP).ok_or("no valkey in juju status")?;
    Ok(app.application_status.message.clone())
}

/// The primary's key count.
fn dbsize(fixture: &Deployed) -> u64 {
    let primary = fixture.deployment().primary().expect("get-primary");
    query(&primary.endpoint, &fixture.admin(), &redis::cmd("DBSIZE")).expect("DBSIZE")
}

/// app-a's keys `a:n:0..KEYS`, each holding its number.
fn keys_of_a(a: &Received) -> Vec<Option<String>> {
    let mut mget = redis::cmd("MGET");
    for i in 0..KEYS {
        mget.arg(format!("a:n:{i}"));
    }
    query(&a.endpoints, &a.user, &mget).expect("app-a's MGET")
}

/// Everything that a refusal must leave as it was.
struct Untouched {
    users: BTreeMap<String, Vec<String>>,
    a: Received,
    keys: u64,
}

impl Untouched {
    fn check(&self, fixture: &Deployed, after: &str) {
        assert_eq!(client_users(fixture), self.users, "{after}: client users changed");
        let a = received(fixture, "app-a/0").expect("app-a's answer");
        assert_eq!(a, self.a, "{after}: app-a's answer or user changed");
        assert_eq!(set(&a.endpoints, &a.user, "a:still").expect("app-a still writes"), "OK");
        assert_eq!(dbsize(fixture), self.keys, "{after}: the key count changed");
        let values = keys_of_a(&a);
        let want: Vec<Option<String>> = (0..KEYS).map(|i| Some(i.to_string())).collect();
        assert_eq!(values, want, "{after}: app-a's keys");
    }
}

/// Whether a login failure is an authentication refusal (the user or its password missing).
fn auth_refused(error: &str) -> bool {
    let e = error.to_uppercase();
    e.contains("WRONGPASS")
        || e.contains("NOAUTH")
        || e.contains("AUTHENTICATIONFAILED")
        || e.contains("INVALID USERNAME-PASSWORD")
}

/// Logs in with `user` on every target in turn (a fresh connection each time) until `stop`:
/// counts the logins that answered `PING`, and records every authentication refusal.
fn login_loop(
    targets: Vec<Endpoint>,
    user: Credentials,
    stop: Arc<AtomicBool>,
    refusals: Arc<Mutex<Vec<String>>>,
) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut ok = 0;
        while !stop.load(Ordering::Relaxed) {
            for target in &targets {
                match nodes::connect(target, &user) {
                    Ok(mut c) => {
                        if redis::cmd("PING").query::<String>(&mut c).is_ok() {
                            ok += 1;
                        }
                    }
                    Err(e) if auth_refused(&e) => refusals.lock().unwrap().push(e),
                    // Down or busy: not what this loop looks for.
                    Err(_) => {}
                }
            }
        }
        ok
    })
}

#[test]
fn v0_and_bad_requests_and_config_re_renders_leave_every_client_served() {
    let fixture = Deployed::new("clientreq", 3, &[]);
    let charm = requirer_charm();
    deploy_requirers(
        &fixture,
        &charm,
        &[
            ("app-a", &["prefix=a"][..]),
            ("app-old", &["prefix=old", "protocol=v0"]),
            ("app-bad", &["prefix="]),
        ],
    );

    // 1. v0: the flat answer and a working, scoped user.
    let (a, _) = poll("app-a's answer", CONVERGE, || received(&fixture, "app-a/0"));
    let (old, took) = poll("app-old's answer", CONVERGE, || received(&fixture, "app-old/0"));
    println!("v0 app-old answered {took:?} after settling");
    let bag: BTreeMap<String, String> =
        serde_json::from_str(&recorded(&fixture, "app-old/0", "bag").unwrap()).expect("app-old's bag");
    assert_eq!(bag.get("database").map(String::as_str), Some("old:*"), "{bag:?}");
    assert_eq!(bag.get("mode").map(String::as_str), Some("sentinel"), "{bag:?}");
    assert_eq!(bag.get("resource").map(String::as_str), Some("old:*"), "{bag:?}");
    for key in
        ["endpoints", "sentinel-endpoints", "sentinel_endpoints", "secret-user", "secret-tls", "version"]
    {
        assert!(bag.get(key).is_some_and(|v| !v.is_empty()), "v0 answer lacks {key}: {bag:?}");
    }
    for key in ["requests", "data"] {
        assert!(!bag.contains_key(key), "v0 answer holds the v1 key {key}: {bag:?}");
    }
    check_user(&fixture, &old, "old", "a");
    check_user(&fixture, &a, "a", "old");
    let secret = fixture.on_unit("app-old/0", &format!("secret-get {} password", old.secret_user));
    assert_eq!(Some(secret.as_str()), old.user.password.as_deref(), "app-old reads its secret");

    // 2. bad requests: each refused with its reason, nothing else touched.
    for i in 0..KEYS {
        let done: String =
            query(&a.endpoints, &a.user, redis::cmd("SET").arg(format!("a:n:{i}")).arg(i.to_string()))
                .unwrap();
        assert_eq!(done, "OK");
    }
    set(&a.endpoints, &a.user, "a:still").expect("app-a writes");
    let untouched = Untouched { users: client_users(&fixture), a: a.clone(), keys: dbsize(&fixture) };
    let steps: [(&str, Vec<&str>, &str); 3] = [
        ("an empty resource", vec![], "request 0: the resource is empty"),
        (
            "malformed JSON",
            vec!["prefix=bad", r#"requests=[{"resource":"#],
            "requests is not a JSON list of objects",
        ),
        (
            "an unknown version",
            vec!["protocol=v9", "--reset", "requests"],
            r#"unknown protocol version "v9""#,
        ),
    ];
    for (what, config, reason) in steps {
        if !config.is_empty() {
            let mut args = vec!["config", "app-bad"];
            args.extend(config);
            juju(&fixture, &args);
        }
        let (message, took) = poll(&format!("the status naming app-bad's {what}"), CONVERGE, || {
            let message = app_message(&fixture)?;
            if message.contains("(app-bad): request refused: ") && message.contains(reason) {
                Ok(message)
            } else {
                Err(format!("status: {message}"))
            }
        });
        println!("{what}: refused in {took:?}: {message}");
        // The relation's own -changed hook logs the refusal; any other leader hook that runs first
        // (update-status, a peer's) already shows it in the status, without logging it again.
        let (_, took) = poll(&format!("an ERROR line naming app-bad's {what}"), CONVERGE, || {
            let log = fixture.juju.debug_log().map_err(|e| e.to_string())?;
            log.lines()
                .any(|l| {
                    l.contains("ERROR") && l.contains("(app-bad): request refused: ") && l.contains(reason)
                })
                .then_some(())
                .ok_or(format!("no ERROR line in the charm log naming app-bad and {reason:?}"))
        });
        println!("{what}: logged {took:?} after the status showed it");
        untouched.check(&fixture, what);
    }

    // 3. fixed: served, and the refusal leaves the status.
    juju(&fixture, &["config", "app-bad", "protocol=v1"]);
    let (bad, took) = poll("app-bad's answer once fixed", CONVERGE, || received(&fixture, "app-bad/0"));
    println!("fixed request answered in {took:?}");
    let (_, took) = poll("the refusal gone from the status", CONVERGE, || {
        let message = app_message(&fixture)?;
        if message.contains("request refused") {
            Err(format!("status: {message}"))
        } else {
            Ok(())
        }
    });
    println!("refusal gone from the status {took:?} after app-bad was answered");
    check_user(&fixture, &bad, "bad", "a");
    let now = client_users(&fixture);
    for (node, users) in &untouched.users {
        for u in users {
            assert!(now[node].contains(u), "{node} lost {u}");
        }
    }

    // 4. config re-renders: no login ever refused.
    let targets: Vec<Endpoint> = fixture
        .units()
        .iter()
        .flat_map(|(_, address)| [nodes::data(address), nodes::sentinel(address)])
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let refusals = Arc::new(Mutex::new(Vec::new()));
    let logins = login_loop(targets, a.user.clone(), stop.clone(), refusals.clone());
    for (value, bytes) in [("512mb", "536870912"), ("0", "0")] {
        fixture.juju.config_set(APP, &[("maxmemory", value)]).expect("juju config");
        let admin = fixture.admin();
        let (_, took) = poll(&format!("maxmemory {value} on every unit"), CONVERGE, || {
            for (unit, address) in fixture.units() {
                let got = nodes::config_get(&nodes::data(&address), &admin, "maxmemory")?;
                if got != bytes {
                    return Err(format!("{unit}: maxmemory {got}"));
                }
            }
            Ok(())
        });
        fixture.juju.wait_idle_active(APP, 3, CONVERGE).expect("valkey settles");
        println!("maxmemory={value} applied everywhere in {took:?}");
    }
    stop.store(true, Ordering::Relaxed);
    let ok = logins.join().expect("login loop");
    let refused = refusals.lock().unwrap().clone();
    println!("{ok} logins across two config re-renders, {} refused", refused.len());
    assert!(refused.is_empty(), "logins refused during the re-renders: {refused:?}");
    assert!(ok > 0, "no login succeeded");
    for (unit, _) in fixture.units() {
        let conf = fixture
            .on_unit(&unit, "cat \"$(cat \"$JUJU_CHARM_DIR/.valkey-storage-location\")/etc/valkey.conf\"");
        for u in [&a.user, &old.user, &bad.user] {
            let name = u.username.as_deref().unwrap();
            assert!(conf.contains(&format!("user {name} ")), "{unit}'s valkey.conf lacks {name}");
        }
    }
}

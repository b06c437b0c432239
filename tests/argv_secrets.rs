//! No password is ever in a process's argv (every local user can read `/proc/<pid>/cmdline`):
//! while a deployment is created, scaled out and switched over, a sampler reads every process's
//! command line every few milliseconds; afterwards none of the sampled lines may hold any of the
//! charm's passwords. The charm hands them to `secret-add`/`secret-set` as `key#file=PATH`
//! (Juju's form, `core/secrets/secret.go`), and to Valkey and Sentinel through config files.
//! (`get-password` itself answers through `action-set`, which has no file form: it runs after
//! the sampler stopped.)

mod common;

use common::{Deployed, APP};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Every distinct command line seen until `stop` is set.
fn sample_cmdlines(stop: Arc<AtomicBool>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    while !stop.load(Ordering::Relaxed) {
        if let Ok(dir) = std::fs::read_dir("/proc") {
            for entry in dir.flatten() {
                if let Ok(raw) = std::fs::read(entry.path().join("cmdline")) {
                    if !raw.is_empty() {
                        seen.insert(String::from_utf8_lossy(&raw).replace('\0', " "));
                    }
                }
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    seen
}

#[test]
fn no_password_is_in_any_argv_during_deploy_scaling_and_switchover() {
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let stop = stop.clone();
        std::thread::spawn(move || sample_cmdlines(stop))
    };
    let fixture = Deployed::new("argv", 2, &[]);
    fixture.juju.add_unit(APP, 1).expect("add-unit");
    fixture.wait_settled(3, "add-unit");
    let outcome = fixture.juju.run_action(&format!("{APP}/leader"), "failover", &[]).expect("failover");
    assert!(outcome.completed(), "switchover: {outcome:?}");
    fixture.wait_settled(3, "switchover");
    stop.store(true, Ordering::Relaxed);
    let seen = sampler.join().expect("sampler");

    // The sampler really saw the charm at work: hook tools and the services.
    assert!(seen.iter().any(|l| l.contains("secret-get")), "no hook tool sampled in {} lines", seen.len());
    assert!(seen.iter().any(|l| l.contains("valkey-server")), "no valkey-server sampled");

    let mut passwords = vec![fixture.admin().password.expect("admin password")];
    for user in ["replication", "sentinel"] {
        let outcome = fixture
            .juju
            .run_action(&format!("{APP}/leader"), "get-password", &[("username", user)])
            .expect("get-password");
        passwords.push(outcome.result("password").expect("password result"));
    }
    for password in &passwords {
        assert!(password.len() >= 32, "not a generated password");
        let leaks: Vec<&String> = seen.iter().filter(|l| l.contains(password.as_str())).collect();
        assert!(leaks.is_empty(), "a password was in argv: {leaks:?}");
    }
    println!("{} distinct command lines sampled, no password in any", seen.len());
}

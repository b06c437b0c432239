//! Process hygiene: destroy-model and remove-unit leave nothing of the model running, a dead
//! owner takes its model down, and parallel models get separate address blocks.

mod common;

use common::{eventually, test_charm, TestModel};
use juju_local::model::processes;
use std::time::Duration;

#[test]
fn destroy_model_stops_every_process_of_the_model() {
    let m = TestModel::deployed("destroy", 2);
    let uuid = m.state().uuid;
    let agent: i32 = std::fs::read_to_string(m.dir().join("agent.pid")).unwrap().trim().parse().unwrap();
    // Each unit's start hook left a `sleep 1000` behind.
    assert_eq!(processes::find(&uuid, None, None).len(), 2);
    m.ok(&["remove-unit", "test-charm/1"]);
    m.ok(&["wait", "--timeout", "60s", "--units", "1"]);
    assert!(processes::find(&uuid, Some("test-charm/1"), None).is_empty());
    assert_eq!(processes::find(&uuid, Some("test-charm/0"), None).len(), 1);
    m.ok(&["destroy-model", &m.name, "--no-prompt"]);
    assert!(processes::find(&uuid, None, None).is_empty());
    assert!(!processes::alive(agent), "agent survived destroy-model");
    assert!(!m.dir().exists());
}

#[test]
fn a_dead_owner_takes_its_model_down() {
    let m = TestModel::new("orphan");
    let mut owner = std::process::Command::new("sleep").arg("1000").spawn().unwrap();
    let out = std::process::Command::new(common::JUJU_LOCAL)
        .args(["deploy", test_charm().to_str().unwrap(), "-m", "owned"])
        .env("JUJU_LOCAL_HOME", m.home.path())
        .env("JUJU_LOCAL_OWNER_PID", owner.id().to_string())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let dir = m.home.path().join("models/owned");
    let uuid = juju_local::store::Store::open(&dir).unwrap().read().unwrap().uuid;
    eventually(Duration::from_secs(20), "workload started", || {
        (processes::find(&uuid, None, None).len() == 1).then_some(())
    });
    owner.kill().unwrap();
    owner.wait().unwrap();
    eventually(Duration::from_secs(20), "model destroyed", || (!dir.exists()).then_some(()));
    assert!(processes::find(&uuid, None, None).is_empty());
}

#[test]
fn parallel_models_get_different_address_blocks() {
    let a = TestModel::deployed("blocka", 1);
    let b = TestModel::deployed("blockb", 1);
    let (sa, sb) = (a.state(), b.state());
    assert_ne!(sa.address_block, sb.address_block);
    let (ua, ub) = (&sa.units["test-charm/0"], &sb.units["test-charm/0"]);
    assert_ne!(ua.address, ub.address);
    assert_eq!(ua.address.octets()[3], 2);
    assert_eq!(a.exec("test-charm/0", "network-get cluster --format=json | grep -c ingress"), "1");
}

#[test]
fn frozen_and_env_less_processes_do_not_outlive_the_model() {
    let m = TestModel::deployed("frozen", 1);
    let uuid = m.state().uuid;
    // A daemon that dropped its environment (as a server rewriting its process title appears to)
    // and lives in the unit's directory, and the start hook's `sleep`, frozen with SIGSTOP.
    let pid: i32 = m
        .exec("test-charm/0", "env -i setsid sleep 1001 </dev/null >/dev/null 2>&1 & echo $!")
        .parse()
        .expect("pid of the env-less daemon");
    let unit_dir = m.dir().join("units/test-charm-0");
    let found = processes::find(&uuid, Some("test-charm/0"), Some(&unit_dir));
    assert!(found.contains(&pid), "env-less daemon {pid} not found among {found:?}");
    let sleeper = *processes::find(&uuid, Some("test-charm/0"), None).first().expect("start hook's sleep");
    processes::signal(sleeper, libc::SIGSTOP);
    m.ok(&["destroy-model", &m.name, "--no-prompt"]);
    assert!(!processes::alive(pid), "env-less daemon survived destroy-model");
    assert!(!processes::alive(sleeper), "frozen process survived destroy-model");
}

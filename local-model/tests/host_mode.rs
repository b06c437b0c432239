//! Host mode (root only): every unit in its own network namespace on a private bridge, with its
//! own address and a hostname the others resolve; cut, heal and change-address; and a teardown
//! that leaves nothing behind. Without root each test prints a visible skip line and returns.

mod common;

use common::{eventually, TestModel};
use juju_local::hosts::{net, plan};
use std::time::Duration;

/// The unit's address as the model records it.
fn address(m: &TestModel, unit: &str) -> String {
    m.state().units[unit].address.to_string()
}

/// Whether a TCP connection from `from`'s namespace to `host:port` succeeds within a second.
fn reaches(m: &TestModel, from: &str, host: &str, port: u16) -> bool {
    let probe = format!("timeout 1 bash -c 'exec 3<>/dev/tcp/{host}/{port}'");
    m.juju(&["exec", "--unit", from, "--", &probe]).status.success()
}

/// Starts a tiny TCP listener (python's http.server) on the unit's address; returns its pid.
fn listen(m: &TestModel, unit: &str, port: u16) -> String {
    let ip = address(m, unit);
    let cmd =
        format!("setsid python3 -m http.server --bind {ip} {port} </dev/null >/dev/null 2>&1 & echo $!");
    let pid = m.exec(unit, &cmd);
    eventually(Duration::from_secs(20), "listener up", || reaches(m, unit, &ip, port).then_some(()));
    pid
}

#[test]
fn units_are_separate_hosts_that_resolve_and_reach_each_other() {
    let Some(m) = TestModel::hosts("hosts-basic", 3) else { return };
    let state = m.state();
    let k = plan::block_of(&state);
    assert_eq!(state.address_block, [198, 18, k]);
    assert_eq!(m.ok(&["model-config", "network-mode"]).trim(), "hosts");
    for unit in ["test-charm/0", "test-charm/1", "test-charm/2"] {
        let ip = address(&m, unit);
        assert!(ip.starts_with(&format!("198.18.{k}.")), "{unit} has {ip}");
        // The hook context runs in the unit's namespace: it sees its own address and only that.
        let addrs = m.exec(unit, "ip -4 -o addr show eth0");
        assert!(addrs.contains(&format!("inet {ip}/24")), "{unit}: {addrs}");
        assert_eq!(addrs.lines().count(), 1, "{unit}: {addrs}");
        let hostname = unit.replace('/', "-");
        let info = m.exec(unit, "network-get cluster --format json");
        assert!(info.contains(&format!("\"hostname\":\"{hostname}\"")), "{info}");
        assert!(info.contains(&format!("\"cidr\":\"{}\"", plan::subnet(k))), "{info}");
    }
    // Hostnames resolve between units, and to the same addresses from the host's file.
    let ip1 = address(&m, "test-charm/1");
    assert_eq!(m.exec("test-charm/0", "getent hosts test-charm-1 | cut -d' ' -f1"), ip1);
    let model_hosts = std::fs::read_to_string(m.dir().join("hosts")).unwrap();
    assert!(model_hosts.contains(&format!("{ip1}\ttest-charm-1\n")), "{model_hosts}");
    // No route out of the test hosts.
    assert_eq!(m.exec("test-charm/0", "ip route show default"), "");
    // juju-exec from a process inside a namespace dispatches to another unit, which runs there.
    // Outside any hook context, as a daemon's script calls it (juju-exec refuses inside one).
    let via =
        m.exec("test-charm/0", "env -u JUJU_CONTEXT_ID juju-exec test-charm/2 -- ip -4 -o addr show eth0");
    assert!(via.contains(&format!("inet {}/24", address(&m, "test-charm/2"))), "{via}");

    let pid = listen(&m, "test-charm/1", 8000);
    assert!(reaches(&m, "test-charm/0", "test-charm-1", 8000));
    assert!(reaches(&m, "test-charm/2", "test-charm-1", 8000));

    m.ok(&["cut", "test-charm/1"]);
    assert!(!reaches(&m, "test-charm/0", "test-charm-1", 8000), "cut unit still reachable");
    assert!(!reaches(&m, "test-charm/2", "test-charm-1", 8000), "cut unit still reachable");
    assert!(reaches(&m, "test-charm/1", &ip1, 8000), "a cut unit keeps running and reaches itself");
    m.ok(&["heal", "test-charm/1"]);
    eventually(Duration::from_secs(10), "healed unit reachable", || {
        reaches(&m, "test-charm/0", "test-charm-1", 8000).then_some(())
    });

    m.ok(&["cut", "test-charm/0", "--from", "test-charm/1"]);
    assert!(!reaches(&m, "test-charm/0", "test-charm-1", 8000), "partitioned pair still connects");
    assert!(reaches(&m, "test-charm/2", "test-charm-1", 8000), "a partition must cut only its pair");
    m.ok(&["heal", "test-charm/1", "--from", "test-charm/0"]);
    eventually(Duration::from_secs(10), "partition healed", || {
        reaches(&m, "test-charm/0", "test-charm-1", 8000).then_some(())
    });
    assert!(m.state().faults.partitions.is_empty() && m.state().faults.cut.is_empty());
    m.exec("test-charm/1", &format!("kill {pid}"));
}

#[test]
fn change_address_updates_names_and_queues_config_changed() {
    let Some(m) = TestModel::hosts("hosts-readdress", 2) else { return };
    let k = plan::block_of(&m.state());
    let old = address(&m, "test-charm/1");
    m.clear_events();
    let new = m.ok(&["change-address", "test-charm/1"]).trim().to_string();
    assert_ne!(new, old);
    assert_eq!(address(&m, "test-charm/1"), new);
    m.wait();
    assert!(m.events_of("test-charm/1").contains(&"config-changed".to_string()), "{:?}", m.events());
    assert_eq!(m.exec("test-charm/1", "network-get cluster --ingress-address"), new);
    let addrs = m.exec("test-charm/1", "ip -4 -o addr show eth0");
    assert!(addrs.contains(&format!("inet {new}/24")) && !addrs.contains(&old), "{addrs}");
    // Every hosts file, inside and outside the namespaces, carries the new address.
    for machine in [0, 1] {
        let path = format!("{}/{}/hosts", net::NETNS_ETC, plan::netns(k, machine));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(&format!("{new}\ttest-charm-1\n")) && !text.contains(&old), "{path}: {text}");
    }
    assert!(std::fs::read_to_string(m.dir().join("hosts")).unwrap().contains(&new));
    assert_eq!(m.exec("test-charm/0", "getent hosts test-charm-1 | cut -d' ' -f1"), new);
    // The peer sees the new address in the relation data.
    let seen = m.exec("test-charm/0", "relation-get -r $(relation-ids cluster) ingress-address test-charm/1");
    assert_eq!(seen, new);
    // Accounting measures the hook itself through `ip netns exec` (which execs, keeping the pid).
    let timings = juju_local::agent::timings::read(&m.dir());
    let runs: Vec<_> =
        timings.iter().filter(|t| t.unit == "test-charm/1" && t.event == "config-changed").collect();
    assert_eq!(runs.len(), 2, "one at deploy, one after the address change: {runs:?}");
    assert!(runs.iter().all(|t| t.rc == Some(0) && t.wall_ms > 0.0 && t.max_rss_kib > 100), "{runs:?}");
}

#[test]
fn removing_units_and_destroying_the_model_leave_nothing() {
    let Some(m) = TestModel::hosts("hosts-teardown", 2) else { return };
    let k = plan::block_of(&m.state());
    m.ok(&["cut", "test-charm/0", "--from", "test-charm/1"]);
    m.ok(&["remove-unit", "test-charm/1"]);
    m.ok(&["wait", "--timeout", "60s", "--units", "1"]);
    let left = net::leftovers(k);
    assert!(!left.iter().any(|l| l.contains(&plan::netns(k, 1))), "{left:?}");
    assert!(!std::fs::read_to_string(m.dir().join("hosts")).unwrap().contains("test-charm-1"));
    let hosts0 = std::fs::read_to_string(format!("{}/{}/hosts", net::NETNS_ETC, plan::netns(k, 0))).unwrap();
    assert!(!hosts0.contains("test-charm-1"), "{hosts0}");
    assert!(m.state().faults.partitions.is_empty());
    m.ok(&["add-unit", "test-charm"]);
    m.wait();
    m.ok(&["remove-unit", "--force", "--no-wait", "test-charm/2"]);
    assert!(!net::leftovers(k).iter().any(|l| l.contains(&plan::netns(k, 2))));
    m.ok(&["destroy-model", &m.name, "--no-prompt"]);
    assert_eq!(net::leftovers(k), Vec::<String>::new());
}

#[test]
fn host_mode_is_refused_clearly_without_root_and_faults_need_host_mode() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let home = tempfile::tempdir().unwrap();
    std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    // `nobody` may be unable to enter the checkout (a clone under /root, mode 0700), so it runs a
    // copy of the binary from a world-readable directory, and starts in the world-writable home.
    let bin = tempfile::tempdir().unwrap();
    std::fs::set_permissions(bin.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let juju_local = bin.path().join("juju-local");
    std::fs::copy(common::JUJU_LOCAL, &juju_local).unwrap();
    std::fs::set_permissions(&juju_local, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut cmd = std::process::Command::new(&juju_local);
    cmd.args(["add-model", "nope", "--config", "network-mode=hosts"])
        .env("JUJU_LOCAL_HOME", home.path())
        .current_dir(home.path());
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        // As root, check the refusal a non-root user gets by dropping to `nobody`.
        cmd.uid(65534).gid(65534);
    }
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.lines().collect::<Vec<_>>(),
        ["ERROR host mode needs root (network namespaces and /etc/netns); use the default loopback mode"]
    );
    assert!(!home.path().join("models/nope").exists(), "a refused model must leave no directory");

    let m = TestModel::deployed("loopback-faults", 1);
    let err = m.fails(&["cut", "test-charm/0"]);
    assert!(err.contains("has no separate hosts"), "{err}");
    let err = m.fails(&["change-address", "test-charm/0"]);
    assert!(err.contains("has no separate hosts"), "{err}");
    let err = m.fails(&["add-model", "other", "--config", "network-mode=bridge"]);
    assert!(err.contains("network-mode must be \"loopback\", \"hosts\" or \"machines\""), "{err}");
    assert_eq!(m.state().units["test-charm/0"].hostname, "");
    assert_eq!(m.ok(&["model-config", "network-mode"]).trim(), "loopback");
    let err = m.fails(&["model-config", "network-mode=hosts"]);
    assert!(err.contains("network-mode is fixed when the model is created"), "{err}");
}

/// A stand-in owner process, killed (by pid) when dropped so a failing test leaks nothing.
struct Owner(std::process::Child);

impl Drop for Owner {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_dead_owner_takes_its_host_mode_network_down() {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        println!("skipped: host mode needs root");
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let mut owner = Owner(std::process::Command::new("sleep").arg("1000").spawn().unwrap());
    let owner_pid = owner.0.id().to_string();
    let juju = |args: &[&str]| {
        let out = std::process::Command::new(common::JUJU_LOCAL)
            .args(args)
            .env("JUJU_LOCAL_HOME", home.path())
            .env("JUJU_MODEL", "owned")
            .env("JUJU_LOCAL_OWNER_PID", &owner_pid)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    juju(&["add-model", "owned", "--config", "network-mode=hosts"]);
    juju(&["deploy", common::test_charm().to_str().unwrap(), "-n", "2"]);
    juju(&["wait", "--timeout", "60s"]);
    let dir = home.path().join("models/owned");
    let k = plan::block_of(&juju_local::store::Store::open(&dir).unwrap().read().unwrap());
    // Two namespaces, two bridge-side veths, the bridge, two /etc/netns entries.
    assert_eq!(net::leftovers(k).len(), 7, "{:?}", net::leftovers(k));
    owner.0.kill().unwrap();
    owner.0.wait().unwrap();
    eventually(Duration::from_secs(30), "model destroyed", || (!dir.exists()).then_some(()));
    assert_eq!(net::leftovers(k), Vec::<String>::new());
}

#[test]
fn a_deleted_model_directory_takes_its_network_and_processes_down() {
    let Some(m) = TestModel::hosts("hosts-deleted", 1) else { return };
    let state = m.state();
    let k = plan::block_of(&state);
    assert_eq!(juju_local::model::processes::find(&state.uuid, None, None).len(), 1);
    std::fs::remove_dir_all(m.dir()).unwrap();
    eventually(Duration::from_secs(30), "network removed", || net::leftovers(k).is_empty().then_some(()));
    eventually(Duration::from_secs(30), "processes stopped", || {
        juju_local::model::processes::find(&state.uuid, None, None).is_empty().then_some(())
    });
}

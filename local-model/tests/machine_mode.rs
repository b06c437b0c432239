//! Machine mode (root only): every unit on a container booted with systemd as PID 1 — its own
//! hostname, network namespace, process table and root filesystem — with hooks running inside;
//! the kill/start/reboot-machine faults; and a teardown that leaves no container, mount or
//! namespace behind. Without root each test prints a visible skip line and returns.

mod common;

use common::{eventually, TestModel};
use juju_local::hosts::{net, plan};
use juju_local::machines::{container, plan::MachineDirs};
use std::time::Duration;

fn machine_dirs(m: &TestModel, unit: &str) -> MachineDirs {
    MachineDirs::new(&m.dir(), m.state().units[unit].machine)
}

#[test]
fn units_are_machines_that_run_systemd_and_the_hooks_inside_them() {
    let Some(m) = TestModel::machines("machines-basic", 2) else { return };
    assert_eq!(m.ok(&["model-config", "network-mode"]).trim(), "machines");
    for (unit, hostname) in [("test-charm/0", "test-charm-0"), ("test-charm/1", "test-charm-1")] {
        // A hook context runs on the unit's own machine, whose PID 1 is systemd.
        assert_eq!(m.exec(unit, "cat /proc/1/comm"), "systemd", "{unit}");
        let state = m.exec(unit, "systemctl is-system-running || true");
        assert!(state == "running" || state == "degraded", "{unit}: {state}");
        assert_eq!(m.exec(unit, "hostname"), hostname);
        // Nothing in the hook environment tells the charm it is not on real Juju.
        assert_eq!(m.exec(unit, "env | grep -c '^JUJU_LOCAL' || true"), "0", "{unit}");
        // As on an IAAS machine: an address, no hostname.
        let info = m.exec(unit, "network-get cluster --format json");
        assert!(info.contains("\"hostname\":\"\""), "{info}");
        let ip = m.state().units[unit].address.to_string();
        assert!(m.exec(unit, "ip -4 -o addr show eth0").contains(&format!("inet {ip}/24")));
    }
    // A service started with systemctl on one machine is that machine's alone.
    m.exec("test-charm/0", "systemd-run --quiet --unit=probe sleep 1000");
    assert_eq!(m.exec("test-charm/0", "systemctl is-active probe"), "active");
    assert_eq!(m.exec("test-charm/1", "systemctl is-active probe || true"), "inactive");
    // juju-exec from a process on a machine outside any hook (as Sentinel's script runs it)
    // dispatches to another unit, which runs it on its own machine.
    assert_eq!(
        m.exec("test-charm/0", "env -u JUJU_CONTEXT_ID juju-exec test-charm/1 -- hostname"),
        "test-charm-1"
    );
}

#[test]
fn a_killed_machine_runs_nothing_until_it_is_started_and_a_reboot_keeps_its_disk_and_services() {
    let Some(m) = TestModel::machines("machines-faults", 2) else { return };
    // An enabled service and a file on the machine's own disk.
    m.exec(
        "test-charm/1",
        "printf '[Service]\\nExecStart=/bin/sleep 1000\\n[Install]\\nWantedBy=multi-user.target\\n' \
         > /etc/systemd/system/keeper.service && systemctl daemon-reload && systemctl enable --quiet --now keeper \
         && echo kept > /var/tmp/mark",
    );
    let init = container::init_pid(&machine_dirs(&m, "test-charm/1")).expect("machine 1 runs");

    m.ok(&["kill-machine", "test-charm/1"]);
    assert!(container::init_pid(&machine_dirs(&m, "test-charm/1")).is_none(), "the machine must be gone");
    assert!(!std::path::Path::new(&format!("/proc/{init}")).exists(), "its PID 1 must be dead");
    let status = m.ok(&["status", "--format", "json"]);
    assert!(status.contains("\"current\":\"lost\""), "{status}");
    // Juju runs nothing on a lost unit: config-changed reaches the live unit only.
    let before = m.events_of("test-charm/1").len();
    let changes = |unit: &str| m.events_of(unit).iter().filter(|e| *e == "config-changed").count();
    let live_before = changes("test-charm/0");
    m.ok(&["config", "test-charm", "greeting=changed"]);
    eventually(Duration::from_secs(30), "config-changed on the live unit", || {
        (changes("test-charm/0") > live_before).then_some(())
    });
    // ... while the lost unit's stays queued, not run.
    let queued = m.state().units["test-charm/1"].queue.clone();
    assert!(
        queued
            .iter()
            .any(|e| matches!(e, juju_local::state::QueuedEvent::Hook(h) if h.name == "config-changed")),
        "{queued:?}"
    );
    assert_eq!(m.events_of("test-charm/1").len(), before, "a lost unit ran a hook");

    // Booted again: its queued hook runs, then `start` (Juju's start-after-reboot), its enabled
    // service is back and its disk kept what was written.
    m.ok(&["start-machine", "test-charm/1"]);
    m.wait();
    let after: Vec<String> = m.events_of("test-charm/1")[before..].to_vec();
    assert!(after.contains(&"config-changed".to_string()), "{after:?}");
    assert!(after.contains(&"start".to_string()), "{after:?}");
    assert_eq!(m.exec("test-charm/1", "systemctl is-active keeper"), "active");
    assert_eq!(m.exec("test-charm/1", "cat /var/tmp/mark"), "kept");

    // A clean reboot: the same, through systemd's own shutdown.
    let booted = container::init_pid(&machine_dirs(&m, "test-charm/1")).expect("runs");
    m.ok(&["reboot-machine", "test-charm/1"]);
    m.wait();
    let again = container::init_pid(&machine_dirs(&m, "test-charm/1")).expect("runs after the reboot");
    assert_ne!(again, booted, "a reboot gives a new PID 1");
    assert_eq!(m.exec("test-charm/1", "systemctl is-active keeper"), "active");
    assert_eq!(m.exec("test-charm/1", "cat /var/tmp/mark"), "kept");
}

#[test]
fn removing_units_and_destroying_the_model_leave_no_machine_mount_or_namespace() {
    let Some(m) = TestModel::machines("machines-teardown", 2) else { return };
    let k = plan::block_of(&m.state());
    let gone = machine_dirs(&m, "test-charm/1");
    let kept = machine_dirs(&m, "test-charm/0");
    assert!(container::is_mounted(&gone.root()) && container::init_pid(&gone).is_some());

    m.ok(&["remove-unit", "test-charm/1"]);
    eventually(Duration::from_secs(90), "unit removed", || {
        (!m.state().units.contains_key("test-charm/1")).then_some(())
    });
    eventually(Duration::from_secs(30), "machine 1 cleared", || {
        (container::nspawn_pid(&gone).is_none()
            && !container::is_mounted(&gone.root())
            && !gone.base.exists())
        .then_some(())
    });
    assert!(container::init_pid(&kept).is_some(), "the other machine must keep running");

    m.ok(&["destroy-model", "machines-teardown", "--no-prompt"]);
    assert!(container::nspawn_pid(&kept).is_none(), "destroy-model left a machine running");
    assert!(!container::is_mounted(&kept.root()), "destroy-model left a root filesystem mounted");
    assert_eq!(net::leftovers(k), Vec::<String>::new());
}

/// Juju mounts a singleton filesystem store at the charm's `location:` on the unit's machine
/// (`domain/storage/mount.go`, `FilesystemMountPoint`: "the location is specified and it's a
/// singleton store, so just use the location as-is"), its `rootfs` provider bind-mounting the
/// instance's directory there (`internal/storage/provider/rootfs.go`), and `storage-get location`
/// answers that mount point (`apiserver/common/storagecommon`, `filesystemStorageAttachmentInfo`).
/// juju-local binds the instance's directory in the model there: what the unit writes at the
/// location is in that directory on the host, through a reboot too.
#[test]
fn storage_is_mounted_at_the_charms_location_inside_the_machine() {
    let Some(m) = TestModel::machines("machines-storage", 1) else { return };
    let unit = "test-charm/0";
    assert_eq!(m.exec(unit, "storage-get -s data/0 location"), "/srv/data");
    assert_eq!(m.exec(unit, "findmnt -n -o TARGET --mountpoint /srv/data"), "/srv/data");
    m.exec(unit, "echo written-inside > /srv/data/mark");
    let host = m.state().units[unit].storage["data/0"].clone();
    assert!(host.starts_with(m.dir()), "the instance's directory stays in the model: {}", host.display());
    assert_eq!(std::fs::read_to_string(host.join("mark")).expect("the host side"), "written-inside\n");
    let status = m.ok(&["status", "--format", "json"]);
    assert!(status.contains("\"location\":\"/srv/data\""), "{status}");
    m.ok(&["reboot-machine", unit]);
    m.wait();
    assert_eq!(m.exec(unit, "cat /srv/data/mark"), "written-inside");
}

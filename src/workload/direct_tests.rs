// Tests of the workload seam start real servers and inspect them with raw clients. libc calls carry SAFETY comments.
#![allow(clippy::disallowed_methods, unsafe_code)]
use super::*;
use crate::config::CharmConfig;
use crate::workload::pidfile::PidRecord;
use crate::workload::render::{render_sentinel_conf, render_valkey_conf, SentinelConf, ValkeyConf};
use crate::workload::test_support::{self, free_port, kill_supervised, poll, valkey_server};
use crate::workload::{write_private, Credentials, ADMIN_USER};

/// Env var carrying the supervisor's argv (one per line) into [`supervisor_process`].
const ARGV_VAR: &str = "VALKEY_CHARM_SUPERVISE_TEST_ARGV";

/// Not a test: the entry point of the supervisor process in these tests. The tests cannot run
/// the real `dispatch` binary (it is another crate target), so a wrapper script re-runs this
/// test binary with only this "test" selected and the supervisor's argv in [`ARGV_VAR`].
#[test]
#[ignore = "entry point of the supervisor child process, run by direct_supervisor_* tests"]
fn supervisor_process() {
    if let Ok(argv) = std::env::var(ARGV_VAR) {
        let mut args = vec!["dispatch".to_string()];
        args.extend(argv.lines().map(str::to_string));
        std::process::exit(crate::workload::supervise_main(&args));
    }
}

/// A `dispatch` stand-in that runs [`supervisor_process`] with its arguments.
fn fake_dispatch(dir: &Path) -> PathBuf {
    test_support::fake_dispatch(dir, ARGV_VAR, "workload::direct::tests::supervisor_process")
}

/// Kills everything the test's supervisors started, whatever happened in the test.
struct Cleanup(Direct);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for svc in [Service::Valkey, Service::Sentinel] {
            kill_supervised(&self.0.supervisor_pidfile(svc));
        }
    }
}

fn creds() -> Credentials {
    Credentials { admin: "adminpw".into(), replication: "replpw".into(), sentinel: "sentpw".into() }
}

/// PING as the admin user on `port`.
fn ping(port: u16) -> bool {
    let url = format!("redis://{ADMIN_USER}:adminpw@127.0.0.1:{port}/");
    let Ok(client) = redis::Client::open(url) else { return false };
    let Ok(mut con) = client.get_connection_with_timeout(Duration::from_millis(500)) else { return false };
    redis::cmd("PING").query::<String>(&mut con).is_ok_and(|r| r == "PONG")
}

/// `CONFIG GET replica-priority` as the admin user on `port`.
fn replica_priority(port: u16) -> Option<String> {
    let url = format!("redis://{ADMIN_USER}:adminpw@127.0.0.1:{port}/");
    let mut con =
        redis::Client::open(url).ok()?.get_connection_with_timeout(Duration::from_millis(500)).ok()?;
    let pair: Vec<String> = redis::cmd("CONFIG").arg("GET").arg("replica-priority").query(&mut con).ok()?;
    pair.get(1).cloned()
}

/// A unit layout with rendered configs for a primary on `port` and a Sentinel on `s_port`.
fn unit(dir: &Path, port: u16, s_port: u16) -> Paths {
    let paths = Paths::new(dir.join("data"));
    paths.create_dirs().unwrap();
    let c = creds();
    let config = CharmConfig::default();
    let valkey = ValkeyConf {
        bind: "127.0.0.1",
        announce_host: "127.0.0.1",
        port,
        primary: None,
        credentials: &c,
        config: &config,
        min_replicas_to_write: 0,
        paths: &paths,
    };
    write_private(&paths.valkey_conf(), &render_valkey_conf(&valkey)).unwrap();
    let sentinel = SentinelConf {
        bind: "127.0.0.1",
        announce_host: "127.0.0.1",
        port: s_port,
        primary_host: "127.0.0.1",
        primary_port: port,
        quorum: 1,
        credentials: &c,
        config: &config,
        paths: &paths,
        reconfig_script: None,
        notification_script: None,
    };
    write_private(&paths.sentinel_conf(), &render_sentinel_conf(&sentinel)).unwrap();
    paths
}

/// [`unit`] under a direct supervisor of the pinned valkey-server that restarts Valkey 200 ms after
/// an exit; the guard kills what it starts.
fn supervised_unit(dir: &Path, port: u16, s_port: u16) -> (Paths, Direct, Cleanup) {
    let paths = unit(dir, port, s_port);
    let installed = Installed { server: valkey_server(), version: "9.1.2".into() };
    let direct = Direct::new(&fake_dispatch(dir), &paths, &installed, Duration::from_millis(200));
    let cleanup = Cleanup(direct.clone());
    (paths, direct, cleanup)
}

#[test]
fn direct_supervisor_restarts_a_killed_valkey_and_stops_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let (port, s_port) = (free_port(), free_port());
    let (paths, direct, _cleanup) = supervised_unit(tmp.path(), port, s_port);
    // A descriptor leaked into the hook (no close-on-exec), as an agent might.
    let mut leaked = [0i32; 2];
    // SAFETY: pipe(2) writes two descriptors into the array.
    assert_eq!(unsafe { libc::pipe(leaked.as_mut_ptr()) }, 0);
    let leaked_target = std::fs::read_link(format!("/proc/self/fd/{}", leaked[0])).unwrap();

    // The restart hook: records each call, so the test sees when the supervisor ran it.
    let marker = tmp.path().join("restarted.calls");
    let script = format!("#!/bin/sh\necho restarted >> '{}'\n", marker.display());
    crate::workload::write_file(&paths.restarted_script(), &script, 0o700).unwrap();

    direct.start(Service::Valkey).unwrap();
    let first = direct.pid(Service::Valkey).expect("valkey runs after start");
    let sup_pid = PidRecord::read(&direct.supervisor_pidfile(Service::Valkey)).unwrap().pid;
    for pid in [sup_pid, first] {
        let held: Vec<PathBuf> = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .flatten()
            .filter_map(|e| std::fs::read_link(e.path()).ok())
            .collect();
        assert!(!held.contains(&leaked_target), "pid {pid} holds the hook's leaked pipe: {held:?}");
    }
    assert!(poll(Duration::from_secs(10), || ping(port).then_some(())).is_some(), "valkey answers");
    // Started behind the fence (the rendered valkey.conf says 100), and not "restarted".
    assert_eq!(replica_priority(port).as_deref(), Some("0"), "the start-up fence is on");
    assert!(!marker.exists(), "the first start is not a restart");
    direct.start(Service::Valkey).unwrap();
    assert_eq!(direct.pid(Service::Valkey), Some(first), "start is idempotent");
    let supervisor = PidRecord::read(&direct.supervisor_pidfile(Service::Valkey)).unwrap();
    assert!(supervisor.is_alive());

    // kill -9 the server: the supervisor brings it back after the delay, and stays in charge
    // meanwhile.
    // SAFETY: kill(2) on a pid this test started.
    unsafe { libc::kill(first as libc::pid_t, libc::SIGKILL) };
    assert!(direct.is_supervised(Service::Valkey));
    let second = poll(Duration::from_secs(10), || direct.pid(Service::Valkey).filter(|p| *p != first))
        .expect("the supervisor restarted valkey");
    assert!(poll(Duration::from_secs(10), || ping(port).then_some(())).is_some(), "restarted valkey answers");
    assert_eq!(replica_priority(port).as_deref(), Some("0"), "a restart is fenced too");
    let calls = poll(Duration::from_secs(10), || std::fs::read_to_string(&marker).ok());
    assert_eq!(calls.as_deref(), Some("restarted\n"), "the supervisor ran the restart hook once");

    // The Sentinel runs beside it, with --sentinel.
    direct.start(Service::Sentinel).unwrap();
    let orphan = direct.pid(Service::Sentinel).expect("sentinel runs");
    assert!(poll(Duration::from_secs(10), || ping(s_port).then_some(())).is_some(), "sentinel answers");

    // Its supervisor is killed (-9): the server lives on as an orphan; start replaces both.
    let sentinel_supervisor = PidRecord::read(&direct.supervisor_pidfile(Service::Sentinel)).unwrap();
    assert!(sentinel_supervisor.signal(libc::SIGKILL));
    assert!(poll(Duration::from_secs(5), || (!sentinel_supervisor.is_alive()).then_some(())).is_some());
    assert_eq!(direct.pid(Service::Sentinel), Some(orphan), "the orphan is still found");
    direct.start(Service::Sentinel).unwrap();
    let sentinel = direct.pid(Service::Sentinel).expect("sentinel runs again");
    assert_ne!(sentinel, orphan);
    assert!(PidRecord::of(orphan).is_none_or(|r| !r.is_alive()), "the orphan was stopped");
    assert!(poll(Duration::from_secs(10), || ping(s_port).then_some(())).is_some(), "new sentinel answers");

    direct.stop(Service::Valkey).unwrap();
    direct.stop(Service::Sentinel).unwrap();
    assert_eq!(direct.pid(Service::Valkey), None);
    assert!(!direct.is_running(Service::Sentinel));
    assert!(!direct.is_supervised(Service::Valkey) && !direct.is_supervised(Service::Sentinel));
    assert!(!supervisor.is_alive(), "the supervisor exited");
    for pid in [second, sentinel] {
        assert!(PidRecord::of(pid).is_none_or(|r| !r.is_alive()), "pid {pid} is gone");
    }
    assert!(!ping(port) && !ping(s_port));
    direct.stop(Service::Valkey).unwrap();
    let log = std::fs::read_to_string(direct.supervisor_log(Service::Valkey)).unwrap();
    assert!(log.contains("restarting in 200 ms"), "{log}");
}

/// The octal permission bits of `path`.
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn config_files_stay_private_after_the_servers_rewrite_them() {
    let tmp = tempfile::tempdir().unwrap();
    let (port, s_port) = (free_port(), free_port());
    let (paths, direct, _cleanup) = supervised_unit(tmp.path(), port, s_port);
    direct.start(Service::Valkey).unwrap();
    direct.start(Service::Sentinel).unwrap();
    assert!(poll(Duration::from_secs(10), || ping(port).then_some(())).is_some(), "valkey answers");
    assert!(poll(Duration::from_secs(10), || ping(s_port).then_some(())).is_some(), "sentinel answers");
    let url = format!("redis://{ADMIN_USER}:adminpw@127.0.0.1:{port}/");
    let mut con =
        redis::Client::open(url).unwrap().get_connection_with_timeout(Duration::from_secs(2)).unwrap();
    let () =
        redis::cmd("CONFIG").arg("SET").arg("maxmemory-policy").arg("allkeys-lru").query(&mut con).unwrap();
    let () = redis::cmd("CONFIG").arg("REWRITE").query(&mut con).unwrap();
    let rewritten = std::fs::read_to_string(paths.valkey_conf()).unwrap();
    assert!(rewritten.contains("maxmemory-policy allkeys-lru"), "CONFIG REWRITE ran");
    assert_eq!(mode(&paths.valkey_conf()), 0o600, "valkey.conf after CONFIG REWRITE");
    // Sentinel rewrites its own file as soon as it starts (it adds its `myid`).
    let own_id = poll(Duration::from_secs(10), || {
        std::fs::read_to_string(paths.sentinel_conf()).ok().filter(|t| t.contains("sentinel myid"))
    });
    assert!(own_id.is_some(), "Sentinel rewrote its file");
    assert_eq!(mode(&paths.sentinel_conf()), 0o600, "sentinel.conf after Sentinel's rewrite");
    direct.stop(Service::Sentinel).unwrap();
    direct.stop(Service::Valkey).unwrap();
}

#[test]
fn direct_start_reports_a_server_that_cannot_run() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = unit(tmp.path(), free_port(), free_port());
    let installed = Installed { server: tmp.path().join("no-such-valkey-server"), version: "0".into() };
    let direct = Direct::new(&fake_dispatch(tmp.path()), &paths, &installed, Duration::from_millis(100));
    let _cleanup = Cleanup(direct.clone());
    let err = direct.start(Service::Valkey).unwrap_err().to_string();
    assert!(err.contains("cannot start") && err.contains("no-such-valkey-server"), "{err}");
    assert!(!direct.is_running(Service::Valkey));
}

#[test]
fn supervise_args_carry_the_delay_and_the_sentinel_flag() {
    let paths = Paths::new("/d");
    let installed = Installed { server: PathBuf::from("/d/bin/valkey-server"), version: "9.1.2".into() };
    let direct = Direct::new(Path::new("/c/dispatch"), &paths, &installed, Duration::from_secs(8));
    assert_eq!(
        direct.supervise_args(Service::Valkey).join(" "),
        "supervise --pidfile /d/run/valkey.supervisor.pid --restart-delay-ms 8000 \
         --on-restart /d/etc/valkey-restarted.sh -- /d/bin/valkey-server /d/etc/valkey.conf --replica-priority 0"
    );
    assert!(direct.supervise_args(Service::Sentinel).join(" ").ends_with("/d/etc/sentinel.conf --sentinel"));
}

#[test]
fn refresh_writes_the_delay_file_only_when_the_delay_changed() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = Paths::new(tmp.path());
    std::fs::create_dir_all(paths.run_dir()).unwrap();
    let installed = Installed { server: "/bin/false".into(), version: "9.1.2".into() };
    let direct = Direct::new(Path::new("/unused/dispatch"), &paths, &installed, Duration::ZERO);
    assert_eq!(direct.restart_delay(), None, "no delay file yet");
    assert!(direct.refresh(Duration::ZERO).unwrap());
    assert_eq!(direct.restart_delay(), Some(Duration::ZERO));
    assert!(direct.refresh(Duration::from_millis(8000)).unwrap());
    assert!(!direct.refresh(Duration::from_millis(8000)).unwrap(), "unchanged: not rewritten");
    assert_eq!(direct.restart_delay(), Some(Duration::from_millis(8000)));
    assert_eq!(std::fs::read_to_string(direct.restart_delay_file()).unwrap(), "8000");
}

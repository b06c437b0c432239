//! Tests of [`super::Systemd`]: the rendered units, and what it asks of `systemctl` (a recording
//! stub script stands in for it; `systemd-analyze verify` checks the units when installed).

// Asks systemd-analyze to verify the rendered units.
#![allow(clippy::disallowed_methods)]

use super::*;
use std::os::unix::fs::PermissionsExt;

/// A `systemctl` stand-in in a temp dir: appends its arguments to `calls`, answers `is-failed`
/// by the presence of `failed`, `show` (Valkey's `ActiveState` and `MainPID`) by the presence of
/// `active`.
struct Stub {
    dir: tempfile::TempDir,
}

impl Stub {
    fn new() -> Stub {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let script = format!(
            "#!/bin/sh\n\
             echo \"$*\" >> '{d}/calls'\n\
             case \"$1\" in\n\
             is-failed) [ -e '{d}/failed' ] ;;\n\
             show) if [ -e '{d}/active' ]; then v=active; p=4242; else v=inactive; p=0; fi; \
                   printf 'MainPID=%s\\nActiveState=%s\\n\\nMainPID=0\\nActiveState=inactive\\n' \"$p\" \"$v\" ;;\n\
             esac\n"
        );
        let path = dir.path().join("systemctl");
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        Stub { dir }
    }

    /// A supervisor of unit valkey/3 whose unit files go to this stub's dir.
    fn systemd(&self) -> Systemd {
        std::fs::create_dir_all(self.dir.path().join("units")).unwrap();
        Systemd {
            unit_dir: self.dir.path().join("units"),
            systemctl: self.dir.path().join("systemctl"),
            // No service user: a start would create it on the machine running the tests.
            user: None,
            ..systemd(Path::new("/unused"))
        }
    }

    /// Every call so far, one per line; forgets them.
    fn take_calls(&self) -> Vec<String> {
        let path = self.dir.path().join("calls");
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let _ = std::fs::remove_file(&path);
        text.lines().map(str::to_string).collect()
    }

    /// Makes `is-failed` answer yes / `show` say Valkey is active.
    fn set(&self, flag: &str) {
        std::fs::write(self.dir.path().join(flag), "").unwrap();
    }
}

fn systemd(root: &Path) -> Systemd {
    Systemd {
        prefix: "valkey-valkey-3".into(),
        unit: "valkey/3".into(),
        unit_dir: root.join("units"),
        server: PathBuf::from("/srv/data/bin/valkey-server"),
        paths: Paths::new("/srv/data"),
        valkey_restart_delay: Duration::from_millis(8000),
        systemctl: PathBuf::from("systemctl"),
        user: Some("valkey".into()),
        relay: crate::workload::relay::RelayArgs {
            spool: "/srv/data/run/events".into(),
            unit: "valkey/3".into(),
            juju_exec: "/usr/bin/juju-exec".into(),
        },
        dispatch: "/var/lib/juju/agents/unit-valkey-3/charm/dispatch".into(),
        seen: std::cell::Cell::new(None),
    }
}

const VALKEY_UNIT: &str = "valkey-valkey-3.service";
const SENTINEL_UNIT: &str = "valkey-valkey-3-sentinel.service";
const RELAY_PATH: &str = "valkey-valkey-3-relay.path";

#[test]
fn unit_names_follow_the_juju_unit() {
    let s = systemd(Path::new("/tmp"));
    assert_eq!(s.unit_name(Service::Valkey), VALKEY_UNIT);
    assert_eq!(s.unit_name(Service::Sentinel), SENTINEL_UNIT);
}

#[test]
fn renders_restart_always_with_the_delays() {
    let s = systemd(Path::new("/tmp"));
    let valkey = s.render_unit(Service::Valkey);
    assert!(
        valkey.contains(
            "ExecStart=/srv/data/bin/valkey-server /srv/data/etc/valkey.conf --replica-priority 0\n\
             ExecStartPost=-/bin/sh /srv/data/etc/valkey-restarted.sh\n"
        ),
        "{valkey}"
    );
    assert!(valkey.contains("Restart=always\nRestartSec=8000ms\n"), "{valkey}");
    assert!(valkey.contains("Description=Valkey data node of Juju unit valkey/3\n"));
    let sentinel = s.render_unit(Service::Sentinel);
    assert!(
        sentinel.contains("ExecStart=/srv/data/bin/valkey-server /srv/data/etc/sentinel.conf --sentinel\n")
    );
    assert!(sentinel.contains("RestartSec=1000ms\n"), "{sentinel}");
    assert_eq!(s.render_unit_at(Service::Valkey, Duration::ZERO), valkey.replace("=8000ms", "=0ms"));
}

#[test]
fn no_start_limit_in_the_unit_section_of_both_units() {
    let s = systemd(Path::new("/tmp"));
    for svc in [Service::Valkey, Service::Sentinel] {
        let text = s.render_unit(svc);
        let unit_section = text.split("[Service]").next().unwrap();
        assert!(unit_section.contains("[Unit]\n"), "{text}");
        assert!(unit_section.contains("\nStartLimitIntervalSec=0\n"), "{svc}: {text}");
    }
}

#[test]
fn paths_with_spaces_are_quoted() {
    assert_eq!(exec_word(Path::new("/a b/valkey-server")), "\"/a b/valkey-server\"");
    assert_eq!(exec_word(Path::new("/plain/x")), "/plain/x");
}

#[test]
fn a_new_restart_delay_rewrites_the_unit_and_reloads_without_touching_the_service() {
    let stub = Stub::new();
    let s = stub.systemd();
    // The bootstrap unit's files: it started alone, so Valkey came back at once after a crash.
    assert!(s.refresh(Duration::ZERO).unwrap());
    // The first write also brings the relay of the services' requests up.
    assert_eq!(
        stub.take_calls(),
        ["daemon-reload", &format!("enable --quiet {RELAY_PATH}"), &format!("restart {RELAY_PATH}")]
    );
    assert_eq!(s.restart_delay(), Some(Duration::ZERO));
    // It has peers now: the delay must outlast a failover.
    assert!(s.refresh(Duration::from_millis(8000)).unwrap());
    assert_eq!(stub.take_calls(), ["daemon-reload"], "no stop, start or restart of the service");
    let text = std::fs::read_to_string(s.unit_path(Service::Valkey)).unwrap();
    assert!(text.contains("\nRestartSec=8000ms\n"), "{text}");
    assert_eq!(s.restart_delay(), Some(Duration::from_millis(8000)));
}

#[test]
fn an_unchanged_restart_delay_reloads_nothing() {
    let stub = Stub::new();
    let s = stub.systemd();
    s.refresh(Duration::from_millis(8000)).unwrap();
    stub.take_calls();
    assert!(!s.refresh(Duration::from_millis(8000)).unwrap());
    assert_eq!(stub.take_calls(), Vec::<String>::new());
}

#[test]
fn missing_or_outdated_unit_files_have_no_current_delay() {
    let stub = Stub::new();
    let s = stub.systemd();
    assert_eq!(s.restart_delay(), None, "no unit files yet");
    s.refresh(Duration::from_millis(8000)).unwrap();
    // A unit file from an older charm, which had a start limit.
    let path = s.unit_path(Service::Sentinel);
    let old = std::fs::read_to_string(&path).unwrap().replace("StartLimitIntervalSec=0\n", "");
    std::fs::write(&path, old).unwrap();
    assert_eq!(s.restart_delay(), None);
    stub.take_calls();
    assert!(s.refresh(Duration::from_millis(8000)).unwrap());
    assert_eq!(stub.take_calls(), ["daemon-reload"]);
    assert_eq!(s.restart_delay(), Some(Duration::from_millis(8000)));
}

#[test]
fn a_failed_unit_is_reset_before_it_is_started() {
    let stub = Stub::new();
    let s = stub.systemd();
    stub.set("failed");
    s.start(Service::Valkey).unwrap();
    assert_eq!(
        stub.take_calls(),
        [
            format!("show --property=MainPID,ActiveState {VALKEY_UNIT} {SENTINEL_UNIT}"),
            "daemon-reload".into(),
            format!("enable --quiet {RELAY_PATH}"),
            format!("restart {RELAY_PATH}"),
            format!("is-failed --quiet {VALKEY_UNIT}"),
            format!("reset-failed {VALKEY_UNIT}"),
            // Never started by the boot: the charm's start hook decides after a reboot.
            format!("disable --quiet {VALKEY_UNIT}"),
            format!("start {VALKEY_UNIT}"),
        ]
    );
}

#[test]
fn only_sentinel_is_started_by_the_boot() {
    let stub = Stub::new();
    let s = stub.systemd();
    assert!(!s.render_unit(Service::Valkey).contains("[Install]"));
    assert!(s.render_unit(Service::Sentinel).contains("\n[Install]\nWantedBy=multi-user.target\n"));
    s.start(Service::Sentinel).unwrap();
    let calls = stub.take_calls();
    assert!(calls.contains(&format!("enable --quiet {SENTINEL_UNIT}")), "{calls:?}");
}

#[test]
fn a_unit_that_is_not_failed_is_started_without_a_reset() {
    let stub = Stub::new();
    let s = stub.systemd();
    s.start(Service::Sentinel).unwrap();
    let calls = stub.take_calls();
    assert!(!calls.iter().any(|c| c.starts_with("reset-failed")), "{calls:?}");
    assert_eq!(calls.last().map(String::as_str), Some(format!("start {SENTINEL_UNIT}").as_str()));
}

#[test]
fn a_supervised_unit_is_not_started_again() {
    // Active, or activating while it waits out RestartSec: a start job would cut the wait short.
    let stub = Stub::new();
    let s = stub.systemd();
    stub.set("active");
    s.start(Service::Valkey).unwrap();
    assert_eq!(
        stub.take_calls(),
        [format!("show --property=MainPID,ActiveState {VALKEY_UNIT} {SENTINEL_UNIT}")]
    );
}

#[test]
fn remove_stops_disables_deletes_and_reloads() {
    let stub = Stub::new();
    let s = stub.systemd();
    assert!(!s.has_supervision(), "no unit files yet");
    s.refresh(Duration::from_millis(8000)).unwrap();
    stub.take_calls();
    assert!(s.has_supervision(), "inactive, but a reboot would start the enabled units");
    for svc in [Service::Sentinel, Service::Valkey] {
        s.remove(svc).unwrap();
        let name = s.unit_name(svc);
        let mut want =
            vec![format!("stop {name}"), format!("disable --quiet {name}"), "daemon-reload".into()];
        if svc == Service::Valkey {
            // The last service gone: the relay goes too (its service is left to finish).
            want.extend([format!("disable --quiet --now {RELAY_PATH}"), "daemon-reload".into()]);
        }
        assert_eq!(stub.take_calls(), want);
        assert!(!s.unit_path(svc).exists(), "{name} removed");
    }
    assert!(!s.has_supervision());
    // Again: nothing left to remove, nothing asked of systemd.
    s.remove(Service::Valkey).unwrap();
    assert_eq!(stub.take_calls(), Vec::<String>::new());
}

#[test]
fn both_services_run_as_the_service_user_in_a_sandbox() {
    let s = systemd(Path::new("/tmp"));
    for svc in [Service::Valkey, Service::Sentinel] {
        let unit = s.render_unit(svc);
        for line in [
            "User=valkey\n",
            "Group=valkey\n",
            "UMask=0077\n",
            "NoNewPrivileges=yes\n",
            "ProtectSystem=strict\n",
            "ReadWritePaths=/srv/data/db /srv/data/etc /srv/data/run /srv/data/log\n",
            "PrivateTmp=yes\n",
            "CapabilityBoundingSet=\n",
            "ExecStartPre=+/bin/chown -R --no-dereference valkey:valkey /srv/data/db /srv/data/etc",
            "ExecStopPost=-/bin/sh /srv/data/etc/service-exited.sh\n",
        ] {
            assert!(unit.contains(line), "{svc}: {line:?} missing in\n{unit}");
        }
    }
    assert!(!private_tmp(Path::new("/tmp/model/units/valkey-0/storage/data-0")), "it would hide the storage");
    assert!(private_tmp(Path::new("/var/lib/juju/storage/data/0")));
    let root = Systemd { user: None, ..s };
    let unit = root.render_unit(Service::Valkey);
    assert!(!unit.contains("User=") && !unit.contains("chown"), "no service user: none named\n{unit}");
    assert!(unit.contains("ProtectSystem=strict\n"), "the sandbox holds for root too");
}

#[test]
fn the_relay_runs_as_root_when_the_spool_is_not_empty() {
    let s = systemd(Path::new("/tmp"));
    assert_eq!(s.relay_unit_names(), ["valkey-valkey-3-relay.path", "valkey-valkey-3-relay.service"]);
    let [(_, path), (_, service)] = s.relay_units();
    assert!(
        path.contains("DirectoryNotEmpty=/srv/data/run/events\nUnit=valkey-valkey-3-relay.service\n"),
        "{path}"
    );
    assert!(!service.contains("User="), "juju-exec needs root:\n{service}");
    assert!(service.contains("Type=exec\n"), "no oneshot: its job would hold a boot:\n{service}");
}

/// `systemd-analyze verify` accepts the rendered units (when the tool is installed; CI has it).
#[test]
fn systemd_analyze_verifies_the_units() {
    let Ok(probe) = Command::new("systemd-analyze").arg("--version").output() else {
        eprintln!("systemd-analyze not installed; only the rendering was checked");
        return;
    };
    assert!(probe.status.success());
    let tmp = tempfile::tempdir().unwrap();
    let mut s = systemd(tmp.path());
    // verify checks that ExecStart's binary exists: point it at one that does.
    s.server = PathBuf::from("/bin/true");
    std::fs::create_dir_all(&s.unit_dir).unwrap();
    for svc in [Service::Valkey, Service::Sentinel] {
        let path = s.unit_path(svc);
        std::fs::write(&path, s.render_unit(svc)).unwrap();
        let out = Command::new("systemd-analyze").arg("verify").arg(&path).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let complaints: Vec<&str> = stderr
            .lines()
            .filter(|l| l.contains(&s.unit_name(svc)) || l.contains("Unknown") || l.contains("Invalid"))
            .collect();
        assert!(out.status.success() && complaints.is_empty(), "{}: {stderr}", path.display());
    }
}

#[test]
fn one_show_answers_both_units_until_a_change() {
    let stub = Stub::new();
    let s = stub.systemd();
    stub.set("active");
    assert_eq!(s.pid(Service::Valkey), Some(4242));
    assert!(s.is_supervised(Service::Valkey));
    assert_eq!(s.pid(Service::Sentinel), None);
    assert!(!s.is_running(Service::Sentinel));
    // Four questions, one systemctl run.
    assert_eq!(
        stub.take_calls(),
        [format!("show --property=MainPID,ActiveState {VALKEY_UNIT} {SENTINEL_UNIT}")]
    );
    // A change made here forgets the answer: the next question asks again.
    assert!(s.refresh(Duration::from_millis(9000)).unwrap());
    assert_eq!(stub.take_calls()[0], "daemon-reload");
    assert!(s.is_running(Service::Valkey));
    assert_eq!(
        stub.take_calls(),
        [format!("show --property=MainPID,ActiveState {VALKEY_UNIT} {SENTINEL_UNIT}")]
    );
}

#[test]
fn show_output_parses_per_unit() {
    let text = "MainPID=17\nActiveState=active\n\nActiveState=activating\nMainPID=0\n";
    assert_eq!(
        parse_show(text),
        [UnitState { pid: Some(17), supervised: true }, UnitState { pid: None, supervised: true }]
    );
    assert_eq!(parse_show("MainPID=0\nActiveState=failed\n"), [UnitState::default()]);
    assert_eq!(parse_show(""), []);
}

//! Supervision by systemd: one unit file per service with `Restart=always` and the restart delay
//! as `RestartSec`, named after the Juju unit so several units (or models) never share a name.

use super::files::write_file;
use super::service::{Service, Supervisor, SENTINEL_RESTART_DELAY, STOP_TIMEOUT};
use super::{Installed, Paths, WorkloadError, START_FENCE};
use crate::juju::Context;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Where unit files go on a real host.
pub const UNIT_DIR: &str = "/etc/systemd/system";

/// Services as systemd units.
#[derive(Debug, Clone)]
pub struct Systemd {
    /// Unit-name prefix, `valkey-<app>-<n>`: one pair of units per Juju unit.
    pub prefix: String,
    /// The Juju unit (`valkey/0`), for the units' descriptions.
    pub unit: String,
    /// Where unit files are written ([`UNIT_DIR`]; a temp dir in tests).
    pub unit_dir: PathBuf,
    /// The server binary.
    pub server: PathBuf,
    /// Config files and the working directory.
    pub paths: Paths,
    /// `RestartSec` of the Valkey unit.
    pub valkey_restart_delay: Duration,
}

/// Quotes a word for a unit file's `ExecStart=` when it holds anything but plain characters.
fn exec_word(path: &Path) -> String {
    let s = path.to_string_lossy();
    if s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._/-+:@,".contains(&b)) {
        s.into_owned()
    } else {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

impl Systemd {
    /// The systemd supervisor of `ctx`'s unit.
    pub fn new(
        ctx: &Context,
        paths: &Paths,
        installed: &Installed,
        valkey_restart_delay: Duration,
    ) -> Systemd {
        Systemd {
            prefix: format!("valkey-{}-{}", ctx.app, ctx.unit_number),
            unit: ctx.unit.clone(),
            unit_dir: PathBuf::from(UNIT_DIR),
            server: installed.server.clone(),
            paths: paths.clone(),
            valkey_restart_delay,
        }
    }

    /// `valkey-<app>-<n>.service` / `valkey-<app>-<n>-sentinel.service`.
    pub fn unit_name(&self, svc: Service) -> String {
        match svc {
            Service::Valkey => format!("{}.service", self.prefix),
            Service::Sentinel => format!("{}-sentinel.service", self.prefix),
        }
    }

    /// The unit file's content.
    pub fn render_unit(&self, svc: Service) -> String {
        let (what, conf, extra, delay) = match svc {
            Service::Valkey => {
                // The start-up fence on the command line, and the charm told after every start.
                let post = format!("\nExecStartPost=-/bin/sh {}", exec_word(&self.paths.restarted_script()));
                (
                    "data node",
                    self.paths.valkey_conf(),
                    format!(" {}{post}", START_FENCE.join(" ")),
                    self.valkey_restart_delay,
                )
            }
            Service::Sentinel => {
                ("Sentinel", self.paths.sentinel_conf(), " --sentinel".to_string(), SENTINEL_RESTART_DELAY)
            }
        };
        format!(
            "# Rendered by the valkey charm; local edits are overwritten.\n\
             [Unit]\n\
             Description=Valkey {what} of Juju unit {unit}\n\
             After=network-online.target\n\
             Wants=network-online.target\n\
             \n\
             [Service]\n\
             Type=simple\n\
             ExecStart={server} {conf}{extra}\n\
             WorkingDirectory={workdir}\n\
             Restart=always\n\
             RestartSec={delay}ms\n\
             TimeoutStopSec={stop}\n\
             LimitNOFILE=65536\n\
             \n\
             [Install]\n\
             WantedBy=multi-user.target\n",
            unit = self.unit,
            server = exec_word(&self.server),
            conf = exec_word(&conf),
            // WorkingDirectory= takes a plain absolute path: systemd rejects quotes there.
            workdir = self.paths.run_dir().display(),
            delay = delay.as_millis(),
            stop = STOP_TIMEOUT.as_secs(),
        )
    }

    /// Runs `systemctl args...`.
    fn systemctl(&self, args: &[&str]) -> Result<String, WorkloadError> {
        let out = Command::new("systemctl").args(args).output().map_err(|e| WorkloadError::Command {
            command: format!("systemctl {}", args.join(" ")),
            detail: e.to_string(),
        })?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(WorkloadError::Command {
                command: format!("systemctl {}", args.join(" ")),
                detail: format!("{}: {}", out.status, String::from_utf8_lossy(&out.stderr).trim()),
            })
        }
    }
}

impl Supervisor for Systemd {
    fn start(&self, svc: Service) -> Result<(), WorkloadError> {
        let name = self.unit_name(svc);
        if write_file(&self.unit_dir.join(&name), &self.render_unit(svc), 0o644)? {
            self.systemctl(&["daemon-reload"])?;
        }
        self.systemctl(&["enable", "--quiet", &name])?;
        self.systemctl(&["start", &name]).map(drop)
    }

    fn stop(&self, svc: Service) -> Result<(), WorkloadError> {
        let name = self.unit_name(svc);
        if !self.unit_dir.join(&name).exists() {
            return Ok(());
        }
        // systemctl stop waits for the process to exit (bounded by TimeoutStopSec).
        self.systemctl(&["stop", &name]).map(drop)
    }

    fn is_supervised(&self, svc: Service) -> bool {
        // `activating` covers the RestartSec wait after a crash.
        let out = Command::new("systemctl").args(["is-active", &self.unit_name(svc)]).output();
        out.is_ok_and(|o| {
            matches!(String::from_utf8_lossy(&o.stdout).trim(), "active" | "activating" | "reloading")
        })
    }

    fn pid(&self, svc: Service) -> Option<u32> {
        let out = self.systemctl(&["show", "--property=MainPID", "--value", &self.unit_name(svc)]).ok()?;
        out.trim().parse::<u32>().ok().filter(|pid| *pid != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn systemd(root: &Path) -> Systemd {
        Systemd {
            prefix: "valkey-valkey-3".into(),
            unit: "valkey/3".into(),
            unit_dir: root.join("units"),
            server: PathBuf::from("/srv/data/bin/valkey-server"),
            paths: Paths::new("/srv/data"),
            valkey_restart_delay: Duration::from_millis(8000),
        }
    }

    #[test]
    fn unit_names_follow_the_juju_unit() {
        let s = systemd(Path::new("/tmp"));
        assert_eq!(s.unit_name(Service::Valkey), "valkey-valkey-3.service");
        assert_eq!(s.unit_name(Service::Sentinel), "valkey-valkey-3-sentinel.service");
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
        assert!(sentinel
            .contains("ExecStart=/srv/data/bin/valkey-server /srv/data/etc/sentinel.conf --sentinel\n"));
        assert!(sentinel.contains("RestartSec=1000ms\n"), "{sentinel}");
    }

    #[test]
    fn paths_with_spaces_are_quoted() {
        assert_eq!(exec_word(Path::new("/a b/valkey-server")), "\"/a b/valkey-server\"");
        assert_eq!(exec_word(Path::new("/plain/x")), "/plain/x");
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
            let path = s.unit_dir.join(s.unit_name(svc));
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
}

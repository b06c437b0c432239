//! The root-side relay between the services and the charm (issue 15).
//!
//! Valkey, Sentinel and their supervision ask the charm for a hook (`primary-changed` after a
//! failover, `valkey-restarted` after a restart, `services-changed` when a node, a Sentinel or a
//! link went down or came back) by creating an empty file named after the hook in the unit's
//! spool directory ([`super::Paths::spool_dir`]). They cannot run `juju-exec` themselves: Juju only
//! lets root run it, and under systemd the services run as the unprivileged service user
//! ([`super::user`]). Something running with the charm's own rights picks the request up:
//!
//! - under systemd, a path unit watches the spool (`DirectoryNotEmpty=`) and starts a service
//!   running `dispatch relay` as root ([`render_path_unit`], [`render_service_unit`]);
//! - under the direct supervisor, each `dispatch supervise` process runs the same loop in a thread
//!   ([`spawn`]).
//!
//! Requests coalesce: a hook name is claimed by removing its file (only one remover succeeds), and
//! a burst of Sentinel notifications during one hook becomes a single hook afterwards. Only the
//! hook names in [`EVENTS`] are relayed: the spool is writable by the service user, so nothing in
//! it is ever run or followed, only matched against that list.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The hooks a service may ask for, by spool file name.
pub const EVENTS: [&str; 3] = [
    crate::juju::PRIMARY_CHANGED_HOOK,
    crate::juju::VALKEY_RESTARTED_HOOK,
    crate::juju::SERVICES_CHANGED_HOOK,
];

/// How often the direct supervisor's relay thread looks at the spool.
const TICK: Duration = Duration::from_millis(100);

/// Claims every pending request in `spool`: removes each known event's file and returns the
/// events whose file this call removed, in [`EVENTS`] order.
pub fn claim(spool: &Path) -> Vec<&'static str> {
    EVENTS.into_iter().filter(|e| std::fs::remove_file(spool.join(e)).is_ok()).collect()
}

/// The `juju-exec` command that runs `event`'s hook on `unit`.
// The relay seam: juju-exec.
#[allow(clippy::disallowed_methods)]
pub fn juju_exec_command(juju_exec: &Path, unit: &str, event: &str) -> Command {
    let mut cmd = Command::new(juju_exec);
    cmd.args([unit, "--", "env", &format!("JUJU_DISPATCH_PATH=hooks/{event}"), "./dispatch"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // A relay started from a hook (the direct supervisor) must not look like part of it:
        // juju-exec refuses to run inside a hook context (`cmd/jujud/run/run.go`).
        .env_remove("JUJU_CONTEXT_ID");
    cmd
}

/// Relays until the spool is empty: claims the pending requests and runs each hook through
/// `juju-exec`, waiting for it (it waits for the unit's hook lock). Returns how many ran.
pub fn drain(spool: &Path, unit: &str, juju_exec: &Path) -> usize {
    let mut ran = 0;
    loop {
        let claimed = claim(spool);
        if claimed.is_empty() {
            return ran;
        }
        for event in claimed {
            match juju_exec_command(juju_exec, unit, event).status() {
                Ok(status) if status.success() => {}
                Ok(status) => eprintln!("relay: juju-exec {event} on {unit}: {status}"),
                Err(e) => eprintln!("relay: cannot run {}: {e}", juju_exec.display()),
            }
            ran += 1;
        }
    }
}

/// Where and for whom a relay works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayArgs {
    /// The spool directory.
    pub spool: PathBuf,
    /// The Juju unit the hooks run on.
    pub unit: String,
    /// The `juju-exec` program.
    pub juju_exec: PathBuf,
}

impl RelayArgs {
    /// The options that name a relay (`--spool S --unit U --juju-exec J`).
    pub fn to_args(&self) -> Vec<String> {
        vec![
            "--spool".into(),
            self.spool.to_string_lossy().into_owned(),
            "--unit".into(),
            self.unit.clone(),
            "--juju-exec".into(),
            self.juju_exec.to_string_lossy().into_owned(),
        ]
    }

    /// Takes `--spool`, `--unit` or `--juju-exec` with its value from `rest`; `Ok(false)` when
    /// `flag` is none of them.
    pub fn take<'a>(
        partial: &mut (Option<PathBuf>, Option<String>, Option<PathBuf>),
        flag: &str,
        rest: &mut impl Iterator<Item = &'a String>,
    ) -> Result<bool, String> {
        let mut value = || rest.next().cloned().ok_or(format!("{flag} needs a value"));
        match flag {
            "--spool" => partial.0 = Some(PathBuf::from(value()?)),
            "--unit" => partial.1 = Some(value()?),
            "--juju-exec" => partial.2 = Some(PathBuf::from(value()?)),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The relay the options named, if all three were given; an error if only some were.
    pub fn complete(
        partial: (Option<PathBuf>, Option<String>, Option<PathBuf>),
    ) -> Result<Option<RelayArgs>, String> {
        match partial {
            (None, None, None) => Ok(None),
            (Some(spool), Some(unit), Some(juju_exec)) => Ok(Some(RelayArgs { spool, unit, juju_exec })),
            _ => Err("--spool, --unit and --juju-exec go together".into()),
        }
    }
}

/// Runs the relay loop in a thread of the calling process (the direct supervisor) for as long as
/// the process lives.
pub fn spawn(args: RelayArgs) {
    let spawned = std::thread::Builder::new().name("relay".into()).spawn(move || loop {
        drain(&args.spool, &args.unit, &args.juju_exec);
        std::thread::sleep(TICK);
    });
    if let Err(e) = spawned {
        eprintln!("relay: cannot start its thread: {e}");
    }
}

/// `dispatch relay --spool S --unit U --juju-exec J` (the whole argv): drains the spool once
/// (systemd's relay service); returns the exit code.
pub fn main(args: &[String]) -> i32 {
    let start = args.iter().position(|a| a == "relay").map_or(0, |i| i + 1);
    let mut rest = args[start..].iter();
    let mut partial = (None, None, None);
    let parsed = (|| {
        while let Some(flag) = rest.next() {
            if !RelayArgs::take(&mut partial, flag, &mut rest)? {
                return Err(format!("unknown option {flag:?}"));
            }
        }
        RelayArgs::complete(partial)?
            .ok_or_else(|| "--spool, --unit and --juju-exec are required".to_string())
    })();
    match parsed {
        Ok(relay) => {
            drain(&relay.spool, &relay.unit, &relay.juju_exec);
            0
        }
        Err(e) => {
            eprintln!("relay: {e}");
            eprintln!("usage: dispatch relay --spool DIR --unit UNIT --juju-exec PATH");
            2
        }
    }
}

/// The path unit that starts `service` whenever `spool` holds a request.
pub fn render_path_unit(unit: &str, spool: &Path, service: &str) -> String {
    format!(
        "# Rendered by the valkey charm; local edits are overwritten.\n\
         [Unit]\n\
         Description=Requests of Juju unit {unit}'s services to its charm\n\
         \n\
         [Path]\n\
         DirectoryNotEmpty={spool}\n\
         Unit={service}\n\
         \n\
         [Install]\n\
         WantedBy=multi-user.target\n",
        spool = spool.display(),
    )
}

/// The service (as root: it runs `juju-exec`) that relays the spool's requests. `Type=exec`, not
/// `oneshot`: its start job ends once `dispatch relay` runs, so a request left in the spool at a
/// reboot never holds the boot (a oneshot's job lasts until `juju-exec` returns, which waits for
/// the unit agent — seen on a systemd machine of the local model: the boot never finished).
pub fn render_service_unit(unit: &str, dispatch: &Path, relay: &RelayArgs) -> String {
    let args: Vec<String> = relay.to_args().iter().map(|a| super::systemd::exec_word(Path::new(a))).collect();
    format!(
        "# Rendered by the valkey charm; local edits are overwritten.\n\
         [Unit]\n\
         Description=Relay of Juju unit {unit}'s service requests to juju-exec\n\
         \n\
         [Service]\n\
         Type=exec\n\
         ExecStart={dispatch} relay {args}\n",
        dispatch = super::systemd::exec_word(dispatch),
        args = args.join(" "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_claimed_once_and_unknown_files_ignored() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["services-changed", "primary-changed", "rm -rf", "install"] {
            std::fs::write(dir.path().join(f), "").unwrap();
        }
        assert_eq!(claim(dir.path()), vec!["primary-changed", "services-changed"]);
        assert!(claim(dir.path()).is_empty(), "claimed once");
        assert!(dir.path().join("install").exists(), "not a relayed hook: left alone");
    }

    #[test]
    fn drain_runs_each_request_through_juju_exec() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("calls");
        let fake = dir.path().join("juju-exec");
        std::fs::write(&fake, format!("#!/bin/sh\necho \"$@\" >> '{}'\n", log.display())).unwrap();
        std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let spool = dir.path().join("spool");
        std::fs::create_dir(&spool).unwrap();
        std::fs::write(spool.join("valkey-restarted"), "").unwrap();
        assert_eq!(drain(&spool, "valkey/1", &fake), 1);
        assert_eq!(
            std::fs::read_to_string(&log).unwrap(),
            "valkey/1 -- env JUJU_DISPATCH_PATH=hooks/valkey-restarted ./dispatch\n"
        );
        assert_eq!(drain(&spool, "valkey/1", &fake), 0, "nothing pending");
    }

    #[test]
    fn relay_command_lines() {
        let args: Vec<String> =
            "dispatch relay --spool /s --unit v/0".split_whitespace().map(str::to_string).collect();
        assert_eq!(main(&args), 2, "--juju-exec missing");
        let bad: Vec<String> = "dispatch relay --bogus".split_whitespace().map(str::to_string).collect();
        assert_eq!(main(&bad), 2);
        let relay = RelayArgs { spool: "/s".into(), unit: "v/0".into(), juju_exec: "/j".into() };
        let unit = render_service_unit("v/0", Path::new("/charm/dispatch"), &relay);
        assert!(
            unit.contains("ExecStart=/charm/dispatch relay --spool /s --unit v/0 --juju-exec /j\n"),
            "{unit}"
        );
        let path = render_path_unit("v/0", Path::new("/d/run/events"), "x-relay.service");
        assert!(path.contains("DirectoryNotEmpty=/d/run/events\nUnit=x-relay.service\n"), "{path}");
    }
}

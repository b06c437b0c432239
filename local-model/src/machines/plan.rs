//! Machine mode's pure part: where a machine's files live and the command lines that boot it and
//! run a process inside it.

use std::path::{Path, PathBuf};

/// The default root filesystem: `scripts/setup-machines` builds it and points this link at it.
pub const DEFAULT_ROOTFS: &str = "/var/cache/juju-local/rootfs/current";

/// The files of machine `machine` of the model in `model_dir`: `<model>/machines/<m>/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineDirs {
    /// `<model>/machines/<m>`.
    pub base: PathBuf,
}

impl MachineDirs {
    /// The directories of machine `machine`.
    pub fn new(model_dir: &Path, machine: u32) -> MachineDirs {
        MachineDirs { base: model_dir.join("machines").join(machine.to_string()) }
    }
    /// The overlay's writable layer: everything the machine changed on its root filesystem.
    pub fn upper(&self) -> PathBuf {
        self.base.join("upper")
    }
    /// The overlay's work directory.
    pub fn work(&self) -> PathBuf {
        self.base.join("work")
    }
    /// Where the machine's root filesystem is mounted on the host.
    pub fn root(&self) -> PathBuf {
        self.base.join("root")
    }
    /// The container's console (its systemd's boot and shutdown messages).
    pub fn console(&self) -> PathBuf {
        self.base.join("console.log")
    }
    /// The pid of the `systemd-nspawn` process that runs the machine.
    pub fn pid_file(&self) -> PathBuf {
        self.base.join("nspawn.pid")
    }
}

/// `mount -t overlay` options: the shared root filesystem read-only below, the machine's own
/// layer above.
pub fn overlay_options(lower: &Path, dirs: &MachineDirs) -> String {
    format!(
        "lowerdir={},upperdir={},workdir={}",
        lower.display(),
        dirs.upper().display(),
        dirs.work().display()
    )
}

/// What a machine is booted with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Boot {
    /// The mounted root filesystem.
    pub root: PathBuf,
    /// The machine's name (`jl<K>m<m>`, its network namespace's name too).
    pub name: String,
    /// The machine's hostname.
    pub hostname: String,
    /// The network namespace to join (`/run/netns/<name>`).
    pub netns_path: PathBuf,
    /// The hosts file of that namespace, bound over `/etc/hosts`.
    pub hosts_file: PathBuf,
    /// The model directory, bound at the same path (unit directories, charm copies, storage and the
    /// hook tools' links live there).
    pub model_dir: PathBuf,
    /// The hook-tools binary the tools' links point at, bound read-only at the same path.
    pub jujuc: PathBuf,
    /// The storage of the machine's units: each instance's directory in the model (host side),
    /// bound at its mount point inside (as Juju's rootfs provider bind-mounts it there).
    pub storage: Vec<(PathBuf, PathBuf)>,
}

/// The `systemd-nspawn` command line that boots the machine with systemd as PID 1.
///
/// `--register=no --keep-unit`: no machined or systemd on the host to register with.
/// The model directory is bound without its sub-mounts (`norbind`), so no machine sees another
/// machine's root filesystem. `--console=passive` sends the console to the process's stdout
/// (the console log) without a terminal. Each storage instance is bound at its mount point.
pub fn nspawn_args(boot: &Boot) -> Vec<String> {
    let model = boot.model_dir.display().to_string();
    let mut args = vec![
        "--quiet".into(),
        "--register=no".into(),
        "--keep-unit".into(),
        "--boot".into(),
        format!("--directory={}", boot.root.display()),
        format!("--machine={}", boot.name),
        format!("--hostname={}", boot.hostname),
        format!("--network-namespace-path={}", boot.netns_path.display()),
        "--resolv-conf=off".into(),
        "--timezone=off".into(),
        "--link-journal=no".into(),
        "--console=passive".into(),
        format!("--bind={model}:{model}:norbind"),
        format!("--bind-ro={}", boot.jujuc.display()),
        format!("--bind={}:/etc/hosts", boot.hosts_file.display()),
    ];
    // nspawn creates a mount point that the root filesystem lacks.
    args.extend(
        boot.storage.iter().map(|(host, mount)| format!("--bind={}:{}", host.display(), mount.display())),
    );
    args
}

/// The command line that runs `argv` inside the machine whose PID 1 is `init` (host pid): every
/// namespace of the machine (mount, pid, network, uts, ipc, cgroup), working directory `cwd`.
/// `nsenter` forks into the pid namespace and waits, so the caller still reaps one process whose
/// exit code is the command's.
///
/// The working directory is set by a shell inside, not with `nsenter --wd`: that opens the
/// directory before entering the mount namespace, and the command's `getcwd` then fails.
pub fn nsenter_args(nsenter: &Path, init: i32, cwd: &Path, argv: &[String]) -> Vec<String> {
    let mut out = vec![
        nsenter.display().to_string(),
        format!("--target={init}"),
        "--mount".into(),
        "--uts".into(),
        "--ipc".into(),
        "--net".into(),
        "--pid".into(),
        "--cgroup".into(),
        "--".into(),
        "/bin/sh".into(),
        "-c".into(),
        r#"cd "$0" || exit 1; exec "$@""#.into(),
        cwd.display().to_string(),
    ];
    out.extend(argv.iter().cloned());
    out
}

/// Whether `systemctl is-system-running` says boot has finished: `running`, or `degraded` (a unit
/// failed, the machine is up all the same).
pub fn booted(is_system_running: &str) -> bool {
    matches!(is_system_running.trim(), "running" | "degraded")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boot() -> Boot {
        Boot {
            root: "/m/machines/2/root".into(),
            name: "jl7m2".into(),
            hostname: "valkey-0".into(),
            netns_path: "/run/netns/jl7m2".into(),
            hosts_file: "/etc/netns/jl7m2/hosts".into(),
            model_dir: "/m".into(),
            jujuc: "/t/jujuc".into(),
            storage: vec![("/m/units/valkey-0/storage/data-0".into(), "/var/lib/valkey".into())],
        }
    }

    #[test]
    fn boots_systemd_in_the_units_namespace_with_the_model_bound_in() {
        let args = nspawn_args(&boot());
        for want in [
            "--boot",
            "--register=no",
            "--directory=/m/machines/2/root",
            "--hostname=valkey-0",
            "--network-namespace-path=/run/netns/jl7m2",
            "--bind=/m:/m:norbind",
            "--bind-ro=/t/jujuc",
            "--bind=/etc/netns/jl7m2/hosts:/etc/hosts",
            "--bind=/m/units/valkey-0/storage/data-0:/var/lib/valkey",
        ] {
            assert!(args.iter().any(|a| a == want), "{want} missing from {args:?}");
        }
    }

    #[test]
    fn runs_commands_in_every_namespace_of_the_machine() {
        let argv = vec!["/m/units/valkey-0/charm/dispatch".to_string()];
        let args =
            nsenter_args(Path::new("/usr/bin/nsenter"), 4242, Path::new("/m/units/valkey-0/charm"), &argv);
        assert_eq!(args[0], "/usr/bin/nsenter");
        assert!(args.contains(&"--target=4242".to_string()));
        assert!(args.contains(&"--pid".to_string()) && args.contains(&"--mount".to_string()));
        assert_eq!(
            &args[args.len() - 5..],
            [
                "/bin/sh",
                "-c",
                r#"cd "$0" || exit 1; exec "$@""#,
                "/m/units/valkey-0/charm",
                "/m/units/valkey-0/charm/dispatch"
            ]
        );
    }

    #[test]
    fn layout_and_overlay() {
        let dirs = MachineDirs::new(Path::new("/m"), 3);
        assert_eq!(dirs.root(), Path::new("/m/machines/3/root"));
        assert_eq!(
            overlay_options(Path::new("/r"), &dirs),
            "lowerdir=/r,upperdir=/m/machines/3/upper,workdir=/m/machines/3/work"
        );
        assert!(booted("running\n") && booted("degraded") && !booted("starting") && !booted(""));
    }
}

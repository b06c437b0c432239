//! Host mode's effects: running the `ip` commands [`super::plan`] describes and writing the hosts
//! files. Teardown is best effort and idempotent — it must also clear what a crashed run left.

use super::plan::{self, IpArgs};
use super::HostsError;
use crate::state::ModelState;
use std::io::Write;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Where `ip netns exec` looks for per-namespace files (it bind-mounts them over `/etc`).
pub const NETNS_ETC: &str = "/etc/netns";

/// The `ip` binary, if iproute2 is installed (hooks run with a fixed PATH, so it is found once).
pub fn ip_binary() -> Option<PathBuf> {
    ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].into_iter().map(PathBuf::from).find(|p| p.exists())
}

/// Whether host mode can work here: root and iproute2.
pub fn require() -> Result<PathBuf, HostsError> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Err(HostsError::NotRoot);
    }
    ip_binary().ok_or(HostsError::NoIp)
}

/// Runs `ip <args>`; a failure names the command and ip's own error line.
pub fn ip(args: &IpArgs) -> Result<(), HostsError> {
    let binary = ip_binary().ok_or(HostsError::NoIp)?;
    run(&binary, "ip", args)
}

/// Runs `program` (shown as `name` in errors) with `args`, no input; a failure names the command
/// and the program's first line of error output (or how it ended).
pub fn run<S: AsRef<std::ffi::OsStr> + AsRef<str>>(
    program: &Path,
    name: &str,
    args: &[S],
) -> Result<(), HostsError> {
    let words: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
    let command = format!("{name} {}", words.join(" "));
    let out = Command::new(program)
        .args(args.iter().map(AsRef::<std::ffi::OsStr>::as_ref))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| HostsError::Command { command: command.clone(), message: e.to_string() })?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let message = stderr.lines().next().map_or_else(|| out.status.to_string(), str::to_string);
    Err(HostsError::Command { command, message })
}

/// Runs the commands in order, stopping at the first failure.
pub fn ip_all(commands: &[IpArgs]) -> Result<(), HostsError> {
    commands.iter().try_for_each(ip)
}

/// Runs every command, ignoring failures (teardown of what may be half there).
fn ip_all_quietly(commands: &[IpArgs]) {
    for c in commands {
        let _ = ip(c);
    }
}

/// Creates block `k`'s bridge, first clearing anything a crashed run left under the same names
/// (the registry only hands out K when no live model holds it, so those are orphans).
pub fn create_bridge(k: u8) -> Result<(), HostsError> {
    destroy_block(k);
    for c in plan::bridge_up(k) {
        ip(&c)?;
    }
    Ok(())
}

/// Creates machine `machine`'s namespace and link; on failure removes what was made.
pub fn create_machine(k: u8, machine: u32, address: Ipv4Addr) -> Result<(), HostsError> {
    for c in plan::machine_up(k, machine, address) {
        if let Err(e) = ip(&c) {
            remove_machine(k, machine);
            return Err(e);
        }
    }
    Ok(())
}

/// Removes machine `machine`'s namespace, link and `/etc/netns` entry (best effort).
pub fn remove_machine(k: u8, machine: u32) {
    ip_all_quietly(&plan::machine_down(k, machine));
    let _ = std::fs::remove_dir_all(Path::new(NETNS_ETC).join(plan::netns(k, machine)));
}

/// Names of the namespaces that exist now.
pub fn namespaces() -> Vec<String> {
    let Some(binary) = ip_binary() else { return Vec::new() };
    let out = Command::new(binary).args(["netns", "list"]).stdin(Stdio::null()).output();
    let text = out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
    text.lines().filter_map(|l| l.split_whitespace().next()).map(str::to_string).collect()
}

/// Names of the network links that exist now (in the host's namespace).
pub fn links() -> Vec<String> {
    std::fs::read_dir("/sys/class/net")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect()
}

/// Everything of block `k` that exists now: namespaces, links and `/etc/netns` entries. Empty
/// after a clean teardown (tests assert exactly that).
pub fn leftovers(k: u8) -> Vec<String> {
    let ours = |name: &str| plan::machine_of_netns(k, name).is_some();
    let ours_link = |name: &str| name == plan::bridge(k) || name.strip_suffix('h').is_some_and(&ours);
    let mut found: Vec<String> = namespaces().into_iter().filter(|n| ours(n)).collect();
    found.extend(links().into_iter().filter(|l| ours_link(l)));
    let etc = std::fs::read_dir(NETNS_ETC).into_iter().flatten().filter_map(|e| e.ok());
    found.extend(
        etc.filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| ours(n))
            .map(|n| format!("{NETNS_ETC}/{n}")),
    );
    found
}

/// Removes every namespace, link and `/etc/netns` entry of block `k`, and its bridge.
pub fn destroy_block(k: u8) {
    for ns in namespaces() {
        if let Some(machine) = plan::machine_of_netns(k, &ns) {
            remove_machine(k, machine);
        }
    }
    for entry in std::fs::read_dir(NETNS_ETC).into_iter().flatten().filter_map(|e| e.ok()) {
        let name = entry.file_name().into_string().unwrap_or_default();
        if plan::machine_of_netns(k, &name).is_some() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let _ = ip(&vec!["link".into(), "del".into(), plan::bridge(k)]);
    // Only succeeds when empty: other users of /etc/netns keep theirs.
    let _ = std::fs::remove_dir(NETNS_ETC);
}

/// Writes every unit namespace's hosts file and the model's `<model>/hosts`. Namespace files are
/// rewritten in place, never replaced: `ip netns exec` bind-mounted the file's inode over
/// `/etc/hosts` of every process already running there (a valkey-server), and they must see the
/// new addresses too.
pub fn write_hosts(model_dir: &Path, state: &ModelState, leaving: Option<&str>) -> Result<(), HostsError> {
    let k = plan::block_of(state);
    let text = plan::hosts_file(state, leaving);
    for u in state.units.values().filter(|u| Some(u.name.as_str()) != leaving && u.principal.is_none()) {
        let dir = Path::new(NETNS_ETC).join(plan::netns(k, u.machine));
        write_in_place(&dir, &text)?;
    }
    let path = model_dir.join("hosts");
    crate::store::write_atomically(&path, text.as_bytes())
        .map_err(|e| HostsError::Io { what: format!("cannot write {}", path.display()), source: io_of(e) })
}

fn io_of(e: crate::store::StoreError) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

fn write_in_place(dir: &Path, text: &str) -> Result<(), HostsError> {
    let path = dir.join("hosts");
    let err = |what: &str| {
        let what = format!("cannot {what} {}", path.display());
        move |source| HostsError::Io { what, source }
    };
    std::fs::create_dir_all(dir).map_err(err("create the directory of"))?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .map_err(err("open"))?;
    file.write_all(text.as_bytes()).map_err(err("write"))
}

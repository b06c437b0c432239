//! Pure rendering of `valkey.conf`, `sentinel.conf` and the scripts the services run to ask for a
//! hook.
//!
//! Every file is rendered in full from typed inputs (no templates, no partial edits), so the same
//! inputs always give the same bytes — which is what the golden-file tests pin down and what
//! [`super::write_private`] relies on to skip needless rewrites. Passwords appear only as ACL
//! SHA-256 hashes, except where the protocol needs them in clear (`masterauth`, Sentinel's
//! `auth-pass`/`sentinel-pass`), which is why the files are written with mode 0600.

use super::{Credentials, Paths, ADMIN_USER, MONITOR_NAME, REPLICATION_USER, SENTINEL_USER};
use crate::config::CharmConfig;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::path::Path;

/// ACL rules of the replication user on data nodes: exactly what a replica sends its primary.
pub const REPLICATION_ACL: &str = "+psync +replconf +ping";
/// ACL rules of the Sentinel user on data nodes: exactly what Sentinel sends to monitored instances
/// (valkey-facts.md) — hellos on its channel, `INFO`/`ROLE`/`PING`, and during a failover `MULTI`,
/// `SLAVEOF`, `CONFIG REWRITE`, `CLIENT KILL` and `EXEC`, `FAILOVER` and `CLIENT PAUSE`/`UNPAUSE`
/// for a coordinated one (Valkey's Sentinel pauses the old primary: refused, the switchover never
/// completes), `SCRIPT KILL` for a busy node, `CLIENT SETNAME` for its links. No other `CONFIG` or
/// `CLIENT` subcommand: with Sentinel's password alone one can neither read the replication
/// password (`CONFIG GET masterauth`) nor turn off the split-brain fence or persistence (`CONFIG
/// SET`). All known to Redis 7.0 as well.
pub const SENTINEL_DATA_ACL: &str =
    "+subscribe +publish +failover +script|kill +ping +info +role +multi +slaveof \
     +config|rewrite +client|setname +client|kill +client|pause +client|unpause +exec &__sentinel__:hello";
/// ACL rules of the Sentinel user on Sentinels: what one Sentinel sends another (AUTH, CLIENT
/// SETNAME, PING, its hello messages by PUBLISH, and the vote request during a failover).
pub const SENTINEL_PEER_ACL: &str =
    "+ping +client|setname +publish +sentinel|is-master-down-by-addr &__sentinel__:hello";
/// ACL rules of the admin user: everything (the charm reconfigures and fails over with it).
pub const ADMIN_ACL: &str = "~* &* +@all";
/// Longest `unixsocket` path rendered: a Unix socket address holds 107 bytes plus the NUL.
pub const MAX_SOCKET_PATH: usize = 107;

/// Inputs of `valkey.conf`.
#[derive(Debug, Clone)]
pub struct ValkeyConf<'a> {
    /// Address to listen on: the unit's bind address from network-get (only that one).
    pub bind: &'a str,
    /// Host this node announces to its primary and Sentinels (`replica-announce-ip`): the unit's
    /// hostname when it has one, so addresses may change under it.
    pub announce_host: &'a str,
    /// Port to listen on; [`super::VALKEY_PORT`] in production, free ports in tests.
    pub port: u16,
    /// `replicaof` target; `None` renders a primary.
    pub primary: Option<(&'a str, u16)>,
    /// Passwords (hashed into ACL lines; the replication password also as `masterauth`).
    pub credentials: &'a Credentials,
    /// The operator's validated settings.
    pub config: &'a CharmConfig,
    /// Effective `min-replicas-to-write` ([`CharmConfig::min_replicas_for`]), which depends on the
    /// number of units and so is computed by the caller.
    pub min_replicas_to_write: u32,
    /// Where data, logs and pid files go.
    pub paths: &'a Paths,
}

/// Inputs of `sentinel.conf`.
#[derive(Debug, Clone)]
pub struct SentinelConf<'a> {
    /// Address to listen on.
    pub bind: &'a str,
    /// Host this Sentinel announces (`sentinel announce-ip`), the unit's hostname when it has one.
    pub announce_host: &'a str,
    /// Port to listen on; [`super::SENTINEL_PORT`] in production.
    pub port: u16,
    /// Host of the primary to monitor (a hostname is fine: resolve-hostnames is on).
    pub primary_host: &'a str,
    /// Port of the primary.
    pub primary_port: u16,
    /// Sentinels that must agree the primary is down.
    pub quorum: u32,
    /// Passwords (the Sentinel password in clear for auth-pass / sentinel-pass, hashes for ACL).
    pub credentials: &'a Credentials,
    /// down-after-milliseconds, failover-timeout, parallel-syncs.
    pub config: &'a CharmConfig,
    /// Where logs and pid files go.
    pub paths: &'a Paths,
    /// Script to run at `+switch-master`; `None` renders none.
    pub reconfig_script: Option<&'a Path>,
    /// Script to run at every warning-level event ([`render_notify_script`]); `None` renders none.
    pub notification_script: Option<&'a Path>,
}

/// `#<sha256 hex>`: the form ACL `user` lines take a password in, so the plaintext never sits in
/// the data node's config.
pub fn acl_hash(password: &str) -> String {
    let digest = Sha256::digest(password.as_bytes());
    let mut out = String::with_capacity(65);
    out.push('#');
    for b in digest {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// A config-file argument: bare when it is plainly safe, double-quoted with escapes otherwise
/// (valkey.conf's tokenizer understands `"..."` with backslash escapes).
fn arg(value: &str) -> String {
    let safe =
        !value.is_empty() && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"._/:@+-,=%".contains(&b));
    if safe {
        return value.to_string();
    }
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// [`arg`] for a path.
fn path_arg(path: &Path) -> String {
    arg(&path.to_string_lossy())
}

/// `yes`/`no`.
fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// Renders the complete `valkey.conf` for a data node.
pub fn render_valkey_conf(c: &ValkeyConf) -> String {
    let p = c.paths;
    let cfg = c.config;
    let creds = c.credentials;
    let mut s = String::new();
    s.push_str("# Rendered by the valkey charm; local edits are overwritten.\n\n");
    s.push_str("# Network: only the unit's own address; ACL users below replace protected-mode.\n");
    let _ = writeln!(s, "bind {}", arg(c.bind));
    let _ = writeln!(s, "port {}", c.port);
    s.push_str("protected-mode no\n");
    s.push_str("tcp-keepalive 60\n");
    // The charm's own way in when the unit's address changed under a running Valkey (see
    // `bound`); left out where the path would not fit a socket address (Valkey would not start).
    let socket = p.valkey_socket();
    if socket.as_os_str().len() <= MAX_SOCKET_PATH {
        let _ = writeln!(s, "unixsocket {}", path_arg(&socket));
        s.push_str("unixsocketperm 700\n");
    }
    s.push('\n');
    s.push_str("# Process: supervised by the charm (systemd or its own supervisor), so never daemonize.\n");
    s.push_str("daemonize no\n");
    s.push_str("supervised no\n");
    let _ = writeln!(s, "pidfile {}", path_arg(&p.valkey_pidfile()));
    let _ = writeln!(s, "logfile {}", path_arg(&p.valkey_log()));
    s.push_str("loglevel notice\n\n");
    s.push_str("# Persistence.\n");
    let _ = writeln!(s, "dir {}", path_arg(&p.data_dir()));
    s.push_str("dbfilename dump.rdb\n");
    s.push_str("save 3600 1 300 100 60 10000\n");
    let _ = writeln!(s, "appendonly {}", yes_no(cfg.appendonly));
    s.push_str("appendfsync everysec\n\n");
    s.push_str("# Replication: announce the unit's host so Sentinel and peers see the right address.\n");
    let _ = writeln!(s, "replica-announce-ip {}", arg(c.announce_host));
    let _ = writeln!(s, "replica-announce-port {}", c.port);
    if let Some((host, port)) = c.primary {
        let _ = writeln!(s, "replicaof {} {port}", arg(host));
    }
    let _ = writeln!(s, "masteruser {REPLICATION_USER}");
    let _ = writeln!(s, "masterauth {}", arg(&creds.replication));
    s.push_str("replica-read-only yes\n");
    s.push_str("replica-serve-stale-data yes\n");
    s.push_str("repl-diskless-sync yes\n");
    s.push_str("repl-diskless-sync-delay 0\n");
    let _ = writeln!(s, "replica-priority {}", cfg.replica_priority);
    let _ = writeln!(s, "min-replicas-to-write {}", c.min_replicas_to_write);
    let _ = writeln!(s, "min-replicas-max-lag {}\n", cfg.valkey_max_lag());
    s.push_str("# Memory.\n");
    let _ = writeln!(s, "maxmemory {}", cfg.maxmemory);
    let _ = writeln!(s, "maxmemory-policy {}\n", arg(&cfg.maxmemory_policy));
    s.push_str("# ACL users (password hashes only); the default user is disabled.\n");
    s.push_str("user default off resetchannels -@all\n");
    let _ = writeln!(s, "user {ADMIN_USER} on {} {ADMIN_ACL}", acl_hash(&creds.admin));
    let _ = writeln!(s, "user {REPLICATION_USER} on {} {REPLICATION_ACL}", acl_hash(&creds.replication));
    let _ = writeln!(s, "user {SENTINEL_USER} on {} {SENTINEL_DATA_ACL}", acl_hash(&creds.sentinel));
    s
}

/// Renders the complete `sentinel.conf` (the starting point: Sentinel rewrites it as it learns
/// about replicas, peers and failovers).
pub fn render_sentinel_conf(c: &SentinelConf) -> String {
    let p = c.paths;
    let cfg = c.config;
    let creds = c.credentials;
    let m = MONITOR_NAME;
    let mut s = String::new();
    s.push_str("# Rendered by the valkey charm when (re)starting Sentinel; Sentinel rewrites it.\n\n");
    let _ = writeln!(s, "bind {}", arg(c.bind));
    let _ = writeln!(s, "port {}", c.port);
    s.push_str("protected-mode no\n");
    s.push_str("daemonize no\n");
    let _ = writeln!(s, "pidfile {}", path_arg(&p.sentinel_pidfile()));
    let _ = writeln!(s, "logfile {}", path_arg(&p.sentinel_log()));
    let _ = writeln!(s, "dir {}\n", path_arg(&p.run_dir()));
    s.push_str("# Hostnames: announce ours, accept and hand out hostnames (addresses may change).\n");
    s.push_str("sentinel resolve-hostnames yes\n");
    s.push_str("sentinel announce-hostnames yes\n");
    let _ = writeln!(s, "sentinel announce-ip {}", arg(c.announce_host));
    let _ = writeln!(s, "sentinel announce-port {}", c.port);
    s.push_str("sentinel deny-scripts-reconfig yes\n");
    let _ = writeln!(s, "sentinel sentinel-user {SENTINEL_USER}");
    let _ = writeln!(s, "sentinel sentinel-pass {}\n", arg(&creds.sentinel));
    let _ = writeln!(s, "sentinel monitor {m} {} {} {}", arg(c.primary_host), c.primary_port, c.quorum);
    let _ = writeln!(s, "sentinel down-after-milliseconds {m} {}", cfg.down_after_ms);
    let _ = writeln!(s, "sentinel failover-timeout {m} {}", cfg.failover_timeout_ms);
    let _ = writeln!(s, "sentinel parallel-syncs {m} {}", cfg.parallel_syncs);
    let _ = writeln!(s, "sentinel auth-user {m} {SENTINEL_USER}");
    let _ = writeln!(s, "sentinel auth-pass {m} {}", arg(&creds.sentinel));
    if let Some(script) = c.reconfig_script {
        let _ = writeln!(s, "sentinel client-reconfig-script {m} {}", path_arg(script));
    }
    if let Some(script) = c.notification_script {
        let _ = writeln!(s, "sentinel notification-script {m} {}", path_arg(script));
    }
    s.push_str("\n# ACL users of this Sentinel; the default user is disabled.\n");
    s.push_str("user default off resetchannels -@all\n");
    let _ = writeln!(s, "user {ADMIN_USER} on {} {ADMIN_ACL}", acl_hash(&creds.admin));
    let _ = writeln!(s, "user {SENTINEL_USER} on {} {SENTINEL_PEER_ACL}", acl_hash(&creds.sentinel));
    s
}

/// Single-quotes a string for `sh`.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Renders the script Sentinel runs at `+switch-master` (as `<script> <name> <role> <state>
/// <from-ip> <from-port> <to-ip> <to-port>`): it asks for the charm's `primary-changed` hook through
/// the relay's spool ([`super::relay`]) and exits 0 at once — Sentinel waits for its scripts (and
/// retries on exit code 1), so it must never wait for the unit's hook lock.
pub fn render_reconfig_script(spool: &Path) -> String {
    render_request_script(
        spool,
        crate::juju::PRIMARY_CHANGED_HOOK,
        "Sentinel runs this at +switch-master with:\n\
         #   <monitor-name> <role> <state> <from-ip> <from-port> <to-ip> <to-port>",
    )
}

/// The script a supervisor (`dispatch supervise --on-restart`, systemd's `ExecStartPost`) runs after
/// it restarted Valkey: it asks for the charm's `valkey-restarted` hook, whose reconcile lifts the
/// start-up fence once the node has resynced, instead of waiting for the next update-status.
pub fn render_restarted_script(spool: &Path) -> String {
    render_request_script(
        spool,
        crate::juju::VALKEY_RESTARTED_HOOK,
        "Valkey's supervisor runs this after each restart.",
    )
}

/// Sentinel events that change what the charm would report, for [`render_notify_script`]: a node,
/// a Sentinel or a link down or back, a failover that ended or gave up, Sentinel's TILT mode.
pub const NOTIFY_EVENTS: &str = "+sdown|-sdown|+odown|-odown|+failover-end|-failover-abort-*|+tilt|-tilt";

/// Sentinel's `notification-script` (run as `<script> <event-type> <description>` for every
/// warning-level event): for [`NOTIFY_EVENTS`] it asks for the charm's `services-changed` hook,
/// whose reconcile refreshes the unit's (and the leader's application) status at once, instead of
/// after up to one update-status interval.
pub fn render_notify_script(spool: &Path) -> String {
    let request = sh_quote(&spool.join(crate::juju::SERVICES_CHANGED_HOOK).to_string_lossy());
    format!(
        "#!/bin/sh\n\
         # Rendered by the valkey charm. Sentinel runs this with <event-type> <description> for\n\
         # every warning-level event; the ones below ask for the charm's services-changed hook.\n\
         case \"$1\" in\n\
         {NOTIFY_EVENTS}) : > {request} ;;\n\
         esac\n\
         exit 0\n"
    )
}

/// What systemd runs after a service stopped (`ExecStopPost=`): a stop systemd did not ask for (a
/// crash, a kill: `$SERVICE_RESULT` other than `success`) asks for `services-changed`.
pub fn render_exited_script(spool: &Path) -> String {
    let request = sh_quote(&spool.join(crate::juju::SERVICES_CHANGED_HOOK).to_string_lossy());
    format!(
        "#!/bin/sh\n\
         # Rendered by the valkey charm. systemd runs this after the service stopped.\n\
         [ \"$SERVICE_RESULT\" = success ] || : > {request}\n\
         exit 0\n"
    )
}

/// A script that asks for `hook` by creating its request file in `spool`, and exits 0 at once.
fn render_request_script(spool: &Path, hook: &str, who: &str) -> String {
    format!(
        "#!/bin/sh\n\
         # Rendered by the valkey charm. {who}\n\
         # It asks for the charm's {hook} hook (the relay runs it) and returns at once.\n\
         : > {request}\n\
         exit 0\n",
        request = sh_quote(&spool.join(hook).to_string_lossy()),
    )
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;

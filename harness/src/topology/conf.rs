//! Pure rendering of the fixture's `valkey.conf` and `sentinel.conf`. Every node announces its own
//! loopback address (see valkey-facts.md: without it every peer looks like 127.0.0.1).

use std::fmt::Write as _;
use std::path::Path;

use crate::valkey::Endpoint;

/// Passwords of the fixture's ACL users.
#[derive(Clone)]
pub struct Secrets {
    /// `admin` on data nodes: the probe and the checks use it.
    pub admin: String,
    /// `replication` on data nodes: replicas authenticate to the primary with it.
    pub replication: String,
    /// `sentinel` on data nodes: Sentinels monitor and reconfigure with it.
    pub sentinel: String,
    /// `admin` on Sentinels: clients and peer Sentinels authenticate with it.
    pub sentinel_admin: String,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(<redacted>)")
    }
}

/// What a data node's config needs.
#[derive(Debug)]
pub struct DataNodeConf<'a> {
    /// Address to bind and announce.
    pub listen: &'a Endpoint,
    /// Working directory (holds nothing persistent: persistence is off).
    pub dir: &'a Path,
    /// The primary to replicate from; `None` for the initial primary.
    pub replica_of: Option<&'a Endpoint>,
    /// `min-replicas-to-write` (0 = off).
    pub min_replicas_to_write: u32,
    /// Passwords.
    pub secrets: &'a Secrets,
}

/// Renders `valkey.conf` for a data node.
pub fn render_data_node(conf: &DataNodeConf<'_>) -> String {
    let s = conf.secrets;
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    line(format!("bind {}", conf.listen.host));
    line(format!("port {}", conf.listen.port));
    line(format!("dir {}", conf.dir.display()));
    line("daemonize no".into());
    line("protected-mode no".into());
    line("logfile \"\"".into());
    line("save \"\"".into());
    line("appendonly no".into());
    line("repl-diskless-sync-delay 0".into());
    line(format!("replica-announce-ip {}", conf.listen.host));
    line("replica-read-only yes".into());
    line("user default off".into());
    line(format!("user admin on >{} ~* &* +@all", s.admin));
    line(format!("user replication on >{} +psync +replconf +ping", s.replication));
    line(format!(
        "user sentinel on >{} &__sentinel__:hello +subscribe +publish +failover +script|kill +ping +info \
         +multi +slaveof +config +client +exec",
        s.sentinel
    ));
    line("masteruser replication".into());
    line(format!("masterauth {}", s.replication));
    if conf.min_replicas_to_write > 0 {
        line(format!("min-replicas-to-write {}", conf.min_replicas_to_write));
        line("min-replicas-max-lag 10".into());
    }
    if let Some(primary) = conf.replica_of {
        line(format!("replicaof {} {}", primary.host, primary.port));
    }
    out
}

/// What a Sentinel's config needs.
#[derive(Debug)]
pub struct SentinelConf<'a> {
    /// Address to bind and announce.
    pub listen: &'a Endpoint,
    /// Working directory.
    pub dir: &'a Path,
    /// Monitor name.
    pub monitor: &'a str,
    /// The primary at start.
    pub primary: &'a Endpoint,
    /// Sentinels that must agree that the primary is down.
    pub quorum: usize,
    /// `down-after-milliseconds`.
    pub down_after_ms: u64,
    /// `failover-timeout`.
    pub failover_timeout_ms: u64,
    /// Passwords.
    pub secrets: &'a Secrets,
}

/// Renders `sentinel.conf` (Sentinel rewrites it, so it must live in a writable directory).
pub fn render_sentinel(conf: &SentinelConf<'_>) -> String {
    let s = conf.secrets;
    let name = conf.monitor;
    let mut out = String::new();
    let _ = writeln!(out, "bind {}", conf.listen.host);
    let _ = writeln!(out, "port {}", conf.listen.port);
    let _ = writeln!(out, "dir {}", conf.dir.display());
    let _ = writeln!(out, "daemonize no");
    let _ = writeln!(out, "protected-mode no");
    let _ = writeln!(out, "logfile \"\"");
    let _ = writeln!(out, "sentinel announce-ip {}", conf.listen.host);
    let _ = writeln!(out, "sentinel announce-port {}", conf.listen.port);
    let _ = writeln!(out, "user default off");
    let _ = writeln!(out, "user admin on >{} allchannels +@all", s.sentinel_admin);
    let _ = writeln!(out, "sentinel sentinel-user admin");
    let _ = writeln!(out, "sentinel sentinel-pass {}", s.sentinel_admin);
    let _ =
        writeln!(out, "sentinel monitor {name} {} {} {}", conf.primary.host, conf.primary.port, conf.quorum);
    let _ = writeln!(out, "sentinel down-after-milliseconds {name} {}", conf.down_after_ms);
    let _ = writeln!(out, "sentinel failover-timeout {name} {}", conf.failover_timeout_ms);
    let _ = writeln!(out, "sentinel parallel-syncs {name} 1");
    let _ = writeln!(out, "sentinel auth-user {name} sentinel");
    let _ = writeln!(out, "sentinel auth-pass {name} {}", s.sentinel);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets() -> Secrets {
        Secrets {
            admin: "a".into(),
            replication: "r".into(),
            sentinel: "s".into(),
            sentinel_admin: "sa".into(),
        }
    }

    #[test]
    fn replica_announces_itself_and_follows_the_primary() {
        let me = Endpoint::new("127.0.9.3", 6379);
        let primary = Endpoint::new("127.0.9.2", 6379);
        let secrets = secrets();
        let text = render_data_node(&DataNodeConf {
            listen: &me,
            dir: Path::new("/tmp/x"),
            replica_of: Some(&primary),
            min_replicas_to_write: 1,
            secrets: &secrets,
        });
        assert!(text.contains("replica-announce-ip 127.0.9.3\n"));
        assert!(text.contains("replicaof 127.0.9.2 6379\n"));
        assert!(text.contains("masterauth r\n"));
        assert!(text.contains("min-replicas-to-write 1\n"));
    }

    #[test]
    fn primary_has_no_replicaof() {
        let me = Endpoint::new("127.0.9.2", 6379);
        let secrets = secrets();
        let text = render_data_node(&DataNodeConf {
            listen: &me,
            dir: Path::new("/tmp/x"),
            replica_of: None,
            min_replicas_to_write: 0,
            secrets: &secrets,
        });
        assert!(!text.contains("replicaof"));
        assert!(!text.contains("min-replicas"));
    }

    #[test]
    fn sentinel_monitors_with_quorum_and_announces() {
        let me = Endpoint::new("127.0.9.2", 26379);
        let primary = Endpoint::new("127.0.9.2", 6379);
        let secrets = secrets();
        let text = render_sentinel(&SentinelConf {
            listen: &me,
            dir: Path::new("/tmp/x"),
            monitor: "primary",
            primary: &primary,
            quorum: 2,
            down_after_ms: 2000,
            failover_timeout_ms: 10000,
            secrets: &secrets,
        });
        assert!(text.contains("sentinel monitor primary 127.0.9.2 6379 2\n"));
        assert!(text.contains("sentinel announce-ip 127.0.9.2\n"));
        assert!(text.contains("sentinel down-after-milliseconds primary 2000\n"));
        assert!(text.contains("sentinel auth-pass primary s\n"));
    }
}

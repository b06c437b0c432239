//! The client traits and their real implementation over the `redis` crate's sync connection.
//!
//! Sync on purpose: a hook is one short process; a tokio runtime would cost start-up time and
//! memory for nothing. Every connection has a short connect and read timeout so a dead node
//! costs about a second, never a hung hook.

use super::acl::AclNode;
use super::info::{parse_memory, parse_replication, parse_server_version, MemoryUse, ReplicationInfo};
use super::sentinel_reply::{pairs, KnownReplica, KnownSentinel, MonitoredPrimary, QuorumCheck};
use super::{Auth, Endpoint, ValkeyError};
use redis::{ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo};
use std::time::Duration;

/// Connection time limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP connect + AUTH.
    pub connect: Duration,
    /// Any single reply (WAIT and CLIENT PAUSE set their own, longer ones).
    pub read: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self { connect: Duration::from_secs(1), read: Duration::from_secs(2) }
    }
}

/// A Valkey data node.
pub trait DataNode {
    /// `PING`.
    fn ping(&mut self) -> Result<(), ValkeyError>;
    /// `INFO replication`, parsed.
    fn replication(&mut self) -> Result<ReplicationInfo, ValkeyError>;
    /// The engine version from `INFO server`.
    fn version(&mut self) -> Result<String, ValkeyError>;
    /// `CONFIG SET key value`.
    fn config_set(&mut self, key: &str, value: &str) -> Result<(), ValkeyError>;
    /// `CONFIG GET key`: the value, `None` for an unknown parameter.
    fn config_get(&mut self, key: &str) -> Result<Option<String>, ValkeyError>;
    /// `CONFIG REWRITE`.
    fn config_rewrite(&mut self) -> Result<(), ValkeyError>;
    /// `REPLICAOF host port`, or `REPLICAOF NO ONE` for `None`.
    fn replicaof(&mut self, primary: Option<&Endpoint>) -> Result<(), ValkeyError>;
    /// `CLIENT PAUSE <ms> WRITE`: writes wait (not fail) for at most `for_how_long`.
    fn pause_writes(&mut self, for_how_long: Duration) -> Result<(), ValkeyError>;
    /// `CLIENT UNPAUSE`.
    fn unpause(&mut self) -> Result<(), ValkeyError>;
    /// `WAIT n timeout`: how many replicas acknowledged everything written so far.
    fn wait_replicas(&mut self, replicas: u32, timeout: Duration) -> Result<u32, ValkeyError>;
    /// `REPLCONF GETACK *` on a replica: it sends its primary a `REPLCONF ACK <offset>` now
    /// rather than at its next once-a-second replication cron. A primary in a `FAILOVER` hands
    /// over only once a replica's acknowledged offset matches its own, and while writes are
    /// paused it sends no `GETACK` itself; see `switchover::pacing`. The default does nothing,
    /// for fakes that keep no links.
    fn request_ack(&mut self) -> Result<(), ValkeyError> {
        Ok(())
    }
    /// `CLIENT KILL TYPE master`: a replica drops its link to its primary and reconnects at once,
    /// resolving the primary's host again (after an address change the old link is silently dead
    /// until `repl-timeout`, 60 s). The default does nothing, for fakes that keep no links.
    fn reconnect_to_primary(&mut self) -> Result<(), ValkeyError> {
        Ok(())
    }
    /// Closes every client connection with either end at `ip` (`CLIENT LIST`, then `CLIENT KILL
    /// ID`); returns how many. For an address that no longer exists (a moved replica's, or this
    /// node's own old one): such links are dead but would be listed, and a primary would count
    /// the replica twice, until `repl-timeout`. The default does nothing, for fakes.
    fn drop_clients_at(&mut self, _ip: &str) -> Result<usize, ValkeyError> {
        Ok(0)
    }
    /// `INFO memory`: what counts against `maxmemory`. The default knows nothing, for fakes.
    fn memory(&mut self) -> Result<Option<MemoryUse>, ValkeyError> {
        Ok(None)
    }
}

/// A Sentinel, always asked about one monitor name.
pub trait SentinelNode {
    /// `PING`.
    fn ping(&mut self) -> Result<(), ValkeyError>;
    /// `SENTINEL MASTER name`; `None` when this Sentinel monitors no such name.
    fn primary(&mut self, name: &str) -> Result<Option<MonitoredPrimary>, ValkeyError>;
    /// `SENTINEL SLAVES name`.
    fn replicas(&mut self, name: &str) -> Result<Vec<KnownReplica>, ValkeyError>;
    /// `SENTINEL SENTINELS name`: the peers (not this Sentinel).
    fn sentinels(&mut self, name: &str) -> Result<Vec<KnownSentinel>, ValkeyError>;
    /// `SENTINEL GET-MASTER-ADDR-BY-NAME name`.
    fn primary_addr(&mut self, name: &str) -> Result<Option<Endpoint>, ValkeyError>;
    /// `SENTINEL CKQUORUM name`.
    fn ckquorum(&mut self, name: &str) -> Result<QuorumCheck, ValkeyError>;
    /// `SENTINEL SET name key value` (affects only this Sentinel).
    fn set(&mut self, name: &str, key: &str, value: &str) -> Result<(), ValkeyError>;
    /// `SENTINEL RESET name`: forget replicas, peers and any failover in progress.
    fn reset(&mut self, name: &str) -> Result<(), ValkeyError>;
    /// `SENTINEL FAILOVER name [COORDINATED]`. Valkey 9 has no way to name a target here.
    fn failover(&mut self, name: &str, coordinated: bool) -> Result<(), ValkeyError>;
    /// `SENTINEL DEBUG info-period <ms>`: how often this Sentinel sends `INFO` to the nodes it
    /// watches (see [`SENTINEL_INFO_PERIOD`] for why the charm changes it), sent together with
    /// the charm's fixed [`SENTINEL_PING_PERIOD`] and [`SENTINEL_ASK_PERIOD`]. Runtime only: a
    /// restarted Sentinel is back at its defaults (10 s, 1 s, 1 s). The default does nothing, for
    /// fakes that keep no timers.
    fn set_info_period(&mut self, _period: Duration) -> Result<(), ValkeyError> {
        Ok(())
    }
}

/// The `INFO` period the charm gives every Sentinel (Sentinel's own default is 10 s).
///
/// *Why:* Sentinel learns of a new replica only from the primary's `INFO`, and when it picks a
/// replica to promote it skips every replica whose last `INFO` reply is older than 5 s (it polls
/// replicas once a second only once the primary is *objectively* down). At 10 s, a Sentinel that
/// started shortly before the fault knew none or one of the replicas, or held `INFO` older than
/// 5 s, so the elected leader logged `-failover-abort-no-good-slave` and the next attempt came
/// 2 × failover-timeout later (measured: 4 of 7 SIGSTOP runs took 46–86 s, 3 failovers); and a
/// replica the leader did not know was never re-pointed, so with `min-replicas-to-write 1` the new
/// primary refused writes ~20 s longer. At 1 s both gaps close, for one `INFO` per second per node
/// per Sentinel — the rate Sentinel itself uses during a failover. See docs/failover.md.
pub const SENTINEL_INFO_PERIOD: Duration = Duration::from_millis(1000);

/// How often the charm's Sentinels PING every node and peer (Sentinel's own default: 1 s).
///
/// *Why:* in a silent partition (packets dropped, nothing refused) Sentinel counts
/// down-after-milliseconds from its oldest unanswered PING, which at 1 s went out up to a second
/// after the node's last answer; the majority then elected a new primary 4.0–4.2 s after the cut
/// at down-after 2000 (7 runs, host mode), over the down-after + 1.5 s target; at 200 ms 2.7–3.3 s
/// (8 runs). *Why not lower than 300 ms:* once the primary is down Sentinel only promotes a
/// replica whose last INFO is younger than five ping periods, and it polls replicas once a second
/// then (hard-coded): at 200 ms that window is 1 s, and 2 of 20 crash runs aborted the election
/// (`-failover-abort-no-good-slave`, the next try 2 × failover-timeout later). 300 ms leaves
/// 1.5 s. Costs about three PINGs a second per node per Sentinel. See docs/separate-hosts.md.
pub const SENTINEL_PING_PERIOD: Duration = Duration::from_millis(300);

/// How often a Sentinel that sees the primary down asks its peers whether they do too (the step
/// to ODOWN; Sentinel's own default: 1 s). Same reason and measurement as [`SENTINEL_PING_PERIOD`].
pub const SENTINEL_ASK_PERIOD: Duration = Duration::from_millis(200);

/// Opens connections; the seam that lets tests replace the network.
pub trait Connector {
    /// A data node at `endpoint`.
    fn data(&self, endpoint: &Endpoint) -> Result<Box<dyn DataNode>, ValkeyError>;
    /// A Sentinel at `endpoint`.
    fn sentinel(&self, endpoint: &Endpoint) -> Result<Box<dyn SentinelNode>, ValkeyError>;
}

/// Connects over TCP with one set of credentials (the charm's admin user, known to every data
/// node and Sentinel) or none.
#[derive(Debug, Clone, Default)]
pub struct TcpConnector {
    /// Credentials sent with AUTH; `None` for an unauthenticated server (tests only).
    pub auth: Option<Auth>,
    /// Time limits.
    pub timeouts: Timeouts,
}

impl TcpConnector {
    // The Valkey seam: the one place the charm opens a client.
    #[allow(clippy::disallowed_methods)]
    fn open(&self, endpoint: &Endpoint) -> Result<Connection, ValkeyError> {
        let connect_err = |source| ValkeyError::Connect { endpoint: endpoint.clone(), source };
        let mut settings = RedisConnectionInfo::default().set_skip_set_lib_name();
        if let Some(a) = &self.auth {
            settings = settings.set_username(&a.user).set_password(&a.password);
        }
        // A host that is a path is the node's local socket (`Paths::valkey_socket`): the way in
        // when the unit's address changed under a running Valkey.
        let addr = if endpoint.host.starts_with('/') {
            ConnectionAddr::Unix(endpoint.host.clone().into())
        } else {
            ConnectionAddr::Tcp(endpoint.host.clone(), endpoint.port)
        };
        let info = addr.into_connection_info().map_err(connect_err)?.set_redis_settings(settings);
        let client = redis::Client::open(info).map_err(connect_err)?;
        let con = client.get_connection_with_timeout(self.timeouts.connect).map_err(connect_err)?;
        con.set_read_timeout(Some(self.timeouts.read)).map_err(connect_err)?;
        con.set_write_timeout(Some(self.timeouts.read)).map_err(connect_err)?;
        Ok(Connection { endpoint: endpoint.clone(), con, read_timeout: self.timeouts.read })
    }
}

impl TcpConnector {
    /// ACL commands on the data node (`sentinel` false) or Sentinel (`sentinel` true) at `endpoint`.
    pub fn acl(&self, endpoint: &Endpoint, sentinel: bool) -> Result<Box<dyn AclNode>, ValkeyError> {
        Ok(Box::new(AclConnection { con: self.open(endpoint)?, sentinel }))
    }
}

/// A connection used for ACL commands; knows whether it talks to a Sentinel (how to persist).
struct AclConnection {
    con: Connection,
    sentinel: bool,
}

impl AclNode for AclConnection {
    fn setuser(&mut self, args: &[String]) -> Result<(), ValkeyError> {
        let mut c = redis::cmd("ACL");
        c.arg("SETUSER").arg(args);
        self.con.run::<()>("ACL SETUSER", &c)
    }
    fn deluser(&mut self, name: &str) -> Result<u32, ValkeyError> {
        self.con.run("ACL DELUSER", redis::cmd("ACL").arg("DELUSER").arg(name))
    }
    fn list(&mut self) -> Result<Vec<String>, ValkeyError> {
        self.con.run("ACL LIST", redis::cmd("ACL").arg("LIST"))
    }
    fn persist(&mut self) -> Result<(), ValkeyError> {
        if self.sentinel {
            self.con.run("SENTINEL FLUSHCONFIG", redis::cmd("SENTINEL").arg("FLUSHCONFIG"))
        } else {
            self.con.run("CONFIG REWRITE", redis::cmd("CONFIG").arg("REWRITE"))
        }
    }
}

impl Connector for TcpConnector {
    fn data(&self, endpoint: &Endpoint) -> Result<Box<dyn DataNode>, ValkeyError> {
        Ok(Box::new(self.open(endpoint)?))
    }
    fn sentinel(&self, endpoint: &Endpoint) -> Result<Box<dyn SentinelNode>, ValkeyError> {
        Ok(Box::new(self.open(endpoint)?))
    }
}

/// One open connection; implements both traits (which one applies depends on the server).
pub struct Connection {
    endpoint: Endpoint,
    con: redis::Connection,
    read_timeout: Duration,
}

impl Connection {
    /// Runs `cmd`, naming it `what` in errors (never the arguments: they may be secrets).
    fn run<T: redis::FromRedisValue>(&mut self, what: &str, cmd: &redis::Cmd) -> Result<T, ValkeyError> {
        cmd.query(&mut self.con).map_err(|source| ValkeyError::Command {
            endpoint: self.endpoint.clone(),
            command: what.to_string(),
            source,
        })
    }

    fn reply_err(&self, what: &str, detail: impl Into<String>) -> ValkeyError {
        ValkeyError::Reply { endpoint: self.endpoint.clone(), command: what.into(), detail: detail.into() }
    }

    fn sentinel_cmd(sub: &str, name: &str) -> redis::Cmd {
        let mut c = redis::cmd("SENTINEL");
        c.arg(sub).arg(name);
        c
    }

    /// Runs a `SENTINEL <sub> name` command whose error for an unknown name means "none".
    fn sentinel_opt<T: redis::FromRedisValue>(
        &mut self,
        sub: &str,
        name: &str,
    ) -> Result<Option<T>, ValkeyError> {
        match self.run::<T>(&format!("SENTINEL {sub}"), &Self::sentinel_cmd(sub, name)) {
            Ok(v) => Ok(Some(v)),
            Err(ValkeyError::Command { source, .. }) if is_no_such_master(&source) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Sentinel says `-ERR No such master with that name` for an unknown monitor name.
fn is_no_such_master(e: &redis::RedisError) -> bool {
    e.to_string().to_ascii_lowercase().contains("no such master")
}

impl DataNode for Connection {
    fn ping(&mut self) -> Result<(), ValkeyError> {
        self.run::<String>("PING", &redis::cmd("PING")).map(|_| ())
    }
    fn replication(&mut self) -> Result<ReplicationInfo, ValkeyError> {
        let text: String = self.run("INFO replication", redis::cmd("INFO").arg("replication"))?;
        Ok(parse_replication(&text))
    }
    fn memory(&mut self) -> Result<Option<MemoryUse>, ValkeyError> {
        let text: String = self.run("INFO memory", redis::cmd("INFO").arg("memory"))?;
        Ok(parse_memory(&text))
    }
    fn version(&mut self) -> Result<String, ValkeyError> {
        let text: String = self.run("INFO server", redis::cmd("INFO").arg("server"))?;
        parse_server_version(&text).ok_or_else(|| self.reply_err("INFO server", "no version field"))
    }
    fn config_set(&mut self, key: &str, value: &str) -> Result<(), ValkeyError> {
        self.run::<()>(&format!("CONFIG SET {key}"), redis::cmd("CONFIG").arg("SET").arg(key).arg(value))
    }
    fn config_get(&mut self, key: &str) -> Result<Option<String>, ValkeyError> {
        let kv: Vec<String> = self.run("CONFIG GET", redis::cmd("CONFIG").arg("GET").arg(key))?;
        Ok(pairs(kv).remove(key))
    }
    fn config_rewrite(&mut self) -> Result<(), ValkeyError> {
        self.run::<()>("CONFIG REWRITE", redis::cmd("CONFIG").arg("REWRITE"))
    }
    fn replicaof(&mut self, primary: Option<&Endpoint>) -> Result<(), ValkeyError> {
        let mut c = redis::cmd("REPLICAOF");
        match primary {
            Some(p) => c.arg(&p.host).arg(p.port),
            None => c.arg("NO").arg("ONE"),
        };
        self.run::<()>("REPLICAOF", &c)
    }
    fn pause_writes(&mut self, for_how_long: Duration) -> Result<(), ValkeyError> {
        let ms = for_how_long.as_millis() as u64;
        self.run::<()>("CLIENT PAUSE", redis::cmd("CLIENT").arg("PAUSE").arg(ms).arg("WRITE"))
    }
    fn unpause(&mut self) -> Result<(), ValkeyError> {
        self.run::<()>("CLIENT UNPAUSE", redis::cmd("CLIENT").arg("UNPAUSE"))
    }
    fn wait_replicas(&mut self, replicas: u32, timeout: Duration) -> Result<u32, ValkeyError> {
        let longer = timeout + self.read_timeout;
        self.con.set_read_timeout(Some(longer)).map_err(|source| ValkeyError::Command {
            endpoint: self.endpoint.clone(),
            command: "WAIT".into(),
            source,
        })?;
        let ms = timeout.as_millis() as u64;
        let got = self.run::<u32>("WAIT", redis::cmd("WAIT").arg(replicas).arg(ms));
        let _ = self.con.set_read_timeout(Some(self.read_timeout));
        got
    }
    fn drop_clients_at(&mut self, ip: &str) -> Result<usize, ValkeyError> {
        let list: String = self.run("CLIENT LIST", redis::cmd("CLIENT").arg("LIST"))?;
        let ids = super::client_list::client_ids_at(&list, ip);
        for id in &ids {
            // 0 killed: it went away meanwhile, which is what we wanted.
            self.run::<u32>("CLIENT KILL ID", redis::cmd("CLIENT").arg("KILL").arg("ID").arg(*id))?;
        }
        Ok(ids.len())
    }
    fn request_ack(&mut self) -> Result<(), ValkeyError> {
        // GETACK sends no reply to its caller: the PING after it gives one to read, so the
        // connection stays in step.
        let mut packed = redis::cmd("REPLCONF").arg("GETACK").arg("*").get_packed_command();
        packed.extend(redis::cmd("PING").get_packed_command());
        let sent = self.con.send_packed_command(&packed).and_then(|()| self.con.recv_response());
        match sent {
            Ok(redis::Value::SimpleString(s)) if s == "PONG" => Ok(()),
            Ok(other) => Err(self.reply_err("REPLCONF GETACK", format!("expected PONG, got {other:?}"))),
            Err(source) => Err(ValkeyError::Command {
                endpoint: self.endpoint.clone(),
                command: "REPLCONF GETACK".into(),
                source,
            }),
        }
    }
    fn reconnect_to_primary(&mut self) -> Result<(), ValkeyError> {
        // The reply is the number of clients killed (0 on a node with no link): any is fine.
        self.run::<u32>("CLIENT KILL TYPE master", redis::cmd("CLIENT").arg("KILL").arg("TYPE").arg("master"))
            .map(|_| ())
    }
}

impl SentinelNode for Connection {
    fn ping(&mut self) -> Result<(), ValkeyError> {
        DataNode::ping(self)
    }
    fn primary(&mut self, name: &str) -> Result<Option<MonitoredPrimary>, ValkeyError> {
        let flat: Option<Vec<String>> = self.sentinel_opt("MASTER", name)?;
        Ok(flat.map(|f| MonitoredPrimary::from_fields(&pairs(f))))
    }
    fn replicas(&mut self, name: &str) -> Result<Vec<KnownReplica>, ValkeyError> {
        let all: Option<Vec<Vec<String>>> = self.sentinel_opt("SLAVES", name)?;
        Ok(all.unwrap_or_default().into_iter().map(|f| KnownReplica::from_fields(&pairs(f))).collect())
    }
    fn sentinels(&mut self, name: &str) -> Result<Vec<KnownSentinel>, ValkeyError> {
        let all: Option<Vec<Vec<String>>> = self.sentinel_opt("SENTINELS", name)?;
        Ok(all.unwrap_or_default().into_iter().map(|f| KnownSentinel::from_fields(&pairs(f))).collect())
    }
    fn primary_addr(&mut self, name: &str) -> Result<Option<Endpoint>, ValkeyError> {
        let what = "SENTINEL GET-MASTER-ADDR-BY-NAME";
        let addr: Option<Vec<String>> =
            self.run(what, &Self::sentinel_cmd("GET-MASTER-ADDR-BY-NAME", name))?;
        match addr.as_deref() {
            None => Ok(None),
            Some([host, port]) => {
                let port = port.parse().map_err(|_| self.reply_err(what, format!("bad port {port:?}")))?;
                Ok(Some(Endpoint::new(host.clone(), port)))
            }
            Some(other) => Err(self.reply_err(what, format!("{} elements, expected 2", other.len()))),
        }
    }
    fn ckquorum(&mut self, name: &str) -> Result<QuorumCheck, ValkeyError> {
        match self.run::<String>("SENTINEL CKQUORUM", &Self::sentinel_cmd("CKQUORUM", name)) {
            Ok(message) => Ok(QuorumCheck { ok: true, message }),
            Err(ValkeyError::Command { source, .. })
                if source.code().is_some() && !is_no_such_master(&source) =>
            {
                let message = source.detail().map(str::to_string).unwrap_or_else(|| source.to_string());
                let code = source.code().unwrap_or_default();
                Ok(QuorumCheck { ok: false, message: format!("{code} {message}") })
            }
            Err(e) => Err(e),
        }
    }
    fn set(&mut self, name: &str, key: &str, value: &str) -> Result<(), ValkeyError> {
        let mut c = Self::sentinel_cmd("SET", name);
        c.arg(key).arg(value);
        self.run::<()>(&format!("SENTINEL SET {key}"), &c)
    }
    fn reset(&mut self, name: &str) -> Result<(), ValkeyError> {
        self.run::<u32>("SENTINEL RESET", &Self::sentinel_cmd("RESET", name)).map(|_| ())
    }
    fn failover(&mut self, name: &str, coordinated: bool) -> Result<(), ValkeyError> {
        let mut c = Self::sentinel_cmd("FAILOVER", name);
        if coordinated {
            c.arg("COORDINATED");
        }
        self.run::<()>("SENTINEL FAILOVER", &c)
    }
    fn set_info_period(&mut self, period: Duration) -> Result<(), ValkeyError> {
        let ms = |d: Duration| d.as_millis().to_string();
        let mut c = redis::cmd("SENTINEL");
        c.arg("DEBUG").arg("info-period").arg(ms(period));
        c.arg("ping-period").arg(ms(SENTINEL_PING_PERIOD)).arg("ask-period").arg(ms(SENTINEL_ASK_PERIOD));
        self.run::<()>("SENTINEL DEBUG info-period", &c)
    }
}

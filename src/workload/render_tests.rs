// Runs the rendered scripts, as the services would.
#![allow(clippy::disallowed_methods)]
use super::*;
use crate::workload::test_support::{field, free_port, poll, query, spawn, valkey_server};
use crate::workload::{write_file, write_private};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

fn creds() -> Credentials {
    Credentials {
        admin: "admin-pw-0123".into(),
        replication: "repl-pw-4567".into(),
        sentinel: "sent-pw-89ab".into(),
    }
}

/// A primary's valkey.conf inputs at 10.0.0.1:6379, `min-replicas-to-write 0`; tests change
/// what they are about with struct update syntax.
fn primary_conf<'a>(paths: &'a Paths, c: &'a Credentials, config: &'a CharmConfig) -> ValkeyConf<'a> {
    ValkeyConf {
        bind: "10.0.0.1",
        announce_host: "10.0.0.1",
        port: 6379,
        primary: None,
        credentials: c,
        config,
        min_replicas_to_write: 0,
        paths,
    }
}

/// Compares `actual` with `testdata/<name>`; `UPDATE_GOLDEN=1` rewrites the file instead.
fn golden(name: &str, actual: &str) {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src/workload/testdata")).join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1 to create it)", path.display()));
    assert_eq!(actual, want, "{name} differs from its golden file (UPDATE_GOLDEN=1 rewrites it)");
}

#[test]
fn valkey_conf_replica_golden() {
    let paths = Paths::new("/var/lib/valkey");
    let config = CharmConfig { maxmemory: 1 << 30, ..CharmConfig::default() };
    let c = creds();
    let text = render_valkey_conf(&ValkeyConf {
        bind: "10.0.0.2",
        announce_host: "valkey-1.lxd",
        port: 6379,
        primary: Some(("valkey-0.lxd", 6379)),
        credentials: &c,
        config: &config,
        min_replicas_to_write: 1,
        paths: &paths,
    });
    golden("valkey-replica.conf", &text);
    assert!(!text.contains("admin-pw-0123"), "the admin password appears only hashed");
    assert!(text.contains(&acl_hash("admin-pw-0123")));
}

#[test]
fn valkey_conf_primary_has_no_replicaof() {
    let paths = Paths::new("/var/lib/valkey");
    let config = CharmConfig { appendonly: false, ..CharmConfig::default() };
    let c = creds();
    let text = render_valkey_conf(&primary_conf(&paths, &c, &config));
    golden("valkey-primary.conf", &text);
    assert!(!text.contains("replicaof"));
}

#[test]
fn sentinel_conf_golden() {
    let paths = Paths::new("/var/lib/valkey");
    let config = CharmConfig::default();
    let c = creds();
    let script = paths.reconfig_script();
    let notify = paths.notify_script();
    let text = render_sentinel_conf(&SentinelConf {
        bind: "10.0.0.2",
        announce_host: "valkey-1.lxd",
        port: 26379,
        primary_host: "valkey-0.lxd",
        primary_port: 6379,
        quorum: 2,
        credentials: &c,
        config: &config,
        paths: &paths,
        reconfig_script: Some(&script),
        notification_script: Some(&notify),
    });
    golden("sentinel.conf", &text);
    assert!(!text.contains("admin-pw-0123"));
}

#[test]
fn reconfig_script_golden() {
    let text = render_reconfig_script(Path::new("/var/lib/valkey/run/events"));
    golden("client-reconfig.sh", &text);
}

#[test]
fn notify_script_golden() {
    golden("sentinel-notify.sh", &render_notify_script(Path::new("/var/lib/valkey/run/events")));
}

/// Runs `script` with `args` and `env`, as its service would; whether it asked for `hook`.
fn asks(script: &str, spool: &Path, hook: &str, args: &[&str], env: &[(&str, &str)]) -> bool {
    let dir = spool.parent().unwrap();
    let path = dir.join("script.sh");
    write_file(&path, script, 0o700).unwrap();
    let _ = std::fs::remove_file(spool.join(hook));
    let status = Command::new(&path).args(args).envs(env.iter().copied()).status().unwrap();
    assert!(status.success(), "the script exits 0 whatever happens");
    spool.join(hook).exists()
}

#[test]
fn the_scripts_ask_for_their_hook_through_the_spool() {
    let tmp = tempfile::tempdir().unwrap();
    let spool = tmp.path().join("run dir").join("events");
    std::fs::create_dir_all(&spool).unwrap();
    let switch = ["primary", "leader", "start", "10.0.0.1", "6379", "10.0.0.2", "6379"];
    assert!(asks(&render_reconfig_script(&spool), &spool, "primary-changed", &switch, &[]));
    assert!(asks(&render_restarted_script(&spool), &spool, "valkey-restarted", &[], &[]));
    let notify = render_notify_script(&spool);
    for event in
        ["+sdown", "-sdown", "+odown", "-odown", "+failover-end", "-failover-abort-no-good-slave", "+tilt"]
    {
        assert!(
            asks(&notify, &spool, "services-changed", &[event, "master primary 10.0.0.1 6379"], &[]),
            "{event}"
        );
    }
    for event in ["+new-epoch", "+vote-for-leader", "+switch-master"] {
        assert!(!asks(&notify, &spool, "services-changed", &[event, "x"], &[]), "{event} is not asked for");
    }
    let exited = render_exited_script(&spool);
    assert!(
        !asks(&exited, &spool, "services-changed", &[], &[("SERVICE_RESULT", "success")]),
        "asked-for stop"
    );
    for result in ["signal", "exit-code", "core-dump"] {
        assert!(asks(&exited, &spool, "services-changed", &[], &[("SERVICE_RESULT", result)]), "{result}");
    }
}

#[test]
fn quoting_keeps_odd_values_one_token() {
    assert_eq!(super::arg("plain-1.2/x"), "plain-1.2/x");
    assert_eq!(super::arg("a b"), "\"a b\"");
    assert_eq!(super::arg("q\"\\"), "\"q\\\"\\\\\"");
    assert_eq!(super::arg(""), "\"\"");
}

#[test]
fn acl_hash_is_sha256_hex() {
    // sha256("password")
    assert_eq!(acl_hash("password"), "#5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8");
}

/// Renders a primary, a replica and a Sentinel on 127.0.0.1 and runs them with the pinned
/// valkey-server: the files load, ACLs admit the right users only, replication authenticates
/// with the replication user, and the Sentinel reaches the primary with the sentinel user.
#[test]
fn rendered_files_run_on_real_valkey() {
    run_rendered_files(&valkey_server());
}

/// The same files on Debian's Redis 7.0 (the compatibility target), where it is installed.
#[test]
fn rendered_files_run_on_redis_7_0() {
    let server = Path::new("/usr/bin/redis-server");
    if !server.exists() {
        eprintln!("redis-server not installed; Redis 7.0 compatibility not checked here");
        return;
    }
    run_rendered_files(server);
}

/// Runs a primary, a replica and a Sentinel from rendered files with `server`.
fn run_rendered_files(server: &Path) {
    let tmp = tempfile::tempdir().unwrap();
    let c = Credentials { admin: "a".repeat(64), replication: "r".repeat(64), sentinel: "s".repeat(64) };
    let config = CharmConfig { down_after_ms: 2000, failover_timeout_ms: 10000, ..CharmConfig::default() };
    let (p_port, r_port, s_port) = (free_port(), free_port(), free_port());
    let p_paths = Paths::new(tmp.path().join("primary"));
    let r_paths = Paths::new(tmp.path().join("replica"));
    for p in [&p_paths, &r_paths] {
        p.create_dirs().unwrap();
    }
    fn conf<'a>(
        paths: &'a Paths,
        port: u16,
        primary: Option<(&'a str, u16)>,
        c: &'a Credentials,
        config: &'a CharmConfig,
    ) -> String {
        render_valkey_conf(&ValkeyConf {
            bind: "127.0.0.1",
            announce_host: "127.0.0.1",
            port,
            primary,
            ..primary_conf(paths, c, config)
        })
    }
    write_private(&p_paths.valkey_conf(), &conf(&p_paths, p_port, None, &c, &config)).unwrap();
    write_private(&r_paths.valkey_conf(), &conf(&r_paths, r_port, Some(("127.0.0.1", p_port)), &c, &config))
        .unwrap();
    let sentinel = SentinelConf {
        bind: "127.0.0.1",
        announce_host: "127.0.0.1",
        port: s_port,
        primary_host: "127.0.0.1",
        primary_port: p_port,
        quorum: 1,
        credentials: &c,
        config: &config,
        paths: &p_paths,
        reconfig_script: None,
        notification_script: None,
    };
    write_private(&p_paths.sentinel_conf(), &render_sentinel_conf(&sentinel)).unwrap();

    let _primary = spawn(server, &p_paths.valkey_conf(), &[], p_port, &c);
    let _replica = spawn(server, &r_paths.valkey_conf(), &[], r_port, &c);
    let admin = Some((ADMIN_USER, c.admin.as_str()));

    // The default user is off; a wrong password is refused; least-privilege users are limited.
    let err = query(p_port, None, &["PING"]).unwrap_err();
    assert!(err.contains("NOAUTH"), "{err}");
    assert!(query(p_port, Some((ADMIN_USER, "wrong")), &["PING"]).is_err());
    let err = query(p_port, Some((REPLICATION_USER, &c.replication)), &["SET", "k", "v"]).unwrap_err();
    assert!(err.contains("NOPERM") || err.contains("permission"), "{err}");
    let err = query(p_port, Some((SENTINEL_USER, &c.sentinel)), &["GET", "k"]).unwrap_err();
    assert!(err.contains("NOPERM") || err.contains("permission"), "{err}");
    assert!(query(p_port, admin, &["SET", "k", "v"]).is_ok());

    // Replication authenticates as the replication user and copies the data.
    let synced = poll(Duration::from_secs(15), || {
        let info = query(r_port, admin, &["INFO", "replication"]).ok()?;
        let text: String = redis::from_redis_value(info).ok()?;
        text.contains("master_link_status:up").then_some(())
    });
    assert!(synced.is_some(), "replica never linked up with the replication user");
    let got = poll(Duration::from_secs(5), || {
        let v = query(r_port, admin, &["GET", "k"]).ok()?;
        redis::from_redis_value::<Option<String>>(v).ok().flatten()
    });
    assert_eq!(got.as_deref(), Some("v"));

    // Sentinel loads its file, refuses the default user, and reaches the primary as `sentinel`:
    // it has read INFO (role-reported) and sees the replica (num-slaves), both needing the ACL.
    let _sentinel = spawn(server, &p_paths.sentinel_conf(), &["--sentinel"], s_port, &c);
    let err = query(s_port, None, &["SENTINEL", "MASTERS"]).unwrap_err();
    assert!(err.contains("NOAUTH"), "{err}");
    let master = poll(Duration::from_secs(15), || {
        let reply = query(s_port, admin, &["SENTINEL", "MASTER", MONITOR_NAME]).ok()?;
        (field(&reply, "num-slaves").as_deref() == Some("1")).then_some(reply)
    })
    .expect("sentinel never saw the replica");
    assert_eq!(field(&master, "flags").as_deref(), Some("master"));
    assert_eq!(field(&master, "role-reported").as_deref(), Some("master"));
    assert_eq!(field(&master, "quorum").as_deref(), Some("1"));
    assert_eq!(field(&master, "down-after-milliseconds").as_deref(), Some("2000"));
    assert_eq!(field(&master, "failover-timeout").as_deref(), Some("10000"));
}

#[test]
fn valkey_conf_has_a_local_socket_only_where_its_path_fits() {
    let config = CharmConfig::default();
    let c = creds();
    let render = |root: &str| {
        let paths = Paths::new(root);
        render_valkey_conf(&ValkeyConf { announce_host: "valkey-0", ..primary_conf(&paths, &c, &config) })
    };
    let short = render("/var/lib/valkey");
    assert!(short.contains("\nunixsocket /var/lib/valkey/run/valkey.sock\nunixsocketperm 700\n"), "{short}");
    // 90 + "/run/valkey.sock" = 106 bytes: fits; 92 + 16 = 108: Valkey would refuse to start.
    let fits = format!("/{}", "d".repeat(89));
    assert!(render(&fits).contains("unixsocket "), "a 106-byte path fits");
    let too_long = format!("/{}", "d".repeat(91));
    assert!(!render(&too_long).contains("unixsocket"), "a 108-byte path must be left out");
}

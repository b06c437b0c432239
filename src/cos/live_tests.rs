//! Live: the exporter Debian ships (1.45) against real Valkey 9.1 servers — a primary, a replica
//! and a Sentinel — with the charm's own exporter ACL user, password file and arguments. Checks
//! that a scrape of all three leaves every `ACL LOG` empty (the user's rules are exactly what the
//! exporter sends), that no password is in its argv, and that every metric the alert rules and
//! the dashboard name is one this exporter really exports (or one of the charm's own).

// The live fixture: spawns the exporter and reads its HTTP endpoint.
#![allow(clippy::disallowed_methods)]

use super::{exporter, signals};
use crate::valkey::test_server::{free_port, poll_until, TestServer};
use crate::valkey::{Auth, Endpoint, TcpConnector};
use crate::workload::test_support::query;
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const ADMIN: &str = "admin";
const ADMIN_PW: &str = "admin-password-for-the-exporter-test";

/// The exporter process; killed on drop.
struct Exporter(Child);

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `GET path` on 127.0.0.1:`port`: the body when the answer is 200.
fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(20))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.0 200")
        .then(|| body.to_string())
        .or_else(|| head.starts_with("HTTP/1.1 200").then(|| body.to_string()))
}

/// Metric names in an exposition text.
fn names(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split(['{', ' ']).next().unwrap_or("").to_string())
        .collect()
}

/// The value of the first sample of `metric` (without labels) in `text`.
fn value(text: &str, metric: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(&format!("{metric} "))?.trim().parse().ok())
}

fn admin_conf() -> String {
    format!("user default off\nuser {ADMIN} on >{ADMIN_PW} ~* &* +@all\n")
}

/// `ACL LOG` of the server on `port`: empty when nothing was denied.
fn acl_log(port: u16) -> Vec<redis::Value> {
    match query(port, Some((ADMIN, ADMIN_PW)), &["ACL", "LOG"]).expect("ACL LOG") {
        redis::Value::Array(entries) => entries,
        other => panic!("ACL LOG answered {other:?}"),
    }
}

/// Every metric name an expression uses: identifiers with the prefixes the rules and dashboard
/// use, outside label matchers and grouping lists (label names are not metrics).
pub fn metrics_in_expr(expr: &str) -> BTreeSet<String> {
    let mut plain = String::new();
    let mut depth = 0;
    for c in expr.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    // Grouping lists: `by (...)`, `on (...)`, `without (...)`, `ignoring (...)`, `group_left (...)`.
    for kw in ["by", "on", "without", "ignoring", "group_left", "group_right"] {
        while let Some(i) = find_word(&plain, kw) {
            let rest = &plain[i + kw.len()..];
            let Some(open) = rest.find('(').filter(|o| rest[..*o].trim().is_empty()) else { break };
            let close = rest[open..].find(')').map(|c| open + c + 1).unwrap_or(rest.len());
            plain = format!("{} {}", &plain[..i], &rest[close..]);
        }
    }
    plain
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .filter(|w| w.starts_with("redis_") || w.starts_with("valkey_charm_") || *w == "up")
        .map(String::from)
        .collect()
}

fn find_word(text: &str, word: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    text.match_indices(word)
        .map(|(i, _)| i)
        .find(|&i| (i == 0 || !ident(bytes[i - 1])) && bytes.get(i + word.len()).is_none_or(|b| !ident(*b)))
}

/// Every PromQL expression of the rules and the dashboard.
fn all_exprs() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let rules = super::rules::alert_rules(&super::Topology::default()).unwrap();
    for g in rules["groups"].as_array().unwrap() {
        for r in g["rules"].as_array().unwrap() {
            out.push((format!("rule {}", r["alert"]), r["expr"].as_str().unwrap().to_string()));
        }
    }
    fn walk(v: &serde_json::Value, out: &mut Vec<(String, String)>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    match (k.as_str(), v) {
                        ("expr" | "query", serde_json::Value::String(e))
                            if e.contains('(') || e.contains('{') =>
                        {
                            out.push(("dashboard".into(), e.clone()))
                        }
                        _ => walk(v, out),
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    for (_, text) in super::dashboard::DASHBOARD_FILES {
        walk(&serde_json::from_str(text).unwrap(), &mut out);
    }
    out
}

#[test]
fn metric_names_are_found_in_expressions_but_not_label_names() {
    let m = metrics_in_expr(
        r#"count by (juju_model, redis_version) (redis_instance_info{role="master",redis_mode=""}) unless on (juju_application) up == 0"#,
    );
    assert_eq!(m, BTreeSet::from(["redis_instance_info".to_string(), "up".to_string()]));
}

#[test]
fn the_exporter_scrapes_valkey_and_sentinel_as_its_own_user_and_exports_what_rules_and_dashboard_use() {
    let binary = Path::new(exporter::EXPORTER_BINARY);
    if !binary.exists() {
        // No silent skip in CI: scripts/setup installs the package; its absence is a failure there.
        assert!(
            std::env::var_os("CI").is_none(),
            "{} missing in CI (scripts/setup installs it)",
            binary.display()
        );
        eprintln!(
            "skipped: {} is not installed (scripts/setup installs prometheus-redis-exporter)",
            binary.display()
        );
        return;
    }
    let primary = TestServer::data(&admin_conf());
    let replica = TestServer::data(&format!(
        "{}replicaof 127.0.0.1 {}\nmasteruser {ADMIN}\nmasterauth {ADMIN_PW}\n",
        admin_conf(),
        primary.port
    ));
    let sentinel = TestServer::sentinel(&format!(
        "{}sentinel monitor primary 127.0.0.1 {} 1\nsentinel auth-user primary {ADMIN}\nsentinel auth-pass primary {ADMIN_PW}\n",
        admin_conf(),
        primary.port
    ));
    // The charm's code path: the user set (and persisted) by the admin, as on a unit.
    let pw = exporter::exporter_password(ADMIN_PW);
    let connector = TcpConnector {
        auth: Some(Auth { user: ADMIN.into(), password: ADMIN_PW.into() }),
        ..Default::default()
    };
    for (port, is_sentinel) in [(primary.port, false), (replica.port, false), (sentinel.port, true)] {
        let mut node = connector.acl(&Endpoint::new("127.0.0.1", port), is_sentinel).unwrap();
        node.setuser(&exporter::setuser_args(&pw, is_sentinel)).unwrap();
        node.persist().unwrap();
        query(port, Some((ADMIN, ADMIN_PW)), &["ACL", "LOG", "RESET"]).unwrap();
    }
    // Persisted: the config files name the user, as the observation checks on a unit.
    for server in [&primary, &replica, &sentinel] {
        assert!(super::observe::conf_has_user(&server.dir.path().join("server.conf")), "{}", server.log());
    }
    let uri = |port: u16| format!("redis://127.0.0.1:{port}");
    let (p, r, s) = (uri(primary.port), uri(replica.port), uri(sentinel.port));
    let pw_file = primary.dir.path().join("exporter-passwords.json");
    std::fs::write(&pw_file, exporter::password_file_for(&[&p, &r, &s], &pw)).unwrap();
    let listen = free_port();
    let args = exporter::args_for(&format!("127.0.0.1:{listen}"), &p, &pw_file);
    let log = std::fs::File::create(primary.dir.path().join("exporter.log")).unwrap();
    let child = Command::new(binary)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let exporter_proc = Exporter(child);
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", exporter_proc.0.id())).unwrap_or_default();
    assert!(!String::from_utf8_lossy(&cmdline).contains(&pw), "the password is not in the exporter's argv");

    // The replica linked, the Sentinel found it: the scrape sees replication as on a unit.
    let linked = poll_until(Duration::from_secs(20), || {
        http_get(listen, &format!("/scrape?target={r}")).is_some_and(|t| {
            t.contains("redis_master_link_up{") && t.contains("} 1\n") && value(&t, "redis_up") == Some(1.0)
        })
    });
    assert!(linked, "replica never linked as seen by the exporter");
    let data = http_get(listen, "/metrics").expect("scrape of the primary");
    let rep = http_get(listen, &format!("/scrape?target={r}")).expect("scrape of the replica");
    let sent = http_get(listen, &format!("/scrape?target={s}")).expect("scrape of the Sentinel");
    for (what, text) in [("primary", &data), ("replica", &rep), ("sentinel", &sent)] {
        assert_eq!(value(text, "redis_up"), Some(1.0), "{what} scraped as the exporter user");
    }
    assert!(sent.contains("redis_sentinel_master_ckquorum_status{"), "{sent}");
    assert!(data.contains("redis_instance_info{") && data.contains("role=\"master\""));
    for (what, port) in [("primary", primary.port), ("replica", replica.port), ("sentinel", sentinel.port)] {
        let log = acl_log(port);
        assert!(log.is_empty(), "{what}: the scrape was denied something: {log:?}");
    }

    let mut exported: BTreeSet<String> = [&data, &rep, &sent].into_iter().flat_map(|t| names(t)).collect();
    exported.insert("up".into()); // Prometheus's own, for every target
    let charm = signals::CharmSignals {
        observed_at: 1,
        failovers: vec![crate::history::Failover {
            at_ms: 1,
            old_primary: "a".into(),
            new_primary: "b".into(),
            kind: crate::history::Kind::Automatic,
            duration_ms: Some(1),
        }],
        start_fence: false,
        started: true,
    };
    exported.extend(names(&signals::render(&charm)));
    let missing: Vec<String> = all_exprs()
        .into_iter()
        .flat_map(|(where_, e)| {
            let exported = &exported;
            metrics_in_expr(&e)
                .into_iter()
                .filter(move |m| !exported.contains(m))
                .map(move |m| format!("{where_}: {m}"))
        })
        .collect();
    assert!(missing.is_empty(), "metrics the exporter 1.45 does not export: {missing:?}");
    drop(exporter_proc);
}

#[test]
fn dashboards_decode_with_pythons_lzma_as_the_requirer_does() {
    // The requirer (cosl's LZMABase64) runs json.loads(lzma.decompress(base64.b64decode(s))).
    let encoded = super::dashboard::dashboards("valkey").unwrap().remove(0);
    let script = "import base64, json, lzma, sys\n\
                  d = json.loads(lzma.decompress(base64.b64decode(sys.stdin.read())))\n\
                  print(d['uid'], d['title'], len(d['panels']))\n";
    let child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        assert!(std::env::var_os("CI").is_none(), "python3 missing in CI");
        eprintln!("skipped: python3 not installed");
        return;
    };
    child.stdin.take().unwrap().write_all(encoded.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let panels = serde_json::from_str::<serde_json::Value>(super::dashboard::DASHBOARD_FILES[0].1).unwrap()
        ["panels"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("valkey-valkey Valkey {panels}"));
}

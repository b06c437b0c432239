use super::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// A tools directory whose tools record their argv and stdin and answer with canned output.
struct Tools {
    dir: tempfile::TempDir,
}

impl Tools {
    fn new() -> Tools {
        Tools { dir: tempfile::tempdir().unwrap() }
    }

    /// Installs `name`, printing `stdout` and `stderr` and exiting with `code`.
    fn tool(&self, name: &str, stdout: &str, stderr: &str, code: i32) -> &Self {
        let base = self.dir.path().join(name);
        fs::write(base.with_extension("out"), stdout).unwrap();
        fs::write(base.with_extension("err"), stderr).unwrap();
        let script = format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$0.args\"\ncat > \"$0.stdin\"\ncat \"$0.out\"\ncat \"$0.err\" >&2\nexit {code}\n"
        );
        fs::write(&base, script).unwrap();
        fs::set_permissions(&base, fs::Permissions::from_mode(0o755)).unwrap();
        self
    }

    fn ok(&self, name: &str, stdout: &str) -> &Self {
        self.tool(name, stdout, "", 0)
    }

    /// The argv the tool received, one per line.
    fn args(&self, name: &str) -> String {
        fs::read_to_string(self.dir.path().join(format!("{name}.args"))).unwrap()
    }

    fn stdin(&self, name: &str) -> String {
        fs::read_to_string(self.dir.path().join(format!("{name}.stdin"))).unwrap()
    }

    fn hook_tools(&self) -> ProcessHookTools {
        ProcessHookTools::in_dir(self.dir.path())
    }
}

fn lines(s: &[&str]) -> String {
    s.iter().map(|l| format!("{l}\n")).collect()
}

#[test]
fn relation_tools_use_the_contract_flags() {
    let t = Tools::new();
    t.ok("relation-ids", "[\"valkey-peers:0\"]\n").ok("relation-list", "[\"valkey/1\",\"valkey/2\"]\n");
    t.ok("relation-get", "{\"host\":\"h1\",\"private-address\":\"10.0.0.2\"}\n").ok("relation-set", "");
    let h = t.hook_tools();
    assert_eq!(h.relation_ids("valkey-peers").unwrap(), vec!["valkey-peers:0"]);
    assert_eq!(t.args("relation-ids"), lines(&["--format=json", "valkey-peers"]));
    assert_eq!(h.relation_list("valkey-peers:0").unwrap(), vec!["valkey/1", "valkey/2"]);
    assert_eq!(t.args("relation-list"), lines(&["--format=json", "-r", "valkey-peers:0"]));
    let bag = h.relation_get_unit("valkey-peers:0", "valkey/1").unwrap();
    assert_eq!(bag.get("host").map(String::as_str), Some("h1"));
    assert_eq!(t.args("relation-get"), lines(&["--format=json", "-r", "valkey-peers:0", "-", "valkey/1"]));
    h.relation_get_app("valkey-peers:0", "valkey").unwrap();
    assert_eq!(
        t.args("relation-get"),
        lines(&["--format=json", "-r", "valkey-peers:0", "--app", "-", "valkey"])
    );

    let changes: BTreeMap<String, Option<String>> =
        [("started".to_string(), Some("true".to_string())), ("start-requested".to_string(), None)].into();
    h.relation_set("valkey-peers:0", true, &changes).unwrap();
    assert_eq!(t.args("relation-set"), lines(&["-r", "valkey-peers:0", "--app", "--file", "-"]));
    let sent: BTreeMap<String, String> = serde_yaml::from_str(&t.stdin("relation-set")).unwrap();
    assert_eq!(sent.get("started").map(String::as_str), Some("true"));
    assert_eq!(sent.get("start-requested").map(String::as_str), Some(""), "None deletes (empty value)");
}

#[test]
fn null_outputs_read_as_empty() {
    let t = Tools::new();
    t.ok("relation-ids", "null\n")
        .ok("relation-get", "null\n")
        .ok("config-get", "null\n")
        .ok("action-get", "{}\n");
    let h = t.hook_tools();
    assert!(h.relation_ids("valkey-peers").unwrap().is_empty());
    assert!(h.relation_get_unit("valkey-peers:0", "valkey/1").unwrap().is_empty());
    assert!(h.config_get().unwrap().is_empty());
    assert!(h.action_get().unwrap().is_empty());
}

#[test]
fn status_log_and_action_tools() {
    let t = Tools::new();
    for tool in [
        "status-set",
        "juju-log",
        "action-set",
        "action-fail",
        "action-log",
        "application-version-set",
        "open-port",
    ] {
        t.ok(tool, "");
    }
    t.ok("is-leader", "true\n").ok("config-get", "{\"down-after-milliseconds\":5000,\"maxmemory\":\"0\"}\n");
    let h = t.hook_tools();
    h.status_set(StatusKind::Blocked, "invalid maxmemory: unknown unit 'x'", true).unwrap();
    assert_eq!(
        t.args("status-set"),
        lines(&["--application", "blocked", "invalid maxmemory: unknown unit 'x'"])
    );
    h.status_set(StatusKind::Active, "primary", false).unwrap();
    assert_eq!(t.args("status-set"), lines(&["active", "primary"]));
    h.log(LogLevel::Warning, "-starts with a dash").unwrap();
    assert_eq!(t.args("juju-log"), lines(&["--log-level", "WARNING", "--", "-starts with a dash"]));
    let results: BTreeMap<String, String> =
        [("new-primary".into(), "valkey/1".into()), ("duration-ms".into(), "812".into())].into();
    h.action_set(&results).unwrap();
    assert_eq!(t.args("action-set"), lines(&["duration-ms=812", "new-primary=valkey/1"]));
    h.action_fail("no replica in sync").unwrap();
    assert_eq!(t.args("action-fail"), lines(&["no replica in sync"]));
    h.open_port(26379).unwrap();
    assert_eq!(t.args("open-port"), lines(&["26379/tcp"]));
    h.application_version_set("9.1.2").unwrap();
    assert_eq!(t.args("application-version-set"), lines(&["9.1.2"]));
    assert!(h.is_leader().unwrap());
    assert_eq!(h.config_get().unwrap()["down-after-milliseconds"], 5000);
}

/// `goal-state`: the units whose status is `dying` (Juju reports a unit so once its removal
/// began: juju/juju `apiserver/facades/agent/uniter/goal-state_test.go`,
/// `TestGoalStatesSingleRelationDyingUnits`); relations and other statuses are ignored.
#[test]
fn goal_state_names_the_dying_units() {
    let t = Tools::new();
    t.ok(
        "goal-state",
        r#"{"units":{"valkey/0":{"status":"active","since":"2026-12-06 10:00:00Z"},"valkey/1":{"status":"dying","since":"2026-12-06 10:01:00Z"},"valkey/2":{"status":"waiting","since":"2026-12-06 10:00:00Z"}},"relations":{"valkey-peers":{"valkey":{"status":"joined","since":"2026-12-06 10:00:00Z"},"valkey/3":{"status":"dying","since":"2026-12-06 10:00:00Z"}}}}"#,
    );
    assert_eq!(t.hook_tools().dying_units().unwrap(), vec!["valkey/1".to_string()]);
    assert_eq!(t.args("goal-state"), lines(&["--format=json"]));
    t.ok("goal-state", "{\"units\":{}}\n");
    assert!(t.hook_tools().dying_units().unwrap().is_empty());
}

#[test]
fn storage_location_lists_then_gets() {
    let t = Tools::new();
    t.ok("storage-list", "[\"data/3\"]\n")
        .ok("storage-get", "{\"kind\":\"filesystem\",\"location\":\"/srv/d\"}\n");
    let h = t.hook_tools();
    assert_eq!(h.storage_location("data").unwrap(), Some(PathBuf::from("/srv/d")));
    assert_eq!(t.args("storage-list"), lines(&["--format=json", "data"]));
    assert_eq!(t.args("storage-get"), lines(&["--format=json", "-s", "data/3"]));
    t.ok("storage-list", "[]\n");
    assert_eq!(h.storage_location("data").unwrap(), None, "not attached");
}

#[test]
fn network_get_reduces_to_bind_hostname_and_ingress() {
    let doc = r#"{"bind-addresses":[{"interface-name":"eth0","addresses":[{"hostname":"","value":"10.0.0.5","cidr":"10.0.0.0/24"}]}],"egress-subnets":["10.0.0.5/32"],"ingress-addresses":["10.0.0.6"]}"#;
    let t = Tools::new();
    t.ok("network-get", doc);
    let info = t.hook_tools().network_get("valkey-peers").unwrap();
    assert_eq!(
        info,
        NetworkInfo {
            bind_address: "10.0.0.5".into(),
            hostname: String::new(),
            ingress_address: "10.0.0.6".into()
        }
    );
    assert_eq!(t.args("network-get"), lines(&["--format=json", "valkey-peers"]));
    let named = r#"{"bind-addresses":[{"addresses":[{"hostname":"valkey-0.lxd","value":"10.1.1.1"}]}]}"#;
    let info = super::parse_network(named).unwrap();
    assert_eq!(info.hostname, "valkey-0.lxd");
    assert_eq!(info.ingress_address, "10.1.1.1", "ingress falls back to the bind address");
}

#[test]
fn secrets_and_resources_map_not_found_to_none() {
    let t = Tools::new();
    t.ok("secret-add", "secret:cu5k9\n")
        .ok("secret-get", "{\"admin-password\":\"x\"}\n")
        .ok("secret-set", "");
    let h = t.hook_tools();
    let content: Bag = [("admin-password".to_string(), "x".to_string())].into();
    assert_eq!(h.secret_add("valkey-passwords", &content).unwrap(), "secret:cu5k9");
    let args = t.args("secret-add");
    let argv: Vec<&str> = args.lines().collect();
    assert_eq!(argv[..4], ["--label", "valkey-passwords", "--owner", "application"]);
    assert!(argv[4].starts_with("admin-password#file="), "{args}");
    assert_eq!(argv.len(), 5, "{args}");
    assert_eq!(h.secret_get(&SecretRef::Id("secret:cu5k9".into()), true).unwrap(), Some(content.clone()));
    assert_eq!(t.args("secret-get"), lines(&["--format=json", "secret:cu5k9", "--refresh"]));
    h.secret_get(&SecretRef::Label("valkey-passwords".into()), false).unwrap();
    assert_eq!(t.args("secret-get"), lines(&["--format=json", "--label", "valkey-passwords"]));
    h.secret_set("secret:cu5k9", &content).unwrap();
    let args = t.args("secret-set");
    assert!(args.starts_with("secret:cu5k9\nadmin-password#file=") && args.lines().count() == 2, "{args}");

    t.tool("secret-get", "", "ERROR secret \"cu5k9\" not found\n", 1);
    assert_eq!(h.secret_get(&SecretRef::Id("secret:cu5k9".into()), false).unwrap(), None);
    t.tool("secret-get", "", "ERROR permission denied\n", 1);
    let err = h.secret_get(&SecretRef::Id("secret:cu5k9".into()), false).unwrap_err();
    assert!(matches!(err, HookToolError::PermissionDenied { .. }), "{err:?}");

    t.tool("resource-get", "", "ERROR could not download resource: HTTP request failed\n", 1);
    assert_eq!(h.resource_get("valkey-server").unwrap(), None);
    t.ok("resource-get", "/var/lib/juju/agents/unit-valkey-0/resources/valkey-server/valkey-server\n");
    assert_eq!(
        h.resource_get("valkey-server").unwrap(),
        Some(PathBuf::from("/var/lib/juju/agents/unit-valkey-0/resources/valkey-server/valkey-server"))
    );
}

#[test]
fn failures_are_typed() {
    let t = Tools::new();
    t.tool("relation-set", "", "ERROR cannot write relation settings\n", 1);
    t.ok("is-leader", "yes please\n");
    let h = t.hook_tools();
    let err = h
        .relation_set("valkey-peers:0", true, &[("k".to_string(), Some("v".to_string()))].into())
        .unwrap_err();
    assert!(matches!(err, HookToolError::NotLeader { .. }), "{err:?}");
    let err = h.is_leader().unwrap_err();
    assert!(matches!(err, HookToolError::Parse { ref tool, .. } if tool == "is-leader"), "{err:?}");
    let err = h.config_get().unwrap_err();
    assert!(matches!(err, HookToolError::Spawn { ref tool, .. } if tool == "config-get"), "{err:?}");
    assert!(!Path::new(&t.dir.path().join("config-get")).exists());
}

/// Passwords reach secret-add/secret-set as `key#file=PATH` (Juju's form, `core/secrets/secret.go`)
/// from a 0600 file that exists only while the tool runs, so no password is in any argv.
#[test]
fn secret_values_go_through_private_files_never_argv() {
    let t = Tools::new();
    // A tool that reads each `key#file=` file and records its content and mode.
    let script = "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$0.args\"\n: > \"$0.files\"\n\
        for a in \"$@\"; do case $a in *#file=*) f=${a#*#file=}; \
        printf '%s %s\\n' \"$(stat -c %a \"$f\")\" \"$(cat \"$f\")\" >> \"$0.files\";; esac; done\n\
        echo secret:new\n";
    for tool in ["secret-add", "secret-set"] {
        let path = t.dir.path().join(tool);
        fs::write(&path, script).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let h = t.hook_tools();
    let content: Bag = [
        ("admin-password".to_string(), "hunter2-a".to_string()),
        ("sentinel-password".to_string(), "hunter2-b".to_string()),
    ]
    .into();
    h.secret_add("valkey-passwords", &content).unwrap();
    h.secret_set("secret:x", &content).unwrap();
    for tool in ["secret-add", "secret-set"] {
        let args = t.args(tool);
        assert!(!args.contains("hunter2"), "{tool} argv holds a password: {args}");
        let files = fs::read_to_string(t.dir.path().join(format!("{tool}.files"))).unwrap();
        assert_eq!(files, "600 hunter2-a\n600 hunter2-b\n", "{tool} read the values from 0600 files");
        for path in args.lines().filter_map(|a| a.split_once("#file=").map(|(_, p)| p)) {
            assert!(!Path::new(path).exists(), "{path} left behind");
        }
    }
}

#[test]
fn secret_values_never_reach_error_messages() {
    let t = Tools::new();
    t.tool("secret-set", "", "ERROR boom\n", 1);
    let content: Bag = [("admin-password".to_string(), "hunter2-very-secret".to_string())].into();
    let err = t.hook_tools().secret_set("secret:x", &content).unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert!(!format!("{err:?}").contains("hunter2"), "{err:?}");
}

/// The client relation's secret tools, with Juju's flags (`secret-grant <ID> -r <relation>`,
/// juju/juju docs `hook-command-secret-grant`; `secret-revoke` alike; `secret-remove <ID>`).
#[test]
fn secret_grant_revoke_and_remove_use_the_contract_flags() {
    let t = Tools::new();
    t.ok("secret-grant", "").ok("secret-revoke", "").ok("secret-remove", "");
    let h = t.hook_tools();
    h.secret_grant("secret:cu5k9", "valkey-client:3").unwrap();
    assert_eq!(t.args("secret-grant"), lines(&["secret:cu5k9", "-r", "valkey-client:3"]));
    h.secret_revoke("secret:cu5k9", "valkey-client:3").unwrap();
    assert_eq!(t.args("secret-revoke"), lines(&["secret:cu5k9", "-r", "valkey-client:3"]));
    h.secret_remove("secret:cu5k9").unwrap();
    assert_eq!(t.args("secret-remove"), lines(&["secret:cu5k9"]));
    t.tool("secret-remove", "", "ERROR secret \"cu5k9\" not found\n", 1);
    assert!(matches!(h.secret_remove("secret:cu5k9"), Err(HookToolError::NotFound { .. })));
}

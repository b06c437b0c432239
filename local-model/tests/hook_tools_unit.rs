//! Contract tests for the tools about the unit itself: config-get, is-leader, status-set/get,
//! application-version-set, juju-log, network-get, storage-*, unit-get, resource-get, state-*,
//! ports and juju-exec. See juju-contract.md §2 and §8.

#[allow(dead_code)] // Shared by several test crates; each uses a subset.
#[path = "fixtures/tools/model.rs"]
mod model;

use model::Model;
use std::time::{Duration, Instant};

#[test]
fn config_get_merges_charm_defaults_with_user_config() {
    let m = Model::new();
    let all = m.tool("valkey/1", "config-get").args(&["--format=json"]).run();
    assert_eq!(
        all.ok(),
        "{\"appendonly\":true,\"maxmemory\":\"0\",\"password\":\"s3cret\",\"port\":7000,\"ratio\":0.5}\n"
    );
    assert_eq!(m.tool("valkey/1", "config-get").args(&["port"]).run().ok(), "7000\n");
    assert_eq!(m.tool("valkey/1", "config-get").args(&["appendonly"]).run().ok(), "True\n");
    assert_eq!(
        m.tool("valkey/1", "config-get").args(&["maxmemory", "--format", "json"]).run().ok(),
        "\"0\"\n"
    );
    assert_eq!(m.tool("valkey/1", "config-get").args(&["no-such", "--format=json"]).run().ok(), "null\n");
    assert_eq!(m.tool("valkey/1", "config-get").args(&["no-such"]).run().ok(), "");
    // Without a user value, an option without default is left out (or null with --all).
    m.store
        .update(|s| {
            s.applications.get_mut("valkey").unwrap().config.clear();
            Ok::<_, juju_local::store::StoreError>(())
        })
        .unwrap();
    let all = m.tool("valkey/1", "config-get").args(&["--format=json"]).run();
    assert_eq!(all.ok(), "{\"appendonly\":true,\"maxmemory\":\"0\",\"port\":6379,\"ratio\":0.5}\n");
    let all = m.tool("valkey/1", "config-get").args(&["-a", "--format=json"]).run();
    assert!(all.ok().contains("\"password\":null"), "{}", all.stdout);
    m.tool("valkey/1", "config-get")
        .args(&["--all", "port"])
        .run()
        .fails(2, "cannot use argument --all together with key \"port\"");
}

#[test]
fn status_set_and_get_with_application_rules() {
    let m = Model::new();
    m.tool("valkey/1", "status-set").args(&["active", "replica of valkey/0"]).run().ok();
    let st = m.tool("valkey/1", "status-get").args(&["--include-data", "--format=json"]).run();
    assert_eq!(st.ok(), "{\"message\":\"replica of valkey/0\",\"status\":\"active\",\"status-data\":{}}\n");
    assert_eq!(m.tool("valkey/1", "status-get").run().ok(), "active\n");
    assert_eq!(
        m.tool("valkey/1", "status-get").args(&["--format=json"]).run().ok(),
        "{\"status\":\"active\"}\n"
    );
    assert_eq!(m.state().units["valkey/1"].workload_status.message, "replica of valkey/0");

    m.tool("valkey/1", "status-set")
        .args(&["--application", "active"])
        .run()
        .fails(1, "setting application status: this unit is not the leader");
    m.tool("valkey/1", "status-get")
        .args(&["--application"])
        .run()
        .fails(1, "finding application status: this unit is not the leader");
    m.tool("valkey/1", "status-set")
        .args(&["running"])
        .run()
        .fails(2, "invalid status \"running\", expected one of [maintenance blocked waiting active]");
    m.tool("valkey/0", "status-set").args(&["--application", "blocked", "need 3 units"]).run().ok();
    let app =
        m.tool("valkey/0", "status-get").args(&["--application", "--include-data", "--format=json"]).run();
    let v: serde_json::Value = serde_json::from_str(app.ok()).unwrap();
    assert_eq!(v["application-status"]["status"], "blocked");
    assert_eq!(v["application-status"]["message"], "need 3 units");
    assert_eq!(v["application-status"]["units"]["valkey/1"]["status"], "active");
    assert_eq!(v["application-status"]["units"]["valkey/2"]["status"], "unknown");

    m.tool("valkey/2", "application-version-set").args(&["9.1.2"]).run().ok();
    assert_eq!(m.state().applications["valkey"].workload_version, "9.1.2");
}

#[test]
fn juju_log_appends_to_the_model_log() {
    let m = Model::new();
    m.tool("valkey/1", "juju-log").args(&["--log-level", "WARNING", "--", "disk", "almost full"]).run().ok();
    m.tool("valkey/1", "juju-log").args(&["-l", "debug", "detail"]).run().ok();
    m.tool("valkey/1", "juju-log")
        .env("JUJU_RELATION_ID", "valkey-peers:0")
        .args(&["-l", "LOUD", "x"])
        .run()
        .ok();
    m.tool("valkey/1", "juju-log").run().fails(2, "no message specified");
    let log = std::fs::read_to_string(m.store.log_path()).unwrap();
    let lines: Vec<Vec<&str>> = log.lines().map(|l| l.splitn(2, ' ').collect()).collect();
    assert_eq!(lines.len(), 4, "{log}");
    assert!(lines[0][0].parse::<f64>().is_ok(), "timestamp first: {log}");
    assert_eq!(lines[0][1], "valkey/1 WARNING disk almost full");
    assert_eq!(lines[1][1], "valkey/1 DEBUG detail");
    assert_eq!(lines[2][1], "valkey/1 WARNING Specified log level of \"LOUD\" is not valid");
    assert_eq!(lines[3][1], "valkey/1 INFO valkey-peers:0: x");
}

#[test]
fn network_get_has_juju_shape_and_refuses_unknown_bindings() {
    let m = Model::new();
    let out = m.tool("valkey/1", "network-get").args(&["valkey-peers", "--format=json"]).run();
    assert_eq!(
        out.ok(),
        concat!(
            "{\"bind-addresses\":[{\"addresses\":[{\"cidr\":\"127.0.0.0/8\",\"hostname\":\"valkey-1.local\",",
            "\"value\":\"127.0.9.3\"}],\"interface-name\":\"lo\",\"mac-address\":\"\"}],",
            "\"egress-subnets\":[\"127.0.9.3/32\"],\"ingress-addresses\":[\"127.0.9.3\"]}\n"
        )
    );
    assert_eq!(
        m.tool("valkey/1", "network-get").args(&["valkey", "--ingress-address"]).run().ok(),
        "127.0.9.3\n"
    );
    // YAML (and smart) also carry Juju's legacy key copies.
    let yaml = m.tool("valkey/1", "network-get").args(&["valkey-peers", "--format=yaml"]).run();
    let doc: serde_json::Value = serde_yaml::from_str(yaml.ok()).unwrap();
    assert_eq!(doc["bind-addresses"][0]["addresses"][0]["address"], "127.0.9.3");
    assert_eq!(doc["bind-addresses"][0]["interfacename"], "lo");
    let both = m
        .tool("valkey/1", "network-get")
        .args(&["valkey", "--format=json", "--bind-address", "--egress-subnets"])
        .run();
    assert_eq!(both.ok(), "{\"bind-address\":\"127.0.9.3\",\"egress-subnets\":[\"127.0.9.3/32\"]}\n");
    m.tool("valkey/1", "network-get").args(&["-r", "0"]).run().fails(2, "no arguments specified");
    m.tool("valkey/1", "network-get")
        .args(&["nope"])
        .run()
        .fails(1, "no network config found for binding \"nope\"");
    assert_eq!(m.tool("valkey/2", "unit-get").args(&["private-address"]).run().ok(), "127.0.9.4\n");
}

#[test]
fn storage_list_and_get() {
    let m = Model::new();
    assert_eq!(
        m.tool("valkey/1", "storage-list").args(&["--format=json", "data"]).run().ok(),
        "[\"data/1\"]\n"
    );
    let got = m.tool("valkey/1", "storage-get").args(&["-s", "data/1", "--format=json"]).run();
    let v: serde_json::Value = serde_json::from_str(got.ok()).unwrap();
    assert_eq!(v["kind"], "filesystem");
    assert!(v["location"].as_str().unwrap().ends_with("storage/data-1"));
    let loc = m.tool("valkey/1", "storage-get").env("JUJU_STORAGE_ID", "data/1").args(&["location"]).run();
    assert!(loc.ok().trim_end().ends_with("storage/data-1"));
    m.tool("valkey/1", "storage-get")
        .args(&["-s", "data/0"])
        .run()
        .fails(1, "storage instance \"data/0\" not found");
}

#[test]
fn resource_get_prints_the_path_or_juju_error() {
    let m = Model::new();
    m.tool("valkey/0", "resource-get").args(&["valkey-server"]).run().fails(
        1,
        "could not download resource: HTTP request failed: resource#valkey/valkey-server not found",
    );
    m.store
        .update(|s| {
            let app = s.applications.get_mut("valkey").unwrap();
            app.resources.insert("valkey-server".into(), "/models/r/valkey-server".into());
            Ok::<_, juju_local::store::StoreError>(())
        })
        .unwrap();
    assert_eq!(
        m.tool("valkey/0", "resource-get").args(&["valkey-server"]).run().ok(),
        "/models/r/valkey-server\n"
    );
}

#[test]
fn state_and_ports_commit_with_the_hook() {
    let m = Model::new();
    m.tool("valkey/0", "state-set").args(&["started=true", "epoch=2"]).run().ok();
    m.tool("valkey/0", "state-delete").args(&["epoch"]).run().ok();
    m.tool("valkey/0", "open-port").args(&["6379"]).run().ok();
    m.tool("valkey/0", "open-port").args(&["26379/tcp"]).run().ok();
    m.tool("valkey/0", "open-port").args(&["nope"]).run().fails(2, "invalid port or range \"nope\"");
    m.tool("valkey/0", "state-get").args(&["epoch", "--strict"]).run().fails(1, "\"epoch\" not found");
    assert_eq!(m.tool("valkey/0", "state-get").args(&["epoch", "--format=json"]).run().ok(), "\"\"\n");
    assert_eq!(
        m.tool("valkey/0", "state-get").args(&["-", "--format=json"]).run().ok(),
        "{\"started\":\"true\"}\n"
    );
    assert!(m.state().units["valkey/0"].state.is_empty());
    assert!(m.commit("valkey/0", "valkey-0-ctx").is_empty());
    assert_eq!(
        m.tool("valkey/0", "state-get").args(&["--format=json"]).run().ok(),
        "{\"started\":\"true\"}\n"
    );
    assert_eq!(
        m.tool("valkey/0", "opened-ports").args(&["--format=json"]).run().ok(),
        "[\"26379/tcp\",\"6379/tcp\"]\n"
    );
    m.tool("valkey/0", "close-port").args(&["6379/tcp"]).run().ok();
    m.commit("valkey/0", "valkey-0-ctx");
    assert_eq!(m.state().units["valkey/0"].opened_ports.len(), 1);
}

/// Juju's juju-exec (`cmd/jujud/run/run.go`, `RunCommand.Init`/`SetFlags`) refuses to run
/// inside a hook context and has no `--timeout`/`--wait` flags; its socket is root's, so any
/// other caller is refused (in juju-local the model's owner stands for root).
#[test]
fn juju_exec_refuses_hook_contexts_unknown_flags_and_other_users() {
    let m = Model::new();
    m.tool("valkey/0", "juju-exec")
        .args(&["valkey/1", "--", "true"])
        .run()
        .fails(2, "juju-exec cannot be called from within a hook, have context \"valkey-0-ctx\"");
    for flag in ["--timeout=5m", "--wait", "--timeout"] {
        let out =
            m.tool("valkey/0", "juju-exec").unset("JUJU_CONTEXT_ID").args(&[flag, "valkey/1", "true"]).run();
        let name = flag.split('=').next().unwrap();
        out.fails(2, &format!("option provided but not defined: {name}"));
    }
    assert!(m.state().operations.is_empty(), "nothing was queued");
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        println!("skipped: the other-user case needs root to switch uid");
        return;
    }
    // The model dir belongs to root (the owner); a caller that is neither the owner nor root is
    // refused. Run as nobody against this root-owned model, made traversable for the check.
    use std::os::unix::fs::PermissionsExt;
    for dir in [m.store.dir(), m.store.dir().parent().unwrap()] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(m.store.tools_dir().join("juju-exec"))
        .args(["valkey/1", "--", "true"])
        .env_clear()
        .env("JUJU_LOCAL_MODEL_DIR", m.store.dir())
        .output()
        .expect("run setpriv");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.starts_with("setpriv:") {
        println!("skipped: nobody cannot run the tools from this checkout ({stderr})");
        return;
    }
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("ERROR dialing juju exec socket: permission denied"), "{stderr}");
    assert!(m.state().operations.is_empty(), "nothing was queued");
}

#[test]
fn juju_exec_refuses_missing_units_and_relays_a_finished_operation() {
    let m = Model::new();
    // As from a Sentinel client-reconfig-script: no hook environment, the model found by path.
    m.tool("valkey/0", "juju-exec")
        .unset("JUJU_LOCAL_MODEL_DIR")
        .unset("JUJU_UNIT_NAME")
        .unset("JUJU_CONTEXT_ID")
        .args(&["valkey/9", "--", "true"])
        .run()
        .fails(1, "unit \"valkey/9\" not found");
    m.tool("valkey/0", "juju-exec")
        .unset("JUJU_CONTEXT_ID")
        .args(&["valkey/1"])
        .run()
        .fails(2, "missing commands");
    assert!(m.state().operations.is_empty());

    // Play the agent: wait for the queued operation and complete it.
    let store = m.store.clone();
    let agent = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let done = store
                .update(|s| {
                    let Some(id) = s.units["valkey/1"].queue.front().map(|e| match e {
                        juju_local::state::QueuedEvent::Operation { id } => *id,
                        other => panic!("unexpected event {other:?}"),
                    }) else {
                        return Ok::<_, juju_local::store::StoreError>(None);
                    };
                    s.units.get_mut("valkey/1").unwrap().queue.pop_front();
                    let op = s.operations.get_mut(&id).unwrap();
                    op.status = "failed".into();
                    op.stdout = "out\n".into();
                    op.stderr = "err\n".into();
                    op.return_code = Some(3);
                    Ok(Some(op.command.clone()))
                })
                .unwrap();
            if let Some(command) = done {
                return command;
            }
            assert!(Instant::now() < deadline, "juju-exec queued nothing");
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    let out = m
        .tool("valkey/0", "juju-exec")
        .unset("JUJU_UNIT_NAME")
        .unset("JUJU_CONTEXT_ID")
        .args(&["-u", "valkey/1", "--", "env", "JUJU_DISPATCH_PATH=hooks/primary-changed", "./dispatch"])
        .run();
    let command = agent.join().unwrap();
    assert_eq!(command.as_deref(), Some("env JUJU_DISPATCH_PATH=hooks/primary-changed ./dispatch"));
    assert_eq!((out.code, out.stdout.as_str(), out.stderr.as_str()), (3, "out\n", "err\n"));
}

//! Contract tests for the relation tools and the general rules every tool follows (formats,
//! usage vs run-time errors, locating the model), run through the real `jujuc` links.
//! See juju-contract.md §2 and §4.

#[allow(dead_code)] // Shared by several test crates; each uses a subset.
#[path = "fixtures/tools/model.rs"]
mod model;

use model::Model;

#[test]
fn relation_ids_and_list_in_both_formats() {
    let m = Model::new();
    let ids = m.tool("valkey/1", "relation-ids").args(&["valkey-peers", "--format=json"]).run();
    assert_eq!(ids.ok(), "[\"valkey-peers:0\"]\n");
    assert_eq!(m.tool("valkey/1", "relation-ids").args(&["valkey"]).run().ok(), "valkey:1\n");
    assert_eq!(m.tool("valkey/1", "relation-ids").args(&["nothing", "--format", "json"]).run().ok(), "[]\n");
    // Default endpoint: the current relation's.
    let ids = m.tool("valkey/1", "relation-ids").env("JUJU_RELATION_ID", "valkey-peers:0").run();
    assert_eq!(ids.ok(), "valkey-peers:0\n");

    let list = m.tool("valkey/1", "relation-list").args(&["-r", "valkey-peers:0", "--format=json"]).run();
    assert_eq!(list.ok(), "[\"valkey/0\",\"valkey/2\"]\n", "never the unit itself");
    assert_eq!(m.tool("valkey/1", "relation-list").args(&["-r0"]).run().ok(), "valkey/0\nvalkey/2\n");
    let app = m.tool("valkey/1", "relation-list").args(&["-r", "1", "--app"]).run();
    assert_eq!(app.ok(), "client\n");
    let app = m
        .tool("valkey/1", "relation-list")
        .args(&["--app=true", "--format=json", "-r", "valkey-peers:0"])
        .run();
    assert_eq!(app.ok(), "\"valkey\"\n");
}

#[test]
fn usage_errors_exit_2_and_run_time_errors_exit_1() {
    let m = Model::new();
    m.tool("valkey/0", "relation-list").run().fails(2, "no relation id specified");
    m.tool("valkey/0", "relation-list")
        .args(&["-r", "valkey-peers:7"])
        .run()
        .fails(2, "invalid value \"valkey-peers:7\" for option -r: relation not found");
    m.tool("valkey/0", "relation-list")
        .args(&["-r", "x"])
        .run()
        .fails(2, "invalid value \"x\" for option -r: invalid relation id");
    m.tool("valkey/0", "relation-list")
        .args(&["--bogus"])
        .run()
        .fails(2, "option provided but not defined: --bogus");
    m.tool("valkey/0", "relation-list").args(&["-r"]).run().fails(2, "option needs an argument: -r");
    m.tool("valkey/0", "is-leader")
        .args(&["--format=xml"])
        .run()
        .fails(2, "invalid value \"xml\" for option --format: unknown format \"xml\"");
    m.tool("valkey/0", "is-leader").args(&["extra"]).run().fails(2, "unrecognized args: [\"extra\"]");
    m.tool("valkey/0", "relation-get").args(&["-r", "0", "-", "nobody/9"]).run().fails(
        1,
        "cannot read settings for unit \"nobody/9\" in relation \"valkey-peers:0\": unit \"nobody/9\": settings not found",
    );
    // jujuc run under its own name takes the tool as first argument; unknown tools exit 2.
    let jujuc = m.store.dir().join("jujuc");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_jujuc"), &jujuc).unwrap();
    let out = std::process::Command::new(&jujuc).arg("no-such-tool").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "ERROR unknown command: no-such-tool\n");
    m.tool("valkey/0", "leader-get").run().fails(1, "leader-get is not supported by juju-local");
}

#[test]
fn relation_set_is_held_back_until_commit_and_visible_to_its_own_hook() {
    let m = Model::new();
    m.tool("valkey/1", "relation-set")
        .args(&["-r", "valkey-peers:0", "role=replica", "port=6379"])
        .run()
        .ok();
    // The hook itself sees its write...
    let own = m.tool("valkey/1", "relation-get").args(&["-r", "0", "--format=json", "-", "valkey/1"]).run();
    assert_eq!(own.ok(), "{\"port\":\"6379\",\"role\":\"replica\"}\n");
    // ...nobody else does, and the state is untouched.
    let other =
        m.tool("valkey/0", "relation-get").args(&["-r", "0", "role", "valkey/1", "--format=json"]).run();
    assert_eq!(other.ok(), "null\n");
    assert!(!m.state().relations[&0].unit_bags.contains_key("valkey/1"));

    let events = m.commit("valkey/1", "valkey-1-ctx");
    let targets: Vec<&str> = events.iter().map(|(u, _)| u.as_str()).collect();
    assert_eq!(targets, ["valkey/0", "valkey/2"]);
    for (_, event) in &events {
        assert_eq!(event.name, "valkey-peers-relation-changed");
        assert_eq!((event.relation_id, event.remote_unit.as_deref()), (Some(0), Some("valkey/1")));
        assert_eq!(event.remote_app.as_deref(), Some("valkey"));
    }
    // valkey/0 read valkey/1's bag above, so its agent caches it until the -changed starts.
    let (_, to_0) = events.iter().find(|(u, _)| u == "valkey/0").unwrap();
    m.start_hook("valkey/0", to_0);
    // Default unit in a relation hook is the remote unit.
    let got =
        m.tool("valkey/0", "relation-get").relation_hook("valkey-peers:0", "valkey/1").args(&["role"]).run();
    assert_eq!(got.ok(), "replica\n");
    let all =
        m.tool("valkey/2", "relation-get").relation_hook("valkey-peers:0", "valkey/1").args(&["-"]).run();
    assert_eq!(all.ok(), "port: '6379'\nrole: replica\n");

    // `key=` deletes; an unchanged value fires nothing.
    m.tool("valkey/1", "relation-set").args(&["-r", "0", "role=", "port=6379"]).run().ok();
    let events = m.commit("valkey/1", "valkey-1-ctx");
    assert_eq!(events.len(), 2, "role really changed");
    assert_eq!(m.state().relations[&0].unit_bags["valkey/1"].get("role"), None);
    m.tool("valkey/1", "relation-set").args(&["-r", "0", "port=6379"]).run().ok();
    assert!(m.commit("valkey/1", "valkey-1-ctx").is_empty());
}

#[test]
fn dropped_hook_changes_never_reach_the_model() {
    let m = Model::new();
    m.tool("valkey/2", "relation-set").args(&["-r", "0", "k=v"]).run().ok();
    m.tool("valkey/2", "state-set").args(&["a=1"]).run().ok();
    m.tool("valkey/2", "open-port").args(&["6379/tcp"]).run().ok();
    assert_eq!(m.tool("valkey/2", "opened-ports").run().ok(), "6379/tcp\n");
    assert_eq!(m.tool("valkey/2", "state-get").args(&["a"]).run().ok(), "1\n");
    // The hook failed: the agent deletes the pending file.
    std::fs::remove_file(m.store.pending_path("valkey-2-ctx")).unwrap();
    assert_eq!(m.tool("valkey/2", "opened-ports").run().ok(), "");
    assert_eq!(m.tool("valkey/2", "state-get").args(&["--format=json"]).run().ok(), "null\n");
    let got = m.tool("valkey/2", "relation-get").args(&["-r", "0", "k", "valkey/2", "--format=json"]).run();
    assert_eq!(got.ok(), "null\n");
    let state = m.state();
    assert!(state.units["valkey/2"].state.is_empty() && state.units["valkey/2"].opened_ports.is_empty());
}

#[test]
fn app_bag_is_written_by_the_leader_only_and_read_by_every_peer() {
    let m = Model::new();
    let denied = m.tool("valkey/1", "relation-set").args(&["-r", "0", "--app", "primary=valkey/1"]).run();
    denied.fails(1, "cannot write relation settings");
    assert!(m.pending("valkey/1", "valkey-1-ctx").app_bags.is_empty());

    m.tool("valkey/0", "relation-set")
        .args(&["--app", "-r", "valkey-peers:0", "--file", "-"])
        .stdin("primary: valkey/0\nepoch: 3\n")
        .run()
        .ok();
    let events = m.commit("valkey/0", "valkey-0-ctx");
    let targets: Vec<&str> = events.iter().map(|(u, _)| u.as_str()).collect();
    // The writing leader too: on a peer relation every unit watches its own application's bag
    // (juju internal/worker/uniter/relation/resolver.go, nextHookForRelation).
    assert_eq!(targets, ["valkey/0", "valkey/1", "valkey/2"]);
    assert!(events.iter().all(|(_, e)| e.remote_unit.is_none() && e.remote_app.as_deref() == Some("valkey")));

    let read =
        m.tool("valkey/2", "relation-get").args(&["-r", "0", "--app", "--format=json", "-", "valkey"]).run();
    assert_eq!(read.ok(), "{\"epoch\":\"3\",\"primary\":\"valkey/0\"}\n");
    // In a relation hook --app defaults to the remote application.
    let read = m
        .tool("valkey/1", "relation-get")
        .relation_hook("valkey-peers:0", "valkey/0")
        .args(&["--app", "epoch"])
        .run();
    assert_eq!(read.ok(), "3\n");
    // An app-data -changed hook has no remote unit: relation-get defaults to the remote app's bag.
    let read = m
        .tool("valkey/2", "relation-get")
        .env("JUJU_RELATION_ID", "valkey-peers:0")
        .env("JUJU_REMOTE_APP", "valkey")
        .args(&["primary"])
        .run();
    assert_eq!(read.ok(), "valkey/0\n");
    m.tool("valkey/2", "relation-get").args(&["-r", "0"]).run().fails(2, "no unit or application specified");
    // Outside a peer relation a non-leader cannot read its own application's bag.
    m.tool("valkey/1", "relation-get")
        .args(&["-r", "1", "--app", "-", "valkey"])
        .run()
        .fails(1, "permission denied");
    m.tool("client/0", "relation-get").args(&["-r", "1", "--app", "-", "valkey"]).run().ok();
}

#[test]
fn relation_set_file_accepts_json_and_rejects_bad_arguments() {
    let m = Model::new();
    m.tool("valkey/0", "relation-set")
        .args(&["-r", "0", "--file", "-", "b=override"])
        .stdin("{\"a\": \"1\", \"b\": \"2\"}")
        .run()
        .ok();
    let got = m.tool("valkey/0", "relation-get").args(&["-r", "0", "--format=json", "-", "valkey/0"]).run();
    assert_eq!(got.ok(), "{\"a\":\"1\",\"b\":\"override\"}\n");
    m.tool("valkey/0", "relation-set")
        .args(&["-r", "0", "novalue"])
        .run()
        .fails(2, "expected \"key=value\", got \"novalue\"");
    m.tool("valkey/0", "relation-set")
        .args(&["-r", "0", "a=1", "a=2"])
        .run()
        .fails(2, "key \"a\" specified more than once");
    m.tool("valkey/0", "relation-set")
        .args(&["-r", "0", "--file", "-"])
        .stdin("- a\n- b\n")
        .run()
        .fails(1, "cannot parse settings file: expected a map of settings");
}

#[test]
fn model_dir_is_found_from_the_link_path_without_the_env_var() {
    let m = Model::new();
    let out = m.tool("valkey/0", "is-leader").unset("JUJU_LOCAL_MODEL_DIR").args(&["--format=json"]).run();
    assert_eq!(out.ok(), "true\n");
    assert_eq!(m.tool("valkey/1", "is-leader").run().ok(), "False\n");
}

#[test]
fn concurrent_tools_of_one_hook_lose_no_held_back_write() {
    let m = Model::new();
    let runs: Vec<_> = (0..8)
        .map(|i| {
            let call = m.tool("valkey/1", "relation-set").args(&["-r", "0", &format!("k{i}=v{i}")]);
            std::thread::spawn(move || call.run())
        })
        .collect();
    for run in runs {
        run.join().unwrap().ok();
    }
    let bag = &m.pending("valkey/1", "valkey-1-ctx").unit_bags[&0];
    assert_eq!(bag.len(), 8, "{bag:?}");
}

#[test]
fn output_flag_writes_the_result_to_a_file() {
    let m = Model::new();
    let path = m.store.dir().join("out.json");
    let out = m
        .tool("valkey/0", "relation-ids")
        .args(&["valkey-peers", "--format=json", "-o", path.to_str().unwrap()])
        .run();
    assert_eq!(out.ok(), "");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "[\"valkey-peers:0\"]\n");
}

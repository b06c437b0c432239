//! Hook resource accounting: every finished hook, action and exec command leaves one line in
//! `<model>/hook-timings.jsonl`, and `hook-timings` prints and filters them.

mod common;

use common::{eventually, TestModel};
use juju_local::agent::timings::{self, HookTiming};
use std::time::Duration;

fn json_records(m: &TestModel, args: &[&str]) -> Vec<HookTiming> {
    let mut full = vec!["hook-timings", "--format", "json"];
    full.extend_from_slice(args);
    serde_json::from_str(&m.ok(&full)).expect("hook-timings prints a JSON array")
}

#[test]
fn every_finished_event_is_recorded_with_plausible_values() {
    let m = TestModel::deployed("timings", 2);
    m.ok(&["run", "test-charm/0", "echo", "text=hi"]);
    let _ = m.juju(&["exec", "--unit", "test-charm/1", "--", "exit 3"]);
    let records = eventually(Duration::from_secs(10), "exec recorded", || {
        let r = timings::read(&m.dir());
        r.iter().any(|t| t.kind == "exec").then_some(r)
    });
    for unit in ["test-charm/0", "test-charm/1"] {
        let hooks: Vec<&str> =
            records.iter().filter(|r| r.unit == unit && r.kind == "hook").map(|r| r.event.as_str()).collect();
        for hook in ["data-storage-attached", "install", "config-changed", "start"] {
            assert!(hooks.contains(&hook), "{unit} has no {hook} record: {hooks:?}");
        }
    }
    for r in &records {
        assert!(r.wall_ms > 0.0 && r.wall_ms < 60_000.0, "implausible wall time {r:?}");
        // A shell running a hook needs some hundreds of KiB at least, and far less than 1 GiB.
        assert!(r.max_rss_kib > 100 && r.max_rss_kib < 1 << 20, "implausible peak memory {r:?}");
        assert!(r.at > 1.6e9, "implausible time {r:?}");
    }
    let action = records.iter().find(|r| r.kind == "action").expect("action recorded");
    assert_eq!((action.unit.as_str(), action.event.as_str(), action.rc), ("test-charm/0", "echo", Some(0)));
    let exec = records.iter().find(|r| r.kind == "exec").expect("exec recorded");
    assert_eq!((exec.unit.as_str(), exec.event.as_str(), exec.rc), ("test-charm/1", "exec", Some(3)));

    let installs = json_records(&m, &["--event", "install"]);
    assert_eq!(installs.len(), 2, "{installs:?}");
    assert!(installs.iter().all(|r| r.event == "install" && r.rc == Some(0)));
    let unit0 = json_records(&m, &["--unit", "test-charm/0"]);
    assert!(!unit0.is_empty() && unit0.iter().all(|r| r.unit == "test-charm/0"));
    let table = m.ok(&["hook-timings", "--unit", "test-charm/1", "--event", "exec"]);
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(rows.len(), 2, "{table}");
    assert!(rows[1].starts_with("test-charm/1") && rows[1].trim_end().ends_with('3'), "{table}");
}

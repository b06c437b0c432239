//! Tests of the snapshot layer against the fake hook tools: what an update-status asks, that a
//! replayed view plans like a fresh one, fallbacks, mirrored writes and the password file.

use super::*;
use crate::charm;
use crate::juju::fake::FakeHookTools;
use crate::peers;
use crate::plan;
use crate::secrets::{self, SECRET_LABEL};
use std::os::unix::fs::PermissionsExt;

/// A unit directory: charm dir plus a `data` storage with its directories (`Paths::create_dirs`).
struct Unit {
    /// Keeps the directories alive for the test.
    _dir: tempfile::TempDir,
    /// The hook context (update-status).
    ctx: Context,
    /// The storage root.
    storage: PathBuf,
}

fn unit() -> Unit {
    let dir = tempfile::tempdir().unwrap();
    let storage = dir.path().join("data");
    crate::workload::Paths::new(storage.clone()).create_dirs().unwrap();
    let charm_dir = dir.path().join("charm");
    std::fs::create_dir_all(&charm_dir).unwrap();
    let charm = charm_dir.to_string_lossy().to_string();
    let ctx = Context::from_env(move |k| match k {
        "JUJU_UNIT_NAME" => Some("valkey/0".to_string()),
        "JUJU_CHARM_DIR" => Some(charm.clone()),
        "JUJU_MODEL_NAME" | "JUJU_MODEL_UUID" => Some("m".to_string()),
        "JUJU_DISPATCH_PATH" => Some("hooks/update-status".to_string()),
        _ => None,
    })
    .unwrap();
    Unit { _dir: dir, ctx, storage }
}

fn bag(kv: &[(&str, &str)]) -> Bag {
    kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// The leader of three units; nobody started yet, so observing contacts no server.
fn tools(u: &Unit, creds: &crate::workload::Credentials) -> FakeHookTools {
    FakeHookTools::new("valkey/0")
        .leader(true)
        .own_bag(bag(&[(peers::HOST, "127.255.0.1"), (peers::START_REQUESTED, "3")]))
        .peer("valkey/1", bag(&[(peers::HOST, "127.255.0.2"), (peers::START_REQUESTED, "4")]))
        .peer("valkey/2", bag(&[(peers::HOST, "127.255.0.3")]))
        .app_bag(bag(&[(peers::SECRET_ID, "secret:pw")]))
        .secret("secret:pw", SECRET_LABEL, secrets::to_bag(creds))
        .config("down-after-milliseconds", serde_json::json!(4000))
        .storage(&u.storage)
}

/// Observes and plans through `t`, with the clock pinned so two passes compare.
fn observe_and_plan(ctx: &Context, t: &dyn HookTools) -> (String, plan::Plan) {
    let mut loaded = charm::load(ctx, t).unwrap();
    loaded.observed.now = 1_000;
    (format!("{:?}", loaded.observed), plan::plan(&loaded.observed))
}

/// Runs one recording pass (what any non-update-status hook does) and saves the snapshot.
fn record_pass(u: &Unit, t: &FakeHookTools) -> (String, plan::Plan) {
    let rec = open(&u.ctx, false, t);
    assert!(!rec.replaying());
    let seen = observe_and_plan(&u.ctx, &rec);
    rec.status_set(StatusKind::Waiting, "waiting for the start lock", false).unwrap();
    rec.status_set(StatusKind::Waiting, "starting 0/3", true).unwrap();
    rec.finish(&u.ctx, true);
    seen
}

fn new_calls(t: &FakeHookTools, from: usize) -> Vec<String> {
    t.calls()[from..].to_vec()
}

#[test]
fn update_status_with_a_snapshot_asks_only_is_leader_and_plans_the_same() {
    let u = unit();
    let creds = secrets::generate();
    let t = tools(&u, &creds);
    let fresh = record_pass(&u, &t);
    assert!(fresh.1.steps.contains(&plan::Step::Install), "the fixture plans something: {:?}", fresh.1);

    let before = t.calls().len();
    let replay = open(&u.ctx, true, &t);
    assert!(replay.replaying());
    let replayed = observe_and_plan(&u.ctx, &replay);
    assert_eq!(replayed, fresh, "same observation and plan from the snapshot");
    // Unchanged statuses are not set again; a changed one is.
    replay.status_set(StatusKind::Waiting, "waiting for the start lock", false).unwrap();
    replay.status_set(StatusKind::Waiting, "starting 0/3", true).unwrap();
    assert_eq!(new_calls(&t, before), ["is-leader"]);
    assert_eq!(replay.skipped_status_sets(), 2);
    replay.status_set(StatusKind::Active, "primary", false).unwrap();
    assert_eq!(new_calls(&t, before), ["is-leader", "status-set"]);
    replay.finish(&u.ctx, true);

    // The changed status was remembered: the next update-status skips it.
    let before = t.calls().len();
    let again = open(&u.ctx, true, &t);
    again.status_set(StatusKind::Active, "primary", false).unwrap();
    assert_eq!(new_calls(&t, before), ["is-leader"]);
}

#[test]
fn other_events_always_read_fresh_and_set_status() {
    let u = unit();
    let t = tools(&u, &secrets::generate());
    record_pass(&u, &t);
    let before = t.calls().len();
    record_pass(&u, &t);
    let calls = new_calls(&t, before);
    for tool in ["is-leader", "relation-ids", "relation-list", "relation-get", "config-get", "network-get"] {
        assert!(calls.iter().any(|c| c == tool), "{tool} not asked: {calls:?}");
    }
    assert_eq!(calls.iter().filter(|c| *c == "status-set").count(), 2, "{calls:?}");
}

#[test]
fn changes_seen_by_a_fresh_hook_reach_the_next_update_status() {
    let u = unit();
    let t = tools(&u, &secrets::generate());
    record_pass(&u, &t);
    t.set_peer("valkey/3", bag(&[(peers::HOST, "127.255.0.4")]));
    record_pass(&u, &t); // relation-joined
    let replay = open(&u.ctx, true, &t);
    let facts = crate::observe::read_juju(&replay, &u.ctx).unwrap();
    let names: Vec<_> = facts.peers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["valkey/1", "valkey/2", "valkey/3"]);
}

#[test]
fn corrupt_foreign_or_missing_snapshots_fall_back_to_a_fresh_read() {
    let u = unit();
    let t = tools(&u, &secrets::generate());
    record_pass(&u, &t);
    let path = path_in(&u.storage);
    let good = std::fs::read_to_string(&path).unwrap();

    let fresh_read_happens = |what: &str| {
        let before = t.calls().len();
        let opened = open(&u.ctx, true, &t);
        assert!(!opened.replaying(), "{what}: replayed");
        crate::observe::read_juju(&opened, &u.ctx).unwrap();
        let calls = new_calls(&t, before);
        assert!(calls.iter().any(|c| c == "relation-get"), "{what}: {calls:?}");
        assert_eq!(calls.iter().filter(|c| *c == "is-leader").count(), 1, "{what}: {calls:?}");
    };
    std::fs::write(&path, "{not json").unwrap();
    fresh_read_happens("corrupt");
    std::fs::write(&path, good.replace(&build_id(), "0.0.0:1:2")).unwrap();
    fresh_read_happens("other build");
    std::fs::write(&path, good.replace("\"format\":1", "\"format\":999")).unwrap();
    fresh_read_happens("other format");
    std::fs::write(&path, good.replace("\"unit\":\"valkey/0\"", "\"unit\":\"valkey/9\"")).unwrap();
    fresh_read_happens("other unit");
    std::fs::write(&path, &good).unwrap();
    t.set_leader(false);
    fresh_read_happens("leadership moved");
    std::fs::remove_file(&path).unwrap();
    fresh_read_happens("missing");
}

#[test]
fn own_writes_are_mirrored_and_a_failed_hook_drops_the_snapshot() {
    let u = unit();
    let t = tools(&u, &secrets::generate());
    record_pass(&u, &t);
    let rec = open(&u.ctx, false, &t);
    crate::observe::read_juju(&rec, &u.ctx).unwrap();
    let rid = "valkey-peers:0";
    let set = |k: &str, v: &str| BTreeMap::from([(k.to_string(), Some(v.to_string()))]);
    rec.relation_set(rid, true, &set(peers::START_LOCK, "valkey/0")).unwrap();
    rec.relation_set(rid, false, &set(peers::STARTED, "true")).unwrap();
    rec.finish(&u.ctx, true);
    let replay = open(&u.ctx, true, &t);
    let facts = crate::observe::read_juju(&replay, &u.ctx).unwrap();
    assert_eq!(facts.app.start_lock.as_deref(), Some("valkey/0"));
    assert!(facts.me.started);

    // A secret created or changed in a hook is asked again next time, not replayed.
    let rotating = open(&u.ctx, false, &t);
    crate::observe::read_juju(&rotating, &u.ctx).unwrap();
    rotating.secret_get(&SecretRef::Label(SECRET_LABEL.into()), false).unwrap();
    assert!(!rotating.snapshot().secrets.is_empty());
    rotating.secret_set("secret:pw", &secrets::to_bag(&secrets::generate())).unwrap();
    assert!(rotating.snapshot().secrets.is_empty());

    let failing = open(&u.ctx, false, &t);
    crate::observe::read_juju(&failing, &u.ctx).unwrap();
    failing.finish(&u.ctx, false);
    assert!(!path_in(&u.storage).exists(), "a failed hook leaves no snapshot");
}

#[test]
fn the_passwords_stay_in_the_0600_snapshot() {
    let u = unit();
    let creds = secrets::generate();
    let t = tools(&u, &creds);
    record_pass(&u, &t);
    let replay = open(&u.ctx, true, &t);
    observe_and_plan(&u.ctx, &replay);
    replay.finish(&u.ctx, true);

    let path = path_in(&u.storage);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(&creds.admin), "the snapshot serves secret-get");
    let snap = Snapshot::load(&path, "valkey/0").unwrap();
    assert!(!format!("{snap:?}").contains(&creds.admin), "Debug redacts");
    let elsewhere = format!("{:?} {:?} {:?}", t.logs(), t.statuses(), t.relation_writes());
    for pw in [&creds.admin, &creds.replication, &creds.sentinel] {
        assert!(!elsewhere.contains(pw.as_str()));
    }
    for entry in std::fs::read_dir(path.parent().unwrap()).unwrap() {
        let p = entry.unwrap().path();
        assert!(
            p == path || !std::fs::read_to_string(&p).unwrap_or_default().contains(&creds.admin),
            "{p:?}"
        );
    }
}

#[test]
fn replay_needs_a_young_snapshot_and_the_cache_option_on() {
    let now = 1_800_000_000;
    let at = |recorded_at: u64, option: Option<serde_json::Value>| {
        let mut snap = Snapshot { recorded_at, ..Default::default() };
        if let Some(v) = option {
            snap.config = Some(Map::from_iter([(CACHE_OPTION.to_string(), v)]));
        }
        replayable(&snap, now)
    };
    use serde_json::json;
    assert!(at(now, None), "just recorded, option unset (older config): on");
    assert!(at(now - REFRESH_AFTER + 1, Some(json!(true))));
    assert!(!at(now - REFRESH_AFTER, None), "as old as the bound: refreshed");
    assert!(!at(0, None), "a file from before recorded_at: refreshed once");
    assert!(!at(now + 5, None), "the clock went backwards: refreshed");
    assert!(!at(now, Some(json!(false))), "the operator turned it off");
    assert!(!at(now, Some(json!("false"))));
    assert!(at(now, Some(json!("true"))));
}

/// Rewrites the saved snapshot's `recorded_at` (as if it had been recorded that long ago).
fn age_snapshot(u: &Unit, secs: u64) {
    let path = path_in(&u.storage);
    let mut snap: Snapshot = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    snap.recorded_at -= secs;
    snap.save(&path).unwrap();
}

#[test]
fn an_old_snapshot_is_refreshed_by_the_next_update_status() {
    let u = unit();
    let t = tools(&u, &secrets::generate());
    record_pass(&u, &t);
    // A peer joined and Juju's hook for it never ran here: within the bound, the replay does not
    // see it ...
    t.set_peer("valkey/3", bag(&[(peers::HOST, "127.255.0.4")]));
    age_snapshot(&u, REFRESH_AFTER - 60);
    let replay = open(&u.ctx, true, &t);
    assert!(replay.replaying());
    assert_eq!(crate::observe::read_juju(&replay, &u.ctx).unwrap().peers.len(), 2);
    replay.finish(&u.ctx, true);
    // ... past it, the update-status reads everything fresh and records anew,
    age_snapshot(&u, 61);
    let before = t.calls().len();
    let refresh = open(&u.ctx, true, &t);
    assert!(!refresh.replaying());
    assert_eq!(crate::observe::read_juju(&refresh, &u.ctx).unwrap().peers.len(), 3);
    assert!(new_calls(&t, before).iter().any(|c| c == "relation-list"));
    refresh.finish(&u.ctx, true);
    // so the one after replays again, with the new peer.
    let before = t.calls().len();
    let replay = open(&u.ctx, true, &t);
    assert!(replay.replaying());
    assert_eq!(crate::observe::read_juju(&replay, &u.ctx).unwrap().peers.len(), 3);
    assert_eq!(new_calls(&t, before), ["is-leader"]);
}

#[test]
fn the_cache_option_off_makes_every_update_status_read_fresh() {
    let u = unit();
    let t = tools(&u, &secrets::generate());
    let t = t.config(CACHE_OPTION, serde_json::json!(false));
    record_pass(&u, &t); // config-changed
    for _ in 0..2 {
        let before = t.calls().len();
        let opened = open(&u.ctx, true, &t);
        assert!(!opened.replaying());
        crate::observe::read_juju(&opened, &u.ctx).unwrap();
        opened.finish(&u.ctx, true);
        let calls = new_calls(&t, before);
        assert!(
            calls.iter().any(|c| c == "relation-get") && calls.iter().any(|c| c == "config-get"),
            "{calls:?}"
        );
    }
    // Back on: the next config-changed records it, and update-status replays again.
    t.set_config(CACHE_OPTION, serde_json::json!(true));
    record_pass(&u, &t);
    assert!(open(&u.ctx, true, &t).replaying());
}

/// The reconcile loop's second pass in one hook reads Juju through the same snapshot: it gets the
/// first pass's answers without asking again, with the hook's own writes — as Juju's hook context
/// shows a unit its pending relation settings — and the passwords a leader just created.
#[test]
fn a_second_pass_in_one_hook_sees_the_first_passes_answers_and_writes() {
    use crate::juju::fake::FAKE_RELATION_ID;
    let u = unit();
    let t = FakeHookTools::new("valkey/0")
        .leader(true)
        .own_bag(bag(&[(peers::HOST, "127.255.0.1")]))
        .app_bag(bag(&[]))
        .storage(&u.storage);
    let hook = open(&u.ctx, false, &t);
    let first = crate::observe::read_juju(&hook, &u.ctx).unwrap();
    assert!(!first.me.started);
    let created = secrets::ensure(&hook, true, FAKE_RELATION_ID, &first.app).unwrap().expect("created");
    let started = [(peers::STARTED.to_string(), Some("true".to_string()))].into();
    hook.relation_set(FAKE_RELATION_ID, false, &started).unwrap();

    let before = t.calls().len();
    let second = crate::observe::read_juju(&hook, &u.ctx).unwrap();
    assert!(second.me.started, "its own write is seen");
    assert!(second.app.secret_id.is_some(), "the secret's URI the leader published is seen");
    let again = secrets::ensure(&hook, true, FAKE_RELATION_ID, &second.app).unwrap();
    assert_eq!(again, Some(created), "the passwords it created are read back, no second secret");
    assert_eq!(t.secrets().len(), 1);
    let asked = new_calls(&t, before);
    assert!(asked.iter().all(|c| c != "relation-get" && c != "secret-get"), "asked again: {asked:?}");
}

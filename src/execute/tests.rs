//! Execution against fakes: the hook-tool writes and Valkey/Sentinel commands each step issues.

use super::*;
use crate::juju::fake::FakeHookTools;
use crate::observe::applied_path;
use crate::plan::{runtime_settings, RuntimeSettings};
use crate::valkey::{
    DataNode, KnownReplica, KnownSentinel, MonitoredPrimary, QuorumCheck, ReplicationInfo, SentinelNode,
};
use std::cell::RefCell;
use std::rc::Rc;

/// Records every command sent to any node, by `host:port`.
#[derive(Default, Clone)]
struct Recorder {
    log: Rc<RefCell<Vec<String>>>,
    /// The peers every Sentinel lists (`SENTINEL SENTINELS`).
    known: Rc<RefCell<Vec<KnownSentinel>>>,
}

struct Node {
    at: Endpoint,
    rec: Recorder,
}

impl Node {
    fn note(&self, what: String) -> Result<(), ValkeyError> {
        self.rec.log.borrow_mut().push(format!("{} {what}", self.at));
        Ok(())
    }
}

impl DataNode for Node {
    fn ping(&mut self) -> Result<(), ValkeyError> {
        Ok(())
    }
    fn replication(&mut self) -> Result<ReplicationInfo, ValkeyError> {
        Ok(crate::observe::fixture::replica_info(0, 10, true))
    }
    fn version(&mut self) -> Result<String, ValkeyError> {
        Ok("9.1.2".into())
    }
    fn config_set(&mut self, key: &str, value: &str) -> Result<(), ValkeyError> {
        self.note(format!("CONFIG SET {key} {value}"))
    }
    fn config_get(&mut self, _: &str) -> Result<Option<String>, ValkeyError> {
        Ok(None)
    }
    fn config_rewrite(&mut self) -> Result<(), ValkeyError> {
        self.note("CONFIG REWRITE".into())
    }
    fn replicaof(&mut self, primary: Option<&Endpoint>) -> Result<(), ValkeyError> {
        match primary {
            Some(p) => self.note(format!("REPLICAOF {p}")),
            None => self.note("REPLICAOF NO ONE".into()),
        }
    }
    fn pause_writes(&mut self, _: Duration) -> Result<(), ValkeyError> {
        self.note("CLIENT PAUSE".into())
    }
    fn unpause(&mut self) -> Result<(), ValkeyError> {
        self.note("CLIENT UNPAUSE".into())
    }
    fn wait_replicas(&mut self, _: u32, _: Duration) -> Result<u32, ValkeyError> {
        Ok(0)
    }
}

impl SentinelNode for Node {
    fn ping(&mut self) -> Result<(), ValkeyError> {
        Ok(())
    }
    fn primary(&mut self, _: &str) -> Result<Option<MonitoredPrimary>, ValkeyError> {
        Ok(Some(MonitoredPrimary { num_other_sentinels: 2, num_slaves: 2, ..Default::default() }))
    }
    fn replicas(&mut self, _: &str) -> Result<Vec<KnownReplica>, ValkeyError> {
        Ok(vec![])
    }
    fn sentinels(&mut self, _: &str) -> Result<Vec<KnownSentinel>, ValkeyError> {
        Ok(self.rec.known.borrow().clone())
    }
    fn primary_addr(&mut self, _: &str) -> Result<Option<Endpoint>, ValkeyError> {
        Ok(None)
    }
    fn ckquorum(&mut self, _: &str) -> Result<QuorumCheck, ValkeyError> {
        Ok(QuorumCheck { ok: true, message: "OK".into() })
    }
    fn set(&mut self, name: &str, key: &str, value: &str) -> Result<(), ValkeyError> {
        self.note(format!("SENTINEL SET {name} {key} {value}"))
    }
    fn reset(&mut self, name: &str) -> Result<(), ValkeyError> {
        self.note(format!("SENTINEL RESET {name}"))
    }
    fn failover(&mut self, name: &str, _: bool) -> Result<(), ValkeyError> {
        self.note(format!("SENTINEL FAILOVER {name}"))
    }
}

impl Connector for Recorder {
    fn data(&self, endpoint: &Endpoint) -> Result<Box<dyn DataNode>, ValkeyError> {
        Ok(Box::new(Node { at: endpoint.clone(), rec: self.clone() }))
    }
    fn sentinel(&self, endpoint: &Endpoint) -> Result<Box<dyn SentinelNode>, ValkeyError> {
        Ok(Box::new(Node { at: endpoint.clone(), rec: self.clone() }))
    }
}

pub(super) fn ctx(dir: &std::path::Path) -> Context {
    let dir = dir.to_string_lossy().to_string();
    Context::from_env(move |k| match k {
        "JUJU_UNIT_NAME" => Some("valkey/0".to_string()),
        "JUJU_CHARM_DIR" => Some(dir.clone()),
        "JUJU_MODEL_NAME" | "JUJU_MODEL_UUID" => Some("m".to_string()),
        _ => None,
    })
    .unwrap()
}

/// A unit to execute steps on: `valkey/0`'s context and its workload paths (`data/`, created) in a
/// temporary directory, fake hook tools, and a connector and a supervisor that record what they
/// are asked.
struct Rig {
    dir: tempfile::TempDir,
    ctx: Context,
    tools: FakeHookTools,
    rec: Recorder,
    sup: RecordingSupervisor,
    paths: Paths,
    /// A whole hook's budget.
    deadline: Deadline,
}

impl Rig {
    /// The unit, with `tools` as its hook tools.
    fn new(tools: FakeHookTools) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path().join("data"));
        paths.create_dirs().unwrap();
        Rig {
            ctx: ctx(dir.path()),
            dir,
            tools,
            rec: Recorder::default(),
            sup: RecordingSupervisor::default(),
            paths,
            deadline: Deadline::for_hook(),
        }
    }

    /// The effects of a unit with storage and the binary: the supervisor and the paths.
    fn with_workload(&self) -> Effects<'_> {
        Effects { supervisor: Some(&self.sup), paths: Some(&self.paths), ..self.without_workload() }
    }

    /// The effects of a unit before storage and the binary: no supervisor, no paths.
    fn without_workload(&self) -> Effects<'_> {
        Effects {
            ctx: &self.ctx,
            tools: &self.tools,
            connector: &self.rec,
            supervisor: None,
            paths: None,
            deadline: &self.deadline,
        }
    }
}

#[test]
fn protocol_steps_write_the_peer_bags() {
    let rig = Rig::new(FakeHookTools::new("valkey/0").leader(true));
    let Rig { tools, .. } = &rig;
    let e = rig.without_workload();
    let o = Observed::test(0).leader();
    let steps = [
        Step::PublishHost("valkey-0.test".into()),
        Step::RequestStart,
        Step::GrantLock("valkey/1".into()),
        Step::MarkBootstrapped,
    ];
    assert_eq!(execute(&e, &o, &steps).unwrap(), Outcome::default());
    let own = tools.own_bag_now();
    assert_eq!(own.get(peers::HOST).map(String::as_str), Some("valkey-0.test"));
    assert_eq!(own.get(peers::START_REQUESTED).map(String::as_str), Some("1000"));
    let app = tools.app_bag_now();
    assert_eq!(app.get(peers::START_LOCK).map(String::as_str), Some("valkey/1"));
    assert_eq!(app.get(peers::START_LOCK_SINCE).map(String::as_str), Some("1000"));
    assert_eq!(app.get(peers::BOOTSTRAPPED).map(String::as_str), Some("true"));

    execute(&e, &o, &[Step::ReleaseLock]).unwrap();
    let app = tools.app_bag_now();
    assert!(!app.contains_key(peers::START_LOCK) && !app.contains_key(peers::START_LOCK_SINCE));
}

#[test]
fn settings_go_to_the_local_valkey_and_sentinel_and_are_remembered() {
    let rig = Rig::new(FakeHookTools::new("valkey/0"));
    let Rig { rec, paths, .. } = &rig;
    let e = rig.with_workload();
    let o = Observed::test(0);
    let settings = runtime_settings(o.config.as_ref().unwrap(), 1).unwrap();
    // A client user the client pass persisted (crate::client::carry).
    let client_user = "user relation-4-0123456789abcdef on #ab ~a:* resetchannels &a:* -@all +get";
    std::fs::write(paths.valkey_conf(), format!("port 6379\n{client_user}\n")).unwrap();
    let apply = |o: &Observed| Step::ApplySettings {
        settings: settings.clone(),
        priority: crate::plan::fence_lifted(o),
    };
    execute(&e, &o, &[apply(&o)]).unwrap();
    let log = rec.log.borrow().clone();
    assert!(
        log.contains(&"valkey-0.test:6379 CONFIG SET maxmemory-policy noeviction".to_string()),
        "{log:?}"
    );
    assert!(
        log.contains(&"valkey-0.test:26379 SENTINEL SET primary down-after-milliseconds 5000".to_string())
    );
    // Not known to be an admitted replica: replica-priority stays with the start-up fence.
    assert!(!log.iter().any(|l| l.contains("replica-priority")), "{log:?}");
    assert_eq!(log.len(), settings.valkey.len() - 1 + settings.sentinel.len());
    // An admitted replica (its link came up, the fence was lifted) takes the configured value.
    let mut admitted = o.clone();
    admitted.local.replication = Some(crate::observe::fixture::replica_info(1, 10, true));
    rec.log.borrow_mut().clear();
    execute(&e, &admitted, &[apply(&admitted)]).unwrap();
    assert!(rec.log.borrow().contains(&"valkey-0.test:6379 CONFIG SET replica-priority 100".to_string()));
    let remembered: RuntimeSettings =
        serde_json::from_str(&std::fs::read_to_string(applied_path(paths)).unwrap()).unwrap();
    assert_eq!(remembered, settings);
    let conf = std::fs::read_to_string(paths.valkey_conf()).unwrap();
    assert!(conf.contains("replicaof valkey-0.test 6379"), "keeps the current replication source");
    assert!(!conf.contains(&o.credentials.as_ref().unwrap().admin), "only hashes in valkey.conf");
    assert!(conf.contains(&format!("\n{client_user}\n")), "the re-render keeps the client users: {conf}");
}

#[test]
fn quorum_and_reset_go_to_the_named_sentinel() {
    let rig = Rig::new(FakeHookTools::new("valkey/0").leader(true));
    let Rig { tools, rec, .. } = &rig;
    let e = rig.without_workload();
    let steps = [
        Step::ResetSentinel {
            unit: "valkey/2".into(),
            host: "h2".into(),
            expected_peers: 2,
            expected_replicas: 2,
        },
        Step::SetQuorum { unit: "valkey/2".into(), host: "h2".into(), quorum: 2 },
        Step::AnnounceUpkeep(4),
    ];
    let out = execute(&e, &Observed::test(0).leader(), &steps).unwrap();
    // The others learn of it through the app bag (their -relation-changed reconciles).
    assert_eq!(tools.app_bag_now().get(peers::SENTINEL_UPKEEP).map(String::as_str), Some("4"));
    assert_eq!(out.notes, Vec::<String>::new(), "the reset Sentinel saw its peers again");
    assert_eq!(
        rec.log.borrow().clone(),
        vec![
            "h2:26379 SENTINEL RESET primary".to_string(),
            "h2:26379 SENTINEL SET primary quorum 2".to_string()
        ]
    );
}

#[test]
fn retiring_leaves_a_marker() {
    let rig = Rig::new(FakeHookTools::new("valkey/0"));
    let Rig { dir, tools, .. } = &rig;
    let e = rig.without_workload();
    let mut o = Observed::test(0);
    o.me.started = true;
    execute(&e, &o, &[Step::MarkRetired]).unwrap();
    assert!(retired_marker(dir.path()).exists());
    assert!(!tools.own_bag_now().contains_key(peers::STARTED));
    // Without a supervisor nothing was ever started here: nothing to stop, no error.
    execute(&e, &o, &[Step::StopServices]).unwrap();
    // A step planned without what the plan's guards promise is a plan bug, and says so.
    let err = execute(&e, &o, &[Step::EnsureServices]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "plan bug: ensure-services was planned without storage, binary, address and passwords"
    );
}

/// A supervisor that records what it is asked.
#[derive(Default)]
pub(super) struct RecordingSupervisor(pub(super) RefCell<Vec<String>>);

impl Supervisor for RecordingSupervisor {
    fn start(&self, svc: Service) -> Result<(), WorkloadError> {
        self.0.borrow_mut().push(format!("start {svc}"));
        Ok(())
    }
    fn stop(&self, svc: Service) -> Result<(), WorkloadError> {
        self.0.borrow_mut().push(format!("stop {svc}"));
        Ok(())
    }
    fn remove(&self, svc: Service) -> Result<(), WorkloadError> {
        self.0.borrow_mut().push(format!("remove {svc}"));
        Ok(())
    }
    fn refresh(&self, delay: Duration) -> Result<bool, WorkloadError> {
        self.0.borrow_mut().push(format!("refresh {} ms", delay.as_millis()));
        Ok(true)
    }
    fn restart_delay(&self) -> Option<Duration> {
        None
    }
    fn pid(&self, _: Service) -> Option<u32> {
        Some(1)
    }
}

#[test]
fn refreshing_supervision_hands_the_delay_to_the_supervisor_and_rewrites_the_scripts() {
    let rig = Rig::new(FakeHookTools::new("valkey/0"));
    let Rig { sup, paths, .. } = &rig;
    let e = rig.with_workload();
    let o = Observed::test(0).running(crate::observe::fixture::primary_info(0, &[]));
    execute(&e, &o, &[Step::RefreshSupervision(Duration::from_millis(8000))]).unwrap();
    assert_eq!(sup.0.borrow().clone(), ["refresh 8000 ms"], "no start, stop or restart");
    let spool = paths.spool_dir();
    for (script, hook) in [
        (paths.restarted_script(), "valkey-restarted"),
        (paths.reconfig_script(), "primary-changed"),
        (paths.notify_script(), "services-changed"),
        (paths.exited_script(), "services-changed"),
    ] {
        let text = std::fs::read_to_string(&script).unwrap();
        let request = format!(": > '{}'", spool.join(hook).display());
        assert!(text.contains(&request), "{}: {text}", script.display());
    }
}

#[test]
fn stopping_a_leaving_units_services_removes_them_sentinel_first() {
    let rig = Rig::new(FakeHookTools::new("valkey/0"));
    let Rig { sup, .. } = &rig;
    let e = Effects { paths: None, ..rig.with_workload() };
    execute(&e, &Observed::test(0), &[Step::StopServices]).unwrap();
    assert_eq!(sup.0.borrow().clone(), ["remove sentinel", "remove valkey"]);
}

#[test]
fn a_peer_that_just_moved_is_live_at_its_new_address_before_it_publishes_it() {
    use crate::observe::fixture::{host, peer};
    let mut o = Observed::test(0).with_peers(vec![peer(1, true, Some(1)), peer(2, true, Some(1))]);
    // valkey/1 moved: Juju already gives its new ingress-address; its own hook has not yet
    // published the new host.
    o.peers[0].address = Some("198.18.9.3".into());
    let live = o.live_names();
    assert!(live.contains(&"198.18.9.3"), "{live:?}");
    assert!(live.contains(&host(1).as_str()) && live.contains(&host(2).as_str()), "{live:?}");
    assert!(!live.contains(&"198.18.9.4"), "{live:?}");
}

/// Before a reset the leader waits for departed nodes to stop answering; only for names it
/// remembers (a departed unit's host). A node that answers at an address no unit was ever known
/// by is a peer that moved after this hook read its bag: it never stops, and waiting for it ran
/// the hook out of time (`tests/hosts_address.rs`, 1 in 4 full runs).
#[test]
fn a_reset_waits_for_remembered_departed_nodes_only() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let reset = |remembered: bool| -> Deadline {
        let dir = tempfile::tempdir().unwrap();
        let ctx = ctx(dir.path());
        let tools = FakeHookTools::new("valkey/0").leader(true);
        let rec = Recorder::default();
        rec.known.borrow_mut().push(KnownSentinel {
            ip: "127.0.0.1".into(),
            port,
            runid: "moved".into(),
            flags: vec!["sentinel".into()],
        });
        let deadline = Deadline::after(Duration::from_secs(3));
        let e = Effects {
            ctx: &ctx,
            tools: &tools,
            connector: &rec,
            supervisor: None,
            paths: None,
            deadline: &deadline,
        };
        let mut o = Observed::test(0).leader();
        if remembered {
            o.unit_hosts.insert("127.0.0.1".into(), "valkey/3".into());
        }
        let step = Step::ResetSentinel {
            unit: "valkey/0".into(),
            host: "h0".into(),
            expected_peers: 0,
            expected_replicas: 0,
        };
        execute(&e, &o, &[step]).unwrap();
        assert_eq!(rec.log.borrow().clone(), vec!["h0:26379 SENTINEL RESET primary".to_string()]);
        deadline
    };
    assert!(!reset(false).expired(), "a node never heard of is not waited for");
    assert!(
        reset(true).expired(),
        "a departed unit's node that still answers is waited for (here: the whole budget)"
    );
    drop(listener);
}

#[test]
fn a_replica_known_by_ip_follows_its_moved_primary_and_its_sentinel_restarts_with_the_new_addresses() {
    use crate::observe::fixture::{peer, replica_info};
    let rig = Rig::new(FakeHookTools::new("valkey/0"));
    let Rig { rec, sup, paths, .. } = &rig;
    let e = rig.with_workload();
    // valkey/0 (10.0.0.2) replicates from valkey/1, which moved from 10.0.0.3 to 10.0.0.13.
    let (old, new) = ("10.0.0.3", "10.0.0.13");
    let mut o = Observed::test(0).with_peers(vec![peer(1, true, Some(1))]).running(replica_info(1, 10, true));
    o.local.replication.as_mut().unwrap().master_host = Some(old.into());
    o.announce_host = Some("10.0.0.2".into());
    o.bind_address = Some("10.0.0.2".into());
    o.peers[0].address = Some(new.into());
    o.local.bound.peers = Some([("valkey/1".to_string(), old.to_string())].into());
    let conf = format!(
        "bind 10.0.0.2\nsentinel announce-ip \"10.0.0.2\"\nsentinel monitor primary {old} 6379 2\n\
         sentinel known-replica primary 10.0.0.2 6379\nsentinel known-sentinel primary {old} 26379 \"ab\"\n"
    );
    std::fs::write(paths.sentinel_conf(), conf).unwrap();
    let steps = crate::readdress::steps(&o);
    let [Step::FollowAddresses { replicaof, restart_sentinel, .. }] = steps.as_slice() else {
        panic!("{steps:?}")
    };
    assert_eq!((replicaof.as_ref(), *restart_sentinel), (Some(&Endpoint::new(new, 6379)), true));
    execute(&e, &o, &steps).unwrap();
    let log = rec.log.borrow().clone();
    assert!(log.contains(&format!("10.0.0.2:6379 REPLICAOF {new}:6379")), "{log:?}");
    let sentinel = std::fs::read_to_string(paths.sentinel_conf()).unwrap();
    assert!(!sentinel.contains(old), "{sentinel}");
    assert!(sentinel.contains(&format!("sentinel monitor primary {new} 6379 2")), "{sentinel}");
    assert!(sentinel.contains(&format!("sentinel known-sentinel primary {new} 26379")), "{sentinel}");
    let valkey = std::fs::read_to_string(paths.valkey_conf()).unwrap();
    assert!(valkey.contains(&format!("replicaof {new} 6379")), "{valkey}");
    assert_eq!(sup.0.borrow().clone(), ["stop sentinel", "start sentinel"]);
    let recorded = crate::workload::read_bound(paths).peers.unwrap();
    assert_eq!(recorded.get("valkey/1").map(String::as_str), Some(new));
}

/// Issue 14: a hook whose work would outlast its deadline ends as waiting — no error, so the hook
/// exits 0 — saying what it waits for; a later hook, with a fresh deadline, plans the same
/// (idempotent) step again and completes it.
#[test]
fn a_start_that_outlasts_the_hook_deadline_ends_waiting_and_a_later_hook_completes_it() {
    use crate::juju::StatusKind;
    use crate::observe::fixture::{host, peer, sentinel};
    use std::time::Instant;
    let rig = Rig::new(FakeHookTools::new("valkey/0"));
    let Rig { tools, rec, .. } = &rig;
    // valkey/0 holds the start lock and joins valkey/1, the primary, whose Sentinel has not
    // discovered valkey/0's Sentinel yet.
    let mut o = Observed::test(0).with_peers(vec![peer(1, true, Some(1))]);
    o.me.start_requested = Some(2);
    o.app.bootstrapped = true;
    o.app.start_lock = Some("valkey/0".into());
    o.sentinels = vec![sentinel(1, 1, 1, 0, 0)];
    let start = Step::StartWorkload { primary: Some(Endpoint::new(host(1), 6379)), quorum: 2 };
    let plan = crate::plan::plan(&o);
    assert!(plan.steps.contains(&start), "{plan:?}");

    // The first hook has 300 ms left: the discovery wait (START_WAIT, 20 s) ends with it.
    let hook_1 = Deadline::after(Duration::from_millis(300));
    let e = Effects { deadline: &hook_1, ..rig.with_workload() };
    let t = Instant::now();
    let out = execute(&e, &o, &plan.steps).expect("running out of time is not an error");
    assert!(t.elapsed() < START_WAIT / 4, "the deadline bounded the wait: {:?}", t.elapsed());
    assert_eq!(out.notes, ["waiting for valkey/1's sentinel to discover this unit"]);
    assert!(!tools.own_bag_now().contains_key(peers::STARTED), "not reported started");
    let status = crate::status::unit_status(&o, &plan, &out.notes);
    assert_eq!(status.kind, StatusKind::Waiting, "{status:?}");
    assert!(status.message.contains("valkey/1's sentinel to discover this unit"), "{status:?}");

    // Meanwhile valkey/1's Sentinel discovers it. A later hook (valkey/1's relation-changed, or
    // update-status at the latest) plans the same start and completes it.
    rec.known.borrow_mut().push(KnownSentinel {
        ip: host(0),
        port: SENTINEL_PORT,
        runid: "r0".into(),
        flags: vec!["sentinel".into()],
    });
    let plan = crate::plan::plan(&o);
    assert!(plan.steps.contains(&start), "{plan:?}");
    let hook_2 = Deadline::for_hook();
    let e = Effects { deadline: &hook_2, ..e };
    let out = execute(&e, &o, &plan.steps).unwrap();
    assert_eq!(out, Outcome::default());
    assert_eq!(tools.own_bag_now().get(peers::STARTED).map(String::as_str), Some("true"));
}

/// Once the budget is spent no further step starts; a note says how many are left for the next
/// hook (which plans them again).
#[test]
fn a_spent_budget_leaves_the_remaining_steps_to_the_next_hook() {
    let rig = Rig::new(FakeHookTools::new("valkey/0"));
    let Rig { tools, rec, .. } = &rig;
    let spent = Deadline::after(Duration::ZERO);
    let e = Effects { deadline: &spent, ..rig.without_workload() };
    let steps = [Step::PublishHost("valkey-0.test".into()), Step::RequestStart];
    let out = execute(&e, &Observed::test(0), &steps).unwrap();
    assert_eq!(out.notes, [out_of_time(2)]);
    assert!(tools.own_bag_now().is_empty(), "{:?}", tools.own_bag_now());
    assert!(rec.log.borrow().is_empty());
}

//! Table tests for [`super::restart_rule`]: how a started unit's dead services come back, and
//! that an invalid config does not stop it (issue 15, items 1 and 6).

use super::*;
use crate::config::ConfigError;
use crate::observe::fixture::{host, peer, primary_info, sentinel};
use crate::observe::Observed;
use crate::valkey::Endpoint;
use crate::workload::{OnDisk, VALKEY_PORT};

/// valkey/0, started, both services down after a whole-deployment outage; its peers started.
fn down(on_disk: OnDisk) -> Observed {
    let mut o = Observed::test(0)
        .running(primary_info(0, &[]))
        .with_peers(vec![peer(1, true, Some(1)), peer(2, true, Some(1))]);
    o.local.valkey_running = false;
    o.local.sentinel_running = false;
    o.local.replication = None;
    o.local.on_disk = on_disk;
    // Its supervision already holds the delay a unit with peers wants.
    o.local.restart_delay = Some(valkey_restart_delay(&o));
    o
}

const WITH_DATA: OnDisk = OnDisk { conf: true, replicaof: None, data_files: true };
const EMPTY_PRIMARY: OnDisk = OnDisk { conf: true, replicaof: None, data_files: false };

fn empty_replica() -> OnDisk {
    OnDisk { conf: true, replicaof: Some(host(1)), data_files: false }
}

#[test]
fn a_primary_that_lost_its_data_never_becomes_the_source() {
    let mut alone = down(EMPTY_PRIMARY);
    alone.peers.clear();
    let mut promoted = down(EMPTY_PRIMARY);
    promoted.sentinels = vec![sentinel(1, 1, 2, 1, 2)];
    let mut still_named = down(EMPTY_PRIMARY);
    still_named.sentinels = vec![sentinel(1, 0, 2, 2, 2)];
    let mut sentinel_only = down(EMPTY_PRIMARY);
    sentinel_only.local.valkey_running = true;
    let mut running = down(EMPTY_PRIMARY);
    running.local.valkey_running = true;
    running.local.sentinel_running = true;
    let cases: Vec<(&str, Observed, Restart)> = vec![
        ("kept its data", down(WITH_DATA), Restart::FromFiles),
        ("a replica resyncs anyway", down(empty_replica()), Restart::FromFiles),
        ("a lone unit: nobody holds a copy", alone, Restart::FromFiles),
        ("Sentinels promoted another", promoted, Restart::AsReplicaOf(Endpoint::new(host(1), VALKEY_PORT))),
        ("only Sentinel is down", sentinel_only, Restart::FromFiles),
        ("nothing is down", running, Restart::Running),
    ];
    for (name, o, want) in cases {
        assert_eq!(restart_rule(&o), want, "{name}");
    }
    for (name, o) in [("no Sentinel answers", down(EMPTY_PRIMARY)), ("Sentinels still name it", still_named)]
    {
        let Restart::Refused(why) = restart_rule(&o) else { panic!("{name}: must be refused") };
        assert!(why.contains("without its data") && why.contains("promote-replica"), "{name}: {why}");
        assert_eq!(plan(&o).steps, vec![Step::KeepValkeyDown], "{name}");
        let status = crate::status::unit_status(&o, &plan(&o), &[]);
        assert_eq!(status.kind, crate::juju::StatusKind::Blocked, "{name}");
        assert_eq!(status.message, why, "{name}");
    }
}

#[test]
fn plans_follow_the_restart_rule() {
    assert_eq!(plan(&down(WITH_DATA)).steps, vec![Step::EnsureServices]);
    let mut promoted = down(EMPTY_PRIMARY);
    promoted.sentinels = vec![sentinel(1, 1, 2, 1, 2)];
    assert_eq!(plan(&promoted).steps, vec![Step::RestartAsReplica(Endpoint::new(host(1), VALKEY_PORT))]);
}

#[test]
fn a_brand_new_deployment_still_bootstraps() {
    // Nothing on disk, nothing started: the leader takes the lock and starts as the primary.
    let mut o = Observed::test(0).leader();
    o.me.start_requested = Some(1);
    o.app.start_lock = Some("valkey/0".into());
    let steps = plan(&o).steps;
    assert!(steps.contains(&Step::StartWorkload { primary: None, quorum: 1 }), "{steps:?}");
}

#[test]
fn an_invalid_config_still_restarts_dead_services_from_their_files() {
    let invalid = |mut o: Observed| {
        o.config = Err(ConfigError { option: "down-after-milliseconds".into(), message: "100".into() });
        o
    };
    assert_eq!(plan(&invalid(down(WITH_DATA))).steps, vec![Step::EnsureServices]);
    let mut promoted = down(EMPTY_PRIMARY);
    promoted.sentinels = vec![sentinel(1, 1, 2, 1, 2)];
    assert_eq!(plan(&invalid(promoted)).steps, vec![Step::KeepValkeyDown], "no new file without a config");
    let mut healthy = down(WITH_DATA);
    healthy.local.valkey_running = true;
    healthy.local.sentinel_running = true;
    assert_eq!(plan(&invalid(healthy)).steps, vec![]);
    let mut not_started = invalid(down(WITH_DATA));
    not_started.me.started = false;
    assert_eq!(plan(&not_started).steps, vec![]);
    // An explicit min-replicas-to-write too large for the deployment is invalid too.
    let mut too_many = down(WITH_DATA);
    too_many.config.as_mut().unwrap().min_replicas_to_write = Some(5);
    assert!(plan(&too_many).steps.contains(&Step::EnsureServices));
}

#[test]
fn bootstrap_that_no_live_unit_backs_is_void() {
    // Scale to 0, then up: the app bag still says bootstrapped, the new leader sees no started
    // unit and no recorded member's Sentinel answers: it bootstraps anew.
    let mut after_zero = Observed::test(3).leader().with_peers(vec![peer(4, false, Some(5))]);
    after_zero.app.bootstrapped = true;
    after_zero.app.members = vec![host(0), host(1)];
    after_zero.app.start_lock = Some("valkey/1".into());
    assert!(!bootstrapped(&after_zero));
    let steps = plan(&after_zero).steps;
    assert!(steps.contains(&Step::StartWorkload { primary: None, quorum: 1 }), "{steps:?}");
    assert!(steps.contains(&Step::GrantLock("valkey/3".into())), "{steps:?}");
    // A newcomer leader that does not see its started peers yet, but one recorded member's
    // Sentinel answers: the deployment lives on; it joins the primary that Sentinel names.
    let mut newcomer = after_zero.clone();
    newcomer.sentinels = vec![sentinel(0, 0, 2, 1, 1)];
    assert!(bootstrapped(&newcomer));
    let steps = plan(&newcomer).steps;
    assert!(steps.contains(&Step::GrantLock("valkey/4".into())), "first asked, first served: {steps:?}");
    assert!(!steps.iter().any(|s| matches!(s, Step::StartWorkload { .. })), "{steps:?}");
    newcomer.peers.clear();
    let steps = plan(&newcomer).steps;
    let join = Step::StartWorkload { primary: Some(Endpoint::new(host(0), VALKEY_PORT)), quorum: 1 };
    assert!(steps.contains(&join), "it joins the named primary, never bootstraps: {steps:?}");
    // A cold start: every bag still says started, nothing answers yet: never a second bootstrap.
    let mut cold = Observed::test(0).leader().with_peers(vec![peer(1, true, Some(1))]);
    cold.me.started = true;
    cold.app.bootstrapped = true;
    assert!(bootstrapped(&cold));
    // The leader records the started units' hosts once, and again when they change.
    let mut o = Observed::test(0)
        .leader()
        .with_peers(vec![peer(1, true, Some(1)), peer(2, false, Some(2))])
        .running(primary_info(0, &[(1, 0)]));
    o.sentinels = vec![sentinel(0, 0, 2, 1, 1)];
    assert!(!plan(&o).steps.iter().any(|s| matches!(s, Step::RecordMembers(_))));
    o.app.members = vec![host(0)];
    assert!(plan(&o).steps.contains(&Step::RecordMembers(vec![host(0), host(1)])));
}

#[test]
fn a_sentinel_that_runs_but_never_answers_is_restarted() {
    // A crash-looping Sentinel (corrupt sentinel.conf) is "running" for a moment after each
    // restart; only its silence tells. execute::restart re-renders its file if it stays silent.
    let mut looping = down(WITH_DATA);
    looping.local.valkey_running = true;
    looping.local.sentinel_running = true;
    looping.local.sentinel_answers = false;
    assert_eq!(restart_rule(&looping), Restart::FromFiles);
    assert!(plan(&looping).steps.contains(&Step::EnsureServices));
}

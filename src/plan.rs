//! Plan: the pure heart of the charm. [`plan`] turns an [`Observed`] into the [`Step`]s that move
//! the unit toward the goal (docs/ha-protocol.md); [`retire`] does the same for a leaving unit.
//!
//! Nothing here performs effects, so every rule is a table test below (and in `plan_tests`).

use crate::config::{CharmConfig, ConfigError};
use crate::observe::Observed;
use crate::peers::PeerUnit;
use crate::valkey::{Endpoint, ReplicaEntry};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

#[path = "plan_step.rs"]
mod step;
pub use step::Step;

/// A start-lock holder that has not started after this long is reclaimed.
pub const LOCK_STALL_SECS: u64 = 120;
/// A replica within this many bytes of the primary's offset counts as in sync.
pub const IN_SYNC_BYTES: u64 = 64 * 1024;
/// ... and must have acknowledged within this many seconds.
pub const IN_SYNC_LAG_SECS: u64 = 2;

/// Settings applied at runtime (CONFIG SET / SENTINEL SET) and remembered once applied, so a
/// reconcile only touches the services when something changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RuntimeSettings {
    /// Valkey `CONFIG SET` parameters.
    pub valkey: BTreeMap<String, String>,
    /// Sentinel `SENTINEL SET primary` parameters.
    pub sentinel: BTreeMap<String, String>,
}

/// The Valkey settings whose live values are compared with the wanted ones on every hook, so a
/// value changed behind the charm's back (`CONFIG SET` by hand) is set again. `replica-priority` is
/// left out: the start-up fence owns it while a node resyncs.
pub const DRIFT_KEYS: [&str; 5] =
    ["min-replicas-to-write", "min-replicas-max-lag", "maxmemory", "maxmemory-policy", "appendonly"];

/// Whether a live value of the local Valkey (or its Sentinel: [`crate::plan_drift`]) differs from the wanted one (only values actually read
/// count: a node that did not answer is not "drifted").
pub fn drifted(o: &Observed, wanted: &RuntimeSettings) -> bool {
    DRIFT_KEYS.iter().any(|k| match (o.local.live_settings.get(*k), wanted.valkey.get(*k)) {
        (Some(live), Some(want)) => live != want,
        _ => false,
    }) || crate::plan_drift::sentinel_drifted(o, wanted)
}

/// The runtime settings a valid config implies for a deployment of `units` units.
pub fn runtime_settings(c: &CharmConfig, units: usize) -> Result<RuntimeSettings, ConfigError> {
    let mut valkey = BTreeMap::new();
    let mut put = |k: &str, v: String| valkey.insert(k.to_string(), v);
    put("min-replicas-to-write", c.min_replicas_for(units)?.to_string());
    put("min-replicas-max-lag", c.valkey_max_lag().to_string());
    put("replica-priority", c.replica_priority.to_string());
    put("maxmemory", c.maxmemory.to_string());
    put("maxmemory-policy", c.maxmemory_policy.clone());
    put("appendonly", if c.appendonly { "yes" } else { "no" }.to_string());
    let sentinel = [
        ("down-after-milliseconds", c.down_after_ms.to_string()),
        ("failover-timeout", c.failover_timeout_ms.to_string()),
        ("parallel-syncs", c.parallel_syncs.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Ok(RuntimeSettings { valkey, sentinel })
}

/// How long Valkey's supervisor waits before restarting it after an unexpected exit: none for a
/// lone unit (nobody could take over), otherwise longer than Sentinel needs to fail a crashed
/// primary over (down-after-milliseconds + 3 s), so a primary without persistence never comes
/// back empty before it was replaced and its replicas copy the empty dataset (valkey-facts.md
/// "Trap"). The first unit starts alone, so the value changes under a running service:
/// [`Step::RefreshSupervision`] carries every change to the supervisor (systemd's `RestartSec`,
/// the direct supervisor's delay file).
pub fn valkey_restart_delay(o: &Observed) -> Duration {
    restart_delay_for(&o.config, o.live_count())
}

/// [`valkey_restart_delay`] from its two inputs, so observe can give the supervisor it builds the
/// same delay before the observation is complete.
pub fn restart_delay_for(config: &Result<CharmConfig, ConfigError>, live_units: usize) -> Duration {
    let down_after = match (config, live_units) {
        (_, 1) => return Duration::ZERO,
        (Ok(c), _) => c.down_after_ms,
        (Err(_), _) => CharmConfig::default().down_after_ms,
    };
    Duration::from_millis(u64::from(down_after) + 3000)
}

/// Quorum for a deployment of `sentinels` Sentinels: a majority.
pub fn majority(sentinels: usize) -> u32 {
    (sentinels / 2 + 1) as u32
}

/// Quorum a newcomer writes into its sentinel.conf when `started` units already run:
/// ⌊(started+1)/2⌋+1, capped at the number of Sentinels (started+1).
pub fn newcomer_quorum(started: usize) -> u32 {
    majority(started + 1).min(started as u32 + 1)
}

/// Is `replica` in sync with a primary at `primary_offset`?
pub fn in_sync(replica: &ReplicaEntry, primary_offset: u64) -> bool {
    replica.state == "online"
        && primary_offset.saturating_sub(replica.offset) <= IN_SYNC_BYTES
        && replica.lag <= IN_SYNC_LAG_SECS
}

/// The result of planning: steps, and why the unit is not progressing when it is waiting.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// What to do, in order.
    pub steps: Vec<Step>,
    /// What the unit waits for (status `waiting`), if anything.
    pub waiting: Option<String>,
}

impl Plan {
    /// Whether executing this plan calls for another observe → plan pass in the same hook
    /// ([`Step::calls_for_another_look`]).
    pub fn look_again(&self) -> bool {
        self.steps.iter().any(Step::calls_for_another_look)
    }

    fn wait(steps: Vec<Step>, why: impl Into<String>) -> Plan {
        Plan { steps, waiting: Some(why.into()) }
    }
}

/// The reconcile plan for an ordinary hook: [`housekeeping`] first, then the protocol.
pub fn plan(o: &Observed) -> Plan {
    let mut p = protocol(o);
    p.steps.splice(0..0, housekeeping(o));
    p
}

/// Steps about the unit's own files, whatever else it waits for: config files narrowed back to
/// 0600, newly seen unit names remembered.
pub fn housekeeping(o: &Observed) -> Vec<Step> {
    if o.retired || o.storage.is_none() {
        return Vec::new();
    }
    let mut steps = Vec::new();
    if o.local.state_to_move {
        steps.push(Step::MoveState);
    }
    if !o.local.loose_files.is_empty() {
        steps.push(Step::KeepPrivate(o.local.loose_files.clone()));
    }
    if let Some(next) = crate::history::names::merged(&o.unit_hosts, o.live_hosts()) {
        steps.push(Step::RememberUnitHosts(next));
    }
    steps
}

/// The local Sentinel's tuning when the process that runs is not the one last tuned.
pub fn tune_step(o: &Observed) -> Option<Step> {
    let l = &o.local;
    (o.me.started && l.sentinel_pid.is_some() && l.sentinel_pid != l.tuned_pid).then_some(Step::TuneSentinel)
}

/// The protocol's steps (docs/ha-protocol.md).
fn protocol(o: &Observed) -> Plan {
    if o.retired {
        return Plan::default();
    }
    if o.storage.is_none() {
        return Plan::wait(vec![], "waiting for data storage");
    }
    // Installing the binary touches no data, so it happens even while the config is invalid.
    if o.installed.is_none() {
        return Plan { steps: vec![Step::Install], waiting: None };
    }
    // An invalid config changes nothing, but dead services still come back with their files,
    // i.e. the last good settings (self-healing is not suspended while the operator fixes it).
    let Ok(config) = &o.config else { return heal_only(o) };
    if o.relation_id.is_none() {
        return Plan::wait(vec![], "waiting for the peer relation");
    }
    let Some(host) = &o.announce_host else {
        return Plan::wait(vec![], "waiting for a network address (network-get)");
    };
    // Everything below reaches the local services at the hook's address: with that address gone,
    // they would look dead and be "repaired" (a fresh sentinel.conf, restarts). The next hook
    // (config-changed, which Juju runs after an address change) follows the new one.
    if o.local.address_gone {
        return Plan::wait(vec![], "this unit's address changed during the hook: the next hook follows it");
    }
    let mut steps = Vec::new();
    if o.me.host.as_ref() != Some(host) {
        steps.push(Step::PublishHost(host.clone()));
    }
    let switchovers = o.known_switchovers();
    if switchovers != o.me.switchovers {
        steps.push(Step::PublishSwitchovers(switchovers));
    }
    if o.credentials.is_none() {
        return match (&o.relation_id, o.leader) {
            (Some(rid), true) => {
                steps.push(Step::CreatePasswords { relation_id: rid.clone() });
                Plan::wait(steps, "creating the passwords")
            }
            _ => Plan::wait(steps, "waiting for the leader to create the passwords"),
        };
    }
    let Ok(settings) = runtime_settings(config, o.live_count()) else {
        steps.extend(heal_only(o).steps);
        return Plan { steps, waiting: None };
    };

    if !o.me.started && o.me.start_requested.is_none() {
        steps.push(Step::RequestStart);
    }
    let mut holder = o.app.start_lock.clone();
    if o.leader {
        if !o.app.bootstrapped && o.started_count() > 0 {
            steps.push(Step::MarkBootstrapped);
        }
        let members = started_hosts(o);
        if !members.is_empty() && members != o.app.members {
            steps.push(Step::RecordMembers(members));
        }
        let (lock_steps, new_holder) = start_lock(o);
        steps.extend(lock_steps);
        holder = new_holder;
    }
    let mut waiting = None;
    if !o.me.started {
        steps.extend(crate::readdress::rebind_step(o));
        match holder.as_deref() {
            Some(h) if h == o.me.name => match choose_primary(o) {
                Ok(primary) => {
                    steps.push(Step::StartWorkload { primary, quorum: newcomer_quorum(o.started_count()) })
                }
                Err(why) => waiting = Some(why),
            },
            Some(h) => waiting = Some(format!("waiting for start lock (held by {h})")),
            None => waiting = Some("waiting for the leader to grant the start lock".to_string()),
        }
    } else {
        // First: everything after it reaches the local services by hostname, i.e. the new address.
        steps.extend(crate::readdress::steps(o));
        let delay = valkey_restart_delay(o);
        if o.local.restart_delay != Some(delay) {
            steps.push(Step::RefreshSupervision(delay));
        }
        match restart_rule(o) {
            Restart::Running => {}
            Restart::FromFiles => steps.push(Step::EnsureServices),
            Restart::AsReplicaOf(p) => steps.push(Step::RestartAsReplica(p)),
            Restart::Refused(_) => steps.push(Step::KeepValkeyDown),
        }
        steps.extend(tune_step(o));
        if o.local.valkey_running {
            if o.applied.as_ref() != Some(&settings) || drifted(o, &settings) {
                steps.push(Step::ApplySettings { settings, priority: fence_lifted(o) });
            }
            steps.extend(follow_primary_step(o));
            steps.extend(promotion_step(o));
        }
    }
    if o.leader {
        let upkeep = sentinel_upkeep(o);
        if !upkeep.is_empty() {
            steps.extend(upkeep);
            steps.push(Step::AnnounceUpkeep(o.app.sentinel_upkeep + 1));
        }
    }
    Plan { steps, waiting }
}

/// The plan for a `juju-exec` context (`primary-changed`, `valkey-restarted`): only the steps
/// decided from this unit's own services, its own address, the relation's membership and the
/// Sentinels. Juju gives exec contexts the unit agent's cached relation data
/// (`internal/worker/uniter/runner/context/cache.go`): a peer's bag there is as old as the last
/// `-changed` hook about it, so a peer that started or asked for the lock since may look
/// otherwise. Steps decided from peers' bags — the start lock, bootstrapping, the quorum (a
/// majority of who started), following peers' addresses, publishing their switchover records —
/// wait for the hook that announces the change. Resetting a Sentinel that remembers a departed
/// unit stays: that is decided from membership, which the departed hooks already updated (a
/// reset deferred by a failover in progress is then done when the failover's hook runs); a peer's
/// cached address that a move made stale puts it off ([`due_for_reset`]).
pub fn for_exec_context(o: &Observed) -> Plan {
    let mut p = plan(o);
    p.steps.retain(|s| {
        matches!(
            s,
            Step::KeepPrivate(_)
                | Step::RememberUnitHosts(_)
                | Step::PublishHost(_)
                | Step::EnsureServices
                | Step::TuneSentinel
                | Step::RestartAsReplica(_)
                | Step::KeepValkeyDown
                | Step::ApplySettings { .. }
                | Step::Rebind(_)
                | Step::FollowPrimary(_)
                | Step::AllowPromotion(_)
                | Step::ResetSentinel { .. }
                | Step::AnnounceUpkeep(_)
        )
    });
    // The announcement only follows a reset here (a quorum change alone was left out above).
    if !p.steps.iter().any(|s| matches!(s, Step::ResetSentinel { .. })) {
        p.steps.retain(|s| !matches!(s, Step::AnnounceUpkeep(_)));
    }
    p
}

/// How a started unit's services may come back when some are down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Restart {
    /// Both run: nothing to do.
    Running,
    /// Start what is down from its files (a Sentinel that does not answer even then gets a fresh
    /// sentinel.conf: `execute::restart`).
    FromFiles,
    /// This Valkey was the primary and came back without its data, and the Sentinels name another
    /// primary: start it as that one's replica, so it copies their data instead of offering none.
    AsReplicaOf(Endpoint),
    /// This Valkey was the primary, came back without its data, and no other node is primary:
    /// started from its file it would be an empty primary that its replicas copy (every write
    /// gone), so it stays down until the operator promotes a replica. The message says so.
    Refused(String),
}

/// The restart rule (docs/ha-protocol.md "A node that lost its data"). A node that comes back
/// without the data it had must never become the source its peers copy; a lone unit has no peer
/// holding a copy, so it simply starts again.
pub fn restart_rule(o: &Observed) -> Restart {
    let l = &o.local;
    if l.valkey_running && l.sentinel_running && l.sentinel_answers {
        return Restart::Running;
    }
    let copies_elsewhere = o.peers.iter().any(|p| p.started);
    if l.valkey_running || !l.on_disk.primary_without_data() || !copies_elsewhere {
        return Restart::FromFiles;
    }
    match o.known_primary() {
        Some(p) if Some(&p.host) != o.announce_host.as_ref() => Restart::AsReplicaOf(p),
        _ => Restart::Refused(format!(
            "{} was the primary and came back without its data (no dump.rdb or appendonlydir): \
             kept down so its replicas keep their copies; keep one with `juju run {}/leader \
             promote-replica unit=<replica>`",
            o.me.name,
            o.me.name.split('/').next().unwrap_or("valkey"),
        )),
    }
}

/// The plan while the config is invalid: only bring dead services back, with their files' (last
/// good) settings; never start Valkey where [`restart_rule`] refuses or needs a new file.
fn heal_only(o: &Observed) -> Plan {
    if !o.me.started || o.credentials.is_none() || o.announce_host.is_none() {
        return Plan::default();
    }
    let step = match restart_rule(o) {
        Restart::Running => None,
        Restart::FromFiles => Some(Step::EnsureServices),
        Restart::AsReplicaOf(_) | Restart::Refused(_) => Some(Step::KeepValkeyDown),
    };
    Plan { steps: step.into_iter().chain(tune_step(o)).collect(), waiting: None }
}

/// A stale primary's step: this unit's Valkey says `role:master`, but this unit's own Sentinel —
/// settled, no failover in progress — names another node, which is also the highest-epoch view
/// observed and which itself answers as primary. Each condition rules out a case where demoting
/// would be wrong: during a failover that promotes this node its Sentinel still names the old
/// primary, but that one is then dead or already a replica.
pub fn follow_primary_step(o: &Observed) -> Option<Step> {
    let local = o.local.replication.as_ref()?;
    let mine = o.my_sentinel()?.primary.as_ref()?;
    let named = Endpoint::new(mine.ip.clone(), mine.port);
    let me = o.announce_host.as_deref()?;
    let stale = local.role == crate::valkey::Role::Primary
        && !mine.failover_in_progress()
        && named.host != me
        && o.known_primary().as_ref() == Some(&named)
        && o.primary_info.as_ref().is_some_and(|p| p.role == crate::valkey::Role::Primary);
    stale.then_some(Step::FollowPrimary(named))
}

/// The fence lift a started replica needs: it runs at `replica-priority 0` (every Valkey starts
/// fenced, see `workload::START_FENCE`) while its config asks for more. A primary keeps the fence:
/// priority means nothing to it until it is demoted, and then it must resync first too.
pub fn promotion_step(o: &Observed) -> Option<Step> {
    let configured = o.config.as_ref().ok()?.replica_priority;
    let r = o.local.replication.as_ref()?;
    (o.me.started && configured != 0 && r.role == crate::valkey::Role::Replica && r.priority == Some(0))
        .then_some(Step::AllowPromotion(configured))
}

/// Whether the start-up fence no longer holds this node: it reports a non-zero
/// `replica-priority`, i.e. it is a replica that was admitted after resyncing. A primary, or a
/// replica still at 0, keeps the fence's value.
pub fn fence_lifted(o: &Observed) -> bool {
    o.local.replication.as_ref().is_some_and(|r| r.priority.is_some_and(|p| p != 0))
}

/// Whether the deployment has a primary to join: the app bag says it was bootstrapped *and* a
/// live unit backs that — a started unit in view, or a Sentinel that answers (the recorded
/// members' too, see `peers::MEMBERS`). After the last unit left (scale to 0) nothing does: the
/// flag is void and the next leader bootstraps a new primary instead of waiting for ever.
pub fn bootstrapped(o: &Observed) -> bool {
    o.app.bootstrapped && (o.started_count() > 0 || !o.sentinels.is_empty())
}

/// The hosts of the started units, sorted (what the leader records as `peers::MEMBERS`).
fn started_hosts(o: &Observed) -> Vec<String> {
    let mut hosts: Vec<String> = o
        .units()
        .filter(|u| u.started)
        .filter_map(|u| if u.name == o.me.name { o.announce_host.clone() } else { u.host.clone() })
        .collect();
    hosts.sort();
    hosts
}

/// Leader: the start-lock steps, and who holds the lock after them.
fn start_lock(o: &Observed) -> (Vec<Step>, Option<String>) {
    let requesters = |exclude: Option<&str>| -> Option<String> {
        let mut c: Vec<(u64, u32, &PeerUnit)> = o
            .units()
            .filter(|u| !u.started && Some(u.name.as_str()) != exclude)
            .filter_map(|u| {
                let asked =
                    if u.name == o.me.name { u.start_requested.or(Some(o.now)) } else { u.start_requested };
                asked.map(|t| (t, u.number(), u))
            })
            .collect();
        c.sort_by_key(|(t, n, _)| (*t, *n));
        c.first().map(|(_, _, u)| u.name.clone())
    };
    // Bootstrap: until some unit started, only the leader may start (it becomes the primary).
    let bootstrapping = !bootstrapped(o) && o.started_count() == 0;
    if bootstrapping {
        let mine = o.app.start_lock.as_deref() == Some(o.me.name.as_str());
        return if mine {
            (vec![], Some(o.me.name.clone()))
        } else {
            (vec![Step::GrantLock(o.me.name.clone())], Some(o.me.name.clone()))
        };
    }
    let Some(h) = &o.app.start_lock else {
        return match requesters(None) {
            Some(next) => (vec![Step::GrantLock(next.clone())], Some(next)),
            None => (vec![], None),
        };
    };
    let holder = o.units().find(|u| &u.name == h);
    let stalled = o.now.saturating_sub(o.app.start_lock_since.unwrap_or(o.now)) > LOCK_STALL_SECS;
    let free = match holder {
        None => true,
        Some(u) => u.started || stalled,
    };
    if !free {
        return (vec![], Some(h.clone()));
    }
    // A stalled holder goes to the back of the queue, unless nobody else waits.
    let reclaimed = holder.filter(|u| !u.started).map(|u| u.name.as_str());
    match requesters(reclaimed).or_else(|| requesters(None)) {
        Some(next) => (vec![Step::GrantLock(next.clone())], Some(next)),
        None => (vec![Step::ReleaseLock], None),
    }
}

/// Whom the lock holder should replicate from: `Ok(None)` = become the primary.
fn choose_primary(o: &Observed) -> Result<Option<Endpoint>, String> {
    match o.known_primary() {
        Some(p) if Some(&p.host) == o.announce_host.as_ref() => Ok(None),
        Some(p) => Ok(Some(p)),
        None if o.leader && !bootstrapped(o) && o.started_count() == 0 => Ok(None),
        None => Err("waiting for a reachable Sentinel that knows the primary".to_string()),
    }
}

/// Leader: keep quorum at a majority of started units, and reset Sentinels that remember
/// departed peers or replicas ([`due_for_reset`]). Resets run one at a time — each waits until its
/// Sentinel sees the expected peers again before the next starts — because a reset Sentinel is
/// blind for a while.
fn sentinel_upkeep(o: &Observed) -> Vec<Step> {
    let started: Vec<_> =
        o.sentinels.iter().filter(|s| o.units().any(|u| u.name == s.unit && u.started)).collect();
    if started.iter().any(|s| s.primary.as_ref().is_some_and(|p| p.failover_in_progress())) {
        return Vec::new();
    }
    let n = o.started_count();
    let mut steps = Vec::new();
    for s in &started {
        let Some(p) = &s.primary else { continue };
        if due_for_reset(o, s) {
            steps.push(Step::ResetSentinel {
                unit: s.unit.clone(),
                host: s.host.clone(),
                expected_peers: (n - 1) as u32,
                expected_replicas: (n - 1) as u32,
            });
        }
        if p.quorum != majority(n) {
            steps.push(Step::SetQuorum { unit: s.unit.clone(), host: s.host.clone(), quorum: majority(n) });
        }
    }
    steps
}

/// The plan for a leaving unit (storage-detaching, stop, or its own relation-departed): hand the
/// primary role over when there is someone to take it — never to a unit leaving too while
/// another can take it — stop the services, remember it.
///
/// A leaving replica first steps aside (`Step::StepAside`, alone: `stepped_aside` is false),
/// so that no Sentinel promotes it while it stops (a switchover whose chosen replica stops
/// mid-way times out, and the old primary may then leave without a successor). The caller
/// looks again afterwards: a replica promoted meanwhile is a primary then, and hands over.
pub fn retire(o: &Observed, stepped_aside: bool) -> Vec<Step> {
    if o.retired {
        return Vec::new();
    }
    let mut steps = Vec::new();
    let role = o.local.replication.as_ref().map(|r| r.role);
    let others = o.live_count() > 1 || sentinel_knows_a_replica(o) || has_an_online_replica(o);
    let running = o.local.valkey_running;
    match (&o.announce_host, role) {
        (Some(host), Some(crate::valkey::Role::Primary)) if running && others => {
            let admit = o.config.as_ref().map(|c| c.replica_priority).unwrap_or(0);
            steps.push(Step::HandOver {
                sentinel: Endpoint::new(host.clone(), crate::workload::SENTINEL_PORT),
                admit,
                avoid: leaving_replicas(o),
            });
        }
        (Some(host), Some(crate::valkey::Role::Replica)) if running && !stepped_aside => {
            return vec![Step::StepAside {
                sentinel: Endpoint::new(host.clone(), crate::workload::SENTINEL_PORT),
            }];
        }
        _ => {}
    }
    // Also with no process running: a service waiting out its restart delay would come back, and
    // a systemd unit left enabled would start again at the next boot.
    if running || o.local.sentinel_running || o.local.supervised {
        steps.push(Step::StopServices);
    }
    steps.push(Step::MarkRetired);
    steps
}

/// The Valkey endpoints of the other units whose removal began ([`Observed::leaving`]), by the
/// host each announced: from the peer relation while it lists them, else from the remembered
/// hosts (a leaving unit's peers depart from its view before its own teardown ends). Sorted.
fn leaving_replicas(o: &Observed) -> Vec<Endpoint> {
    let others: Vec<&String> = o.leaving.iter().filter(|u| **u != o.unit).collect();
    let published = o.peers.iter().filter(|p| others.contains(&&p.name)).filter_map(|p| p.host.clone());
    let remembered = o.unit_hosts.iter().filter(|(_, u)| others.contains(u)).map(|(h, _)| h.clone());
    let hosts: std::collections::BTreeSet<String> = published.chain(remembered).collect();
    hosts.into_iter().map(|h| Endpoint::new(h, crate::workload::VALKEY_PORT)).collect()
}

/// Whether a Sentinel's view of the primary counts more peers or replicas than there are other
/// live units: it remembers a departed unit, which only a reset makes it forget. Until then the
/// deployment's failover arithmetic counts a node that is gone.
pub fn remembers_departed(o: &Observed, p: &crate::valkey::MonitoredPrimary) -> bool {
    let others = (o.live_count() - 1) as u32;
    p.num_other_sentinels > others || p.num_slaves > others
}

/// Whether the leader resets this Sentinel now: it [`remembers_departed`] a unit, and it knows up
/// no node at an address this unit has never heard of. Such a node is a peer that moved after
/// this hook's copy of its bag was read ([`crate::readdress::unconfirmed_addresses`]): counted as
/// departed, the reset waited for it to stop answering, which it never does, until the hook ran
/// out of time. The peer's `-relation-changed` brings its new address and decides again.
pub fn due_for_reset(o: &Observed, s: &crate::observe::SentinelView) -> bool {
    s.primary.as_ref().is_some_and(|p| remembers_departed(o, p))
        && crate::readdress::unconfirmed_addresses(o, s).is_empty()
}

/// Whether this unit's Sentinel knows a replica that is up and linked to the primary. A leaving
/// unit cannot rely on `relation-list` alone: on Juju it usually runs its own `-relation-departed`
/// hooks before anything else, and during each the departing peer is already gone from the list,
/// so the last of them sees no peer at all while the replica still runs (the switchover itself
/// then checks that the replica is in sync).
fn sentinel_knows_a_replica(o: &Observed) -> bool {
    o.my_sentinel().is_some_and(|s| {
        s.replicas.iter().any(|r| {
            r.link_ok && !r.flags.iter().any(|f| matches!(f.as_str(), "s_down" | "o_down" | "disconnected"))
        })
    })
}

/// Whether the local primary's own `INFO replication` lists a replica that finished its initial
/// sync. Sentinel learns of replicas from its once-a-second INFO of the primary and can lag behind
/// it (a two-unit removal under load once left without hand-over because of that): the primary's
/// word is the fresher one, and the switchover itself still checks that the replica is in sync.
fn has_an_online_replica(o: &Observed) -> bool {
    o.local.replication.as_ref().is_some_and(|r| r.replicas.iter().any(|e| e.state == "online"))
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "plan_restart_tests.rs"]
mod restart_tests;

#[cfg(test)]
#[path = "plan_effects_tests.rs"]
mod effects_tests;

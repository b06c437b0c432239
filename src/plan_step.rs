//! [`Step`]: the one list of everything the charm does to the world. Plan produces steps,
//! execute carries them out; an effect that is not a step is invisible to the plan's table tests
//! (`plan_effects_tests` checks that every step is planned by some case).

use super::RuntimeSettings;
use crate::valkey::Endpoint;
use std::collections::BTreeMap;
use std::time::Duration;

/// One thing to do. Every step is idempotent: executing it twice does no harm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Install the server binary (resource or apt).
    Install,
    /// The leader's first hook: create the passwords' secret and publish its URI in the peer
    /// app bag of this relation (`secrets::create`).
    CreatePasswords {
        /// The peer relation's id.
        relation_id: String,
    },
    /// Move the charm's records out of `etc/` (the service user's) into `state/` (root's):
    /// `Paths::move_state`.
    MoveState,
    /// Narrow these config files (they hold password hashes) back to 0600: something loosened
    /// them behind the charm's back.
    KeepPrivate(Vec<std::path::PathBuf>),
    /// Remember these host → unit names ([`crate::history::names`]), so a unit removed later is
    /// still named by unit in the failover history.
    RememberUnitHosts(crate::history::names::UnitHosts),
    /// Write our announce host into our bag.
    PublishHost(String),
    /// Publish the switchover records this unit knows in its bag (`history::shared`).
    PublishSwitchovers(Vec<crate::history::Failover>),
    /// Ask for the start lock (`start-requested` = now).
    RequestStart,
    /// Leader: give the start lock to `unit`.
    GrantLock(String),
    /// Leader: free the start lock (its holder started, departed or stalled).
    ReleaseLock,
    /// Leader: record that the deployment has been bootstrapped (a unit started).
    MarkBootstrapped,
    /// Leader: record the hosts of the started units (`peers::MEMBERS`), sorted.
    RecordMembers(Vec<String>),
    /// Render and start Valkey and Sentinel, wait (bounded) to be linked and discovered, then
    /// report started. `primary` is `None` when this unit becomes the primary.
    StartWorkload {
        /// Whom to `replicaof`.
        primary: Option<Endpoint>,
        /// Quorum for the new sentinel.conf.
        quorum: u32,
    },
    /// A started unit whose service is not running: start it again from its files.
    EnsureServices,
    /// The local Sentinel process runs with its built-in INFO period (it was restarted, or a
    /// switchover's restore of the period was lost): set the charm's (`workload::tuning`).
    TuneSentinel,
    /// The supervision's files are outdated (Valkey's restart delay changed, or a new charm
    /// renders them differently): rewrite them, with this restart delay, without restarting
    /// either service (systemd: unit files + `daemon-reload`; direct: the delay file).
    RefreshSupervision(Duration),
    /// A started unit whose Valkey lost its data while another node is primary: point its
    /// valkey.conf at that primary, then start it like [`Step::EnsureServices`] (it resyncs).
    RestartAsReplica(Endpoint),
    /// A started unit whose Valkey must stay down ([`super::Restart::Refused`]): cancel a restart its
    /// supervisor has pending, and start Sentinel if it is down (the quorum still needs it).
    KeepValkeyDown,
    /// Apply changed runtime settings to the local Valkey and Sentinel, and remember them.
    ApplySettings {
        /// The settings the config implies.
        settings: RuntimeSettings,
        /// Whether `replica-priority` is set too: only on a replica the start-up fence has
        /// admitted ([`super::fence_lifted`]); otherwise the fence owns it and `AllowPromotion` sets it.
        priority: bool,
    },
    /// The unit's address changed under its services (docs/ha-protocol.md "Address changes"):
    /// move Valkey to this address at runtime (`CONFIG SET bind` and `replica-announce-ip` over its
    /// local socket, then valkey.conf re-rendered with its current replication source) and
    /// restart Sentinel from its own sentinel.conf with the old addresses replaced
    /// (`crate::readdress::renames`: its `bind` and `announce-ip`, and any moved peer's).
    Rebind(String),
    /// Peers moved, joined or left since this unit's Sentinel last learnt their addresses.
    FollowAddresses {
        /// Peers whose address changed: this Sentinel still holds their old one.
        moved: Vec<String>,
        /// Unit → address of every peer now, recorded once followed.
        addresses: BTreeMap<String, String>,
        /// Restart the local Sentinel from its file with the moved peers' old addresses replaced
        /// by their new ones, so it reaches them again — by hostname it resolves every name anew
        /// (false when nobody moved, or when a `Rebind` in the same plan restarts it anyway).
        restart_sentinel: bool,
        /// This replica follows its primary by an address that moved (units known by IP):
        /// `REPLICAOF` the new one (`crate::readdress::primary_moved_to`).
        replicaof: Option<Endpoint>,
    },
    /// This Valkey still acts as primary while the Sentinels have settled on another one that
    /// answers as primary (a healed partition: Sentinel itself re-points it only ~8 s later and
    /// tells nobody): `REPLICAOF` that primary now, and keep it in valkey.conf.
    FollowPrimary(Endpoint),
    /// Lift the start-up fence (`workload::START_FENCE`): once this replica's link to the primary
    /// is up (i.e. it has resynced, waited for a bounded time), set its configured
    /// `replica-priority`, so Sentinel may promote it again.
    AllowPromotion(u32),
    /// Leader: set the quorum on one unit's Sentinel.
    SetQuorum {
        /// The unit whose Sentinel it is.
        unit: String,
        /// Its host.
        host: String,
        /// The new quorum.
        quorum: u32,
    },
    /// Leader: `SENTINEL RESET` one Sentinel that remembers departed peers or replicas, then wait
    /// until it sees at least the expected ones again.
    ResetSentinel {
        /// The unit whose Sentinel it is.
        unit: String,
        /// Its host.
        host: String,
        /// Peers it must see again.
        expected_peers: u32,
        /// Replicas it must see again.
        expected_replicas: u32,
    },
    /// Leader: after resets or quorum changes, bump the app bag's `sentinel-upkeep` counter to
    /// this value, so every other unit reconciles and shows the new counts at once.
    AnnounceUpkeep(u64),
    /// Leaving: hand the primary role to an in-sync replica first, through this unit's Sentinel,
    /// admitting a fenced but in-sync candidate with the configured `replica-priority`.
    HandOver {
        /// This unit's Sentinel.
        sentinel: Endpoint,
        /// The configured replica-priority (0 while the config is invalid: nobody admitted).
        admit: u32,
        /// Replicas of units leaving too: not promoted while another replica is in sync.
        avoid: Vec<Endpoint>,
    },
    /// Leaving replica: take itself out of Sentinel's choice (`replica-priority 0`) and wait,
    /// bounded, until every Sentinel it reaches sees that and none is promoting it. One promoted
    /// meanwhile is a primary when the plan looks again, and hands over.
    StepAside {
        /// This unit's Sentinel (which names its peers).
        sentinel: Endpoint,
    },
    /// Leaving: stop Sentinel, then Valkey, for good (`Supervisor::remove`: systemd units
    /// disabled and deleted).
    StopServices,
    /// Leaving: remember that this unit retired, so no later hook restarts it.
    MarkRetired,
}

impl Step {
    /// The step's name, for logs and errors.
    pub fn name(&self) -> &'static str {
        match self {
            Step::Install => "install",
            Step::CreatePasswords { .. } => "create-passwords",
            Step::MoveState => "move-state",
            Step::KeepPrivate(_) => "keep-private",
            Step::RememberUnitHosts(_) => "remember-unit-hosts",
            Step::PublishHost(_) => "publish-host",
            Step::PublishSwitchovers(_) => "publish-switchovers",
            Step::RequestStart => "request-start",
            Step::GrantLock(_) => "grant-lock",
            Step::ReleaseLock => "release-lock",
            Step::MarkBootstrapped => "mark-bootstrapped",
            Step::RecordMembers(_) => "record-members",
            Step::StartWorkload { .. } => "start-workload",
            Step::EnsureServices => "ensure-services",
            Step::TuneSentinel => "tune-sentinel",
            Step::RefreshSupervision(_) => "refresh-supervision",
            Step::RestartAsReplica(_) => "restart-as-replica",
            Step::KeepValkeyDown => "keep-valkey-down",
            Step::ApplySettings { .. } => "apply-settings",
            Step::Rebind(_) => "rebind",
            Step::FollowAddresses { .. } => "follow-addresses",
            Step::FollowPrimary(_) => "follow-primary",
            Step::AllowPromotion(_) => "allow-promotion",
            Step::SetQuorum { .. } => "set-quorum",
            Step::ResetSentinel { .. } => "reset-sentinel",
            Step::AnnounceUpkeep(_) => "announce-upkeep",
            Step::HandOver { .. } => "hand-over",
            Step::StepAside { .. } => "step-aside",
            Step::StopServices => "stop-services",
            Step::MarkRetired => "mark-retired",
        }
    }

    /// Whether the step changes what the next observation sees in a way the plan decides on: the
    /// binary installed, services (re)started or moved, a Sentinel reset. The reconcile loop then
    /// observes and plans again within the same hook (a started replica's fence lift, the status
    /// of what runs now), instead of leaving it to the next hook.
    pub fn calls_for_another_look(&self) -> bool {
        matches!(
            self,
            Step::Install
                | Step::CreatePasswords { .. }
                | Step::StartWorkload { .. }
                | Step::EnsureServices
                | Step::RestartAsReplica(_)
                | Step::Rebind(_)
                | Step::FollowAddresses { restart_sentinel: true, .. }
                | Step::FollowPrimary(_)
                | Step::ResetSentinel { .. }
                | Step::StepAside { .. }
        )
    }
}

//! The exhaustive list of events this charm receives, parsed from `JUJU_DISPATCH_PATH`.
//!
//! An event the charm does not know (a newer Juju's hook, a rollback's leftover) becomes
//! [`Event::Unknown`] instead of a crash, so the charm can log and ignore it.

use std::path::Path;

/// The peer relation endpoint (metadata.yaml `peers:`).
pub const PEER_ENDPOINT: &str = "valkey-peers";
/// The client relation endpoint (metadata.yaml `provides:`), see `crate::client`.
pub const CLIENT_ENDPOINT: &str = "valkey-client";
/// The observability endpoint (`cos_agent` interface, `crate::cos`).
pub const COS_AGENT_ENDPOINT: &str = "cos-agent";
/// The storage name (metadata.yaml `storage:`).
pub const STORAGE_NAME: &str = "data";
/// The custom hook Sentinel's client-reconfig script dispatches through `juju-exec`.
pub const PRIMARY_CHANGED_HOOK: &str = "primary-changed";
/// The custom hook Valkey's supervisor dispatches through `juju-exec` after it restarted Valkey.
pub const VALKEY_RESTARTED_HOOK: &str = "valkey-restarted";
/// The custom hook the services ask for when something went down or came back between
/// update-status hooks: a Sentinel notification (`+sdown`, `+odown`, ...) or a service that exited
/// on its own. Its reconcile refreshes the status at once.
pub const SERVICES_CHANGED_HOOK: &str = "services-changed";

/// The actions declared in actions.yaml.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionKind {
    /// `get-primary`: report the current primary.
    GetPrimary,
    /// `failover [target=valkey/N]`: coordinated switchover.
    Failover,
    /// `get-password [username]`: a user's password from the charm's secret.
    GetPassword,
    /// `failover-history`: the changes of primary this unit's Sentinel saw.
    FailoverHistory,
    /// `promote-replica unit=valkey/N`: promote a replica while the primary is down for good.
    PromoteReplica,
}

impl ActionKind {
    /// The action's name as in actions.yaml.
    pub fn name(self) -> &'static str {
        match self {
            ActionKind::GetPrimary => "get-primary",
            ActionKind::Failover => "failover",
            ActionKind::GetPassword => "get-password",
            ActionKind::FailoverHistory => "failover-history",
            ActionKind::PromoteReplica => "promote-replica",
        }
    }

    /// Parses an action name; `None` for actions this charm does not declare.
    pub fn parse(name: &str) -> Option<ActionKind> {
        [
            ActionKind::GetPrimary,
            ActionKind::Failover,
            ActionKind::GetPassword,
            ActionKind::FailoverHistory,
            ActionKind::PromoteReplica,
        ]
        .into_iter()
        .find(|a| a.name() == name)
    }
}

/// Which relation hook of a non-peer endpoint ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RelationHook {
    /// `-relation-created`.
    Created,
    /// `-relation-joined`.
    Joined,
    /// `-relation-changed`.
    Changed,
    /// `-relation-departed`.
    Departed,
    /// `-relation-broken`.
    Broken,
}

impl RelationHook {
    /// The hook's suffix after `-relation-`.
    pub fn name(self) -> &'static str {
        match self {
            RelationHook::Created => "created",
            RelationHook::Joined => "joined",
            RelationHook::Changed => "changed",
            RelationHook::Departed => "departed",
            RelationHook::Broken => "broken",
        }
    }

    fn parse(kind: &str) -> Option<RelationHook> {
        [
            RelationHook::Created,
            RelationHook::Joined,
            RelationHook::Changed,
            RelationHook::Departed,
            RelationHook::Broken,
        ]
        .into_iter()
        .find(|h| h.name() == kind)
    }
}

/// Why the charm was run.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Event {
    /// `install`.
    Install,
    /// `start`.
    Start,
    /// `stop`: the unit is going away (or the machine is shutting down the agent).
    Stop,
    /// `remove`: last hook of a unit.
    Remove,
    /// `config-changed`: also after agent restarts and address changes.
    ConfigChanged,
    /// `upgrade-charm`.
    UpgradeCharm,
    /// `update-status`: periodic, cheapest possible.
    UpdateStatus,
    /// `leader-elected`.
    LeaderElected,
    /// `leader-settings-changed` (deprecated by Juju, still sent by some versions).
    LeaderSettingsChanged,
    /// `valkey-peers-relation-created`.
    PeerRelationCreated,
    /// `valkey-peers-relation-joined`.
    PeerRelationJoined,
    /// `valkey-peers-relation-changed`.
    PeerRelationChanged,
    /// `valkey-peers-relation-departed`.
    PeerRelationDeparted,
    /// `valkey-peers-relation-broken`.
    PeerRelationBroken,
    /// `data-storage-attached`.
    StorageAttached,
    /// `data-storage-detaching`: the unit is leaving; hand over the primary role first.
    StorageDetaching,
    /// `secret-changed`.
    SecretChanged,
    /// `secret-rotate`.
    SecretRotate,
    /// `secret-remove`.
    SecretRemove,
    /// A `valkey-client-relation-*` hook (a client application's relation).
    ClientRelation(RelationHook),
    /// A `cos-agent-relation-*` hook (the COS collector subordinate): an ordinary reconcile,
    /// which publishes the unit's `config` (`crate::cos`).
    CosAgentRelation(RelationHook),
    /// `primary-changed`: custom, dispatched by Sentinel's client-reconfig script via juju-exec.
    PrimaryChanged,
    /// `valkey-restarted`: custom, dispatched by Valkey's supervisor after a restart.
    ValkeyRestarted,
    /// `services-changed`: custom, dispatched when a Sentinel saw something go down or come back,
    /// or a service exited on its own ([`SERVICES_CHANGED_HOOK`]).
    ServicesChanged,
    /// An action declared in actions.yaml.
    Action(ActionKind),
    /// Anything else, with the dispatch path (or hook name) as received.
    Unknown(String),
}

impl Event {
    /// Parses a dispatch path: `hooks/<hook>` or `actions/<action>`; a bare name is taken as a hook.
    pub fn parse(dispatch_path: &str) -> Event {
        let trimmed = dispatch_path.trim().trim_start_matches("./");
        if let Some(action) = trimmed.strip_prefix("actions/") {
            return ActionKind::parse(action)
                .map_or_else(|| Event::Unknown(trimmed.to_string()), Event::Action);
        }
        let hook = trimmed.strip_prefix("hooks/").unwrap_or(trimmed);
        Event::from_hook_name(hook).unwrap_or_else(|| Event::Unknown(trimmed.to_string()))
    }

    /// The event for this invocation: `JUJU_DISPATCH_PATH` when set, else argv\[0\] — its
    /// basename, with a parent directory named `actions` meaning an action (an agent without
    /// dispatch support runs `hooks/<name>` or `actions/<name>` directly).
    pub fn from_invocation(dispatch_path: Option<&str>, argv0: &str) -> Event {
        if let Some(path) = dispatch_path.filter(|p| !p.is_empty()) {
            return Event::parse(path);
        }
        let path = Path::new(argv0);
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or(argv0);
        let parent = path.parent().and_then(|p| p.file_name()).and_then(|n| n.to_str());
        if parent == Some("actions") {
            Event::parse(&format!("actions/{name}"))
        } else {
            Event::parse(&format!("hooks/{name}"))
        }
    }

    /// Hook names this charm handles.
    fn from_hook_name(hook: &str) -> Option<Event> {
        let event = match hook {
            "install" => Event::Install,
            "start" => Event::Start,
            "stop" => Event::Stop,
            "remove" => Event::Remove,
            "config-changed" => Event::ConfigChanged,
            "upgrade-charm" => Event::UpgradeCharm,
            "update-status" => Event::UpdateStatus,
            "leader-elected" => Event::LeaderElected,
            "leader-settings-changed" => Event::LeaderSettingsChanged,
            "secret-changed" => Event::SecretChanged,
            "secret-rotate" => Event::SecretRotate,
            "secret-remove" => Event::SecretRemove,
            PRIMARY_CHANGED_HOOK => Event::PrimaryChanged,
            VALKEY_RESTARTED_HOOK => Event::ValkeyRestarted,
            SERVICES_CHANGED_HOOK => Event::ServicesChanged,
            _ => {
                if let Some(kind) =
                    hook.strip_prefix(PEER_ENDPOINT).and_then(|r| r.strip_prefix("-relation-"))
                {
                    match kind {
                        "created" => Event::PeerRelationCreated,
                        "joined" => Event::PeerRelationJoined,
                        "changed" => Event::PeerRelationChanged,
                        "departed" => Event::PeerRelationDeparted,
                        "broken" => Event::PeerRelationBroken,
                        _ => return None,
                    }
                } else if let Some(kind) =
                    hook.strip_prefix(CLIENT_ENDPOINT).and_then(|r| r.strip_prefix("-relation-"))
                {
                    Event::ClientRelation(RelationHook::parse(kind)?)
                } else if let Some(kind) =
                    hook.strip_prefix(COS_AGENT_ENDPOINT).and_then(|r| r.strip_prefix("-relation-"))
                {
                    Event::CosAgentRelation(RelationHook::parse(kind)?)
                } else if let Some(kind) =
                    hook.strip_prefix(STORAGE_NAME).and_then(|r| r.strip_prefix("-storage-"))
                {
                    match kind {
                        "attached" => Event::StorageAttached,
                        "detaching" => Event::StorageDetaching,
                        _ => return None,
                    }
                } else {
                    return None;
                }
            }
        };
        Some(event)
    }

    /// A short name for logs: the hook or action name.
    pub fn name(&self) -> String {
        let s = match self {
            Event::Install => "install",
            Event::Start => "start",
            Event::Stop => "stop",
            Event::Remove => "remove",
            Event::ConfigChanged => "config-changed",
            Event::UpgradeCharm => "upgrade-charm",
            Event::UpdateStatus => "update-status",
            Event::LeaderElected => "leader-elected",
            Event::LeaderSettingsChanged => "leader-settings-changed",
            Event::PeerRelationCreated => "valkey-peers-relation-created",
            Event::PeerRelationJoined => "valkey-peers-relation-joined",
            Event::PeerRelationChanged => "valkey-peers-relation-changed",
            Event::PeerRelationDeparted => "valkey-peers-relation-departed",
            Event::PeerRelationBroken => "valkey-peers-relation-broken",
            Event::StorageAttached => "data-storage-attached",
            Event::StorageDetaching => "data-storage-detaching",
            Event::SecretChanged => "secret-changed",
            Event::SecretRotate => "secret-rotate",
            Event::SecretRemove => "secret-remove",
            Event::PrimaryChanged => PRIMARY_CHANGED_HOOK,
            Event::ValkeyRestarted => VALKEY_RESTARTED_HOOK,
            Event::ServicesChanged => SERVICES_CHANGED_HOOK,
            Event::ClientRelation(kind) => return format!("{CLIENT_ENDPOINT}-relation-{}", kind.name()),
            Event::CosAgentRelation(kind) => return format!("{COS_AGENT_ENDPOINT}-relation-{}", kind.name()),
            Event::Action(kind) => return format!("action {}", kind.name()),
            Event::Unknown(what) => return format!("unknown event {what}"),
        };
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispatch_paths_parse() {
        let table = [
            ("hooks/install", Event::Install),
            ("hooks/start", Event::Start),
            ("hooks/stop", Event::Stop),
            ("hooks/remove", Event::Remove),
            ("hooks/config-changed", Event::ConfigChanged),
            ("hooks/upgrade-charm", Event::UpgradeCharm),
            ("hooks/update-status", Event::UpdateStatus),
            ("hooks/leader-elected", Event::LeaderElected),
            ("hooks/leader-settings-changed", Event::LeaderSettingsChanged),
            ("hooks/valkey-peers-relation-created", Event::PeerRelationCreated),
            ("hooks/valkey-peers-relation-joined", Event::PeerRelationJoined),
            ("hooks/valkey-peers-relation-changed", Event::PeerRelationChanged),
            ("hooks/valkey-peers-relation-departed", Event::PeerRelationDeparted),
            ("hooks/valkey-peers-relation-broken", Event::PeerRelationBroken),
            ("hooks/data-storage-attached", Event::StorageAttached),
            ("hooks/data-storage-detaching", Event::StorageDetaching),
            ("hooks/secret-changed", Event::SecretChanged),
            ("hooks/secret-rotate", Event::SecretRotate),
            ("hooks/secret-remove", Event::SecretRemove),
            ("hooks/primary-changed", Event::PrimaryChanged),
            ("./hooks/primary-changed", Event::PrimaryChanged),
            ("hooks/valkey-restarted", Event::ValkeyRestarted),
            ("hooks/services-changed", Event::ServicesChanged),
            ("hooks/valkey-client-relation-joined", Event::ClientRelation(RelationHook::Joined)),
            ("hooks/valkey-client-relation-changed", Event::ClientRelation(RelationHook::Changed)),
            ("hooks/valkey-client-relation-departed", Event::ClientRelation(RelationHook::Departed)),
            ("hooks/valkey-client-relation-broken", Event::ClientRelation(RelationHook::Broken)),
            (
                "hooks/valkey-client-relation-exploded",
                Event::Unknown("hooks/valkey-client-relation-exploded".into()),
            ),
            ("actions/get-primary", Event::Action(ActionKind::GetPrimary)),
            ("actions/failover", Event::Action(ActionKind::Failover)),
            ("actions/get-password", Event::Action(ActionKind::GetPassword)),
            ("actions/failover-history", Event::Action(ActionKind::FailoverHistory)),
            ("actions/promote-replica", Event::Action(ActionKind::PromoteReplica)),
            ("install", Event::Install),
            ("actions/reboot", Event::Unknown("actions/reboot".into())),
            ("hooks/secret-expired", Event::Unknown("hooks/secret-expired".into())),
            ("hooks/cos-agent-relation-joined", Event::CosAgentRelation(RelationHook::Joined)),
            ("hooks/cos-agent-relation-broken", Event::CosAgentRelation(RelationHook::Broken)),
            (
                "hooks/grafana-dashboard-relation-joined",
                Event::Unknown("hooks/grafana-dashboard-relation-joined".into()),
            ),
            (
                "hooks/valkey-peers-relation-exploded",
                Event::Unknown("hooks/valkey-peers-relation-exploded".into()),
            ),
            ("hooks/data-storage-resized", Event::Unknown("hooks/data-storage-resized".into())),
            ("hooks/", Event::Unknown("hooks/".into())),
        ];
        for (path, want) in table {
            assert_eq!(Event::parse(path), want, "{path}");
        }
    }

    #[test]
    fn dispatch_path_wins_over_argv0_and_argv0_is_the_fallback() {
        let table = [
            (Some("hooks/start"), "/charm/dispatch", Event::Start),
            (None, "/var/lib/juju/agents/unit-valkey-0/charm/hooks/install", Event::Install),
            (None, "hooks/valkey-peers-relation-joined", Event::PeerRelationJoined),
            (None, "/charm/actions/failover", Event::Action(ActionKind::Failover)),
            (Some(""), "update-status", Event::UpdateStatus),
            (None, "/charm/dispatch", Event::Unknown("hooks/dispatch".into())),
        ];
        for (path, argv0, want) in table {
            assert_eq!(Event::from_invocation(path, argv0), want, "{path:?} {argv0}");
        }
    }

    #[test]
    fn names_round_trip_through_parse() {
        for path in [
            "hooks/install",
            "hooks/valkey-peers-relation-departed",
            "hooks/data-storage-detaching",
            "hooks/valkey-client-relation-broken",
        ] {
            let event = Event::parse(path);
            assert_eq!(format!("hooks/{}", event.name()), path);
        }
        assert_eq!(Event::Action(ActionKind::Failover).name(), "action failover");
    }
}

//! The peer relation's data, typed: what each unit and the leader publish in `valkey-peers`.
//!
//! Keys are constants here so the protocol (docs/ha-protocol.md) has one source of truth. Parsing
//! is lenient: a malformed value reads as absent, which the protocol treats as "not yet".

use crate::juju::Bag;

/// The peer relation's endpoint name.
pub const ENDPOINT: &str = "valkey-peers";

/// Unit bag: the unit's announce host (network-get hostname, else its ingress address).
pub const HOST: &str = "host";
/// Unit bag: unix time at which the unit asked for the start lock.
pub const START_REQUESTED: &str = "start-requested";
/// Unit bag: `"true"` once the unit's Valkey and Sentinel run and were discovered by the others.
pub const STARTED: &str = "started";
/// Unit bag: the switchovers this unit knows with their measured durations, its own and its
/// peers' (JSON list of `history::Failover`, newest last; see `history::shared`).
pub const SWITCHOVERS: &str = "switchovers";
/// Unit bag, set by Juju: the address peers reach the unit at.
pub const INGRESS_ADDRESS: &str = "ingress-address";
/// Unit bag, set by Juju: the older name of the unit's address.
pub const PRIVATE_ADDRESS: &str = "private-address";
/// App bag: URI of the app-owned secret holding the passwords.
pub const SECRET_ID: &str = "secret-id";
/// App bag: the unit allowed to start now.
pub const START_LOCK: &str = "start-lock";
/// App bag: unix time at which the lock was granted (a holder stalled past the limit is reclaimed).
pub const START_LOCK_SINCE: &str = "start-lock-since";
/// App bag: `"true"` once some unit has started. From then on no unit may become the primary on
/// its own: a newcomer that does not yet see its peers (relation-joined comes after start) must
/// wait for a Sentinel to name the primary instead of bootstrapping a second one.
pub const BOOTSTRAPPED: &str = "bootstrapped";
/// App bag: the hosts of the units that have started (space-separated), kept by the leader.
/// *Why:* `bootstrapped` outlives the units that backed it (scale to 0, then up again). A leader
/// that sees no started unit asks these hosts' Sentinels: one that answers means the deployment
/// lives on (a newcomer's relation-list is empty until its `-relation-joined` hooks ran); none
/// answering means nobody backs the flag and the leader bootstraps anew (`plan::bootstrapped`).
pub const MEMBERS: &str = "members";
/// App bag: a counter the leader bumps after it reset Sentinels or changed their quorum. *Why:*
/// the other units read only their own Sentinel, in their own hooks; without an event they would
/// show the old counts (`4/3 sentinels`) until their next update-status. A changed app bag gives
/// each of them a `-relation-changed`, whose reconcile reads the Sentinels as they are now.
pub const SENTINEL_UPKEEP: &str = "sentinel-upkeep";

/// The unit number of `valkey/3` (3); `u32::MAX` for a malformed name so it sorts last.
pub fn unit_number(unit: &str) -> u32 {
    unit.rsplit_once('/').and_then(|(_, n)| n.parse().ok()).unwrap_or(u32::MAX)
}

/// One unit's view in the peer relation: its bag, typed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PeerUnit {
    /// Unit name (`valkey/1`).
    pub name: String,
    /// Where its Valkey and Sentinel can be reached; `None` until it published it.
    pub host: Option<String>,
    /// When it asked for the start lock; `None` when it has not asked.
    pub start_requested: Option<u64>,
    /// Whether it reports its services started and discovered.
    pub started: bool,
    /// Its current address, as Juju publishes it (`ingress-address`, else `private-address`).
    /// *Why:* when it changes, this unit's Sentinel still holds the old one (docs/ha-protocol.md
    /// "Address changes").
    pub address: Option<String>,
    /// The switchover records it publishes (`history::shared`); empty when none or malformed.
    pub switchovers: Vec<crate::history::Failover>,
}

impl PeerUnit {
    /// Reads a unit's bag.
    pub fn from_bag(name: &str, bag: &Bag) -> Self {
        Self {
            name: name.to_string(),
            host: bag.get(HOST).filter(|h| !h.is_empty()).cloned(),
            start_requested: bag.get(START_REQUESTED).and_then(|v| v.parse().ok()),
            started: bag.get(STARTED).map(String::as_str) == Some("true"),
            address: [INGRESS_ADDRESS, PRIVATE_ADDRESS]
                .iter()
                .find_map(|k| bag.get(*k).filter(|a| !a.is_empty()).cloned()),
            switchovers: bag.get(SWITCHOVERS).map(|v| crate::history::shared::parse(v)).unwrap_or_default(),
        }
    }

    /// Its unit number.
    pub fn number(&self) -> u32 {
        unit_number(&self.name)
    }
}

/// The leader's application bag, typed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AppData {
    /// URI of the passwords secret; `None` until the leader created it.
    pub secret_id: Option<String>,
    /// Holder of the start lock.
    pub start_lock: Option<String>,
    /// When the holder got it.
    pub start_lock_since: Option<u64>,
    /// Some unit has started: the deployment has (had) a primary.
    pub bootstrapped: bool,
    /// Hosts of the units that have started, as the leader last recorded them (sorted).
    pub members: Vec<String>,
    /// How many times the leader announced a Sentinel reset or quorum change (0: never).
    pub sentinel_upkeep: u64,
}

impl AppData {
    /// Reads the app bag.
    pub fn from_bag(bag: &Bag) -> Self {
        let non_empty = |k: &str| bag.get(k).filter(|v| !v.is_empty()).cloned();
        Self {
            secret_id: non_empty(SECRET_ID),
            start_lock: non_empty(START_LOCK),
            start_lock_since: bag.get(START_LOCK_SINCE).and_then(|v| v.parse().ok()),
            bootstrapped: bag.get(BOOTSTRAPPED).map(String::as_str) == Some("true"),
            members: bag
                .get(MEMBERS)
                .map(|v| {
                    let mut hosts: Vec<String> = v.split_whitespace().map(str::to_string).collect();
                    hosts.sort();
                    hosts
                })
                .unwrap_or_default(),
            sentinel_upkeep: bag.get(SENTINEL_UPKEEP).and_then(|v| v.parse().ok()).unwrap_or(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bag(kv: &[(&str, &str)]) -> Bag {
        kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn unit_bags() {
        let cases: &[(&[(&str, &str)], PeerUnit)] = &[
            (&[], PeerUnit { name: "valkey/1".into(), ..Default::default() }),
            (
                &[(HOST, "valkey-1.lan"), (START_REQUESTED, "1700000000"), (STARTED, "true")],
                PeerUnit {
                    name: "valkey/1".into(),
                    host: Some("valkey-1.lan".into()),
                    start_requested: Some(1_700_000_000),
                    started: true,
                    address: None,
                    switchovers: Vec::new(),
                },
            ),
            (
                &[(PRIVATE_ADDRESS, "10.0.0.2"), (INGRESS_ADDRESS, "198.18.1.9")],
                PeerUnit {
                    name: "valkey/1".into(),
                    address: Some("198.18.1.9".into()),
                    ..Default::default()
                },
            ),
            (
                &[(PRIVATE_ADDRESS, "10.0.0.2"), (INGRESS_ADDRESS, "")],
                PeerUnit { name: "valkey/1".into(), address: Some("10.0.0.2".into()), ..Default::default() },
            ),
            (
                &[(HOST, ""), (START_REQUESTED, "soon"), (STARTED, "yes")],
                PeerUnit { name: "valkey/1".into(), ..Default::default() },
            ),
        ];
        for (b, want) in cases {
            assert_eq!(&PeerUnit::from_bag("valkey/1", &bag(b)), want, "{b:?}");
        }
        let published = r#"[{"time":"2026-11-22 10:00:01.000","old_primary":"a","new_primary":"b","kind":"switchover","duration_ms":351}]"#;
        let u = PeerUnit::from_bag("valkey/1", &bag(&[(SWITCHOVERS, published)]));
        assert_eq!(u.switchovers.len(), 1);
        assert_eq!(u.switchovers[0].duration_ms, Some(351));
        assert!(PeerUnit::from_bag("valkey/1", &bag(&[(SWITCHOVERS, "nonsense")])).switchovers.is_empty());
    }

    #[test]
    fn app_bag() {
        let a = AppData::from_bag(&bag(&[
            (SECRET_ID, "secret:abc"),
            (START_LOCK, "valkey/2"),
            (START_LOCK_SINCE, "17"),
            (BOOTSTRAPPED, "true"),
            (SENTINEL_UPKEEP, "7"),
            (MEMBERS, "valkey-2.lan valkey-0.lan"),
        ]));
        assert_eq!(a.members, vec!["valkey-0.lan".to_string(), "valkey-2.lan".to_string()]);
        assert!(a.bootstrapped);
        assert_eq!(a.sentinel_upkeep, 7);
        assert_eq!(a.secret_id.as_deref(), Some("secret:abc"));
        assert_eq!(a.start_lock.as_deref(), Some("valkey/2"));
        assert_eq!(a.start_lock_since, Some(17));
        assert_eq!(AppData::from_bag(&bag(&[(START_LOCK, "")])), AppData::default());
        assert_eq!(AppData::from_bag(&bag(&[(SENTINEL_UPKEEP, "x")])).sentinel_upkeep, 0);
    }

    #[test]
    fn unit_numbers() {
        assert_eq!(unit_number("valkey/12"), 12);
        assert_eq!(unit_number("valkey"), u32::MAX);
        assert_eq!(unit_number("valkey/x"), u32::MAX);
    }
}

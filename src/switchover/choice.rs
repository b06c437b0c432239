//! Which replica a switchover promotes, and whether the engine can do it coordinated. Pure.

use super::SwitchoverError;
use crate::plan::IN_SYNC_BYTES;
use crate::valkey::{Endpoint, ReplicaEntry};

/// A replica as the primary lists it, as an address.
pub(super) fn endpoint_of(r: &ReplicaEntry) -> Endpoint {
    Endpoint::new(r.ip.clone(), r.port)
}

/// Does this engine have `SENTINEL FAILOVER … COORDINATED`? (Valkey 9.0+; Redis has not.)
pub fn has_coordinated(version: &str) -> bool {
    version.split('.').next().and_then(|m| m.parse::<u32>().ok()).is_some_and(|major| major >= 9)
}

/// Chooses the replica to promote: the target if given (it must be in sync), else the in-sync
/// replica with the highest offset. Pure, so it is table-tested.
pub fn choose(
    replicas: &[ReplicaEntry],
    primary_offset: u64,
    target: Option<&Endpoint>,
) -> Result<Endpoint, SwitchoverError> {
    let describe = |r: &ReplicaEntry| {
        if r.state != "online" {
            format!("{} {}", r.ip, r.state)
        } else {
            format!("{} behind by {} B", r.ip, primary_offset.saturating_sub(r.offset))
        }
    };
    let synced =
        |r: &&ReplicaEntry| r.state == "online" && primary_offset.saturating_sub(r.offset) <= IN_SYNC_BYTES;
    if let Some(t) = target {
        let r = replicas
            .iter()
            .find(|r| &endpoint_of(r) == t)
            .ok_or_else(|| SwitchoverError::NotAReplica(t.host.clone()))?;
        return if synced(&r) { Ok(t.clone()) } else { Err(SwitchoverError::NotInSync(describe(r))) };
    }
    if replicas.is_empty() {
        return Err(SwitchoverError::NotInSync("there are no replicas".into()));
    }
    replicas.iter().filter(synced).max_by_key(|r| r.offset).map(endpoint_of).ok_or_else(|| {
        SwitchoverError::NotInSync(replicas.iter().map(describe).collect::<Vec<_>>().join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(ip: &str, state: &str, offset: u64) -> ReplicaEntry {
        ReplicaEntry { ip: ip.into(), port: 6379, state: state.into(), offset, lag: 0 }
    }

    #[test]
    fn choice_table() {
        let reps = vec![r("a", "online", 900_000), r("b", "online", 1_000_000), r("c", "send_bulk", 0)];
        let ep = |h: &str| Endpoint::new(h, 6379);
        assert_eq!(choose(&reps, 1_000_000, None).unwrap(), ep("b"));
        assert_eq!(choose(&reps, 1_000_000, Some(&ep("b"))).unwrap(), ep("b"));
        let e = choose(&reps, 1_000_000, Some(&ep("a"))).unwrap_err();
        assert_eq!(e.to_string(), "no replica in sync (a behind by 100000 B)");
        let e = choose(&reps, 1_000_000, Some(&ep("c"))).unwrap_err();
        assert_eq!(e.to_string(), "no replica in sync (c send_bulk)");
        let e = choose(&reps, 1_000_000, Some(&ep("zz"))).unwrap_err();
        assert!(matches!(e, SwitchoverError::NotAReplica(_)));
        let e = choose(&[], 5, None).unwrap_err();
        assert_eq!(e.to_string(), "no replica in sync (there are no replicas)");
        let e = choose(&reps[2..], 5, None).unwrap_err();
        assert_eq!(e.to_string(), "no replica in sync (c send_bulk)");
    }

    #[test]
    fn coordinated_needs_valkey_9() {
        assert!(has_coordinated("9.1.2"));
        assert!(has_coordinated("10.0.0"));
        assert!(!has_coordinated("8.1.0"));
        assert!(!has_coordinated("7.0.15"));
        assert!(!has_coordinated("garbage"));
    }
}

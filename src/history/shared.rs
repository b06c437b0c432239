//! Switchover records shared through the peer relation.
//!
//! *Why:* a switchover's measured duration is known only to the unit whose `failover` action ran
//! it, and each unit's history is read from its own Sentinel's log; without sharing,
//! `failover-history` on another unit showed the same switch with the duration from its
//! Sentinel's `+try-failover`, or none.
//!
//! *How:* every unit publishes in its bag ([`crate::peers::SWITCHOVERS`]) the latest
//! [`PUBLISHED`] records it knows: its own (recorded beside its Sentinel's log) and every peer's.
//! Republishing the union means a record outlives the bag of the unit that made it. The union
//! only grows and is cut to the newest entries, so every unit converges on the same list and
//! stops writing once it has it. (A leaving primary's hand-over is not shared: a dying unit's
//! later bag changes reach no peer; docs/failover.md.)

use super::Failover;

/// How many records a unit keeps in its bag (the newest).
pub const PUBLISHED: usize = 20;

/// Reads a bag's value; a malformed value reads as none (a peer on another charm revision must
/// not break this unit's hooks).
pub fn parse(value: &str) -> Vec<Failover> {
    serde_json::from_str(value).unwrap_or_default()
}

/// The bag's value for `records`.
pub fn encode(records: &[Failover]) -> String {
    serde_json::to_string(records).unwrap_or_else(|_| "[]".into())
}

/// Every record of `sets` once, oldest first, at most the newest [`PUBLISHED`]. Records are the
/// same when every field is (they are copied verbatim from unit to unit).
pub fn union<'a>(sets: impl IntoIterator<Item = &'a [Failover]>) -> Vec<Failover> {
    let mut all: Vec<Failover> = sets.into_iter().flatten().cloned().collect();
    all.sort_by(|a, b| {
        (a.at_ms, &a.new_primary, &a.old_primary, a.duration_ms).cmp(&(
            b.at_ms,
            &b.new_primary,
            &b.old_primary,
            b.duration_ms,
        ))
    });
    all.dedup();
    let cut = all.len().saturating_sub(PUBLISHED);
    all.split_off(cut)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Kind;

    fn rec(time: &str, new: &str, ms: u64) -> Failover {
        Failover {
            at_ms: crate::history::clock::naive_ms(&format!("2026-11-22 {time}")).unwrap(),
            old_primary: "valkey-0.lan".into(),
            new_primary: new.into(),
            kind: Kind::Switchover,
            duration_ms: Some(ms),
        }
    }

    #[test]
    fn union_merges_sorts_dedups_and_keeps_the_newest() {
        let a = vec![rec("10:00:02.000", "b", 300), rec("10:00:01.000", "a", 400)];
        let b = vec![rec("10:00:01.000", "a", 400), rec("10:00:03.000", "c", 350)];
        let u = union([a.as_slice(), b.as_slice(), &[]]);
        let order: Vec<&str> = u.iter().map(|f| f.new_primary.as_str()).collect();
        assert_eq!(order, ["a", "b", "c"]);
        assert_eq!(union([u.as_slice(), a.as_slice()]), u, "stable: nothing new, nothing changes");

        let many: Vec<Failover> =
            (0..PUBLISHED as u64 + 5).map(|i| rec(&format!("11:{i:02}:00.000"), "x", i)).collect();
        let cut = union([many.as_slice()]);
        assert_eq!(cut.len(), PUBLISHED);
        assert_eq!(cut[0].duration_ms, Some(5), "the oldest five are dropped");
    }

    #[test]
    fn bag_values_round_trip_and_garbage_reads_as_none() {
        let records = vec![rec("10:00:01.000", "a", 400)];
        assert_eq!(parse(&encode(&records)), records);
        assert_eq!(parse(""), Vec::<Failover>::new());
        assert_eq!(parse("{not json"), Vec::<Failover>::new());
        assert_eq!(parse(&encode(&[])), Vec::<Failover>::new());
    }
}

//! The `services-changed` hook (issue 15, item 8): a Sentinel saw a node, a peer or a link go down
//! or come back, or a service exited on its own, and asked the charm to look now instead of at the
//! next update-status. One reconcile usually says it all; but a replica coming back is reported
//! (`-sdown`) as soon as it answers, before it has resynced, and no later event says when the
//! resync ends. So while this unit's Sentinel sees more replicas up than the primary has in sync
//! ([`catching_up`]), the hook looks again every [`RECHECK`], for at most [`SETTLE`].
//!
//! Pure: the predicate is table-tested below; the loop is in `crate::charm`.

use crate::observe::Observed;
use crate::plan::in_sync;
use std::time::Duration;

/// Longest a `services-changed` hook keeps looking while replicas catch up.
pub const SETTLE: Duration = Duration::from_secs(15);
/// Pause between two looks.
pub const RECHECK: Duration = Duration::from_secs(1);

/// Whether replicas this unit's Sentinel sees up are not yet in sync with the primary (a status
/// taken now would say "catching up", and nothing would wake the charm when they are done).
/// Not while no primary answers or a failover runs: there is nothing to be in sync with yet, and
/// the failover's end asks for `primary-changed` anyway — which waits for this hook's lock, so
/// looking on would only delay it (and the client relation's new `endpoints` with it).
pub fn catching_up(o: &Observed) -> bool {
    let Some(mine) = o.my_sentinel() else { return false };
    if o.primary_info.is_none() || mine.primary.as_ref().is_none_or(|p| p.failover_in_progress()) {
        return false;
    }
    let up = mine.replicas.iter().filter(|r| !r.is_down()).count();
    let synced = o
        .primary_info
        .as_ref()
        .map_or(0, |p| p.replicas.iter().filter(|r| in_sync(r, p.master_repl_offset)).count());
    up > synced
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::fixture::{primary_info, sentinel};
    use crate::valkey::KnownReplica;

    fn known(n: u32, flags: &[&str]) -> KnownReplica {
        KnownReplica {
            ip: crate::observe::fixture::host(n),
            port: crate::workload::VALKEY_PORT,
            flags: flags.iter().map(|f| f.to_string()).collect(),
            link_ok: true,
            repl_offset: 0,
            priority: 100,
            info_refresh_ms: 0,
        }
    }

    #[test]
    fn replicas_up_but_not_in_sync_are_catching_up() {
        let mut o = Observed::test(0);
        assert!(!catching_up(&o), "no Sentinel view");
        let mut view = sentinel(0, 0, 2, 2, 2);
        view.replicas = vec![known(1, &["slave"]), known(2, &["slave"])];
        o.sentinels = vec![view.clone()];
        o.primary_info = Some(primary_info(1000, &[(1, 1000), (2, 1000)]));
        assert!(!catching_up(&o), "both in sync");
        o.primary_info = Some(primary_info(1000, &[(1, 1000)]));
        assert!(catching_up(&o), "valkey/2 answers Sentinel but is not linked yet");
        o.primary_info = Some(primary_info(10_000_000, &[(1, 10_000_000), (2, 0)]));
        assert!(catching_up(&o), "valkey/2 far behind");
        view.replicas[1] = known(2, &["slave", "s_down"]);
        o.sentinels = vec![view];
        o.primary_info = Some(primary_info(1000, &[(1, 1000)]));
        assert!(!catching_up(&o), "a replica that is down is not catching up: nothing to wait for");
        // valkey/2 up and behind, but no primary answers, or a failover runs: primary-changed
        // follows, and must not wait for this hook.
        let mut behind = sentinel(0, 0, 2, 2, 2);
        behind.replicas = vec![known(1, &["slave"]), known(2, &["slave"])];
        o.sentinels = vec![behind.clone()];
        o.primary_info = Some(primary_info(1000, &[(1, 1000)]));
        assert!(catching_up(&o), "the case below differs from this one only as named");
        o.primary_info = None;
        assert!(!catching_up(&o), "no primary answers");
        o.primary_info = Some(primary_info(1000, &[(1, 1000)]));
        behind.primary.as_mut().unwrap().flags.push("failover_in_progress".into());
        o.sentinels = vec![behind];
        assert!(!catching_up(&o), "a failover runs");
    }
}

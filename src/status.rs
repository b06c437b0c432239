//! Status, computed from what was observed: blocked > maintenance > waiting > active.
//!
//! Active messages say the role and the HA health (`primary · 3/3 sentinels, quorum 2`) and warn
//! when the deployment cannot survive losing its primary right now, and why.

use crate::config::CANNOT_FAIL_OVER;
use crate::juju::StatusKind;
use crate::observe::Observed;
use crate::plan::{in_sync, majority, restart_rule, runtime_settings, Plan, Restart};
use crate::valkey::Role;

/// A status to set: kind and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// blocked, maintenance, waiting or active.
    pub kind: StatusKind,
    /// What the operator reads in `juju status`.
    pub message: String,
}

impl Status {
    fn new(kind: StatusKind, message: impl Into<String>) -> Status {
        Status { kind, message: message.into() }
    }
}

/// Renders a byte count the way an operator reads it (`0 B`, `12 KiB`, `3 MiB`).
pub fn bytes(n: u64) -> String {
    match n {
        0..1024 => format!("{n} B"),
        1024..1_048_576 => format!("{} KiB", n / 1024),
        _ => format!("{} MiB", n / 1_048_576),
    }
}

/// The unit's status after a reconcile. `notes` are what execution is still waiting for
/// (e.g. a start whose discovery wait ran out); they outrank the plan's own waiting reason.
pub fn unit_status(o: &Observed, plan: &Plan, notes: &[String]) -> Status {
    if let Some(s) = blocked(o) {
        return s;
    }
    if o.retired {
        return Status::new(StatusKind::Maintenance, "stopped: this unit is leaving");
    }
    if let Some(note) = notes.first() {
        return Status::new(StatusKind::Waiting, note.clone());
    }
    if let Some(why) = &plan.waiting {
        return Status::new(StatusKind::Waiting, why.clone());
    }
    if !o.me.started {
        return Status::new(StatusKind::Waiting, "waiting to start");
    }
    let Some(repl) = &o.local.replication else {
        return Status::new(StatusKind::Waiting, "waiting for Valkey to answer");
    };
    let message = active_message(o, repl.role);
    if orphaned(repl, o) {
        return Status::new(
            StatusKind::Waiting,
            format!("{message} · its primary is no unit of this application"),
        );
    }
    if let Some(why) = stale_sentinels(o) {
        return Status::new(StatusKind::Waiting, format!("{message} · {why}"));
    }
    Status::new(StatusKind::Active, message)
}

/// The leader's warning while a Sentinel still counts a departed unit (until the leader's reset
/// makes it forget): such a deployment must not look healthy. Only the leader says it — it sees
/// every Sentinel, resets them, and looks again once it has (`charm::reconcile`); another unit
/// would keep saying it until its next hook. A reset put off because the Sentinel knows a peer at
/// an address this hook's relation data does not have yet ([`crate::plan::due_for_reset`]) says so.
fn stale_sentinels(o: &Observed) -> Option<String> {
    if !o.leader {
        return None;
    }
    let stale: Vec<&crate::observe::SentinelView> = o
        .sentinels
        .iter()
        .filter(|s| s.primary.as_ref().is_some_and(|p| crate::plan::remembers_departed(o, p)))
        .collect();
    let (due, put_off): (Vec<_>, Vec<_>) = stale.into_iter().partition(|s| crate::plan::due_for_reset(o, s));
    let names = |v: &[&crate::observe::SentinelView]| {
        v.iter().map(|s| s.unit.as_str()).collect::<Vec<_>>().join(", ")
    };
    match (due.is_empty(), put_off.is_empty()) {
        (true, true) => None,
        (false, _) => {
            Some(format!("sentinels of {} still count a departed unit: resetting them", names(&due)))
        }
        (true, false) => {
            let mut unconfirmed: Vec<String> =
                put_off.iter().flat_map(|s| crate::readdress::unconfirmed_addresses(o, s)).collect();
            unconfirmed.sort();
            unconfirmed.dedup();
            Some(format!(
                "sentinels of {} know a unit at {}, an address no peer's relation data gives yet",
                names(&put_off),
                unconfirmed.join(", ")
            ))
        }
    }
}

fn blocked(o: &Observed) -> Option<Status> {
    if let Some(e) = &o.install_error {
        return Some(Status::new(StatusKind::Blocked, e.clone()));
    }
    if let (true, Restart::Refused(why)) = (o.me.started && !o.retired, restart_rule(o)) {
        return Some(Status::new(StatusKind::Blocked, why));
    }
    match &o.config {
        Err(e) => Some(Status::new(StatusKind::Blocked, e.to_string())),
        Ok(c) => {
            runtime_settings(c, o.live_count()).err().map(|e| Status::new(StatusKind::Blocked, e.to_string()))
        }
    }
}

/// `<role> · <seen>/<expected> sentinels, quorum <q>[ · cannot fail over: <why>]`.
fn active_message(o: &Observed, role: Role) -> String {
    let role_text = match role {
        Role::Primary => "primary".to_string(),
        Role::Replica | Role::Unknown => replica_text(o),
    };
    let expected = o.started_count().max(1);
    let (seen, quorum) = match o.my_sentinel().and_then(|s| s.primary.as_ref().map(|p| (s, p))) {
        // Only peers of started units count: a departed unit's Sentinel lingers in its peers'
        // tables until the leader resets them, and a leaving unit clears `started` first.
        Some((s, p)) => {
            (1 + s.peers.iter().filter(|k| !k.is_down() && started_at(o, &k.ip)).count(), p.quorum)
        }
        None => (0, 0),
    };
    let mut msg = format!("{role_text} · {seen}/{expected} sentinels, quorum {quorum}");
    if let Some(why) = cannot_fail_over(o, seen) {
        msg.push_str(" · ");
        msg.push_str(CANNOT_FAIL_OVER);
        msg.push_str(&why);
    }
    for cost in setting_costs(o) {
        msg.push_str(" · ");
        msg.push_str(&cost);
    }
    msg
}

/// What the settings cost right now, each shown in the unit and application status: every
/// warning of the config (`CharmConfig::warnings`) and a `maxmemory` the dataset has reached.
pub fn setting_costs(o: &Observed) -> Vec<String> {
    let mut out = o.config.as_ref().map(|c| c.warnings()).unwrap_or_default();
    out.extend(memory_warning(o));
    out
}

/// `maxmemory` at or below what the dataset uses (Valkey's own measure, `INFO memory`): with
/// `noeviction` every write fails with OOM, with the other policies keys are being evicted.
fn memory_warning(o: &Observed) -> Option<String> {
    let c = o.config.as_ref().ok()?;
    let m = o.local.memory?;
    if c.maxmemory == 0 || m.counted < c.maxmemory {
        return None;
    }
    let cost = if c.maxmemory_policy == "noeviction" { "writes fail with OOM" } else { "keys are evicted" };
    Some(format!("maxmemory {} is below the dataset ({}): {cost}", bytes(c.maxmemory), bytes(m.counted)))
}

/// Whether `host` is the announce host of a started unit other than this one.
/// Whether this replica has lost its link to a primary that no live unit runs: the primary's unit
/// left without handing over (or the address is stale). Nothing will bring that link back except
/// a failover, so the unit is not healthy whatever else holds. A link down to a live unit's
/// address is a fault Sentinel handles, and the message says "link down".
fn orphaned(r: &crate::valkey::ReplicationInfo, o: &Observed) -> bool {
    r.role == Role::Replica
        && !r.link_up
        && r.master_host.as_deref().is_some_and(|h| !o.units().any(|u| u.host.as_deref() == Some(h)))
}

fn started_at(o: &Observed, host: &str) -> bool {
    o.peers.iter().any(|u| u.started && u.host.as_deref() == Some(host))
}

fn replica_text(o: &Observed) -> String {
    let Some(r) = &o.local.replication else { return "replica".into() };
    let of = r.master_host.as_deref().map(|h| o.unit_at(h).unwrap_or(h).to_string()).unwrap_or_default();
    if !r.link_up {
        return format!("replica of {of}, link down");
    }
    match &o.primary_info {
        Some(p) => {
            format!("replica of {of}, lag {}", bytes(p.master_repl_offset.saturating_sub(r.data_offset())))
        }
        None => format!("replica of {of}"),
    }
}

/// Why the deployment could not survive losing its primary now, if it could not.
fn cannot_fail_over(o: &Observed, sentinels_seen: usize) -> Option<String> {
    let n = o.started_count();
    if n < 3 {
        return Some("needs 3 units for a Sentinel majority".into());
    }
    if sentinels_seen < majority(n) as usize {
        return Some(format!("only {sentinels_seen} of {n} sentinels reachable"));
    }
    match &o.primary_info {
        Some(p) if !p.replicas.iter().any(|r| in_sync(r, p.master_repl_offset)) => {
            Some("no replica in sync".into())
        }
        _ => None,
    }
}

/// The application status the leader sets: `primary valkey/0, 2 replicas in sync, quorum 2`.
pub fn app_status(o: &Observed, unit: &Status) -> Status {
    if matches!(unit.kind, StatusKind::Blocked) {
        return unit.clone();
    }
    if let Some(why) = stale_sentinels(o) {
        return Status::new(StatusKind::Waiting, why);
    }
    let Some(primary) = o.known_primary() else {
        return Status::new(StatusKind::Waiting, "no primary yet");
    };
    let name = o.unit_at(&primary.host).unwrap_or(&primary.host).to_string();
    let quorum = o.sentinels.iter().filter_map(|s| s.primary.as_ref()).map(|p| p.quorum).max().unwrap_or(0);
    let (synced, total) = match &o.primary_info {
        Some(p) => (p.replicas.iter().filter(|r| in_sync(r, p.master_repl_offset)).count(), p.replicas.len()),
        None => (0, 0),
    };
    let plural = if synced == 1 { "replica" } else { "replicas" };
    let mut msg = format!("primary {name}, {synced} {plural} in sync, quorum {quorum}");
    if synced < total {
        msg.push_str(&format!(" ({} catching up)", total - synced));
    }
    for cost in setting_costs(o) {
        msg.push_str(" · ");
        msg.push_str(&cost);
    }
    Status::new(StatusKind::Active, msg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigError;
    use crate::observe::fixture::{peer, primary_info, replica_info, sentinel};

    fn three(mut o: Observed, me: u32) -> Observed {
        let others: Vec<_> = (0..3).filter(|n| *n != me).map(|n| peer(n, true, Some(1))).collect();
        o = o.with_peers(others);
        o.sentinels = vec![sentinel(me, 0, 2, 2, 2)];
        o.primary_info = Some(primary_info(1000, &[(1, 1000), (2, 1000)]));
        o
    }

    #[test]
    fn active_messages() {
        let mut lone = Observed::test(0).running(primary_info(0, &[]));
        lone.sentinels = vec![sentinel(0, 0, 1, 0, 0)];
        let primary3 = three(Observed::test(0).running(primary_info(1000, &[(1, 1000), (2, 1000)])), 0);
        let replica3 = three(Observed::test(1).running(replica_info(0, 1000, true)), 1);
        // valkey/3 left; its Sentinel is still in valkey/1's table.
        let mut departed = replica3.clone();
        departed.sentinels = vec![sentinel(1, 0, 2, 2, 3)];
        // valkey/2 is leaving: it cleared `started`, its Sentinel is still in valkey/1's table.
        let mut leaving = replica3.clone();
        leaving.peers[1].started = false;
        let mut lagging = three(Observed::test(2).running(replica_info(0, 1000, true)), 2);
        lagging.primary_info.as_mut().unwrap().master_repl_offset = 1000 + 4096;
        let mut down = three(Observed::test(1).running(replica_info(0, 10, false)), 1);
        down.primary_info = None;
        let mut unsynced = three(Observed::test(0).running(primary_info(1_000_000, &[])), 0);
        unsynced.primary_info = Some(primary_info(1_000_000, &[(1, 10), (2, 10)]));
        let cases = vec![
            (
                lone,
                "primary · 1/1 sentinels, quorum 1 · cannot fail over: needs 3 units for a Sentinel majority",
            ),
            (primary3, "primary · 3/3 sentinels, quorum 2"),
            (departed, "replica of valkey/0, lag 0 B · 3/3 sentinels, quorum 2"),
            (leaving, "replica of valkey/0, lag 0 B · 2/2 sentinels, quorum 2 · cannot fail over: needs 3 units for a Sentinel majority"),
            (replica3, "replica of valkey/0, lag 0 B · 3/3 sentinels, quorum 2"),
            (lagging, "replica of valkey/0, lag 4 KiB · 3/3 sentinels, quorum 2"),
            (down, "replica of valkey/0, link down · 3/3 sentinels, quorum 2"),
            (unsynced, "primary · 3/3 sentinels, quorum 2 · cannot fail over: no replica in sync"),
        ];
        for (o, want) in cases {
            let s = unit_status(&o, &Plan::default(), &[]);
            assert_eq!(s, Status::new(StatusKind::Active, want));
        }
    }

    /// The primary's unit left without handing over (a two-unit removal once did, under load):
    /// the survivor's link is down to an address no unit has, and it must not say `active`.
    #[test]
    fn a_replica_whose_primary_left_the_application_is_not_active() {
        let mut orphan = Observed::test(1).running(replica_info(0, 10, false));
        orphan.sentinels = vec![sentinel(1, 0, 2, 0, 0)];
        let s = unit_status(&orphan, &Plan::default(), &[]);
        assert_eq!(s.kind, StatusKind::Waiting, "{s:?}");
        assert!(s.message.contains("its primary is no unit of this application"), "{s:?}");
        // The same link down to a live unit's address is Sentinel's business: still active.
        let live = orphan.with_peers(vec![peer(0, true, Some(1))]);
        assert_eq!(unit_status(&live, &Plan::default(), &[]).kind, StatusKind::Active);
    }

    /// After the primary's unit is removed every Sentinel still counts it until the leader resets
    /// them; the leader must not report the deployment healthy meanwhile (`wait` would).
    #[test]
    fn the_leader_waits_while_a_sentinel_still_counts_a_departed_unit() {
        let mut o = three(Observed::test(0).running(primary_info(1000, &[(1, 1000), (2, 1000)])), 0);
        o.leader = true;
        // valkey/3 departed: the leader remembers its host from when it was a peer.
        o.unit_hosts.insert(crate::observe::fixture::host(3), "valkey/3".into());
        o.sentinels = vec![sentinel(0, 0, 2, 2, 2), sentinel(1, 0, 2, 3, 3)];
        let unit = unit_status(&o, &Plan::default(), &[]);
        assert_eq!(
            unit,
            Status::new(
                StatusKind::Waiting,
                "primary · 3/3 sentinels, quorum 2 · sentinels of valkey/1 still count a departed unit: resetting them"
            )
        );
        let app = app_status(&o, &unit);
        assert_eq!(app.kind, StatusKind::Waiting, "{app:?}");
        o.sentinels[1] = sentinel(1, 0, 2, 2, 2);
        assert_eq!(unit_status(&o, &Plan::default(), &[]).kind, StatusKind::Active, "reset: healthy again");
        o.sentinels[1] = sentinel(1, 0, 2, 3, 3);
        o.leader = false;
        assert_eq!(
            unit_status(&o, &Plan::default(), &[]).kind,
            StatusKind::Active,
            "only the leader says it"
        );
    }

    /// valkey/1 moved (known by IP) after this hook read its bag: the Sentinels list it at an
    /// address no peer's relation data gives yet besides its old one, so they count one replica
    /// too many. The reset is put off (`plan::due_for_reset`), and the status says why.
    #[test]
    fn the_leader_says_which_address_it_waits_to_hear_of_before_resetting() {
        let mut o = three(Observed::test(0).running(primary_info(1000, &[(1, 1000), (2, 1000)])), 0);
        o.leader = true;
        let mut view = sentinel(0, 0, 2, 3, 2);
        view.replicas = ["198.18.9.3", "valkey-2.test"]
            .into_iter()
            .map(|ip| crate::valkey::KnownReplica {
                ip: ip.into(),
                flags: vec!["slave".into()],
                ..Default::default()
            })
            .collect();
        o.sentinels = vec![view];
        let unit = unit_status(&o, &Plan::default(), &[]);
        assert_eq!(unit.kind, StatusKind::Waiting, "{unit:?}");
        assert!(
            unit.message.ends_with(
                "sentinels of valkey/0 know a unit at 198.18.9.3, an address no peer's relation data gives yet"
            ),
            "{unit:?}"
        );
    }

    #[test]
    fn priority_blocked_then_maintenance_then_waiting() {
        let mut bad = Observed::test(0);
        bad.config = Err(ConfigError {
            option: "down-after-milliseconds".into(),
            message: "must be 2000..=600000".into(),
        });
        bad.retired = true;
        let waiting =
            Plan { steps: vec![], waiting: Some("waiting for start lock (held by valkey/1)".into()) };
        assert_eq!(
            unit_status(&bad, &waiting, &[]),
            Status::new(StatusKind::Blocked, "invalid down-after-milliseconds: must be 2000..=600000")
        );
        let mut retired = Observed::test(0);
        retired.retired = true;
        assert_eq!(unit_status(&retired, &waiting, &[]).kind, StatusKind::Maintenance);
        let o = Observed::test(2);
        assert_eq!(
            unit_status(&o, &waiting, &[]),
            Status::new(StatusKind::Waiting, "waiting for start lock (held by valkey/1)")
        );
        let note = vec!["waiting for valkey/0's sentinel to discover this unit".to_string()];
        assert_eq!(unit_status(&o, &waiting, &note).message, note[0]);
        let mut installing = Observed::test(0);
        installing.install_error = Some("no valkey-server found: attach a binary".into());
        assert_eq!(unit_status(&installing, &Plan::default(), &[]).kind, StatusKind::Blocked);
    }

    #[test]
    fn explicit_min_replicas_too_large_blocks() {
        let mut o = Observed::test(0).running(primary_info(0, &[]));
        o.config.as_mut().unwrap().min_replicas_to_write = Some(2);
        let s = unit_status(&o, &Plan::default(), &[]);
        assert_eq!(s.kind, StatusKind::Blocked);
        assert!(s.message.contains("min-replicas-to-write"), "{}", s.message);
    }

    #[test]
    fn application_status() {
        let o = three(Observed::test(0).leader().running(primary_info(1000, &[])), 0);
        let unit = unit_status(&o, &Plan::default(), &[]);
        assert_eq!(app_status(&o, &unit).message, "primary valkey/0, 2 replicas in sync, quorum 2");
        let mut catching = o.clone();
        catching.primary_info = Some(primary_info(10_000_000, &[(1, 10_000_000), (2, 5)]));
        assert_eq!(
            app_status(&catching, &unit).message,
            "primary valkey/0, 1 replica in sync, quorum 2 (1 catching up)"
        );
        let mut none = o.clone();
        none.sentinels.clear();
        assert_eq!(app_status(&none, &unit), Status::new(StatusKind::Waiting, "no primary yet"));
    }

    #[test]
    fn settings_that_disable_ha_show_what_they_cost() {
        let healthy =
            three(Observed::test(0).leader().running(primary_info(1000, &[(1, 1000), (2, 1000)])), 0);
        let mut no_priority = healthy.clone();
        no_priority.config.as_mut().unwrap().replica_priority = 0;
        let priority = "cannot fail over: replica-priority 0 on every replica";
        let mut full = healthy.clone();
        full.config.as_mut().unwrap().maxmemory = 64 << 20;
        full.local.memory = Some(crate::valkey::MemoryUse { counted: 70 << 20, maxmemory: 64 << 20 });
        let oom = "maxmemory 64 MiB is below the dataset (70 MiB): writes fail with OOM";
        let mut evicting = full.clone();
        evicting.config.as_mut().unwrap().maxmemory_policy = "allkeys-lru".into();
        let mut roomy = full.clone();
        roomy.local.memory = Some(crate::valkey::MemoryUse { counted: 10 << 20, maxmemory: 64 << 20 });
        let base = "primary · 3/3 sentinels, quorum 2";
        let app = "primary valkey/0, 2 replicas in sync, quorum 2";
        let cases = vec![
            (healthy, String::new()),
            (no_priority, format!(" · {priority}")),
            (full, format!(" · {oom}")),
            (evicting, " · maxmemory 64 MiB is below the dataset (70 MiB): keys are evicted".to_string()),
            (roomy, String::new()),
        ];
        for (o, costs) in cases {
            let unit = unit_status(&o, &Plan::default(), &[]);
            assert_eq!(unit, Status::new(StatusKind::Active, format!("{base}{costs}")));
            assert_eq!(app_status(&o, &unit), Status::new(StatusKind::Active, format!("{app}{costs}")));
        }
        // Every warning the config knows reaches the status.
        let mut o = three(Observed::test(1).running(replica_info(0, 1000, true)), 1);
        o.config.as_mut().unwrap().replica_priority = 0;
        let message = unit_status(&o, &Plan::default(), &[]).message;
        for w in o.config.as_ref().unwrap().warnings() {
            assert!(message.contains(&w), "{message} lacks {w}");
        }
    }

    #[test]
    fn byte_units() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(4096), "4 KiB");
        assert_eq!(bytes(3 * 1_048_576), "3 MiB");
    }
}

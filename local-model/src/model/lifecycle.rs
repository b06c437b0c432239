//! Pure state transitions of the unit lifecycle, in Juju's event order (juju-contract §3):
//! adding a unit, entering a relation's scope, removing a unit, leadership, and the queue.
//!
//! Nothing here touches the disk or processes; [`super::units`] and the agent do the effects.

use super::ModelError;
use crate::state::{
    application_of, unit_number, Bag, HookEvent, Life, ModelState, QueuedEvent, StatusRecord, Unit,
};
use std::net::Ipv4Addr;
use std::path::PathBuf;

/// A hook event with only a name.
pub fn hook(name: impl Into<String>) -> HookEvent {
    HookEvent { name: name.into(), ..HookEvent::default() }
}

/// A relation hook about `remote` (a unit) on relation `rel`.
pub fn relation_hook(endpoint: &str, kind: &str, rel: u32, remote: Option<&str>, app: &str) -> HookEvent {
    HookEvent {
        name: format!("{endpoint}-relation-{kind}"),
        relation_id: Some(rel),
        remote_unit: remote.map(str::to_string),
        remote_app: Some(app.to_string()),
        ..HookEvent::default()
    }
}

/// Appends `event` to the unit's queue, dropping a relation-changed identical to one still queued
/// (running it twice would show the same data twice).
pub fn enqueue(unit: &mut Unit, event: QueuedEvent) {
    if let QueuedEvent::Hook(h) = &event {
        if h.name.ends_with("-relation-changed") && unit.queue.contains(&event) {
            return;
        }
    }
    unit.queue.push_back(event);
}

/// Queues a hook on a unit (ignored if the unit is gone).
pub fn enqueue_hook(state: &mut ModelState, unit: &str, event: HookEvent) {
    if let Some(u) = state.units.get_mut(unit) {
        enqueue(u, QueuedEvent::Hook(event));
    }
}

/// The address of machine `machine` in the model's block: `.2` for machine 0, `.3` for 1, ...
pub fn machine_address(block: [u8; 3], machine: u32) -> Result<Ipv4Addr, ModelError> {
    let host = machine + 2;
    if host > 254 {
        return Err(ModelError::Usage(format!(
            "no address left in {}.{}.{}.0/24 (a model holds at most 253 machines and addresses)",
            block[0], block[1], block[2]
        )));
    }
    Ok(Ipv4Addr::new(block[0], block[1], block[2], host as u8))
}

/// Adds a new unit of `app` to the state with its initial queue (storage-attached per storage,
/// install, relation-created per peer endpoint, leader-elected if it leads, config-changed, start).
/// `storage_dir(unit, storage_id)` says where a storage instance lives. Returns the unit name.
pub fn add_unit(
    state: &mut ModelState,
    app: &str,
    storage_dir: impl Fn(&str, &str) -> PathBuf,
    now: f64,
) -> Result<String, ModelError> {
    if state.applications.get(app).is_some_and(|a| a.subordinate) {
        // `state/application.go`, `AddUnit`: subordinate units come only from relations.
        return Err(ModelError::Usage(format!(
            "cannot directly add units to subordinate application \"{app}\""
        )));
    }
    place_unit(state, app, None, storage_dir, now)
}

/// Adds a unit of the subordinate application `app` onto `principal`'s machine (same machine
/// number, address and hostname), with the same initial queue as any new unit. Juju creates it
/// when the principal unit enters the scope of a container-scoped relation with `app`
/// (`state/relationunit.go`, `EnterScope` → `subordinateOps`).
pub fn add_subordinate(
    state: &mut ModelState,
    app: &str,
    principal: &str,
    storage_dir: impl Fn(&str, &str) -> PathBuf,
    now: f64,
) -> Result<String, ModelError> {
    place_unit(state, app, Some(principal), storage_dir, now)
}

fn place_unit(
    state: &mut ModelState,
    app: &str,
    principal: Option<&str>,
    storage_dir: impl Fn(&str, &str) -> PathBuf,
    now: f64,
) -> Result<String, ModelError> {
    let host = match principal {
        Some(p) => {
            let p = state.units.get(p).ok_or_else(|| ModelError::Usage(format!("unit \"{p}\" not found")))?;
            Some((p.machine, p.address, p.hostname.clone()))
        }
        None => None,
    };
    let application = state
        .applications
        .get_mut(app)
        .ok_or_else(|| ModelError::Usage(format!("application \"{app}\" not found")))?;
    let name = format!("{app}/{}", application.next_unit);
    let (machine, address, hostname) = match host {
        Some(on_principal) => on_principal,
        None => {
            let machine = state.counters.machine;
            let address = machine_address(state.address_block, machine)?;
            state.counters.machine += 1;
            let hostname = match state.network_mode {
                crate::hosts::NetworkMode::Hosts => crate::hosts::plan::hostname(&name),
                crate::hosts::NetworkMode::Machines if state.unit_hostnames => {
                    crate::hosts::plan::hostname(&name)
                }
                crate::hosts::NetworkMode::Machines => String::new(),
                crate::hosts::NetworkMode::Loopback => String::new(),
            };
            (machine, address, hostname)
        }
    };
    application.next_unit += 1;
    let leads = application.leader.is_none();
    if leads {
        application.leader = Some(name.clone());
    }
    let storage_names = application.storage_names.clone();
    let storage_specs = application.storage_specs.clone();
    let mut unit = Unit {
        name: name.clone(),
        application: app.to_string(),
        machine,
        address,
        hostname,
        principal: principal.map(str::to_string),
        workload_status: StatusRecord {
            status: "waiting".into(),
            message: "waiting for machine".into(),
            since: now,
        },
        agent_status: StatusRecord { status: "allocating".into(), message: String::new(), since: now },
        ..Unit::default()
    };
    for storage in &storage_names {
        let id = format!("{storage}/{}", state.counters.storage);
        state.counters.storage += 1;
        unit.storage.insert(id.clone(), storage_dir(&name, &id));
        if state.network_mode == crate::hosts::NetworkMode::Machines && principal.is_none() {
            // The unit has a machine of its own: the instance is mounted where Juju mounts it.
            let spec = storage_specs.get(storage).cloned().unwrap_or_default();
            let mount = spec.mount_point(&id).map_err(ModelError::Usage)?;
            unit.storage_mounts.insert(id.clone(), mount);
        }
        let event = HookEvent { storage_id: Some(id), ..hook(format!("{storage}-storage-attached")) };
        enqueue(&mut unit, QueuedEvent::Hook(event));
    }
    enqueue(&mut unit, QueuedEvent::Hook(hook("install")));
    // Every live relation of the application, peer or not: the newcomer runs relation-created for
    // each before it starts, and only then enters its scope (Juju's created-relations resolver,
    // `internal/worker/uniter/relation/resolver.go`, `NewCreatedRelationResolver`).
    // A subordinate takes part in a container-scoped relation only with its own principal's
    // application (`state/relationunit.go`, `RelationUnit.Valid`).
    let principal_app = principal.map(application_of);
    let relations: Vec<u32> = state
        .relations
        .values()
        .filter(|r| r.applications.contains(app) && !r.dying)
        .filter(|r| !r.container || principal_app.is_none_or(|p| r.applications.contains(p)))
        .map(|r| r.id)
        .collect();
    for rel in relations {
        let relation = state.relations.get_mut(&rel).expect("listed relation");
        let remote = crate::tools::relation::remote_app(relation, &name);
        let event = relation_hook(relation.endpoint_for(app), "created", rel, None, &remote);
        enqueue(&mut unit, QueuedEvent::Hook(event));
        relation.unit_bags.insert(name.clone(), address_bag(address));
    }
    if leads {
        enqueue(&mut unit, QueuedEvent::Hook(hook("leader-elected")));
    }
    enqueue(&mut unit, QueuedEvent::Hook(hook("config-changed")));
    enqueue(&mut unit, QueuedEvent::Hook(hook("start")));
    state.units.insert(name.clone(), unit);
    Ok(name)
}

/// The settings Juju puts in every unit's bag when it joins a relation: its addresses.
pub fn address_bag(address: Ipv4Addr) -> Bag {
    [
        ("private-address", address.to_string()),
        ("ingress-address", address.to_string()),
        ("egress-subnets", format!("{address}/32")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// Creates the peer relations of a newly deployed application (one per peer endpoint).
pub fn create_peer_relations(state: &mut ModelState, app: &str) {
    let endpoints = state.applications.get(app).map(|a| a.peer_endpoints.clone()).unwrap_or_default();
    for endpoint in endpoints {
        if state.peer_relation(app, &endpoint).is_some() {
            continue;
        }
        let id = state.counters.relation;
        state.counters.relation += 1;
        let relation = crate::state::Relation {
            id,
            endpoint,
            applications: [app.to_string()].into(),
            app_bags: [(app.to_string(), Bag::new())].into(),
            ..Default::default()
        };
        state.relations.insert(id, relation);
    }
}

/// `unit` has run its relation-created hook for `rel`: it enters the relation's scope. Every other
/// alive unit already in scope gets -joined then -changed for it, and it gets the same for each of
/// them (sorted by unit number; queued after its start hook, as in Juju). If the application bag
/// was ever written, the newcomer first gets `-relation-changed` with no remote unit: Juju's
/// relation resolver runs app-level hooks before joins (`nextHookForRelation`).
pub fn enter_scope(state: &mut ModelState, unit: &str, rel: u32) {
    let Some(relation) = state.relations.get(&rel) else { return };
    if relation.dying {
        return;
    }
    let remote_app = crate::tools::relation::remote_app(relation, unit);
    let Some(me) = state.units.get(unit) else { return };
    if me.life != Life::Alive {
        return;
    }
    let app = me.application.clone();
    let endpoint = relation.endpoint_for(&app).to_string();
    let remote_endpoint = relation.endpoint_for(&remote_app).to_string();
    let app_written = relation.app_bags.get(&remote_app).is_some_and(|bag| !bag.is_empty());
    // The members this unit joins: its peers in a peer relation, else the remote application's
    // units (a unit never sees its own application's units in a cross-application relation).
    // In a container-scoped relation only the units of the same container meet: a principal
    // unit and its own subordinate (the scope key ends in the principal's name,
    // `state/relation.go`, `Relation.Unit`).
    let container = me.container().to_string();
    let mut others: Vec<String> = state
        .units
        .values()
        .filter(|u| u.name != unit && u.life == Life::Alive && u.relation_views.contains_key(&rel))
        .filter(|u| u.application == remote_app && relation.applications.contains(&u.application))
        .filter(|u| !relation.container || u.container() == container)
        .map(|u| u.name.clone())
        .collect();
    others.sort_by_key(|u| unit_number(u));
    if let Some(me) = state.units.get_mut(unit) {
        me.relation_views.entry(rel).or_default();
    }
    if app_written {
        enqueue_hook(state, unit, relation_hook(&endpoint, "changed", rel, None, &remote_app));
    }
    for other in &others {
        for kind in ["joined", "changed"] {
            enqueue_hook(state, other, relation_hook(&remote_endpoint, kind, rel, Some(unit), &app));
            let their_app = application_of(other).to_string();
            enqueue_hook(state, unit, relation_hook(&endpoint, kind, rel, Some(other), &their_app));
        }
    }
}

/// The subordinate application a unit that just entered relation `rel`'s scope must get a unit
/// of, if any: the relation is container-scoped, the unit is a live principal, the other side is
/// a subordinate application, and no unit of it is on this principal yet. Juju creates that unit
/// in the same transaction as the scope entry (`state/relationunit.go`, `EnterScope` →
/// `subordinateOps`: "there's no point having a principal in scope if there is no corresponding
/// subordinate to join it").
pub fn subordinate_due(state: &ModelState, unit: &str, rel: u32) -> Option<String> {
    let relation = state.relations.get(&rel).filter(|r| r.container && !r.dying)?;
    let me = state.units.get(unit).filter(|u| u.life == Life::Alive && u.principal.is_none())?;
    let other = relation.applications.iter().find(|a| **a != me.application)?;
    state.applications.get(other).filter(|a| a.subordinate)?;
    let present =
        state.units.values().any(|u| u.application == *other && u.principal.as_deref() == Some(unit));
    (!present).then(|| other.clone())
}

/// Bookkeeping done when a hook *starts*: -joined adds the remote unit to the unit's view of the
/// relation (so `relation-list` shows it), -departed removes it. -joined and -changed about a unit
/// drop its cached settings, so this hook reads them afresh; nothing else does (Juju's
/// `InvalidateMember`, `internal/worker/uniter/runner/context/cache.go`).
pub fn on_hook_start(unit: &mut Unit, event: &HookEvent) {
    if event.name.ends_with("-relation-broken") {
        // The unit leaves the relation: from now on `relation-ids` no longer lists it.
        if let Some(rel) = event.relation_id {
            unit.relation_views.remove(&rel);
            unit.relation_cache.remove(&rel);
        }
        return;
    }
    let (Some(rel), Some(remote)) = (event.relation_id, event.remote_unit.as_ref()) else { return };
    let about_settings =
        event.name.ends_with("-relation-joined") || event.name.ends_with("-relation-changed");
    if about_settings {
        if let Some(cache) = unit.relation_cache.get_mut(&rel) {
            cache.remove(remote);
        }
    }
    if event.name.ends_with("-relation-joined") {
        unit.relation_views.entry(rel).or_default().insert(remote.clone());
    } else if event.name.ends_with("-relation-departed") {
        if let Some(view) = unit.relation_views.get_mut(&rel) {
            view.remove(remote);
        }
        if let Some(cache) = unit.relation_cache.get_mut(&rel) {
            cache.remove(remote);
        }
    }
}

/// Makes the lowest-numbered alive unit of `app` the leader and queues `leader-elected` on it.
pub fn elect_leader(state: &mut ModelState, app: &str) {
    let next = state.units_of(app).into_iter().find(|u| u.life == Life::Alive).map(|u| u.name.clone());
    if let Some(a) = state.applications.get_mut(app) {
        a.leader.clone_from(&next);
    }
    if let Some(leader) = next {
        enqueue_hook(state, &leader, hook("leader-elected"));
    }
}

/// Starts removing `unit`: it becomes Dying and gets its teardown hooks — `-relation-departed`
/// for each peer it has seen (departing unit = itself) and `-storage-detaching` per storage, in
/// the model's [`crate::state::TeardownOrder`], then `stop` and `remove`; the peers that have seen
/// it get `-relation-departed`. A leader keeps leading until it is gone ([`finish_removal`]): Juju
/// revokes a lease only when the unit is Dead (`internal/worker/uniter/leadership/resolver.go`).
/// With `force_by` (`remove-unit --force`: the time by which it must be gone) the same hooks run,
/// but the unit is removed then at the latest ([`forced_due`]), even when a hook fails or hangs;
/// forcing a unit already dying only sets that bound. Juju's forced cleanup does the same
/// (`state/cleanup.go`, `scheduleForceCleanup`).
pub fn begin_removal(state: &mut ModelState, unit: &str, force_by: Option<f64>) -> Result<(), ModelError> {
    // A principal's subordinates go first: they become Dying with it, and the principal is not
    // removed while any is left (the uniter's `terminate` waits for `HasSubordinates` to be false
    // before `EnsureDead`, `internal/worker/uniter/uniter.go`; a forced removal destroys them
    // with force, `state/cleanup.go`, `cleanupForceDestroyedUnit`).
    let subordinates: Vec<String> = state
        .subordinates_of(unit)
        .into_iter()
        .filter(|s| s.life == Life::Alive || force_by.is_some())
        .map(|s| s.name.clone())
        .collect();
    if state.units.get(unit).is_some_and(|u| u.life == Life::Alive || force_by.is_some()) {
        for sub in subordinates {
            begin_removal(state, &sub, force_by)?;
        }
    }
    let storage_first = state.teardown_order.storage_first(unit);
    let me =
        state.units.get_mut(unit).ok_or_else(|| ModelError::Usage(format!("unit \"{unit}\" not found")))?;
    if let Some(bound) = force_by {
        me.force_deadline = Some(me.force_deadline.map_or(bound, |d| d.min(bound)));
    }
    if me.life == Life::Dying {
        return match force_by {
            Some(_) => Ok(()),
            None => Err(ModelError::Usage(format!("unit \"{unit}\" is already being removed"))),
        };
    }
    me.life = Life::Dying;
    let app = me.application.clone();
    let views = me.relation_views.clone();
    // A departure already queued (a peer removed just before) is replaced by this unit's own: once
    // a unit is Dying, Juju names it the departing unit of every -departed it runs
    // (`relation/resolver.go`, `nextHookForRelation`).
    let about_peer = |e: &QueuedEvent| {
        matches!(e, QueuedEvent::Hook(h) if h.remote_unit.is_some()
            && (h.name.ends_with("-relation-joined") || h.name.ends_with("-relation-changed")
                || h.name.ends_with("-relation-departed")))
    };
    let dying_relations: Vec<u32> = state.relations.values().filter(|r| r.dying).map(|r| r.id).collect();
    let of_dying_relation = |e: &QueuedEvent| matches!(e, QueuedEvent::Hook(h) if h.relation_id.is_some_and(|r| dying_relations.contains(&r)));
    // A relation being removed keeps its own -departed/-broken hooks (queued by remove-relation).
    me.queue.retain(|e| !about_peer(e) || of_dying_relation(e));
    let mut detaching = Vec::new();
    for id in me.storage.keys() {
        let name = id.split('/').next().unwrap_or_default();
        detaching
            .push(HookEvent { storage_id: Some(id.clone()), ..hook(format!("{name}-storage-detaching")) });
    }
    let mut departed = Vec::new();
    for (rel, peers) in &views {
        let Some(relation) = state.relations.get(rel).filter(|r| !r.dying) else { continue };
        let remote_app = crate::tools::relation::remote_app(relation, unit);
        let endpoint = relation.endpoint_for(&app).to_string();
        let remote_endpoint = relation.endpoint_for(&remote_app).to_string();
        let cross_app = (!relation.is_peer()).then_some(remote_app);
        let mut peers: Vec<&String> = peers.iter().collect();
        peers.sort_by_key(|u| (application_of(u).to_string(), unit_number(u)));
        for peer in peers {
            let mut e = relation_hook(&endpoint, "departed", *rel, Some(peer), application_of(peer));
            e.departing_unit = Some(unit.to_string());
            departed.push(e);
        }
        // Once it has departed every member, a dying unit breaks each cross-application relation
        // (never a peer one): `internal/worker/uniter/relation/resolver.go`, `nextHookForRelation`.
        if let Some(remote) = cross_app {
            departed.push(relation_hook(&endpoint, "broken", *rel, None, &remote));
        }
        let others: Vec<String> = state.units.keys().filter(|u| *u != unit).cloned().collect();
        for other in others {
            let o = state.units.get_mut(&other).expect("listed unit");
            o.queue.retain(|e| {
                !matches!(e, QueuedEvent::Hook(h) if h.remote_unit.as_deref() == Some(unit)
                && (h.name.ends_with("-relation-joined") || h.name.ends_with("-relation-changed")))
            });
            // A unit already dying (a subordinate removed with its principal) departs on its own.
            let departs_itself = o.life == Life::Dying
                && o.queue.iter().any(|e| {
                    matches!(e, QueuedEvent::Hook(h) if h.relation_id == Some(*rel)
                        && h.remote_unit.as_deref() == Some(unit) && h.name.ends_with("-relation-departed"))
                });
            if o.relation_views.get(rel).is_some_and(|v| v.contains(unit)) && !departs_itself {
                let mut e = relation_hook(&remote_endpoint, "departed", *rel, Some(unit), &app);
                e.departing_unit = Some(unit.to_string());
                enqueue(o, QueuedEvent::Hook(e));
            }
        }
    }
    let (first, then) = if storage_first { (detaching, departed) } else { (departed, detaching) };
    for event in first.into_iter().chain(then) {
        enqueue_hook(state, unit, event);
    }
    enqueue_hook(state, unit, hook("stop"));
    enqueue_hook(state, unit, hook("remove"));
    Ok(())
}

/// How long `remove-unit --force` lets a unit's teardown hooks run before it is removed anyway:
/// the controller's default wait for a forced removal (`apiserver/common/destroy.go`, `MaxWait`:
/// one minute when the client sends none); `--force --no-wait` sends a wait of 0
/// (`cmd/juju/application/removeunit.go`).
pub const FORCE_MAX_WAIT_SECS: f64 = 60.0;

/// The force-removed units whose bound has passed at `now`: to be removed with
/// [`finish_removal`] and torn down, whatever their hooks are doing.
pub fn forced_due(state: &ModelState, now: f64) -> Vec<String> {
    state
        .units
        .values()
        .filter(|u| u.force_deadline.is_some_and(|d| d <= now))
        .map(|u| u.name.clone())
        .collect()
}

/// The earliest force-removal bound still ahead, for the agent's timer.
pub fn next_force_deadline(state: &ModelState) -> f64 {
    state.units.values().filter_map(|u| u.force_deadline).fold(f64::INFINITY, f64::min)
}

/// Deletes `unit` from the state (after its `remove` hook, or at once when forced): its relation
/// bags and every trace of it in other units' views. Returns it, for directory cleanup.
pub fn finish_removal(state: &mut ModelState, unit: &str) -> Option<Unit> {
    let removed = state.units.remove(unit)?;
    // Operations that never ran fail, so whoever waits for them (`run`, `juju-exec`) returns.
    for event in &removed.queue {
        if let QueuedEvent::Operation { id } = event {
            if let Some(op) = state.operations.get_mut(id) {
                op.status = "failed".into();
                op.failure = Some(format!("unit {unit} was removed"));
            }
        }
    }
    for relation in state.relations.values_mut() {
        relation.unit_bags.remove(unit);
    }
    for other in state.units.values_mut() {
        for view in other.relation_views.values_mut() {
            view.remove(unit);
        }
        for cache in other.relation_cache.values_mut() {
            cache.remove(unit);
        }
    }
    super::relations::forget_finished(state);
    if state.applications.get(&removed.application).and_then(|a| a.leader.as_deref()) == Some(unit) {
        elect_leader(state, &removed.application.clone());
    }
    Some(removed)
}

#[cfg(test)]
#[path = "lifecycle_tests.rs"]
mod tests;

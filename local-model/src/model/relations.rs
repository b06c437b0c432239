//! Cross-application relations as Juju's controller keeps them: inferring the endpoints of
//! `integrate A[:ep] B[:ep]`, creating the relation, and removing it (`remove-relation`, or an
//! application's removal). Pure state transitions; the agent runs the hooks they queue.
//!
//! Sources: `state/state.go` (`InferEndpoints`, `AddRelation`, the relation limit),
//! `cmd/juju/application/integrate.go`, `cmd/juju/application/removerelation.go`,
//! `internal/worker/uniter/relation/resolver.go` (departed, then broken, on every unit).

use super::lifecycle::{address_bag, enqueue_hook, relation_hook};
use super::ModelError;
use crate::state::{
    application_of, unit_number, Bag, HookEvent, Life, ModelState, QueuedEvent, Relation, RelationEnd, Unit,
};

/// One side of a candidate relation: application, endpoint, role and interface.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Candidate {
    app: String,
    endpoint: String,
    role: &'static str,
    interface: String,
}

impl Candidate {
    fn name(&self) -> String {
        format!("{}:{}", self.app, self.endpoint)
    }
}

/// Juju's key of a two-endpoint relation: the requirer first (`client:db valkey:client`).
fn key(pair: &[Candidate; 2]) -> String {
    let (req, prov) = if pair[0].role == "requirer" { (&pair[0], &pair[1]) } else { (&pair[1], &pair[0]) };
    format!("{} {}", req.name(), prov.name())
}

/// The key (`client:db valkey:client`) of a cross-application relation.
pub fn relation_key_of(relation: &Relation) -> String {
    let name = |role: &str| {
        relation
            .ends
            .iter()
            .find(|(_, end)| end.role == role)
            .map(|(app, end)| format!("{app}:{}", end.endpoint))
            .unwrap_or_default()
    };
    format!("{} {}", name("requirer"), name("provider"))
}

/// The endpoints `name` (`app` or `app:endpoint`) may stand for.
fn endpoints_of(state: &ModelState, name: &str) -> Result<Vec<Candidate>, ModelError> {
    let (app, endpoint) = match name.split_once(':') {
        Some((app, ep)) => (app, Some(ep)),
        None => (name, None),
    };
    let application = state
        .applications
        .get(app)
        .ok_or_else(|| ModelError::Usage(format!("application \"{app}\" not found")))?;
    let mut out = Vec::new();
    for (role, specs) in [("provider", &application.provides), ("requirer", &application.requires)] {
        for (ep, spec) in specs {
            if endpoint.is_none_or(|e| e == ep) {
                let interface = spec.interface.clone();
                out.push(Candidate { app: app.to_string(), endpoint: ep.clone(), role, interface });
            }
        }
    }
    Ok(out)
}

/// The one pair of endpoints `a` and `b` can relate: a provider and a requirer of the same
/// interface, in different applications (Juju's `InferEndpoints`, `state/state.go`: none is
/// `no relations found`, several is `ambiguous relation: ...`).
fn infer(state: &ModelState, a: &str, b: &str) -> Result<[Candidate; 2], ModelError> {
    let (left, right) = (endpoints_of(state, a)?, endpoints_of(state, b)?);
    let mut found = Vec::new();
    for l in &left {
        for r in &right {
            if l.app != r.app && l.role != r.role && l.interface == r.interface {
                found.push([l.clone(), r.clone()]);
            }
        }
    }
    match found.len() {
        0 => Err(ModelError::Usage("no relations found".into())),
        1 => Ok(found.remove(0)),
        _ => {
            let mut keys: Vec<String> = found.iter().map(|p| format!("\"{}\"", key(p))).collect();
            keys.sort();
            Err(ModelError::Usage(format!(
                "ambiguous relation: \"{a} {b}\" could refer to {}",
                keys.join("; ")
            )))
        }
    }
}

/// `integrate A[:ep] B[:ep]`: creates the relation and queues `-relation-created` on every unit of
/// both applications; each unit enters the relation's scope (joined + changed for every remote
/// unit, on both sides) once its relation-created has run ([`super::lifecycle::enter_scope`]).
/// Returns the new relation id.
pub fn integrate(state: &mut ModelState, a: &str, b: &str) -> Result<u32, ModelError> {
    let pair = infer(state, a, b)?;
    let wanted = key(&pair);
    if state.relations.values().any(|r| !r.ends.is_empty() && relation_key_of(r) == wanted) {
        // The controller's `cannot add relation "K": relation K already exists`, which the CLI
        // splits at ": " and follows with a hint (`cmd/juju/application/integrate.go`, `Run`).
        return Err(ModelError::Multiline(format!(
            "cannot add relation \"{wanted}\"\nrelation {wanted} already exists: \n\n\
             Use 'juju status --relations' to view the current relations."
        )));
    }
    let spec_of = |side: &Candidate| {
        let app = &state.applications[&side.app];
        let specs = if side.role == "provider" { &app.provides } else { &app.requires };
        specs[&side.endpoint].clone()
    };
    let container = pair.iter().any(|side| spec_of(side).container);
    if container && !pair.iter().any(|side| state.applications[&side.app].subordinate) {
        // Two principals cannot share a container: Juju refuses it when it would place the
        // subordinate (`state/relationunit.go`, `subordinateOps` finds no subordinate to create).
        return Err(ModelError::Usage(format!(
            "cannot add relation \"{wanted}\": a container-scoped relation needs a subordinate application"
        )));
    }
    let mut created = Vec::new();
    for side in &pair {
        let remote = &pair.iter().find(|c| c.app != side.app).expect("two sides").app;
        // Subordinate units join only through their principal: one on a principal of another
        // application is not in this container relation (`RelationUnit.Valid`).
        for unit in state.units_of(&side.app).into_iter().filter(|u| u.life == Life::Alive) {
            if container && unit.principal.as_deref().is_some_and(|p| application_of(p) != remote.as_str()) {
                continue;
            }
            created.push((unit.name.clone(), unit.address, side.endpoint.clone(), remote.clone()));
        }
    }
    for side in &pair {
        let spec = &state.applications[&side.app];
        let limit =
            if side.role == "provider" { &spec.provides } else { &spec.requires }[&side.endpoint].limit;
        let taken = state
            .relations
            .values()
            .filter(|r| r.ends.get(&side.app).is_some_and(|end| end.endpoint == side.endpoint))
            .count();
        if let Some(limit) = limit.filter(|&l| l > 0 && taken as u32 >= l) {
            return Err(ModelError::Usage(format!(
                "cannot add relation \"{wanted}\": establishing a new relation for {} would exceed its maximum relation limit of {limit} (quota limit exceeded)",
                side.name()
            )));
        }
    }
    let id = state.counters.relation;
    state.counters.relation += 1;
    let provider = pair.iter().find(|c| c.role == "provider").expect("one provider");
    let mut relation = Relation { id, endpoint: provider.endpoint.clone(), ..Relation::default() };
    // "If either endpoint has container scope, so must the other" (`state/state.go`,
    // `AddRelation`).
    relation.container = container;
    for side in &pair {
        relation.applications.insert(side.app.clone());
        relation.app_bags.insert(side.app.clone(), Bag::new());
        let end = RelationEnd {
            endpoint: side.endpoint.clone(),
            role: side.role.into(),
            interface: side.interface.clone(),
        };
        relation.ends.insert(side.app.clone(), end);
    }
    for (unit, address, _, _) in &created {
        relation.unit_bags.insert(unit.clone(), address_bag(*address));
    }
    state.relations.insert(id, relation);
    for (unit, _, endpoint, remote) in created {
        enqueue_hook(state, &unit, relation_hook(&endpoint, "created", id, None, &remote));
    }
    Ok(id)
}

/// The id of the relation `a` and `b` name (`remove-relation A[:ep] B[:ep]`, or a relation id),
/// with Juju's errors (`state/state.go`, `InferActiveRelation`).
pub fn find(state: &ModelState, a: &str, b: Option<&str>) -> Result<u32, ModelError> {
    let Some(b) = b else {
        return a
            .parse::<u32>()
            .ok()
            .filter(|id| state.relations.get(id).is_some_and(|r| !r.ends.is_empty()))
            .ok_or_else(|| ModelError::Usage(format!("relation {a} not found")));
    };
    let matches = |r: &Relation, name: &str| {
        let (app, ep) = name.split_once(':').map_or((name, None), |(a, e)| (a, Some(e)));
        r.ends.get(app).is_some_and(|end| ep.is_none_or(|e| e == end.endpoint))
    };
    let found: Vec<&Relation> =
        state.relations.values().filter(|r| !r.ends.is_empty() && matches(r, a) && matches(r, b)).collect();
    match found.as_slice() {
        [] => Err(ModelError::Usage(format!("relation matching \"{a} {b}\" not found"))),
        [one] => Ok(one.id),
        many => {
            let keys: Vec<String> = many.iter().map(|r| format!("\"{}\"", relation_key_of(r))).collect();
            Err(ModelError::Usage(format!(
                "ambiguous relation: \"{a} {b}\" could refer to {}",
                keys.join("; ")
            )))
        }
    }
}

/// Starts removing relation `rel`: it becomes dying; every unit in its scope runs
/// `-relation-departed` for each remote unit it sees (the departing unit is the remote one while
/// both units live), then `-relation-broken`; units that had not entered it yet drop their queued
/// hooks for it. Secrets granted over it are revoked when it is gone ([`forget_finished`]).
/// `leaving` is an application being removed: its units name themselves the departing unit, as
/// Juju's resolver does when the local application is not alive.
pub fn remove_relation(state: &mut ModelState, rel: u32, leaving: Option<&str>) -> Result<(), ModelError> {
    let relation = state
        .relations
        .get_mut(&rel)
        .ok_or_else(|| ModelError::Usage(format!("relation {rel} not found")))?;
    if relation.dying {
        return Ok(());
    }
    relation.dying = true;
    let relation = relation.clone();
    let members: Vec<String> = state
        .units
        .values()
        .filter(|u| relation.applications.contains(&u.application))
        .map(|u| u.name.clone())
        .collect();
    for name in members {
        let unit = state.units.get_mut(&name).expect("listed unit");
        let dying_unit = unit.life != Life::Alive;
        // Pending joins and changes are moot; a dying unit's own teardown already holds its
        // departed/broken hooks for this relation and keeps them.
        unit.queue.retain(|e| {
            !matches!(e, QueuedEvent::Hook(h) if h.relation_id == Some(rel)
                && (h.name.ends_with("-relation-created") || h.name.ends_with("-relation-joined") || h.name.ends_with("-relation-changed")))
        });
        let Some(view) = unit.relation_views.get(&rel) else { continue };
        if dying_unit {
            continue;
        }
        let app = unit.application.clone();
        let endpoint = relation.endpoint_for(&app).to_string();
        let remote_app = crate::tools::relation::remote_app(&relation, &name);
        let mut seen: Vec<String> = view.iter().cloned().collect();
        seen.sort_by_key(|u| unit_number(u));
        for remote in seen {
            let mut event = relation_hook(&endpoint, "departed", rel, Some(&remote), application_of(&remote));
            let departing = if leaving == Some(app.as_str()) { name.clone() } else { remote.clone() };
            event.departing_unit = Some(departing);
            enqueue_hook(state, &name, event);
        }
        enqueue_hook(state, &name, relation_hook(&endpoint, "broken", rel, None, &remote_app));
    }
    if relation.container {
        for sub in orphaned_subordinates(state, &relation) {
            super::lifecycle::begin_removal(state, &sub, None)?;
        }
    }
    forget_finished(state);
    Ok(())
}

/// The live subordinate units of a dying container-scoped relation that no other live
/// container-scoped relation ties to their principal's application: they are destroyed once the
/// relation is broken (`internal/worker/uniter/relation/statetracker.go`,
/// `maybeSetSubordinateDying`; `doc/death-and-destruction.md`, remove-relation).
fn orphaned_subordinates(state: &ModelState, relation: &Relation) -> Vec<String> {
    state
        .units
        .values()
        .filter(|u| u.life == Life::Alive && relation.applications.contains(&u.application))
        .filter_map(|u| Some((u, application_of(u.principal.as_deref()?))))
        .filter(|(u, principal_app)| {
            !state.relations.values().any(|r| {
                r.container
                    && !r.dying
                    && r.applications.contains(&u.application)
                    && r.applications.contains(*principal_app)
            })
        })
        .map(|(u, _)| u.name.clone())
        .collect()
}

/// Deletes the dying relations no unit is in any more, and revokes the secret grants made over
/// them (Juju removes a relation's secret permissions with it: `state/relation.go`, `removeOps`).
pub fn forget_finished(state: &mut ModelState) {
    let done: Vec<u32> = state
        .relations
        .values()
        .filter(|r| r.dying)
        .filter(|r| !state.units.values().any(|u| still_in(u, r.id)))
        .map(|r| r.id)
        .collect();
    for id in done {
        state.relations.remove(&id);
        for secret in state.secrets.values_mut() {
            secret.grants.remove(&id);
        }
    }
}

/// Whether `unit` is still in relation `rel`: it sees it, or has a hook about it queued, running
/// or waiting for a retry.
fn still_in(unit: &Unit, rel: u32) -> bool {
    let about =
        |e: &QueuedEvent| matches!(e, QueuedEvent::Hook(HookEvent { relation_id: Some(r), .. }) if *r == rel);
    unit.relation_views.contains_key(&rel)
        || unit.queue.iter().any(about)
        || unit.running.as_ref().is_some_and(|r| about(&r.event))
        || unit.failed.as_ref().is_some_and(|f| about(&f.event))
}

#[cfg(test)]
#[path = "relations_tests.rs"]
mod tests;

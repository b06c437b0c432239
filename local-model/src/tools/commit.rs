//! Committing a successful hook's held-back changes, and the hooks that commit triggers on other
//! units. Pure: the agent calls [`apply_pending`] inside its own `Store::update` when a hook exits 0,
//! and the tools call it on a copy of the state to see the hook's own writes.

use crate::state::{application_of, Bag, HookEvent, ModelState, PendingChanges, SecretChange};
use std::collections::BTreeMap;

/// Applies a successful hook's held-back changes and returns the hooks they trigger on other units:
/// `<endpoint>-relation-changed` for a bag whose values really changed (unit bag: on every unit
/// that sees the writer; application bag: on the other units that may read it) and
/// `secret-changed` (with the bare secret id) for consumers tracking an older revision of a
/// secret that got a new one.
/// Changes aimed at relations or secrets that no longer exist are skipped. Queue entries are not
/// deduplicated here: the agent does that.
pub fn apply_pending(state: &mut ModelState, pending: &PendingChanges) -> Vec<(String, HookEvent)> {
    let writer = pending.unit.as_str();
    let app = application_of(writer).to_string();
    let mut events = Vec::new();
    for (&rel_id, changes) in &pending.unit_bags {
        let Some(relation) = state.relations.get_mut(&rel_id) else { continue };
        if !merge(relation.unit_bags.entry(writer.to_string()).or_default(), changes) {
            continue;
        }
        let relation = &*relation;
        for unit in state.units.values() {
            let hook = format!("{}-relation-changed", relation.endpoint_for(&unit.application));
            let sees_writer = unit.relation_views.get(&rel_id).is_some_and(|v| v.contains(writer));
            if unit.name != writer && sees_writer {
                let event = HookEvent {
                    name: hook.clone(),
                    relation_id: Some(rel_id),
                    remote_unit: Some(writer.to_string()),
                    remote_app: Some(app.clone()),
                    ..HookEvent::default()
                };
                events.push((unit.name.clone(), event));
            }
        }
    }
    for (&rel_id, changes) in &pending.app_bags {
        let Some(relation) = state.relations.get_mut(&rel_id) else { continue };
        if !merge(relation.app_bags.entry(app.clone()).or_default(), changes) {
            continue;
        }
        let peer = relation.applications.len() == 1;
        let relation = &*relation;
        for unit in state.units.values() {
            let hook = format!("{}-relation-changed", relation.endpoint_for(&unit.application));
            // In a peer relation the writer's own application reads the bag — the writing leader
            // too, since every unit watches its own application's bag there
            // (`internal/worker/uniter/relation/resolver.go`); otherwise the other side reads it.
            let reader =
                if peer { unit.application == app } else { unit.application != app && unit.name != writer };
            if reader && unit.relation_views.contains_key(&rel_id) {
                let event = HookEvent {
                    name: hook.clone(),
                    relation_id: Some(rel_id),
                    remote_app: Some(app.clone()),
                    ..HookEvent::default()
                };
                events.push((unit.name.clone(), event));
            }
        }
    }
    if let Some(unit) = state.units.get_mut(writer) {
        merge(&mut unit.state, &pending.state);
        for (port, &open) in &pending.ports {
            if open {
                unit.opened_ports.insert(port.clone());
            } else {
                unit.opened_ports.remove(port);
            }
        }
    }
    for change in &pending.secrets {
        apply_secret_change(state, change, &mut events);
    }
    events
}

/// Applies key changes (`None` deletes) to a bag; true if any value really changed.
fn merge(bag: &mut Bag, changes: &BTreeMap<String, Option<String>>) -> bool {
    let mut changed = false;
    for (key, value) in changes {
        let before = match value {
            Some(v) => bag.insert(key.clone(), v.clone()),
            None => bag.remove(key),
        };
        changed |= before.as_ref() != value.as_ref();
    }
    changed
}

fn apply_secret_change(state: &mut ModelState, change: &SecretChange, events: &mut Vec<(String, HookEvent)>) {
    match change {
        SecretChange::Add { secret } => {
            state.secrets.entry(secret.id.clone()).or_insert_with(|| secret.clone());
        }
        SecretChange::Set { id, content, label, description } => {
            let Some(secret) = state.secrets.get_mut(id) else { return };
            if let Some(label) = label {
                secret.label = Some(label.clone());
            }
            if let Some(description) = description {
                secret.description = Some(description.clone());
            }
            let Some(content) = content else { return };
            let latest = secret.revisions.keys().next_back().copied().unwrap_or(0);
            if secret.revisions.get(&latest) == Some(content) {
                return;
            }
            let revision = latest + 1;
            secret.revisions.insert(revision, content.clone());
            secret.updated = crate::model::clock::now();
            for (consumer, &tracked) in &secret.tracking {
                if tracked < revision && state.units.contains_key(consumer) {
                    let event = HookEvent {
                        name: "secret-changed".into(),
                        secret_id: Some(id.clone()),
                        ..HookEvent::default()
                    };
                    events.push((consumer.clone(), event));
                }
            }
        }
        SecretChange::Grant { id, relation_id, grantee } => {
            if let Some(secret) = state.secrets.get_mut(id) {
                secret.grants.entry(*relation_id).or_default().insert(grantee.clone());
            }
        }
        SecretChange::Revoke { id, relation_id, grantee } => {
            if let Some(secret) = state.secrets.get_mut(id) {
                if let Some(set) = secret.grants.get_mut(relation_id) {
                    set.remove(grantee);
                }
            }
        }
        SecretChange::Remove { id, revision: None } => {
            state.secrets.remove(id);
        }
        SecretChange::Remove { id, revision: Some(revision) } => {
            if let Some(secret) = state.secrets.get_mut(id) {
                secret.revisions.remove(revision);
                if secret.revisions.is_empty() {
                    state.secrets.remove(id);
                }
            }
        }
        SecretChange::Track { id, unit, revision } => {
            if let Some(secret) = state.secrets.get_mut(id) {
                secret.tracking.insert(unit.clone(), *revision);
            }
        }
        SecretChange::ConsumerLabel { id, unit, label } => {
            if let Some(secret) = state.secrets.get_mut(id) {
                secret.consumer_labels.insert(unit.clone(), label.clone());
            }
        }
    }
}

#[cfg(test)]
#[path = "commit_tests.rs"]
mod tests;

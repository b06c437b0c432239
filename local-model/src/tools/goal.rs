//! `goal-state` and `relation-model-get`, read-only.
//!
//! `goal-state` mirrors Juju's uniter facade (`apiserver/facades/agent/uniter/goal-state.go`,
//! `goalStateUnits`): every unit of the application that is not dead, with its workload status
//! (`dying` once removal began) and since when; and per endpoint, the related application
//! (`joined`) plus, for an application of this model, each of its units the same way.
//! `relation-model-get` names the model on the other side of a relation: always this one, as
//! juju-local has no cross-model relations.

use super::args::{self, Flag, OUTPUT_FLAGS};
use super::context::{resolve_relation, HookContext};
use super::format::emit;
use super::{Streams, ToolError};
use crate::model::clock::rfc3339;
use crate::state::{application_of, Life, ModelState, Unit};
use serde_json::{json, Map, Value};

fn unit_goal(u: &Unit) -> Value {
    let status = if u.life == Life::Dying { "dying" } else { u.workload_status.status.as_str() };
    json!({"status": status, "since": rfc3339(u.workload_status.since)})
}

/// The goal-state document of `unit` (pure).
pub fn goal_state_document(state: &ModelState, unit: &str) -> Value {
    let app = application_of(unit);
    let units: Map<String, Value> =
        state.units_of(app).into_iter().map(|u| (u.name.clone(), unit_goal(u))).collect();
    let mut relations = Map::new();
    for rel in state.relations.values().filter(|r| r.applications.contains(app)) {
        let mut entry = Map::new();
        for remote in rel.applications.iter().filter(|a| rel.is_peer() || *a != app) {
            let since =
                state.units_of(remote).iter().map(|u| u.workload_status.since).fold(f64::MAX, f64::min);
            let since = if since == f64::MAX { crate::model::clock::now() } else { since };
            entry.insert(remote.clone(), json!({"status": "joined", "since": rfc3339(since)}));
            for u in state.units_of(remote) {
                entry.insert(u.name.clone(), unit_goal(u));
            }
        }
        relations.insert(rel.endpoint_for(app).to_string(), Value::Object(entry));
    }
    json!({"units": units, "relations": relations})
}

/// `goal-state [--format smart|json|yaml]`.
pub fn goal_state(hook: &HookContext, args: &[String], io: &mut Streams) -> Result<(), ToolError> {
    let parsed = args::parse(&OUTPUT_FLAGS, args)?;
    parsed.at_most(0)?;
    let state = hook.view()?;
    emit(io.stdout, &parsed, &goal_state_document(&state, hook.unit()?))
}

/// `relation-model-get [-r ID] [--format smart|json|yaml]`: `{"uuid": <model uuid>}`.
pub fn relation_model_get(hook: &HookContext, args: &[String], io: &mut Streams) -> Result<(), ToolError> {
    let mut flags = OUTPUT_FLAGS.to_vec();
    flags.push(Flag::value(&["r", "relation"]));
    let parsed = args::parse(&flags, args)?;
    parsed.at_most(0)?;
    let state = hook.view()?;
    resolve_relation(&state, hook.unit()?, parsed.value("r"), &hook.env)?;
    emit(io.stdout, &parsed, &json!({"uuid": state.uuid}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Application, Relation, StatusRecord};

    fn unit(name: &str, status: &str, life: Life) -> Unit {
        Unit {
            name: name.into(),
            application: "app".into(),
            life,
            workload_status: StatusRecord { status: status.into(), message: String::new(), since: 0.0 },
            ..Unit::default()
        }
    }

    #[test]
    fn units_carry_their_workload_status_or_dying_and_peers_list_app_and_units() {
        let mut state = ModelState::default();
        state.applications.insert("app".into(), Application { name: "app".into(), ..Application::default() });
        state.units.insert("app/0".into(), unit("app/0", "active", Life::Alive));
        state.units.insert("app/1".into(), unit("app/1", "active", Life::Dying));
        state.units.insert("app/2".into(), unit("app/2", "maintenance", Life::Alive));
        let rel = Relation {
            id: 0,
            endpoint: "peers".into(),
            applications: ["app".into()].into(),
            ..Relation::default()
        };
        state.relations.insert(0, rel);
        let doc = goal_state_document(&state, "app/0");
        assert_eq!(doc["units"]["app/0"], json!({"status": "active", "since": "1970-01-01T00:00:00Z"}));
        assert_eq!(doc["units"]["app/1"]["status"], "dying");
        assert_eq!(doc["units"]["app/2"]["status"], "maintenance");
        let peers = doc["relations"]["peers"].as_object().unwrap();
        assert_eq!(peers.keys().collect::<Vec<_>>(), ["app", "app/0", "app/1", "app/2"]);
        assert_eq!(peers["app"]["status"], "joined");
    }
}

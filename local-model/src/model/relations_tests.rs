//! Unit tests of the pure relation rules: endpoint inference and Juju's errors, hooks queued on
//! integrate and remove-relation.

use super::*;
use crate::model::lifecycle::create_peer_relations;
use crate::state::{Application, EndpointSpec};

fn spec(interface: &str, limit: Option<u32>) -> EndpointSpec {
    EndpointSpec { interface: interface.into(), limit, container: false }
}

fn model() -> ModelState {
    let mut s = ModelState::default();
    let valkey = Application {
        name: "valkey".into(),
        provides: [("client".to_string(), spec("valkey", None)), ("metrics".to_string(), spec("prom", None))]
            .into(),
        ..Application::default()
    };
    let client = Application {
        name: "client".into(),
        requires: [("db".to_string(), spec("valkey", Some(1))), ("cache".to_string(), spec("valkey", None))]
            .into(),
        ..Application::default()
    };
    s.applications.insert("valkey".into(), valkey);
    s.applications.insert("client".into(), client);
    create_peer_relations(&mut s, "valkey");
    for name in ["valkey/0", "client/0"] {
        let unit = crate::state::Unit {
            name: name.into(),
            application: application_of(name).into(),
            ..Default::default()
        };
        s.units.insert(name.into(), unit);
    }
    s
}

#[test]
fn endpoints_are_inferred_and_juju_errors_name_the_candidates() {
    let mut s = model();
    // Juju's InferEndpoints (state/state.go): two requirer endpoints share the interface.
    let err = integrate(&mut s, "valkey", "client").unwrap_err().to_string();
    assert_eq!(
        err,
        r#"ambiguous relation: "valkey client" could refer to "client:cache valkey:client"; "client:db valkey:client""#
    );
    assert_eq!(integrate(&mut s, "valkey", "client:nope").unwrap_err().to_string(), "no relations found");
    assert_eq!(
        integrate(&mut s, "valkey", "ghost").unwrap_err().to_string(),
        "application \"ghost\" not found"
    );
    let id = integrate(&mut s, "valkey", "client:db").unwrap();
    assert_eq!(relation_key_of(&s.relations[&id]), "client:db valkey:client");
    assert_eq!(
        integrate(&mut s, "client:db", "valkey").unwrap_err().to_string(),
        "cannot add relation \"client:db valkey:client\"\nrelation client:db valkey:client already exists: \n\n\
         Use 'juju status --relations' to view the current relations."
    );
    // Each side queued relation-created under its own endpoint name.
    let first = |u: &str| match s.units[u].queue.front() {
        Some(QueuedEvent::Hook(h)) => (h.name.clone(), h.remote_app.clone()),
        other => panic!("{other:?}"),
    };
    assert_eq!(first("valkey/0"), ("client-relation-created".into(), Some("client".into())));
    assert_eq!(first("client/0"), ("db-relation-created".into(), Some("valkey".into())));
}

#[test]
fn the_endpoint_limit_refuses_a_second_relation() {
    let mut s = model();
    let other = Application {
        name: "valkey2".into(),
        provides: [("client".to_string(), spec("valkey", None))].into(),
        ..Application::default()
    };
    s.applications.insert("valkey2".into(), other);
    integrate(&mut s, "valkey", "client:db").unwrap();
    let err = integrate(&mut s, "valkey2", "client:db").unwrap_err().to_string();
    assert!(err.ends_with("would exceed its maximum relation limit of 1 (quota limit exceeded)"), "{err}");
}

#[test]
fn removal_departs_then_breaks_and_forgets_the_relation_and_its_grants() {
    let mut s = model();
    let id = integrate(&mut s, "valkey", "client:db").unwrap();
    for (unit, remote) in [("valkey/0", "client/0"), ("client/0", "valkey/0")] {
        let u = s.units.get_mut(unit).unwrap();
        u.queue.clear();
        u.relation_views.insert(id, [remote.to_string()].into());
    }
    let secret = crate::state::Secret {
        id: "s".into(),
        grants: [(id, ["client".to_string()].into())].into(),
        ..Default::default()
    };
    s.secrets.insert("s".into(), secret);
    remove_relation(&mut s, id, None).unwrap();
    let names = |u: &str| -> Vec<String> {
        s.units[u]
            .queue
            .iter()
            .map(|e| match e {
                QueuedEvent::Hook(h) => {
                    format!("{}:{}", h.name, h.departing_unit.clone().unwrap_or_default())
                }
                _ => String::new(),
            })
            .collect()
    };
    assert_eq!(names("valkey/0"), ["client-relation-departed:client/0", "client-relation-broken:"]);
    assert_eq!(names("client/0"), ["db-relation-departed:valkey/0", "db-relation-broken:"]);
    assert!(s.relations.contains_key(&id), "kept until every unit broke it");
    for unit in ["valkey/0", "client/0"] {
        let u = s.units.get_mut(unit).unwrap();
        u.queue.clear();
        u.relation_views.remove(&id);
    }
    forget_finished(&mut s);
    assert!(!s.relations.contains_key(&id));
    assert!(s.secrets["s"].grants.is_empty(), "grants over a removed relation are revoked");
}

//! `status`: the model as `juju status` shows it — the same JSON/YAML field names, and a table
//! like juju's default output. [`document`] is pure (state in, JSON out).

use super::{Format, Result};
use crate::agent::hook::JUJU_VERSION;
use crate::model::charm::{self, CharmMeta};
use crate::model::clock::juju_time;
use crate::model::home::Home;
use crate::state::{Application, ModelState, QueuedEvent, StatusRecord, Unit};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The charm URL Juju gives a charm deployed from a local directory: `local:<name>-<revision>`
/// (status's `charm`, show-unit's `charm`; `cmd/juju/status/formatter.go` shows it whole for the
/// `local` schema).
pub fn charm_url(a: &Application) -> String {
    format!("local:{}-{}", a.charm_name, a.charm_revision)
}

/// Each application's charm metadata, read from the model's copy of its charm (for the relation
/// interfaces status shows); an unreadable copy gives no interfaces rather than no status.
pub fn charm_metas(dir: &std::path::Path, state: &ModelState) -> BTreeMap<String, CharmMeta> {
    state
        .applications
        .keys()
        .map(|app| {
            let meta = charm::read_metadata(&dir.join("charms").join(app)).unwrap_or_default();
            (app.clone(), meta)
        })
        .collect()
}

/// The `storage` section of `juju status --format json`: every storage instance, attached to its
/// unit (Juju's `storage.storage` and `storage.filesystems` maps); `None` when there is none, as
/// Juju then leaves the section out.
fn storage_json(state: &ModelState) -> Option<Value> {
    let mut storage = Map::new();
    let mut filesystems = Map::new();
    for u in state.units.values() {
        let since = juju_time(u.workload_status.since);
        for (n, id) in u.storage.keys().enumerate() {
            let attached = json!({"current": "attached", "since": since});
            // The mount point on the unit's machine, as Juju reports it.
            let location = u.storage_location(id).map(|p| p.display().to_string()).unwrap_or_default();
            storage.insert(
                id.clone(),
                json!({"kind": "filesystem", "life": "alive", "status": attached, "persistent": false,
                    "attachments": {"units": {&u.name: {"machine": u.machine.to_string(),
                        "location": location, "life": "alive"}}}}),
            );
            filesystems.insert(
                format!("{}/{n}", u.machine),
                json!({"provider-id": format!("{}/{n}", u.machine), "storage": id, "size": 0,
                    "life": "alive", "pool": "rootfs", "status": attached,
                    "attachments": {"machines": {u.machine.to_string(): {"mount-point": location,
                        "read-only": false, "life": "alive"}},
                        "units": {&u.name: {"machine": u.machine.to_string(), "location": location,
                        "life": "alive"}}}}),
            );
        }
    }
    (!storage.is_empty()).then(|| json!({"storage": storage, "filesystems": filesystems}))
}

fn status_json(s: &StatusRecord, version: bool) -> Value {
    let mut v = json!({"current": s.status, "since": juju_time(s.since)});
    if !s.message.is_empty() {
        v["message"] = json!(s.message);
    }
    if version {
        v["version"] = json!(JUJU_VERSION);
    }
    v
}

/// A unit's (workload, agent) status as Juju reports them: a unit whose hook failed shows the
/// error as its workload status and an idle agent.
pub fn unit_statuses(u: &Unit) -> (StatusRecord, StatusRecord) {
    if u.machine_down {
        // What Juju shows for a unit whose machine (and so its agent) is gone.
        let since = u.agent_status.since;
        let message = format!("agent lost, see 'juju show-status-log {}'", u.name);
        let workload = StatusRecord { status: "unknown".into(), message: message.clone(), since };
        return (workload, StatusRecord { status: "lost".into(), message, since });
    }
    if u.agent_status.status == "error" {
        let workload = u.agent_status.clone();
        let agent =
            StatusRecord { status: "idle".into(), message: String::new(), since: u.agent_status.since };
        return (workload, agent);
    }
    // Between two queued hooks the agent is not idle in any useful sense: reporting `executing`
    // keeps a status poller from settling on the state before a change was processed.
    let next = u.queue.iter().find(|e| !matches!(e, QueuedEvent::Hook(h) if h.name == "update-status"));
    match next {
        Some(event) if u.agent_status.status == "idle" => {
            let message = match event {
                QueuedEvent::Hook(h) => format!("queued {} hook", h.name),
                QueuedEvent::Operation { id } => format!("queued operation {id}"),
            };
            let agent = StatusRecord { status: "executing".into(), message, since: u.agent_status.since };
            (u.workload_status.clone(), agent)
        }
        _ => (u.workload_status.clone(), u.agent_status.clone()),
    }
}

fn severity(status: &str) -> u8 {
    match status {
        "error" => 6,
        "blocked" => 5,
        "maintenance" => 4,
        "waiting" => 3,
        "active" => 2,
        "unknown" => 1,
        _ => 0,
    }
}

/// The application status: what the leader set, else the most severe unit status.
pub fn application_status(state: &ModelState, app: &str) -> StatusRecord {
    let set = state.applications.get(app).map(|a| a.status.clone()).unwrap_or_default();
    if !set.status.is_empty() && set.status != "unknown" {
        return set;
    }
    state
        .units_of(app)
        .into_iter()
        .map(|u| unit_statuses(u).0)
        .max_by_key(|s| severity(&s.status))
        .unwrap_or(StatusRecord { status: "unknown".into(), ..set })
}

/// A unit's entry in status: statuses, leadership, address and ports (a principal's also has its
/// machine and subordinates).
fn unit_json(state: &ModelState, u: &Unit) -> Value {
    let (workload, agent) = unit_statuses(u);
    let mut entry = json!({"workload-status": status_json(&workload, false),
        "juju-status": status_json(&agent, true), "public-address": u.address.to_string()});
    let leads =
        state.applications.get(&u.application).and_then(|a| a.leader.as_deref()) == Some(u.name.as_str());
    if leads {
        entry["leader"] = json!(true);
    }
    if !u.opened_ports.is_empty() {
        entry["open-ports"] = json!(u.opened_ports.iter().collect::<Vec<_>>());
    }
    entry
}

/// The principal applications a subordinate application is related to by container scope.
fn subordinate_to(state: &ModelState, app: &str) -> Vec<String> {
    let mut principals: Vec<String> = state
        .relations
        .values()
        .filter(|r| r.container && r.applications.contains(app))
        .flat_map(|r| r.applications.iter().filter(|a| *a != app).cloned())
        .filter(|a| state.applications.get(a).is_some_and(|a| !a.subordinate))
        .collect();
    principals.sort();
    principals.dedup();
    principals
}

/// The `juju status --format json` document for the model; `charms` gives each application's
/// relation interfaces.
pub fn document(state: &ModelState, charms: &BTreeMap<String, CharmMeta>) -> Value {
    let first_since =
        state.units.values().map(|u| u.agent_status.since).fold(crate::model::clock::now(), f64::min);
    let mut machines = Map::new();
    let mut applications = Map::new();
    for u in state.units.values().filter(|u| u.principal.is_none()) {
        let addr = u.address.to_string();
        let state_word = if u.machine_down { "down" } else { "started" };
        let started = StatusRecord {
            status: state_word.into(),
            message: String::new(),
            since: u.workload_status.since,
        };
        let running = StatusRecord {
            status: "running".into(),
            message: "running".into(),
            since: u.workload_status.since,
        };
        machines.insert(
            u.machine.to_string(),
            json!({"juju-status": status_json(&started, true), "hostname": format!("juju-local-{}", u.machine),
                "dns-name": addr, "ip-addresses": [addr], "instance-id": format!("local-{}", u.machine),
                "machine-status": status_json(&running, false), "base": {"name": "ubuntu", "channel": "24.04"}}),
        );
    }
    for (name, a) in &state.applications {
        let mut units = Map::new();
        for u in state.units_of(name) {
            let mut entry = unit_json(state, u);
            entry["machine"] = json!(u.machine.to_string());
            let subordinates: Map<String, Value> = state
                .subordinates_of(&u.name)
                .into_iter()
                .map(|s| (s.name.clone(), unit_json(state, s)))
                .collect();
            if !subordinates.is_empty() {
                entry["subordinates"] = Value::Object(subordinates);
            }
            units.insert(u.name.clone(), entry);
        }
        let interfaces = charms.get(name).map(|m| &m.interfaces);
        let mut relations: Map<String, Value> = a
            .peer_endpoints
            .iter()
            .map(|e| {
                let interface = interfaces.and_then(|i| i.get(e)).cloned().unwrap_or_default();
                (e.clone(), json!([{"related-application": name, "interface": interface, "scope": "global"}]))
            })
            .collect();
        // Each cross-application relation under this side's endpoint, naming the other side
        // (Juju's `cmd/juju/status/formatter.go`, `formatApplication`: endpoint → related apps).
        for rel in state.relations.values().filter(|r| !r.is_peer() && r.applications.contains(name)) {
            let Some(end) = rel.ends.get(name) else { continue };
            let remote = rel.applications.iter().find(|o| *o != name).cloned().unwrap_or_default();
            let scope = if rel.container { "container" } else { "global" };
            let entry = json!({"related-application": remote, "interface": end.interface, "scope": scope});
            match relations.entry(end.endpoint.clone()).or_insert_with(|| json!([])) {
                Value::Array(list) => list.push(entry),
                _ => unreachable!("relation lists are arrays"),
            }
        }
        let mut entry = json!({"charm": charm_url(a), "base": {"name": "ubuntu", "channel": "24.04"},
            "charm-origin": "local", "charm-name": a.charm_name, "charm-rev": a.charm_revision,
            "exposed": false, "application-status": status_json(&application_status(state, name), false),
            "relations": relations});
        if a.subordinate {
            // Juju lists a subordinate's units under their principals only, and names the
            // principal applications (`cmd/juju/status/formatted.go`, `applicationStatus`:
            // `subordinate-to`, `units` omitted when empty).
            entry["subordinate-to"] = json!(subordinate_to(state, name));
        } else {
            entry["units"] = Value::Object(units);
        }
        if !a.workload_version.is_empty() {
            entry["version"] = json!(a.workload_version);
        }
        applications.insert(name.clone(), entry);
    }
    let now = crate::model::clock::now();
    let mut doc = json!({
        "model": {"name": state.name, "type": "iaas", "controller": "juju-local", "cloud": "localhost",
            "region": "localhost", "version": JUJU_VERSION,
            "model-status": {"current": "available", "since": juju_time(first_since)}, "sla": "unsupported"},
        "machines": machines,
        "applications": applications,
        "controller": {"timestamp": juju_time(now).rsplit(' ').next().unwrap_or_default()},
    });
    if let Some(storage) = storage_json(state) {
        doc["storage"] = storage;
    }
    doc
}

/// Lays rows out in columns separated by two spaces, like juju's tables.
fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  ", w = widths[c]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `u`'s row of the Unit table, its name starred when it leads its application. A subordinate's
/// (`subordinate`) is indented and names no machine: Juju lists it under its principal's row.
fn unit_row(state: &ModelState, u: &Unit, subordinate: bool) -> Vec<String> {
    let (w, ag) = unit_statuses(u);
    let leads =
        state.applications.get(&u.application).and_then(|a| a.leader.as_deref()) == Some(u.name.as_str());
    let indent = if subordinate { "  " } else { "" };
    let machine = if subordinate { String::new() } else { u.machine.to_string() };
    let ports = u.opened_ports.iter().cloned().collect::<Vec<_>>().join(",");
    vec![
        format!("{indent}{}{}", u.name, if leads { "*" } else { "" }),
        w.status,
        ag.status,
        machine,
        u.address.to_string(),
        ports,
        w.message,
    ]
}

/// Juju's default tabular status.
pub fn tabular(state: &ModelState) -> String {
    let row = |cells: &[&str]| cells.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let now = juju_time(crate::model::clock::now());
    let mut out = table(&[
        row(&["Model", "Controller", "Cloud/Region", "Version", "SLA", "Timestamp"]),
        row(&[
            &state.name,
            "juju-local",
            "localhost/localhost",
            JUJU_VERSION,
            "unsupported",
            now.rsplit(' ').next().unwrap_or_default(),
        ]),
    ]);
    let mut apps =
        vec![row(&["App", "Version", "Status", "Scale", "Charm", "Channel", "Rev", "Exposed", "Message"])];
    let mut units =
        vec![row(&["Unit", "Workload", "Agent", "Machine", "Public address", "Ports", "Message"])];
    let mut machines = vec![row(&["Machine", "State", "Address", "Inst id", "Base", "AZ", "Message"])];
    for (name, a) in &state.applications {
        let st = application_status(state, name);
        let scale = state.units_of(name).len().to_string();
        apps.push(row(&[
            name,
            &a.workload_version,
            &st.status,
            &scale,
            &a.charm_name,
            "",
            &a.charm_revision.to_string(),
            "no",
            &st.message,
        ]));
        if a.subordinate {
            // Its units are shown under their principals'.
            continue;
        }
        for u in state.units_of(name) {
            units.push(unit_row(state, u, false));
            // Juju indents each subordinate under its principal, with no machine of its own.
            for sub in state.subordinates_of(&u.name) {
                units.push(unit_row(state, sub, true));
            }
        }
    }
    for u in state.units.values().filter(|u| u.principal.is_none()) {
        machines.push(row(&[
            &u.machine.to_string(),
            if u.machine_down { "down" } else { "started" },
            &u.address.to_string(),
            &format!("local-{}", u.machine),
            "ubuntu@24.04",
            "",
            "running",
        ]));
    }
    machines[1..].sort_by_key(|r| r[0].parse::<u32>().unwrap_or(u32::MAX));
    if state.applications.is_empty() {
        out.push_str("\nModel \"");
        out.push_str(&state.name);
        out.push_str("\" is empty.\n");
        return out;
    }
    for t in [apps, units, machines] {
        out.push('\n');
        out.push_str(&table(&t));
    }
    out
}

/// The tabular status's relations section (`status --relations`), as Juju 3.6 prints it
/// (`cmd/juju/status/output_tabular.go`, `printRelations`, sorted by provider then requirer):
/// provider, requirer, interface, `peer` or `regular`, and the status when it is not `joined`:
/// `joining` until a unit entered its scope, `broken` while it is being removed.
pub fn relations_table(state: &ModelState, charms: &BTreeMap<String, CharmMeta>) -> String {
    let mut rows =
        vec![["Integration provider", "Requirer", "Interface", "Type", "Message"].map(String::from).to_vec()];
    let mut body = Vec::new();
    for rel in state.relations.values() {
        if rel.is_peer() {
            let app = rel.applications.first().cloned().unwrap_or_default();
            let key = format!("{app}:{}", rel.endpoint);
            let interface =
                charms.get(&app).and_then(|m| m.interfaces.get(&rel.endpoint)).cloned().unwrap_or_default();
            body.push(vec![key.clone(), key, interface, "peer".into(), String::new()]);
            continue;
        }
        let side = |role: &str| {
            rel.ends
                .iter()
                .find(|(_, e)| e.role == role)
                .map(|(app, e)| (format!("{app}:{}", e.endpoint), e.interface.clone()))
        };
        let (Some((provider, interface)), Some((requirer, _))) = (side("provider"), side("requirer")) else {
            continue;
        };
        let entered = state.units.values().any(|u| u.relation_views.contains_key(&rel.id));
        let message = match (rel.dying, entered) {
            (true, _) => "broken",
            (false, false) => "joining",
            (false, true) => "",
        };
        body.push(vec![provider, requirer, interface, "regular".into(), message.into()]);
    }
    body.sort();
    rows.extend(body);
    table(&rows)
}

/// `status [--format json|yaml|tabular]`.
pub fn status(home: &Home, model: &str, format: Format, filters: &[String], relations: bool) -> Result<()> {
    let store = home.open(model)?;
    let mut state = store.read()?;
    if !filters.is_empty() {
        // Like juju's patterns: an application name keeps the application, a unit name the unit.
        let keep_unit = |u: &str| filters.iter().any(|f| f == u || f == crate::state::application_of(u));
        state.units.retain(|name, _| keep_unit(name));
        state
            .applications
            .retain(|app, _| filters.iter().any(|f| f == app || crate::state::application_of(f) == app));
    }
    let charms = charm_metas(store.dir(), &state);
    match format {
        Format::Json => println!("{}", document(&state, &charms)),
        Format::Yaml => print!("{}", serde_yaml::to_string(&document(&state, &charms)).expect("yaml")),
        _ if relations && !state.applications.is_empty() => {
            print!("{}\n{}", tabular(&state), relations_table(&state, &charms))
        }
        _ => print!("{}", tabular(&state)),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::lifecycle::hook;

    #[test]
    fn failed_hook_shows_as_workload_error_and_queued_work_as_executing() {
        let idle = StatusRecord { status: "idle".into(), ..StatusRecord::default() };
        let active = StatusRecord { status: "active".into(), message: "ok".into(), since: 0.0 };
        let mut u = Unit { agent_status: idle, workload_status: active, ..Unit::default() };
        assert_eq!(unit_statuses(&u).1.status, "idle");
        u.queue.push_back(QueuedEvent::Hook(hook("update-status")));
        assert_eq!(unit_statuses(&u).1.status, "idle", "update-status alone is idle");
        u.queue.push_back(QueuedEvent::Hook(hook("config-changed")));
        assert_eq!(unit_statuses(&u).1.status, "executing");
        u.agent_status =
            StatusRecord { status: "error".into(), message: "hook failed: \"x\"".into(), since: 0.0 };
        let (w, a) = unit_statuses(&u);
        assert_eq!(
            (w.status.as_str(), w.message.as_str(), a.status.as_str()),
            ("error", "hook failed: \"x\"", "idle")
        );
    }
}

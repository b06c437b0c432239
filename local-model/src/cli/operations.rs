//! Operations: `run` (actions, validated against actions.yaml) and what it shares with
//! [`super::exec`] (shell commands in a hook context): both enqueue an [`Operation`] on each
//! target unit, wait for its outcome and report it as Juju does.

use super::{CliError, Format, Result};
use crate::agent::spawn;
use crate::model::home::Home;
use crate::model::{charm, clock, duration, lifecycle, params};
use crate::state::{Life, ModelState, Operation, QueuedEvent};
use crate::store::Store;
use clap::Args;
use serde_json::{json, Map, Value};
use std::time::{Duration, Instant};

/// Arguments of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// `UNIT [UNIT...] ACTION [key=value...]`: units are `app/N` or `app/leader`; parameter
    /// values are YAML scalars.
    #[arg(required = true, num_args = 2..)]
    pub args: Vec<String>,
    /// Output format (default: the results as YAML).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Give up waiting after this long (Go duration).
    #[arg(long)]
    pub wait: Option<String>,
    /// YAML file of parameters.
    #[arg(long = "params")]
    pub params_file: Option<std::path::PathBuf>,
    /// Return at once with the operation id.
    #[arg(long)]
    pub background: bool,
}

/// Resolves `app/leader` and checks the unit exists and is alive.
pub(super) fn resolve_unit(state: &ModelState, target: &str) -> Result<String> {
    let unit =
        match target.strip_suffix("/leader") {
            Some(app) => state.applications.get(app).and_then(|a| a.leader.clone()).ok_or_else(|| {
                CliError::Usage(format!("application \"{app}\" not found or has no leader"))
            })?,
            None => target.to_string(),
        };
    match state.units.get(&unit) {
        Some(u) if u.life == Life::Alive => Ok(unit),
        _ => Err(CliError::Usage(format!("unit \"{unit}\" not found"))),
    }
}

/// Enqueues one operation per unit; returns their ids.
pub(super) fn enqueue(store: &Store, ops: Vec<Operation>) -> Result<Vec<u64>> {
    let ids = store.update(|s: &mut ModelState| -> Result<Vec<u64>> {
        let mut ids = Vec::new();
        for mut op in ops.clone() {
            if !s.units.get(&op.unit).is_some_and(|u| u.life == Life::Alive) {
                return Err(CliError::Usage(format!("unit \"{}\" not found", op.unit)));
            }
            s.counters.operation += 1;
            op.id = s.counters.operation;
            op.status = "pending".into();
            op.enqueued = clock::now();
            let id = op.id;
            let name = op.unit.clone();
            s.operations.insert(id, op);
            lifecycle::enqueue(s.units.get_mut(&name).expect("checked"), QueuedEvent::Operation { id });
            ids.push(id);
        }
        Ok(ids)
    })?;
    spawn::ensure_running(store)?;
    Ok(ids)
}

/// Polls until every operation finished, or the deadline passes.
pub(super) fn await_ops(store: &Store, ids: &[u64], wait: Option<&str>) -> Result<Vec<Operation>> {
    let deadline = match wait {
        Some(w) => Some(Instant::now() + duration::parse(w).map_err(CliError::Usage)?),
        None => None,
    };
    loop {
        let state = store.read()?;
        let ops: Vec<Operation> = ids.iter().filter_map(|id| state.operations.get(id).cloned()).collect();
        if ops.len() < ids.len() {
            return Err(CliError::Usage("operation vanished (unit removed?)".into()));
        }
        if ops.iter().all(|o| o.status == "completed" || o.status == "failed") {
            return Ok(ops);
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            // Juju's handleTimeout: the units whose tasks had not finished.
            let late: Vec<String> = ops
                .iter()
                .filter(|o| o.status != "completed" && o.status != "failed")
                .map(|o| format!("unit {}", o.unit))
                .collect();
            return Err(CliError::Usage(format!("timed out waiting for results from: {}", late.join(", "))));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The record `juju run --format json` prints for one task.
pub fn task_record(op: &Operation) -> Value {
    let mut results = op.results.clone();
    results.insert("return-code".into(), json!(op.return_code.unwrap_or(-1)));
    if !op.stdout.is_empty() {
        results.insert("stdout".into(), json!(op.stdout));
    }
    if !op.stderr.is_empty() {
        results.insert("stderr".into(), json!(op.stderr));
    }
    let mut timing = Map::new();
    timing.insert("enqueued".into(), json!(clock::juju_timing(op.enqueued)));
    if let Some(t) = op.started {
        timing.insert("started".into(), json!(clock::juju_timing(t)));
    }
    if let Some(t) = op.completed {
        timing.insert("completed".into(), json!(clock::juju_timing(t)));
    }
    let mut rec = json!({"id": op.id.to_string(), "results": results, "status": op.status,
        "unit": op.unit, "timing": timing});
    if !op.log.is_empty() {
        rec["log"] = json!(op.log);
    }
    if let Some(msg) = &op.failure {
        rec["message"] = json!(msg);
    }
    rec
}

pub(super) fn print_doc(doc: &Value, format: Format) {
    if format == Format::Json {
        println!("{doc}");
    } else {
        print!("{}", serde_yaml::to_string(doc).expect("yaml"));
    }
}

/// How long `run` waits without `--wait`: Juju's default (`runCommandBase.Init`).
const RUN_WAIT: &str = "60s";

/// Checks one `run` target: the unit exists, the action is defined, the parameters validate.
fn schedule(
    store: &Store,
    state: &ModelState,
    target: &str,
    action: &str,
    given: &Map<String, Value>,
) -> Result<Operation> {
    let unit = resolve_unit(state, target)?;
    let app = crate::state::application_of(&unit).to_string();
    let actions = charm::read_actions(&store.dir().join("charms").join(&app))?;
    let validated = params::validate(&actions, action, given.clone())?;
    Ok(Operation { unit, action: Some(action.to_string()), params: validated, ..Default::default() })
}

/// Juju's answer when no task of an operation could be scheduled: the reasons on stderr, nothing
/// on stdout, exit 0 (jubilant turns the empty output into `ValueError`).
pub(super) fn not_scheduled(store: &Store, refused: &[String]) -> Result<()> {
    let id = store.update(|s: &mut ModelState| -> Result<u64> {
        s.counters.operation += 1;
        Ok(s.counters.operation)
    })?;
    eprintln!("Operation {id} failed to schedule any tasks:\n{}", refused.join("\n"));
    Ok(())
}

/// `run UNIT ACTION [k=v ...]`.
pub fn run(home: &Home, model: &str, args: RunArgs) -> Result<()> {
    let store = home.open(model)?;
    let state = store.read()?;
    let n_units = args.args.iter().take_while(|a| a.contains('/') && !a.contains('=')).count();
    let (targets, rest) = args.args.split_at(n_units);
    let Some((action, param_args)) = rest.split_first() else {
        return Err(CliError::Usage("no action specified: run UNIT [UNIT...] ACTION [key=value...]".into()));
    };
    if targets.is_empty() {
        return Err(CliError::Usage(format!("invalid unit or action name {action:?}")));
    }
    let mut given = Map::new();
    if let Some(file) = &args.params_file {
        let text = std::fs::read_to_string(file)
            .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", file.display())))?;
        let v: Value =
            serde_yaml::from_str(&text).map_err(|e| CliError::Usage(format!("{}: {e}", file.display())))?;
        given = v.as_object().cloned().unwrap_or_default();
    }
    for (k, v) in params::parse_args(param_args)? {
        given.insert(k, v);
    }
    // Juju enqueues per unit and reports what could not be scheduled (unknown unit or action,
    // parameters the schema refuses) on stderr, exiting 0 with nothing on stdout when no task
    // was scheduled (`cmd/juju/action/common.go`, processOperationResults).
    let mut ops = Vec::new();
    let mut refused = Vec::new();
    for target in targets {
        match schedule(&store, &state, target, action, &given) {
            Ok(op) => ops.push(op),
            Err(e) => refused.push(e.to_string()),
        }
    }
    if ops.is_empty() {
        return not_scheduled(&store, &refused);
    }
    if !refused.is_empty() {
        eprintln!("Some actions could not be scheduled:\n{}\n", refused.join("\n"));
    }
    let ids = enqueue(&store, ops)?;
    eprintln!(
        "Running operation {} with {} task{}",
        ids[0],
        ids.len(),
        if ids.len() == 1 { "" } else { "s" }
    );
    let units: Vec<String> = state_units(&store, &ids)?;
    for (id, unit) in ids.iter().zip(&units) {
        eprintln!("  - task {id} on unit-{}", unit.replace('/', "-"));
    }
    eprintln!();
    if args.background {
        eprintln!("Check the task status with: juju show-task {}", ids[0]);
        return Ok(());
    }
    for id in &ids {
        eprintln!("Waiting for task {id}...");
    }
    let done = await_ops(&store, &ids, Some(args.wait.as_deref().unwrap_or(RUN_WAIT)))?;
    match args.format.unwrap_or(Format::Plain) {
        format @ (Format::Json | Format::Yaml) => {
            let doc: Map<String, Value> = done.iter().map(|o| (o.unit.clone(), task_record(o))).collect();
            print_doc(&Value::Object(doc), format)
        }
        _ => {
            // juju shows action-log lines as progress on stderr while it waits.
            for line in done.iter().flat_map(|o| &o.log) {
                eprintln!("{line}");
            }
            print!("{}", plain_output(&done))
        }
    }
    exit_for(&done)
}

/// Juju's plain output of finished tasks: for one task, `Action id N failed: msg` when it failed,
/// the results as YAML (without return-code, stdout, stderr), then its stdout and stderr; for
/// several, a YAML map unit → {id, output, status, message}.
pub fn plain_output(ops: &[Operation]) -> String {
    let results_yaml = |op: &Operation| {
        if op.results.is_empty() {
            String::new()
        } else {
            serde_yaml::to_string(&op.results).expect("yaml")
        }
    };
    if let [op] = ops {
        let mut out = String::new();
        if op.status == "failed" {
            out.push_str(&format!(
                "Action id {} failed: {}\n",
                op.id,
                op.failure.clone().unwrap_or_default()
            ));
        }
        out.push_str(&results_yaml(op));
        out.push('\n');
        for text in [&op.stdout, &op.stderr] {
            if !text.is_empty() {
                out.push_str(text.trim_matches('\n'));
                out.push('\n');
            }
        }
        return out;
    }
    let doc: Map<String, Value> = ops
        .iter()
        .map(|op| {
            let mut entry = json!({"id": op.id.to_string(), "output": results_yaml(op), "status": op.status});
            if let Some(msg) = &op.failure {
                entry["message"] = json!(msg);
            }
            (op.unit.clone(), entry)
        })
        .collect();
    serde_yaml::to_string(&Value::Object(doc)).expect("yaml")
}

/// Like juju: the command fails (exit 1) when a task exited non-zero or was killed, naming them;
/// an action that only called action-fail is reported in the output, not in the exit code.
pub(super) fn exit_for(ops: &[Operation]) -> Result<()> {
    let failed: Vec<String> = ops
        .iter()
        .filter(|o| o.return_code.is_none_or(|c| c != 0))
        .map(|o| format!("id \"{}\" with return code {}", o.id, o.return_code.unwrap_or(-1)))
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    let plural = if failed.len() > 1 { "s" } else { "" };
    let list: Vec<String> = failed.iter().map(|f| format!(" - {f}")).collect();
    eprintln!(
        "ERROR the following task{plural} failed:\n{}\n\nuse 'juju show-task' to inspect the failure{plural}",
        list.join("\n")
    );
    Err(CliError::Exit(1))
}

/// The target unit of each operation.
fn state_units(store: &Store, ids: &[u64]) -> Result<Vec<String>> {
    let state = store.read()?;
    Ok(ids.iter().map(|id| state.operations.get(id).map(|o| o.unit.clone()).unwrap_or_default()).collect())
}

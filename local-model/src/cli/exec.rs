//! `exec`: a shell command in a hook context on units, enqueued and reported like `run`'s tasks
//! (see [`super::operations`]).

use super::operations::{await_ops, enqueue, exit_for, not_scheduled, print_doc, resolve_unit, task_record};
use super::{CliError, Format, Result};
use crate::model::home::Home;
use crate::state::{Life, Operation};
use clap::Args;
use serde_json::{Map, Value};

/// Arguments of `exec`.
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Target units (repeatable, or comma-separated).
    #[arg(short = 'u', long = "unit", value_delimiter = ',')]
    pub units: Vec<String>,
    /// Target every unit of these applications.
    #[arg(short = 'a', long = "application", value_delimiter = ',')]
    pub apps: Vec<String>,
    /// Target every unit in the model.
    #[arg(long)]
    pub all: bool,
    /// Juju's machine targets (commands as root outside any hook): refused here, with a reason.
    #[arg(long, value_delimiter = ',')]
    pub machine: Vec<String>,
    /// Output format.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Give up waiting after this long (Go duration).
    #[arg(long)]
    pub wait: Option<String>,
    /// The command and its arguments (after `--`).
    #[arg(last = true, required = true)]
    pub command: Vec<String>,
}

/// How long `exec` waits without `--wait`: Juju's default for exec (`cmd/juju/action/exec.go`).
const EXEC_WAIT: &str = "5m";

/// `exec --unit U [--unit U2] [--all] -- CMD...`.
pub fn exec(home: &Home, model: &str, args: ExecArgs) -> Result<()> {
    if !args.machine.is_empty() {
        return Err(CliError::Usage(
            "--machine is not supported by juju-local (its machines are units' directories, and a machine \
             command runs outside any hook context): target the unit with --unit"
                .into(),
        ));
    }
    let store = home.open(model)?;
    let state = store.read()?;
    let mut targets: Vec<String> = Vec::new();
    // As for `run`: a unit that cannot take the task is reported, not fatal
    // (`cmd/juju/action/exec.go` hands the enqueue results to processOperationResults).
    let mut refused = Vec::new();
    for u in &args.units {
        match resolve_unit(&state, u) {
            Ok(unit) => targets.push(unit),
            Err(e) => refused.push(e.to_string()),
        }
    }
    for app in &args.apps {
        if !state.applications.contains_key(app) {
            return Err(CliError::Usage(format!("application \"{app}\" not found")));
        }
        targets.extend(state.units_of(app).iter().filter(|u| u.life == Life::Alive).map(|u| u.name.clone()));
    }
    if args.all {
        targets.extend(state.units.values().filter(|u| u.life == Life::Alive).map(|u| u.name.clone()));
    }
    targets.sort_by_key(|u| (crate::state::application_of(u).to_string(), crate::state::unit_number(u)));
    targets.dedup();
    if targets.is_empty() && refused.is_empty() {
        return Err(CliError::Usage("no target specified: use --unit, --application or --all".into()));
    }
    if targets.is_empty() {
        return not_scheduled(&store, &refused);
    }
    if !refused.is_empty() {
        eprintln!("Some actions could not be scheduled:\n{}\n", refused.join("\n"));
    }
    let command = args.command.join(" ");
    let ops = targets
        .iter()
        .map(|u| Operation { unit: u.clone(), command: Some(command.clone()), ..Default::default() })
        .collect();
    let ids = enqueue(&store, ops)?;
    let ops = await_ops(&store, &ids, Some(args.wait.as_deref().unwrap_or(EXEC_WAIT)))?;
    match (args.format, ops.as_slice()) {
        (None | Some(Format::Plain), [op]) => {
            print!("{}", op.stdout);
            eprint!("{}", op.stderr);
        }
        (format, _) => {
            let doc: Map<String, Value> = ops.iter().map(|o| (o.unit.clone(), task_record(o))).collect();
            let format = match format {
                Some(Format::Json) => Format::Json,
                _ => Format::Yaml,
            };
            print_doc(&Value::Object(doc), format);
        }
    }
    exit_for(&ops)?;
    Ok(())
}

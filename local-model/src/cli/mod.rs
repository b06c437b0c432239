//! The `juju-local` command line: the subset of `juju` the charm's scenarios use, with the same
//! arguments and output shapes, plus the local `wait` and the hidden `agent`.
//!
//! - [`deploy`] — deploy, add-unit, remove-unit, scale-application, refresh, attach-resource.
//! - [`application`] — remove-application.
//! - [`models`] — add-model, destroy-model, models, model-config.
//! - [`faults`] — host-mode network faults: cut, heal, change-address (local extras).
//! - [`relations`] — integrate (relate), remove-relation.
//! - [`config`] — application config.
//! - [`operations`] — run (actions); [`exec`] — exec.
//! - [`status`] — status as JSON, YAML or juju's table.
//! - [`show`] — show-unit, show-model, version, secrets, show-secret.
//! - [`wait`] — block until the model settles.
//! - [`log`] — debug-log.
//! - [`timings`] — hook-timings (wall time and peak memory of each finished event).

pub mod application;
pub mod config;
pub mod deploy;
pub mod exec;
pub mod faults;
pub mod log;
pub mod models;
pub mod operations;
pub mod relations;
pub mod show;
pub mod status;
pub mod timings;
pub mod wait;

use crate::model::{home::Home, ModelError};
use crate::store::StoreError;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Errors of CLI commands; printed as one `ERROR ...` line.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A model operation failed.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A host-mode network operation failed.
    #[error(transparent)]
    Hosts(#[from] crate::hosts::HostsError),
    /// The state could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Bad arguments.
    #[error("{0}")]
    Usage(String),
    /// The command already printed what went wrong; exit with this code.
    #[error("")]
    Exit(i32),
}

/// Shorthand for CLI results.
pub type Result<T, E = CliError> = std::result::Result<T, E>;

/// `juju-local` — a single-machine stand-in for a Juju controller.
#[derive(Debug, Parser)]
#[command(name = "juju-local", version, about, disable_help_subcommand = true)]
pub struct Cli {
    /// Model to operate on; default: the model last added or switched to, else `default`.
    #[arg(short = 'm', long = "model", global = true, env = "JUJU_MODEL")]
    pub model: Option<String>,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Output formats shared by several commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// JSON, one document.
    Json,
    /// YAML.
    Yaml,
    /// Juju's table (status only).
    Tabular,
    /// Plain text (run, exec).
    Plain,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a model.
    AddModel {
        /// Model name.
        name: String,
        /// `key=value` model settings: `network-mode=loopback|hosts` (fixed for the model's life;
        /// hosts needs root and iproute2) and any model-config key.
        #[arg(long)]
        config: Vec<String>,
        /// Leave the current model as it is (Juju's flag; jubilant always passes it).
        #[arg(long)]
        no_switch: bool,
    },
    /// Destroy a model and everything it runs.
    DestroyModel {
        /// Model name.
        name: String,
        /// Do not ask for confirmation (nothing is asked anyway).
        #[arg(long)]
        no_prompt: bool,
        /// Also destroy storage (always done).
        #[arg(long)]
        destroy_storage: bool,
        /// Same as --no-prompt.
        #[arg(short = 'y')]
        yes: bool,
        /// Accepted for compatibility.
        #[arg(long)]
        force: bool,
        /// Accepted for compatibility.
        #[arg(long)]
        no_wait: bool,
        /// Accepted for compatibility (destruction is synchronous).
        #[arg(long)]
        timeout: Option<String>,
    },
    /// Make a model the current one (what commands use without -m).
    Switch {
        /// Model name.
        name: String,
    },
    /// List models.
    Models {
        /// Output format.
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
    /// Deploy a charm directory.
    Deploy(deploy::DeployArgs),
    /// Add units to an application.
    AddUnit {
        /// Application.
        app: String,
        /// How many.
        #[arg(short = 'n', long = "num-units", default_value_t = 1)]
        n: u32,
    },
    /// Remove units.
    RemoveUnit(deploy::RemoveArgs),
    /// Remove applications with all their units.
    RemoveApplication(application::RemoveApplicationArgs),
    /// Integrate two applications (`A[:endpoint] B[:endpoint]`).
    #[command(alias = "relate")]
    Integrate(relations::IntegrateArgs),
    /// Remove a relation between two applications (or by relation id).
    RemoveRelation(relations::RemoveRelationArgs),
    /// Set the number of units (local convenience: real Juju refuses it on machine models).
    ScaleApplication {
        /// Application.
        app: String,
        /// Wanted number of units.
        scale: u32,
    },
    /// Show or change application config.
    Config(config::ConfigArgs),
    /// Show or change model config.
    ModelConfig {
        /// `key` to show, `key=value` to set.
        settings: Vec<String>,
        /// Reset keys to their defaults.
        #[arg(long, value_delimiter = ',')]
        reset: Vec<String>,
        /// Output format when showing everything.
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
    /// Run an action.
    Run(operations::RunArgs),
    /// Run a command on units, in a hook context.
    Exec(exec::ExecArgs),
    /// Show the model's status.
    Status {
        /// Only these applications or units (`valkey`, `valkey/0`).
        filters: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "tabular")]
        format: Format,
        /// Tabular output: list the relations (`Integration provider  Requirer ...`), as Juju's
        /// `--relations` (or `--integrations`) does.
        #[arg(long, alias = "integrations")]
        relations: bool,
        /// Accepted for compatibility.
        #[arg(long)]
        color: bool,
    },
    /// Print the model's log.
    DebugLog(log::LogArgs),
    /// Show units: relation data, leadership, ports.
    ShowUnit {
        /// Units.
        #[arg(required = true)]
        units: Vec<String>,
        /// Output format (default yaml).
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
    /// Show a model's details.
    ShowModel {
        /// Model name (default: the current model).
        name: Option<String>,
        /// Output format (default yaml).
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
    /// Print the Juju version this model stands in for.
    Version {
        /// Also print build details.
        #[arg(long)]
        all: bool,
        /// Output format.
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
    /// Show one secret (its content with --reveal).
    ShowSecret(show::ShowSecretArgs),
    /// List the model's secrets.
    Secrets {
        /// Only secrets of this owner (application or unit).
        #[arg(long)]
        owner: Option<String>,
        /// Output format (default yaml).
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
    /// Upgrade an application's charm from a directory.
    Refresh {
        /// Application.
        app: String,
        /// New charm directory.
        #[arg(long)]
        path: PathBuf,
    },
    /// Attach a file resource.
    AttachResource {
        /// Application.
        app: String,
        /// `name=PATH`.
        resource: String,
    },
    /// Wait until the model settles.
    Wait(wait::WaitArgs),
    /// Show the wall time and peak memory of finished hooks, actions and exec commands (local).
    HookTimings(timings::TimingArgs),
    /// Cut a unit off the network, or from one other unit (host mode, local).
    Cut(faults::FaultArgs),
    /// Undo `cut` on a unit, or between two units (host mode, local).
    Heal(faults::FaultArgs),
    /// Give a unit a new address and queue config-changed on it (host mode, local).
    ChangeAddress {
        /// The unit.
        unit: String,
    },
    /// Kill a unit's machine outright: every process dies, no hook runs (machine mode, local).
    KillMachine {
        /// The unit.
        unit: String,
    },
    /// Boot a unit's machine that is down and run `start` on it (machine mode, local).
    StartMachine {
        /// The unit.
        unit: String,
    },
    /// Shut a unit's machine down cleanly and boot it again (machine mode, local).
    RebootMachine {
        /// The unit.
        unit: String,
    },
    /// Run the model's agent (started automatically).
    #[command(hide = true)]
    Agent(AgentArgs),
}

/// Arguments of the hidden `agent` command.
#[derive(Debug, Args)]
pub struct AgentArgs {
    /// Model directory (default: the model named by -m).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// Parses the arguments, runs the command and returns the process exit code. Errors are printed
/// as one `ERROR ...` line, except the few Juju prints with a hint below
/// ([`ModelError::Multiline`]).
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return 0;
            }
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                let _ = e.print();
                return 2;
            }
            eprintln!("ERROR {}", clap_message(&e));
            return 2;
        }
    };
    match execute(cli) {
        Ok(()) => 0,
        Err(CliError::Exit(code)) => code,
        Err(CliError::Model(ModelError::Multiline(text))) => {
            eprintln!("ERROR {text}");
            1
        }
        Err(e) => {
            eprintln!("ERROR {}", e.to_string().lines().next().unwrap_or("failed"));
            1
        }
    }
}

/// The first meaningful line of a clap error, without clap's `error: ` prefix and hints.
fn clap_message(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let first: Vec<&str> = text
        .lines()
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let line = first.join(" ");
    let line = line.trim_start_matches("error: ");
    if line.is_empty() {
        "invalid arguments".to_string()
    } else {
        line.to_string()
    }
}

/// Runs a parsed command.
pub fn execute(cli: Cli) -> Result<()> {
    let home = Home::from_env();
    let model = cli.model.unwrap_or_else(|| home.current_model());
    match cli.command {
        Command::AddModel { name, config, no_switch } => {
            models::add_model(&home, &name, &config)?;
            if no_switch {
                return Ok(());
            }
            home.set_current_model(Some(&name)).map_err(|e| CliError::Usage(e.to_string()))
        }
        Command::Switch { name } => {
            home.open(&name)?;
            home.set_current_model(Some(&name)).map_err(|e| CliError::Usage(e.to_string()))
        }
        Command::DestroyModel { name, .. } => models::destroy_model(&home, &name),
        Command::Models { format } => models::list(&home, &model, format),
        Command::Deploy(args) => deploy::deploy(&home, &model, args),
        Command::AddUnit { app, n } => deploy::add_unit(&home, &model, &app, n),
        Command::RemoveUnit(args) => deploy::remove_unit(&home, &model, args),
        Command::RemoveApplication(args) => application::remove_application(&home, &model, args),
        Command::Integrate(args) => relations::integrate(&home, &model, args),
        Command::RemoveRelation(args) => relations::remove_relation(&home, &model, args),
        Command::ScaleApplication { app, scale } => deploy::scale(&home, &model, &app, scale),
        Command::Config(args) => config::config(&home, &model, args),
        Command::ModelConfig { settings, reset, format } => {
            models::model_config(&home, &model, &settings, &reset, format)
        }
        Command::Run(args) => operations::run(&home, &model, args),
        Command::Exec(args) => exec::exec(&home, &model, args),
        Command::Status { format, filters, relations, .. } => {
            status::status(&home, &model, format, &filters, relations)
        }
        Command::DebugLog(args) => log::debug_log(&home, &model, args),
        Command::ShowUnit { units, format } => show::show_unit(&home, &model, &units, format),
        Command::ShowModel { name, format } => {
            show::show_model(&home, name.as_deref().unwrap_or(&model), format)
        }
        Command::Version { all, format } => show::version(all, format),
        Command::Secrets { owner, format } => show::secrets(&home, &model, owner.as_deref(), format),
        Command::ShowSecret(args) => show::show_secret(&home, &model, &args),
        Command::Refresh { app, path } => deploy::refresh(&home, &model, &app, &path),
        Command::AttachResource { app, resource } => deploy::attach_resource(&home, &model, &app, &resource),
        Command::Wait(args) => wait::wait(&home, &model, args),
        Command::HookTimings(args) => timings::hook_timings(&home, &model, args),
        Command::Cut(args) => faults::cut(&home, &model, args),
        Command::Heal(args) => faults::heal(&home, &model, args),
        Command::ChangeAddress { unit } => faults::change_address(&home, &model, &unit),
        Command::KillMachine { unit } => faults::kill_machine(&home, &model, &unit),
        Command::StartMachine { unit } => faults::start_machine(&home, &model, &unit),
        Command::RebootMachine { unit } => faults::reboot_machine(&home, &model, &unit),
        Command::Agent(args) => {
            let dir = args.dir.unwrap_or_else(|| home.model_dir(&model));
            crate::agent::run(&dir).map_err(|e| CliError::Usage(e.to_string()))
        }
    }
}

/// Splits `key=value`, with a clear error for anything else.
pub fn split_kv(arg: &str) -> Result<(&str, &str)> {
    arg.split_once('=')
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| CliError::Usage(format!("expected key=value, got {arg:?}")))
}

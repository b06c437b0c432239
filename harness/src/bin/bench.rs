//! `bench` — run a fault N times and print median/p95 of unavailability, losses, failovers and the
//! Sentinel timeline.
//!
//! ```text
//! bench failover --runs 5 --substrate raw --json failover.json
//! bench dispatch --substrate local --charm build/ops-noop --app ops-noop   # the Python baseline
//! bench deploy --substrate local --resource valkey-server=$PWD/.cache/valkey/bin/valkey-server
//! bench client-endpoints --substrate local --requirer tests/fixtures/valkey-requirer --switchovers 20
//! ```

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Parser;
use valkey_harness::bench::{
    render_table, run_bench, LocalSubstrate, RawSubstrate, Scenario, Substrate, SubstrateKind,
};

/// Failover, switchover and scaling benchmarks.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// What to measure.
    #[arg(value_enum)]
    scenario: Scenario,
    /// How many runs.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Also write every run and the summary as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Where to run: the raw topology fixture or the charm on the local model.
    #[arg(long, value_enum, default_value = "raw")]
    substrate: SubstrateKind,
    /// Sentinel down-after-milliseconds (raw substrate).
    #[arg(long, default_value_t = 2000)]
    down_after_ms: u64,
    /// min-replicas-to-write on every data node (raw substrate; 0 = off).
    #[arg(long, default_value_t = 0)]
    min_replicas_to_write: u32,
    /// Data nodes and Sentinels (raw substrate) or units (local substrate).
    #[arg(long, default_value_t = 3)]
    nodes: usize,
    /// The charm directory (local substrate), as `scripts/build-charm` prints it.
    #[arg(long, default_value = "build/valkey")]
    charm: PathBuf,
    /// Charm config `key=value` for deploy (local substrate; repeatable).
    #[arg(long = "config", value_parser = key_value)]
    config: Vec<(String, String)>,
    /// Resource `name=path` for deploy (local substrate; repeatable).
    #[arg(long = "resource", value_parser = key_value)]
    resources: Vec<(String, String)>,
    /// Application name (local substrate); the ops baseline is deployed as `ops-noop`.
    #[arg(long, default_value = "valkey")]
    app: String,
    /// update-status hooks to collect per run from the agent's timings (dispatch; 0 = none).
    #[arg(long, default_value_t = 30)]
    hook_samples: usize,
    /// update-status interval while collecting them (a Go duration).
    #[arg(long, default_value = "1s")]
    hook_interval: String,
    /// juju-local's network mode for each run's model (local substrate): `loopback`, `hosts` or
    /// `machines` (systemd machines: the charm's production path; root).
    #[arg(long, default_value = "loopback")]
    network_mode: String,
    /// The requirer charm directory (client-endpoints), e.g. tests/fixtures/valkey-requirer.
    #[arg(long)]
    requirer: Option<PathBuf>,
    /// Switchovers measured per run (client-endpoints).
    #[arg(long, default_value_t = 10)]
    switchovers: usize,
    /// kill -9 failovers measured per run, after the switchovers (client-endpoints).
    #[arg(long, default_value_t = 1)]
    kills: usize,
}

fn key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!("expected key=value, got {text:?}")),
    }
}

fn main() -> std::process::ExitCode {
    // One line on failure, whatever RUST_BACKTRACE says: this is a CLI, not a crash.
    match run(Args::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(args.runs > 0, "--runs must be at least 1");
    anyhow::ensure!(args.nodes >= 1, "--nodes must be at least 1");
    let mut substrate: Box<dyn Substrate> = match args.substrate {
        SubstrateKind::Raw => {
            let mut raw = RawSubstrate::default();
            raw.spec.down_after_ms = args.down_after_ms;
            raw.spec.nodes = args.nodes;
            raw.spec.min_replicas_to_write = args.min_replicas_to_write;
            Box::new(raw)
        }
        SubstrateKind::Local => {
            let mut local = LocalSubstrate::new(args.charm.clone(), args.nodes);
            local.config = args.config.clone();
            local.app = args.app.clone();
            local.hook_samples = args.hook_samples;
            local.hook_interval = args.hook_interval.clone();
            local.network_mode = args.network_mode.clone();
            local.requirer = args.requirer.clone();
            local.switchovers = args.switchovers;
            local.kills = args.kills;
            local.resources = args.resources.iter().map(|(k, v)| (k.clone(), PathBuf::from(v))).collect();
            Box::new(local)
        }
    };
    let result = run_bench(substrate.as_mut(), args.scenario, args.runs, |run, m| match &m.writes {
        Some(w) => eprintln!(
            "run {run}: unavailable {:?}, lost {}, failovers {}",
            w.unavailability, w.lost_acknowledged, w.epoch_increments
        ),
        None => eprintln!(
            "run {run}: deploy {:?}, HA-ready {:?}, operation {:?}, {} hooks timed, hook tools {:?}",
            m.deploy_to_active,
            m.ha_ready,
            m.operation,
            m.hooks.len(),
            m.hook_tool_calls
        ),
    })?;
    println!("{:?} on {:?}, {} runs", result.scenario, result.substrate, result.runs.len());
    print!("{}", render_table(&result.summary));
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&result)?;
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

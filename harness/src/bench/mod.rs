//! Benchmarks: inject a fault N times, measure each run, summarise with median and p95.
//!
//! The seam is [`Substrate`]: something that can deploy a Valkey HA set, inject one fault and
//! report a [`RunMeasurement`]. `raw` (the topology fixture, no charm) works today; `local` (the
//! charm on the local model, driven through the juju CLI) is the next implementation.
//!
//! - `dispatch` — update-status latency and peak RSS of the charm on a unit (timed `./dispatch`).
//! - `hook_timings` — real update-status hooks as the local model's agent timed them.
//! - `ready` — pure: when a deployment counts as HA-ready (offsets equal, Sentinels agree).
//! - `fault` — the probe around one fault, shared by the substrates.
//! - `raw` — [`RawSubstrate`]: failover (kill -9) and switchover (`SENTINEL FAILOVER ... COORDINATED`).
//! - `local` — [`LocalSubstrate`]: the charm through the juju driver (failover, switchover, add-unit).
//! - `client_endpoints` — `+switch-master` to the new `endpoints` in a client's view of the
//!   `valkey-client` relation (local model).
//! - `table` — pure: measurements → summary rows → a text table.

pub mod client_endpoints;
mod dispatch;
mod fault;
pub mod hook_timings;
mod local;
mod raw;
pub mod ready;
mod table;

use std::time::Duration;

pub use fault::{lost_writes, run_fault, FaultPlan, FaultRun};
pub use local::LocalSubstrate;
pub use raw::RawSubstrate;
pub use table::{render_table, summarise, SummaryRow};

/// The fault or operation being measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// `kill -9` of the primary; Sentinel fails over.
    Failover,
    /// `kill -STOP` of the primary (a hung host); Sentinel fails over, then the old primary is
    /// continued and must rejoin as a replica without keeping writes the others lack.
    Freeze,
    /// A coordinated switchover (the charm's `failover` action on the local model).
    Switchover,
    /// Adding a unit until it is active (local model only).
    AddUnit,
    /// update-status dispatch latency and memory of the charm (local model only).
    Dispatch,
    /// `deploy -n N` until every unit is active and idle, the replicas are in sync and every
    /// Sentinel agrees on the whole set (local model only).
    Deploy,
    /// From Sentinel's `+switch-master` to the new `endpoints` in a related requirer's view of the
    /// `valkey-client` relation, over switchovers and kill -9 failovers (local model only).
    ClientEndpoints,
}

/// Where the benchmark runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum SubstrateKind {
    /// Valkey and Sentinel started directly by the topology fixture.
    Raw,
    /// The charm deployed on the local model.
    Local,
}

/// Errors from a benchmark run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// This substrate cannot run this scenario (yet).
    #[error("scenario {scenario:?} is not available on the {substrate:?} substrate: {why}")]
    Unsupported {
        /// The scenario asked for.
        scenario: Scenario,
        /// The substrate asked for.
        substrate: SubstrateKind,
        /// Why, and what to use instead.
        why: String,
    },
    /// Setting up or tearing down the deployment failed.
    #[error("topology: {0}")]
    Topology(#[from] crate::topology::TopologyError),
    /// A Sentinel query failed.
    #[error("sentinel: {0}")]
    Sentinel(#[from] crate::sentinel::SentinelError),
    /// The system did not reach the expected state.
    #[error("run {run}: {what}")]
    Stuck {
        /// Which run.
        run: usize,
        /// What did not happen.
        what: String,
    },
    /// A juju call failed (local substrate).
    #[error("juju: {0}")]
    Juju(#[from] crate::juju::JujuError),
    /// Reading or acting on the charm's deployment failed (local substrate).
    #[error("deployment: {0}")]
    Deployment(#[from] crate::deployment::DeploymentError),
    /// An I/O error (starting the probe thread, writing output).
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// What the write probe measured around one fault.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct WriteMeasurement {
    /// Length of the write-unavailability window the fault caused (`None`: no write failed).
    #[serde(serialize_with = "crate::duration_ms::optional")]
    pub unavailability: Option<Duration>,
    /// Acknowledged writes missing afterwards on some surviving node.
    pub lost_acknowledged: u64,
    /// How much the Sentinels' config-epoch rose (1 = exactly one failover).
    pub epoch_increments: u64,
    /// Writes acknowledged during the run.
    pub acknowledged: u64,
}

/// What one run measured.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct RunMeasurement {
    /// Write availability and loss, for scenarios that inject a fault under the probe.
    pub writes: Option<WriteMeasurement>,
    /// Sentinel events, first occurrence each, relative to the fault.
    #[serde(serialize_with = "crate::duration_ms::named")]
    pub timeline: Vec<(String, Duration)>,
    /// Time from `deploy` to every unit active and idle (local substrate).
    #[serde(serialize_with = "crate::duration_ms::optional")]
    pub deploy_to_active: Option<Duration>,
    /// Duration of the operation itself: add-unit to active, the failover action's run time, or
    /// the median update-status dispatch.
    #[serde(serialize_with = "crate::duration_ms::optional")]
    pub operation: Option<Duration>,
    /// Peak RSS of one update-status dispatch, KiB (dispatch scenario).
    pub peak_rss_kb: Option<u64>,
    /// Hook tools one update-status dispatch on the leader ran, by name (dispatch scenario): each
    /// is a process, so their number is what a quiet hook's time mostly depends on.
    pub hook_tool_calls: Vec<(String, u64)>,
    /// Time from `deploy` until the set is HA-ready: units active and idle, replication offsets
    /// equal, every Sentinel agreeing on primary, quorum, peers and replicas (deploy scenario).
    #[serde(serialize_with = "crate::duration_ms::optional")]
    pub ha_ready: Option<Duration>,
    /// update-status hooks as the agent ran and timed them (dispatch scenario, juju-local);
    /// summarised over all samples of all runs, not per run.
    pub hooks: Vec<hook_timings::HookSample>,
    /// Samples of named metrics, several per run (client-endpoints: one per switch), summarised
    /// over all samples of all runs.
    #[serde(serialize_with = "crate::duration_ms::named")]
    pub samples: Vec<(String, Duration)>,
}

/// Something that can run one measured fault.
pub trait Substrate {
    /// Which kind this is (for the report).
    fn kind(&self) -> SubstrateKind;

    /// Sets up a fresh deployment, runs `scenario` once, tears down, returns the measurement.
    fn run_once(&mut self, scenario: Scenario, run: usize) -> Result<RunMeasurement, BenchError>;
}

/// All runs of one benchmark and their summary.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchResult {
    /// What was measured.
    pub scenario: Scenario,
    /// Where.
    pub substrate: SubstrateKind,
    /// Every run, in order.
    pub runs: Vec<RunMeasurement>,
    /// Median and p95 per metric.
    pub summary: Vec<SummaryRow>,
}

/// Runs `scenario` `runs` times on `substrate`, reporting progress through `progress`.
pub fn run_bench(
    substrate: &mut dyn Substrate,
    scenario: Scenario,
    runs: usize,
    mut progress: impl FnMut(usize, &RunMeasurement),
) -> Result<BenchResult, BenchError> {
    let mut measurements = Vec::with_capacity(runs);
    for run in 1..=runs {
        let measurement = substrate.run_once(scenario, run)?;
        progress(run, &measurement);
        measurements.push(measurement);
    }
    let summary = summarise(&measurements);
    Ok(BenchResult { scenario, substrate: substrate.kind(), runs: measurements, summary })
}

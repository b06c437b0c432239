//! The raw substrate: a fresh topology per run, the probe writing with `WAIT 1`, one fault, then
//! recovery, consistency, failover count and the Sentinel timeline.

use std::time::Duration;

use super::fault::{lost_writes, run_fault, FaultPlan};
use super::{BenchError, RunMeasurement, Scenario, Substrate, SubstrateKind};
use crate::sentinel_log;
use crate::topology::{Topology, TopologySpec, MONITOR};
use crate::valkey;

/// Valkey + Sentinel started by the topology fixture.
#[derive(Debug, Clone)]
pub struct RawSubstrate {
    /// The topology to start for each run.
    pub spec: TopologySpec,
    /// Acknowledged writes before the fault (the probe is warm and replicas are streaming).
    pub warmup_acks: u64,
    /// Acknowledged writes after the fault that count as "recovered".
    pub recovery_acks: u64,
    /// Longest a run may take to recover.
    pub recovery_timeout: Duration,
}

impl Default for RawSubstrate {
    fn default() -> Self {
        Self {
            spec: TopologySpec::default(),
            warmup_acks: 200,
            recovery_acks: 200,
            recovery_timeout: Duration::from_secs(60),
        }
    }
}

impl Substrate for RawSubstrate {
    fn kind(&self) -> SubstrateKind {
        SubstrateKind::Raw
    }

    fn run_once(&mut self, scenario: Scenario, run: usize) -> Result<RunMeasurement, BenchError> {
        if matches!(scenario, Scenario::AddUnit | Scenario::Dispatch | Scenario::Deploy) {
            return Err(BenchError::Unsupported {
                scenario,
                substrate: SubstrateKind::Raw,
                why: "it measures the charm, which only the local substrate deploys".into(),
            });
        }
        let mut topology = Topology::start(self.spec.clone())?;
        let sentinels = topology.sentinel_set();
        let epoch_before = sentinels.max_config_epoch()?;
        let old_primary = sentinels.resolve_primary()?;
        let plan = FaultPlan {
            warmup_acks: self.warmup_acks,
            recovery_acks: self.recovery_acks,
            recovery_timeout: self.recovery_timeout,
        };
        let index = topology
            .node_index(&old_primary)
            .ok_or_else(|| BenchError::Stuck { run, what: "unknown primary".into() })?;
        let fault = run_fault(&sentinels, run, plan, || match scenario {
            Scenario::Failover => Ok(topology.kill_node(index)?),
            Scenario::Freeze => Ok(topology.freeze_node(index)?),
            _ => coordinated_switchover(&topology)
                .map_err(|e| BenchError::Stuck { run, what: format!("switchover: {e}") }),
        })?;
        if scenario == Scenario::Freeze {
            // The old primary comes back; verify() below then checks it converged (as a replica).
            topology.thaw_node(index)?;
        }
        let lost = lost_writes(
            &fault.log,
            &topology.live_data_endpoints(),
            &topology.admin_credentials(),
            self.recovery_timeout,
        );
        let mut events = Vec::new();
        for n in 0..topology.spec.nodes {
            if let Some(text) = topology.sentinel_log(n).and_then(|path| std::fs::read_to_string(path).ok()) {
                events.extend(sentinel_log::parse_log(&text));
            }
        }
        Ok(RunMeasurement {
            writes: Some(fault.writes(lost, epoch_before)),
            timeline: sentinel_log::timeline(&events, sentinel_log::local_ms(fault.fault_wall)),
            ..RunMeasurement::default()
        })
    }
}

/// `SENTINEL FAILOVER primary COORDINATED` on the first Sentinel (Valkey 9.0+).
fn coordinated_switchover(topology: &Topology) -> redis::RedisResult<()> {
    let sentinel = &topology.sentinel_endpoints()[0];
    let mut connection =
        valkey::connect(sentinel, &topology.sentinel_credentials(), valkey::Timeouts::default())?;
    redis::cmd("SENTINEL").arg("FAILOVER").arg(MONITOR).arg("COORDINATED").exec(&mut connection)
}

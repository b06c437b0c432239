//! The measured part of a fault run, shared by every substrate: warm the probe up, inject the
//! fault, wait for writes to come back and the Sentinels to agree, then count lost writes.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use super::{BenchError, WriteMeasurement};
use crate::probe::{verify, ProbeConfig, ProbeHandle, ProbeLog, Report};
use crate::sentinel::{MonitorView, SentinelSet};
use crate::valkey::{Credentials, Endpoint};

/// How much to write around the fault.
#[derive(Debug, Clone, Copy)]
pub struct FaultPlan {
    /// Acknowledged writes before the fault.
    pub warmup_acks: u64,
    /// Acknowledged writes after the fault that count as recovered.
    pub recovery_acks: u64,
    /// Longest the recovery may take.
    pub recovery_timeout: Duration,
}

/// What the probe saw around one fault.
#[derive(Debug)]
pub struct FaultRun {
    /// Everything the probe recorded.
    pub log: ProbeLog,
    /// Its summary.
    pub report: Report,
    /// The fault's time on the probe's clock.
    pub fault_at: Duration,
    /// The fault's wall-clock time (for log timelines).
    pub fault_wall: SystemTime,
    /// The Sentinels' common view once they agreed after the fault.
    pub agreed: MonitorView,
}

impl FaultRun {
    /// The write measurement, given the writes found lost and the config-epoch before the fault.
    pub fn writes(&self, lost_acknowledged: u64, epoch_before: u64) -> WriteMeasurement {
        WriteMeasurement {
            unavailability: self.report.window_after(self.fault_at).map(|w| w.length()),
            lost_acknowledged,
            epoch_increments: self.agreed.config_epoch.saturating_sub(epoch_before),
            acknowledged: self.report.acknowledged,
        }
    }
}

/// Runs the probe (with `WAIT 1`) around `inject`.
pub fn run_fault(
    sentinels: &SentinelSet,
    run: usize,
    plan: FaultPlan,
    inject: impl FnOnce() -> Result<(), BenchError>,
) -> Result<FaultRun, BenchError> {
    let stuck = |what: String| BenchError::Stuck { run, what };
    let mut config = ProbeConfig::new(sentinels.clone(), format!("bench-{}-{run}", std::process::id()));
    config.wait_replicas = Some(1);
    let probe = ProbeHandle::start(config)?;
    if !probe.wait_acked(plan.warmup_acks, Duration::from_secs(30)) {
        return Err(stuck(format!("probe warm-up: {} acked, {} errors", probe.acked(), probe.errors())));
    }
    let fault_wall = SystemTime::now();
    let fault_at = probe.mark("fault");
    let acked_at_fault = probe.acked();
    inject()?;
    if !probe.wait_acked(acked_at_fault + plan.recovery_acks, plan.recovery_timeout) {
        return Err(stuck(format!("no recovery: {} errors", probe.errors())));
    }
    let agreed = sentinels.wait_agreement(plan.recovery_timeout)?;
    let log = probe.stop();
    let report = log.report();
    Ok(FaultRun { log, report, fault_at, fault_wall, agreed })
}

/// Acknowledged writes missing (or wrong) on at least one of `nodes` after `timeout`.
pub fn lost_writes(log: &ProbeLog, nodes: &[Endpoint], auth: &Credentials, timeout: Duration) -> u64 {
    match verify(log, nodes, auth, timeout) {
        Ok(()) => 0,
        Err(error) => {
            let seqs: BTreeSet<u64> =
                error.checks.iter().flat_map(|c| c.missing.iter().chain(&c.wrong)).copied().collect();
            if seqs.is_empty() {
                // Only unreachable nodes: nothing could be checked there, count every write as lost
                // rather than report a clean run.
                log.acks.len() as u64
            } else {
                seqs.len() as u64
            }
        }
    }
}

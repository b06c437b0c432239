//! The local-model substrate: the charm deployed through the juju driver (so it also runs on real
//! Juju with `JUJU=juju`), one fresh model per run. Failover = `kill -9` of the primary's
//! valkey-server through `juju exec` (freeze: `kill -STOP`, then `-CONT` after recovery); switchover = the charm's `failover` action; add-unit = time
//! from `juju add-unit` to every unit active and idle; dispatch = update-status latency and peak RSS
//! of the charm binary in a hook context, timed `./dispatch` runs and real hooks the agent timed
//! (any charm: the Python ops baseline too); deploy = `deploy -n N` to HA-ready (see `ready`);
//! client-endpoints = `+switch-master` to the requirer's new `endpoints` (see `client_endpoints`).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::fault::{lost_writes, run_fault, FaultPlan};
use super::{client_endpoints, dispatch, hook_timings, ready};
use super::{BenchError, RunMeasurement, Scenario, Substrate, SubstrateKind};
use crate::deployment::CharmDeployment;
use crate::juju::Juju;
use crate::sentinel_log;

/// The charm on `juju-local` (or real Juju via `JUJU`).
#[derive(Debug, Clone)]
pub struct LocalSubstrate {
    /// The charm directory to deploy (built with `scripts/build-charm`).
    pub charm_dir: PathBuf,
    /// Units to deploy.
    pub units: usize,
    /// Application name.
    pub app: String,
    /// `--config` pairs passed to deploy.
    pub config: Vec<(String, String)>,
    /// `--resource` pairs passed to deploy (e.g. `valkey-server` = the setup-valkey binary).
    pub resources: Vec<(String, PathBuf)>,
    /// Longest a deploy or add-unit may take to become active.
    pub active_timeout: Duration,
    /// Probe bounds around a fault.
    pub plan: FaultPlan,
    /// update-status hooks to collect per run (dispatch scenario; 0 = timed `./dispatch` only).
    pub hook_samples: usize,
    /// The update-status interval set while collecting them (a Go duration).
    pub hook_interval: String,
    /// juju-local's `network-mode` for each run's model (`loopback` adds a plain model, which is
    /// also what real Juju gets).
    pub network_mode: String,
    /// The requirer charm (client-endpoints: `tests/fixtures/valkey-requirer`).
    pub requirer: Option<PathBuf>,
    /// Switchovers measured per run (client-endpoints).
    pub switchovers: usize,
    /// kill -9 failovers measured per run, after the switchovers (client-endpoints).
    pub kills: usize,
}

impl LocalSubstrate {
    /// Defaults: 3 units of `valkey`, 10 minutes to become active, 200 writes either side.
    pub fn new(charm_dir: PathBuf, units: usize) -> Self {
        Self {
            charm_dir,
            units,
            app: "valkey".into(),
            config: Vec::new(),
            resources: Vec::new(),
            active_timeout: Duration::from_secs(600),
            plan: FaultPlan {
                warmup_acks: 200,
                recovery_acks: 200,
                recovery_timeout: Duration::from_secs(120),
            },
            hook_samples: 30,
            hook_interval: "1s".into(),
            network_mode: "loopback".into(),
            requirer: None,
            switchovers: 10,
            kills: 1,
        }
    }
}

impl Substrate for LocalSubstrate {
    fn kind(&self) -> SubstrateKind {
        SubstrateKind::Local
    }

    fn run_once(&mut self, scenario: Scenario, run: usize) -> Result<RunMeasurement, BenchError> {
        let mut juju = Juju::from_env()?;
        if scenario == Scenario::Deploy {
            // Finer than the default 250 ms: the poll interval is the resolution of the figure.
            juju.poll_interval = Duration::from_millis(100);
        }
        let model = format!("bench-{}-{run}", std::process::id());
        if self.network_mode == "loopback" {
            juju.add_model(&model)?;
        } else {
            juju.add_model_with(&model, &[("network-mode", self.network_mode.as_str())])?;
        }
        let config: Vec<(&str, &str)> = self.config.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let resources: Vec<(&str, &std::path::Path)> =
            self.resources.iter().map(|(k, v)| (k.as_str(), v.as_path())).collect();
        let started = Instant::now();
        juju.deploy(&self.charm_dir, &self.app, self.units, &config, &resources)?;
        juju.wait_idle_active(&self.app, self.units, self.active_timeout)?;
        let deploy_to_active = Some(started.elapsed());

        if scenario == Scenario::Deploy {
            let ha_ready = Some(self.wait_ha_ready(&juju, started, run)?);
            juju.destroy_model()?;
            return Ok(RunMeasurement { deploy_to_active, ha_ready, ..RunMeasurement::default() });
        }
        if scenario == Scenario::Dispatch {
            let unit = format!("{}/leader", self.app);
            let timings =
                dispatch::time_dispatch(&juju, &unit)?.map_err(|what| BenchError::Stuck { run, what })?;
            let hooks = if self.hook_samples == 0 {
                Vec::new()
            } else {
                let timeout = self.active_timeout;
                hook_timings::collect_update_status(&juju, self.hook_samples, &self.hook_interval, timeout)?
                    .map_err(|what| BenchError::Stuck { run, what })?
            };
            juju.destroy_model()?;
            return Ok(RunMeasurement {
                deploy_to_active,
                operation: crate::stats::median(&timings.latencies),
                peak_rss_kb: timings.peak_rss_kb,
                hook_tool_calls: timings.tool_calls,
                hooks,
                ..RunMeasurement::default()
            });
        }
        if scenario == Scenario::ClientEndpoints {
            let requirer = self.requirer.clone().ok_or_else(|| BenchError::Unsupported {
                scenario,
                substrate: SubstrateKind::Local,
                why: "client-endpoints needs --requirer (tests/fixtures/valkey-requirer)".into(),
            })?;
            let samples = client_endpoints::relate_and_measure(
                &juju,
                &self.app,
                &requirer,
                self.switchovers,
                self.kills,
                self.plan.recovery_timeout,
                run,
            )?;
            juju.destroy_model()?;
            return Ok(RunMeasurement { deploy_to_active, samples, ..RunMeasurement::default() });
        }
        if scenario == Scenario::AddUnit {
            let started = Instant::now();
            juju.add_unit(&self.app, 1)?;
            juju.wait_idle_active(&self.app, self.units + 1, self.active_timeout)?;
            let operation = Some(started.elapsed());
            juju.destroy_model()?;
            return Ok(RunMeasurement { deploy_to_active, operation, ..RunMeasurement::default() });
        }

        let deployment = CharmDeployment::new(&juju, self.app.clone());
        let credentials = deployment.credentials()?;
        let sentinels = deployment.sentinel_set(&credentials)?;
        let epoch_before = sentinels.max_config_epoch()?;
        let primary = deployment.primary()?;
        let mut operation = None;
        let mut frozen = None;
        let result = run_fault(&sentinels, run, self.plan, || {
            match scenario {
                Scenario::Failover => {
                    deployment.kill_valkey(&primary.unit, &primary.endpoint, &credentials, "KILL")?;
                    return Ok(());
                }
                Scenario::Freeze => {
                    frozen = Some(deployment.kill_valkey(
                        &primary.unit,
                        &primary.endpoint,
                        &credentials,
                        "STOP",
                    )?);
                    return Ok(());
                }
                _ => {}
            }
            let started = Instant::now();
            let outcome = juju.run_action(&format!("{}/leader", self.app), "failover", &[])?;
            operation = Some(started.elapsed());
            if outcome.completed() {
                Ok(())
            } else {
                Err(BenchError::Stuck { run, what: format!("failover action: {:?}", outcome.message) })
            }
        });
        // Thaw a frozen primary even when the run failed: a stopped process ignores SIGTERM and
        // could outlive the model.
        if let Some(pid) = frozen {
            let output = juju.exec(&primary.unit, &format!("kill -CONT {pid}"))?;
            if output.code != 0 {
                return Err(BenchError::Stuck {
                    run,
                    what: format!("kill -CONT {pid}: {}", output.stderr.trim()),
                });
            }
        }
        let fault = result?;
        // Every node, the restarted old primary included, must end up with every acknowledged write.
        let lost =
            lost_writes(&fault.log, &deployment.data_endpoints()?, &credentials, self.plan.recovery_timeout);
        let mut events = Vec::new();
        for (unit, _) in deployment.unit_addresses()? {
            // A missing log only costs the timeline, not the run.
            if let Ok(text) = deployment.sentinel_log(&unit) {
                events.extend(sentinel_log::parse_log(&text));
            }
        }
        let timeline = sentinel_log::timeline(&events, sentinel_log::local_ms(fault.fault_wall));
        juju.destroy_model()?;
        Ok(RunMeasurement {
            writes: Some(fault.writes(lost, epoch_before)),
            timeline,
            deploy_to_active,
            operation,
            ..RunMeasurement::default()
        })
    }
}

impl LocalSubstrate {
    /// Waits, after every unit went active, until the set is HA-ready and the units are still
    /// active and idle; returns the time since `started` (the deploy command).
    fn wait_ha_ready(&self, juju: &Juju, started: Instant, run: usize) -> Result<Duration, BenchError> {
        let deployment = CharmDeployment::new(juju, self.app.clone());
        let credentials = deployment.credentials()?;
        let nodes = deployment.data_endpoints()?;
        let set = deployment.sentinel_set(&credentials)?;
        ready::wait_ha_ready(&set, &nodes, self.active_timeout)
            .map_err(|what| BenchError::Stuck { run, what })?;
        juju.wait_idle_active(&self.app, self.units, self.active_timeout)?;
        Ok(started.elapsed())
    }
}

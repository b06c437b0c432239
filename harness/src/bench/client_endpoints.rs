//! The client benchmark: from Sentinel's `+switch-master` to the new `endpoints` in the requirer's
//! view of the `valkey-client` relation.
//!
//! One model: the charm ×N and the requirer fixture (`tests/fixtures/valkey-requirer`, related
//! with `juju integrate`), whose `valkey-relation-changed` hook appends `<unix time> <endpoints>`
//! to `$JUJU_CHARM_DIR/received/endpoints.log` whenever it sees `endpoints` change. Each sample:
//! subscribe to `+switch-master` on a Sentinel the fault spares, cause the switch (the charm's
//! `failover` action, or `kill -9` of the primary's valkey-server), note when the message arrives,
//! then read the log through `juju exec` until a new line names another endpoint; the sample is
//! that line's time minus the message's. Both clocks are this machine's (juju-local); on real
//! Juju across machines the figure includes their skew. Between samples the set is let settle
//! (units idle, replicas in sync, every Sentinel agreeing).

use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::{ready, BenchError};
use crate::deployment::{CharmDeployment, SENTINEL_PORT};
use crate::juju::Juju;
use crate::valkey::{self, Credentials, Endpoint, Timeouts};

/// The requirer's application name in the bench model.
pub const REQUIRER_APP: &str = "requirer";

/// How one sample's switch was caused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Switch {
    /// The charm's `failover` action (a coordinated switchover).
    Switchover,
    /// `kill -9` of the primary's valkey-server (Sentinel's automatic failover).
    Kill,
}

impl Switch {
    /// The metric name of its samples.
    pub fn metric(self) -> &'static str {
        match self {
            Switch::Switchover => "+switch-master → requirer's endpoints, switchover (ms)",
            Switch::Kill => "+switch-master → requirer's endpoints, kill -9 (ms)",
        }
    }
}

/// Pure: the lines of the requirer's `endpoints.log` (`<seconds since the epoch> <endpoints>`);
/// malformed lines are skipped.
pub fn parse_endpoints_log(text: &str) -> Vec<(f64, String)> {
    text.lines()
        .filter_map(|l| {
            let (time, endpoint) = l.trim().split_once(' ')?;
            Some((time.parse().ok()?, endpoint.trim().to_string()))
        })
        .filter(|(_, e)| !e.is_empty())
        .collect()
}

/// Pure: the first entry after the first `seen` ones that names an endpoint other than `old`.
pub fn first_change(log: &[(f64, String)], seen: usize, old: &str) -> Option<(f64, String)> {
    log.iter().skip(seen).find(|(_, e)| e != old).cloned()
}

fn unix_seconds(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// The requirer unit's log so far.
fn endpoints_log(juju: &Juju, run: usize) -> Result<Vec<(f64, String)>, BenchError> {
    let unit = format!("{REQUIRER_APP}/0");
    let out = juju.exec(&unit, "cat \"$JUJU_CHARM_DIR/received/endpoints.log\" 2>/dev/null || true")?;
    if out.code != 0 {
        return Err(BenchError::Stuck { run, what: format!("reading endpoints.log: {}", out.stderr.trim()) });
    }
    Ok(parse_endpoints_log(&out.stdout))
}

/// Subscribes to `+switch-master` on `unit`'s Sentinel and returns once subscribed; a thread then
/// sends `(unit, wall time)` for each message on `tx` until `deadline` passes, the connection
/// fails, or the receiver is dropped.
fn listen(
    unit: &str,
    sentinel: &Endpoint,
    credentials: &Credentials,
    deadline: Duration,
    run: usize,
    tx: mpsc::Sender<(String, SystemTime)>,
) -> Result<(), BenchError> {
    let timeouts = Timeouts { connect: Duration::from_secs(2), io: Duration::from_secs(2) };
    let failed = |e: String| BenchError::Stuck { run, what: format!("subscribe on {sentinel}: {e}") };
    let mut connection =
        valkey::connect(sentinel, credentials, timeouts).map_err(|e| failed(e.to_string()))?;
    let (ready_tx, ready_rx) = mpsc::channel();
    let unit = unit.to_string();
    std::thread::Builder::new().name("switch-master".into()).spawn(move || {
        let mut pubsub = connection.as_pubsub();
        let subscribed = pubsub
            .subscribe("+switch-master")
            .and_then(|()| pubsub.set_read_timeout(Some(Duration::from_millis(200))));
        let ok = subscribed.is_ok();
        let _ = ready_tx.send(subscribed.map_err(|e| e.to_string()));
        let started = Instant::now();
        while ok && started.elapsed() < deadline {
            match pubsub.get_message() {
                Ok(_) => {
                    if tx.send((unit.clone(), SystemTime::now())).is_err() {
                        return;
                    }
                }
                Err(e) if e.is_timeout() => {}
                Err(_) => return,
            }
        }
    })?;
    // Subscribed before this returns, so no message of the switch that follows is missed.
    ready_rx.recv().map_err(|e| failed(e.to_string()))?.map_err(failed)?;
    Ok(())
}

/// Deploys the requirer at `requirer` beside the settled `app`, relates them, waits for its first
/// answer, then [`measure`]s.
pub fn relate_and_measure(
    juju: &Juju,
    app: &str,
    requirer: &std::path::Path,
    switchovers: usize,
    kills: usize,
    timeout: Duration,
    run: usize,
) -> Result<Vec<(String, Duration)>, BenchError> {
    juju.deploy(requirer, REQUIRER_APP, 1, &[("prefix", "bench")], &[])?;
    let model = juju.model().unwrap_or_default().to_string();
    let args: Vec<String> =
        ["integrate", "-m", &model, app, REQUIRER_APP].iter().map(|s| s.to_string()).collect();
    juju.raw(&args)?.success()?;
    let started = Instant::now();
    while endpoints_log(juju, run)?.is_empty() {
        if started.elapsed() > timeout {
            return Err(BenchError::Stuck { run, what: "the requirer got no endpoints".into() });
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    measure(juju, app, switchovers, kills, timeout, run)
}

/// Measures `switchovers` switchovers then `kills` kill -9 failovers on a deployed, related,
/// settled model; returns each sample with its metric name.
pub fn measure(
    juju: &Juju,
    app: &str,
    switchovers: usize,
    kills: usize,
    timeout: Duration,
    run: usize,
) -> Result<Vec<(String, Duration)>, BenchError> {
    let deployment = CharmDeployment::new(juju, app.to_string());
    let credentials = deployment.credentials()?;
    let plan =
        std::iter::repeat_n(Switch::Switchover, switchovers).chain(std::iter::repeat_n(Switch::Kill, kills));
    let mut samples = Vec::new();
    for (i, switch) in plan.enumerate() {
        settle(juju, &deployment, &credentials, app, timeout, run)?;
        let primary = deployment.primary()?;
        let log = endpoints_log(juju, run)?;
        let old = log.last().map(|(_, e)| e.clone()).unwrap_or_default();
        let leader = juju.status()?.leader(app).unwrap_or_default().to_string();
        let (tx, switched) = mpsc::channel();
        for (unit, address) in deployment.unit_addresses()? {
            listen(&unit, &Endpoint::new(address, SENTINEL_PORT), &credentials, timeout, run, tx.clone())?;
        }
        drop(tx);
        let returned = match switch {
            Switch::Switchover => {
                let outcome = juju.run_action(&format!("{app}/leader"), "failover", &[])?;
                if !outcome.completed() {
                    return Err(BenchError::Stuck {
                        run,
                        what: format!("failover action: {:?}", outcome.message),
                    });
                }
                SystemTime::now()
            }
            Switch::Kill => {
                deployment.kill_valkey(&primary.unit, &primary.endpoint, &credentials, "KILL")?;
                SystemTime::now()
            }
        };
        let (first_unit, first) = switched
            .recv_timeout(timeout)
            .map_err(|_| BenchError::Stuck { run, what: "no Sentinel announced +switch-master".into() })?;
        let started = Instant::now();
        let (seen_at, endpoint) = loop {
            if let Some(change) = first_change(&endpoints_log(juju, run)?, log.len(), &old) {
                break change;
            }
            if started.elapsed() > timeout {
                return Err(BenchError::Stuck { run, what: format!("the requirer still sees {old}") });
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let latency = Duration::from_secs_f64((seen_at - unix_seconds(first)).max(0.0));
        // Printed, not summarised: where the time goes. The leader writes `endpoints` from its
        // primary-changed hook, which its own Sentinel's +switch-master starts, and which cannot
        // start while an action (the switchover itself) holds the leader's hook lock.
        let ms = |t: SystemTime| (unix_seconds(t) - unix_seconds(first)) * 1000.0;
        let mut heard = vec![(first_unit, first)];
        heard.extend(switched.try_iter());
        let mut leader_heard =
            heard.iter().filter(|(u, _)| *u == leader).map(|(_, t)| format!("{:+.0} ms", ms(*t)));
        eprintln!(
            "  sample {} ({switch:?}): {old} → {endpoint} in {latency:?}; the {} returned {:+.0} ms, the leader's \
             Sentinel announced it {}",
            i + 1,
            if switch == Switch::Kill { "kill" } else { "action" },
            ms(returned),
            leader_heard.next().unwrap_or_else(|| "not yet".to_string())
        );
        samples.push((switch.metric().to_string(), latency));
    }
    Ok(samples)
}

/// Waits until both applications are idle and active and the set is HA-ready.
fn settle(
    juju: &Juju,
    deployment: &CharmDeployment,
    credentials: &Credentials,
    app: &str,
    timeout: Duration,
    run: usize,
) -> Result<(), BenchError> {
    let units = deployment.unit_addresses()?.len();
    juju.wait_idle_active(app, units, timeout)?;
    juju.wait_idle_active(REQUIRER_APP, 1, timeout)?;
    let set = deployment.sentinel_set(credentials)?;
    ready::wait_ha_ready(&set, &deployment.data_endpoints()?, timeout)
        .map_err(|what| BenchError::Stuck { run, what })?;
    juju.wait_idle_active(app, units, timeout)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_new_endpoint_after_the_lines_seen_before_is_the_change() {
        let log = parse_endpoints_log(
            "1765000000.100000000 10.0.0.1:6379\nbad line\n1765000005.250000000 10.0.0.2:6379\n\
             1765000009.000000000 10.0.0.3:6379\n",
        );
        assert_eq!(log.len(), 3);
        assert_eq!(first_change(&log, 1, "10.0.0.1:6379"), Some((1765000005.25, "10.0.0.2:6379".into())));
        assert_eq!(first_change(&log, 3, "10.0.0.3:6379"), None);
        assert_eq!(first_change(&log, 0, "10.0.0.1:6379").unwrap().1, "10.0.0.2:6379");
    }
}

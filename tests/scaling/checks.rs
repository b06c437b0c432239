// Each test binary uses a subset of these checks.
#![allow(dead_code)]

//! Checks the scaling scenario runs after every step, each a poll with a deadline that fails
//! with the last reason: the topology (one primary, every replica replicating from it), the
//! Sentinels (agreement, real peer and replica counts, majority quorum, CKQUORUM) and the unit
//! statuses (counts and the "cannot fail over" warning below 3 units).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::common::nodes::{self, field};
use super::common::settle::{settled, CONVERGE};
use super::common::{poll, Deployed, APP};
use valkey_harness::valkey::{Credentials, Endpoint};

/// What one step left behind, for the next step's comparisons.
#[derive(Debug, Clone)]
pub struct Settled {
    /// The primary every Sentinel names.
    pub primary: Endpoint,
    /// Their agreed config-epoch (a failover or switchover adds one).
    pub epoch: u64,
    /// `(unit, address)` of every unit.
    pub units: Vec<(String, String)>,
}

impl Settled {
    /// The unit that runs the primary.
    pub fn primary_unit(&self) -> String {
        super::common::unit_at(&self.units, &self.primary)
    }

    /// The replicas' unit names, highest number first (the order `scale-application` removes).
    pub fn replicas_highest_first(&self) -> Vec<String> {
        let primary = self.primary_unit();
        let mut replicas: Vec<String> =
            self.units.iter().map(|(u, _)| u.clone()).filter(|u| *u != primary).collect();
        replicas.sort_by_key(|u| std::cmp::Reverse(unit_number(u)));
        replicas
    }
}

/// The number of a unit name (`valkey/12` → 12).
pub fn unit_number(unit: &str) -> u64 {
    unit.rsplit('/').next().and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// Majority of `n` Sentinels: ⌊n/2⌋+1.
pub fn majority(n: usize) -> usize {
    n / 2 + 1
}

/// Runs every check of a settled `n`-unit deployment and prints how long each took.
pub fn after_step(fixture: &Deployed, admin: &Credentials, n: usize, step: &str) -> Settled {
    println!("--- after {step}");
    let units = fixture.units();
    assert_eq!(units.len(), n, "{step}: units {units:?}");
    let sentinels = fixture.deployment().sentinel_set(admin).unwrap();
    // Agreement with num-slaves = num-other-sentinels = n-1, replicas in sync, statuses follow.
    let (primary, epoch) = settled(fixture, &sentinels, admin, None);
    let addresses: Vec<String> = units.iter().map(|(_, a)| a.clone()).collect();
    topology(&addresses, &primary, admin).unwrap_or_else(|e| panic!("{step}: {e}"));
    let quorum = majority(n).to_string();
    let (_, took) = poll(&format!("{step}: quorum {quorum} and CKQUORUM OK everywhere"), CONVERGE, || {
        for address in &addresses {
            let sentinel = nodes::sentinel(address);
            let view = nodes::sentinel_master(&sentinel, admin)?;
            let found = field(&view, "quorum")?;
            if found != quorum {
                return Err(format!("{address}: quorum {found}"));
            }
            let ok = nodes::ckquorum(&sentinel, admin)?;
            if !ok.starts_with("OK") {
                return Err(format!("{address}: CKQUORUM {ok}"));
            }
        }
        Ok(())
    });
    println!("{step}: quorum {quorum} and CKQUORUM OK on {n} sentinels after {took:?}");
    statuses(fixture, n, &quorum, step);
    Settled { primary, epoch, units }
}

/// Exactly one node says `role:master` and every other one replicates from it (no replica of a
/// replica). Nodes that do not answer are an error too.
pub fn topology(addresses: &[String], primary: &Endpoint, admin: &Credentials) -> Result<(), String> {
    let masters = nodes::masters(addresses, admin)?;
    if masters != [primary.clone()] {
        return Err(format!("masters {masters:?}, expected only {primary}"));
    }
    for address in addresses.iter().filter(|a| **a != primary.host) {
        let info = nodes::replication(&nodes::data(address), admin)?;
        let source = (field(&info, "master_host")?, field(&info, "master_port")?);
        if source != (primary.host.as_str(), primary.port.to_string().as_str()) {
            return Err(format!("{address} replicates from {source:?}, not from the primary {primary}"));
        }
    }
    Ok(())
}

/// Every unit's status shows `n/n sentinels, quorum q`, and warns that it cannot fail over (with
/// the reason) exactly when there are fewer than 3 units.
fn statuses(fixture: &Deployed, n: usize, quorum: &str, step: &str) {
    let expected = format!("{n}/{n} sentinels, quorum {quorum}");
    let started = Instant::now();
    let status = fixture
        .juju
        .wait_for(&format!("{step}: statuses to say {expected}"), CONVERGE, |s| {
            s.is_idle_active(APP, n)
                && s.units(APP).iter().all(|(_, u)| {
                    let m = &u.workload_status.message;
                    m.contains(&expected)
                        && m.contains("cannot fail over: needs 3 units for a Sentinel majority") == (n < 3)
                        && (n < 3 || !m.contains("cannot fail over"))
                })
        })
        .unwrap_or_else(|e| panic!("{e}\n{}", fixture.log_tail()));
    println!("{step}: statuses truthful after {:?}", started.elapsed());
    for (unit, u) in status.units(APP) {
        println!("  {unit}: {}", u.workload_status.message);
    }
}

/// A background sampler of every node's `INFO replication` while units join: it records any
/// moment with two primaries, or a replica replicating from a node that is itself a replica.
pub struct TopologyWatch<'a> {
    /// The data nodes to sample.
    addresses: &'a [String],
    /// Set to stop sampling.
    stop: AtomicBool,
    /// Violations seen, with when.
    violations: Mutex<Vec<String>>,
    /// Samples taken, to show the watch really ran.
    samples: Mutex<u64>,
}

impl<'a> TopologyWatch<'a> {
    /// A watch over `addresses`.
    pub fn new(addresses: &'a [String]) -> Self {
        Self {
            addresses,
            stop: AtomicBool::new(false),
            violations: Mutex::new(Vec::new()),
            samples: Mutex::new(0),
        }
    }

    /// Samples until [`TopologyWatch::stop`] is called (run it on a scoped thread).
    pub fn run(&self, admin: &Credentials) {
        let started = Instant::now();
        while !self.stop.load(Ordering::Relaxed) {
            let mut roles = Vec::new();
            for address in self.addresses {
                // A node not started yet does not answer: nothing to check there.
                if let Ok(info) = nodes::replication(&nodes::data(address), admin) {
                    let role = info.get("role").cloned().unwrap_or_default();
                    let source = info.get("master_host").cloned();
                    roles.push((address.clone(), role, source));
                }
            }
            let masters: Vec<&String> = roles.iter().filter(|r| r.1 == "master").map(|r| &r.0).collect();
            let mut found = Vec::new();
            if masters.len() > 1 {
                found.push(format!("{:?}: two primaries {masters:?}", started.elapsed()));
            }
            for (address, _, source) in roles.iter().filter(|r| r.1 == "slave") {
                let chained = roles.iter().any(|r| Some(&r.0) == source.as_ref() && r.1 == "slave");
                if chained {
                    found.push(format!(
                        "{:?}: {address} replicates from replica {source:?}",
                        started.elapsed()
                    ));
                }
            }
            self.violations.lock().unwrap().extend(found);
            *self.samples.lock().unwrap() += 1;
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Asks [`TopologyWatch::run`] to return.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// The number of samples taken and the violations seen.
    pub fn result(&self) -> (u64, Vec<String>) {
        (*self.samples.lock().unwrap(), self.violations.lock().unwrap().clone())
    }
}

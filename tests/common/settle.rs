//! Waiting until a deployment has settled around one primary: the Sentinels agree (and know
//! every replica and peer), the replicas are in sync, and the unit statuses follow. Used after
//! deploys and after every switch of the primary.

use std::time::Duration;

use super::nodes::{self, field};
use super::{poll, unit_at, Deployed, APP};
use valkey_harness::sentinel::SentinelSet;
use valkey_harness::valkey::{Credentials, Endpoint};

/// What nearly every scenario reads first, once the deployment has settled.
pub struct Baseline {
    /// The admin credentials.
    pub admin: Credentials,
    /// `(unit, address)` of every unit, in unit order.
    pub units: Vec<(String, String)>,
    /// Every unit's Sentinel.
    pub sentinels: SentinelSet,
    /// The primary the Sentinels agree on.
    pub primary: Endpoint,
    /// Its unit.
    pub primary_unit: String,
    /// The config-epoch they agree on (a failover raises it by one).
    pub epoch: u64,
}

impl Deployed {
    /// Reads the credentials, units and Sentinels and waits until the deployment has settled
    /// around one primary ([`settled`]).
    pub fn baseline(&self) -> Baseline {
        let admin = self.admin();
        let units = self.units();
        let sentinels = self.deployment().sentinel_set(&admin).expect("the units' Sentinels");
        let (primary, epoch) = settled(self, &sentinels, &admin, None);
        let primary_unit = unit_at(&units, &primary);
        Baseline { admin, units, sentinels, primary, primary_unit, epoch }
    }
}

/// Deadline for Sentinels, replicas and statuses to converge.
pub const CONVERGE: Duration = Duration::from_secs(60);

/// Waits until the deployment is settled around `expected` (a unit name; `None`: whichever
/// primary the Sentinels name): every Sentinel agrees on it with no failover in progress, the
/// replicas are in sync with it, and the unit statuses follow it. Returns the primary and the
/// agreed config-epoch.
pub fn settled(
    fixture: &Deployed,
    sentinels: &SentinelSet,
    admin: &Credentials,
    expected: Option<&str>,
) -> (Endpoint, u64) {
    let units = fixture.units();
    let peers = units.len() as u64 - 1;
    let (view, took) = poll("the sentinels to agree", CONVERGE, || {
        let view = sentinels.wait_agreement(Duration::ZERO).map_err(|e| e.to_string())?;
        match expected {
            Some(unit) if unit_at(&units, &view.primary) != unit => {
                Err(format!("sentinels name {}, expected {unit}", view.primary))
            }
            _ if view.num_slaves != peers || view.num_other_sentinels != peers => Err(format!("{view:?}")),
            _ => Ok(view),
        }
    });
    let primary = view.primary.clone();
    let primary_unit = unit_at(&units, &primary);
    println!("sentinels agree on {primary_unit} (epoch {}) after {took:?}", view.config_epoch);
    // By unit, not by endpoint: Sentinel may name the primary by host name (host mode).
    let replicas: Vec<Endpoint> =
        units.iter().filter(|(unit, _)| *unit != primary_unit).map(|(_, a)| nodes::data(a)).collect();
    let ((), took) = poll("replicas in sync", CONVERGE, || nodes::all_in_sync(&primary, &replicas, admin));
    println!("replicas in sync with {primary_unit} after {took:?}");
    let info = nodes::replication(&primary, admin).unwrap();
    assert_eq!(field(&info, "role").unwrap(), "master", "{info:?}");

    let started = std::time::Instant::now();
    fixture
        .juju
        .wait_for(&format!("unit statuses to follow {primary_unit}"), CONVERGE, |status| {
            status.is_idle_active(APP, units.len())
                && status.units(APP).iter().all(|(unit, s)| {
                    let message = &s.workload_status.message;
                    match *unit == primary_unit {
                        true => message.starts_with("primary"),
                        false => message.starts_with(&format!("replica of {primary_unit}")),
                    }
                })
        })
        .unwrap_or_else(|e| panic!("{e}\n{}", fixture.log_tail()));
    println!("statuses follow {primary_unit} after {:?}", started.elapsed());
    (primary, view.config_epoch)
}

/// Waits until every Sentinel of `sentinels` names one primary other than `old`, with no failover
/// in progress, and returns it; panics with `why` and the last views after [`CONVERGE`].
pub fn replaced(sentinels: &SentinelSet, old: &Endpoint, why: &str) -> Endpoint {
    sentinels
        .wait_until("every sentinel to name a new primary", CONVERGE, |views| {
            let first = views.first()?;
            let agreed = views.iter().all(|v| {
                v.primary == first.primary && v.primary != *old && !v.flags.contains("failover_in_progress")
            });
            agreed.then(|| first.primary.clone())
        })
        .unwrap_or_else(|e| panic!("{why}: {e}"))
}

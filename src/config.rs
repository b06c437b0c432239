//! The operator's settings (config.yaml), parsed and validated in one pure step.
//!
//! Every bad value is refused with a message naming the option and the accepted range, so the
//! charm can block with that message while the services keep their last good configuration.

use serde_json::{Map, Value};

/// Lowest accepted `down-after-milliseconds`. At 1000 ms a promotion (which drops every client
/// link, Sentinel's own included) makes a Sentinel declare the *new* primary down and start a
/// second failover, which once lost acknowledged writes (valkey-facts.md). Measured on the local
/// model (2 cores, 20 kill -9 runs each, 2026-11-22): 1000 ms flapped in 2 of 20 runs, 2000 ms
/// in none (write unavailability p95 3.4 s). docs/failover.md has the figures and the trade-off.
pub const DOWN_AFTER_FLOOR_MS: u32 = 2000;
/// Highest accepted `down-after-milliseconds` (10 minutes: beyond that there is no HA to speak of).
pub const DOWN_AFTER_MAX_MS: u32 = 600_000;
/// Lowest non-zero `maxmemory` accepted (1 MiB). An empty Valkey already uses about that much, so
/// anything smaller makes every write fail with OOM (tried: `maxmemory=1` was accepted with an
/// active status while every write failed). Values above it that the dataset outgrows are shown
/// in the status instead (`status::memory_warning`).
pub const MAXMEMORY_FLOOR: u64 = 1024 * 1024;
/// Valkey's eviction policies (`maxmemory-policy`).
pub const MAXMEMORY_POLICIES: [&str; 8] = [
    "noeviction",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
];

/// How a warning that the deployment cannot survive losing its primary begins.
pub const CANNOT_FAIL_OVER: &str = "cannot fail over: ";
/// A refused setting: `invalid <option>: <message>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {option}: {message}")]
pub struct ConfigError {
    /// The option's name as in config.yaml.
    pub option: String,
    /// What is wrong and what would be accepted.
    pub message: String,
}

impl ConfigError {
    fn new(option: &str, message: impl Into<String>) -> ConfigError {
        ConfigError { option: option.to_string(), message: message.into() }
    }
}

/// The validated settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CharmConfig {
    /// Sentinel `down-after-milliseconds`: how long a primary may be silent before it is
    /// considered down; most of the write outage after a crash.
    pub down_after_ms: u32,
    /// Sentinel `failover-timeout`: a failed election is retried after twice this.
    pub failover_timeout_ms: u32,
    /// Sentinel `parallel-syncs`: replicas re-pointed at once after a failover.
    pub parallel_syncs: u32,
    /// `min-replicas-to-write`; `None` = automatic (see [`CharmConfig::min_replicas_for`]).
    pub min_replicas_to_write: Option<u32>,
    /// `min-replicas-max-lag` in seconds.
    pub min_replicas_max_lag: u32,
    /// `replica-priority` (lower wins, 0 = never promoted).
    pub replica_priority: u32,
    /// `maxmemory` in bytes (0 = no limit).
    pub maxmemory: u64,
    /// `maxmemory-policy`.
    pub maxmemory_policy: String,
    /// `appendonly`: keep an AOF (fsync every second).
    pub appendonly: bool,
}

impl Default for CharmConfig {
    /// The defaults of config.yaml.
    fn default() -> Self {
        CharmConfig {
            down_after_ms: 5000,
            failover_timeout_ms: 20000,
            parallel_syncs: 1,
            min_replicas_to_write: None,
            min_replicas_max_lag: 10,
            replica_priority: 100,
            maxmemory: 0,
            maxmemory_policy: "noeviction".to_string(),
            appendonly: true,
        }
    }
}

/// An integer option: a JSON integer, or a string holding one (what a loose client may send).
fn int(opts: &Map<String, Value>, option: &str) -> Result<Option<i64>, ConfigError> {
    let Some(value) = opts.get(option) else { return Ok(None) };
    let parsed = match value {
        Value::Null => return Ok(None),
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    parsed.map(Some).ok_or_else(|| ConfigError::new(option, format!("{value} is not a whole number")))
}

/// An integer option within `lo..=hi`, or `default` when unset.
fn ranged(
    opts: &Map<String, Value>,
    option: &str,
    lo: i64,
    hi: i64,
    default: u32,
) -> Result<u32, ConfigError> {
    match int(opts, option)? {
        None => Ok(default),
        Some(v) if (lo..=hi).contains(&v) => Ok(v as u32),
        Some(v) => Err(ConfigError::new(option, format!("{v} is out of range (accepted: {lo}..={hi})"))),
    }
}

/// Parses a `maxmemory` value the way valkey.conf does: a byte count, or a whole number with a
/// unit k (1000), kb (1024), m, mb, g, gb — case-insensitive.
pub fn parse_memory(text: &str) -> Result<u64, ConfigError> {
    const OPTION: &str = "maxmemory";
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    if digits.is_empty() {
        return Err(ConfigError::new(
            OPTION,
            format!("{text:?} is not a byte count or a number with a unit (k, kb, m, mb, g, gb)"),
        ));
    }
    let factor: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => {
            return Err(ConfigError::new(
                OPTION,
                format!("unknown unit '{unit}' (use a byte count or k, kb, m, mb, g, gb)"),
            ))
        }
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(factor))
        .ok_or_else(|| ConfigError::new(OPTION, format!("{text:?} is too large")))
}

impl CharmConfig {
    /// Validates `config-get --format=json` output; unset options take their defaults.
    pub fn from_options(opts: &Map<String, Value>) -> Result<Self, ConfigError> {
        let d = CharmConfig::default();
        let down_after_ms = ranged(
            opts,
            "down-after-milliseconds",
            DOWN_AFTER_FLOOR_MS.into(),
            DOWN_AFTER_MAX_MS.into(),
            d.down_after_ms,
        )?;
        let failover_timeout_ms = ranged(opts, "failover-timeout", 5000, 900_000, d.failover_timeout_ms)?;
        if failover_timeout_ms <= down_after_ms {
            return Err(ConfigError::new(
                "failover-timeout",
                format!(
                    "{failover_timeout_ms} must be greater than down-after-milliseconds ({down_after_ms})"
                ),
            ));
        }
        let parallel_syncs = ranged(opts, "parallel-syncs", 1, 64, d.parallel_syncs)?;
        let min_replicas_to_write = match int(opts, "min-replicas-to-write")? {
            None | Some(-1) => None,
            Some(v) if (0..=64).contains(&v) => Some(v as u32),
            Some(v) => {
                return Err(ConfigError::new(
                    "min-replicas-to-write",
                    format!("{v} is out of range (accepted: -1 for automatic, or 0..=64)"),
                ))
            }
        };
        let min_replicas_max_lag = ranged(opts, "min-replicas-max-lag", 1, 3600, d.min_replicas_max_lag)?;
        let replica_priority = ranged(opts, "replica-priority", 0, 1000, d.replica_priority)?;
        let maxmemory = match opts.get("maxmemory") {
            None | Some(Value::Null) => d.maxmemory,
            Some(Value::String(s)) => parse_memory(s)?,
            Some(Value::Number(n)) => {
                n.as_u64().ok_or_else(|| ConfigError::new("maxmemory", format!("{n} is not a byte count")))?
            }
            Some(other) => return Err(ConfigError::new("maxmemory", format!("{other} is not a byte count"))),
        };
        if maxmemory != 0 && maxmemory < MAXMEMORY_FLOOR {
            return Err(ConfigError::new(
                "maxmemory",
                format!(
                    "{maxmemory} is below the floor, every write would fail \
                     (accepted: 0 for no limit, or at least {MAXMEMORY_FLOOR} bytes)"
                ),
            ));
        }
        let maxmemory_policy = match opts.get("maxmemory-policy") {
            None | Some(Value::Null) => d.maxmemory_policy,
            Some(Value::String(s)) if MAXMEMORY_POLICIES.contains(&s.trim()) => s.trim().to_string(),
            Some(other) => {
                let shown = other.as_str().map_or_else(|| other.to_string(), |s| format!("'{s}'"));
                return Err(ConfigError::new(
                    "maxmemory-policy",
                    format!("{shown} is not a policy (accepted: {})", MAXMEMORY_POLICIES.join(", ")),
                ));
            }
        };
        let appendonly = match opts.get("appendonly") {
            None | Some(Value::Null) => d.appendonly,
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) if s == "true" || s == "false" => s == "true",
            Some(other) => {
                return Err(ConfigError::new(
                    "appendonly",
                    format!("{other} is not a boolean (true or false)"),
                ))
            }
        };
        Ok(CharmConfig {
            down_after_ms,
            failover_timeout_ms,
            parallel_syncs,
            min_replicas_to_write,
            min_replicas_max_lag,
            replica_priority,
            maxmemory,
            maxmemory_policy,
            appendonly,
        })
    }

    /// The `min-replicas-max-lag` Valkey gets for the option's value M: M − 1 (at least 1).
    ///
    /// *Why:* the option promises that a primary cut off from its replicas refuses writes within
    /// M + 1 s. Valkey measures a replica's lag in whole seconds and re-counts its good replicas
    /// once a second, so with M itself the refusals began up to M + 2 s after the cut (host-mode
    /// partitions: 3.5–4.6 s at M = 3, 5 of 7 runs over 4 s); with M − 1, 2.3–3.6 s. M = 1 stays
    /// 1: Valkey at 0 would drop replicas between their once-a-second acknowledgements.
    pub fn valkey_max_lag(&self) -> u32 {
        self.min_replicas_max_lag.saturating_sub(1).max(1)
    }

    /// Effective min-replicas-to-write for a deployment of `units` units: automatic → 1 when
    /// units ≥ 3 else 0; an explicit value larger than `units - 1` (the replicas there can be) →
    /// an error naming the option and the range this deployment accepts, because the primary
    /// would refuse every write.
    pub fn min_replicas_for(&self, units: usize) -> Result<u32, ConfigError> {
        let replicas = units.saturating_sub(1);
        match self.min_replicas_to_write {
            None => Ok(u32::from(units >= 3)),
            Some(n) if (n as usize) <= replicas => Ok(n),
            Some(n) => Err(ConfigError::new(
                "min-replicas-to-write",
                format!(
                    "{n} needs at least {} units but there are {units} \
                     (accepted now: -1 for automatic, or 0..={replicas})",
                    n as usize + 1
                ),
            )),
        }
    }

    /// Valid settings that cost availability, each saying what it costs; every one is shown in
    /// the unit and application status (`status::active_message`).
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.replica_priority == 0 {
            // Sentinel never promotes a replica at priority 0, and the option is the same on every
            // unit: a dead primary is never replaced (`-failover-abort-no-good-slave`).
            out.push(format!("{CANNOT_FAIL_OVER}replica-priority 0 on every replica"));
        }
        out
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;

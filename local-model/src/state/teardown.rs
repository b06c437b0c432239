//! The model-config key `teardown-order`: in which order a removed unit runs its own
//! `-relation-departed` hooks and its `-storage-detaching` hooks.
//!
//! On real Juju both orders happen. `remove-unit` makes the unit Dying; its relation resolver then
//! departs every member at once (`internal/worker/uniter/relation/resolver.go`), while
//! `storage-detaching` only becomes due once the controller's cleanup of the dying unit marks its
//! storage attachments Dying (`state/cleanup.go`, `cleanupDyingUnit`). Departed first is the usual
//! order, so it is the default; a charm must be correct under either, so tests can pick one.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How a removed unit's teardown hooks are ordered.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "order", rename_all = "kebab-case")]
pub enum TeardownOrder {
    /// Its `-relation-departed` hooks, then `-storage-detaching` (Juju's usual order).
    #[default]
    DepartedFirst,
    /// `-storage-detaching`, then its `-relation-departed` hooks.
    StorageFirst,
    /// Either, chosen per unit from the seed and the unit's name (reproducible).
    Random {
        /// The seed; the same seed gives the same order for the same unit.
        seed: u64,
    },
}

impl TeardownOrder {
    /// Parses `departed-first`, `storage-first`, `random` (a seed from the clock) or
    /// `random:SEED`; the error names the accepted values.
    pub fn parse(text: &str, clock_seed: u64) -> Result<Self, String> {
        match text {
            "departed-first" => Ok(Self::DepartedFirst),
            "storage-first" => Ok(Self::StorageFirst),
            "random" => Ok(Self::Random { seed: clock_seed }),
            other => match other.strip_prefix("random:").map(str::parse::<u64>) {
                Some(Ok(seed)) => Ok(Self::Random { seed }),
                _ => Err(format!(
                    "invalid teardown-order {other:?} (accepted: departed-first, storage-first, random, random:SEED)"
                )),
            },
        }
    }

    /// Whether `unit` runs its storage-detaching hooks before its departed hooks.
    pub fn storage_first(self, unit: &str) -> bool {
        match self {
            Self::DepartedFirst => false,
            Self::StorageFirst => true,
            Self::Random { seed } => mix(seed, unit) & 1 == 1,
        }
    }
}

impl fmt::Display for TeardownOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DepartedFirst => f.write_str("departed-first"),
            Self::StorageFirst => f.write_str("storage-first"),
            Self::Random { seed } => write!(f, "random:{seed}"),
        }
    }
}

/// FNV-1a over the seed and the unit name, then a final avalanche (stable across builds, unlike
/// the standard library's hasher).
fn mix(seed: u64, unit: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.to_le_bytes().iter().chain(unit.as_bytes()) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_every_order() {
        for text in ["departed-first", "storage-first", "random:42"] {
            assert_eq!(TeardownOrder::parse(text, 0).unwrap().to_string(), text);
        }
        assert_eq!(TeardownOrder::parse("random", 7).unwrap(), TeardownOrder::Random { seed: 7 });
        let err = TeardownOrder::parse("storage", 0).unwrap_err();
        assert!(err.contains("accepted: departed-first, storage-first"), "{err}");
        assert!(TeardownOrder::parse("random:x", 0).is_err());
    }

    #[test]
    fn random_is_reproducible_and_gives_both_orders() {
        let order = TeardownOrder::Random { seed: 3 };
        let picks: Vec<bool> = (0..16).map(|n| order.storage_first(&format!("a/{n}"))).collect();
        assert_eq!(picks, (0..16).map(|n| order.storage_first(&format!("a/{n}"))).collect::<Vec<_>>());
        assert!(picks.contains(&true) && picks.contains(&false), "{picks:?}");
        assert!(!TeardownOrder::DepartedFirst.storage_first("a/0"));
        assert!(TeardownOrder::StorageFirst.storage_first("a/0"));
    }
}

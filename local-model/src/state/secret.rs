//! Juju secrets as the model keeps them: owner, label, revisions, grants and who tracks what.

use super::Bag;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A Juju secret with its revisions.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Secret {
    /// Id without the `secret:` prefix.
    pub id: String,
    /// Owner: an application name (`--owner application`) or a unit name.
    pub owner: String,
    /// Label given by the owner, if any.
    pub label: Option<String>,
    /// Description given at creation, if any.
    pub description: Option<String>,
    /// Content of each revision, revision numbers from 1.
    #[serde(deserialize_with = "number_keys::deserialize")]
    pub revisions: BTreeMap<u32, Bag>,
    /// Relation id → units/applications the secret was granted to over that relation.
    #[serde(deserialize_with = "number_keys::deserialize")]
    pub grants: BTreeMap<u32, BTreeSet<String>>,
    /// Which revision each consumer unit is tracking (set by `secret-get`, moved by `--refresh`).
    pub tracking: BTreeMap<String, u32>,
    /// Labels consumers gave the secret (`secret-get <id> --label L`), by consumer unit, so they
    /// can later find it with `secret-get --label L` alone.
    #[serde(default)]
    pub consumer_labels: BTreeMap<String, String>,
    /// When it was created (unix seconds; 0 in states written before this was recorded).
    #[serde(default)]
    pub created: f64,
    /// When its latest revision was made (unix seconds), for `juju secrets`.
    #[serde(default)]
    pub updated: f64,
}

/// Reading maps with number keys (JSON writes them as strings) where serde cannot convert the
/// keys by itself: a [`Secret`] inside [`SecretChange::Add`] is buffered by the internally tagged
/// enum, and a buffered `"1"` key no longer turns into a `u32` on its own.
mod number_keys {
    use serde::de::{Deserialize, Deserializer, Error, Visitor};
    use std::collections::BTreeMap;

    /// A map key accepted as a JSON number or a string holding one.
    #[derive(PartialEq, Eq, PartialOrd, Ord)]
    struct Key(u32);

    impl<'de> Deserialize<'de> for Key {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct KeyVisitor;
            impl Visitor<'_> for KeyVisitor {
                type Value = Key;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a number or a string holding one")
                }
                fn visit_u64<E: Error>(self, v: u64) -> Result<Key, E> {
                    u32::try_from(v).map(Key).map_err(E::custom)
                }
                fn visit_str<E: Error>(self, v: &str) -> Result<Key, E> {
                    v.parse().map(Key).map_err(E::custom)
                }
            }
            d.deserialize_any(KeyVisitor)
        }
    }

    /// Deserialises a `BTreeMap<u32, V>` whose keys may arrive as strings.
    pub fn deserialize<'de, D, V>(d: D) -> Result<BTreeMap<u32, V>, D::Error>
    where
        D: Deserializer<'de>,
        V: Deserialize<'de>,
    {
        let raw: BTreeMap<Key, V> = BTreeMap::deserialize(d)?;
        Ok(raw.into_iter().map(|(k, v)| (k.0, v)).collect())
    }
}

//! # valkey-harness — drives a Valkey HA deployment from the outside and measures it
//!
//! The end-to-end tests and the benchmarks use this crate; nothing in it knows the charm's
//! internals.
//!
//! # Layout
//! - [`juju`] — the juju command-line driver: the only way scenarios touch a model, so the same code
//!   runs against `juju-local` (default) and real Juju (`JUJU=juju`).
//! - [`deployment`] — the charm's deployment seen through the driver: credentials, primary,
//!   Sentinel and data-node addresses, killing a unit's Valkey.
//! - [`valkey`] — addresses, credentials and short-timeout connections.
//! - [`names`] — host names of host-mode models (their `hosts` file), translated for every
//!   connection the harness opens.
//! - [`sentinel`] — resolving the primary through Sentinel, reading each Sentinel's view, counting
//!   failovers by `config-epoch`.
//! - [`sentinel_log`] — Sentinel's log as a failover timeline.
//! - [`probe`] — the Sentinel-aware write probe: measures unavailability, records acknowledged
//!   writes, verifies none was lost.
//! - [`topology`] — a raw N-node Valkey + Sentinel fixture for testing the probe without Juju.
//! - [`stats`] — median and p95 by nearest rank.
//! - [`duration_ms`] — durations as milliseconds in JSON reports.
//! - [`bench`] — benchmark scenarios behind a substrate seam (raw topology now, local model later).

#![warn(missing_docs)]

pub mod bench;
pub mod deployment;
pub mod duration_ms;
pub mod juju;
pub mod names;
pub mod probe;
pub mod sentinel;
pub mod sentinel_log;
pub mod stats;
pub mod topology;
pub mod valkey;

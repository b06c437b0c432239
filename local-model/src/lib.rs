//! # juju-local — a single-machine stand-in for a Juju controller and its unit agents
//!
//! It runs a machine charm *unchanged*: the same `dispatch` binary, the same hook tools with Juju's
//! flags, JSON shapes, error texts and exit codes, and Juju's event order, next to real processes.
//!
//! ## Layout
//! - [`state`] — the model's state as plain data (applications, units, relations, secrets, queues).
//! - [`store`] — the model directory and locked, atomic access to its state file.
//! - [`model`] — models and units: creation, addresses, charm metadata, lifecycle rules, cleanup.
//! - [`hosts`] — host mode: one network namespace per unit on a private bridge, and network faults.
//! - [`machines`] — machine mode: host mode's networking plus a systemd-booted container per unit.
//! - [`agent`] — the per-model background agent that runs every unit's hooks in Juju's order.
//! - [`cli`] — the `juju-local` command line (juju's commands, arguments and output shapes).
//! - [`tools`] — the hook tools behind the `jujuc` multi-call binary, and the commit of held-back changes.
pub mod agent;
pub mod cli;
pub mod hosts;
pub mod machines;
pub mod model;
pub mod state;
pub mod store;
pub mod tools;

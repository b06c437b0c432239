//! # juju-local — a single-machine stand-in for a Juju controller and its unit agents
//!
//! It runs a machine charm *unchanged*: the same `dispatch` binary, the same hook tools with Juju's
//! flags, JSON shapes, error texts and exit codes, and Juju's event order, next to real processes.
//!
//! ## Layout
//! - [`state`] — the model's state as plain data (applications, units, relations, secrets, queues).
//! - [`store`] — the model directory and locked, atomic access to its state file.
pub mod state;
pub mod store;

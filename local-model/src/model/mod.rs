//! Models and units: where models live, how units are created and torn down, and the pure rules
//! (event order, leadership, parameter and option validation) the CLI and the agent share.
//!
//! - [`home`] — `JUJU_LOCAL_HOME`, model directories, creating and destroying a model.
//! - [`addresses`] — the machine-wide registry of loopback blocks, one per model.
//! - [`charm`] — parsing `metadata.yaml`, `config.yaml`, `actions.yaml`.
//! - [`lifecycle`] — pure state transitions: add/remove units, scope, leadership, the queue.
//! - [`relations`] — cross-application relations: integrate, remove-relation.
//! - [`units`] — the effects of adding and removing units (directories, charm copies, storage).
//! - [`processes`] — finding and stopping the processes a unit's hooks started.
//! - [`params`] — action parameter parsing and validation against `actions.yaml`.
//! - [`duration`] — Go-style durations (`5m`, `500ms`).
//! - [`clock`] — wall-clock time as unix seconds and Juju's timestamp format.

pub mod addresses;
pub mod charm;
pub mod clock;
pub mod duration;
pub mod home;
pub mod lifecycle;
pub mod params;
pub mod processes;
pub mod relations;
pub mod units;

use crate::store::StoreError;

/// Errors of model and unit operations; each renders as the one-line message the CLI prints.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// Reading or writing the model state failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The charm directory is not a usable charm.
    #[error("{0}")]
    Charm(String),
    /// The user asked for something that does not exist or is malformed.
    #[error("{0}")]
    Usage(String),
    /// A refusal Juju's CLI prints over several lines (a message and a hint); printed whole.
    #[error("{0}")]
    Multiline(String),
    /// A host-mode network operation failed.
    #[error(transparent)]
    Hosts(#[from] crate::hosts::HostsError),
    /// A filesystem or process operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl ModelError {
    /// Wraps an I/O error with a description of what was being done.
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ModelError {
        let what = what.into();
        move |source| ModelError::Io { what, source }
    }
}

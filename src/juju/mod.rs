//! The one seam to Juju: the typed hook context, the event enum, and the hook tools.
//!
//! Nothing outside this module runs a Juju command or reads a `JUJU_*` variable.

pub mod context;
pub mod error;
pub mod event;
pub mod fake;
pub mod hook_tools;

pub use context::Context;
pub use error::HookToolError;
pub use event::Event;
pub use hook_tools::{Bag, HookTools, LogLevel, NetworkInfo, ProcessHookTools, SecretRef, StatusKind};

//! The one seam to Juju: the typed hook context, the event enum, and the hook tools.
//!
//! Nothing outside this module runs a Juju command or reads a `JUJU_*` variable.

pub mod context;
pub mod error;
pub mod event;
pub mod exec;
pub mod fake;
mod fake_tools;
pub mod hook_tools;
pub mod log;
mod process;
mod secret_files;

pub use context::Context;
pub use context::ContextError;
pub use error::HookToolError;
pub use event::{
    ActionKind, Event, RelationHook, PRIMARY_CHANGED_HOOK, SERVICES_CHANGED_HOOK, VALKEY_RESTARTED_HOOK,
};
pub use exec::juju_exec;
pub use fake::FakeHookTools;
pub use hook_tools::{Bag, HookTools, LogLevel, NetworkInfo, ProcessHookTools, SecretRef, StatusKind};

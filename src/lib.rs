//! # valkey-charm — a Juju machine charm for highly available Valkey
//!
//! ## Layout
//! - [`juju`] — the one seam to Juju: typed context, event enum, hook tools (real and fake).
pub mod juju;

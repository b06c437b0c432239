//! The provider side of the `valkey-client` relation (interface `valkey_client`): applications
//! ask for a key prefix, the charm creates one ACL user per request on every unit's Valkey and
//! Sentinel and publishes endpoints and a secret. `docs/client-relation.md` has the whole story.
//!
//! - [`request`] — pure: the requirer's bag (v1 or v0) → validated requests, or a typed refusal.
//! - [`acl`] — pure: user names and ACL rules on Valkey and on Sentinel.
//! - [`answer`] — pure: requests + topology + secret URIs → the provider's application bag.
//! - [`carry`] — pure: a re-rendered config file keeps the client users of the one it replaces.
//! - [`users`] — pure: the user set the leader publishes in the peer app bag, and what a unit must
//!   change on its local servers to match it.
//! - [`servers`] — the local Valkey and Sentinel behind a small trait (ACLs, primary, version).
//! - [`handler`] — the effects, in order: the leader's relation hooks (users and secrets), then
//!   `converge` (every unit's local ACLs), then `publish` (the leader's answers).

pub mod acl;
pub mod answer;
pub mod carry;
mod converge;
pub mod handler;
mod publish;
pub mod request;
pub mod servers;
pub mod users;

#[cfg(test)]
mod fake_servers;
#[cfg(test)]
mod live_tests;
#[cfg(test)]
mod pass_live_tests;

/// The endpoint name (metadata.yaml `provides:`).
pub const ENDPOINT: &str = "valkey-client";
/// Its interface.
pub const INTERFACE: &str = "valkey_client";

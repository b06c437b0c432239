//! # valkey-charm — a Juju machine charm for highly available Valkey
//!
//! ## Layout
//! - [`juju`] — the one seam to Juju: typed context, event enum, hook tools (real and fake), and
//!   the layer that sends `tracing` events to `juju-log`.
//! - [`config`] — the operator's settings, validated in one pure step (every refusal names the
//!   option and its accepted range).
//! - [`workload`] — files and processes: paths under the data storage, pure rendering of
//!   valkey.conf / sentinel.conf / the client-reconfig script, binary install (resource, or the
//!   base's valkey-server package), and supervision (systemd, or the charm's own
//!   `dispatch supervise` where systemd is not used).
//! - [`valkey`] — the Valkey/Sentinel client behind small traits, with pure reply parsers, and
//!   the bare TCP liveness probe.
//! - [`peers`] — the peer relation's keys and typed unit/app bags (the HA protocol's wire format).
//! - [`observe`] — reads Juju, the local services and the Sentinels into one plain `Observed`.
//! - [`snapshot`] — the Juju view kept between hooks, so a no-op update-status asks only is-leader.
//! - [`plan`] — pure: `Observed` → `Step`s (start lock, primary choice, quorum, resets, removal).
//! - [`readdress`] — pure: what a unit does when its own address or a peer's changed.
//! - [`execute`] — carries the steps out (idempotent, bounded polled waits).
//! - [`status`] — pure: the unit and application status computed from `Observed`.
//! - [`switchover`] — coordinated hand-over of the primary role (failover action, removal).
//! - [`history`] — failover history read back from Sentinel's log (+ recorded switchovers), keyed
//!   in UTC epoch milliseconds.
//! - [`secrets`] — password generation and the app-owned Juju secret.
//! - [`client`] — the `valkey-client` relation: requests, ACL users on every unit, answers.
//! - [`actions`] — get-primary, failover, get-password; each ends in action-set or action-fail.
//! - [`charm`] — event → handler, and the one `error_policy`.
pub mod actions;
pub mod charm;
pub mod client;
pub mod config;
pub mod cos;
pub mod execute;
pub mod history;
pub mod juju;
pub mod observe;
pub mod peers;
pub mod plan;
pub mod plan_drift;
pub mod readdress;
pub mod secrets;
pub mod snapshot;
pub mod status;
pub mod switchover;
pub mod valkey;
pub mod wake;
pub mod workload;

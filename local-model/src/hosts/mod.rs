//! Host mode: every unit in its own Linux network namespace, as if each were a machine of its own.
//!
//! A model created with `add-model NAME --config network-mode=hosts` (root only, needs iproute2)
//! takes its block K from the same registry as loopback models and uses `198.18.K.0/24` — the
//! RFC 2544 benchmarking range, which is never routed, so test traffic cannot leave the machine:
//! - a bridge `jlbr<K>` holds `198.18.K.1/24` on the host side, so test processes on the host (the
//!   harness) reach the units; nothing forwards or NATs, and namespaces get no default route;
//! - machine *m* is the namespace `jl<K>m<m>`, joined to the bridge by a veth pair (`jl<K>m<m>h` on
//!   the bridge, `eth0` inside), with `lo` up and its address `198.18.K.(m+2)/24`;
//! - each unit has the hostname `<app>-<n>`; `/etc/netns/<ns>/hosts` of every namespace lists every
//!   unit (`ip netns exec` bind-mounts it over `/etc/hosts`), and `<model>/hosts` lists the same for
//!   processes on the host;
//! - hooks, actions and exec commands run through `ip netns exec <ns>`, so everything a charm starts
//!   lives in its unit's namespace.
//!
//! Faults (local extras): `cut` takes the unit's bridge-side veth down (the unit keeps running but
//! reaches no one, and no one reaches it); `cut --from` makes two units drop each other's packets
//! silently (a permanent neighbour entry pointing at a MAC address nobody has — no firewall tool
//! needed, and packets vanish as in a real partition instead of failing fast); `heal` undoes
//! either; `change-address` gives a unit a fresh address, rewrites every hosts file and queues
//! `config-changed` on it, as Juju does after a machine's address changes.
//!
//! - [`plan`] — names, addresses, hosts-file text and `ip` command lines (pure).
//! - [`net`] — running those commands and writing the hosts files.
//! - [`faults`] — cut, heal and change-address on a model.

pub mod faults;
pub mod net;
pub mod plan;

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// How a model's units are networked; fixed when the model is created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkMode {
    /// Every unit on its own loopback address of one shared network stack (any user, the default).
    #[default]
    Loopback,
    /// Every unit in its own network namespace on a private bridge (root only).
    Hosts,
    /// Host mode's networking, and every unit on a machine of its own booted with systemd as
    /// PID 1 ([`crate::machines`]; root only).
    Machines,
}

impl NetworkMode {
    /// Parses the value of `network-mode`.
    pub fn parse(text: &str) -> Result<NetworkMode, HostsError> {
        match text {
            "loopback" => Ok(NetworkMode::Loopback),
            "hosts" => Ok(NetworkMode::Hosts),
            "machines" => Ok(NetworkMode::Machines),
            other => Err(HostsError::Usage(format!(
                "network-mode must be \"loopback\", \"hosts\" or \"machines\", not {other:?}"
            ))),
        }
    }

    /// Whether every unit has a network namespace, address and hostname of its own (host and
    /// machine modes), so the network faults apply.
    pub fn has_namespaces(self) -> bool {
        matches!(self, NetworkMode::Hosts | NetworkMode::Machines)
    }
}

/// Network faults currently injected, so `heal` knows what to undo and a removed unit leaves no
/// rule behind in its peers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Faults {
    /// Units cut off from everything.
    pub cut: BTreeSet<String>,
    /// Pairs of units that cannot reach each other (each pair stored in sorted order).
    pub partitions: BTreeSet<(String, String)>,
}

impl Faults {
    /// The pair in the order it is stored.
    pub fn pair(a: &str, b: &str) -> (String, String) {
        if a <= b {
            (a.to_string(), b.to_string())
        } else {
            (b.to_string(), a.to_string())
        }
    }
}

/// Errors of host-mode operations; each renders as one line.
#[derive(Debug, thiserror::Error)]
pub enum HostsError {
    /// Host mode needs root (namespaces, links, `/etc/netns`).
    #[error("host mode needs root (network namespaces and /etc/netns); use the default loopback mode")]
    NotRoot,
    /// `ip` (iproute2) is not installed.
    #[error("host mode needs the ip command (iproute2); install it or use the default loopback mode")]
    NoIp,
    /// A bad request (unknown unit, wrong mode, ...).
    #[error("{0}")]
    Usage(String),
    /// An `ip` command failed.
    #[error("{command}: {message}")]
    Command {
        /// The command line.
        command: String,
        /// Its first line of error output, or how it ended.
        message: String,
    },
    /// The model state could not be read or written.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// Writing a hosts file failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

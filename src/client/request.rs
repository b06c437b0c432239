//! Requests from a requirer's application bag, in the two shapes that exist: v1 (the
//! `dpcharmlibs-interfaces` library: `version: "v1"` and a JSON `requests` list) and v0 (the older
//! `data_interfaces` library: a flat `database` key). Parsing is pure; every refusal is a
//! [`RequestError`] that names the relation's own data only, so a bad request never touches
//! another client's user.

use crate::juju::Bag;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The bag key holding the protocol version (`v1`; absent for v0).
pub const VERSION_KEY: &str = "version";
/// v1: the JSON list of requests.
pub const REQUESTS_KEY: &str = "requests";
/// v0: the requested resource.
pub const DATABASE_KEY: &str = "database";
/// The only versioned protocol this charm speaks.
pub const V1: &str = "v1";

/// Which protocol a requirer speaks; the answer is written in the same one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Protocol {
    /// Flat keys (`database` → `endpoints`, `sentinel-endpoints`, …).
    V0,
    /// `requests` lists, answered per request-id.
    V1,
}

/// What a request may reach: the keys and channels starting with a prefix, or everything.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    /// `<prefix>:*` was requested: keys and channels starting with `<prefix>:`.
    Prefix(String),
    /// `*`: the whole keyspace.
    All,
}

impl Scope {
    /// The ACL pattern of this scope (`app:*` or `*`).
    pub fn pattern(&self) -> String {
        match self {
            Scope::Prefix(p) => format!("{p}:*"),
            Scope::All => "*".to_string(),
        }
    }
}

/// One request, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRequest {
    /// The request-id (v1: as sent and checked; v0: the resource's with an empty salt).
    pub request_id: String,
    /// The resource as sent (`app:*` or `*`).
    pub resource: String,
    /// What the user may reach.
    pub scope: Scope,
    /// The request exactly as received (a JSON object), echoed in the answer's `data` map, which
    /// the Python requirer compares against what it sent.
    pub raw: serde_json::Map<String, serde_json::Value>,
}

/// A relation's requests, with the protocol to answer in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRequests {
    /// v0 or v1.
    pub protocol: Protocol,
    /// Requests in the order sent (v0: exactly one).
    pub requests: Vec<ClientRequest>,
}

/// Why a requirer's bag was refused. Messages name the offending field and value (never a secret:
/// requirers put none in their bag).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// `version` is something other than `v1` (or absent with no `database` key).
    #[error("unknown protocol version {0:?} (this charm speaks \"v1\" and the unversioned v0)")]
    UnknownVersion(String),
    /// `requests` is not a JSON list of objects.
    #[error("requests is not a JSON list of objects: {0}")]
    MalformedJson(String),
    /// A request lacks a field or has one of the wrong type.
    #[error("request {index}: {field} is missing or not a string")]
    MissingField {
        /// Position in the list.
        index: usize,
        /// The field.
        field: &'static str,
    },
    /// An empty resource.
    #[error("request {index}: the resource is empty (expected \"<prefix>:*\" or \"*\")")]
    EmptyResource {
        /// Position in the list.
        index: usize,
    },
    /// A resource that is not `<prefix>:*` or `*`.
    #[error("request {index}: resource {resource:?} is neither \"<prefix>:*\" nor \"*\"")]
    BadResource {
        /// Position in the list.
        index: usize,
        /// As sent.
        resource: String,
    },
    /// A prefix holding a character an ACL pattern would treat as a glob, an escape or a
    /// separator (the user could then reach keys outside its prefix).
    #[error("request {index}: prefix {prefix:?} may hold only letters, digits and - _ . : (no glob, space or escape)")]
    BadPrefix {
        /// Position in the list.
        index: usize,
        /// As sent.
        prefix: String,
    },
    /// request-id ≠ first 16 hex of sha256(`"<resource>:<salt>"`).
    #[error("request {index}: request-id {got:?} does not match resource and salt (expected {want:?})")]
    RequestIdMismatch {
        /// Position in the list.
        index: usize,
        /// As sent.
        got: String,
        /// As computed.
        want: String,
    },
    /// The same request-id twice.
    #[error("request-id {0:?} appears twice")]
    DuplicateRequestId(String),
}

/// The request-id the data-platform library computes: the first 16 hex characters of
/// sha256(`"<resource>:<salt>"`).
pub fn request_id(resource: &str, salt: &str) -> String {
    let digest = Sha256::digest(format!("{resource}:{salt}").as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Whether a prefix is safe inside an ACL pattern and a user name: letters, digits, `-_.:` only
/// (`*?[]\` are glob syntax, spaces split ACL rules).
fn prefix_is_safe(prefix: &str) -> bool {
    !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// The scope of a resource.
fn scope_of(index: usize, resource: &str) -> Result<Scope, RequestError> {
    if resource.is_empty() {
        return Err(RequestError::EmptyResource { index });
    }
    if resource == "*" {
        return Ok(Scope::All);
    }
    let Some(prefix) = resource.strip_suffix(":*") else {
        return Err(RequestError::BadResource { index, resource: resource.into() });
    };
    if !prefix_is_safe(prefix) {
        return Err(RequestError::BadPrefix { index, prefix: prefix.into() });
    }
    Ok(Scope::Prefix(prefix.to_string()))
}

/// Parses a requirer's application bag. `Ok(None)`: the requirer has asked nothing yet (an empty
/// bag, as right after `relation-joined`).
pub fn parse(bag: &Bag) -> Result<Option<ClientRequests>, RequestError> {
    match bag.get(VERSION_KEY).map(String::as_str) {
        Some(V1) => parse_v1(bag.get(REQUESTS_KEY).map(String::as_str).unwrap_or("")),
        Some(other) => Err(RequestError::UnknownVersion(other.to_string())),
        None => match bag.get(DATABASE_KEY) {
            Some(database) => parse_v0(database).map(Some),
            None => Ok(None),
        },
    }
}

/// v1: `requests`, a JSON list; an empty or absent list is "nothing asked yet".
fn parse_v1(text: &str) -> Result<Option<ClientRequests>, RequestError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let list: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_str(text).map_err(|e| RequestError::MalformedJson(e.to_string()))?;
    let mut requests: Vec<ClientRequest> = Vec::with_capacity(list.len());
    for (index, raw) in list.into_iter().enumerate() {
        let field = |name: &'static str| {
            raw.get(name)
                .and_then(serde_json::Value::as_str)
                .map(str::to_string)
                .ok_or(RequestError::MissingField { index, field: name })
        };
        let resource = field("resource")?;
        let scope = scope_of(index, &resource)?;
        let salt = field("salt")?;
        let got = field("request-id")?;
        let want = request_id(&resource, &salt);
        if got != want {
            return Err(RequestError::RequestIdMismatch { index, got, want });
        }
        if requests.iter().any(|r| r.request_id == got) {
            return Err(RequestError::DuplicateRequestId(got));
        }
        requests.push(ClientRequest { request_id: got, resource, scope, raw });
    }
    if requests.is_empty() {
        return Ok(None);
    }
    Ok(Some(ClientRequests { protocol: Protocol::V1, requests }))
}

/// v0: one request for `database`. Its request-id is derived from the resource with an empty salt,
/// so the user name stays stable across hooks.
fn parse_v0(database: &str) -> Result<ClientRequests, RequestError> {
    let scope = scope_of(0, database)?;
    let mut raw = serde_json::Map::new();
    raw.insert(DATABASE_KEY.into(), database.into());
    let request =
        ClientRequest { request_id: request_id(database, ""), resource: database.to_string(), scope, raw };
    Ok(ClientRequests { protocol: Protocol::V0, requests: vec![request] })
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;

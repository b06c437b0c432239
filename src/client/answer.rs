//! Pure: what the provider writes into its application bag for a relation, and the secrets it
//! hands over — in the shape of the data-platform libraries (`dpcharmlibs-interfaces`'
//! `ValkeyResponseModel`, and the flat keys of a v0 answer).

use super::request::{ClientRequest, ClientRequests, Protocol, DATABASE_KEY, REQUESTS_KEY, V1, VERSION_KEY};
use crate::juju::Bag;
use crate::workload::{SENTINEL_PORT, VALKEY_PORT};
use serde_json::{Map, Value};

/// The Sentinel mode every answer names (clients may discover the primary through Sentinel,
/// under the monitor name `primary`).
pub const MODE: &str = "sentinel";

/// The keys a v0 answer lists the Sentinels under. `dpcharmlibs-interfaces` 1.2.2 (what Canonical's
/// Valkey charm answers with) writes a v0 response as its model dumped by alias
/// (`handlers.py` `set_response`, `models.py` `serialize_by_alias` with `_` → `-`), so
/// `sentinel-endpoints`; the project's interface notes (`shared/design/interfaces.md`) record
/// `sentinel_endpoints` for v0. Both are written, so either reader finds them.
pub const V0_SENTINEL_KEYS: [&str; 2] = ["sentinel-endpoints", "sentinel_endpoints"];

/// v0: the resource under the library's own field name too (it writes `resource` and then
/// patches in `database`).
pub const RESOURCE_KEY: &str = "resource";

/// Where the deployment is reachable now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    /// The primary's host (as units announce themselves).
    pub primary: String,
    /// Every replica's host.
    pub replicas: Vec<String>,
    /// Every unit's host (each runs a Sentinel).
    pub units: Vec<String>,
    /// The Valkey version (`9.1.2`).
    pub valkey_version: String,
}

/// The secrets of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSecrets {
    /// URI of the secret holding `username` and `password`.
    pub user: String,
    /// URI of the secret holding `tls` (and `tls-ca` once TLS exists).
    pub tls: String,
}

/// Label of a request's secret, as the libraries label it (`<endpoint>.<relation n>.<request
/// id>.<group>.secret` for v1, without the request id for v0); `group` is `user` or `tls`.
pub fn secret_label(
    endpoint: &str,
    relation_id: &str,
    request: &ClientRequest,
    protocol: Protocol,
    group: &str,
) -> String {
    let n = relation_id.rsplit(':').next().unwrap_or(relation_id);
    match protocol {
        Protocol::V1 => format!("{endpoint}.{n}.{}.{group}.secret", request.request_id),
        Protocol::V0 => format!("{endpoint}.{n}.{group}.secret"),
    }
}

/// Content of the user secret.
pub fn user_secret(username: &str, password: &str) -> Bag {
    Bag::from([("username".into(), username.into()), ("password".into(), password.into())])
}

/// Content of the TLS secret: this charm serves no TLS yet (Juju refuses empty secret values,
/// so `tls-ca` is left out rather than empty).
pub fn tls_secret() -> Bag {
    Bag::from([("tls".into(), "false".into())])
}

/// The endpoint fields every answer shares, in bag spelling (`-`), `sentinel` the key of the
/// Sentinel list.
fn endpoint_fields(t: &Topology, secrets: &RequestSecrets, sentinel: &str) -> Vec<(String, String)> {
    let mut replicas: Vec<String> = t.replicas.iter().map(|h| format!("{h}:{VALKEY_PORT}")).collect();
    replicas.sort();
    let mut sentinels: Vec<String> = t.units.iter().map(|h| format!("{h}:{SENTINEL_PORT}")).collect();
    sentinels.sort();
    vec![
        ("endpoints".into(), format!("{}:{VALKEY_PORT}", t.primary)),
        ("read-only-endpoints".into(), replicas.join(",")),
        (sentinel.into(), sentinels.join(",")),
        ("mode".into(), MODE.into()),
        ("version".into(), t.valkey_version.clone()),
        ("secret-user".into(), secrets.user.clone()),
        ("secret-tls".into(), secrets.tls.clone()),
    ]
}

/// The provider's application bag: `secrets[i]` belongs to `requests.requests[i]`.
pub fn render(requests: &ClientRequests, topology: &Topology, secrets: &[RequestSecrets]) -> Bag {
    match requests.protocol {
        Protocol::V0 => {
            let (Some(request), Some(s)) = (requests.requests.first(), secrets.first()) else {
                return Bag::new();
            };
            let mut bag: Bag = endpoint_fields(topology, s, V0_SENTINEL_KEYS[0]).into_iter().collect();
            for key in &V0_SENTINEL_KEYS[1..] {
                let sentinels = bag[V0_SENTINEL_KEYS[0]].clone();
                bag.insert((*key).into(), sentinels);
            }
            bag.insert(DATABASE_KEY.into(), request.resource.clone());
            bag.insert(RESOURCE_KEY.into(), request.resource.clone());
            bag
        }
        Protocol::V1 => {
            let mut list = Vec::new();
            let mut data = Map::new();
            for (request, s) in requests.requests.iter().zip(secrets) {
                let mut entry = request.raw.clone();
                // The request's own `version` field (if any) is the protocol's; the answer's is Valkey's.
                for (k, v) in endpoint_fields(topology, s, "sentinel-endpoints") {
                    entry.insert(k, Value::String(v));
                }
                list.push(Value::Object(entry));
                data.insert(request.request_id.clone(), Value::Object(request.raw.clone()));
            }
            Bag::from([
                (VERSION_KEY.into(), V1.into()),
                (REQUESTS_KEY.into(), Value::Array(list).to_string()),
                ("data".into(), Value::Object(data).to_string()),
            ])
        }
    }
}

#[cfg(test)]
#[path = "answer_tests.rs"]
mod tests;

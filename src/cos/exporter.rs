//! How `prometheus-redis-exporter` (Debian's 1.45) runs beside Valkey and Sentinel. Pure.
//!
//! - **Its ACL user** [`EXPORTER_USER`] on both servers may run exactly what a scrape sends
//!   (measured against Valkey 9.1.2 with the exporter 1.45: with these rules a scrape of both
//!   servers leaves `ACL LOG` empty, see `src/cos/live_tests.rs`). `CONFIG GET` is not among them:
//!   it would read `masterauth`, so the exporter runs with `--config-command=-` (no
//!   `redis_config_*` metrics; `redis_memory_max_bytes` comes from `INFO` anyway).
//! - **Its password** is derived from the admin password in the charm's Juju secret
//!   ([`exporter_password`]): every unit computes the same one with no new secret key (and so no
//!   secret revision an upgrade must wait for), a rotated admin password rotates it, and knowing
//!   it reveals nothing of the admin password (SHA-256 is one-way).
//! - **No password in argv**: the exporter reads it from `--redis.password-file`, a 0600 JSON map
//!   of target URI → password, one entry for the data node, one for the Sentinel.
//! - **Loopback only**: `--web.listen-address` is [`super::listen_host`]`:9121`.

use super::EXPORTER_PORT;
use crate::workload::{acl_hash, SENTINEL_PORT, VALKEY_PORT};
use sha2::{Digest, Sha256};
use std::path::Path;

/// The exporter's ACL user on Valkey and on Sentinel.
pub const EXPORTER_USER: &str = "charm-exporter";
/// Where Debian's package puts the exporter.
pub const EXPORTER_BINARY: &str = "/usr/bin/prometheus-redis-exporter";
/// The Debian package.
pub const EXPORTER_PACKAGE: &str = "prometheus-redis-exporter";
/// How long the exporter waits for a server: below Prometheus's default scrape timeout (10 s), so
/// a frozen Sentinel shows as `redis_up 0` rather than a failed scrape.
pub const CONNECTION_TIMEOUT: &str = "5s";

/// What a scrape of a data node sends: `CLIENT SETNAME`, `INFO ALL`, `SLOWLOG LEN`/`GET`,
/// `LATENCY LATEST`, and `PING`.
pub const VALKEY_EXPORTER_RULES: &[&str] =
    &["-@all", "+ping", "+info", "+client|setname", "+slowlog|len", "+slowlog|get", "+latency|latest"];
/// What a scrape of a Sentinel sends: `CLIENT SETNAME`, `INFO`, and per monitored primary
/// `SENTINEL MASTERS`, `SENTINEL SENTINELS`, `SENTINEL SLAVES`, `SENTINEL CKQUORUM`.
pub const SENTINEL_EXPORTER_RULES: &[&str] = &[
    "-@all",
    "+ping",
    "+info",
    "+client|setname",
    "+sentinel|masters",
    "+sentinel|sentinels",
    "+sentinel|slaves",
    "+sentinel|ckquorum",
];

/// The exporter's password, derived from the admin password.
pub fn exporter_password(admin_password: &str) -> String {
    let digest = Sha256::new()
        .chain_update(b"valkey-charm exporter password\0")
        .chain_update(admin_password)
        .finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// `ACL SETUSER` arguments for the exporter user on a data node (`sentinel` false) or a
/// Sentinel: `reset` first (setting it twice gives the same user), the password as its hash.
pub fn setuser_args(password: &str, sentinel: bool) -> Vec<String> {
    let rules = if sentinel { SENTINEL_EXPORTER_RULES } else { VALKEY_EXPORTER_RULES };
    let mut args = vec![EXPORTER_USER.to_string(), "reset".into(), "on".into(), acl_hash(password)];
    args.extend(rules.iter().map(|r| r.to_string()));
    args
}

/// The target URIs of this unit's data node and Sentinel.
pub fn targets(bind_address: &str) -> (String, String) {
    (format!("redis://{bind_address}:{VALKEY_PORT}"), format!("redis://{bind_address}:{SENTINEL_PORT}"))
}

/// The password file's content: `{"<data node URI>": pw, "<Sentinel URI>": pw}`.
pub fn password_file(bind_address: &str, password: &str) -> String {
    let (valkey, sentinel) = targets(bind_address);
    password_file_for(&[&valkey, &sentinel], password)
}

/// A password file giving `password` for each of `uris`.
pub fn password_file_for(uris: &[&str], password: &str) -> String {
    let map: serde_json::Map<String, serde_json::Value> =
        uris.iter().map(|u| (u.to_string(), serde_json::Value::String(password.to_string()))).collect();
    serde_json::Value::Object(map).to_string()
}

/// The exporter's arguments (after the program): no secret among them.
pub fn args(listen_host: &str, bind_address: &str, password_file: &Path) -> Vec<String> {
    let (valkey, _) = targets(bind_address);
    args_for(&format!("{listen_host}:{EXPORTER_PORT}"), &valkey, password_file)
}

/// The exporter's arguments for listening on `listen` (`host:port`) with `valkey_uri` as its
/// own target (`/metrics`); other targets are scraped with `/scrape?target=<uri>`.
pub fn args_for(listen: &str, valkey_uri: &str, password_file: &Path) -> Vec<String> {
    vec![
        format!("--web.listen-address={listen}"),
        format!("--redis.addr={valkey_uri}"),
        format!("--redis.user={EXPORTER_USER}"),
        format!("--redis.password-file={}", password_file.display()),
        "--config-command=-".into(),
        format!("--connection-timeout={CONNECTION_TIMEOUT}"),
    ]
}

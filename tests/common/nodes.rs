//! Reading the deployment over the network: data nodes (`INFO replication`, `CONFIG GET`) and
//! Sentinels (`SENTINEL MASTER primary`, `CKQUORUM`). Each query opens its own short-timeout
//! connection and returns `Err(text)` instead of panicking, so callers can poll on it.

use std::collections::BTreeMap;
use std::time::Duration;

use valkey_harness::deployment::{MONITOR, SENTINEL_PORT, VALKEY_PORT};
use valkey_harness::names;
use valkey_harness::valkey::{self, Credentials, Endpoint, Timeouts};

/// Timeouts for test queries: generous reads, since the machine is shared and busy.
const TIMEOUTS: Timeouts = Timeouts { connect: Duration::from_secs(1), io: Duration::from_secs(3) };

/// The data node of a unit at `address`.
pub fn data(address: &str) -> Endpoint {
    Endpoint::new(address, VALKEY_PORT)
}

/// The Sentinel of a unit at `address`.
pub fn sentinel(address: &str) -> Endpoint {
    Endpoint::new(address, SENTINEL_PORT)
}

/// An authenticated connection.
pub fn connect(endpoint: &Endpoint, credentials: &Credentials) -> Result<redis::Connection, String> {
    valkey::connect(endpoint, credentials, TIMEOUTS).map_err(|e| format!("{endpoint}: {e}"))
}

/// Runs one command on `endpoint` with `credentials`.
pub fn query<T: redis::FromRedisValue>(
    endpoint: &Endpoint,
    credentials: &Credentials,
    command: &redis::Cmd,
) -> Result<T, String> {
    let mut connection = connect(endpoint, credentials)?;
    command.query(&mut connection).map_err(|e| format!("{endpoint}: {e}"))
}

/// `INFO replication` of a data node as a field map.
pub fn replication(
    endpoint: &Endpoint,
    credentials: &Credentials,
) -> Result<BTreeMap<String, String>, String> {
    let text: String = query(endpoint, credentials, redis::cmd("INFO").arg("replication"))?;
    Ok(valkey::parse_info(&text).into_iter().collect())
}

/// `CONFIG GET <key>` on a data node.
pub fn config_get(endpoint: &Endpoint, credentials: &Credentials, key: &str) -> Result<String, String> {
    let pairs: Vec<String> = query(endpoint, credentials, redis::cmd("CONFIG").arg("GET").arg(key))?;
    match pairs.as_slice() {
        [name, value] if name == key => Ok(value.clone()),
        other => Err(format!("{endpoint}: CONFIG GET {key} returned {other:?}")),
    }
}

/// `SENTINEL MASTER primary` of one Sentinel as a field map.
pub fn sentinel_master(
    endpoint: &Endpoint,
    credentials: &Credentials,
) -> Result<BTreeMap<String, String>, String> {
    query(endpoint, credentials, redis::cmd("SENTINEL").arg("MASTER").arg(MONITOR))
}

/// `SENTINEL CKQUORUM primary` of one Sentinel (the `OK ...` text, or the error).
pub fn ckquorum(endpoint: &Endpoint, credentials: &Credentials) -> Result<String, String> {
    query(endpoint, credentials, redis::cmd("SENTINEL").arg("CKQUORUM").arg(MONITOR))
}

/// A field of a `SENTINEL MASTER` or `INFO` map, or an error naming it.
pub fn field<'a>(map: &'a BTreeMap<String, String>, name: &str) -> Result<&'a str, String> {
    map.get(name).map(String::as_str).ok_or_else(|| format!("no field {name:?}"))
}

/// The primary `SENTINEL MASTER` names, as an endpoint.
pub fn sentinel_primary(map: &BTreeMap<String, String>) -> Result<Endpoint, String> {
    let port = field(map, "port")?.parse().map_err(|_| "port is not a number".to_string())?;
    Ok(Endpoint::new(field(map, "ip")?, port))
}

/// The data nodes whose `INFO replication` says `role:master`.
pub fn masters(addresses: &[String], credentials: &Credentials) -> Result<Vec<Endpoint>, String> {
    let mut found = Vec::new();
    for address in addresses {
        let node = data(address);
        if field(&replication(&node, credentials)?, "role")? == "master" {
            found.push(node);
        }
    }
    Ok(found)
}

/// Checks that `replica` replicates from `primary` with its link up and its offset equal to the
/// primary's (`primary_offset`).
pub fn in_sync(
    replica: &Endpoint,
    primary: &Endpoint,
    primary_offset: &str,
    credentials: &Credentials,
) -> Result<(), String> {
    let info = replication(replica, credentials)?;
    let role = field(&info, "role")?;
    let master = (field(&info, "master_host")?, field(&info, "master_port")?);
    let link = field(&info, "master_link_status")?;
    let offset = field(&info, "slave_repl_offset")?;
    // The primary may be named by address or by host name (host mode): compare resolved hosts.
    let follows = names::same_host(master.0, &primary.host) && master.1 == primary.port.to_string();
    if role != "slave" || !follows {
        return Err(format!("{replica}: role {role}, master {master:?}, expected replica of {primary}"));
    }
    if link != "up" || offset != primary_offset {
        return Err(format!("{replica}: link {link}, offset {offset} vs primary {primary_offset}"));
    }
    Ok(())
}

/// Checks that every replica is in sync with `primary` right now (one offset read of the primary,
/// then each replica).
pub fn all_in_sync(
    primary: &Endpoint,
    replicas: &[Endpoint],
    credentials: &Credentials,
) -> Result<(), String> {
    let info = replication(primary, credentials)?;
    if field(&info, "role")? != "master" {
        return Err(format!("{primary} is not a master"));
    }
    let offset = field(&info, "master_repl_offset")?.to_string();
    replicas.iter().try_for_each(|replica| in_sync(replica, primary, &offset, credentials))
}

/// The acknowledged offset of `replica` in a primary's `INFO replication`
/// (`slaveN:ip=..,port=..,state=..,offset=..,lag=..`).
pub fn replica_offset(info: &BTreeMap<String, String>, replica: &Endpoint) -> Result<u64, String> {
    let (ip, port) = (format!("ip={}", replica.host), format!("port={}", replica.port));
    let line = info
        .iter()
        .filter(|(key, _)| key.starts_with("slave") && key[5..].chars().all(|c| c.is_ascii_digit()))
        .map(|(_, value)| value)
        .find(|value| {
            let parts: Vec<&str> = value.split(',').collect();
            parts.contains(&ip.as_str()) && parts.contains(&port.as_str())
        })
        .ok_or_else(|| format!("the primary lists no replica {replica}: {info:?}"))?;
    let offset =
        line.split(',').find_map(|p| p.strip_prefix("offset=")).ok_or(format!("no offset in {line}"))?;
    number(offset)
}

/// Parses a decimal counter of an `INFO` field.
pub fn number(text: &str) -> Result<u64, String> {
    text.trim().parse().map_err(|_| format!("{text:?} is not a number"))
}

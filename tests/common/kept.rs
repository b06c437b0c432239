//! Keys a scenario writes before a fault and checks after it: `kept:<n>` holding `n`, written on
//! the primary and acknowledged by both replicas, so a node that lost one lost an acknowledged
//! write. What "kept" means afterwards (every value, or every key) is each scenario's own check.

use valkey_harness::valkey::{Credentials, Endpoint};

use super::nodes;

/// The names of `count` kept keys.
pub fn names(count: u32) -> Vec<String> {
    (0..count).map(|n| format!("kept:{n}")).collect()
}

/// Writes `count` kept keys on `primary` and asserts both replicas acknowledged them before
/// `fault` (which the assertion message names).
pub fn write(primary: &Endpoint, admin: &Credentials, count: u32, fault: &str) {
    let mut connection = nodes::connect(primary, admin).unwrap();
    for n in 0..count {
        let () = redis::cmd("SET").arg(format!("kept:{n}")).arg(n).query(&mut connection).unwrap();
    }
    let acked: u32 = redis::cmd("WAIT").arg(2).arg(2000).query(&mut connection).unwrap();
    assert_eq!(acked, 2, "both replicas must hold the keys before {fault}");
}

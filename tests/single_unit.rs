//! Scenario: a single unit. It becomes an active primary whose Sentinel monitors it with quorum 1;
//! its status says it cannot fail over and why; get-primary agrees; and the failover action
//! refuses (failed, with a reason) and changes nothing.

mod common;

use std::time::Duration;

use common::nodes::{self, field};
use common::{poll, Deployed, APP};
use valkey_harness::valkey::Endpoint;

#[test]
fn single_unit_is_a_primary_that_says_it_cannot_fail_over() {
    let fixture = Deployed::new("one", 1, &[]);
    let admin = fixture.admin();
    let units = fixture.units();
    assert_eq!(units.len(), 1, "{units:?}");
    let (unit, address) = units[0].clone();
    let data = nodes::data(&address);
    let sentinel = nodes::sentinel(&address);

    // Exactly one primary: the only data node, with no replicas.
    let info = nodes::replication(&data, &admin).unwrap();
    assert_eq!(field(&info, "role").unwrap(), "master", "{info:?}");
    assert_eq!(field(&info, "connected_slaves").unwrap(), "0", "{info:?}");

    // Its Sentinel reports it, with quorum 1 and nobody else.
    let (view, took) = poll("the sentinel to monitor the primary", Duration::from_secs(30), || {
        let view = nodes::sentinel_master(&sentinel, &admin)?;
        match nodes::sentinel_primary(&view)? == data {
            true => Ok(view),
            false => Err(format!("sentinel names {:?}", nodes::sentinel_primary(&view))),
        }
    });
    println!("sentinel agreed {took:?} after active");
    assert_eq!(field(&view, "quorum").unwrap(), "1", "{view:?}");
    assert_eq!(field(&view, "num-other-sentinels").unwrap(), "0", "{view:?}");
    assert_eq!(field(&view, "num-slaves").unwrap(), "0", "{view:?}");
    let epoch_before = field(&view, "config-epoch").unwrap().to_string();

    // Status names the role and says it cannot fail over, with the reason.
    let status = fixture.juju.status().unwrap();
    let message = &status.unit(&unit).unwrap().workload_status.message;
    println!("{unit} status: {message:?}");
    assert!(message.starts_with("primary"), "{message:?}");
    assert!(message.contains("1/1 sentinels, quorum 1"), "{message:?}");
    let reason = message.split_once("cannot fail over").map(|(_, why)| why.trim_start_matches([':', ' ']));
    assert!(
        reason.is_some_and(|why| !why.is_empty()),
        "status must say it cannot fail over and why: {message:?}"
    );

    // get-primary agrees.
    let primary = fixture.deployment().primary().unwrap();
    assert_eq!(primary.unit, unit);
    assert_eq!(primary.endpoint, Endpoint::new(address.clone(), 6379));

    // failover refuses with a reason, and nothing changes.
    let outcome = fixture.juju.run_action(&format!("{APP}/leader"), "failover", &[]).unwrap();
    println!("failover on one unit: {} {:?}", outcome.status, outcome.message);
    assert_eq!(outcome.status, "failed", "{outcome:?}");
    assert!(outcome.message.as_deref().is_some_and(|m| !m.trim().is_empty()), "{outcome:?}");
    assert_eq!(field(&nodes::replication(&data, &admin).unwrap(), "role").unwrap(), "master");
    let after = nodes::sentinel_master(&sentinel, &admin).unwrap();
    assert_eq!(nodes::sentinel_primary(&after).unwrap(), data, "{after:?}");
    assert_eq!(field(&after, "config-epoch").unwrap(), epoch_before, "{after:?}");
    assert_eq!(fixture.deployment().primary().unwrap().unit, unit);
    let status = fixture.juju.wait_idle_active(APP, 1, Duration::from_secs(60)).unwrap();
    assert_eq!(status.unit(&unit).unwrap().workload_status.current, "active");
}

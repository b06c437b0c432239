//! Scenario: bad configuration on a 3-unit deployment holding data. Each invalid value blocks
//! every unit with a message naming the option and its accepted range, while Valkey keeps
//! serving the keys with the last good settings; fixing the value makes the units active again
//! with the new value applied at runtime.

mod common;

use std::time::{Duration, Instant};

use common::kept;
use common::nodes::{self, field};
use common::{poll, Deployed, APP};
use valkey_harness::valkey::Credentials;

/// Deadline for config changes to reach every unit.
const CONVERGE: Duration = Duration::from_secs(90);
/// Keys written before the bad values arrive.
const KEYS: u32 = 50;

/// One bad value, the words its blocked message must contain, and the fix.
struct Case {
    /// The option.
    option: &'static str,
    /// The invalid value.
    bad: &'static str,
    /// Text the message must hold besides the option name: the accepted range or units.
    range: &'static [&'static str],
    /// A valid replacement.
    fixed: &'static str,
    /// Where the option shows at runtime, and its value there once fixed.
    runtime: Runtime,
}

/// Where an option's effective value can be read.
#[derive(Clone, Copy)]
enum Runtime {
    /// `SENTINEL MASTER primary` field on every Sentinel.
    Sentinel(&'static str),
    /// `CONFIG GET` on every data node.
    DataNode(&'static str),
}

const CASES: &[Case] = &[
    Case {
        option: "down-after-milliseconds",
        bad: "-5",
        range: &["2000", "600000"],
        fixed: "6000",
        runtime: Runtime::Sentinel("6000"),
    },
    Case {
        option: "maxmemory",
        bad: "12qb",
        range: &["kb", "mb", "gb"],
        fixed: "64mb",
        runtime: Runtime::DataNode("67108864"),
    },
    Case {
        option: "min-replicas-to-write",
        bad: "5",
        range: &["-1", "0..=2"],
        fixed: "2",
        runtime: Runtime::DataNode("2"),
    },
];

#[test]
fn invalid_config_blocks_and_keeps_the_last_good_settings() {
    let fixture = Deployed::new("badconfig", 3, &[]);
    let admin = fixture.admin();
    let addresses: Vec<String> = fixture.units().into_iter().map(|(_, a)| a).collect();
    let primary = fixture.deployment().primary().unwrap().endpoint;
    kept::write(&primary, &admin, KEYS, "the bad values arrive");

    for case in CASES {
        let before = runtime_values(case, &addresses, &admin);
        println!("{}: before {before:?}", case.option);

        // The bad value blocks every unit, naming the option and what it accepts.
        let started = Instant::now();
        fixture.juju.config_set(APP, &[(case.option, case.bad)]).unwrap();
        let what = format!("every unit blocked on {}", case.option);
        let status = fixture
            .juju
            .wait_for(&what, CONVERGE, |status| {
                let units = status.units(APP);
                units.len() == 3
                    && units.iter().all(|(_, u)| {
                        u.workload_status.current == "blocked"
                            && u.workload_status.message.contains(case.option)
                    })
            })
            .unwrap_or_else(|e| panic!("{e}\n{}", fixture.log_tail()));
        println!("{}={}: blocked after {:?}", case.option, case.bad, started.elapsed());
        for (unit, u) in status.units(APP) {
            let message = &u.workload_status.message;
            println!("  {unit}: {message}");
            for word in case.range {
                assert!(
                    message.contains(word),
                    "{unit}: {message:?} should name the accepted range ({word})"
                );
            }
        }

        // Valkey still serves the keys, with the old settings.
        keys_everywhere(&addresses, &admin);
        assert_eq!(runtime_values(case, &addresses, &admin), before, "{} changed while invalid", case.option);

        // Fixing it: active again, the new value applied at runtime.
        let started = Instant::now();
        fixture.juju.config_set(APP, &[(case.option, case.fixed)]).unwrap();
        fixture.wait_settled(3, &format!("{}={}", case.option, case.fixed));
        let ((), _) = poll(&format!("{} applied at runtime", case.option), CONVERGE, || {
            let now = runtime_values(case, &addresses, &admin);
            let expected = match case.runtime {
                Runtime::Sentinel(v) | Runtime::DataNode(v) => v,
            };
            match now.iter().all(|v| v == expected) {
                true => Ok(()),
                false => Err(format!("{now:?}, expected {expected}")),
            }
        });
        println!(
            "{}={}: active and applied {:?} after the change",
            case.option,
            case.fixed,
            started.elapsed()
        );
        keys_everywhere(&addresses, &admin);
    }
}

/// Checks every data node still serves every key.
fn keys_everywhere(addresses: &[String], admin: &Credentials) {
    let keys = kept::names(KEYS);
    for address in addresses {
        let node = nodes::data(address);
        let values: Vec<Option<String>> = nodes::query(&node, admin, redis::cmd("MGET").arg(&keys)).unwrap();
        let expected: Vec<Option<String>> = (0..KEYS).map(|n| Some(n.to_string())).collect();
        assert_eq!(values, expected, "{node} lost keys");
    }
}

/// The option's effective value on every Sentinel or data node, in address order.
fn runtime_values(case: &Case, addresses: &[String], admin: &Credentials) -> Vec<String> {
    addresses
        .iter()
        .map(|address| match case.runtime {
            Runtime::Sentinel(_) => {
                let view = nodes::sentinel_master(&nodes::sentinel(address), admin).unwrap();
                field(&view, case.option).unwrap().to_string()
            }
            Runtime::DataNode(_) => nodes::config_get(&nodes::data(address), admin, case.option).unwrap(),
        })
        .collect()
}

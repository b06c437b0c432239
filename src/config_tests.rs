use super::*;
use serde_json::json;

fn opts(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[test]
fn defaults_match_config_yaml() {
    let yaml: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.yaml")).unwrap(),
    )
    .unwrap();
    let mut defaults = Map::new();
    for (k, v) in yaml["options"].as_mapping().unwrap() {
        let value: Value = serde_json::to_value(&v["default"]).unwrap();
        defaults.insert(k.as_str().unwrap().to_string(), value);
    }
    assert_eq!(CharmConfig::from_options(&defaults).unwrap(), CharmConfig::default());
    assert_eq!(CharmConfig::from_options(&Map::new()).unwrap(), CharmConfig::default());
}

#[test]
fn valid_values_parse() {
    let c = CharmConfig::from_options(&opts(json!({
        "down-after-milliseconds": 2000,
        "failover-timeout": "10000",
        "parallel-syncs": 2,
        "min-replicas-to-write": 1,
        "min-replicas-max-lag": 5,
        "replica-priority": 0,
        "maxmemory": "1gb",
        "maxmemory-policy": "allkeys-lru",
        "appendonly": false,
    })))
    .unwrap();
    assert_eq!(c.down_after_ms, 2000);
    assert_eq!(c.failover_timeout_ms, 10000);
    assert_eq!(c.parallel_syncs, 2);
    assert_eq!(c.min_replicas_to_write, Some(1));
    assert_eq!(c.min_replicas_max_lag, 5);
    assert_eq!(c.replica_priority, 0);
    assert_eq!(c.maxmemory, 1 << 30);
    assert_eq!(c.maxmemory_policy, "allkeys-lru");
    assert!(!c.appendonly);
    assert_eq!(c.warnings(), vec!["cannot fail over: replica-priority 0 on every replica".to_string()]);
    assert!(CharmConfig::default().warnings().is_empty());
}

#[test]
fn bad_values_name_the_option_and_range() {
    let table = [
        (
            json!({"down-after-milliseconds": 1000}),
            "invalid down-after-milliseconds: 1000 is out of range (accepted: 2000..=600000)",
        ),
        (json!({"down-after-milliseconds": -5}), "invalid down-after-milliseconds: -5 is out of range"),
        (
            json!({"down-after-milliseconds": "soon"}),
            "invalid down-after-milliseconds: \"soon\" is not a whole number",
        ),
        (
            json!({"down-after-milliseconds": 1.5}),
            "invalid down-after-milliseconds: 1.5 is not a whole number",
        ),
        (
            json!({"failover-timeout": 4000}),
            "invalid failover-timeout: 4000 is out of range (accepted: 5000..=900000)",
        ),
        (json!({"failover-timeout": 900001}), "invalid failover-timeout"),
        (
            json!({"down-after-milliseconds": 30000, "failover-timeout": 20000}),
            "invalid failover-timeout: 20000 must be greater than down-after-milliseconds (30000)",
        ),
        (json!({"parallel-syncs": 0}), "invalid parallel-syncs: 0 is out of range (accepted: 1..=64)"),
        (json!({"parallel-syncs": 65}), "invalid parallel-syncs"),
        (
            json!({"min-replicas-to-write": -2}),
            "invalid min-replicas-to-write: -2 is out of range (accepted: -1 for automatic, or 0..=64)",
        ),
        (json!({"min-replicas-to-write": 65}), "invalid min-replicas-to-write"),
        (
            json!({"min-replicas-max-lag": 0}),
            "invalid min-replicas-max-lag: 0 is out of range (accepted: 1..=3600)",
        ),
        (
            json!({"replica-priority": 1001}),
            "invalid replica-priority: 1001 is out of range (accepted: 0..=1000)",
        ),
        (json!({"replica-priority": true}), "invalid replica-priority: true is not a whole number"),
        (
            json!({"maxmemory": "1x"}),
            "invalid maxmemory: unknown unit 'x' (use a byte count or k, kb, m, mb, g, gb)",
        ),
        (json!({"maxmemory": "1.5gb"}), "invalid maxmemory: unknown unit '.5gb'"),
        (json!({"maxmemory": "lots"}), "invalid maxmemory: \"lots\" is not a byte count"),
        (json!({"maxmemory": "-1"}), "invalid maxmemory"),
        (
            json!({"maxmemory": "99999999999999999999gb"}),
            "invalid maxmemory: \"99999999999999999999gb\" is too large",
        ),
        (
            json!({"maxmemory-policy": "lru"}),
            "invalid maxmemory-policy: 'lru' is not a policy (accepted: noeviction, allkeys-lru",
        ),
        (json!({"maxmemory-policy": 3}), "invalid maxmemory-policy: 3 is not a policy"),
        (
            json!({"maxmemory": 1}),
            "invalid maxmemory: 1 is below the floor, every write would fail (accepted: 0 for no limit, or at least 1048576 bytes)",
        ),
        (json!({"maxmemory": "1m"}), "invalid maxmemory: 1000000 is below the floor"),
        (json!({"appendonly": "maybe"}), "invalid appendonly: \"maybe\" is not a boolean (true or false)"),
    ];
    for (input, want) in table {
        let err = CharmConfig::from_options(&opts(input.clone())).unwrap_err();
        assert!(err.to_string().starts_with(want), "{input}: got {err:?}, want prefix {want:?}");
        assert!(err.to_string().contains(&err.option), "{err}");
    }
}

#[test]
fn maxmemory_units_follow_valkey() {
    let table = [
        ("0", 0),
        ("12345", 12345),
        ("100b", 100),
        ("1k", 1000),
        ("1kb", 1024),
        ("1K", 1000),
        ("2KB", 2048),
        ("3m", 3_000_000),
        ("3mb", 3 * 1024 * 1024),
        ("1g", 1_000_000_000),
        ("4Gb", 4 << 30),
        (" 64mb ", 64 << 20),
    ];
    for (text, want) in table {
        assert_eq!(parse_memory(text).unwrap(), want, "{text}");
    }
    assert_eq!(
        CharmConfig::from_options(&opts(json!({"maxmemory": 1048576}))).unwrap().maxmemory,
        1048576,
        "a JSON number is a byte count"
    );
}

#[test]
fn min_replicas_auto_and_explicit() {
    let auto = CharmConfig::default();
    let table = [(1, 0), (2, 0), (3, 1), (5, 1)];
    for (units, want) in table {
        assert_eq!(auto.min_replicas_for(units).unwrap(), want, "auto, {units} units");
    }
    let two = CharmConfig { min_replicas_to_write: Some(2), ..CharmConfig::default() };
    assert_eq!(two.min_replicas_for(3).unwrap(), 2);
    assert_eq!(two.min_replicas_for(7).unwrap(), 2);
    let err = two.min_replicas_for(2).unwrap_err();
    assert_eq!(err.option, "min-replicas-to-write");
    assert_eq!(
        err.to_string(),
        "invalid min-replicas-to-write: 2 needs at least 3 units but there are 2 (accepted now: -1 for automatic, or 0..=1)"
    );
    let zero = CharmConfig { min_replicas_to_write: Some(0), ..CharmConfig::default() };
    assert_eq!(zero.min_replicas_for(1).unwrap(), 0);
    assert_eq!(zero.min_replicas_for(0).unwrap(), 0);
}

#[test]
fn valkey_gets_one_second_less_max_lag_but_never_zero() {
    let with = |m| CharmConfig { min_replicas_max_lag: m, ..CharmConfig::default() }.valkey_max_lag();
    assert_eq!(with(10), 9);
    assert_eq!(with(3), 2);
    assert_eq!(with(2), 1);
    assert_eq!(with(1), 1, "0 would drop replicas between their acknowledgements");
}

//! Unit tests of the pure observability logic: the `cos-agent` config, rules, dashboard
//! encoding, exporter definition and the plan.

use super::agent::{render, scrape_jobs, AgentInputs};
use super::plan::{steps, CosStep, ServiceSpec};
use super::*;
use crate::history::{Failover, Kind};
use crate::observe::fixture::{primary_info, replica_info};
use crate::observe::Observed;
use serde_json::Value;
use std::io::Read as _;
use std::path::Path;

fn topology() -> Topology {
    Topology {
        model: "m".into(),
        model_uuid: "u-1".into(),
        application: "valkey".into(),
        charm: "valkey".into(),
    }
}

fn inputs() -> AgentInputs {
    AgentInputs {
        topology: topology(),
        listen_host: "127.0.3.4".into(),
        sentinel_host: "127.0.3.4".into(),
        log_files: vec!["/var/lib/valkey/log/valkey.log".into(), "/var/lib/valkey/log/sentinel.log".into()],
    }
}

fn config() -> Value {
    serde_json::from_str(&render(&inputs()).unwrap()).unwrap()
}

#[test]
fn config_has_exactly_the_fields_of_cos_agent_provider_unit_data() {
    let c = config();
    let keys: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "dashboards",
            "include_log_files",
            "log_alert_rules",
            "log_slots",
            "metrics_alert_rules",
            "metrics_scrape_jobs",
            "subordinate",
            "tracing_protocols"
        ]
    );
    assert_eq!(c["log_alert_rules"], serde_json::json!({}));
    assert_eq!(c["log_slots"], serde_json::json!([]));
    assert!(c["subordinate"].is_null() && c["tracing_protocols"].is_null());
    assert_eq!(c["include_log_files"][1], "/var/lib/valkey/log/sentinel.log");
    assert_eq!(render(&inputs()).unwrap(), render(&inputs()).unwrap(), "same inputs, same bytes");
}

#[test]
fn scrape_jobs_target_the_loopback_exporter_one_per_process() {
    let jobs = scrape_jobs(&inputs());
    let names: Vec<&str> = jobs.iter().map(|j| j["job_name"].as_str().unwrap()).collect();
    assert_eq!(names, ["valkey", "valkey-sentinel", "valkey-charm"]);
    assert_eq!(jobs[0]["static_configs"][0]["targets"][0], "127.0.3.4:9121");
    assert_eq!(jobs[0]["static_configs"][0]["labels"]["process"], "valkey");
    assert_eq!(jobs[1]["metrics_path"], "/scrape");
    assert_eq!(jobs[1]["params"]["target"][0], "redis://127.0.3.4:26379");
    assert_eq!(jobs[1]["static_configs"][0]["labels"]["process"], "sentinel");
    assert_eq!(jobs[2]["static_configs"][0]["targets"][0], "127.0.3.4:9122");
}

#[test]
fn the_listen_address_is_always_a_loopback_one() {
    assert_eq!(listen_host("127.0.3.4"), "127.0.3.4", "a local model's unit keeps its own");
    assert_eq!(listen_host("::1"), "::1");
    assert_eq!(listen_host("10.1.2.3"), "127.0.0.1");
    assert_eq!(listen_host("192.168.1.5"), "127.0.0.1");
    assert_eq!(listen_host("valkey-0.lxd"), "127.0.0.1", "a hostname is never bound");
}

#[test]
fn rules_get_the_topology_injected_as_the_cos_agent_library_does() {
    let groups = config()["metrics_alert_rules"]["groups"].as_array().unwrap().clone();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0]["name"], "m_u-1_valkey_valkey_alerts");
    let rules = groups[0]["rules"].as_array().unwrap();
    let mut names: Vec<&str> = rules.iter().map(|r| r["alert"].as_str().unwrap()).collect();
    let n = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), n, "alert names are unique");
    for r in rules {
        let expr = r["expr"].as_str().unwrap();
        assert!(!expr.contains("%%"), "{expr}");
        assert!(expr.contains(r#"juju_model="m",juju_model_uuid="u-1",juju_application="valkey""#), "{expr}");
        assert_eq!(r["labels"]["juju_application"], "valkey");
        assert_eq!(r["labels"]["juju_model_uuid"], "u-1");
        assert!(r["labels"]["severity"].is_string(), "{} has a severity", r["alert"]);
        assert!(r["annotations"]["summary"].is_string() && r["annotations"]["description"].is_string());
    }
}

#[test]
fn every_rule_the_issue_asks_for_exists() {
    let text = rules::RULE_FILES[0].1;
    for alert in [
        "ValkeyNodeDown",
        "ValkeyNoPrimary",
        "ValkeyTooManyPrimaries",
        "ValkeyReplicaLinkDown",
        "ValkeyReplicationLag",
        "SentinelQuorumUnreachable",
        "SentinelTilt",
        "ValkeyFailover",
        "ValkeyPersistenceFailing",
    ] {
        assert!(text.contains(&format!("alert: {alert}\n")), "{alert}");
    }
}

#[test]
fn dashboards_are_base64_of_xz_json_with_uid_and_charm_tag() {
    let c = config();
    let encoded = c["dashboards"][0].as_str().unwrap();
    use base64::Engine as _;
    let xz = base64::engine::general_purpose::STANDARD.decode(encoded).unwrap();
    assert_eq!(&xz[..6], b"\xFD7zXZ\x00", "xz stream magic (Python's lzma.compress format)");
    let mut json = String::new();
    liblzma::read::XzDecoder::new(&xz[..]).read_to_string(&mut json).unwrap();
    let d: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(d["uid"], "valkey-valkey");
    assert!(d["tags"].as_array().unwrap().iter().any(|t| t == "charm: valkey"));
    assert_eq!(d["title"], "Valkey");
}

#[test]
fn no_password_reaches_the_relation_data_or_an_argv() {
    let o = started_primary();
    let admin = &o.credentials.as_ref().unwrap().admin;
    let pw = exporter::exporter_password(admin);
    assert_eq!(pw.len(), 64);
    assert_ne!(&pw, admin);
    assert_eq!(pw, exporter::exporter_password(admin), "every unit derives the same");
    let config = render(&plan::agent_inputs(&o).unwrap()).unwrap();
    let args = exporter::args("127.0.0.2", "127.0.0.2", Path::new("/p/exporter-passwords.json"));
    for text in [config.as_str(), &args.join(" ")] {
        assert!(!text.contains(&pw) && !text.contains(admin.as_str()));
        assert!(!text.contains(&crate::workload::acl_hash(&pw)));
    }
    assert!(args.contains(&"--redis.password-file=/p/exporter-passwords.json".to_string()));
    assert!(args.contains(&"--web.listen-address=127.0.0.2:9121".to_string()));
    assert!(args.contains(&"--config-command=-".to_string()), "no CONFIG GET: it would read masterauth");
    let file: Value = serde_json::from_str(&exporter::password_file("127.0.0.2", &pw)).unwrap();
    assert_eq!(file["redis://127.0.0.2:6379"], pw.as_str());
    assert_eq!(file["redis://127.0.0.2:26379"], pw.as_str());
    let set = exporter::setuser_args(&pw, true);
    assert_eq!(set[..3], ["charm-exporter", "reset", "on"]);
    assert_eq!(set[3], crate::workload::acl_hash(&pw));
    assert!(set.contains(&"+sentinel|ckquorum".to_string()) && !set.iter().any(|a| a.contains("config")));
    assert!(!exporter::setuser_args(&pw, false)
        .iter()
        .any(|a| a.contains("sentinel") || a.contains("config")));
}

fn started_primary() -> Observed {
    let mut o = Observed::test(0).running(primary_info(100, &[]));
    o.cos.topology = topology();
    o
}

#[test]
fn publishes_only_with_a_relation_and_only_when_the_bag_differs() {
    let mut o = started_primary();
    assert!(
        !steps(&o).iter().any(|s| matches!(s, CosStep::Publish { .. })),
        "no relation, nothing to publish"
    );
    o.cos.relation_id = Some("cos-agent:7".into());
    let published = steps(&o)
        .into_iter()
        .find_map(|s| match s {
            CosStep::Publish { relation_id, config } => Some((relation_id, config)),
            _ => None,
        })
        .expect("published");
    assert_eq!(published.0, "cos-agent:7");
    o.cos.published = Some(published.1);
    assert!(!steps(&o).iter().any(|s| matches!(s, CosStep::Publish { .. })), "unchanged: not written again");
}

#[test]
fn a_unit_not_started_publishes_but_runs_no_exporter() {
    let mut o = Observed::test(1);
    o.cos.relation_id = Some("cos-agent:7".into());
    let s = steps(&o);
    assert!(matches!(s[..], [CosStep::Publish { .. }]), "{s:?}");
}

#[test]
fn the_exporter_services_are_ensured_until_applied_running_and_persisted() {
    let mut o = started_primary();
    let spec = ServiceSpec { listen_host: "127.0.0.2".into(), bind_address: "127.0.0.2".into() };
    assert!(steps(&o).contains(&CosStep::EnsureServices(spec.clone())));
    o.cos.services_applied = Some(spec.marker(&o.credentials.as_ref().unwrap().admin));
    o.cos.services_running = true;
    o.cos.acl_persisted = true;
    assert!(!steps(&o).iter().any(|s| matches!(s, CosStep::EnsureServices(_))), "{:?}", steps(&o));
    o.cos.acl_persisted = false;
    assert!(steps(&o).contains(&CosStep::EnsureServices(spec.clone())), "a re-rendered conf lost the user");
    o.cos.acl_persisted = true;
    o.credentials.as_mut().unwrap().admin = "b".repeat(64);
    assert!(steps(&o).contains(&CosStep::EnsureServices(spec)), "a rotated password applies again");
    o.local.sentinel_answers = false;
    assert!(!steps(&o).iter().any(|s| matches!(s, CosStep::EnsureServices(_))), "waits for Sentinel");
    o.local.sentinel_answers = true;
    o.cos.relation_id = Some("cos-agent:1".into());
    o.retired = true;
    assert_eq!(steps(&o), [], "a retired unit runs and publishes nothing");
}

#[test]
fn charm_signals_render_the_failover_history_and_the_fence() {
    let mut o = Observed::test(1).running(replica_info(0, 100, true));
    o.local.replication.as_mut().unwrap().priority = Some(0);
    o.recorded_switchovers = vec![
        Failover {
            at_ms: 5_000,
            old_primary: "a".into(),
            new_primary: "b".into(),
            kind: Kind::Automatic,
            duration_ms: Some(4200),
        },
        Failover {
            at_ms: 9_500,
            old_primary: "b".into(),
            new_primary: "a".into(),
            kind: Kind::Switchover,
            duration_ms: Some(300),
        },
    ];
    let text = signals::render(&plan::charm_signals(&o));
    assert!(text.contains("\nvalkey_charm_start_fence 1\n"), "{text}");
    assert!(text.contains("valkey_charm_failovers_recorded{kind=\"automatic\"} 1\n"));
    assert!(text.contains("valkey_charm_failovers_recorded{kind=\"switchover\"} 1\n"));
    assert!(text.contains("\nvalkey_charm_last_failover_timestamp_seconds 9.5\n"));
    assert!(text.contains("\nvalkey_charm_last_failover_duration_seconds 0.3\n"));
    assert!(text.contains("\nvalkey_charm_observed_timestamp_seconds 1000\n"));
    let none = signals::render(&signals::CharmSignals::default());
    assert!(!none.contains("last_failover"), "no history, no timestamp");
}

#[test]
fn the_side_service_units_run_the_exporter_with_no_secret() {
    let paths = crate::workload::Paths::new("/var/lib/valkey");
    let spec = ServiceSpec { listen_host: "127.0.0.1".into(), bind_address: "10.0.0.5".into() };
    let [exp, metrics] = execute::side_services(
        "/usr/bin/prometheus-redis-exporter".into(),
        "/charm/dispatch".into(),
        &paths,
        &spec,
    );
    let unit = crate::workload::sidecar::SideSupervisor::render_unit("valkey/0", &exp);
    assert!(unit.contains("ExecStart=/usr/bin/prometheus-redis-exporter --web.listen-address=127.0.0.1:9121 --redis.addr=redis://10.0.0.5:6379"), "{unit}");
    assert!(unit.contains("Restart=always") && unit.contains("WantedBy=multi-user.target"));
    assert_eq!(metrics.args[..3], ["metrics-serve", "--listen", "127.0.0.1:9122"]);
}

#[test]
fn side_services_count_as_running_only_when_every_unit_is_active() {
    use crate::workload::sidecar::all_active;
    assert!(all_active("ActiveState=active\n\nActiveState=active\n", 2));
    assert!(!all_active("ActiveState=active\n\nActiveState=activating\n", 2), "one is waiting to restart");
    assert!(!all_active("ActiveState=active\n", 2));
}

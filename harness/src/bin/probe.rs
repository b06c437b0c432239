//! `probe` — write through Sentinel for a while and report availability and consistency.
//!
//! ```text
//! VALKEY_PASSWORD=... probe --sentinel 127.0.5.2:26379 --sentinel 127.0.5.3:26379 \
//!     --user admin --duration 30s --wait-replicas 1 --verify 127.0.5.2:6379 --json
//! ```

use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::Parser;
use valkey_harness::probe::{verify, ProbeConfig, ProbeHandle};
use valkey_harness::sentinel::SentinelSet;
use valkey_harness::valkey::{Credentials, Endpoint, Timeouts};

/// Sentinel-aware write probe.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// A Sentinel address host:port (repeat for each Sentinel).
    #[arg(long = "sentinel", required = true)]
    sentinels: Vec<Endpoint>,
    /// Monitor name.
    #[arg(long, default_value = "primary")]
    monitor: String,
    /// ACL user for data nodes (password from env VALKEY_PASSWORD).
    #[arg(long)]
    user: Option<String>,
    /// ACL user for Sentinels (password from env VALKEY_SENTINEL_PASSWORD).
    #[arg(long)]
    sentinel_user: Option<String>,
    /// How long to write: `500ms`, `30s`, `2m`.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Confirm each write with `WAIT N`; only confirmed writes count as acknowledged.
    #[arg(long)]
    wait_replicas: Option<u32>,
    /// Pause between writes.
    #[arg(long, default_value = "5ms", value_parser = parse_duration)]
    interval: Duration,
    /// Run id used in the keys (`probe:<run>:<seq>`); default: this process id.
    #[arg(long)]
    run_id: Option<String>,
    /// After writing, check every acknowledged write on this node (repeatable).
    #[arg(long = "verify")]
    verify_nodes: Vec<Endpoint>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = text.find(|c: char| !c.is_ascii_digit()).map_or((text, "s"), |i| text.split_at(i));
    let value: u64 =
        number.parse().map_err(|_| format!("invalid duration {text:?}: use e.g. 500ms, 30s, 2m"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(value)),
        "s" => Ok(Duration::from_secs(value)),
        "m" => Ok(Duration::from_secs(value * 60)),
        _ => Err(format!("invalid duration unit in {text:?}: use ms, s or m")),
    }
}

fn main() -> std::process::ExitCode {
    // One line on failure, whatever RUST_BACKTRACE says: this is a CLI, not a crash.
    match run(Args::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    let password = std::env::var("VALKEY_PASSWORD").ok();
    let sentinel_password = std::env::var("VALKEY_SENTINEL_PASSWORD").ok();
    if args.user.is_some() && password.is_none() {
        bail!("--user given but VALKEY_PASSWORD is not set");
    }
    let data_auth = Credentials { username: args.user.clone(), password };
    let sentinels = SentinelSet {
        sentinels: args.sentinels.clone(),
        monitor: args.monitor.clone(),
        sentinel_auth: Credentials { username: args.sentinel_user.clone(), password: sentinel_password },
        data_auth: data_auth.clone(),
        timeouts: Timeouts::default(),
    };
    let run_id = args.run_id.clone().unwrap_or_else(|| std::process::id().to_string());
    let mut config = ProbeConfig::new(sentinels, run_id);
    config.wait_replicas = args.wait_replicas;
    config.interval = args.interval;
    config.max_duration = args.duration;
    let probe = ProbeHandle::start(config).context("starting the probe thread")?;
    while !probe.finished() {
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = probe.stop();
    let report = log.report();
    let consistency = if args.verify_nodes.is_empty() {
        None
    } else {
        Some(verify(&log, &args.verify_nodes, &data_auth, Duration::from_secs(10)).map_err(|e| e.to_string()))
    };
    if args.json {
        let output = serde_json::json!({
            "report": report,
            "errors": log.errors,
            "consistency": consistency.as_ref().map(|c| c.as_ref().err().cloned().unwrap_or_else(|| "ok".into())),
        });
        println!("{}", serde_json::to_string_pretty(&output)?);
    } else {
        println!("acknowledged: {}", report.acknowledged);
        println!("unconfirmed:  {}", report.unconfirmed);
        println!("errors:       {} (NOREPLICAS {})", report.errors, report.noreplicas_count);
        if let Some(gap) = report.longest_gap {
            println!("longest gap:  {:?} ({:?} → {:?})", gap.length(), gap.from, gap.to);
        }
        for window in &report.unavailability {
            println!(
                "unavailable:  {:?} from {:?} ({} errors)",
                window.length(),
                window.start,
                window.errors
            );
        }
        for (primary, writes) in &report.writes_by_primary {
            println!("primary {primary}: {writes} writes");
        }
        if let Some(result) = &consistency {
            println!("consistency:  {}", result.as_ref().err().map_or("ok", String::as_str));
        }
    }
    if let Some(Err(error)) = consistency {
        bail!("consistency check failed: {error}");
    }
    if report.acknowledged == 0 {
        bail!(
            "no write was acknowledged: {}",
            log.errors.last().map_or("no attempts", |e| e.message.as_str())
        );
    }
    Ok(())
}

//! `panels`: draws the README's observability picture from a real run's metrics.
//!
//! `tests/observability.rs`, run with `VALKEY_OBS_RUN=DIR`, keeps its central Prometheus's TSDB
//! in `DIR/tsdb` and the run's marks (each fault, the switchover) in `DIR/marks.json`. This tool
//! starts Prometheus again on that TSDB, queries the main panels of the charm's dashboard over
//! the whole run — which unit is primary, each replica's replication lag, what each Sentinel
//! sees of its quorum — and draws them, with the marks, into a PNG:
//!
//! `panels --run DIR --out docs/observability-panels.png`

mod draw;
mod prometheus;

use anyhow::{Context, Result};
use clap::Parser;
use draw::{Mark, Panel};
use plotters::chart::SeriesLabelPosition::{LowerLeft, LowerRight, UpperRight};
use std::path::PathBuf;

/// Command-line arguments.
#[derive(Debug, Parser)]
#[command(about = "Draw role, lag and quorum panels from a kept observability run")]
struct Args {
    /// The run directory (`tsdb/` and `marks.json`) the observability scenario kept.
    #[arg(long)]
    run: PathBuf,
    /// The PNG to write.
    #[arg(long)]
    out: PathBuf,
    /// Prometheus server binary (Debian's package).
    #[arg(long, default_value = "/usr/bin/prometheus")]
    prometheus: PathBuf,
    /// Font for the text (ab_glyph reads TrueType files).
    #[arg(long, default_value = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")]
    font: PathBuf,
    /// Seconds between points.
    #[arg(long, default_value_t = 2.0)]
    step: f64,
    /// Picture width in pixels.
    #[arg(long, default_value_t = 1200)]
    width: u32,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let font = std::fs::read(&args.font).with_context(|| format!("font {}", args.font.display()))?;
    let font: &'static [u8] = Box::leak(font.into_boxed_slice());
    plotters::style::register_font("sans-serif", plotters::style::FontStyle::Normal, font)
        .map_err(|_| anyhow::anyhow!("{} is not a usable font", args.font.display()))?;
    let server = prometheus::Server::start(&args.prometheus, &args.run.join("tsdb"))?;
    let span = server.span()?;
    let range = |q: &str, label: &str| server.range(q, span, args.step, label);
    // One band per unit: high while it is primary, low while it is a replica.
    let mut roles = range(
        "max by (juju_unit) (redis_instance_info{process=\"valkey\",role=\"master\"}) \
         or 0 * max by (juju_unit) (redis_instance_info{process=\"valkey\",role=\"slave\"})",
        "juju_unit",
    )?;
    for (i, s) in roles.iter_mut().enumerate() {
        for p in &mut s.points {
            p.1 = p.1 * 0.8 + 0.2 + 1.2 * i as f64;
        }
        s.label = format!("{}: primary when high", s.label);
    }
    let panels = [
        Panel {
            title: "Role per unit (one band each: high = primary, low = replica)".into(),
            y_label: "".into(),
            series: roles,
            legend: LowerLeft,
        },
        Panel {
            title: "Replication: seconds since each replica last heard from its primary".into(),
            y_label: "seconds".into(),
            series: range(
                "max by (juju_unit) (redis_master_last_io_seconds_ago{process=\"valkey\"})",
                "juju_unit",
            )?,
            legend: UpperRight,
        },
        Panel {
            title: "Sentinel quorum: Sentinels each Sentinel sees up (itself included)".into(),
            y_label: "sentinels".into(),
            series: range(
                "max by (juju_unit) (redis_sentinel_master_ok_sentinels{process=\"sentinel\"})",
                "juju_unit",
            )?,
            legend: LowerRight,
        },
    ];
    let marks = read_marks(&args.run.join("marks.json"))?;
    draw::draw(&args.out, args.width, span, args.step, &panels, &marks)?;
    drop(server);
    println!(
        "{}: {:.0} s of metrics, {} marks, {} series",
        args.out.display(),
        span.1 - span.0,
        marks.len(),
        panels.iter().map(|p| p.series.len()).sum::<usize>()
    );
    Ok(())
}

/// The run's marks: `[{"label": "...", "at": unix_seconds}, ...]` (none when the file is absent).
fn read_marks(path: &std::path::Path) -> Result<Vec<Mark>> {
    let Ok(text) = std::fs::read_to_string(path) else { return Ok(Vec::new()) };
    let doc: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{}", path.display()))?;
    Ok(doc
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| Some(Mark { label: m["label"].as_str()?.to_string(), at: m["at"].as_f64()? }))
        .collect())
}

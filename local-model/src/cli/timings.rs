//! `hook-timings` (a local extra): the wall time and peak memory of every finished hook, action
//! and exec command, as the agent recorded them in `<model>/hook-timings.jsonl`.

use super::{Format, Result};
use crate::agent::timings::{self, HookTiming};
use crate::model::home::Home;
use clap::Args;

/// Arguments of `hook-timings`.
#[derive(Debug, Args)]
pub struct TimingArgs {
    /// Only this unit (`valkey/0`).
    #[arg(long)]
    pub unit: Option<String>,
    /// Only this event (hook or action name, or `exec`).
    #[arg(long)]
    pub event: Option<String>,
    /// Output format: a table (default) or a JSON array of records.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
}

/// `hook-timings [--unit U] [--event E] [--format json]`.
pub fn hook_timings(home: &Home, model: &str, args: TimingArgs) -> Result<()> {
    let store = home.open(model)?;
    let records = timings::select(timings::read(store.dir()), args.unit.as_deref(), args.event.as_deref());
    match args.format {
        Some(Format::Json) => println!("{}", serde_json::to_string(&records).expect("timings serialise")),
        Some(Format::Yaml) => print!("{}", serde_yaml::to_string(&records).expect("yaml")),
        _ => print!("{}", table(&records)),
    }
    Ok(())
}

/// The records as a table, one line each, in the order they finished.
pub fn table(records: &[HookTiming]) -> String {
    let mut out = format!(
        "{:<16} {:<36} {:<6} {:>10} {:>12} {:>4}\n",
        "Unit", "Event", "Kind", "Wall(ms)", "MaxRSS(KiB)", "RC"
    );
    for r in records {
        let rc = r.rc.map_or_else(|| "-".to_string(), |c| c.to_string());
        out.push_str(&format!(
            "{:<16} {:<36} {:<6} {:>10.1} {:>12} {:>4}\n",
            r.unit, r.event, r.kind, r.wall_ms, r.max_rss_kib, rc
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_shows_one_row_per_record_and_dash_for_killed() {
        let r = HookTiming {
            unit: "a/0".into(),
            event: "install".into(),
            kind: "hook".into(),
            wall_ms: 12.345,
            max_rss_kib: 2048,
            rc: None,
            at: 0.0,
        };
        let text = table(&[r]);
        let rows: Vec<&str> = text.lines().collect();
        assert_eq!(rows.len(), 2);
        assert!(rows[1].starts_with("a/0"), "{text}");
        assert!(rows[1].contains("12.3") && rows[1].contains("2048") && rows[1].ends_with('-'), "{text}");
    }
}

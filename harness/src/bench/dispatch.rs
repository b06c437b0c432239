//! Hook latency: time the charm's own `dispatch` for `update-status` inside a hook context on a
//! unit (`juju exec`), the way the agent runs it, read its peak RSS with GNU time if present, and
//! count the hook tools one dispatch runs (each is a process: most of a quiet hook's cost).

use std::time::Duration;

use crate::juju::{Juju, JujuError};

/// update-status dispatches timed per unit.
pub const ITERATIONS: usize = 10;

/// What the timed dispatches showed on one unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatchTimings {
    /// Wall time of each dispatch.
    pub latencies: Vec<Duration>,
    /// Peak RSS of one more dispatch, in KiB (`None` without `/usr/bin/time`).
    pub peak_rss_kb: Option<u64>,
    /// Hook tools one more dispatch ran, by name, sorted by name.
    pub tool_calls: Vec<(String, u64)>,
}

/// The shell run on the unit: prints `us <microseconds>` per dispatch, then `rss_kb <KiB>`.
fn script() -> String {
    format!(
        r#"cd "$JUJU_CHARM_DIR" || exit 1
for i in $(seq {ITERATIONS}); do
  s=$(date +%s%N)
  env JUJU_DISPATCH_PATH=hooks/update-status JUJU_HOOK_NAME=update-status ./dispatch >/dev/null 2>&1 || exit 2
  e=$(date +%s%N)
  echo "us $(( (e - s) / 1000 ))"
done
if [ -x /usr/bin/time ]; then
  /usr/bin/time -f "rss_kb %M" env JUJU_DISPATCH_PATH=hooks/update-status JUJU_HOOK_NAME=update-status \
    ./dispatch 2>&1 >/dev/null | grep '^rss_kb '
fi
# Count hook tools: put a logging wrapper of every tool in the tools directory first in PATH.
tools=$(dirname "$(command -v is-leader)") || exit 3
w=$(mktemp -d) || exit 3
for p in "$tools"/*; do
  t=$(basename "$p")
  printf '#!/bin/sh\necho %s >>"%s/calls"\nexec "%s" "$@"\n' "$t" "$w" "$p" >"$w/$t" && chmod +x "$w/$t"
done
PATH="$w:$PATH" JUJU_DISPATCH_PATH=hooks/update-status JUJU_HOOK_NAME=update-status ./dispatch >/dev/null 2>&1
[ -f "$w/calls" ] && sort "$w/calls" | uniq -c | while read -r n t; do echo "tool $t $n"; done
rm -rf "$w""#
    )
}

/// Parses the script's output (pure).
pub fn parse(stdout: &str) -> Result<DispatchTimings, String> {
    let mut timings = DispatchTimings { latencies: Vec::new(), peak_rss_kb: None, tool_calls: Vec::new() };
    for line in stdout.lines() {
        match line.split_once(' ') {
            Some(("us", value)) => {
                let micros: u64 = value.trim().parse().map_err(|_| format!("bad timing line {line:?}"))?;
                timings.latencies.push(Duration::from_micros(micros));
            }
            Some(("rss_kb", value)) => {
                timings.peak_rss_kb =
                    Some(value.trim().parse().map_err(|_| format!("bad rss line {line:?}"))?);
            }
            Some(("tool", rest)) => {
                let (name, count) = rest.rsplit_once(' ').ok_or_else(|| format!("bad tool line {line:?}"))?;
                let count = count.parse().map_err(|_| format!("bad tool line {line:?}"))?;
                timings.tool_calls.push((name.to_string(), count));
            }
            _ => {}
        }
    }
    timings.tool_calls.sort();
    if timings.latencies.len() == ITERATIONS {
        Ok(timings)
    } else {
        Err(format!("expected {ITERATIONS} timings, got {}: {stdout:?}", timings.latencies.len()))
    }
}

/// Times `update-status` dispatches on `unit`.
pub fn time_dispatch(juju: &Juju, unit: &str) -> Result<Result<DispatchTimings, String>, JujuError> {
    let output = juju.exec(unit, &script())?;
    if output.code != 0 {
        return Ok(Err(format!(
            "dispatch failed on {unit} (exit {}): {}",
            output.code,
            output.stderr.trim()
        )));
    }
    Ok(parse(&output.stdout))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timings_and_rss_are_read() {
        let mut text: String = (1..=ITERATIONS).map(|i| format!("us {}\n", i * 1000)).collect();
        text.push_str("rss_kb 4200\ntool status-set 2\ntool is-leader 1\n");
        let timings = parse(&text).unwrap();
        assert_eq!(timings.latencies[2], Duration::from_millis(3));
        assert_eq!(timings.peak_rss_kb, Some(4200));
        assert_eq!(timings.tool_calls, [("is-leader".to_string(), 1), ("status-set".to_string(), 2)]);
        assert!(parse(&format!("{text}tool x\n")).unwrap_err().contains("bad tool line"));
    }

    #[test]
    fn missing_timings_are_an_error() {
        assert!(parse("us 5\n").unwrap_err().contains("expected"));
        assert!(parse("us x\n").is_err());
    }

    #[test]
    fn script_dispatches_update_status_in_the_charm_dir() {
        let text = script();
        assert!(text.starts_with("cd \"$JUJU_CHARM_DIR\""));
        assert!(text.contains("JUJU_DISPATCH_PATH=hooks/update-status"));
        assert!(text.contains(&format!("seq {ITERATIONS}")));
        assert!(text.contains("PATH=\"$w:$PATH\""), "tool wrappers come first in PATH");
    }
}

//! The juju-log layer: levels, message text, and no recursion when writing logs again.

use super::*;
use std::sync::{Arc, Mutex};
use tracing_subscriber::layer::SubscriberExt as _;

/// Records every line; when `echo` is set, logs again from inside the write (as a hook tool that
/// traced its own run would).
#[derive(Clone, Default)]
struct Recorder {
    lines: Arc<Mutex<Vec<(LogLevel, String)>>>,
    echo: bool,
}

impl LogSink for Recorder {
    fn juju_log(&self, level: LogLevel, message: &str) -> Result<(), HookToolError> {
        if self.echo {
            tracing::info!("juju-log ran");
        }
        self.lines.lock().unwrap().push((level, message.to_string()));
        Ok(())
    }
}

fn logged(sink: Recorder, body: impl FnOnce()) -> Vec<(LogLevel, String)> {
    let lines = sink.lines.clone();
    let subscriber = tracing_subscriber::registry().with(JujuLogLayer::new(sink));
    tracing::subscriber::with_default(subscriber, body);
    let out = lines.lock().unwrap().clone();
    out
}

#[test]
fn each_tracing_level_reaches_juju_log_at_its_level() {
    let lines = logged(Recorder::default(), || {
        tracing::error!("e");
        tracing::warn!("w");
        tracing::info!("i");
        tracing::debug!("d");
        tracing::trace!("t");
    });
    use LogLevel::*;
    let want = [(Error, "e"), (Warning, "w"), (Info, "i"), (Debug, "d"), (Debug, "t")];
    assert_eq!(lines, want.map(|(l, m)| (l, m.to_string())).to_vec());
}

#[test]
fn fields_follow_the_message() {
    let unit = "valkey/1";
    let lines = logged(Recorder::default(), || tracing::info!(attempt = 2, %unit, "moved to {}", "10.0.0.2"));
    assert_eq!(lines, vec![(LogLevel::Info, "moved to 10.0.0.2 attempt=2 unit=valkey/1".to_string())]);
}

#[test]
fn logging_from_inside_juju_log_does_not_recurse() {
    let lines = logged(Recorder { echo: true, ..Recorder::default() }, || tracing::warn!("outer"));
    // The inner event goes to stderr, not back into juju-log; the outer one is written once.
    assert_eq!(lines, vec![(LogLevel::Warning, "outer".to_string())]);
    // And the guard is released: the next event is written again.
    let lines = logged(Recorder { echo: true, ..Recorder::default() }, || {
        tracing::warn!("one");
        tracing::warn!("two");
    });
    assert_eq!(lines.len(), 2, "{lines:?}");
}

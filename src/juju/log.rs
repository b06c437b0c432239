//! `tracing` as the charm's logging facade: a layer that hands each event to `juju-log` with the
//! matching level, through [`HookTools`] so tests can record what a hook logged.
//!
//! Code anywhere in the charm logs with `tracing::info!` and friends; only this layer (installed
//! by `dispatch` for the hook's lifetime) turns an event into a `juju-log` call. An event raised
//! while the layer is already writing one (a hook tool that itself logs) is dropped to stderr
//! instead, so logging can never recurse.

use super::error::HookToolError;
use super::hook_tools::{HookTools, LogLevel};
use std::cell::Cell;
use std::fmt::Write as _;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

/// The `juju-log` level for a `tracing` level (Juju has no TRACE: it becomes DEBUG).
pub fn level_of(level: &Level) -> LogLevel {
    match *level {
        Level::ERROR => LogLevel::Error,
        Level::WARN => LogLevel::Warning,
        Level::INFO => LogLevel::Info,
        Level::DEBUG | Level::TRACE => LogLevel::Debug,
    }
}

/// Where the layer writes: `juju-log`, i.e. any [`HookTools`] (tests may record instead).
pub trait LogSink {
    /// Writes one line at `level`.
    fn juju_log(&self, level: LogLevel, message: &str) -> Result<(), HookToolError>;
}

impl<T: HookTools> LogSink for T {
    fn juju_log(&self, level: LogLevel, message: &str) -> Result<(), HookToolError> {
        self.log(level, message)
    }
}

/// Sends every event to `juju-log` through its hook tools.
#[derive(Debug, Clone)]
pub struct JujuLogLayer<T> {
    tools: T,
}

impl<T> JujuLogLayer<T> {
    /// A layer writing through `tools`.
    pub fn new(tools: T) -> Self {
        JujuLogLayer { tools }
    }
}

thread_local! {
    /// Set while this thread is inside a `juju-log` call made by the layer.
    static WRITING: Cell<bool> = const { Cell::new(false) };
}

impl<S, T> Layer<S> for JujuLogLayer<T>
where
    S: Subscriber,
    T: LogSink + 'static,
{
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut text = Message::default();
        event.record(&mut text);
        if WRITING.with(|w| w.replace(true)) {
            eprintln!("{}: {}", event.metadata().level(), text.0);
            return;
        }
        if let Err(e) = self.tools.juju_log(level_of(event.metadata().level()), &text.0) {
            // juju-log itself failed: stderr still reaches the unit's log in Juju.
            eprintln!("{}: {} (juju-log failed: {e})", event.metadata().level(), text.0);
        }
        WRITING.with(|w| w.set(false));
    }
}

/// An event's text: the message, then any other fields as ` key=value`.
#[derive(Default)]
struct Message(String);

impl Visit for Message {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.insert_str(0, value);
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0.insert_str(0, &format!("{value:?}"));
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
}

/// Installs the layer for the whole process (`dispatch`'s hook run). Returns false when a
/// global subscriber was already set (the events then go there).
pub fn install<T: LogSink + Send + Sync + 'static>(tools: T) -> bool {
    use tracing_subscriber::layer::SubscriberExt as _;
    let subscriber = tracing_subscriber::registry().with(JujuLogLayer::new(tools));
    tracing::subscriber::set_global_default(subscriber).is_ok()
}

#[cfg(test)]
#[path = "log_tests.rs"]
mod tests;

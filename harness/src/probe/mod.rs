//! The Sentinel-aware write probe: a background writer that measures write availability and
//! records every acknowledged write, so a scenario can afterwards prove none was lost.
//!
//! - `writer` — the loop: resolve the primary through Sentinel, `SET probe:<run>:<seq> <seq>`,
//!   optionally `WAIT`, and on any error re-resolve and reconnect.
//! - `report` — pure: the recorded log → gaps, unavailability windows, per-primary counts.
//! - `verify` — checks every acknowledged write is present on every given node.

mod report;
mod verify;
mod writer;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub use report::{Gap, Report, UnavailabilityWindow};
pub use verify::{verify, ConsistencyError, NodeCheck};

use crate::sentinel::SentinelSet;

/// What the probe does, and for how long.
#[derive(Debug, Clone)]
pub struct ProbeConfig {
    /// Where to find the primary (Sentinels, monitor name, credentials, timeouts).
    pub sentinels: SentinelSet,
    /// Distinguishes this run's keys (`probe:<run>:<seq>`) from other runs on the same data set.
    pub run_id: String,
    /// `Some(n)`: confirm each write with `WAIT n <wait_timeout>` and count it as acknowledged only
    /// if at least `n` replicas (at least 1) confirmed it.
    pub wait_replicas: Option<u32>,
    /// Timeout sent with `WAIT`; keep it below the connection's io timeout.
    pub wait_timeout: Duration,
    /// Pause between writes, so the probe does not saturate a shared machine; also the resolution
    /// of every measured gap.
    pub interval: Duration,
    /// Stop after this many write attempts (a bound so a forgotten probe ends).
    pub max_writes: u64,
    /// Stop after this long.
    pub max_duration: Duration,
}

impl ProbeConfig {
    /// A config with the house defaults: 5 ms between writes, no WAIT, at most 10 minutes.
    pub fn new(sentinels: SentinelSet, run_id: impl Into<String>) -> Self {
        Self {
            sentinels,
            run_id: run_id.into(),
            wait_replicas: None,
            wait_timeout: Duration::from_millis(200),
            interval: Duration::from_millis(5),
            max_writes: 10_000_000,
            max_duration: Duration::from_secs(600),
        }
    }
}

/// An acknowledged write.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Ack {
    /// Sequence number; the key is `probe:<run>:<seq>` and the value is `seq`.
    pub seq: u64,
    /// When the acknowledgement arrived, since the probe started.
    #[serde(serialize_with = "crate::duration_ms::one")]
    pub at: Duration,
    /// The primary that accepted it.
    pub primary: String,
}

/// A failed write attempt or a failed resolution.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProbeError {
    /// When it happened, since the probe started.
    #[serde(serialize_with = "crate::duration_ms::one")]
    pub at: Duration,
    /// The sequence number being written, if a write was in flight.
    pub seq: Option<u64>,
    /// Server error code (`NOREPLICAS`, `READONLY`, ...) when the server refused the write.
    pub code: Option<String>,
    /// Full text, for the report.
    pub message: String,
}

/// A named instant in the probe's timeline (the moment a fault was injected, say).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Mark {
    /// What happened.
    pub label: String,
    /// When, since the probe started.
    #[serde(serialize_with = "crate::duration_ms::one")]
    pub at: Duration,
}

/// Everything the probe recorded.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ProbeLog {
    /// The run id (key prefix).
    pub run_id: String,
    /// Acknowledged writes in order.
    pub acks: Vec<Ack>,
    /// Writes the server applied but `WAIT` did not confirm (not counted as acknowledged).
    pub unconfirmed: Vec<u64>,
    /// Every error, in order.
    pub errors: Vec<ProbeError>,
    /// Marks set through [`ProbeHandle::mark`].
    pub marks: Vec<Mark>,
    /// How long the probe ran.
    #[serde(serialize_with = "crate::duration_ms::one")]
    pub elapsed: Duration,
}

impl ProbeLog {
    /// The key written for `seq` in this run.
    pub fn key(&self, seq: u64) -> String {
        key(&self.run_id, seq)
    }

    /// The summary report.
    pub fn report(&self) -> Report {
        Report::from_log(self)
    }
}

/// The key for one write.
pub fn key(run_id: &str, seq: u64) -> String {
    format!("probe:{run_id}:{seq}")
}

/// State shared between the writer thread and its handle.
#[derive(Debug)]
struct Shared {
    /// Set to ask the writer to stop.
    stop: AtomicBool,
    /// Acknowledged writes so far, readable while running.
    acked: AtomicU64,
    /// Errors so far, readable while running.
    errors: AtomicU64,
    /// Marks added from outside the writer thread.
    marks: Mutex<Vec<Mark>>,
    /// The probe's time origin.
    started: Instant,
}

/// A running probe: watch its progress, mark events, stop it to get the log.
#[derive(Debug)]
pub struct ProbeHandle {
    /// Shared counters and the stop flag.
    shared: Arc<Shared>,
    /// The writer thread; `None` once joined.
    thread: Option<JoinHandle<ProbeLog>>,
}

impl ProbeHandle {
    /// Starts the writer thread.
    pub fn start(config: ProbeConfig) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            acked: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            marks: Mutex::new(Vec::new()),
            started: Instant::now(),
        });
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("probe-{}", config.run_id))
            .spawn(move || writer::run(&config, &thread_shared))?;
        Ok(Self { shared, thread: Some(thread) })
    }

    /// Acknowledged writes so far.
    pub fn acked(&self) -> u64 {
        self.shared.acked.load(Ordering::Relaxed)
    }

    /// Errors so far.
    pub fn errors(&self) -> u64 {
        self.shared.errors.load(Ordering::Relaxed)
    }

    /// Time since the probe started (the origin of every recorded time).
    pub fn elapsed(&self) -> Duration {
        self.shared.started.elapsed()
    }

    /// Whether the writer has ended on its own (bounds reached).
    pub fn finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Records a named instant (e.g. "kill -9 primary") and returns its time since start.
    pub fn mark(&self, label: impl Into<String>) -> Duration {
        let at = self.elapsed();
        let mut marks = self.shared.marks.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        marks.push(Mark { label: label.into(), at });
        at
    }

    /// Polls until `acked()` reaches `count`, or the deadline passes (returns false then).
    pub fn wait_acked(&self, count: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.acked() >= count {
                return true;
            }
            if self.finished() {
                return self.acked() >= count;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.acked() >= count
    }

    /// Stops the writer and returns everything it recorded.
    pub fn stop(mut self) -> ProbeLog {
        self.stop_inner()
    }

    fn stop_inner(&mut self) -> ProbeLog {
        self.shared.stop.store(true, Ordering::Relaxed);
        let mut log = match self.thread.take().map(JoinHandle::join) {
            Some(Ok(log)) => log,
            Some(Err(_)) | None => ProbeLog::default(),
        };
        let marks = self.shared.marks.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        log.marks.extend(marks.iter().cloned());
        log.marks.sort_by_key(|m| m.at);
        log
    }
}

impl Drop for ProbeHandle {
    fn drop(&mut self) {
        if self.thread.is_some() {
            let _ = self.stop_inner();
        }
    }
}

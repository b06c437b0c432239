//! A writer pinned to one data node's address: plain `SET`s with no `WAIT` and no Sentinel, the
//! way a client that still holds a connection to an isolated primary behaves. It records when
//! each write was acknowledged and when (and with which error code) writes were refused, so a
//! scenario can tell how long an isolated primary kept accepting writes after the cut.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use valkey_harness::valkey::{self, Credentials, Endpoint, Timeouts};

/// Pause between writes: enough writes to time the refusal to ~10 ms, little load on the machine.
const INTERVAL: Duration = Duration::from_millis(10);
/// Short timeouts: the node is reachable from the test process, so anything slow is a failure.
const TIMEOUTS: Timeouts = Timeouts { connect: Duration::from_millis(500), io: Duration::from_millis(500) };

/// What the pinned writer saw.
#[derive(Debug, Default, Clone)]
pub struct PinnedLog {
    /// `(seq, when)` of every acknowledged write; the key is `<prefix>:<seq>`.
    pub acks: Vec<(u64, Instant)>,
    /// `(when, error code or message)` of every refused or failed write.
    pub refusals: Vec<(Instant, String)>,
}

impl PinnedLog {
    /// Acknowledged writes at or after `since`.
    pub fn acks_since(&self, since: Instant) -> Vec<(u64, Instant)> {
        self.acks.iter().filter(|(_, at)| *at >= since).copied().collect()
    }

    /// When the node first refused a write with `code` at or after `since`.
    pub fn first_refusal(&self, code: &str, since: Instant) -> Option<Instant> {
        self.refusals.iter().find(|(at, what)| *at >= since && what == code).map(|(at, _)| *at)
    }
}

/// A running pinned writer.
pub struct PinnedWriter {
    /// Asks the thread to stop.
    stop: Arc<AtomicBool>,
    /// The log, shared with the thread so it can be read while writes go on.
    log: Arc<Mutex<PinnedLog>>,
    /// The writing thread; `None` once joined.
    thread: Option<JoinHandle<()>>,
    /// Key prefix, for looking the writes up afterwards.
    pub prefix: String,
}

impl PinnedWriter {
    /// Starts writing `<prefix>:<seq>` to `node` (an address, so Sentinel cannot redirect it).
    pub fn start(node: Endpoint, auth: Credentials, prefix: String) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(PinnedLog::default()));
        let (thread_stop, thread_log, thread_prefix) = (Arc::clone(&stop), Arc::clone(&log), prefix.clone());
        let thread = std::thread::Builder::new()
            .name("pinned-writer".into())
            .spawn(move || write_until_stopped(&node, &auth, &thread_prefix, &thread_stop, &thread_log))
            .expect("spawn the pinned writer");
        Self { stop, log, thread: Some(thread), prefix }
    }

    /// A copy of the log so far.
    pub fn snapshot(&self) -> PinnedLog {
        lock(&self.log).clone()
    }

    /// Stops the writer and returns its log.
    pub fn stop(mut self) -> PinnedLog {
        self.halt();
        self.snapshot()
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for PinnedWriter {
    fn drop(&mut self) {
        self.halt();
    }
}

fn lock(log: &Mutex<PinnedLog>) -> MutexGuard<'_, PinnedLog> {
    log.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write_until_stopped(
    node: &Endpoint,
    auth: &Credentials,
    prefix: &str,
    stop: &AtomicBool,
    log: &Mutex<PinnedLog>,
) {
    let mut connection: Option<redis::Connection> = None;
    let mut seq = 0_u64;
    while !stop.load(Ordering::Relaxed) {
        let Some(open) = connection.as_mut() else {
            match valkey::connect(node, auth, TIMEOUTS) {
                Ok(opened) => connection = Some(opened),
                Err(error) => lock(log).refusals.push((Instant::now(), format!("connect: {error}"))),
            }
            std::thread::sleep(INTERVAL);
            continue;
        };
        seq += 1;
        let result = redis::cmd("SET").arg(format!("{prefix}:{seq}")).arg(seq).exec(open);
        let now = Instant::now();
        match result {
            Ok(()) => lock(log).acks.push((seq, now)),
            Err(error) => {
                let what = error.code().map_or_else(|| error.to_string(), str::to_string);
                lock(log).refusals.push((now, what));
                // A server refusal leaves the connection usable; anything else may not.
                if error.code().is_none() {
                    connection = None;
                }
            }
        }
        std::thread::sleep(INTERVAL);
    }
}

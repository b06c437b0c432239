//! The probe's writer loop. Every error — refused connection, timeout, `READONLY`, `NOREPLICAS`,
//! an unconfirmed `WAIT` — drops the connection and re-resolves the primary through the Sentinels,
//! so the recorded gaps measure how long clients following Sentinel could not write.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::{key, Ack, ProbeConfig, ProbeError, ProbeLog, Shared};
use crate::valkey::{self, Endpoint, Timeouts};

/// What happened to one write.
enum Outcome {
    /// Applied and (if asked) confirmed by enough replicas.
    Acknowledged,
    /// Applied on the primary, but `WAIT` reported fewer replicas than asked.
    Unconfirmed(i64),
}

/// Runs until stopped or a bound is reached, and returns the log.
pub(super) fn run(config: &ProbeConfig, shared: &Shared) -> ProbeLog {
    let mut log = ProbeLog { run_id: config.run_id.clone(), ..ProbeLog::default() };
    let timeouts = Timeouts {
        connect: config.sentinels.timeouts.connect,
        // The io timeout must outlast WAIT, or every confirmed write would look like a timeout.
        io: config.sentinels.timeouts.io.max(config.wait_timeout + Duration::from_millis(300)),
    };
    let retry_pause = config.interval.max(Duration::from_millis(10));
    let mut seq = 0_u64;
    let mut current: Option<(redis::Connection, Endpoint)> = None;
    loop {
        let now = shared.started.elapsed();
        if shared.stop.load(Ordering::Relaxed) || seq >= config.max_writes || now >= config.max_duration {
            break;
        }
        let Some((connection, primary)) = current.as_mut() else {
            match connect_primary(config, timeouts) {
                Ok(found) => current = Some(found),
                Err(message) => {
                    record_error(&mut log, shared, None, None, message);
                    std::thread::sleep(retry_pause);
                }
            }
            continue;
        };
        seq += 1;
        match write(connection, config, seq) {
            Ok(Outcome::Acknowledged) => {
                let at = shared.started.elapsed();
                log.acks.push(Ack { seq, at, primary: primary.to_string() });
                shared.acked.fetch_add(1, Ordering::Relaxed);
            }
            Ok(Outcome::Unconfirmed(replicas)) => {
                log.unconfirmed.push(seq);
                let message = format!("WAIT confirmed {replicas} replicas on {primary}");
                record_error(&mut log, shared, Some(seq), Some("WAIT".into()), message);
                current = None;
            }
            Err(error) => {
                let code = error.code().map(str::to_string);
                record_error(&mut log, shared, Some(seq), code, format!("{primary}: {error}"));
                current = None;
            }
        }
        std::thread::sleep(config.interval);
    }
    log.elapsed = shared.started.elapsed();
    log
}

fn connect_primary(
    config: &ProbeConfig,
    timeouts: Timeouts,
) -> Result<(redis::Connection, Endpoint), String> {
    let primary = config.sentinels.resolve_primary().map_err(|e| e.to_string())?;
    let connection = valkey::connect(&primary, &config.sentinels.data_auth, timeouts)
        .map_err(|e| format!("connect {primary}: {e}"))?;
    Ok((connection, primary))
}

fn write(connection: &mut redis::Connection, config: &ProbeConfig, seq: u64) -> redis::RedisResult<Outcome> {
    redis::cmd("SET").arg(key(&config.run_id, seq)).arg(seq).exec(connection)?;
    let Some(wanted) = config.wait_replicas else {
        return Ok(Outcome::Acknowledged);
    };
    let wanted = wanted.max(1);
    let timeout_ms = u64::try_from(config.wait_timeout.as_millis()).unwrap_or(u64::MAX);
    let confirmed: i64 = redis::cmd("WAIT").arg(wanted).arg(timeout_ms).query(connection)?;
    if confirmed >= i64::from(wanted) {
        Ok(Outcome::Acknowledged)
    } else {
        Ok(Outcome::Unconfirmed(confirmed))
    }
}

fn record_error(
    log: &mut ProbeLog,
    shared: &Shared,
    seq: Option<u64>,
    code: Option<String>,
    message: String,
) {
    let at = shared.started.elapsed();
    log.errors.push(ProbeError { at, seq, code, message });
    shared.errors.fetch_add(1, Ordering::Relaxed);
}

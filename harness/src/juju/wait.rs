//! Waiting on the model: poll `juju status` until a condition holds, with a deadline, and report
//! the last status seen when it does not.

use std::time::{Duration, Instant};

use super::{Juju, JujuError, Status};

impl Juju {
    /// Polls `juju status` until `accept` holds; the error carries the last status (or error).
    pub fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        mut accept: impl FnMut(&Status) -> bool,
    ) -> Result<Status, JujuError> {
        let start = Instant::now();
        loop {
            let last = match self.status() {
                Ok(status) if accept(&status) => return Ok(status),
                Ok(status) => status.summary(),
                Err(error) => error.to_string(),
            };
            if start.elapsed() >= timeout {
                return Err(JujuError::Timeout { what: what.to_string(), waited: start.elapsed(), last });
            }
            std::thread::sleep(self.poll_interval);
        }
    }

    /// Waits until `app` has exactly `units` units, every one `active` and `idle`.
    pub fn wait_idle_active(&self, app: &str, units: usize, timeout: Duration) -> Result<Status, JujuError> {
        let what = format!("{app} to have {units} active idle units");
        self.wait_for(&what, timeout, |status| status.is_idle_active(app, units))
    }
}

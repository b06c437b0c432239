//! The hook's one time budget. Every wait in execute draws from it, so a hook's waits add up to
//! at most [`HOOK_BUDGET`] however many steps wait (a leader that reset three Sentinels could wait
//! 3 × 45 s before), and Juju, which runs no other hook on the machine meanwhile, gets the machine
//! back in bounded time. Running out is not an error: the wait that was cut short leaves a note
//! (the unit's waiting status) and the next hook continues, since every step is idempotent.

use std::time::{Duration, Instant};

/// How long one hook may spend waiting in all (docs/architecture.md "The loop").
pub const HOOK_BUDGET: Duration = Duration::from_secs(60);

/// The end of the hook's time budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    end: Instant,
}

impl Deadline {
    /// A budget of `budget` from now.
    pub fn after(budget: Duration) -> Deadline {
        Deadline { end: Instant::now() + budget }
    }

    /// The budget of an ordinary hook ([`HOOK_BUDGET`]).
    pub fn for_hook() -> Deadline {
        Deadline::after(HOOK_BUDGET)
    }

    /// What is left of the budget (zero once spent).
    pub fn remaining(&self) -> Duration {
        self.end.saturating_duration_since(Instant::now())
    }

    /// True once the budget is spent.
    pub fn expired(&self) -> bool {
        self.remaining().is_zero()
    }

    /// A wait of at most `limit` that also ends with the budget.
    pub fn cap(&self, limit: Duration) -> Duration {
        limit.min(self.remaining())
    }

    /// Polls `f` (every 100 ms) until it returns `Some`, for at most `limit` and never past the
    /// deadline. With the budget spent `f` is still asked once: a condition already true costs no
    /// wait and is not reported as missing.
    pub fn poll<T>(&self, limit: Duration, f: impl FnMut() -> Option<T>) -> Option<T> {
        crate::switchover::poll(self.cap(limit), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_never_outlast_the_budget() {
        let d = Deadline::after(Duration::from_millis(30));
        assert!(!d.expired());
        assert!(d.cap(Duration::from_secs(20)) <= Duration::from_millis(30));
        assert_eq!(d.cap(Duration::from_millis(1)), Duration::from_millis(1));
        let started = Instant::now();
        assert_eq!(d.poll(Duration::from_secs(20), || None::<()>), None);
        assert!(started.elapsed() < Duration::from_secs(2), "a 20 s wait ended with the budget");
        assert!(d.expired());
        assert_eq!(d.cap(Duration::from_secs(5)), Duration::ZERO);
        let mut asked = 0;
        assert_eq!(
            d.poll(Duration::from_secs(5), || {
                asked += 1;
                Some(7)
            }),
            Some(7),
            "a spent budget still looks once"
        );
        assert_eq!(asked, 1);
    }
}

//! How long a failed attempt waits before the next: exponential backoff with jitter, for
//! the server's job queue and the agent's uploads alike.
//!
//! The wait grows from `base`, doubling per earlier failure, up to `max` (the
//! *ceiling*); a [`Jitter`] then spreads it so that clients or jobs that failed together
//! do not all retry at the same instant. The random number is the caller's (a value in
//! `0.0..1.0`), so the arithmetic here is deterministic and this crate needs no random
//! source.

use std::time::Duration;

/// How the wait is spread around its ceiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    /// "Equal jitter": between half the ceiling and all of it, so none retries at once.
    Equal,
    /// The ceiling plus up to a quarter more: never sooner than the ceiling.
    UpToAQuarterMore,
}

/// Exponential backoff: `base · 2^n`, at most `max`, spread by `jitter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first wait's ceiling.
    pub base: Duration,
    /// The largest ceiling.
    pub max: Duration,
    /// How the wait is spread.
    pub jitter: Jitter,
}

impl Backoff {
    /// The ceiling after `doublings` doublings of `base`: `base · 2^doublings`, at most
    /// `max` (and never overflowing).
    pub fn ceiling(&self, doublings: u32) -> Duration {
        self.base
            .saturating_mul(1u32 << doublings.min(31))
            .min(self.max)
    }

    /// The wait before retry number `retry` (0 for the first retry, after one failure),
    /// with `random` a number in `0.0..1.0` (clamped to it).
    pub fn delay(&self, retry: u32, random: f64) -> Duration {
        let ceiling = self.ceiling(retry);
        let random = random.clamp(0.0, 1.0);
        match self.jitter {
            Jitter::Equal => ceiling.mul_f64(0.5 + random / 2.0),
            Jitter::UpToAQuarterMore => ceiling + ceiling.mul_f64(random / 4.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUARTER: Backoff = Backoff {
        base: Duration::from_secs(10),
        max: Duration::from_secs(3600),
        jitter: Jitter::UpToAQuarterMore,
    };

    #[test]
    fn doubles_per_retry_up_to_the_maximum() {
        let delays: Vec<u64> = (0..10).map(|n| QUARTER.delay(n, 0.0).as_secs()).collect();
        assert_eq!(delays, [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600]);
        assert_eq!(QUARTER.delay(u32::MAX, 0.0), QUARTER.max);
    }

    #[test]
    fn quarter_jitter_adds_at_most_a_quarter() {
        assert_eq!(QUARTER.delay(1, 0.5), Duration::from_millis(22_500));
        assert_eq!(QUARTER.delay(0, 7.0), Duration::from_millis(12_500));
        assert_eq!(QUARTER.delay(0, -1.0), QUARTER.base);
    }

    #[test]
    fn equal_jitter_waits_between_half_and_all() {
        let equal = Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_secs(1),
            jitter: Jitter::Equal,
        };
        assert_eq!(equal.delay(0, 0.0), Duration::from_millis(50));
        assert_eq!(equal.delay(0, 1.0), Duration::from_millis(100));
        assert_eq!(equal.delay(2, 0.5), Duration::from_millis(300));
        assert_eq!(equal.delay(30, 1.0), Duration::from_secs(1));
    }
}

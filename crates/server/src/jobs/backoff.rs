//! How long a failed job waits before its next attempt.

use std::time::Duration;

/// The wait after failed attempt number `attempt` (1 for the first): `base` doubled for
/// each earlier attempt, at most `max`, plus up to a quarter more by `jitter` (a number
/// in `0.0..1.0`, random in the worker) so that jobs that failed together do not all
/// retry at the same instant.
pub fn retry_delay(attempt: u32, base: Duration, max: Duration, jitter: f64) -> Duration {
    let doublings = attempt.saturating_sub(1).min(31);
    let delay = base.saturating_mul(1u32 << doublings).min(max);
    delay + delay.mul_f64(jitter.clamp(0.0, 1.0) / 4.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Duration = Duration::from_secs(10);
    const MAX: Duration = Duration::from_secs(3600);

    #[test]
    fn doubles_per_attempt_up_to_the_maximum() {
        let delays: Vec<u64> = (1..=10)
            .map(|n| retry_delay(n, BASE, MAX, 0.0).as_secs())
            .collect();
        assert_eq!(delays, [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600]);
        assert_eq!(retry_delay(u32::MAX, BASE, MAX, 0.0), MAX);
        assert_eq!(retry_delay(0, BASE, MAX, 0.0), BASE);
    }

    #[test]
    fn jitter_adds_at_most_a_quarter() {
        assert_eq!(
            retry_delay(2, BASE, MAX, 0.5),
            Duration::from_millis(22_500)
        );
        assert_eq!(
            retry_delay(1, BASE, MAX, 7.0),
            Duration::from_millis(12_500)
        );
        assert_eq!(retry_delay(1, BASE, MAX, -1.0), BASE);
    }
}

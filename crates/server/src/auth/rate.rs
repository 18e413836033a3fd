//! An in-memory sliding-window rate limit per key (a client address), for anonymous
//! endpoints whose lookups must not be hammered (share links). Each replica counts its
//! own requests; the sign-in limits, which must hold across replicas, live in the
//! database instead (see [`sign_in`](super::sign_in)).

use chrono::{DateTime, Duration, Utc};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Keys tracked before idle ones are swept.
const SWEEP_AT: usize = 10_000;

/// At most `limit` hits per key in any `window`.
#[derive(Debug)]
pub struct RateLimiter {
    limit: usize,
    window: Duration,
    hits: Mutex<HashMap<String, VecDeque<DateTime<Utc>>>>,
}

impl RateLimiter {
    /// A limiter allowing `limit` hits (at least one) per `window`.
    pub fn new(limit: usize, window: Duration) -> Self {
        Self {
            limit: limit.max(1),
            window,
            hits: Mutex::default(),
        }
    }

    /// Counts a hit of `key` at `now`, or refuses it with the time the oldest counted hit
    /// stops counting (when a retry can succeed).
    pub fn hit(&self, key: &str, now: DateTime<Utc>) -> Result<(), DateTime<Utc>> {
        let mut hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        let since = now - self.window;
        if hits.len() >= SWEEP_AT {
            hits.retain(|_, times| times.back().is_some_and(|t| *t > since));
        }
        let times = hits.entry(key.to_owned()).or_default();
        while times.front().is_some_and(|t| *t <= since) {
            times.pop_front();
        }
        if times.len() >= self.limit {
            return Err(times.front().map_or(now, |t| *t + self.window));
        }
        times.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_of_hits_per_key() {
        let start = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let limiter = RateLimiter::new(2, Duration::minutes(1));
        assert!(limiter.hit("a", start).is_ok());
        assert!(limiter.hit("a", start + Duration::seconds(10)).is_ok());
        let refused = limiter.hit("a", start + Duration::seconds(20));
        assert_eq!(refused, Err(start + Duration::minutes(1)));
        assert!(limiter.hit("b", start).is_ok(), "keys are counted apart");
        assert!(limiter.hit("a", start + Duration::seconds(61)).is_ok());
        assert!(limiter.hit("a", start + Duration::seconds(62)).is_err());
    }
}

//! Retry policy for idempotent GETs: exponential backoff with jitter, and the poll schedule used
//! while waiting for asynchronous operations.

use std::time::Duration;

/// How often and how patiently GETs are retried on retryable errors
/// ([`crate::Error::is_retryable`]). Writes (POST/PUT/PATCH/DELETE) are never retried.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 disables retrying). Default 3.
    pub max_retries: u32,
    /// Backoff before the first retry. Default 200 ms.
    pub initial_backoff: Duration,
    /// Upper bound of one backoff. Default 5 s.
    pub max_backoff: Duration,
    /// Growth factor per retry. Default 2.
    pub multiplier: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            multiplier: 2.0,
        }
    }
}

impl RetryPolicy {
    /// No retries.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// The nominal (jitter-free) backoff before retry number `attempt` (0-based), capped.
    pub fn nominal_backoff(&self, attempt: u32) -> Duration {
        let factor = self.multiplier.max(1.0).powi(attempt.min(64) as i32);
        let secs = self.initial_backoff.as_secs_f64() * factor;
        let capped = secs.min(self.max_backoff.as_secs_f64());
        if capped.is_finite() && capped >= 0.0 {
            Duration::from_secs_f64(capped)
        } else {
            self.max_backoff
        }
    }

    /// The backoff before retry number `attempt` with "equal jitter": uniformly random in
    /// `[nominal/2, nominal]`, so concurrent clients spread out but never retry immediately.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let nominal = self.nominal_backoff(attempt);
        let half = nominal / 2;
        let jitter_ms = half.as_millis().min(u128::from(u64::MAX)) as u64;
        let extra = if jitter_ms == 0 {
            0
        } else {
            rand::random_range(0..=jitter_ms)
        };
        half + Duration::from_millis(extra)
    }
}

/// Poll intervals while waiting for an asynchronous operation: 100 ms growing ×1.5 up to 2 s.
#[derive(Debug, Clone)]
pub(crate) struct PollSchedule {
    next: Duration,
}

impl PollSchedule {
    pub(crate) fn new() -> Self {
        Self {
            next: Duration::from_millis(100),
        }
    }

    /// The next interval to wait.
    pub(crate) fn next_interval(&mut self) -> Duration {
        let cur = self.next;
        self.next = (cur.mul_f64(1.5)).min(Duration::from_secs(2));
        cur
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::default();
        assert_eq!(p.nominal_backoff(0), Duration::from_millis(200));
        assert_eq!(p.nominal_backoff(1), Duration::from_millis(400));
        assert_eq!(p.nominal_backoff(3), Duration::from_millis(1600));
        assert_eq!(p.nominal_backoff(10), Duration::from_secs(5));
        assert_eq!(p.nominal_backoff(u32::MAX), Duration::from_secs(5));
    }

    #[test]
    fn jitter_stays_within_half_to_full() {
        let p = RetryPolicy::default();
        for attempt in 0..6 {
            let n = p.nominal_backoff(attempt);
            for _ in 0..50 {
                let b = p.backoff(attempt);
                assert!(b >= n / 2 && b <= n, "attempt {attempt}: {b:?} vs {n:?}");
            }
        }
    }

    #[test]
    fn poll_schedule_caps_at_two_seconds() {
        let mut s = PollSchedule::new();
        let v: Vec<_> = (0..12).map(|_| s.next_interval()).collect();
        assert_eq!(v[0], Duration::from_millis(100));
        assert!(v.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(*v.last().expect("non-empty"), Duration::from_secs(2));
    }
}

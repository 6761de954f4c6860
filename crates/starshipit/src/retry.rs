//! The retry policy, as a pure function of (attempt, outcome, jitter) so it can be
//! property-tested without a network or a clock.
//!
//! Only `GET /api/track` exists, so every request is safe to repeat: network failures and
//! 5xx answers are retried with capped exponential backoff and jitter; a 429 waits what the
//! gateway's `Retry-After` says (bounded), then retries.
//!
//! [`Outcome`] and `Retry-After` parsing come from `waybill-kit`, shared with every adapter;
//! the decision below is StarShipIT's own (a 429 without `Retry-After` waits at least 1 s,
//! jitter scales the backoff into `[½, 1]` of itself).

use std::time::Duration;

/// How a single attempt ended, as far as retrying is concerned (shared with every
/// adapter through the kit).
pub use waybill_kit::Outcome;

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Sleep this long, then try again.
    RetryAfter(Duration),
    /// Give up and report the last error.
    Stop,
}

/// When and how long to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included (default 3).
    pub max_attempts: u32,
    /// The first backoff delay before jitter (default 250 ms); doubled per attempt.
    pub base_delay: Duration,
    /// No backoff delay exceeds this (default 4 s).
    pub max_delay: Duration,
    /// The longest `Retry-After` the client will honour; a longer one stops retrying so the
    /// caller can decide (default 30 s).
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(4),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The decision after attempt number `attempt` (1-based) ended with `outcome`. `jitter`
    /// in `[0, 1]` scales the backoff between half and all of its nominal value (values
    /// outside are clamped), so concurrent callers spread out.
    ///
    /// ```
    /// use std::time::Duration;
    /// use waybill_starshipit::retry::{Decision, Outcome, RetryPolicy};
    /// let p = RetryPolicy::default();
    /// let busy = Outcome::Status { status: 429, retry_after: Some(Duration::from_secs(2)) };
    /// assert_eq!(p.decide(1, busy, 0.5), Decision::RetryAfter(Duration::from_secs(2)));
    /// assert_eq!(p.decide(1, Outcome::Status { status: 404, retry_after: None }, 0.5), Decision::Stop);
    /// assert_eq!(p.decide(3, Outcome::Network, 0.5), Decision::Stop);
    /// ```
    #[must_use]
    pub fn decide(&self, attempt: u32, outcome: Outcome, jitter: f64) -> Decision {
        if attempt >= self.max_attempts {
            return Decision::Stop;
        }
        match outcome {
            Outcome::Network => Decision::RetryAfter(self.backoff(attempt, jitter)),
            Outcome::Status { status: 429, retry_after: Some(wait) } => {
                if wait > self.max_retry_after {
                    Decision::Stop
                } else {
                    Decision::RetryAfter(wait)
                }
            }
            Outcome::Status { status: 429, retry_after: None } => {
                Decision::RetryAfter(self.backoff(attempt, jitter).max(Duration::from_secs(1)))
            }
            Outcome::Status { status, .. } if (500..=599).contains(&status) => {
                Decision::RetryAfter(self.backoff(attempt, jitter))
            }
            Outcome::Status { .. } => Decision::Stop,
        }
    }

    /// `base · 2^(attempt-1)`, capped at `max_delay`, scaled into `[½, 1]` of itself by jitter.
    #[must_use]
    pub fn backoff(&self, attempt: u32, jitter: f64) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        let nominal = self.base_delay.saturating_mul(1_u32 << exp).min(self.max_delay);
        let jitter = if jitter.is_finite() { jitter.clamp(0.0, 1.0) } else { 1.0 };
        nominal.mul_f64(0.5 + jitter / 2.0).min(self.max_delay)
    }
}

/// Reads a `Retry-After` header: delay-seconds only (the gateway never sends a date).
pub use waybill_kit::parse_retry_after_seconds as parse_retry_after;

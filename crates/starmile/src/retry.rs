//! The retry policy: a pure function from (attempt, request kind, outcome, jitter sample) to
//! "wait this long and try again" or "give up".
//!
//! Decisions, following Starmile's official SDK and the contract:
//! - [`RequestKind::Read`] (GETs and token requests) is retried on network errors, 429 and
//!   5xx.
//! - [`RequestKind::IdempotentCreate`] (order creation) is retried on the same outcomes
//!   **only because** Starmile is idempotent on `external_parent_id`: if the first attempt
//!   committed but its answer was lost, the retry answers `200 duplicate:true` with the
//!   original ids and nothing new is created. Tested end to end against the sandbox's
//!   "commit then time out" fault.
//! - [`RequestKind::Write`] (cancellation and anything else) is never retried.
//! - Other 4xx are never retried; a 401 is handled separately (one token refresh and one
//!   re-send) and does not consume an attempt.
//! - Delay: `base × 2^(n−1)` with ±`jitter` (20 %), capped at `max_delay` (5 s). A
//!   `Retry-After` replaces the computed delay; one longer than `max_retry_after` is handed
//!   to the caller as [`Error::RateLimited`](crate::Error::RateLimited) instead of sleeping.
//!
//! [`Outcome`] and [`parse_retry_after`] come from `waybill-kit` (shared with every
//! adapter, their tests live there); the decision below is Starmile's own.

use std::time::Duration;

/// How safe a request is to send twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestKind {
    /// Changes nothing (GET, token request): retried on transient failures.
    Read,
    /// Creates something, but the server deduplicates on a key the request carries (order
    /// creation, keyed on `external_parent_id`): retried like a read.
    IdempotentCreate,
    /// Changes something with no deduplication: never retried.
    Write,
}

/// How an attempt failed (shared with every adapter through the kit).
pub use waybill_kit::Outcome;

/// When and how long to wait before trying again. Pure: the random part of the jitter is
/// a parameter of [`RetryPolicy::decide`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Total attempts, the first included (3). `1` disables retries.
    pub max_attempts: u32,
    /// Delay before the second attempt (200 ms); doubles for each further attempt.
    pub base_delay: Duration,
    /// Cap on a computed delay (5 s).
    pub max_delay: Duration,
    /// Relative jitter, 0.0..=1.0 (0.2 = ±20 %).
    pub jitter: f64,
    /// The longest `Retry-After` the client sleeps through (30 s); longer ones end the call.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            jitter: 0.2,
            max_retry_after: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    #[must_use]
    pub fn never() -> Self {
        Self { max_attempts: 1, ..Self::default() }
    }

    /// Whether to try again after attempt number `attempt` (1-based) failed with `outcome`,
    /// and after how long. `jitter_sample` is a uniform random number in `0.0..=1.0`
    /// (values outside are clamped); `0.5` means no jitter.
    #[must_use]
    pub fn decide(
        &self,
        attempt: u32,
        kind: RequestKind,
        outcome: &Outcome,
        jitter_sample: f64,
    ) -> Option<Duration> {
        if kind == RequestKind::Write || attempt >= self.max_attempts || !outcome.is_transient() {
            return None;
        }
        if let Outcome::Status { retry_after: Some(wait), .. } = outcome {
            return (*wait <= self.max_retry_after).then_some(*wait);
        }
        Some(self.backoff(attempt, jitter_sample))
    }

    /// The computed delay after attempt `attempt` (1-based), before any `Retry-After`.
    #[must_use]
    pub fn backoff(&self, attempt: u32, jitter_sample: f64) -> Duration {
        let exponent = attempt.saturating_sub(1).min(30);
        let raw = self.base_delay.as_secs_f64() * f64::from(1u32 << exponent);
        let sample = if jitter_sample.is_nan() { 0.5 } else { jitter_sample.clamp(0.0, 1.0) };
        let jitter = self.jitter.clamp(0.0, 1.0);
        let jittered = raw * (1.0 + jitter * (2.0 * sample - 1.0));
        Duration::from_secs_f64(jittered.clamp(0.0, self.max_delay.as_secs_f64()))
    }
}

/// Decides whether a failed attempt is retried, given the outcome and the attempt number.
pub type RetryWhen = dyn Fn(&Outcome, u32) -> bool + Send + Sync;

/// A per-call retry override, the official SDK's `retry(times, sleep, when)`: unlike the
/// client's [`RetryPolicy`] it retries **any** call, writes included, because the caller
/// opted in for this call. Used through [`StarmileClient::retry`](crate::StarmileClient::retry).
///
/// Without [`Retry::when`] it retries transient outcomes (network errors, 429, 5xx); with
/// it, exactly the outcomes the callback accepts. A `Retry-After` still overrides the
/// computed delay, and one longer than the policy's `max_retry_after` ends the call.
#[derive(Clone)]
pub struct Retry {
    policy: RetryPolicy,
    when: Option<std::sync::Arc<RetryWhen>>,
}

impl std::fmt::Debug for Retry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Retry")
            .field("policy", &self.policy)
            .field("when", &self.when.as_ref().map(|_| "custom"))
            .finish()
    }
}

impl Retry {
    /// `times` attempts in total (3 = up to 2 retries), backing off from `base_delay`
    /// (doubling, ±20 % jitter, capped at 5 s).
    #[must_use]
    pub fn new(times: u32, base_delay: Duration) -> Self {
        Self::with_policy(RetryPolicy {
            max_attempts: times.max(1),
            base_delay,
            ..RetryPolicy::default()
        })
    }

    /// The same schedule as `policy`, applied to every kind of call.
    #[must_use]
    pub fn with_policy(policy: RetryPolicy) -> Self {
        Self { policy, when: None }
    }

    /// Replaces the default rule (transient outcomes) by `when(outcome, attempt)`.
    #[must_use]
    pub fn when(mut self, when: impl Fn(&Outcome, u32) -> bool + Send + Sync + 'static) -> Self {
        self.when = Some(std::sync::Arc::new(when));
        self
    }

    /// Whether to try again after attempt `attempt` (1-based) failed with `outcome`, and
    /// after how long; `jitter_sample` as in [`RetryPolicy::decide`].
    #[must_use]
    pub fn decide(&self, attempt: u32, outcome: &Outcome, jitter_sample: f64) -> Option<Duration> {
        if attempt >= self.policy.max_attempts {
            return None;
        }
        let wanted = match &self.when {
            Some(when) => when(outcome, attempt),
            None => outcome.is_transient(),
        };
        if !wanted {
            return None;
        }
        if let Outcome::Status { retry_after: Some(wait), .. } = outcome {
            return (*wait <= self.policy.max_retry_after).then_some(*wait);
        }
        Some(self.policy.backoff(attempt, jitter_sample))
    }
}

/// Parses a `Retry-After` header: delay-seconds (`"2"`, also `"1.5"`) or an HTTP date
/// relative to `now` (shared with every adapter through the kit).
pub use waybill_kit::parse_retry_after;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn outcome() -> impl Strategy<Value = Outcome> {
        prop_oneof![
            Just(Outcome::Network),
            (100u16..600, proptest::option::of(0u64..120)).prop_map(|(status, ra)| {
                Outcome::Status { status, retry_after: ra.map(Duration::from_secs) }
            }),
        ]
    }

    fn kind() -> impl Strategy<Value = RequestKind> {
        prop_oneof![
            Just(RequestKind::Read),
            Just(RequestKind::IdempotentCreate),
            Just(RequestKind::Write)
        ]
    }

    proptest! {
        #[test]
        fn only_transient_outcomes_of_retryable_requests_are_retried(
            attempt in 1u32..10, kind in kind(), outcome in outcome(), u in 0.0f64..=1.0
        ) {
            let p = RetryPolicy::default();
            let decision = p.decide(attempt, kind, &outcome, u);
            if decision.is_some() {
                prop_assert!(kind != RequestKind::Write);
                prop_assert!(attempt < 3);
                prop_assert!(outcome.is_transient());
            }
            if let Outcome::Status { status, .. } = outcome
                && (400..500).contains(&status) && status != 429 {
                    prop_assert_eq!(decision, None);
                }
        }

        #[test]
        fn transient_failures_get_exactly_three_attempts(kind in kind(), outcome in outcome(), u in 0.0f64..=1.0) {
            let p = RetryPolicy::default();
            let retryable = kind != RequestKind::Write && outcome.is_transient()
                && !matches!(outcome, Outcome::Status { retry_after: Some(d), .. } if d > p.max_retry_after);
            let attempts = (1..10).take_while(|a| p.decide(*a, kind, &outcome, u).is_some()).count() + 1;
            prop_assert_eq!(attempts, if retryable { 3 } else { 1 });
        }

        #[test]
        fn backoff_is_exponential_jittered_and_capped(attempt in 1u32..40, u in 0.0f64..=1.0) {
            let p = RetryPolicy::default();
            let d = p.backoff(attempt, u).as_secs_f64();
            let nominal = (0.2 * 2f64.powi(i32::try_from(attempt).unwrap() - 1)).min(1e12);
            prop_assert!(d <= 5.0 + 1e-9, "capped: {d}");
            prop_assert!(d >= (nominal * 0.8).min(5.0) - 1e-9, "{d} below -20% of {nominal}");
            prop_assert!(d <= nominal * 1.2 + 1e-9, "{d} above +20% of {nominal}");
        }

        #[test]
        fn retry_after_overrides_the_computed_delay(attempt in 1u32..3, secs in 0u64..=30, status in prop_oneof![Just(429u16), 500u16..600], u in 0.0f64..=1.0) {
            let p = RetryPolicy::default();
            let o = Outcome::Status { status, retry_after: Some(Duration::from_secs(secs)) };
            prop_assert_eq!(p.decide(attempt, RequestKind::Read, &o, u), Some(Duration::from_secs(secs)));
        }

        #[test]
        fn jitter_sample_is_total(u in proptest::num::f64::ANY, attempt in 0u32..=u32::MAX) {
            let d = RetryPolicy::default().backoff(attempt, u);
            prop_assert!(d <= Duration::from_secs(5));
        }
    }

    #[test]
    fn an_opted_in_retry_retries_writes_and_follows_its_callback() {
        let unavailable = Outcome::Status { status: 503, retry_after: None };
        let conflict = Outcome::Status { status: 409, retry_after: None };
        assert_eq!(RetryPolicy::default().decide(1, RequestKind::Write, &unavailable, 0.5), None);
        let r = Retry::new(3, Duration::from_millis(50));
        assert_eq!(r.decide(1, &unavailable, 0.5), Some(Duration::from_millis(50)));
        assert_eq!(r.decide(2, &unavailable, 0.5), Some(Duration::from_millis(100)));
        assert_eq!(r.decide(3, &unavailable, 0.5), None, "three attempts in all");
        assert_eq!(r.decide(1, &conflict, 0.5), None, "409 is not transient by default");
        let r = r.when(|o, _| matches!(o, Outcome::Status { status: 409, .. }));
        assert!(r.decide(1, &conflict, 0.5).is_some());
        assert_eq!(r.decide(1, &unavailable, 0.5), None, "the callback replaces the rule");
        let wait = Outcome::Status { status: 429, retry_after: Some(Duration::from_secs(2)) };
        assert_eq!(
            Retry::new(2, Duration::ZERO).decide(1, &wait, 0.5),
            Some(Duration::from_secs(2))
        );
    }

    #[test]
    fn concrete_schedule_matches_the_sdk_defaults() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(1, 0.5), Duration::from_millis(200));
        assert_eq!(p.backoff(2, 0.5), Duration::from_millis(400));
        assert_eq!(p.backoff(3, 0.5), Duration::from_millis(800));
        assert_eq!(p.backoff(10, 0.5), Duration::from_secs(5));
        assert_eq!(p.backoff(1, 1.0), Duration::from_millis(240));
        assert_eq!(p.backoff(1, 0.0), Duration::from_millis(160));
        let long = Outcome::Status { status: 429, retry_after: Some(Duration::from_secs(31)) };
        assert_eq!(p.decide(1, RequestKind::Read, &long, 0.5), None);
        assert_eq!(RetryPolicy::never().decide(1, RequestKind::Read, &Outcome::Network, 0.5), None);
    }
}

//! How long an imported order keeps trying: a deadline-based retry budget, as a value.
//!
//! A carrier client already retries a few times on its own; what it cannot know is how long
//! the *import* may wait. Under load (a burst of 429s, a gateway restarting) three quick
//! attempts end too early, and the order would be reported as failed although nothing needs
//! fixing. So each order gets a budget of time (`deadline`, measured from its first attempt)
//! instead of a count: transient failures — rate limiting, 5xx, a dropped connection, an
//! attempt that timed out — are retried until the next wait would end past the deadline.
//! A `Retry-After` is honoured exactly (never shortened); without one the wait backs off
//! exponentially with jitter. What is left when the budget is spent is reported as "not yet"
//! (re-run), never as refused.
//!
//! Retrying order creation is safe only because the carrier is idempotent on the reference:
//! an attempt that committed but whose answer was lost (the timeout case) is answered by the
//! retry as a replay of the original order, never a second one.

use std::time::Duration;

use waybill_domain::CarrierError;

/// A transient failure, as the budget sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transient {
    /// The carrier asked us to slow down (429), with the wait it asked for when it said.
    RateLimited {
        /// The carrier's `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// The carrier or a gateway in front of it failed (5xx, an HTML error page).
    Unavailable,
    /// No answer: refused, reset or dropped connection.
    Network,
    /// The attempt took longer than [`RetryBudget::attempt_timeout`]; it may have committed,
    /// which the retry (a replay) resolves.
    TimedOut,
}

impl Transient {
    /// The transient reading of a carrier error, or `None` when retrying cannot help.
    #[must_use]
    pub fn of(e: &CarrierError) -> Option<Self> {
        match e {
            CarrierError::RateLimited { retry_after } => {
                Some(Self::RateLimited { retry_after: *retry_after })
            }
            CarrierError::Unavailable { .. } => Some(Self::Unavailable),
            CarrierError::Transport { .. } => Some(Self::Network),
            _ => None,
        }
    }

    /// A short label for reports (`429`, `5xx`, `network`, `timeout`).
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::RateLimited { .. } => "429",
            Self::Unavailable => "5xx",
            Self::Network => "network",
            Self::TimedOut => "timeout",
        }
    }
}

/// How long one order may keep retrying, and how it spaces its attempts.
///
/// ```
/// use std::time::Duration;
/// use waybill_engine::import::{RetryBudget, Transient};
/// let budget = RetryBudget { deadline: Duration::from_secs(10), ..RetryBudget::default() };
/// let asked = Transient::RateLimited { retry_after: Some(Duration::from_secs(2)) };
/// // A Retry-After is honoured exactly while it fits in the budget...
/// assert_eq!(budget.next_wait(asked, 0, Duration::from_secs(1), 0.5), Some(Duration::from_secs(2)));
/// // ...and ends the order's attempts (as "not yet") when it does not.
/// assert_eq!(budget.next_wait(asked, 3, Duration::from_secs(9), 0.5), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryBudget {
    /// How long after its first attempt an order may still be retried.
    pub deadline: Duration,
    /// The longest one attempt may take before it is abandoned and retried.
    pub attempt_timeout: Duration,
    /// The first backoff without a `Retry-After`; doubles with each retry.
    pub base_delay: Duration,
    /// The longest computed backoff (a `Retry-After` may be longer).
    pub max_delay: Duration,
}

impl Default for RetryBudget {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(120),
            attempt_timeout: Duration::from_secs(60),
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
        }
    }
}

impl RetryBudget {
    /// The wait before the next attempt after `failure`, when `retries` retries were already
    /// made and `elapsed` has passed since the first attempt; `None` when the wait would end
    /// past the deadline. `jitter` is a uniform sample in `[0, 1]` (clamped; NaN counts as
    /// 0.5).
    #[must_use]
    pub fn next_wait(
        &self,
        failure: Transient,
        retries: u32,
        elapsed: Duration,
        jitter: f64,
    ) -> Option<Duration> {
        let wait = match failure {
            Transient::RateLimited { retry_after: Some(asked) } => asked,
            _ => self.backoff(retries, jitter),
        };
        (elapsed.saturating_add(wait) < self.deadline).then_some(wait)
    }

    /// The computed backoff after `retries` retries: `base × 2^retries`, capped at
    /// `max_delay`, then scaled by a factor in `[0.5, 1]` from `jitter` ("equal jitter"), so
    /// orders that failed together do not all come back together.
    #[must_use]
    pub fn backoff(&self, retries: u32, jitter: f64) -> Duration {
        let exponent = retries.min(30);
        let raw = self.base_delay.as_secs_f64() * f64::from(1u32 << exponent);
        let capped = raw.min(self.max_delay.as_secs_f64());
        let sample = if jitter.is_nan() { 0.5 } else { jitter.clamp(0.0, 1.0) };
        Duration::from_secs_f64(capped * (0.5 + sample / 2.0))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    fn transient() -> impl Strategy<Value = Transient> {
        prop_oneof![
            proptest::option::of(0u64..120)
                .prop_map(|s| Transient::RateLimited { retry_after: s.map(Duration::from_secs) }),
            Just(Transient::Unavailable),
            Just(Transient::Network),
            Just(Transient::TimedOut),
        ]
    }

    proptest! {
        /// No wait ever ends past the deadline, and a Retry-After that fits is never changed.
        #[test]
        fn waits_fit_the_deadline_and_honour_retry_after(
            failure in transient(), retries in 0u32..64, elapsed_ms in 0u64..200_000,
            deadline_s in 1u64..300, jitter in proptest::num::f64::ANY,
        ) {
            let budget = RetryBudget { deadline: Duration::from_secs(deadline_s), ..RetryBudget::default() };
            let elapsed = Duration::from_millis(elapsed_ms);
            if let Some(wait) = budget.next_wait(failure, retries, elapsed, jitter) {
                prop_assert!(elapsed + wait < budget.deadline);
                if let Transient::RateLimited { retry_after: Some(asked) } = failure {
                    prop_assert_eq!(wait, asked);
                } else {
                    prop_assert!(wait <= budget.max_delay);
                }
            }
            // Early on, with room left, a transient failure is always retried.
            if elapsed_ms == 0 && deadline_s > 11 && !matches!(failure, Transient::RateLimited { retry_after: Some(_) }) {
                prop_assert!(budget.next_wait(failure, retries, elapsed, jitter).is_some());
            }
        }

        /// Backoff doubles, is capped, and jitter only ever shortens it by up to half.
        #[test]
        fn backoff_is_exponential_capped_and_jittered(retries in 0u32..40, jitter in 0.0f64..=1.0) {
            let b = RetryBudget::default();
            let d = b.backoff(retries, jitter).as_secs_f64();
            let nominal = (0.25 * 2f64.powi(i32::try_from(retries).unwrap())).min(10.0);
            prop_assert!(d <= nominal + 1e-9 && d >= nominal / 2.0 - 1e-9, "{d} vs {nominal}");
        }
    }

    #[test]
    fn carrier_errors_split_into_transient_and_not() {
        let e = CarrierError::RateLimited { retry_after: Some(Duration::from_secs(1)) };
        assert_eq!(
            Transient::of(&e),
            Some(Transient::RateLimited { retry_after: Some(Duration::from_secs(1)) })
        );
        let e = CarrierError::Unavailable { status: 502, message: "<html>".into() };
        assert_eq!(Transient::of(&e), Some(Transient::Unavailable));
        let e = CarrierError::Transport { message: "reset".into() };
        assert_eq!(Transient::of(&e).map(Transient::label), Some("network"));
        let e = CarrierError::Validation { message: "bad".into(), fields: Default::default() };
        assert_eq!(Transient::of(&e), None);
    }

    #[test]
    fn a_budget_of_twenty_seconds_rides_out_a_burst_of_429s() {
        let budget = RetryBudget { deadline: Duration::from_secs(20), ..RetryBudget::default() };
        let asked = Transient::RateLimited { retry_after: Some(Duration::from_secs(1)) };
        let mut elapsed = Duration::ZERO;
        let mut retries = 0;
        while let Some(wait) = budget.next_wait(asked, retries, elapsed, 0.5) {
            elapsed += wait;
            retries += 1;
        }
        assert_eq!(retries, 19, "one-second waits until the twentieth would reach the deadline");
    }
}

//! The vocabulary every adapter's retry policy is written in: how an attempt failed
//! ([`Outcome`]) and where the random part of the backoff comes from ([`Jitter`]).
//!
//! The policies themselves (which requests are retried, the backoff curve, how a
//! `Retry-After` is bounded) are each carrier's contract and stay in the adapters; they
//! take an [`Outcome`] and a jitter sample and stay pure functions.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

/// How an attempt failed, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// No HTTP answer: connection refused or dropped, timeout, a body cut short.
    Network,
    /// An HTTP answer with a non-success status.
    Status {
        /// The HTTP status code.
        status: u16,
        /// The parsed `Retry-After`, when sent and readable.
        retry_after: Option<Duration>,
    },
}

impl Outcome {
    /// True for the outcomes worth another attempt: network errors, 429 and 5xx.
    ///
    /// ```
    /// use waybill_kit::Outcome;
    /// assert!(Outcome::Network.is_transient());
    /// assert!(Outcome::Status { status: 503, retry_after: None }.is_transient());
    /// assert!(!Outcome::Status { status: 404, retry_after: None }.is_transient());
    /// ```
    #[must_use]
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Network => true,
            Self::Status { status, .. } => *status == 429 || (500..=599).contains(status),
        }
    }
}

/// A lock-free source of uniform samples in `[0, 1)` for backoff jitter (splitmix64 over
/// an atomic counter). Statistical quality is irrelevant here; what matters is that
/// concurrent callers get different samples, so their retries spread out, without a random
/// number generator dependency.
#[derive(Debug)]
pub struct Jitter {
    state: AtomicU64,
}

impl Jitter {
    /// A source starting from `seed` (the same seed gives the same samples).
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self { state: AtomicU64::new(seed) }
    }

    /// A source seeded from the system clock, so two processes (or two clients) differ.
    #[must_use]
    pub fn from_clock() -> Self {
        let seed =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| {
                #[allow(clippy::cast_possible_truncation)] // the low bits are the varying ones
                let nanos = d.as_nanos() as u64;
                nanos
            });
        Self::new(seed)
    }

    /// The next sample, uniform in `[0, 1)`.
    #[must_use]
    pub fn sample(&self) -> f64 {
        let x = self.state.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        #[allow(clippy::cast_precision_loss)] // 53 bits of randomness is plenty for jitter
        let sample = (z >> 11) as f64 / (1u64 << 53) as f64;
        sample
    }
}

impl Default for Jitter {
    fn default() -> Self {
        Self::from_clock()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn samples_are_in_the_unit_interval(seed in any::<u64>()) {
            let jitter = Jitter::new(seed);
            for _ in 0..16 {
                let u = jitter.sample();
                prop_assert!((0.0..1.0).contains(&u), "{u}");
            }
        }

        #[test]
        fn only_network_429_and_5xx_are_transient(status in 100u16..600) {
            let o = Outcome::Status { status, retry_after: None };
            prop_assert_eq!(o.is_transient(), status == 429 || status >= 500);
        }
    }

    #[test]
    fn consecutive_samples_differ_and_seeds_repeat() {
        let a = Jitter::new(7);
        let b = Jitter::new(7);
        let (a1, a2) = (a.sample(), a.sample());
        assert_ne!(a1, a2);
        assert_eq!(a1, b.sample());
        assert!(Outcome::Network.is_transient());
    }
}

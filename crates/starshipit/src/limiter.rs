//! The client-side rate limiter per subscription key. StarShipIT counts requests per
//! `Ocp-Apim-Subscription-Key`, so every client in the process that uses the same key must
//! draw from one budget: limiters live in a process-wide registry keyed by a SHA-256 of the
//! key (the key itself is never stored there) and are shared by every clone.
//!
//! The quota is one request per `1/rate · 1.1` with a burst of one: requests leave evenly
//! spaced and 10 % slower than the server's limit, so scheduling jitter between leaving the
//! client and reaching the gateway cannot put more than `rate` requests into any one-second
//! window on the server.

use std::{
    collections::HashMap,
    num::NonZeroU32,
    sync::{
        Arc, Mutex, OnceLock, Weak,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// Spacing margin over the server's limit (see the module docs).
const MARGIN: f64 = 1.1;

/// One subscription key's limiter and its wait counter.
pub(crate) struct KeyLimiter {
    limiter: DefaultDirectRateLimiter,
    rate: NonZeroU32,
    waits: AtomicU64,
}

impl KeyLimiter {
    fn new(rate: NonZeroU32) -> Self {
        let period = Duration::from_secs_f64(MARGIN / f64::from(rate.get()));
        // `with_period` only fails for a zero period, which a finite rate cannot produce.
        let quota = Quota::with_period(period).unwrap_or_else(|| Quota::per_second(rate));
        Self { limiter: RateLimiter::direct(quota), rate, waits: AtomicU64::new(0) }
    }

    /// Waits until a request may leave; counts the calls that had to wait.
    pub async fn acquire(&self) {
        if self.limiter.check().is_err() {
            self.waits.fetch_add(1, Ordering::Relaxed);
            self.limiter.until_ready().await;
        }
    }

    /// How many acquisitions had to wait.
    pub fn waits(&self) -> u64 {
        self.waits.load(Ordering::Relaxed)
    }

    /// The requests per second this limiter was built for.
    pub fn rate(&self) -> NonZeroU32 {
        self.rate
    }
}

type Registry = Mutex<HashMap<[u8; 32], Weak<KeyLimiter>>>;

/// The limiter of this subscription key, shared with every live client using the same key.
/// When one already exists with another rate, the existing one wins (two budgets for one key
/// would let the process exceed the key's limit) and a warning is logged.
pub(crate) fn for_key(key: &SecretString, rate: NonZeroU32) -> Arc<KeyLimiter> {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    let digest: [u8; 32] = Sha256::digest(key.expose_secret().as_bytes()).into();
    let registry = REGISTRY.get_or_init(Registry::default);
    // A poisoned lock only means another thread panicked mid-insert; the map is still valid.
    let mut map = registry.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    map.retain(|_, weak| weak.strong_count() > 0);
    if let Some(existing) = map.get(&digest).and_then(Weak::upgrade) {
        if existing.rate != rate {
            tracing::warn!(
                existing = existing.rate.get(),
                requested = rate.get(),
                "a StarShipIT client already paces this subscription key at another rate; sharing it"
            );
        }
        return existing;
    }
    let limiter = Arc::new(KeyLimiter::new(rate));
    map.insert(digest, Arc::downgrade(&limiter));
    limiter
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_key_shares_other_key_does_not() {
        let rate = NonZeroU32::new(5).unwrap();
        let a = for_key(&SecretString::from("limiter-test-key-a"), rate);
        let b = for_key(&SecretString::from("limiter-test-key-a"), NonZeroU32::new(9).unwrap());
        let c = for_key(&SecretString::from("limiter-test-key-c"), rate);
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(b.rate().get(), 5);
        assert!(!Arc::ptr_eq(&a, &c));
    }

    #[tokio::test]
    async fn second_immediate_call_waits() {
        let l = for_key(&SecretString::from("limiter-test-key-waits"), NonZeroU32::MIN);
        l.acquire().await;
        l.acquire().await;
        assert_eq!(l.waits(), 1);
    }
}

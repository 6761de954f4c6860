//! The client-side rate limiter per subscription key. StarShipIT counts requests per
//! `Ocp-Apim-Subscription-Key`, so every client in the process that uses the same key must
//! draw from one budget: limiters live in a process-wide registry keyed by a SHA-256 of the
//! key (the key itself is never stored there) and are shared by every clone.
//!
//! The pacing rule is the gateway's own counting rule turned around. StarShipIT's gateway
//! (Azure API Management, emulated by the sandbox) admits a request when fewer than `rate`
//! requests were accepted in the one second before it **arrived**. The client cannot see
//! arrivals, but it knows each request's arrival lies between the moment it left and the
//! moment its answer came back. So a request may leave only while fewer than `rate` requests
//! are in flight or were answered less than one second ago ([`Window`]). Whatever the network
//! does to individual requests, no one-second window at the gateway then holds more than
//! `rate` arrivals (proved by the property test below, on a fake clock, against the sandbox's
//! gateway rule), and the key runs at `rate / (1 s + latency)`: on a short round trip, all
//! but a fraction of a percent of its limit. A safety margin (the former 10 %) is not needed.
//!
//! This is hand-written rather than `governor`: a GCRA spaces *departures*, so it needs a
//! margin to absorb latency jitter, where this window counts what the gateway counts.

use std::{
    collections::{HashMap, VecDeque},
    num::NonZeroU32,
    sync::{
        Arc, Mutex, OnceLock, PoisonError, Weak,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

/// The gateway's window.
const WINDOW: Duration = Duration::from_secs(1);

/// The pacing state over a clock, without waiting: what [`KeyLimiter`] runs under a lock and
/// the property test drives on a fake one.
#[derive(Debug)]
pub(crate) struct Window {
    capacity: usize,
    in_flight: usize,
    /// When each recent answer came back, oldest first (dropped once a second old).
    answered: VecDeque<Instant>,
}

impl Window {
    pub(crate) fn new(capacity: NonZeroU32) -> Self {
        let capacity = usize::try_from(capacity.get()).unwrap_or(usize::MAX);
        Self { capacity, in_flight: 0, answered: VecDeque::new() }
    }

    /// Takes a slot for a request leaving `now`, or says when to try again: the moment the
    /// oldest recent answer is a second old (`None`: when an in-flight request is answered).
    pub(crate) fn try_take(&mut self, now: Instant) -> Result<(), Option<Instant>> {
        while self.answered.front().is_some_and(|t| now.saturating_duration_since(*t) >= WINDOW) {
            self.answered.pop_front();
        }
        if self.in_flight + self.answered.len() < self.capacity {
            self.in_flight += 1;
            Ok(())
        } else {
            Err(self.answered.front().map(|t| *t + WINDOW))
        }
    }

    /// The request that took a slot was answered (or failed) at `now`.
    pub(crate) fn release(&mut self, now: Instant) {
        self.in_flight = self.in_flight.saturating_sub(1);
        // `now` is read under the same lock as every other release, so this stays sorted.
        self.answered.push_back(now);
    }
}

/// One subscription key's limiter and its wait counter.
pub(crate) struct KeyLimiter {
    window: Mutex<Window>,
    released: Notify,
    rate: NonZeroU32,
    waits: AtomicU64,
}

/// A request's slot: hold it until the answer is in; dropping it releases the slot.
pub(crate) struct Permit<'a> {
    limiter: &'a KeyLimiter,
    /// How long the acquisition waited (`None`: it did not).
    waited: Option<Duration>,
}

impl Permit<'_> {
    /// How long getting this slot waited for the limiter (`None` when it was free at once).
    pub fn waited(&self) -> Option<Duration> {
        self.waited
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut window = self.limiter.window.lock().unwrap_or_else(PoisonError::into_inner);
        window.release(Instant::now());
        drop(window);
        self.limiter.released.notify_waiters();
    }
}

impl KeyLimiter {
    fn new(rate: NonZeroU32) -> Self {
        Self {
            window: Mutex::new(Window::new(rate)),
            released: Notify::new(),
            rate,
            waits: AtomicU64::new(0),
        }
    }

    /// Waits until a request may leave; counts the calls that had to wait. Hold the permit
    /// until the answer has arrived.
    pub async fn acquire(&self) -> Permit<'_> {
        let started = Instant::now();
        let mut waited = false;
        loop {
            // Registered before the check, so a release between the check and the wait is
            // not missed.
            let released = self.released.notified();
            let next = {
                let mut window = self.window.lock().unwrap_or_else(PoisonError::into_inner);
                match window.try_take(Instant::now()) {
                    Ok(()) => {
                        let waited = waited.then(|| started.elapsed());
                        return Permit { limiter: self, waited };
                    }
                    Err(next) => next,
                }
            };
            if !waited {
                waited = true;
                self.waits.fetch_add(1, Ordering::Relaxed);
            }
            match next {
                Some(at) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(at.into()) => {}
                        () = released => {}
                    }
                }
                None => released.await,
            }
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
    let mut map = registry.lock().unwrap_or_else(PoisonError::into_inner);
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
    async fn a_call_waits_until_the_previous_answer_is_a_second_old() {
        let l = for_key(&SecretString::from("limiter-test-key-waits"), NonZeroU32::MIN);
        let first = l.acquire().await;
        assert_eq!(first.waited(), None, "a free slot is taken at once");
        let answered = Instant::now();
        drop(first);
        let second = l.acquire().await;
        assert_eq!(l.waits(), 1);
        assert!(answered.elapsed() >= WINDOW, "{:?}", answered.elapsed());
        // The permit says how long it waited: about the rest of the window.
        let waited = second.waited().expect("the second call waited");
        assert!(waited >= WINDOW - Duration::from_millis(50), "{waited:?}");
    }

    /// A fake-clock run: `workers` send back to back through the window, request `i` taking
    /// `latency_ms` to answer and reaching the gateway `arrival_pct` % of the way through.
    /// Returns the send times and the arrival times.
    fn simulate(
        rate: NonZeroU32,
        workers: usize,
        requests: &[(u64, u64)],
    ) -> (Vec<Duration>, Vec<Duration>) {
        use std::{cmp::Reverse, collections::BinaryHeap};
        let base = Instant::now();
        let mut window = Window::new(rate);
        let mut ready: BinaryHeap<Reverse<(Duration, usize)>> =
            (0..workers).map(|w| Reverse((Duration::ZERO, w))).collect();
        let mut answers: BinaryHeap<Reverse<(Duration, usize)>> = BinaryHeap::new();
        let mut blocked = Vec::new();
        let (mut sends, mut arrivals) = (Vec::new(), Vec::new());
        while sends.len() < requests.len() {
            let next_ready = ready.peek().map(|r| r.0.0);
            let next_answer = answers.peek().map(|a| a.0.0);
            // Answers first at equal times: a release never comes later than it happened.
            if next_answer.is_some_and(|a| next_ready.is_none_or(|r| a <= r)) {
                let Some(Reverse((at, worker))) = answers.pop() else { break };
                window.release(base + at);
                ready.push(Reverse((at, worker)));
                ready.extend(blocked.drain(..).map(|w| Reverse((at, w))));
                continue;
            }
            let Some(Reverse((now, worker))) = ready.pop() else { break };
            match window.try_take(base + now) {
                Ok(()) => {
                    let (latency_ms, arrival_pct) = requests[sends.len()];
                    let latency = Duration::from_millis(latency_ms);
                    sends.push(now);
                    arrivals.push(now + latency.mul_f64(arrival_pct as f64 / 100.0));
                    answers.push(Reverse((now + latency, worker)));
                }
                Err(Some(at)) => ready.push(Reverse((at - base, worker))),
                Err(None) => blocked.push(worker),
            }
        }
        arrivals.sort();
        (sends, arrivals)
    }

    #[cfg(feature = "sandbox")]
    proptest::proptest! {
        /// Whatever the latencies and wherever inside its round trip each request reaches the
        /// gateway, the sandbox's gateway rule (the real gateway's) never refuses one.
        #[test]
        fn the_gateway_never_sees_more_than_the_rate_in_any_second(
            production in proptest::prelude::any::<bool>(),
            workers in 1usize..40,
            requests in proptest::collection::vec((0u64..1500, 0u64..=100), 1..300),
        ) {
            use crate::sandbox::gateway::{Tier, Windows};
            let tier = if production { Tier::Production } else { Tier::Developer };
            let rate = NonZeroU32::new(u32::try_from(tier.per_second()).unwrap()).unwrap();
            let (_, arrivals) = simulate(rate, workers, &requests);
            let base = Instant::now();
            let mut gateway = Windows::default();
            for (i, at) in arrivals.iter().enumerate() {
                proptest::prop_assert_eq!(gateway.admit("key", tier, base + *at), Ok(()), "arrival {} at {:?}", i, at);
            }
        }
    }

    #[test]
    fn a_short_round_trip_runs_the_key_at_its_limit() {
        // 20/s, 2 ms round trips, enough workers to keep every slot busy, ten seconds.
        let rate = NonZeroU32::new(20).unwrap();
        let (sends, _) = simulate(rate, 40, &[(2, 50); 400]);
        let in_ten_seconds = sends.iter().filter(|t| **t < Duration::from_secs(10)).count();
        let ratio = in_ten_seconds as f64 / 200.0;
        assert!(
            ratio >= 0.98,
            "{in_ten_seconds} requests in 10 s at 20/s: {ratio:.3} of the limit"
        );
        assert!(in_ten_seconds <= 200, "never above the limit: {in_ten_seconds}");
    }
}

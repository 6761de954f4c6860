//! Helpers shared by the integration tests: fixtures and loopback clients.
#![allow(dead_code, clippy::unwrap_used)]

use std::{num::NonZeroU32, sync::atomic::AtomicU64, time::Duration};

use waybill_domain::{TrackQuery, TrackingNumber};
use waybill_starshipit::{ClientBuilder, StarshipitClient, retry::RetryPolicy};

/// A fixture's text (copied from the shared contracts into `tests/fixtures`).
pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// A subscription key no other test in the process uses, so limiters are not shared.
pub fn unique_key(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{prefix}-{}-{n}", std::process::id())
}

/// A builder with an unthrottled limiter and quick retries, for tests that are not about
/// pacing.
pub fn fast(base_url: &str, api_key: &str, subscription_key: &str) -> ClientBuilder {
    StarshipitClient::builder(
        base_url,
        api_key.to_owned().into(),
        subscription_key.to_owned().into(),
    )
    .rate_limit_per_second(NonZeroU32::new(1000).unwrap())
    .retry_policy(quick_retries())
}

/// Three attempts with millisecond backoff.
pub fn quick_retries() -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        ..RetryPolicy::default()
    }
}

pub fn by_number(n: &str) -> TrackQuery {
    TrackQuery::TrackingNumber(TrackingNumber::parse(n).unwrap())
}

pub fn by_order(n: &str) -> TrackQuery {
    TrackQuery::OrderNumber(n.to_owned())
}

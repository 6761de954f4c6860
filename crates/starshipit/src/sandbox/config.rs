//! The sandbox's knobs (clock, answer shapes, faults, webhooks) and the counters a test
//! reads back.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use jiff::Timestamp;

/// The default `/track` wall-clock zone: where StarShipIT's carriers (Australia Post, DHL
/// Express AU, CouriersPlease) scan parcels.
pub const DEFAULT_WALL_CLOCK_ZONE: &str = "Australia/Sydney";

/// How the sandbox behaves. Everything random is drawn from `seed`, so two sandboxes with
/// the same config answer the same way.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Seed of every random choice: parcel plans and fault draws.
    pub seed: u64,
    /// Simulated seconds per real second (1.0 = real time; 3600.0 = an hour per second).
    pub time_scale: f64,
    /// The simulated time when the sandbox starts.
    pub epoch: Timestamp,
    /// The IANA zone `/track` wall-clock times are rendered in. Real answers carry the
    /// carrier's local wall-clock time without an offset, so the default is
    /// [`DEFAULT_WALL_CLOCK_ZONE`] (an Australian carrier's), never UTC.
    pub wall_clock_zone: String,
    /// Answer `results` as an array (one newer client library reads that shape); by default
    /// an object, what seven public clients read.
    pub results_as_array: bool,
    /// Answer "not found" as HTTP 404 instead of 200 with `success:false` (both with
    /// `errors`).
    pub not_found_as_404: bool,
    /// Plan a first leg for a tracking number seen for the first time (created "now"). Off
    /// by default: like the real API, a number no account shipped is not found.
    pub plan_unknown: bool,
    /// Merchant accounts (one API key each) under the subscription keys, at least 1. A
    /// parcel belongs to the account that registered it and is not found with another
    /// account's key; the spec's sample parcel is visible to every account.
    pub accounts: usize,
    /// Injected failures (off by default).
    pub faults: Faults,
    /// Where to push signed tracking webhooks, if anywhere.
    pub webhook: Option<WebhookTarget>,
    /// The first account's API key; random when `None` (the other accounts' keys are random).
    pub api_key: Option<String>,
    /// The developer-tier subscription key (2 requests/s); random when `None`.
    pub developer_subscription_key: Option<String>,
    /// The production-tier subscription key (20 requests/s); random when `None`.
    pub production_subscription_key: Option<String>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            time_scale: 1.0,
            epoch: Timestamp::now(),
            wall_clock_zone: DEFAULT_WALL_CLOCK_ZONE.into(),
            results_as_array: false,
            not_found_as_404: false,
            plan_unknown: false,
            accounts: 1,
            faults: Faults::default(),
            webhook: None,
            api_key: None,
            developer_subscription_key: None,
            production_subscription_key: None,
        }
    }
}

/// Injected failures, drawn per request (after the gateway's own checks) from the seed.
/// Rates are probabilities in `[0, 1]`; they are tried in the order 429, 500, HTML 502.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Share of requests answered 429 with `Retry-After: 1` (a burst from another tenant).
    pub rate_429: f64,
    /// Share answered 500 `{"success":false,"errors":[{"message":"General Exception",…}]}`.
    pub rate_500: f64,
    /// Share answered 502 with an HTML page, as a gateway does.
    pub rate_html_502: f64,
    /// Delay added before every answer.
    pub latency: Duration,
}

/// Where the webhook emitter posts, and the secret it signs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookTarget {
    /// The receiver's URL.
    pub url: String,
    /// The signing secret; without one no `X-Starshipit-Signature` is sent.
    pub secret: Option<String>,
}

/// What the sandbox has seen and sent so far.
#[derive(Debug, Clone, Default)]
pub struct Counters {
    /// Requests to `/api/track`, whatever their answer.
    pub requests: u64,
    /// 429 answers sent (gateway limit and injected).
    pub rate_limited: u64,
    /// Injected faults (429, 500, 502) sent.
    pub faults_injected: u64,
    /// Arrival times per subscription key (known keys only), in arrival order.
    pub arrivals: HashMap<String, Vec<Instant>>,
    /// Distinct webhook payloads emitted.
    pub webhooks_sent: u64,
    /// Webhook POSTs made, retries included.
    pub webhook_attempts: u64,
    /// Webhook payloads acknowledged with 200.
    pub webhooks_acked: u64,
}

impl Counters {
    /// The most arrivals for `key` inside any window of length `window` (sliding, half-open:
    /// two arrivals exactly `window` apart are in different windows).
    #[must_use]
    pub fn max_arrivals_in_window(&self, key: &str, window: Duration) -> usize {
        let Some(times) = self.arrivals.get(key) else { return 0 };
        let mut sorted = times.clone();
        sorted.sort_unstable();
        let mut best = 0;
        let mut start = 0;
        for end in 0..sorted.len() {
            while sorted[end].duration_since(sorted[start]) >= window {
                start += 1;
            }
            best = best.max(end - start + 1);
        }
        best
    }
}

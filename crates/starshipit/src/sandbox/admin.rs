//! The sandbox's admin route, `GET /_sandbox/counters`: what the sandbox has seen (the
//! [`Counters`] snapshot) and the faults in force, as JSON, for integrators testing their own
//! client under faults. No auth (the sandbox listens on loopback only); outside `/api`, so the
//! gateway, its rate limits and the faults never apply to it, and reading it counts nothing.

use std::sync::Arc;

use axum::{Json, extract::State, response::IntoResponse};
use serde::Serialize;

use super::{Counters, Faults, Shared, lock};

/// Where the admin route is served.
pub const COUNTERS_PATH: &str = "/_sandbox/counters";

/// The JSON of `GET /_sandbox/counters`.
#[derive(Debug, Serialize)]
struct CountersView {
    /// Requests to `/api/track`, whatever their answer.
    requests: u64,
    /// 429 answers sent (gateway limit and injected).
    rate_limited: u64,
    /// Injected faults (429, 500, 502) sent.
    faults_injected: u64,
    /// Requests that passed the subscription-key check, every key (per key only in Rust:
    /// the keys are credentials).
    arrivals: u64,
    /// Distinct webhook payloads emitted.
    webhooks_sent: u64,
    /// Webhook POSTs made, retries included.
    webhook_attempts: u64,
    /// Webhook payloads acknowledged with 200.
    webhooks_acked: u64,
    /// The faults in force.
    faults: FaultsView,
}

/// [`Faults`] with the latency in milliseconds.
#[derive(Debug, Serialize)]
struct FaultsView {
    rate_429: f64,
    rate_500: f64,
    rate_html_502: f64,
    latency_ms: u128,
}

impl CountersView {
    fn new(c: &Counters, faults: &Faults) -> Self {
        Self {
            requests: c.requests,
            rate_limited: c.rate_limited,
            faults_injected: c.faults_injected,
            arrivals: c.arrivals.values().map(|a| a.len() as u64).sum(),
            webhooks_sent: c.webhooks_sent,
            webhook_attempts: c.webhook_attempts,
            webhooks_acked: c.webhooks_acked,
            faults: FaultsView {
                rate_429: faults.rate_429,
                rate_500: faults.rate_500,
                rate_html_502: faults.rate_html_502,
                latency_ms: faults.latency.as_millis(),
            },
        }
    }
}

/// `GET /_sandbox/counters`.
pub(super) async fn counters(State(s): State<Arc<Shared>>) -> impl IntoResponse {
    let counters = lock(&s.counters).clone();
    let faults = lock(&s.faults).clone();
    Json(CountersView::new(&counters, &faults))
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::super::{Faults, Sandbox, SandboxConfig};

    #[tokio::test]
    async fn the_counters_route_reports_injected_answers_and_the_faults() {
        let faults = Faults { rate_500: 1.0, ..Faults::default() };
        let sandbox =
            Sandbox::start(SandboxConfig { faults, ..SandboxConfig::default() }).await.unwrap();
        let http = reqwest::Client::new();
        for _ in 0..2 {
            let r = http
                .get(format!("{}/api/track?tracking_number=0000000000", sandbox.base_url()))
                .header("Ocp-Apim-Subscription-Key", sandbox.production_subscription_key())
                .header("StarShipIT-Api-Key", sandbox.api_key())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 500);
        }
        for _ in 0..2 {
            let url = format!("{}{}", sandbox.base_url(), super::COUNTERS_PATH);
            let view: Value = http.get(url).send().await.unwrap().json().await.unwrap();
            assert_eq!(
                (view["requests"].as_u64(), view["faults_injected"].as_u64()),
                (Some(2), Some(2)),
                "{view}"
            );
            assert_eq!(view["arrivals"], 2);
            assert_eq!(view["faults"]["rate_500"], 1.0);
            let text = view.to_string();
            assert!(
                !text.contains(sandbox.api_key())
                    && !text.contains(sandbox.production_subscription_key())
            );
        }
        sandbox.shutdown().await;
    }
}

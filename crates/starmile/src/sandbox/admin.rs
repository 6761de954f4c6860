//! The sandbox's admin route, `GET /_sandbox/counters`: what the sandbox has seen (the
//! [`Counters`] snapshot) and the faults in force, as JSON, so an integrator testing their
//! own client under faults can check what was injected. No auth (the sandbox listens on
//! loopback only); outside `/api`, so faults never hit it, and not counted itself.

use std::sync::Arc;

use axum::{Json, Router, extract::State, response::IntoResponse, routing::get};
use serde::Serialize;

use super::{Counters, Faults, routes::Shared};

/// Where the admin route is served.
pub const COUNTERS_PATH: &str = "/_sandbox/counters";

/// The JSON of `GET /_sandbox/counters`.
#[derive(Debug, Serialize)]
struct CountersView {
    /// Requests to `POST /oauth/token`.
    token_requests: u64,
    /// Orders created through the API (replays not counted).
    orders_created: u64,
    /// Orders held, preloaded ones included.
    orders_held: u64,
    /// Pool rows published so far, all partners.
    pool_rows: u64,
    /// Answers by route pattern and status (status 0: connection dropped), by route.
    requests: Vec<RequestCount>,
    /// The faults in force.
    faults: FaultsView,
    /// Pool cursors served undecodable.
    undecodable_rows: Vec<u64>,
}

/// Answers on one route with one status.
#[derive(Debug, Serialize)]
struct RequestCount {
    route: String,
    status: u16,
    count: u64,
}

/// [`Faults`] with durations in milliseconds.
#[derive(Debug, Serialize)]
struct FaultsView {
    rate_429: f64,
    rate_503: f64,
    rate_html_502: f64,
    drop_rate: f64,
    commit_then_timeout_rate: f64,
    latency_ms: u128,
    retry_after_seconds: u64,
    hang_ms: u128,
}

impl CountersView {
    fn new(counters: Counters, faults: &Faults, undecodable: Vec<u64>) -> Self {
        Self {
            token_requests: counters.token_requests,
            orders_created: counters.orders_created,
            orders_held: counters.orders_held,
            pool_rows: counters.pool_rows,
            requests: counters
                .requests
                .into_iter()
                .map(|((route, status), count)| RequestCount { route, status, count })
                .collect(),
            faults: FaultsView {
                rate_429: faults.rate_429,
                rate_503: faults.rate_503,
                rate_html_502: faults.rate_html_502,
                drop_rate: faults.drop_rate,
                commit_then_timeout_rate: faults.commit_then_timeout_rate,
                latency_ms: faults.latency.as_millis(),
                retry_after_seconds: faults.retry_after.as_secs(),
                hang_ms: faults.hang.as_millis(),
            },
            undecodable_rows: undecodable,
        }
    }
}

/// The admin route, merged beside the API's router (outside its fault and counting layers:
/// reading the counters neither is faulted nor changes them).
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().route(COUNTERS_PATH, get(counters)).with_state(shared)
}

/// `GET /_sandbox/counters`.
async fn counters(State(s): State<Arc<Shared>>) -> impl IntoResponse {
    let faults = s.faults.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    let undecodable = s.config.undecodable_rows.iter().copied().collect();
    Json(CountersView::new(s.counters(), &faults, undecodable))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::Value;

    use super::super::{Faults, Sandbox, SandboxConfig};

    #[tokio::test]
    async fn the_counters_route_reports_injected_answers_and_the_faults() {
        let faults =
            Faults { rate_429: 1.0, latency: Duration::from_millis(2), ..Faults::default() };
        let sandbox = Sandbox::start(SandboxConfig {
            faults,
            undecodable_rows: [3].into(),
            ..SandboxConfig::default()
        })
        .await
        .unwrap();
        let http = reqwest::Client::new();
        for _ in 0..3 {
            let r =
                http.get(format!("{}/api/v1/services", sandbox.base_url())).send().await.unwrap();
            assert_eq!(r.status(), 429);
        }
        // Read twice: reading is neither faulted nor counted.
        for _ in 0..2 {
            let view: Value =
                http.get(sandbox.counters_url()).send().await.unwrap().json().await.unwrap();
            assert_eq!(
                view["requests"],
                serde_json::json!([{"route": "/api/v1/services", "status": 429, "count": 3}]),
                "{view}"
            );
            assert_eq!(view["faults"]["rate_429"], 1.0);
            assert_eq!(view["faults"]["latency_ms"], 2);
            assert_eq!(view["undecodable_rows"], serde_json::json!([3]));
            assert_eq!(view["token_requests"], 0);
        }
        sandbox.shutdown().await;
    }
}

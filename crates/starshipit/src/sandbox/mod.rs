//! An in-process emulator of StarShipIT's `GET /api/track` over real HTTP (axum), for tests,
//! demos and integrators: gateway key checks and per-key rate limits, several merchant
//! accounts (API keys) under one subscription, both `results` shapes, both not-found shapes
//! (unknown numbers are not found, as at the real API), JSON or XML, the spec's sample for
//! `0000000000`, simulated first legs with carrier-local times, `shipment_date` and
//! `tracking_url` for registered parcels, fault injection and a signed webhook emitter, and
//! an admin route, `GET /_sandbox/counters` (the counters and the faults in force, as JSON:
//! the `admin` module).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use waybill_starshipit::sandbox::{Sandbox, SandboxConfig};
//! let sandbox = Sandbox::start(SandboxConfig::default()).await?;
//! println!("{} {} {}", sandbox.base_url(), sandbox.api_key(), sandbox.developer_subscription_key());
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```

mod admin;
mod config;
mod emitter;
pub(crate) mod gateway;
mod plan;
mod shared;

use std::{net::SocketAddr, sync::Arc, time::Instant};

use axum::{
    Router,
    extract::{RawQuery, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use jiff::{Timestamp, tz::TimeZone};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

pub use config::{Counters, DEFAULT_WALL_CLOCK_ZONE, Faults, SandboxConfig, WebhookTarget};
use plan::Plan;
pub(crate) use shared::{Shared, lock};
use shared::{app_error, gateway_error, internal, rate_limited};

use crate::wire::{ApiError, Results, TrackResponse};

/// A running sandbox. Dropping it without [`shutdown`](Self::shutdown) leaves the server
/// task running until the runtime stops.
pub struct Sandbox {
    state: Arc<Shared>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<()>,
    emitter: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// Starts on an ephemeral loopback port (`127.0.0.1:0`).
    ///
    /// # Errors
    /// When the port cannot be bound or `wall_clock_zone` is not a known IANA zone.
    pub async fn start(config: SandboxConfig) -> std::io::Result<Sandbox> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), config).await
    }

    /// Starts on `addr`.
    ///
    /// # Errors
    /// When `addr` cannot be bound or `wall_clock_zone` is not a known IANA zone.
    pub async fn start_on(addr: SocketAddr, config: SandboxConfig) -> std::io::Result<Sandbox> {
        let zone = TimeZone::get(&config.wall_clock_zone).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "wall_clock_zone {:?} is not a known IANA zone: {e}",
                    config.wall_clock_zone
                ),
            )
        })?;
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Shared::new(config, zone));
        let app = Router::new()
            .route("/api/track", get(track))
            .route(admin::COUNTERS_PATH, get(admin::counters))
            .with_state(Arc::clone(&state));
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "StarShipIT sandbox server stopped");
            }
        });
        let emitter = state
            .config
            .webhook
            .clone()
            .map(|target| tokio::spawn(emitter::run(Arc::clone(&state), target)));
        tracing::info!(%addr, "StarShipIT sandbox listening");
        Ok(Sandbox { state, addr, stop: Some(stop), server, emitter })
    }

    /// `http://127.0.0.1:PORT` (no trailing slash); the API lives at `/api/track`.
    #[must_use]
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The admin route's URL, `http://127.0.0.1:PORT/_sandbox/counters`: the counters and
    /// the faults in force, as JSON.
    #[must_use]
    pub fn counters_url(&self) -> String {
        format!("http://{}{}", self.addr, admin::COUNTERS_PATH)
    }

    /// The socket address the sandbox listens on.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The first account's API key (`StarShipIT-Api-Key`).
    #[must_use]
    pub fn api_key(&self) -> &str {
        &self.state.api_keys[0]
    }

    /// Every account's API key, in account order ([`SandboxConfig::accounts`] of them); all
    /// share the subscription keys and their rate limits.
    #[must_use]
    pub fn api_keys(&self) -> Vec<&str> {
        self.state.api_keys.iter().map(String::as_str).collect()
    }

    /// The developer-tier subscription key: 2 requests per second.
    #[must_use]
    pub fn developer_subscription_key(&self) -> &str {
        &self.state.developer_key
    }

    /// The production-tier subscription key: 20 requests per second.
    #[must_use]
    pub fn production_subscription_key(&self) -> &str {
        &self.state.production_key
    }

    /// Plans the first leg of `tracking_number` (order `order_number`), shipped by the first
    /// account, starting at simulated time `created_at`, replacing any earlier plan for that
    /// number.
    pub fn register_shipment(
        &self,
        tracking_number: &str,
        order_number: &str,
        created_at: Timestamp,
    ) {
        self.register_shipment_for(0, tracking_number, order_number, created_at);
    }

    /// Like [`register_shipment`](Self::register_shipment), shipped by account `account`
    /// (an index into [`api_keys`](Self::api_keys); out of range means the last account):
    /// only that account's key finds it.
    pub fn register_shipment_for(
        &self,
        account: usize,
        tracking_number: &str,
        order_number: &str,
        created_at: Timestamp,
    ) {
        let account = account.min(self.state.api_keys.len() - 1);
        let seed = self.state.config.seed;
        self.state.insert(Plan::draw(seed, account, tracking_number, order_number, created_at));
    }

    /// The simulated time now.
    #[must_use]
    pub fn simulated_now(&self) -> Timestamp {
        self.state.sim_now()
    }

    /// A snapshot of the counters.
    #[must_use]
    pub fn counters(&self) -> Counters {
        lock(&self.state.counters).clone()
    }

    /// Replaces the injected faults from now on.
    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.state.faults) = faults;
    }

    /// Stops accepting connections, lets in-flight requests finish, and stops the emitter.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(emitter) = self.emitter.take() {
            emitter.abort();
            let _ = emitter.await;
        }
        let _ = (&mut self.server).await;
    }
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox").field("addr", &self.addr).finish_non_exhaustive()
    }
}

async fn track(
    State(state): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let arrived = Instant::now();
    lock(&state.counters).requests += 1;
    let header_str = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);

    // The gateway: subscription key, then its tier's rate; then the application: API key.
    let Some(sub_key) = header_str("Ocp-Apim-Subscription-Key").filter(|k| !k.is_empty()) else {
        return gateway_error(
            StatusCode::UNAUTHORIZED,
            "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.",
        );
    };
    let Some(tier) = state.tier(sub_key) else {
        return gateway_error(
            StatusCode::UNAUTHORIZED,
            "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.",
        );
    };
    lock(&state.counters).arrivals.entry(sub_key.to_owned()).or_default().push(arrived);
    let Some(account) = header_str("StarShipIT-Api-Key").and_then(|k| state.account(k)) else {
        return app_error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "The StarShipIT-Api-Key header is missing or invalid; find the key in StarShipIT under Settings > API.",
        );
    };
    if let Err(wait) = lock(&state.windows).admit(sub_key, tier, arrived) {
        lock(&state.counters).rate_limited += 1;
        return rate_limited(wait);
    }

    let latency = lock(&state.faults).latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some(fault) = state.draw_fault() {
        return fault;
    }

    let mut tracking_number = None;
    let mut order_number = None;
    for (k, v) in url::form_urlencoded::parse(query.as_deref().unwrap_or_default().as_bytes()) {
        let v = v.trim().to_owned();
        if v.is_empty() {
            continue;
        }
        match k.as_ref() {
            "tracking_number" => tracking_number = Some(v),
            "order_number" => order_number = Some(v),
            _ => {}
        }
    }
    if tracking_number.is_none() && order_number.is_none() {
        return app_error(
            StatusCode::BAD_REQUEST,
            "Invalid request",
            "Provide a tracking_number or an order_number query parameter.",
        );
    }
    let xml = wants_xml(&headers);
    // When both are sent the tracking number wins (unverified upstream; documented choice).
    match state.lookup(account, tracking_number.as_deref(), order_number.as_deref()) {
        Some(shipment) => {
            let results = if state.config.results_as_array {
                Results::Many(vec![shipment])
            } else {
                Results::One(Box::new(shipment))
            };
            let body = TrackResponse {
                results: Some(results),
                success: Some(true),
                ..TrackResponse::default()
            };
            render(StatusCode::OK, &body, xml)
        }
        None => {
            let what = match (&tracking_number, &order_number) {
                (Some(t), _) => format!("tracking number {t}"),
                (None, Some(o)) => format!("order number {o}"),
                (None, None) => String::new(),
            };
            let body = TrackResponse {
                success: Some(false),
                errors: Some(vec![ApiError {
                    message: Some("Tracking details not found".into()),
                    details: Some(format!("No shipment found for {what}.")),
                    ..ApiError::default()
                }]),
                ..TrackResponse::default()
            };
            let status =
                if state.config.not_found_as_404 { StatusCode::NOT_FOUND } else { StatusCode::OK };
            render(status, &body, xml)
        }
    }
}

fn wants_xml(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT).iter().filter_map(|v| v.to_str().ok()).any(|v| {
        let v = v.to_ascii_lowercase();
        v.contains("application/xml") || v.contains("text/xml")
    })
}

fn render(status: StatusCode, body: &TrackResponse, xml: bool) -> Response {
    if xml {
        match quick_xml::se::to_string_with_root("GetTrackingResponse", body) {
            Ok(text) => (status, [(header::CONTENT_TYPE, "application/xml; charset=utf-8")], text)
                .into_response(),
            Err(e) => internal(&format!("cannot render XML: {e}")),
        }
    } else {
        match serde_json::to_string(body) {
            Ok(text) => (status, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], text)
                .into_response(),
            Err(e) => internal(&format!("cannot render JSON: {e}")),
        }
    }
}

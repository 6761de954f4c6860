//! An in-process emulator of StarShipIT's `GET /api/track` over real HTTP (axum), for tests,
//! demos and integrators: gateway key checks and per-key rate limits, both `results` shapes,
//! both not-found shapes, JSON or XML, the spec's sample for `0000000000`, simulated first
//! legs for every other parcel, fault injection and a signed webhook emitter.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use waybill_starshipit::sandbox::{Sandbox, SandboxConfig};
//! let sandbox = Sandbox::start(SandboxConfig::default()).await?;
//! println!("{} {} {}", sandbox.base_url(), sandbox.api_key(), sandbox.developer_subscription_key());
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```

mod config;
mod emitter;
mod gateway;
mod plan;

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex, MutexGuard},
    time::Instant,
};

use axum::{
    Router,
    extract::{RawQuery, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use jiff::{SignedDuration, Timestamp, tz::TimeZone};
use rand::{Rng, SeedableRng, rngs::StdRng};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

pub use config::{Counters, Faults, SandboxConfig, WebhookTarget};
use gateway::{Tier, Windows};
use plan::Plan;

use crate::wire::{ApiError, GatewayError, Results, TrackResponse, WireShipment};

/// The spec's sample response, served for tracking number `0000000000` / order `17062`.
const SAMPLE: &str = include_str!("sample.json");
const SAMPLE_TRACKING_NUMBER: &str = "0000000000";
const SAMPLE_ORDER_NUMBER: &str = "17062";

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
        let app = Router::new().route("/api/track", get(track)).with_state(Arc::clone(&state));
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

    /// The socket address the sandbox listens on.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The account API key (`StarShipIT-Api-Key`) the sandbox accepts.
    #[must_use]
    pub fn api_key(&self) -> &str {
        &self.state.api_key
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

    /// Plans the first leg of `tracking_number` (order `order_number`) starting at simulated
    /// time `created_at`, replacing any earlier plan for that number.
    pub fn register_shipment(
        &self,
        tracking_number: &str,
        order_number: &str,
        created_at: Timestamp,
    ) {
        let plan = Plan::draw(self.state.config.seed, tracking_number, order_number, created_at);
        self.state.insert(plan);
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

/// State shared by the handlers and the emitter.
pub(crate) struct Shared {
    config: SandboxConfig,
    zone: TimeZone,
    api_key: String,
    developer_key: String,
    production_key: String,
    started: Instant,
    sample: TrackResponse,
    parcels: Mutex<Parcels>,
    windows: Mutex<Windows>,
    faults: Mutex<Faults>,
    rng: Mutex<StdRng>,
    counters: Mutex<Counters>,
}

#[derive(Default)]
struct Parcels {
    by_tracking: HashMap<String, Arc<Plan>>,
    by_order: HashMap<String, String>,
}

impl Shared {
    fn new(config: SandboxConfig, zone: TimeZone) -> Self {
        let random_key = |prefix: &str| format!("{prefix}{:032x}", rand::random::<u128>());
        let sample = serde_json::from_str(SAMPLE).unwrap_or_default();
        Self {
            api_key: config.api_key.clone().unwrap_or_else(|| random_key("ssi-api-")),
            developer_key: config
                .developer_subscription_key
                .clone()
                .unwrap_or_else(|| random_key("ssi-dev-")),
            production_key: config
                .production_subscription_key
                .clone()
                .unwrap_or_else(|| random_key("ssi-prod-")),
            started: Instant::now(),
            sample,
            parcels: Mutex::default(),
            windows: Mutex::default(),
            faults: Mutex::new(config.faults.clone()),
            rng: Mutex::new(StdRng::seed_from_u64(config.seed)),
            counters: Mutex::default(),
            zone,
            config,
        }
    }

    pub(crate) fn sim_now(&self) -> Timestamp {
        let real = self.started.elapsed().as_secs_f64() * self.config.time_scale;
        let delta = SignedDuration::try_from_secs_f64(real).unwrap_or(SignedDuration::MAX);
        self.config.epoch.saturating_add(delta).unwrap_or(Timestamp::MAX)
    }

    fn insert(&self, plan: Plan) {
        let mut parcels = lock(&self.parcels);
        parcels.by_order.insert(plan.order_number.clone(), plan.tracking_number.clone());
        parcels.by_tracking.insert(plan.tracking_number.clone(), Arc::new(plan));
    }

    pub(crate) fn plans(&self) -> Vec<Arc<Plan>> {
        lock(&self.parcels).by_tracking.values().cloned().collect()
    }

    fn tier(&self, key: &str) -> Option<Tier> {
        if key == self.developer_key {
            Some(Tier::Developer)
        } else if key == self.production_key {
            Some(Tier::Production)
        } else {
            None
        }
    }

    /// The shipment for a lookup, planning unknown tracking numbers when configured to.
    fn lookup(&self, by_tracking: Option<&str>, by_order: Option<&str>) -> Option<WireShipment> {
        if by_tracking == Some(SAMPLE_TRACKING_NUMBER)
            || (by_tracking.is_none() && by_order == Some(SAMPLE_ORDER_NUMBER))
        {
            return self.sample.results.clone().and_then(|r| r.into_vec().into_iter().next());
        }
        let now = self.sim_now();
        let plan = {
            let mut parcels = lock(&self.parcels);
            let number = match (by_tracking, by_order) {
                (Some(t), _) => t.to_owned(),
                (None, Some(o)) => parcels.by_order.get(o)?.clone(),
                (None, None) => return None,
            };
            match parcels.by_tracking.get(&number) {
                Some(p) => Arc::clone(p),
                None if self.config.plan_unknown && by_tracking.is_some() => {
                    let plan = Arc::new(Plan::draw(self.config.seed, &number, &number, now));
                    parcels.by_order.insert(number.clone(), number.clone());
                    parcels.by_tracking.insert(number, Arc::clone(&plan));
                    plan
                }
                None => return None,
            }
        };
        plan.render(now, &self.zone)
    }

    /// Draws at most one injected fault for this request.
    fn draw_fault(&self) -> Option<Response> {
        let faults = lock(&self.faults).clone();
        let total = faults.rate_429 + faults.rate_500 + faults.rate_html_502;
        if total <= 0.0 {
            return None;
        }
        let r: f64 = lock(&self.rng).random();
        let response = if r < faults.rate_429 {
            lock(&self.counters).rate_limited += 1;
            rate_limited(1)
        } else if r < faults.rate_429 + faults.rate_500 {
            app_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "General Exception",
                "Simulated error for testing purposes.",
            )
        } else if r < total {
            html_502()
        } else {
            return None;
        };
        lock(&self.counters).faults_injected += 1;
        Some(response)
    }
}

/// Locks a mutex, recovering the data if another thread panicked while holding it (the
/// sandbox's state stays usable; a panic is already reported by the test that caused it).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
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
    if header_str("StarShipIT-Api-Key") != Some(state.api_key.as_str()) {
        return app_error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "The StarShipIT-Api-Key header is missing or invalid; find the key in StarShipIT under Settings > API.",
        );
    }
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
    match state.lookup(tracking_number.as_deref(), order_number.as_deref()) {
        Some(shipment) => {
            let results = if state.config.results_as_array {
                Results::Many(vec![shipment])
            } else {
                Results::One(Box::new(shipment))
            };
            let body = TrackResponse { results: Some(results), success: Some(true), errors: None };
            render(StatusCode::OK, &body, xml)
        }
        None => {
            let what = match (&tracking_number, &order_number) {
                (Some(t), _) => format!("tracking number {t}"),
                (None, Some(o)) => format!("order number {o}"),
                (None, None) => String::new(),
            };
            let body = TrackResponse {
                results: None,
                success: Some(false),
                errors: Some(vec![ApiError {
                    message: Some("Tracking details not found".into()),
                    details: Some(format!("No shipment found for {what}.")),
                }]),
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

fn internal(details: &str) -> Response {
    app_error(StatusCode::INTERNAL_SERVER_ERROR, "General Exception", details)
}

fn gateway_error(status: StatusCode, message: &str) -> Response {
    let body = GatewayError { status_code: status.as_u16(), message: message.to_owned() };
    let text = serde_json::to_string(&body).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], text).into_response()
}

fn rate_limited(seconds: u64) -> Response {
    let mut response = gateway_error(
        StatusCode::TOO_MANY_REQUESTS,
        &format!("Rate limit is exceeded. Try again in {seconds} seconds."),
    );
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

fn app_error(status: StatusCode, message: &str, details: &str) -> Response {
    let body = TrackResponse {
        results: None,
        success: Some(false),
        errors: Some(vec![ApiError {
            message: Some(message.to_owned()),
            details: Some(details.to_owned()),
        }]),
    };
    let text = serde_json::to_string(&body).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], text).into_response()
}

fn html_502() -> Response {
    (
        StatusCode::BAD_GATEWAY,
        [(header::CONTENT_TYPE, "text/html")],
        "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n",
    )
        .into_response()
}

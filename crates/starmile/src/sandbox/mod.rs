//! An in-process emulator of the Starmile Partner API (feature `sandbox`), faithful to the
//! spec and the contract notes, for tests, examples and local runs.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use waybill_starmile::sandbox::{Sandbox, SandboxConfig};
//! let sandbox = Sandbox::start(SandboxConfig::default()).await?;
//! let partner = &sandbox.partners()[0];
//! println!("{} {} {}", sandbox.base_url(), partner.client_id, partner.client_secret);
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! What it reproduces:
//! - `POST /oauth/token` with a JSON or form body, client credentials in the body or in
//!   HTTP Basic; `400 unsupported_grant_type` / `invalid_scope`; `401` for bad credentials;
//!   tokens expire after [`SandboxConfig::token_lifetime`] (real time), then answer
//!   `401 {"message":"Unauthenticated."}`; [`Sandbox::expire_tokens`] expires them at once.
//! - Scopes per credential; a route without its scope answers 403 (`catalogue:read` for
//!   services and rates, `orders:create`, `orders:cancel`, `status:read`).
//! - Partners fully isolated: another partner's order is 404.
//! - `GET /api/v1/services` and `/rates` from a four-service catalogue (ids 5, 7, 9, 12).
//! - `POST /api/v1/orders` in the spec's shape (`external_parent_id`, `items[]
//!   .merchant_tracking_number`, optional `item_id`) and the record's later shape
//!   (`order_id`, `parcels[].merchant_tracking`); 201 on creation, 200 `duplicate:true`
//!   with the original ids on a replay; 422 with field errors (missing fields, unknown
//!   service, a merchant tracking number repeated or already used). An item's `item_id`
//!   defaults to its merchant tracking number.
//! - `POST /api/v1/orders/{order}/cancel`: 200 before the first parcel reaches the hub,
//!   409 `Order is already in custody.` after.
//! - `GET /api/v1/partner/changes`: exclusive `since`, `limit` clamped to 1–200 (default
//!   50), `tracking_number` / `external_parent_id` filters (AND; unknown → empty page),
//!   `next_cursor` = `since` on an empty page, fed by the simulated lifecycle described in
//!   the `lifecycle` module: deterministic from [`SandboxConfig::seed`] and the order
//!   reference, played at [`SandboxConfig::time_scale`] simulated seconds per real second
//!   and computed lazily when the pool is read.
//! - [`Faults`] on the `/api/v1` routes (never on the token endpoint): 429 with
//!   `Retry-After`, 503 JSON, an nginx-style HTML 502, added latency, dropped connections
//!   (headers sent, then the body is cut), and "commit then time out" on order creation.
//! - [`Counters`]: token requests, orders, pool rows, requests by route and status.

mod catalogue;
mod lifecycle;
mod routes;
mod store;

use std::{
    collections::BTreeMap,
    fmt,
    net::SocketAddr,
    sync::{Arc, PoisonError},
    time::Duration,
};

use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

use self::{routes::Shared, store::Store};

/// Every scope the contract lists.
pub const ALL_SCOPES: &[&str] = &[
    "catalogue:read",
    "orders:create",
    "orders:update",
    "orders:cancel",
    "labels:read",
    "status:read",
    "events:transport",
    "events:pudo",
    "events:customs",
    "leg:handoff",
];

/// How a sandbox behaves.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Seed of every simulated choice (lifecycles, faults).
    pub seed: u64,
    /// The partner credentials it accepts; each partner's data is isolated. Must not be
    /// empty.
    pub partners: Vec<PartnerCredential>,
    /// How long an access token is valid (real time); reported as `expires_in`.
    pub token_lifetime: Duration,
    /// Simulated seconds per real second (3600.0 plays an hour per second).
    pub time_scale: f64,
    /// The simulated time at start.
    pub epoch: jiff::Timestamp,
    /// Injected faults (all off by default).
    pub faults: Faults,
    /// Orders created at start for the first partner, their lifecycles already complete
    /// (all rows visible at once).
    pub preload_orders: usize,
    /// Share of orders (0.0..=1.0) whose lifecycle carries a status and reason codes no
    /// documented vocabulary has.
    pub unknown_vocabulary_rate: f64,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            partners: vec![PartnerCredential::demo()],
            token_lifetime: Duration::from_secs(3600),
            time_scale: 1.0,
            epoch: jiff::Timestamp::now(),
            faults: Faults::default(),
            preload_orders: 0,
            unknown_vocabulary_rate: 0.02,
        }
    }
}

/// A partner credential the sandbox accepts.
#[derive(Clone, PartialEq, Eq)]
pub struct PartnerCredential {
    /// The client id.
    pub client_id: String,
    /// The client secret (redacted in `Debug`).
    pub client_secret: String,
    /// The partner's display name.
    pub name: String,
    /// The receiving warehouse the credential is bound to.
    pub warehouse: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
}

impl PartnerCredential {
    /// A partner with every scope and a freshly generated secret.
    #[must_use]
    pub fn new(client_id: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: format!("sm_{:032x}", rand::random::<u128>()),
            name: name.into(),
            warehouse: "SYD1".into(),
            scopes: ALL_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// `demo-partner`, every scope, a generated secret.
    #[must_use]
    pub fn demo() -> Self {
        Self::new("demo-partner", "Demo Partner")
    }

    /// The same partner with only these scopes.
    #[must_use]
    pub fn with_scopes(mut self, scopes: &[&str]) -> Self {
        self.scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
        self
    }
}

impl fmt::Debug for PartnerCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartnerCredential")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("name", &self.name)
            .field("warehouse", &self.warehouse)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// Faults injected on `/api/v1` routes. Shares are probabilities in 0.0..=1.0 drawn from
/// one deterministic sequence per sandbox (seeded), in this order: 429, 503, HTML 502,
/// dropped connection — so their sum should not exceed 1.0.
#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    /// Share answered `429 {"message":"Too Many Requests."}` with `Retry-After`.
    pub rate_429: f64,
    /// Share answered `503 {"message":"Service Unavailable."}`.
    pub rate_503: f64,
    /// Share answered by a gateway's HTML `502 Bad Gateway` page.
    pub rate_html_502: f64,
    /// Added to every `/api/v1` request before it is handled.
    pub latency: Duration,
    /// Share whose connection is dropped after the headers (not processed).
    pub drop_rate: f64,
    /// Share of *new* orders that are committed and then answered only after
    /// [`Faults::hang`], so the client times out (replays are answered normally).
    pub commit_then_timeout_rate: f64,
    /// The `Retry-After` sent with injected 429s (whole seconds).
    pub retry_after: Duration,
    /// How long a "commit then time out" answer is withheld.
    pub hang: Duration,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            rate_429: 0.0,
            rate_503: 0.0,
            rate_html_502: 0.0,
            latency: Duration::ZERO,
            drop_rate: 0.0,
            commit_then_timeout_rate: 0.0,
            retry_after: Duration::from_secs(1),
            hang: Duration::from_secs(60),
        }
    }
}

/// A snapshot of what a sandbox has seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// Requests to `POST /oauth/token`, successful or not.
    pub token_requests: u64,
    /// Orders created through the API (replays not counted).
    pub orders_created: u64,
    /// Orders held, preloaded ones included.
    pub orders_held: u64,
    /// Pool rows published so far, all partners.
    pub pool_rows: u64,
    /// Answers by (route pattern, HTTP status); status 0 = connection dropped.
    pub requests: BTreeMap<(String, u16), u64>,
}

impl Counters {
    /// Answers on `route` (e.g. `/api/v1/orders`) with `status`.
    #[must_use]
    pub fn requests_to(&self, route: &str, status: u16) -> u64 {
        self.requests.get(&(route.to_owned(), status)).copied().unwrap_or(0)
    }

    /// All answers on `route`, any status.
    #[must_use]
    pub fn requests_on(&self, route: &str) -> u64 {
        self.requests.iter().filter(|((r, _), _)| r == route).map(|(_, n)| n).sum()
    }
}

/// A running sandbox. Dropping it leaves the server running until the runtime ends; call
/// [`Sandbox::shutdown`] to stop it.
pub struct Sandbox {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Starts a sandbox on an ephemeral loopback port (`127.0.0.1:0`).
    ///
    /// # Errors
    /// Binding failed, or the config has no partner.
    pub async fn start(config: SandboxConfig) -> std::io::Result<Sandbox> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), config).await
    }

    /// Starts a sandbox on `addr`.
    ///
    /// # Errors
    /// Binding failed, or the config has no partner.
    pub async fn start_on(addr: SocketAddr, config: SandboxConfig) -> std::io::Result<Sandbox> {
        if config.partners.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "sandbox config has no partners: add at least one PartnerCredential",
            ));
        }
        let (seed, rate, partners) =
            (config.seed, config.unknown_vocabulary_rate, config.partners.len());
        let (preload, epoch) = (config.preload_orders, config.epoch.as_second());
        // A large preload takes seconds of CPU: keep it off the async workers.
        let store = tokio::task::spawn_blocking(move || {
            let mut store = Store::new(seed, rate, partners);
            if preload > 0 {
                store.preload(0, preload, epoch);
            }
            store
        })
        .await
        .map_err(std::io::Error::other)?;
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(config, store));
        let app = routes::router(Arc::clone(&shared));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                tracing::warn!("starmile sandbox stopped: {e}");
            }
        });
        tracing::info!(%addr, "starmile sandbox listening");
        Ok(Sandbox { addr, shared, stop: Some(stop), task })
    }

    /// `http://127.0.0.1:PORT`.
    #[must_use]
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address served.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The accepted credentials.
    #[must_use]
    pub fn partners(&self) -> &[PartnerCredential] {
        &self.shared.config.partners
    }

    /// A snapshot of the counters.
    #[must_use]
    pub fn counters(&self) -> Counters {
        self.shared.counters()
    }

    /// Replaces the injected faults.
    pub fn set_faults(&self, faults: Faults) {
        *self.shared.faults.lock().unwrap_or_else(PoisonError::into_inner) = faults;
    }

    /// Expires every token issued so far, as if their lifetime had run out server-side.
    pub fn expire_tokens(&self) {
        self.shared.tokens.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }

    /// The simulated time now.
    #[must_use]
    pub fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::from_second(self.shared.sim_now()).unwrap_or(self.shared.config.epoch)
    }

    /// Stops serving: in-flight requests get a second to finish, then are cut.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if tokio::time::timeout(Duration::from_secs(1), &mut self.task).await.is_err() {
            self.task.abort();
        }
    }
}

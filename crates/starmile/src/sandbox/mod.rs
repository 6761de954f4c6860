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
//!   services and rates, `orders:create`, `orders:update`, `orders:cancel`, `labels:read`,
//!   `status:read`, and per event family `events:transport|pudo|customs`, `leg:handoff`).
//! - Partners fully isolated: another partner's order is 404.
//! - `GET /api/v1/services` and `/rates` from a four-service catalogue (ids 5, 7, 9, 12).
//! - `POST /api/v1/orders` in the spec's shape (`external_parent_id`, `items[]
//!   .merchant_tracking_number`, optional `item_id`) and the record's (the SDK's) shape
//!   (`order_id`, `parcels[]` with `item_id`, optional `merchant_tracking`, `products`,
//!   dimensions, recipient and destination), read by the `intake` module; 201 on creation,
//!   200 `duplicate:true` with the original ids on a replay; 422 with field errors named
//!   as the body named them. Full orders (the record's shape, or any recipient or
//!   destination field) need products on every parcel, a phone or an email, and a
//!   destination matching the service (`region` + `address_first` for home delivery,
//!   `pudo_id` or `locker_id` for service 9). `item_id` and merchant tracking numbers are
//!   unique per partner; `item_id` is echoed only when sent. `region_status` follows the
//!   destination: `not_applicable` for pickup points, lockers and minimal bodies, `mapped`
//!   for a region in the sandbox's map (`catalogue::REGIONS`), else `pending_mapping`.
//! - Parcel routes: `PATCH /api/v1/orders/{order}/parcels/{item}`, `POST …/parcels`,
//!   `POST …/parcels/{item}/cancel`, `POST …/parcels/{item}/split` — before a parcel is
//!   received (409 after), with the rules listed in the crate docs.
//! - `GET /api/v1/orders/label?merchant_tracking=|parcel_id=|order_id=`: an A6 PDF with a
//!   Code 128 barcode (the `label` module).
//! - `POST /api/v1/partner/events`: inbound events moving a parcel by the legal-next-step
//!   table of the `events` module (422 `error` + `hint` otherwise); the simulation stops
//!   driving a parcel once an event did; idempotent on `event_id`.
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
//! - [`Counters`]: token requests, orders, pool rows, requests by route and status; also
//!   served as JSON, with the faults in force, at `GET /_sandbox/counters` (no auth, outside
//!   `/api`, never faulted or counted itself: the `admin` module).
//! - [`SandboxConfig::undecodable_rows`]: pool rows served with an empty `occurred_at`.

mod admin;
mod catalogue;
mod config;
mod events;
mod intake;
mod label;
mod lifecycle;
mod routes;
mod store;

use std::{
    fmt,
    net::SocketAddr,
    sync::{Arc, PoisonError},
    time::Duration,
};

use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

pub use self::config::{ALL_SCOPES, Counters, Faults, PartnerCredential, SandboxConfig};
use self::{routes::Shared, store::Store};

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
        let app = routes::router(Arc::clone(&shared)).merge(admin::router(Arc::clone(&shared)));
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

    /// The admin route's URL, `http://127.0.0.1:PORT/_sandbox/counters`: the counters and
    /// the faults in force, as JSON.
    #[must_use]
    pub fn counters_url(&self) -> String {
        format!("http://{}{}", self.addr, admin::COUNTERS_PATH)
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

    /// Moves the simulated clock forward by `by` at once (whole seconds), on top of its
    /// running pace: with `time_scale = 0` a test walks a lifecycle step by step.
    pub fn advance(&self, by: Duration) {
        self.shared.skip(i64::try_from(by.as_secs()).unwrap_or(i64::MAX));
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

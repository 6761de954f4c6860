//! What every handler shares: the store, the carrier accounts (as ports), the carriers'
//! metadata, the webhook receivers, the API keys, metrics, sync status and the tracking
//! page's per-client rate limiter.

use std::{
    net::IpAddr,
    num::NonZeroU32,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use waybill_domain::{CarrierId, CarrierInfo, Catalog, OrderDesk, ParcelDesk, WebhookReceiver};
use waybill_store::Store;

use crate::{auth::ApiKeys, metrics::Metrics};

/// A configured carrier account the API can order with, as ports.
#[derive(Clone)]
pub struct Account {
    /// The account name (orders and the pool cursor are stored under it).
    pub name: String,
    /// The carrier the account belongs to (errors and metrics are labelled with it).
    pub carrier: CarrierId,
    /// Creates and cancels its orders.
    pub desk: Arc<dyn OrderDesk>,
    /// Its services and rates.
    pub catalog: Arc<dyn Catalog>,
    /// Changes its orders' parcels and prints their labels.
    pub parcels: Arc<dyn ParcelDesk>,
}

/// What the background sync is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncState {
    /// `serve.sync = false`.
    Disabled,
    /// Rounds are running.
    Running,
    /// The engine stopped on an error it cannot retry (a refused credential, the store).
    Stopped(String),
}

/// Per-client limits on the public tracking page, keyed by IP address.
pub struct PageLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
}

impl PageLimiter {
    /// `per_minute` sustained lookups per client, bursts of `burst`.
    #[must_use]
    pub fn new(per_minute: NonZeroU32, burst: NonZeroU32) -> Self {
        Self { limiter: RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)) }
    }

    /// `Ok` when `client` may look a number up now; otherwise how long until it may.
    ///
    /// # Errors
    /// The wait before the next allowed lookup.
    pub fn check(&self, client: IpAddr) -> Result<(), Duration> {
        self.limiter.check_key(&client).map_err(|not_until| {
            not_until.wait_time_from(governor::clock::Clock::now(
                &governor::clock::DefaultClock::default(),
            ))
        })
    }

    /// Forgets clients whose limits have fully replenished (bounds memory).
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// Shared handler state (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The carrier accounts, the first being the default.
    pub accounts: Arc<Vec<Account>>,
    /// Every wired carrier's metadata (display names and legs for the page).
    pub carriers: Arc<Vec<CarrierInfo>>,
    /// Webhook receivers, routed by carrier id.
    pub webhooks: Arc<Vec<Arc<dyn WebhookReceiver>>>,
    /// Accepted API keys (hashed).
    pub api_keys: Arc<ApiKeys>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Background sync's state.
    pub sync: Arc<Mutex<SyncState>>,
    /// `/readyz` fails after this long without sync progress.
    pub sync_stalled_after: Duration,
    /// The tracking page's limiter.
    pub page_limiter: Arc<PageLimiter>,
}

impl AppState {
    /// The current sync state.
    #[must_use]
    pub fn sync_state(&self) -> SyncState {
        self.sync.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Records a new sync state.
    pub fn set_sync_state(&self, state: SyncState) {
        *self.sync.lock().unwrap_or_else(PoisonError::into_inner) = state;
    }

    /// The account named `name`, or the first.
    #[must_use]
    pub fn account(&self, name: Option<&str>) -> Option<&Account> {
        match name {
            Some(n) => self.accounts.iter().find(|a| a.name == n),
            None => self.accounts.first(),
        }
    }
}

//! The PostgreSQL implementation of [`Store`]: the same ports, join rules and derived
//! statuses as the SQLite backend (it passes the same conformance suite), for several
//! `waybill` processes sharing one database. Runtime queries only; embedded migrations
//! (`crates/store/migrations/postgres/`).
//!
//! # Schema
//!
//! The tables of the SQLite schema (see `sqlite.rs`) in PostgreSQL's types — JSON as `jsonb`,
//! times the store sets as `timestamptz`, every text column in the `"C"` collation so text
//! sorts by bytes on every cluster — plus three tables for several workers:
//!
//! | table | key | holds |
//! |---|---|---|
//! | `leases` | name | which worker holds a piece of work (`pool:<account>`) and until when |
//! | `refresh_leases` | merchant number | which worker is looking a parcel's first leg up, until when |
//! | `rate_slots` | (budget, slot) | the last grant time of each slot of a shared request budget |
//!
//! # Several writers
//!
//! Every write that changes derived statuses (a pool page, tracking events, a saved order)
//! first takes one transaction-scoped advisory lock (per schema), so such writes apply one
//! after another, each seeing every earlier commit — the isolation SQLite's single writer
//! gives. Without it, two transactions could each recompute a parcel's timeline head from a
//! snapshot missing the other's events. Reads, leases, refresh claims and the rate budget
//! never take it. See [`crate::Leases`] and [`crate::RateBudget`] for what the extra tables
//! guarantee.
//!
//! [`Store`]: crate::Store

mod budget;
mod codec;
mod ingest;
mod journal;
mod leases;
mod migrations;
mod orders;
mod outbox;
mod placement;
mod quarantine;
mod refresh;
mod report;
mod status;
mod timelines;

use std::time::Duration;

use async_trait::async_trait;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use waybill_domain::{
    Cursor, FeedItem, MerchantTrackingNumber, Order, OrderRequest, PartnerOrderRef, TrackingEvent,
    UndecodedRow,
};

use crate::{
    BudgetGrant, FeedSink, ImportJournal, JournalEntry, Lease, Leases, OrderBook, OrderFilter,
    ParcelPlacement, ParcelTimeline, PoolCommit, Quarantine, QuarantineCount, QuarantineFilter,
    QuarantinedRow, RateBudget, RefreshCandidate, RefreshSelection, Refreshed, StoreCounts,
    StoreError, StoreStatus, StoredOrder, TimelineReader,
};

/// Connection settings beyond the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PgSettings {
    /// Connections in the pool.
    pub pool_size: u32,
    /// The longest any one statement may run (`statement_timeout`); `None` leaves the
    /// server's setting.
    pub statement_timeout: Option<Duration>,
    /// How long to wait for a connection (from the pool, or a new one) before failing.
    pub connect_timeout: Duration,
}

impl Default for PgSettings {
    fn default() -> Self {
        Self {
            pool_size: 8,
            statement_timeout: Some(Duration::from_secs(60)),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// The durable store in a PostgreSQL database. Cloning shares the pool.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// `host:port/database`, for messages (never the password).
    target: String,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user:password@host:port/database?…`) and migrates.
    ///
    /// # Errors
    /// [`StoreError::Database`] when the URL does not parse or the server cannot be reached
    /// (the message names the host and port, never the password), [`StoreError::Migrate`]
    /// when the schema cannot be brought up to date.
    pub async fn connect(url: &str, settings: PgSettings) -> Result<PostgresStore, StoreError> {
        Self::connect_with(parse_url(url)?, settings).await
    }

    /// Checks that `url` parses as the driver reads it (host, port, `sslmode` and other
    /// options), without connecting: what `connect` would refuse before dialling.
    ///
    /// # Errors
    /// [`StoreError::Database`] saying what is wrong, never quoting the password.
    pub fn check_url(url: &str) -> Result<(), StoreError> {
        parse_url(url).map(|_| ())
    }

    /// Connects with explicit options and migrates.
    ///
    /// # Errors
    /// As [`PostgresStore::connect`].
    pub async fn connect_with(
        options: PgConnectOptions,
        settings: PgSettings,
    ) -> Result<PostgresStore, StoreError> {
        let target = format!(
            "{}:{}/{}",
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or(options.get_username())
        );
        let mut options = options.application_name("waybill");
        if let Some(timeout) = settings.statement_timeout {
            options = options.options([("statement_timeout", timeout.as_millis().to_string())]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(settings.pool_size.max(1))
            .acquire_timeout(settings.connect_timeout)
            .connect_with(options)
            .await
            .map_err(|e| unreachable_error(&target, &e))?;
        migrations::run(&pool).await?;
        Ok(PostgresStore { pool, target })
    }

    /// Where the store is: `host:port/database` (no credentials).
    #[must_use]
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The underlying connection pool (for maintenance and ad-hoc queries).
    #[must_use]
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Backend, schema version, counts, and each account's cursor and lease holder.
    ///
    /// # Errors
    /// [`StoreError::Database`] when the database cannot be read.
    pub async fn status(&self) -> Result<StoreStatus, StoreError> {
        report::status(&self.pool, &self.target).await
    }
}

/// The driver's options from `url`; its parse errors may quote the URL, so the message says
/// what is wrong without the password.
fn parse_url(url: &str) -> Result<PgConnectOptions, StoreError> {
    url.parse().map_err(|e: sqlx::Error| {
        StoreError::Database(
            format!("the store URL is not a valid postgres:// URL ({})", redact(url, &e)).into(),
        )
    })
}

/// A connection failure naming where the store is (never the password).
fn unreachable_error(target: &str, e: &sqlx::Error) -> StoreError {
    let why = match e {
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::Database(db) => db.message().to_owned(),
        sqlx::Error::PoolTimedOut => "timed out waiting for a connection".to_owned(),
        sqlx::Error::Tls(t) => format!("TLS failed: {t}"),
        other => other.to_string(),
    };
    StoreError::Database(format!("cannot connect to PostgreSQL at {target}: {why}").into())
}

/// A URL parse error's message with the URL's password (if the message quotes it) removed.
fn redact(url: &str, e: &sqlx::Error) -> String {
    let message = e.to_string();
    match url::Url::parse(url).ok().and_then(|u| u.password().map(str::to_owned)) {
        Some(password) if !password.is_empty() => message.replace(&password, "***"),
        _ => message,
    }
}

#[async_trait]
impl OrderBook for PostgresStore {
    async fn save_order(
        &self,
        account: &str,
        request: &OrderRequest,
        order: &Order,
    ) -> Result<(), StoreError> {
        orders::save_order(&self.pool, account, request, order).await
    }

    async fn check_replay(
        &self,
        account: &str,
        request: &OrderRequest,
    ) -> Result<crate::Replay, StoreError> {
        orders::check_replay(&self.pool, account, request).await
    }

    async fn order(
        &self,
        account: Option<&str>,
        reference: &PartnerOrderRef,
    ) -> Result<Option<StoredOrder>, StoreError> {
        orders::order(&self.pool, account, reference).await
    }

    async fn list_orders(&self, filter: &OrderFilter) -> Result<Vec<StoredOrder>, StoreError> {
        orders::list_orders(&self.pool, filter).await
    }

    async fn place_parcel(
        &self,
        account: &str,
        placement: &ParcelPlacement,
    ) -> Result<(), StoreError> {
        placement::place_parcel(&self.pool, account, placement).await
    }
}

#[async_trait]
impl FeedSink for PostgresStore {
    async fn cursor(&self, account: &str) -> Result<Cursor, StoreError> {
        ingest::cursor(&self.pool, account).await
    }

    async fn record_pool_rows(
        &self,
        account: &str,
        items: &[FeedItem],
        undecoded: &[UndecodedRow],
        next_cursor: Cursor,
    ) -> Result<PoolCommit, StoreError> {
        ingest::record_pool_page(&self.pool, account, items, undecoded, next_cursor, None).await
    }

    async fn record_events(&self, events: &[TrackingEvent]) -> Result<usize, StoreError> {
        ingest::record_events(&self.pool, events).await
    }

    async fn record_pushed(
        &self,
        events: &[TrackingEvent],
        handed_over: &[MerchantTrackingNumber],
    ) -> Result<usize, StoreError> {
        let new = ingest::record_events(&self.pool, events).await?;
        refresh::mark_pushed(&self.pool, events, handed_over).await?;
        Ok(new)
    }

    async fn refresh_candidates(
        &self,
        selection: &RefreshSelection,
    ) -> Result<Vec<RefreshCandidate>, StoreError> {
        refresh::refresh_candidates(&self.pool, selection).await
    }

    async fn mark_refreshed(
        &self,
        parcel: &MerchantTrackingNumber,
        refreshed: &Refreshed,
    ) -> Result<(), StoreError> {
        refresh::mark_refreshed(&self.pool, parcel, refreshed).await
    }
}

#[async_trait]
impl TimelineReader for PostgresStore {
    async fn parcel_timeline(&self, number: &str) -> Result<Option<ParcelTimeline>, StoreError> {
        timelines::parcel_timeline(&self.pool, number).await
    }

    async fn all_timelines(&self) -> Result<Vec<ParcelTimeline>, StoreError> {
        timelines::all_timelines(&self.pool).await
    }

    async fn counts(&self) -> Result<StoreCounts, StoreError> {
        report::counts(&self.pool).await
    }

    async fn parcels_by_status(
        &self,
    ) -> Result<Vec<(waybill_domain::TrackingStatus, u64)>, StoreError> {
        let rows = sqlx::query_as(codec::STATUS_COUNTS).fetch_all(&self.pool).await?;
        codec::status_counts(rows)
    }
}

#[async_trait]
impl ImportJournal for PostgresStore {
    async fn journal_get(
        &self,
        account: &str,
        reference: &PartnerOrderRef,
    ) -> Result<Option<JournalEntry>, StoreError> {
        journal::get(&self.pool, account, reference).await
    }

    async fn journal_put(
        &self,
        account: &str,
        reference: &PartnerOrderRef,
        entry: &JournalEntry,
    ) -> Result<(), StoreError> {
        journal::put(&self.pool, account, reference, entry).await
    }

    async fn save_imported(
        &self,
        account: &str,
        orders: &[(&OrderRequest, &Order)],
    ) -> Result<Vec<Result<(), Box<crate::IdempotencyConflict>>>, StoreError> {
        orders::save_imported(&self.pool, account, orders).await
    }
}

#[async_trait]
impl Quarantine for PostgresStore {
    async fn quarantined(
        &self,
        filter: &QuarantineFilter,
    ) -> Result<Vec<QuarantinedRow>, StoreError> {
        quarantine::list(&self.pool, filter).await
    }

    async fn quarantine_counts(&self) -> Result<Vec<QuarantineCount>, StoreError> {
        quarantine::counts(&self.pool).await
    }
}

#[async_trait]
impl Leases for PostgresStore {
    async fn acquire(&self, lease: &Lease) -> Result<bool, StoreError> {
        leases::acquire(&self.pool, lease).await
    }

    async fn release(&self, lease: &Lease) -> Result<(), StoreError> {
        leases::release(&self.pool, lease).await
    }

    async fn record_pool_page_leased(
        &self,
        lease: &Lease,
        account: &str,
        items: &[FeedItem],
        undecoded: &[UndecodedRow],
        next_cursor: Cursor,
    ) -> Result<PoolCommit, StoreError> {
        ingest::record_pool_page(&self.pool, account, items, undecoded, next_cursor, Some(lease))
            .await
    }

    async fn claim_refreshes(
        &self,
        holder: &str,
        selection: &RefreshSelection,
        ttl: Duration,
    ) -> Result<Vec<RefreshCandidate>, StoreError> {
        refresh::claim(&self.pool, holder, selection, ttl).await
    }

    async fn keep_refresh(
        &self,
        holder: &str,
        parcel: &MerchantTrackingNumber,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        refresh::keep(&self.pool, holder, parcel, ttl).await
    }

    async fn release_refresh(
        &self,
        holder: &str,
        parcel: &MerchantTrackingNumber,
    ) -> Result<(), StoreError> {
        refresh::release(&self.pool, holder, parcel).await
    }
}

#[async_trait]
impl RateBudget for PostgresStore {
    async fn try_take(
        &self,
        budget: &str,
        per_window: u32,
        window: Duration,
    ) -> Result<BudgetGrant, StoreError> {
        budget::try_take(&self.pool, budget, per_window, window).await
    }
}

#[async_trait]
impl crate::Outbox for PostgresStore {
    async fn set_subscriptions(
        &self,
        subscriptions: &[crate::Subscription],
    ) -> Result<(), StoreError> {
        outbox::set_subscriptions(&self.pool, subscriptions).await
    }

    async fn claim_deliveries(
        &self,
        subscriptions: &[String],
        limit: u32,
        lock_for: Duration,
    ) -> Result<Vec<crate::Delivery>, StoreError> {
        outbox::claim_deliveries(&self.pool, subscriptions, limit, lock_for).await
    }

    async fn claim_delivery(
        &self,
        id: u64,
        lock_for: Duration,
    ) -> Result<Option<crate::Delivery>, StoreError> {
        outbox::claim_delivery(&self.pool, id, lock_for).await
    }

    async fn finish_delivery(
        &self,
        id: u64,
        attempt: &crate::Attempt,
    ) -> Result<Option<crate::Delivery>, StoreError> {
        outbox::finish_delivery(&self.pool, id, attempt).await
    }

    async fn deliveries(
        &self,
        filter: &crate::DeliveryFilter,
    ) -> Result<Vec<crate::Delivery>, StoreError> {
        outbox::deliveries(&self.pool, filter).await
    }

    async fn redeliver(&self, id: u64) -> Result<crate::Redelivery, StoreError> {
        outbox::redeliver(&self.pool, id).await
    }

    async fn delivery_counts(&self) -> Result<Vec<crate::DeliveryCount>, StoreError> {
        outbox::delivery_counts(&self.pool).await
    }
}

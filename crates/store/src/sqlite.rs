//! The SQLite implementation of [`Store`]: one file, WAL journal, embedded migrations
//! (`crates/store/migrations/`), runtime queries only (the build never needs a database).
//!
//! # Schema
//!
//! | table | key | holds |
//! |---|---|---|
//! | `orders` | (account, reference) | service id and request JSON (null when discovered in the pool), Starmile order tracking number, derived status, created at |
//! | `parcels` | id; unique (merchant number, account) | order (account, reference), Starmile parcel tracking number, timeline head (newest known event's sort key, carrier, tracking number, raw status, status) and `has_events`, from which the `status` column is generated, and the refresh schedule: last refreshed at, next due at, last news at, first leg ended at, last pushed at (see `refresh`) |
//! | `pool_rows` | (account, cursor) | the raw [`FeedItem`] as JSON |
//! | `events` | id; unique (`key_time`, `event_key`): 16 bytes of the SHA-256 of the JSON of [`EventKey`], after the event time that key includes (`key_time`: the sort key, or 0 for an unknown time), so a time-ordered feed appends to the index | scope columns (account, reference, merchant number), carrier, tracking number, sort key (ns), raw and unified status, and the [`TrackingEvent`]: as JSON, or for a pool event the `pool_cursor` of the raw row that holds it (not stored twice) |
//! | `cursors` | account | the pool cursor (only moves forward), updated at |
//! | `import_journal` | (account, reference) | outcome (`done`/`failed`), tracking number or message, updated at |
//! | `quarantine` | id; unique (account, `row_key`: 16 bytes of the SHA-256 of the raw text) | a feed row that could not be decoded: its cursor when readable, raw JSON text, the error, quarantined at |
//!
//! Statuses are stored as [`TrackingStatus::as_str`] names; times the store sets are
//! fixed-width RFC 3339 text (UTC, microseconds) so they sort as text.
//!
//! # How carriers meet per parcel
//!
//! - A **Starmile pool row** naming an item (its item reference, which waybill sets to the
//!   merchant tracking number, or the event's merchant number) is *parcel-scoped*: its
//!   tracking number is the parcel's Starmile number. A row naming no item is
//!   *order-scoped*: its tracking number is the order's, and the event (stored once, without a
//!   merchant number) belongs to every parcel of the order. Rows reveal orders and parcels the
//!   store has not seen (created elsewhere with the same credential); they are created with
//!   an unknown service so nothing is lost.
//! - An event **naming a merchant number** (every first-leg event does: the engine and the
//!   webhook receiver join them through `CarrierInfo::join`, since the first-leg label is the
//!   merchant number) is stored with that merchant number and no account, and joins the
//!   parcel with that number in any account, even one saved later.
//! - A parcel's timeline is its own events (merchant number, in its account or account-less)
//!   plus its order's order-scoped events, merged by [`Timeline::from_events`].
//!
//! [`FeedItem`]: waybill_domain::FeedItem
//! [`EventKey`]: waybill_domain::EventKey
//! [`TrackingEvent`]: waybill_domain::TrackingEvent
//! [`TrackingStatus::as_str`]: waybill_domain::TrackingStatus::as_str
//! [`Timeline::from_events`]: waybill_domain::Timeline::from_events

mod codec;
mod ingest;
mod journal;
mod migrations;
mod orders;
mod outbox;
mod placement;
mod quarantine;
mod refresh;
mod status;
mod timelines;

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use waybill_domain::{
    Cursor, FeedItem, MerchantTrackingNumber, Order, OrderRequest, PartnerOrderRef, TrackingEvent,
    UndecodedRow,
};

use crate::{
    FeedSink, IdempotencyConflict, ImportJournal, JournalEntry, OrderBook, OrderFilter,
    ParcelPlacement, ParcelTimeline, PoolCommit, Quarantine, QuarantineCount, QuarantineFilter,
    QuarantinedRow, RefreshCandidate, RefreshSelection, Refreshed, StoreCounts, StoreError,
    StoredOrder, TimelineReader,
};

/// How long a connection waits for another writer before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Reader connections (WAL lets them read while the writer writes).
const MAX_READERS: u32 = 4;

/// WAL pages between the writer's automatic checkpoints (SQLite's default is 1,000). The
/// pool-ingest profile spent a tenth of its time in checkpoints copying the same index pages
/// after every commit.
const CHECKPOINT_PAGES: u32 = 10_000;

/// The writer's page cache, in KiB: half a reader's, which keeps a long pool drain under
/// 100 MB resident (time-ordered event keys leave the writer a small hot set of pages).
const WRITER_CACHE_KIB: i64 = 8 * 1024;

/// Page cache per connection, in KiB (SQLite's negative `cache_size` convention).
const CACHE_KIB: i64 = 32 * 1024;

/// How much of the file the reader connections map into memory (SQLite caps it at its
/// compile-time maximum, 2 GiB). Reads then come straight from the kernel's page cache,
/// shared by every reader, instead of a `pread` copy into each connection's own cache: the
/// serving profile (random lookups over 100k parcels, a 1.3 GB file) spent a quarter of its
/// time in `pread`, page-cache lookups and copies. Only readers map: the writer's pages stay
/// in its own cache, as the pool-ingest profile wants.
const READER_MMAP_BYTES: u64 = 2 << 30;

/// The durable store in a SQLite file. Cloning shares the connections.
///
/// Writes go through ONE dedicated connection: SQLite admits one writer at a time anyway, and
/// a connection's page cache survives only its own commits — writing from several pooled
/// connections made every page re-read its B-tree pages from disk (the pool-ingest profile
/// showed a quarter of the time in `pread` and page re-initialisation).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    writer: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating the file and its parent directories if missing) and migrates the
    /// store at `path`.
    ///
    /// # Errors
    /// [`StoreError::Database`] when the directory or file cannot be created or opened,
    /// [`StoreError::Migrate`] when the schema cannot be brought up to date.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(sqlx::Error::Io)?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .pragma("cache_size", (-CACHE_KIB).to_string())
            .pragma("temp_store", "memory");
        // The writer checkpoints the WAL every `CHECKPOINT_PAGES` instead of SQLite's 1,000:
        // a page rewritten by several commits in between is copied to the database once.
        let writer_options = options
            .clone()
            .pragma("cache_size", (-WRITER_CACHE_KIB).to_string())
            .pragma("wal_autocheckpoint", CHECKPOINT_PAGES.to_string());
        let writer =
            SqlitePoolOptions::new().max_connections(1).connect_with(writer_options).await?;
        migrations::run(&writer).await?;
        let readers = options.pragma("mmap_size", READER_MMAP_BYTES.to_string());
        // No ping before each checkout: a connection to a local file does not go stale the
        // way a network one does, and the ping is one more round trip to the connection's
        // worker thread per lookup (the serving profile counted them).
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_READERS)
            .test_before_acquire(false)
            .connect_with(readers)
            .await?;
        Ok(SqliteStore { pool, writer })
    }

    /// Opens a fresh store in a new temporary directory (tests, `waybill demo`). The store
    /// lives as long as the returned directory: keep it alive while the store is in use.
    ///
    /// # Errors
    /// As [`SqliteStore::open`], plus [`StoreError::Database`] when no temporary directory
    /// can be created.
    pub async fn open_temporary() -> Result<(SqliteStore, tempfile::TempDir), StoreError> {
        let dir =
            tempfile::Builder::new().prefix("waybill-store-").tempdir().map_err(sqlx::Error::Io)?;
        let store = SqliteStore::open(&dir.path().join("waybill.sqlite")).await?;
        Ok((store, dir))
    }

    /// The underlying connection pool (for maintenance and ad-hoc queries).
    #[must_use]
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Backend, file, schema version, counts and each account's cursor (SQLite has no
    /// leases: one process works on it).
    ///
    /// # Errors
    /// [`StoreError::Database`] when the file cannot be read.
    pub async fn status(&self) -> Result<crate::StoreStatus, StoreError> {
        let file: String =
            sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
                .fetch_one(&self.pool)
                .await?;
        let schema_version: Option<i64> =
            sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool)
                .await?;
        let cursors: Vec<(String, i64)> =
            sqlx::query_as("SELECT account, cursor FROM cursors ORDER BY account")
                .fetch_all(&self.pool)
                .await?;
        let mut accounts = Vec::with_capacity(cursors.len());
        for (account, cursor) in cursors {
            let cursor = codec::cursor_from_db(cursor, "cursors", &account)?;
            accounts.push(crate::AccountStatus {
                account,
                cursor: cursor.0,
                lease_holder: None,
                lease_until: None,
            });
        }
        Ok(crate::StoreStatus {
            backend: "sqlite",
            location: file,
            schema_version: schema_version.unwrap_or(0),
            counts: self.counts().await?,
            accounts,
        })
    }

    /// Closes every connection, checkpointing the WAL into the main file.
    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }
}

#[async_trait]
impl OrderBook for SqliteStore {
    async fn save_order(
        &self,
        account: &str,
        request: &OrderRequest,
        order: &Order,
    ) -> Result<(), StoreError> {
        orders::save_order(&self.writer, account, request, order).await
    }

    async fn check_replay(
        &self,
        account: &str,
        request: &OrderRequest,
    ) -> Result<crate::Replay, StoreError> {
        orders::check_replay(&self.pool, account, request).await
    }

    async fn check_replays(
        &self,
        account: &str,
        requests: &[&OrderRequest],
    ) -> Result<Vec<crate::Replay>, StoreError> {
        orders::check_replays(&self.pool, account, requests).await
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
        placement::place_parcel(&self.writer, account, placement).await
    }
}

#[async_trait]
impl FeedSink for SqliteStore {
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
        ingest::record_pool_rows(&self.writer, account, items, undecoded, next_cursor).await
    }

    async fn record_events(&self, events: &[TrackingEvent]) -> Result<usize, StoreError> {
        ingest::record_events(&self.writer, events).await
    }

    async fn record_pushed(
        &self,
        events: &[TrackingEvent],
        handed_over: &[MerchantTrackingNumber],
    ) -> Result<usize, StoreError> {
        let new = ingest::record_events(&self.writer, events).await?;
        refresh::mark_pushed(&self.writer, events, handed_over).await?;
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
        refresh::mark_refreshed(&self.writer, parcel, refreshed).await
    }
}

#[async_trait]
impl TimelineReader for SqliteStore {
    async fn parcel_timeline(&self, number: &str) -> Result<Option<ParcelTimeline>, StoreError> {
        timelines::parcel_timeline(&self.pool, number).await
    }

    async fn all_timelines(&self) -> Result<Vec<ParcelTimeline>, StoreError> {
        timelines::all_timelines(&self.pool).await
    }

    async fn counts(&self) -> Result<StoreCounts, StoreError> {
        let (orders, parcels, pool_rows, events, quarantined): (i64, i64, i64, i64, i64) =
            sqlx::query_as(
                "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM parcels),
                    (SELECT count(*) FROM pool_rows), (SELECT count(*) FROM events),
                (SELECT count(*) FROM quarantine)",
            )
            .fetch_one(&self.pool)
            .await?;
        // Counts are never negative; the conversion only guards the types.
        let n = |v: i64| u64::try_from(v).unwrap_or_default();
        Ok(StoreCounts {
            orders: n(orders),
            parcels: n(parcels),
            pool_rows: n(pool_rows),
            events: n(events),
            quarantined: n(quarantined),
        })
    }

    async fn parcels_by_status(
        &self,
    ) -> Result<Vec<(waybill_domain::TrackingStatus, u64)>, StoreError> {
        let rows = sqlx::query_as(codec::STATUS_COUNTS).fetch_all(&self.pool).await?;
        codec::status_counts(rows)
    }
}

#[async_trait]
impl ImportJournal for SqliteStore {
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
        journal::put(&self.writer, account, reference, entry).await
    }

    async fn journal_entries(
        &self,
        account: &str,
        references: &[PartnerOrderRef],
    ) -> Result<Vec<Option<JournalEntry>>, StoreError> {
        journal::entries(&self.pool, account, references).await
    }

    async fn save_imported(
        &self,
        account: &str,
        orders: &[(&OrderRequest, &Order)],
    ) -> Result<Vec<Result<(), Box<IdempotencyConflict>>>, StoreError> {
        orders::save_imported(&self.writer, account, orders).await
    }
}

#[async_trait]
impl Quarantine for SqliteStore {
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
impl crate::Outbox for SqliteStore {
    async fn set_subscriptions(
        &self,
        subscriptions: &[crate::Subscription],
    ) -> Result<(), StoreError> {
        outbox::set_subscriptions(&self.writer, subscriptions).await
    }

    async fn claim_deliveries(
        &self,
        subscriptions: &[String],
        limit: u32,
        lock_for: Duration,
    ) -> Result<Vec<crate::Delivery>, StoreError> {
        outbox::claim_deliveries(&self.writer, subscriptions, limit, lock_for).await
    }

    async fn claim_delivery(
        &self,
        id: u64,
        lock_for: Duration,
    ) -> Result<Option<crate::Delivery>, StoreError> {
        outbox::claim_delivery(&self.writer, id, lock_for).await
    }

    async fn finish_delivery(
        &self,
        id: u64,
        attempt: &crate::Attempt,
    ) -> Result<Option<crate::Delivery>, StoreError> {
        outbox::finish_delivery(&self.writer, id, attempt).await
    }

    async fn deliveries(
        &self,
        filter: &crate::DeliveryFilter,
    ) -> Result<Vec<crate::Delivery>, StoreError> {
        outbox::deliveries(&self.pool, filter).await
    }

    async fn redeliver(&self, id: u64) -> Result<crate::Redelivery, StoreError> {
        outbox::redeliver(&self.writer, id).await
    }

    async fn delivery_counts(&self) -> Result<Vec<crate::DeliveryCount>, StoreError> {
        outbox::delivery_counts(&self.pool).await
    }
}

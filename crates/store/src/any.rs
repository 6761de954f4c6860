//! Whichever backend the configuration names: [`StoreLocation`] says where the store is,
//! [`AnyStore`] is the opened backend, implementing every port by handing the call on.

use std::{path::PathBuf, sync::Arc, time::Duration};

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use waybill_domain::{
    Cursor, FeedItem, MerchantTrackingNumber, Order, OrderRequest, PartnerOrderRef, TrackingEvent,
    UndecodedRow,
};

use crate::{
    FeedSink, ImportJournal, JournalEntry, Leases, OrderBook, OrderFilter, ParcelPlacement,
    ParcelTimeline, PoolCommit, Quarantine, QuarantineCount, QuarantineFilter, QuarantinedRow,
    RateBudget, RefreshCandidate, RefreshSelection, Refreshed, StoreCounts, StoreError,
    StoreStatus, StoredOrder, TimelineReader,
};

/// Where the store is.
#[derive(Debug, Clone)]
pub enum StoreLocation {
    /// A SQLite file (one process).
    Sqlite(PathBuf),
    /// A PostgreSQL database (any number of processes).
    Postgres {
        /// `postgres://user:password@host:port/database`; secret because it may hold the
        /// password.
        url: SecretString,
        /// Connections in the pool.
        pool_size: u32,
        /// The longest any one statement may run.
        statement_timeout: Option<Duration>,
    },
}

impl StoreLocation {
    /// True for a URL that names PostgreSQL (`postgres://` or `postgresql://`).
    #[must_use]
    pub fn is_postgres_url(url: &str) -> bool {
        let url = url.trim_start();
        ["postgres://", "postgresql://"].iter().any(|scheme| {
            url.get(..scheme.len()).is_some_and(|head| head.eq_ignore_ascii_case(scheme))
        })
    }

    /// Checks the location as opening it would, without opening it: a PostgreSQL URL must
    /// parse as the driver reads it.
    ///
    /// # Errors
    /// [`StoreError::Database`] saying what is wrong (never quoting the password).
    pub fn check(&self) -> Result<(), StoreError> {
        match self {
            #[cfg(feature = "postgres")]
            StoreLocation::Postgres { url, .. } => {
                crate::PostgresStore::check_url(url.expose_secret())
            }
            _ => Ok(()),
        }
    }

    /// Where the store is, for messages: the file, or `host:port/database` (never the
    /// password or any other part of the URL).
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            StoreLocation::Sqlite(path) => path.display().to_string(),
            StoreLocation::Postgres { url, .. } => describe_url(url.expose_secret()),
        }
    }
}

/// `host:port/database` of a PostgreSQL URL.
fn describe_url(url: &str) -> String {
    match url::Url::parse(url.trim()) {
        Ok(u) => format!(
            "postgres://{}:{}{}",
            u.host_str().unwrap_or("localhost"),
            u.port().unwrap_or(5432),
            u.path()
        ),
        Err(_) => "an unparsable postgres:// URL".to_owned(),
    }
}

/// The opened store, whichever backend. Cloning shares the connections.
#[derive(Debug, Clone)]
pub enum AnyStore {
    /// SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(crate::SqliteStore),
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(crate::PostgresStore),
}

impl AnyStore {
    /// Opens (and migrates) the store at `location`.
    ///
    /// # Errors
    /// [`StoreError::Database`] when it cannot be opened or reached (naming the host and
    /// port, never the password), or when this build lacks the backend;
    /// [`StoreError::Migrate`] when the schema cannot be brought up to date.
    pub async fn open(location: &StoreLocation) -> Result<AnyStore, StoreError> {
        match location {
            #[cfg(feature = "sqlite")]
            StoreLocation::Sqlite(path) => crate::SqliteStore::open(path).await.map(Self::Sqlite),
            #[cfg(feature = "postgres")]
            StoreLocation::Postgres { url, pool_size, statement_timeout } => {
                let settings = crate::PgSettings {
                    pool_size: *pool_size,
                    statement_timeout: *statement_timeout,
                    ..crate::PgSettings::default()
                };
                crate::PostgresStore::connect(url.expose_secret(), settings)
                    .await
                    .map(Self::Postgres)
            }
            #[allow(unreachable_patterns)]
            other => Err(StoreError::Database(
                format!(
                    "this waybill was built without support for the store at {}",
                    other.describe()
                )
                .into(),
            )),
        }
    }

    /// Closes every connection.
    pub async fn close(&self) {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(s) => s.close().await,
            #[cfg(feature = "postgres")]
            Self::Postgres(s) => s.close().await,
        }
    }

    /// Backend, schema version, counts, and each account's cursor and lease holder.
    ///
    /// # Errors
    /// [`StoreError::Database`] when the store cannot be read.
    pub async fn status(&self) -> Result<StoreStatus, StoreError> {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(s) => s.status().await,
            #[cfg(feature = "postgres")]
            Self::Postgres(s) => s.status().await,
        }
    }

    /// The leases several workers share, when the backend is shared (PostgreSQL).
    #[must_use]
    pub fn leases(&self) -> Option<Arc<dyn Leases>> {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(_) => None,
            #[cfg(feature = "postgres")]
            Self::Postgres(s) => Some(Arc::new(s.clone())),
        }
    }

    /// The request budget several processes share, when the backend is shared.
    #[must_use]
    pub fn rate_budget(&self) -> Option<Arc<dyn RateBudget>> {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(_) => None,
            #[cfg(feature = "postgres")]
            Self::Postgres(s) => Some(Arc::new(s.clone())),
        }
    }
}

/// Hands a call on to the backend.
macro_rules! each {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            #[cfg(feature = "sqlite")]
            AnyStore::Sqlite($s) => $call,
            #[cfg(feature = "postgres")]
            AnyStore::Postgres($s) => $call,
        }
    };
}

#[async_trait]
impl OrderBook for AnyStore {
    async fn save_order(
        &self,
        account: &str,
        request: &OrderRequest,
        order: &Order,
    ) -> Result<(), StoreError> {
        each!(self, s => s.save_order(account, request, order).await)
    }

    async fn check_replay(
        &self,
        account: &str,
        request: &OrderRequest,
    ) -> Result<crate::Replay, StoreError> {
        each!(self, s => s.check_replay(account, request).await)
    }

    async fn check_replays(
        &self,
        account: &str,
        requests: &[&OrderRequest],
    ) -> Result<Vec<crate::Replay>, StoreError> {
        each!(self, s => s.check_replays(account, requests).await)
    }

    async fn order(
        &self,
        account: Option<&str>,
        reference: &PartnerOrderRef,
    ) -> Result<Option<StoredOrder>, StoreError> {
        each!(self, s => s.order(account, reference).await)
    }

    async fn list_orders(&self, filter: &OrderFilter) -> Result<Vec<StoredOrder>, StoreError> {
        each!(self, s => s.list_orders(filter).await)
    }

    async fn place_parcel(
        &self,
        account: &str,
        placement: &ParcelPlacement,
    ) -> Result<(), StoreError> {
        each!(self, s => s.place_parcel(account, placement).await)
    }
}

#[async_trait]
impl FeedSink for AnyStore {
    async fn cursor(&self, account: &str) -> Result<Cursor, StoreError> {
        each!(self, s => s.cursor(account).await)
    }

    async fn record_pool_rows(
        &self,
        account: &str,
        items: &[FeedItem],
        undecoded: &[UndecodedRow],
        next_cursor: Cursor,
    ) -> Result<PoolCommit, StoreError> {
        each!(self, s => s.record_pool_rows(account, items, undecoded, next_cursor).await)
    }

    async fn record_events(&self, events: &[TrackingEvent]) -> Result<usize, StoreError> {
        each!(self, s => s.record_events(events).await)
    }

    async fn record_pushed(
        &self,
        events: &[TrackingEvent],
        handed_over: &[MerchantTrackingNumber],
    ) -> Result<usize, StoreError> {
        each!(self, s => s.record_pushed(events, handed_over).await)
    }

    async fn refresh_candidates(
        &self,
        selection: &RefreshSelection,
    ) -> Result<Vec<RefreshCandidate>, StoreError> {
        each!(self, s => s.refresh_candidates(selection).await)
    }

    async fn mark_refreshed(
        &self,
        parcel: &MerchantTrackingNumber,
        refreshed: &Refreshed,
    ) -> Result<(), StoreError> {
        each!(self, s => s.mark_refreshed(parcel, refreshed).await)
    }
}

#[async_trait]
impl TimelineReader for AnyStore {
    async fn parcel_timeline(&self, number: &str) -> Result<Option<ParcelTimeline>, StoreError> {
        each!(self, s => s.parcel_timeline(number).await)
    }

    async fn all_timelines(&self) -> Result<Vec<ParcelTimeline>, StoreError> {
        each!(self, s => s.all_timelines().await)
    }

    async fn counts(&self) -> Result<StoreCounts, StoreError> {
        each!(self, s => s.counts().await)
    }

    async fn parcels_by_status(
        &self,
    ) -> Result<Vec<(waybill_domain::TrackingStatus, u64)>, StoreError> {
        each!(self, s => s.parcels_by_status().await)
    }
}

#[async_trait]
impl ImportJournal for AnyStore {
    async fn journal_get(
        &self,
        account: &str,
        reference: &PartnerOrderRef,
    ) -> Result<Option<JournalEntry>, StoreError> {
        each!(self, s => s.journal_get(account, reference).await)
    }

    async fn journal_put(
        &self,
        account: &str,
        reference: &PartnerOrderRef,
        entry: &JournalEntry,
    ) -> Result<(), StoreError> {
        each!(self, s => s.journal_put(account, reference, entry).await)
    }

    async fn journal_entries(
        &self,
        account: &str,
        references: &[PartnerOrderRef],
    ) -> Result<Vec<Option<JournalEntry>>, StoreError> {
        each!(self, s => s.journal_entries(account, references).await)
    }

    async fn save_imported(
        &self,
        account: &str,
        orders: &[(&OrderRequest, &Order)],
    ) -> Result<Vec<Result<(), Box<crate::IdempotencyConflict>>>, StoreError> {
        each!(self, s => s.save_imported(account, orders).await)
    }
}

#[async_trait]
impl Quarantine for AnyStore {
    async fn quarantined(
        &self,
        filter: &QuarantineFilter,
    ) -> Result<Vec<QuarantinedRow>, StoreError> {
        each!(self, s => s.quarantined(filter).await)
    }

    async fn quarantine_counts(&self) -> Result<Vec<QuarantineCount>, StoreError> {
        each!(self, s => s.quarantine_counts().await)
    }
}

#[async_trait]
impl crate::Outbox for AnyStore {
    async fn set_subscriptions(
        &self,
        subscriptions: &[crate::Subscription],
    ) -> Result<(), StoreError> {
        each!(self, s => s.set_subscriptions(subscriptions).await)
    }

    async fn claim_deliveries(
        &self,
        subscriptions: &[String],
        limit: u32,
        lock_for: std::time::Duration,
    ) -> Result<Vec<crate::Delivery>, StoreError> {
        each!(self, s => s.claim_deliveries(subscriptions, limit, lock_for).await)
    }

    async fn claim_delivery(
        &self,
        id: u64,
        lock_for: std::time::Duration,
    ) -> Result<Option<crate::Delivery>, StoreError> {
        each!(self, s => s.claim_delivery(id, lock_for).await)
    }

    async fn finish_delivery(
        &self,
        id: u64,
        attempt: &crate::Attempt,
    ) -> Result<Option<crate::Delivery>, StoreError> {
        each!(self, s => s.finish_delivery(id, attempt).await)
    }

    async fn deliveries(
        &self,
        filter: &crate::DeliveryFilter,
    ) -> Result<Vec<crate::Delivery>, StoreError> {
        each!(self, s => s.deliveries(filter).await)
    }

    async fn redeliver(&self, id: u64) -> Result<crate::Redelivery, StoreError> {
        each!(self, s => s.redeliver(id).await)
    }

    async fn delivery_counts(&self) -> Result<Vec<crate::DeliveryCount>, StoreError> {
        each!(self, s => s.delivery_counts().await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_urls_are_recognised_and_described_without_credentials() {
        assert!(StoreLocation::is_postgres_url("postgres://u:p@db:5433/waybill"));
        assert!(StoreLocation::is_postgres_url("PostgreSQL://db/waybill"));
        assert!(!StoreLocation::is_postgres_url("waybill.db"));
        assert!(!StoreLocation::is_postgres_url("sqlite://waybill.db"));
        let location = StoreLocation::Postgres {
            url: SecretString::from(
                "postgres://admin:hunter2@db.internal:5433/waybill?sslmode=require",
            ),
            pool_size: 4,
            statement_timeout: None,
        };
        let described = location.describe();
        assert_eq!(described, "postgres://db.internal:5433/waybill");
        assert!(!format!("{location:?}").contains("hunter2"));
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn a_url_the_driver_refuses_is_caught_without_connecting_or_quoting_the_password() {
        let at = |url: &str| StoreLocation::Postgres {
            url: SecretString::from(url.to_owned()),
            pool_size: 1,
            statement_timeout: None,
        };
        assert!(
            at("postgres://admin:hunter2@db.internal:5433/waybill?sslmode=require").check().is_ok()
        );
        let e = at("postgres://admin:hunter2@db/waybill?sslmode=sometimes").check().unwrap_err();
        let e = e.to_string();
        assert!(e.contains("sometimes") && !e.contains("hunter2"), "{e}");
        assert!(StoreLocation::Sqlite("waybill.db".into()).check().is_ok());
    }
}

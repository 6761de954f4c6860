//! waybill's durable store: the ports the engine, the server and the CLI write and read
//! through, split by consumer, and their backends.
//!
//! | port | consumer | holds |
//! |---|---|---|
//! | [`OrderBook`] | order creation, the API, `orders list/show` | orders and their parcels |
//! | [`FeedSink`] | the sync engine, webhooks | pool pages with their cursor, tracking events, refresh scheduling |
//! | [`TimelineReader`] | the CLI, the API, the tracking page | merged timelines by any known number |
//! | [`ImportJournal`] | bulk import | how each imported order ended |
//! | [`Quarantine`] | the CLI, `/metrics`, `/readyz` | feed rows the adapter could not decode, kept raw |
//! | [`Outbox`] | the webhook sender, the CLI, `/metrics` | outbound webhook subscriptions and one delivery per parcel status change, written by the database in the transaction that changed the parcel |
//!
//! [`Store`] is all six at once; every backend implements it. Every write is idempotent
//! (unique keys, `INSERT … ON CONFLICT DO NOTHING`), and a pool page's rows, the events they
//! carry and the account's cursor commit in **one** transaction, so a crash at any point
//! neither loses nor doubles anything on replay.
//!
//! Backends: SQLite ([`SqliteStore`], feature `sqlite`, on by default) for one process, and
//! PostgreSQL ([`PostgresStore`], feature `postgres`) for several processes sharing one
//! database; [`AnyStore`] is whichever the configuration names ([`StoreLocation`]). Every
//! backend must pass the backend-generic suite in `testing::conformance` (feature `testing`):
//! see [`conformance_suite!`].
//!
//! Several workers coordinate through two more ports, which only a shared database offers:
//!
//! | port | consumer | holds |
//! |---|---|---|
//! | [`Leases`] | the sync engine | expiring leases on work (one drainer per account, one looker-up per parcel), and the pool page commit that checks its lease |
//! | [`RateBudget`] | the sync engine | a request budget shared by every process (a subscription key's rate limit) |
//!
//! The store knows no carrier: events join parcels by the numbers they carry (see
//! [`FeedSink::record_events`]); which carrier reports which leg is decided before an event
//! reaches it.

#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod any;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod codec;
mod coordination;
pub mod fingerprint;
#[macro_use]
mod outbox;
#[cfg(feature = "postgres")]
mod postgres;
mod quarantine;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod refresh_filter;
#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use any::{AnyStore, StoreLocation};
pub use coordination::{BudgetGrant, Lease, Leases, RateBudget};
pub use fingerprint::{IdempotencyConflict, Replay, RequestFingerprint};
pub use outbox::{
    Attempt, Delivery, DeliveryCount, DeliveryFilter, DeliveryState, Outbox, Redelivery,
    StatusChange, Subscription,
};
#[cfg(feature = "postgres")]
pub use postgres::{PgSettings, PostgresStore};
pub use quarantine::{PoolCommit, Quarantine, QuarantineCount, QuarantineFilter, QuarantinedRow};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use waybill_domain::{
    Cursor, FeedItem, MerchantTrackingNumber, Milestone, Order, OrderRequest, PartnerOrderRef,
    ServiceId, Timeline, TrackingEvent, TrackingNumber, TrackingStatus, UndecodedRow,
};

/// The error a backend's driver reported, kept as its source.
pub type BackendError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What can go wrong in the store, whatever the backend.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened, read or written (the driver's error is the source).
    #[error("database error: {0}")]
    Database(#[source] BackendError),
    /// The schema migrations failed (e.g. the database was written by a newer waybill).
    #[error("could not migrate the database: {0}")]
    Migrate(#[source] BackendError),
    /// A stored value no longer parses (the database was edited by hand or is corrupt).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A write guarded by a lease found the lease expired or taken by another worker;
    /// nothing was written.
    #[error("lease {name} is no longer held by {holder}: another worker took the work over")]
    LeaseLost {
        /// The lease's name.
        name: String,
        /// The worker that held it.
        holder: String,
    },
    /// A replay of an order's reference with a different request (nothing was written): see
    /// [`fingerprint`].
    #[error(transparent)]
    IdempotencyConflict(Box<IdempotencyConflict>),
    /// A lookup matched more than one parcel.
    #[error(
        "{number} matches {count} parcels: use a parcel's merchant tracking number or its carrier's parcel tracking number"
    )]
    Ambiguous {
        /// The number looked up.
        number: String,
        /// How many parcels it matched.
        count: usize,
    },
}

// Both backends drive sqlx; its errors are the backend's.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(Box::new(e))
    }
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migrate(Box::new(e))
    }
}

/// Where a parcel belongs after a change made at the carrier once its order existed: a
/// parcel added to an order, or one split off onto a new order. Recording it keeps the
/// order book truthful before the pool reports the change (e.g. `label --all` lists the
/// order's parcels from the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParcelPlacement {
    /// The order the parcel now belongs to.
    pub reference: PartnerOrderRef,
    /// The parcel's merchant tracking number.
    pub merchant_tracking_number: MerchantTrackingNumber,
    /// The carrier's tracking number for the parcel, when it answered one.
    pub tracking_number: Option<TrackingNumber>,
    /// Set when the parcel left another order for a new one (a split).
    pub split: Option<SplitFrom>,
}

/// The order a split parcel left, and the new order's tracking number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitFrom {
    /// The order the parcel left (the new order takes its service).
    pub source: PartnerOrderRef,
    /// The carrier's tracking number for the new order.
    pub order_tracking_number: TrackingNumber,
}

/// An order as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredOrder {
    /// The main carrier account (credential name) the order belongs to.
    pub account: String,
    /// The partner's reference.
    pub reference: PartnerOrderRef,
    /// The service, when known (orders discovered from the pool do not say).
    pub service_id: Option<ServiceId>,
    /// The main carrier's tracking number for the order, once known.
    pub tracking_number: Option<TrackingNumber>,
    /// The order's parcels.
    pub parcels: Vec<StoredParcel>,
    /// The order's status: its most urgent parcel needing attention (exception, failed
    /// attempt, customs hold, return), else its least advanced one ([`TrackingStatus::order_status`]).
    pub status: TrackingStatus,
    /// When waybill first stored the order (RFC 3339).
    pub created_at: String,
}

/// A parcel as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredParcel {
    /// The code on the sticker (also the first-leg carrier's tracking number).
    pub merchant_tracking_number: MerchantTrackingNumber,
    /// The main carrier's tracking number for the parcel, once known.
    pub tracking_number: Option<TrackingNumber>,
    /// The current unified status of the parcel's merged timeline.
    pub status: TrackingStatus,
    /// The current milestone of the parcel's merged timeline.
    pub milestone: Milestone,
}

/// The order of a listing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OrderSort {
    /// By reference (text order), then account.
    #[default]
    Reference,
    /// Newest first: by when the store first recorded the order, then account and reference,
    /// all descending.
    Newest,
}

/// Filters for listing orders.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    /// Only orders of this account.
    pub account: Option<String>,
    /// Only orders whose status is this.
    pub status: Option<TrackingStatus>,
    /// Only orders of this service.
    pub service_id: Option<ServiceId>,
    /// Keyset pagination: only orders after this one in [`OrderFilter::sort`]'s order (with
    /// [`OrderFilter::after_account`], exactly that order; without, the first account's).
    pub after: Option<PartnerOrderRef>,
    /// The account of the [`OrderFilter::after`] order (references repeat across accounts).
    pub after_account: Option<String>,
    /// The order of the listing.
    pub sort: OrderSort,
    /// At most this many (the store caps it at 1000).
    pub limit: u32,
}

impl OrderFilter {
    /// The token naming `order` as a page boundary, `@ACCOUNT:REFERENCE`: what a listing
    /// hands out as its next page's `after`.
    #[must_use]
    pub fn cursor_of(order: &StoredOrder) -> String {
        format!("@{}:{}", order.account, order.reference)
    }

    /// Starts after the order a token names: `@ACCOUNT:REFERENCE` (from [`Self::cursor_of`])
    /// or a bare reference (the first account's order with it).
    ///
    /// # Errors
    /// The reference's parse error.
    pub fn set_cursor(&mut self, token: &str) -> Result<(), waybill_domain::ParseError> {
        let account_and_reference = token.strip_prefix('@').and_then(|rest| rest.split_once(':'));
        match account_and_reference {
            Some((account, reference))
                if !account.is_empty()
                    && account
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
            {
                self.after = Some(PartnerOrderRef::parse(reference)?);
                self.after_account = Some(account.to_owned());
            }
            _ => {
                self.after = Some(PartnerOrderRef::parse(token)?);
                self.after_account = None;
            }
        }
        Ok(())
    }
}

/// One parcel's merged view: identity plus its timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParcelTimeline {
    /// The main carrier account.
    pub account: String,
    /// The order's reference.
    pub reference: PartnerOrderRef,
    /// The parcel.
    pub parcel: StoredParcel,
    /// The main carrier's order tracking number, once known.
    pub order_tracking_number: Option<TrackingNumber>,
    /// Every event from every carrier, merged.
    pub timeline: Timeline,
}

/// A parcel whose first-leg tracking should be refreshed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshCandidate {
    /// The parcel (its merchant tracking number is the first-leg tracking number).
    pub merchant_tracking_number: MerchantTrackingNumber,
    /// How long since news last came for it (a lookup or a webhook that stored a new event,
    /// else its first lookup); `None` before its first lookup.
    pub idle: Option<Duration>,
}

/// Which parcels [`FeedSink::refresh_candidates`] offers, and how many.
///
/// Offered: parcels that are not final, whose first leg has not ended (no hand-over seen,
/// see [`NextRefresh::Never`], and the main carrier does not hold them yet: no milestone at
/// or past `at_origin_hub`) and that no webhook covers (none pushed an event for them within
/// [`RefreshSelection::pushed_within`]). First the due ones, most overdue first (never looked
/// up before all); then the parcels the main carrier took over before any lookup or push saw
/// their first leg end, each owed one closing lookup (the first leg's last scans, the
/// hand-over among them, would otherwise never be stored); then, since a lookup the key's
/// budget allows but nobody sends is lost, the others, least recently looked up first, so
/// what the due ones leave of the budget is spread evenly rather than spent again and again
/// on the soonest due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshSelection {
    /// At most this many merchant numbers.
    pub limit: u32,
    /// A webhook event stored this recently covers the parcel: it is not offered.
    pub pushed_within: Duration,
}

/// When a parcel is next due a lookup, as the engine's schedule decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextRefresh {
    /// Due this long from now.
    After(Duration),
    /// Never again: its first leg ended (the hand-over to the main carrier was seen).
    Never,
}

/// What one lookup of a parcel's first leg found, for the schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refreshed {
    /// The lookup stored a new event: news (the parcel's idle time starts over).
    pub news: bool,
    /// When it is next due.
    pub next: NextRefresh,
}

/// How one import row ended, as the journal remembers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JournalEntry {
    /// The order was created (or recognised as a replay) at the carrier.
    Done {
        /// The carrier's tracking number for the order.
        tracking_number: TrackingNumber,
    },
    /// The carrier refused the order; re-running the import retries it.
    Failed {
        /// Why.
        message: String,
    },
}

/// Orders and their parcels.
#[async_trait]
pub trait OrderBook: Send + Sync {
    /// Records a created order and its parcels (idempotent on account + reference), together
    /// with the request that produced it and its [`RequestFingerprint`].
    ///
    /// # Errors
    /// [`StoreError::IdempotencyConflict`], writing nothing, when the reference is stored
    /// with a different request ([`OrderBook::check_replay`]) or, for a reference the store
    /// has no record of, when the carrier answered a replay with an order that lacks one of
    /// the request's parcels.
    async fn save_order(
        &self,
        account: &str,
        request: &OrderRequest,
        order: &Order,
    ) -> Result<(), StoreError>;

    /// Whether `request` is new under its reference, a replay of the request the order was
    /// created with, or a conflicting one (see [`fingerprint`] for the rules, including
    /// orders stored before fingerprints were). Read-only: call it before sending the request
    /// to the carrier, so a conflicting replay is never sent.
    async fn check_replay(
        &self,
        account: &str,
        request: &OrderRequest,
    ) -> Result<Replay, StoreError>;

    /// [`OrderBook::check_replay`] for many requests at once, answers in their order (an
    /// import checks its whole file before it sends anything).
    async fn check_replays(
        &self,
        account: &str,
        requests: &[&OrderRequest],
    ) -> Result<Vec<Replay>, StoreError> {
        let mut replays = Vec::with_capacity(requests.len());
        for request in requests {
            replays.push(self.check_replay(account, request).await?);
        }
        Ok(replays)
    }

    /// One order by reference, with its parcels and their statuses.
    async fn order(
        &self,
        account: Option<&str>,
        reference: &PartnerOrderRef,
    ) -> Result<Option<StoredOrder>, StoreError>;

    /// Orders in [`OrderFilter::sort`]'s order, filtered and paginated (keyset on that order).
    async fn list_orders(&self, filter: &OrderFilter) -> Result<Vec<StoredOrder>, StoreError>;

    /// Records where a parcel now belongs (added, or split onto a new order), creating the
    /// order row when the store does not hold it yet and re-deriving both orders' statuses.
    /// Idempotent: recording the same placement twice changes nothing.
    async fn place_parcel(
        &self,
        account: &str,
        placement: &ParcelPlacement,
    ) -> Result<(), StoreError>;
}

/// Where feeds and trackers write: pool pages with their cursor, tracking events, and which
/// parcels to refresh next.
#[async_trait]
pub trait FeedSink: Send + Sync {
    /// The account's pool cursor (0 when nothing was stored yet).
    async fn cursor(&self, account: &str) -> Result<Cursor, StoreError>;

    /// Stores a page of pool items (raw rows, the events they carry, any orders and parcels
    /// they reveal) and advances the account's cursor to `next_cursor`, all in ONE
    /// transaction. Replaying items already stored changes nothing. Returns how many items
    /// were new. (A page with rows that could not be decoded:
    /// [`FeedSink::record_pool_rows`].)
    async fn record_pool_page(
        &self,
        account: &str,
        items: &[FeedItem],
        next_cursor: Cursor,
    ) -> Result<usize, StoreError> {
        Ok(self.record_pool_rows(account, items, &[], next_cursor).await?.items)
    }

    /// [`FeedSink::record_pool_page`] for a page that also carried rows the adapter could
    /// not decode: those are kept raw in the quarantine (see [`Quarantine`]) in the SAME
    /// transaction as the items and the cursor move, so nothing is lost and the cursor moves
    /// past them. A row redelivered identically (same account, same raw text) is kept once.
    async fn record_pool_rows(
        &self,
        account: &str,
        items: &[FeedItem],
        undecoded: &[UndecodedRow],
        next_cursor: Cursor,
    ) -> Result<PoolCommit, StoreError>;

    /// Stores tracking events (idempotent on the event key) and updates affected parcels'
    /// statuses. Returns how many were new.
    ///
    /// An event joins parcels by the numbers it carries: its merchant tracking number when it
    /// has one (in any account, even a parcel saved later — first-leg events are given the
    /// merchant number by [`CarrierInfo::join`](waybill_domain::CarrierInfo::join)), else its
    /// tracking number when that is exactly one stored parcel's, or one order's.
    async fn record_events(&self, events: &[TrackingEvent]) -> Result<usize, StoreError>;

    /// [`FeedSink::record_events`] for events a carrier pushed (a webhook): besides storing
    /// them, every parcel they join by merchant number is noted as covered by webhooks (not
    /// offered for lookups while [`RefreshSelection::pushed_within`] says so) and as having
    /// news; the parcels in `handed_over` (the push reported the first leg's hand-over) are
    /// never looked up again. The schedule notes are written after the events, in a second
    /// statement: a crash between them only costs a lookup.
    async fn record_pushed(
        &self,
        events: &[TrackingEvent],
        handed_over: &[MerchantTrackingNumber],
    ) -> Result<usize, StoreError>;

    /// The parcels to look up next (a merchant number shared by parcels of several accounts
    /// once): see [`RefreshSelection`] for which, in what order.
    async fn refresh_candidates(
        &self,
        selection: &RefreshSelection,
    ) -> Result<Vec<RefreshCandidate>, StoreError>;

    /// Notes a lookup of a parcel's first leg (every account's parcel with that number): when
    /// it is next due, and whether it brought news.
    async fn mark_refreshed(
        &self,
        parcel: &MerchantTrackingNumber,
        refreshed: &Refreshed,
    ) -> Result<(), StoreError>;
}

/// Merged timelines, for people and for the API.
#[async_trait]
pub trait TimelineReader: Send + Sync {
    /// A parcel's merged timeline, looked up by ANY number the store knows for it: merchant
    /// tracking number, the carrier's parcel tracking number, or the order's tracking number /
    /// partner reference when the order has exactly one parcel.
    async fn parcel_timeline(&self, number: &str) -> Result<Option<ParcelTimeline>, StoreError>;

    /// Every parcel's merged timeline, ordered by order reference then merchant number.
    async fn all_timelines(&self) -> Result<Vec<ParcelTimeline>, StoreError>;

    /// Counts of stored things: (orders, parcels, pool rows, events).
    async fn counts(&self) -> Result<StoreCounts, StoreError>;

    /// How many parcels are in each unified status (statuses without parcels left out).
    async fn parcels_by_status(&self) -> Result<Vec<(TrackingStatus, u64)>, StoreError>;
}

/// Bulk import's memory: how each imported order ended, so a re-run skips what is done.
#[async_trait]
pub trait ImportJournal: Send + Sync {
    /// The import journal's entry for an account's reference, if any.
    async fn journal_get(
        &self,
        account: &str,
        reference: &PartnerOrderRef,
    ) -> Result<Option<JournalEntry>, StoreError>;

    /// Records how an import row ended (upsert).
    async fn journal_put(
        &self,
        account: &str,
        reference: &PartnerOrderRef,
        entry: &JournalEntry,
    ) -> Result<(), StoreError>;

    /// The journal's entries for many references at once, in their order (an import reads
    /// them all before it sends anything, instead of one read per order).
    async fn journal_entries(
        &self,
        account: &str,
        references: &[PartnerOrderRef],
    ) -> Result<Vec<Option<JournalEntry>>, StoreError> {
        let mut entries = Vec::with_capacity(references.len());
        for reference in references {
            entries.push(self.journal_get(account, reference).await?);
        }
        Ok(entries)
    }

    /// Records orders an import created, each as [`OrderBook::save_order`] does TOGETHER with
    /// its journal entry `Done` (a crash cannot keep one without the other), in as few
    /// transactions as the backend can (SQLite and PostgreSQL: one for the whole slice).
    /// Each order is atomic: one the store refuses with an [`IdempotencyConflict`] (as
    /// `save_order` would) writes nothing but its journal entry `Failed` naming the conflict,
    /// and its slot of the answer holds the conflict; the others are recorded.
    async fn save_imported(
        &self,
        account: &str,
        orders: &[(&OrderRequest, &Order)],
    ) -> Result<Vec<Result<(), Box<IdempotencyConflict>>>, StoreError>;
}

/// A whole backend: every port at once. Implemented for anything that implements the six.
pub trait Store:
    OrderBook + FeedSink + TimelineReader + ImportJournal + Quarantine + Outbox
{
}

impl<T: OrderBook + FeedSink + TimelineReader + ImportJournal + Quarantine + Outbox> Store for T {}

/// How much the store holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StoreCounts {
    /// Orders.
    pub orders: u64,
    /// Parcels.
    pub parcels: u64,
    /// Raw pool rows.
    pub pool_rows: u64,
    /// Tracking events from every carrier.
    pub events: u64,
    /// Feed rows kept in quarantine (could not be decoded), every account.
    pub quarantined: u64,
}

/// What `waybill store status` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreStatus {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// The file, or `host:port/database` (never a password).
    pub location: String,
    /// The newest migration applied (0 before any).
    pub schema_version: i64,
    /// How much the store holds.
    pub counts: StoreCounts,
    /// Each account with a cursor or a pool lease, by name.
    pub accounts: Vec<AccountStatus>,
}

/// One account's pool progress and who drains it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountStatus {
    /// The account.
    pub account: String,
    /// Its pool cursor (0 when nothing was stored).
    pub cursor: u64,
    /// The worker holding its pool lease, while the lease is live.
    pub lease_holder: Option<String>,
    /// Until when (RFC 3339), while the lease is live.
    pub lease_until: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_name_the_account_and_bare_references_still_work() {
        let mut f = OrderFilter::default();
        f.set_cursor("@sydney:PO:7").expect("cursor");
        assert_eq!(f.after_account.as_deref(), Some("sydney"));
        assert_eq!(f.after.as_ref().map(PartnerOrderRef::as_str), Some("PO:7"));
        f.set_cursor("PO-9").expect("bare reference");
        assert_eq!(f.after_account, None);
        assert_eq!(f.after.as_ref().map(PartnerOrderRef::as_str), Some("PO-9"));
        assert!(OrderFilter::default().set_cursor(" PO-1").is_err());
    }
}

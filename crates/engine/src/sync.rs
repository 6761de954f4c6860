//! The sync engine: drains each account's status feed into the store (cursor committed with
//! the rows), then refreshes first-leg tracking for parcels still moving, paced by the
//! tracker's own limiter. It speaks only domain ports, so any carrier that implements them
//! can be synced, and it is unit-tested with mocks.

use std::{sync::Arc, time::Duration};

use futures::{StreamExt, stream};
use serde::Serialize;
use tokio::sync::watch;
use waybill_domain::{
    CarrierError, CarrierId, CarrierInfo, ChangePage, Cursor, FeedItem, StatusFeed, TrackQuery,
    Tracker, TrackingNumber,
};
use waybill_store::{FeedSink, StoreError};

/// One account's feed.
#[derive(Clone)]
pub struct FeedAccount {
    /// The account name (the cursor is stored under it).
    pub name: String,
    /// The carrier the feed belongs to (metrics and errors are labelled with it).
    pub carrier: CarrierId,
    /// Its status feed.
    pub feed: Arc<dyn StatusFeed>,
}

/// A tracking platform and the carrier metadata that says how its events join timelines
/// (a first-leg tracker's "delivered" is a hand-over: [`CarrierInfo::join`]).
#[derive(Clone)]
pub struct LegTracker {
    /// Who the tracker is and which leg it reports.
    pub carrier: CarrierInfo,
    /// The tracker.
    pub tracker: Arc<dyn Tracker>,
}

/// Engine settings.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Page size asked of the feed.
    pub page_size: u32,
    /// Parcels refreshed per round.
    pub refresh_batch: u32,
    /// Concurrent tracking lookups (the tracker's limiter still paces them).
    pub refresh_concurrency: usize,
    /// Wait between rounds in continuous mode.
    pub poll_interval: Duration,
    /// Pool rows gathered (over consecutive pages) before one commit: fewer, larger
    /// transactions rewrite each index page once per batch instead of once per page.
    pub commit_rows: usize,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            page_size: 200,
            refresh_batch: 100,
            refresh_concurrency: 8,
            poll_interval: Duration::from_secs(5),
            commit_rows: 10_000,
        }
    }
}

/// Why a sync round failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// A carrier call failed (after the adapter's own retries).
    #[error("account {account}: {source}")]
    Carrier {
        /// Which account or tracker.
        account: String,
        /// What the carrier said.
        source: CarrierError,
    },
    /// The store failed; nothing after the last committed page was kept.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    /// Pages fetched from pools.
    pub pages: u64,
    /// New pool rows stored.
    pub pool_rows: u64,
    /// Parcels whose tracking was looked up.
    pub refreshed: u64,
    /// New tracking events stored from lookups.
    pub tracking_events: u64,
    /// Lookups that failed transiently (retried next round).
    pub refresh_errors: u64,
}

impl SyncReport {
    fn add(&mut self, other: &SyncReport) {
        self.pages += other.pages;
        self.pool_rows += other.pool_rows;
        self.refreshed += other.refreshed;
        self.tracking_events += other.tracking_events;
        self.refresh_errors += other.refresh_errors;
    }
}

/// Hears what the engine does (for metrics and readiness). Every method defaults to doing
/// nothing; calls happen on the engine's task, so implementations must be quick.
pub trait SyncObserver: Send + Sync {
    /// A pool page for `account` was committed: `new_rows` were new, the cursor is `cursor`.
    fn page_committed(&self, account: &str, new_rows: u64, cursor: Cursor) {
        let _ = (account, new_rows, cursor);
    }
    /// `account`'s pool was drained to its end.
    fn drained(&self, account: &str) {
        let _ = account;
    }
    /// Tracking lookups stored `new_events` new events.
    fn tracking_events(&self, new_events: u64) {
        let _ = new_events;
    }
    /// A call to `carrier` failed with an error of this [`CarrierError::kind`].
    fn remote_error(&self, carrier: &str, kind: &'static str) {
        let _ = (carrier, kind);
    }
    /// A full round (every pool drained, tracking refreshed) ended without error.
    fn round_finished(&self, report: &SyncReport) {
        let _ = report;
    }
}

/// The observer used when none is given.
struct Unobserved;

impl SyncObserver for Unobserved {}

/// Drives feeds and trackers into a store.
pub struct SyncEngine {
    store: Arc<dyn FeedSink>,
    accounts: Vec<FeedAccount>,
    tracker: Option<LegTracker>,
    options: SyncOptions,
    observer: Arc<dyn SyncObserver>,
}

impl SyncEngine {
    /// An engine over these accounts and (optionally) a first-leg tracker.
    #[must_use]
    pub fn new(
        store: Arc<dyn FeedSink>,
        accounts: Vec<FeedAccount>,
        tracker: Option<LegTracker>,
        options: SyncOptions,
    ) -> Self {
        Self { store, accounts, tracker, options, observer: Arc::new(Unobserved) }
    }

    /// The same engine reporting to `observer`.
    #[must_use]
    pub fn with_observer(mut self, observer: Arc<dyn SyncObserver>) -> Self {
        self.observer = observer;
        self
    }

    /// Drains one account's pool: pages while `has_more`, committing up to `commit_rows`
    /// rows at a time together with the cursor that covers them (one transaction), while the
    /// next page is already being fetched. Stops early (after a commit) when `stop` turns true.
    ///
    /// # Errors
    /// [`SyncError`]; pages committed before the error stay committed.
    pub async fn drain(
        &self,
        account: &FeedAccount,
        stop: &watch::Receiver<bool>,
    ) -> Result<SyncReport, SyncError> {
        let mut report = SyncReport::default();
        let mut cursor = self.store.cursor(&account.name).await?;
        let mut batch: Vec<FeedItem> = Vec::new();
        let mut page = self.fetch(account, cursor).await?;
        loop {
            report.pages += 1;
            let has_more = page.has_more;
            let next_cursor = page.next_cursor;
            batch.extend(page.items);
            let stopping = *stop.borrow();
            let full = batch.len() >= self.options.commit_rows.max(1);
            if has_more && !full && !stopping {
                page = self.fetch(account, next_cursor).await?;
                continue;
            }
            // Commit the batch with the cursor that covers it; meanwhile fetch the next page,
            // so HTTP and SQLite overlap. A failed commit discards the prefetched page.
            let commit = self.store.record_pool_page(&account.name, &batch, next_cursor);
            let (new, prefetched) = if has_more && !stopping {
                let (new, next) = tokio::join!(commit, self.fetch(account, next_cursor));
                (new?, Some(next))
            } else {
                (commit.await?, None)
            };
            report.pool_rows += new as u64;
            cursor = next_cursor.max(cursor);
            self.observer.page_committed(&account.name, new as u64, cursor);
            batch.clear();
            match prefetched {
                Some(next) => page = next?,
                None => {
                    if !has_more {
                        self.observer.drained(&account.name);
                    }
                    break;
                }
            }
        }
        Ok(report)
    }

    /// One page of an account's feed, with failures counted by kind.
    async fn fetch(&self, account: &FeedAccount, since: Cursor) -> Result<ChangePage, SyncError> {
        account.feed.changes(since, self.options.page_size).await.map_err(|source| {
            self.observer.remote_error(account.carrier.as_str(), source.kind());
            SyncError::Carrier { account: account.name.clone(), source }
        })
    }

    /// Looks up first-leg tracking for up to `refresh_batch` non-terminal parcels and stores
    /// the events. A parcel the tracker does not know yet is not an error.
    ///
    /// # Errors
    /// Store failures, and auth failures (a wrong key fails every lookup: stop and say so).
    pub async fn refresh_tracking(&self) -> Result<SyncReport, SyncError> {
        let mut report = SyncReport::default();
        let Some(leg) = &self.tracker else { return Ok(report) };
        let tracker = &leg.tracker;
        let candidates = self.store.refresh_candidates(self.options.refresh_batch).await?;
        let results: Vec<_> = stream::iter(candidates)
            .map(|c| {
                let tracker = Arc::clone(tracker);
                async move {
                    let number = TrackingNumber::parse(c.merchant_tracking_number.as_str())
                        .map_err(|e| CarrierError::Config { message: e.to_string() });
                    let result = match number {
                        Ok(n) => tracker.track(&TrackQuery::TrackingNumber(n)).await,
                        Err(e) => Err(e),
                    };
                    (c, result)
                }
            })
            .buffer_unordered(self.options.refresh_concurrency.max(1))
            .collect()
            .await;
        for (candidate, result) in results {
            match result {
                Ok(shipments) => {
                    // A first-leg tracker's "Delivered" is the hand-over to the main carrier.
                    let events: Vec<_> = shipments
                        .into_iter()
                        .flat_map(|s| s.events)
                        .map(|e| leg.carrier.join(e))
                        .collect();
                    let new = self.store.record_events(&events).await? as u64;
                    self.observer.tracking_events(new);
                    report.tracking_events += new;
                    report.refreshed += 1;
                    self.store.mark_refreshed(&candidate.merchant_tracking_number).await?;
                }
                Err(CarrierError::NotFound { .. }) => {
                    report.refreshed += 1;
                    self.store.mark_refreshed(&candidate.merchant_tracking_number).await?;
                }
                Err(e @ (CarrierError::Auth { .. } | CarrierError::Forbidden { .. })) => {
                    self.observer.remote_error(leg.carrier.id.as_str(), e.kind());
                    return Err(SyncError::Carrier {
                        account: leg.carrier.id.to_string(),
                        source: e,
                    });
                }
                Err(e) => {
                    self.observer.remote_error(leg.carrier.id.as_str(), e.kind());
                    tracing::warn!(parcel = %candidate.merchant_tracking_number, error = %e, "tracking refresh failed; will retry next round");
                    report.refresh_errors += 1;
                }
            }
        }
        Ok(report)
    }

    /// One full round: drain every account, then refresh tracking.
    ///
    /// # Errors
    /// The first account or store failure.
    pub async fn run_once(&self, stop: &watch::Receiver<bool>) -> Result<SyncReport, SyncError> {
        let mut report = SyncReport::default();
        for account in &self.accounts {
            report.add(&self.drain(account, stop).await?);
            if *stop.borrow() {
                return Ok(report);
            }
        }
        report.add(&self.refresh_tracking().await?);
        self.observer.round_finished(&report);
        Ok(report)
    }

    /// Rounds until `stop` turns true: a round in progress finishes its current page (and
    /// commits it) before returning. Transient carrier failures are logged and retried after
    /// the poll interval; store and auth failures end the loop.
    ///
    /// # Errors
    /// A store failure or a credential the carrier refuses.
    pub async fn run(&self, mut stop: watch::Receiver<bool>) -> Result<SyncReport, SyncError> {
        let mut total = SyncReport::default();
        loop {
            match self.run_once(&stop).await {
                Ok(r) => total.add(&r),
                Err(SyncError::Carrier { account, source }) if source.is_transient() => {
                    tracing::warn!(%account, error = %source, "sync round failed; retrying after the poll interval");
                }
                Err(e) => return Err(e),
            }
            if *stop.borrow() {
                return Ok(total);
            }
            tokio::select! {
                _ = tokio::time::sleep(self.options.poll_interval) => {}
                _ = stop.changed() => {}
            }
            if *stop.borrow() {
                return Ok(total);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use waybill_domain::Leg;
    use waybill_store::{SqliteStore, Store};

    /// The main carrier of these tests (its pool rows use unified status names as raw).
    const MAIN: CarrierId = CarrierId::from_static("mainline");
    /// The first-leg tracker of these tests.
    const FIRST: CarrierInfo =
        CarrierInfo::new(CarrierId::from_static("courier"), "Courier", Leg::First);

    fn leg(tracker: MockTracker) -> Option<LegTracker> {
        Some(LegTracker { carrier: FIRST, tracker: Arc::new(tracker) })
    }
    use waybill_domain::{
        CarrierId, ChangePage, Cursor, EventTime, FeedItem, MerchantTrackingNumber, MockStatusFeed,
        MockTracker, PartnerOrderRef, TrackingEvent, TrackingStatus,
    };

    fn item(cursor: u64, mtn: &str, raw: &str) -> FeedItem {
        let mut event = TrackingEvent::new(
            MAIN,
            TrackingNumber::parse(format!("STM{cursor}")).unwrap(),
            EventTime::exact(
                jiff::Timestamp::from_second(1_750_000_000 + cursor as i64).unwrap(),
                None,
            ),
            raw,
            raw.parse().unwrap_or(TrackingStatus::Unknown),
        );
        event.merchant_tracking_number = Some(MerchantTrackingNumber::parse(mtn).unwrap());
        FeedItem {
            cursor: Cursor(cursor),
            reference: Some(PartnerOrderRef::parse(format!("PO-{mtn}")).unwrap()),
            item_ref: Some(mtn.into()),
            previous_status: None,
            event,
        }
    }

    /// A one-event first-leg shipment as the tracker would answer it.
    fn first_leg(
        n: &TrackingNumber,
        at: &str,
        raw: &str,
        status: TrackingStatus,
    ) -> Vec<waybill_domain::Shipment> {
        let at = EventTime::Local { at: at.parse().unwrap() };
        let e = TrackingEvent::new(FIRST.id.clone(), n.clone(), at, raw, status);
        vec![waybill_domain::Shipment {
            tracking_number: n.clone(),
            order_number: None,
            carrier_name: Some("DHL".into()),
            carrier_service: None,
            raw_status: Some(raw.into()),
            status,
            tracking_url: None,
            events: vec![e],
        }]
    }

    /// A fresh store whose pool revealed one moving parcel, `A1`.
    async fn store_with_parcel_a1() -> (Arc<dyn Store>, tempfile::TempDir) {
        let (store, dir) = SqliteStore::open_temporary().await.unwrap();
        let store: Arc<dyn Store> = Arc::new(store);
        store
            .record_pool_page("syd", &[item(1, "A1", "waiting_for_arrival")], Cursor(1))
            .await
            .unwrap();
        (store, dir)
    }

    fn pool(rows: Vec<FeedItem>) -> MockStatusFeed {
        let mut feed = MockStatusFeed::new();
        feed.expect_changes().returning(move |since, limit| {
            let after: Vec<_> = rows.iter().filter(|r| r.cursor > since).cloned().collect();
            let page: Vec<_> = after.iter().take(limit as usize).cloned().collect();
            let next = page.last().map_or(since, |r| r.cursor);
            Ok(ChangePage { has_more: after.len() > page.len(), items: page, next_cursor: next })
        });
        feed
    }

    #[tokio::test]
    async fn drain_pages_until_has_more_is_false_and_checkpoints() {
        let (store, _dir) = SqliteStore::open_temporary().await.unwrap();
        let store: Arc<dyn Store> = Arc::new(store);
        let rows: Vec<_> =
            (1..=25).map(|c| item(c, &format!("T{}", c % 5), "in_transit")).collect();
        let account = FeedAccount { name: "syd".into(), carrier: MAIN, feed: Arc::new(pool(rows)) };
        let engine = SyncEngine::new(
            store.clone(),
            vec![account.clone()],
            None,
            SyncOptions { page_size: 10, ..SyncOptions::default() },
        );
        let (_tx, rx) = watch::channel(false);
        let report = engine.drain(&account, &rx).await.unwrap();
        assert_eq!((report.pages, report.pool_rows), (3, 25));
        assert_eq!(store.cursor("syd").await.unwrap(), Cursor(25));
        // A second drain asks from the stored cursor and finds nothing new.
        let again = engine.drain(&account, &rx).await.unwrap();
        assert_eq!((again.pages, again.pool_rows), (1, 0));
    }

    #[tokio::test]
    async fn refresh_stores_tracker_events_and_tolerates_not_found() {
        let (store, _dir) = SqliteStore::open_temporary().await.unwrap();
        let store: Arc<dyn Store> = Arc::new(store);
        store
            .record_pool_page(
                "syd",
                &[item(1, "A1", "waiting_for_arrival"), item(2, "B2", "waiting_for_arrival")],
                Cursor(2),
            )
            .await
            .unwrap();
        let mut tracker = MockTracker::new();
        tracker.expect_track().times(2).returning(|q| match q {
            TrackQuery::TrackingNumber(n) if n.as_str() == "A1" => {
                Ok(first_leg(n, "2025-06-15T10:00:00", "In Transit", TrackingStatus::InTransit))
            }
            _ => Err(CarrierError::NotFound { message: "no such shipment".into() }),
        });
        let engine = SyncEngine::new(store.clone(), vec![], leg(tracker), SyncOptions::default());
        let report = engine.refresh_tracking().await.unwrap();
        assert_eq!((report.refreshed, report.tracking_events, report.refresh_errors), (2, 1, 0));
        let t = store.parcel_timeline("A1").await.unwrap().unwrap();
        assert!(t.timeline.events().iter().any(|e| e.carrier == FIRST.id));
    }

    #[tokio::test]
    async fn a_first_leg_delivery_is_a_hand_over_not_the_parcels_delivery() {
        let (store, _dir) = store_with_parcel_a1().await;
        let mut tracker = MockTracker::new();
        tracker.expect_track().returning(|q| {
            let TrackQuery::TrackingNumber(n) = q else { unreachable!("tracked by number") };
            Ok(first_leg(n, "2030-01-01T10:00:00", "Delivered", TrackingStatus::Delivered))
        });
        let engine = SyncEngine::new(store.clone(), vec![], leg(tracker), SyncOptions::default());
        engine.refresh_tracking().await.unwrap();
        let t = store.parcel_timeline("A1").await.unwrap().unwrap();
        let last = t.timeline.events().last().unwrap();
        assert_eq!(
            (last.raw_status.as_str(), last.status),
            ("Delivered", TrackingStatus::InTransit)
        );
        assert_eq!(t.timeline.current_status(), TrackingStatus::InTransit);
        assert_eq!(
            t.parcel.status,
            TrackingStatus::InTransit,
            "still followed until the main carrier delivers"
        );
    }

    #[tokio::test]
    async fn a_refused_tracking_key_stops_the_round() {
        let (store, _dir) = store_with_parcel_a1().await;
        let mut tracker = MockTracker::new();
        tracker.expect_track().returning(|_| Err(CarrierError::Auth { message: "bad key".into() }));
        let engine = SyncEngine::new(store, vec![], leg(tracker), SyncOptions::default());
        assert!(matches!(engine.refresh_tracking().await, Err(SyncError::Carrier { .. })));
    }
}

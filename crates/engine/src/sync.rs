//! The sync engine: drains each account's status feed into the store (cursor committed with
//! the rows), then refreshes first-leg tracking for parcels still on their first leg, in the
//! order the refresh schedule ([`crate::schedule`]) gives, paced by the tracker's own limiter.
//! It speaks only domain ports, so any carrier that implements them can be synced, and it is
//! unit-tested with mocks.
//!
//! # Several workers
//!
//! With a [`Coordination`] (a database several processes share), any number of engines may
//! run at once:
//!
//! - an account's pool is drained by one worker at a time, under an expiring lease
//!   (`pool:<account>`, [`SyncOptions::pool_lease`]) renewed inside every page's commit, so a
//!   page whose lease was lost is refused whole and a killed worker's account is taken over
//!   once its lease expires;
//! - tracking refreshes are claimed per parcel ([`Leases::claim_refreshes`]) and the claim is
//!   renewed right before each lookup, so no parcel is looked up by two workers at once;
//! - with a [`SharedBudget`], every lookup first takes a grant from the subscription key's
//!   budget in the database, so all processes together stay within the key's rate.

use std::{collections::VecDeque, sync::Arc, time::Duration};

use futures::{StreamExt, stream};
use serde::Serialize;
use tokio::sync::watch;
use waybill_domain::{
    CarrierError, CarrierId, CarrierInfo, ChangePage, Cursor, FeedItem, StatusFeed, TrackQuery,
    Tracker, TrackingNumber, UndecodedRow,
};
use waybill_store::{
    BudgetGrant, FeedSink, Lease, Leases, RateBudget, RefreshCandidate, RefreshSelection,
    StoreError,
};

use crate::schedule::{self, RefreshPolicy};

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
    /// With a [`Coordination`]: how long an account's pool lease lasts without renewal (a
    /// killed worker's account is taken over within this time).
    pub pool_lease: Duration,
    /// With a [`Coordination`]: how long a claimed parcel stays this worker's (renewed right
    /// before its lookup).
    pub refresh_lease: Duration,
    /// When each parcel's first leg is looked up again (see [`crate::schedule`]).
    pub refresh_policy: RefreshPolicy,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            page_size: 200,
            refresh_batch: 100,
            refresh_concurrency: 8,
            poll_interval: Duration::from_secs(5),
            commit_rows: 10_000,
            pool_lease: Duration::from_secs(30),
            refresh_lease: Duration::from_secs(120),
            refresh_policy: RefreshPolicy::default(),
        }
    }
}

/// How this worker shares the work with others using the same database.
#[derive(Clone)]
pub struct Coordination {
    /// The database's leases.
    pub leases: Arc<dyn Leases>,
    /// This worker's identity, unique per process (a restarted worker is a new holder).
    pub holder: String,
}

impl Coordination {
    /// A coordination under a fresh holder name: `<host>-<pid>-<random>`.
    #[must_use]
    pub fn new(leases: Arc<dyn Leases>) -> Self {
        let host = std::env::var("HOSTNAME").ok().filter(|h| !h.trim().is_empty());
        let random = {
            use std::hash::{BuildHasher, Hasher};
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u32(std::process::id());
            h.finish() & 0xffff_ffff
        };
        let holder =
            format!("{}-{}-{random:08x}", host.as_deref().unwrap_or("worker"), std::process::id());
        Self { leases, holder }
    }
}

/// A tracker's request budget shared by every process (a subscription key's rate limit): at
/// most `per_window` lookups start in any sliding `window`, counted by the database's clock.
#[derive(Clone)]
pub struct SharedBudget {
    budget: Arc<dyn RateBudget>,
    name: String,
    per_window: u32,
    window: Duration,
    /// One asker per process at a time: the others queue here instead of polling the
    /// database.
    turn: Arc<tokio::sync::Mutex<()>>,
}

impl SharedBudget {
    /// How much longer than a second the budget's window is: the time from a grant to the
    /// request's arrival at the gateway varies (scheduling, connection set-up), and the
    /// gateway counts arrivals in a sliding second. A grant is only given once the slot's
    /// previous grant is this old, so arrival jitter below the margin cannot put more than
    /// the key's rate into any second at the gateway.
    pub const MARGIN: Duration = Duration::from_millis(150);

    /// The budget of a key allowing `per_second` requests: that many grants per
    /// `1 s + MARGIN`. `name` identifies the key (a digest of it, never the key).
    #[must_use]
    pub fn per_second(budget: Arc<dyn RateBudget>, name: String, per_second: u32) -> Self {
        Self {
            budget,
            name,
            per_window: per_second.max(1),
            window: Duration::from_secs(1) + Self::MARGIN,
            turn: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// Waits for one grant.
    async fn take(&self) -> Result<(), StoreError> {
        let _turn = self.turn.lock().await;
        loop {
            match self.budget.try_take(&self.name, self.per_window, self.window).await? {
                BudgetGrant::Granted => return Ok(()),
                BudgetGrant::Wait(wait) => tokio::time::sleep(wait).await,
            }
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
    /// Pool rows that could not be decoded, newly kept in quarantine (sync went past them).
    pub quarantined: u64,
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
        self.quarantined += other.quarantined;
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
    /// That commit also put `rows` undecodable rows of `account` in quarantine (called only
    /// when some were new).
    fn quarantined(&self, account: &str, rows: u64) {
        let _ = (account, rows);
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
    coordination: Option<Coordination>,
    budget: Option<SharedBudget>,
}

/// How one candidate's refresh ended.
enum Refresh {
    /// Looked up (found or not yet known to the tracker) and noted; this many new events.
    Stored {
        /// New events stored.
        new_events: u64,
    },
    /// The lookup failed transiently: the parcel is handed back for a later round.
    Failed(waybill_domain::MerchantTrackingNumber),
    /// The claim lapsed before the lookup: skipped.
    Lapsed,
}

/// The outcome of one candidate's lookup.
enum Lookup {
    /// The tracker answered (or failed).
    Done(Result<Vec<waybill_domain::Shipment>, CarrierError>),
    /// The claim lapsed before the lookup: another worker may have the parcel now.
    Lapsed,
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
        Self {
            store,
            accounts,
            tracker,
            options,
            observer: Arc::new(Unobserved),
            coordination: None,
            budget: None,
        }
    }

    /// The same engine sharing the work with other workers of the same database.
    #[must_use]
    pub fn with_coordination(mut self, coordination: Coordination) -> Self {
        self.coordination = Some(coordination);
        self
    }

    /// The same engine taking a grant from `budget` before every tracking lookup.
    #[must_use]
    pub fn with_shared_budget(mut self, budget: SharedBudget) -> Self {
        self.budget = Some(budget);
        self
    }

    /// This worker's holder name, when it coordinates with others.
    #[must_use]
    pub fn holder(&self) -> Option<&str> {
        self.coordination.as_ref().map(|c| c.holder.as_str())
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
    ///
    /// With a [`Coordination`], the account is drained only when this worker gets its pool
    /// lease (another worker draining it is not an error: the report is empty), every commit
    /// checks and renews the lease, and the lease is given up at the end. A lease lost
    /// mid-drain stops the drain without committing the batch in hand.
    pub async fn drain(
        &self,
        account: &FeedAccount,
        stop: &watch::Receiver<bool>,
    ) -> Result<SyncReport, SyncError> {
        let mut report = SyncReport::default();
        let Some(c) = &self.coordination else {
            self.drain_into(account, stop, None, &mut report).await?;
            return Ok(report);
        };
        let lease = Lease::pool(&account.name, &c.holder, self.options.pool_lease);
        if !c.leases.acquire(&lease).await? {
            tracing::debug!(account = %account.name, "another worker drains this pool");
            return Ok(report);
        }
        let result = self.drain_into(account, stop, Some((c, &lease)), &mut report).await;
        // Only this holder's lease is released; a lost one belongs to its new holder.
        c.leases.release(&lease).await?;
        match result {
            Err(SyncError::Store(StoreError::LeaseLost { name, holder })) => {
                tracing::warn!(account = %account.name, lease = %name, %holder, "pool lease lost mid-drain; the batch in hand was not committed");
                Ok(report)
            }
            other => other.map(|()| report),
        }
    }

    /// Drains into `report` (kept when a later page fails), under `lease` when coordinated.
    async fn drain_into(
        &self,
        account: &FeedAccount,
        stop: &watch::Receiver<bool>,
        lease: Option<(&Coordination, &Lease)>,
        report: &mut SyncReport,
    ) -> Result<(), SyncError> {
        let mut renewed = std::time::Instant::now();
        let mut cursor = self.store.cursor(&account.name).await?;
        let mut batch: Vec<FeedItem> = Vec::new();
        let mut undecoded: Vec<UndecodedRow> = Vec::new();
        let mut page = self.fetch(account, cursor).await?;
        // Pages fetched while the previous batch committed, oldest first; each follows `page`.
        let mut ahead: VecDeque<ChangePage> = VecDeque::new();
        loop {
            report.pages += 1;
            let has_more = page.has_more;
            let next_cursor = page.next_cursor;
            batch.extend(page.items);
            for row in &page.undecoded {
                tracing::warn!(account = %account.name, cursor = ?row.cursor.map(|c| c.0), error = %row.error, "pool row could not be decoded; keeping it in quarantine and moving on");
            }
            undecoded.extend(page.undecoded);
            let stopping = *stop.borrow();
            let full = batch.len() + undecoded.len() >= self.options.commit_rows.max(1);
            if has_more && !full && !stopping {
                // A long gather renews the lease between commits, so it does not lapse.
                if let Some((c, lease)) = lease
                    && renewed.elapsed() > lease.ttl / 3
                {
                    if !c.leases.acquire(lease).await? {
                        return Err(StoreError::LeaseLost {
                            name: lease.name.clone(),
                            holder: lease.holder.clone(),
                        }
                        .into());
                    }
                    renewed = std::time::Instant::now();
                }
                page = match ahead.pop_front() {
                    Some(next) => next,
                    None => self.fetch(account, next_cursor).await?,
                };
                continue;
            }
            // Commit the batch with the cursor that covers it; meanwhile fetch the next page,
            // so HTTP and the database overlap. A failed commit discards the prefetched page.
            let commit = async {
                match lease {
                    Some((c, lease)) => {
                        let new = c
                            .leases
                            .record_pool_page_leased(
                                lease,
                                &account.name,
                                &batch,
                                &undecoded,
                                next_cursor,
                            )
                            .await;
                        renewed = std::time::Instant::now();
                        new
                    }
                    None => {
                        self.store
                            .record_pool_rows(&account.name, &batch, &undecoded, next_cursor)
                            .await
                    }
                }
            };
            // The next batch's pages, not just one: the commit and the feed then overlap
            // for the whole drain instead of taking turns (the pool-ingest profile).
            let (new, prefetched) = if has_more && !stopping && ahead.is_empty() {
                let rows = self.options.commit_rows.max(1);
                let (new, next) =
                    tokio::join!(commit, self.fetch_ahead(account, next_cursor, rows, stop));
                (new?, Some(next))
            } else {
                (commit.await?, None)
            };
            report.pool_rows += new.items as u64;
            report.quarantined += new.quarantined as u64;
            cursor = next_cursor.max(cursor);
            self.observer.page_committed(&account.name, new.items as u64, cursor);
            if new.quarantined > 0 {
                self.observer.quarantined(&account.name, new.quarantined as u64);
            }
            batch.clear();
            undecoded.clear();
            if let Some(next) = prefetched {
                ahead.extend(next?);
            }
            match ahead.pop_front() {
                Some(next) if has_more && !stopping => page = next,
                _ => {
                    if !has_more {
                        self.observer.drained(&account.name);
                    }
                    break;
                }
            }
        }
        Ok(())
    }

    /// The pages after `since`, fetched while a batch commits: until they hold `rows` rows,
    /// the feed has no more, or `stop` turns true (at least one page).
    async fn fetch_ahead(
        &self,
        account: &FeedAccount,
        mut since: Cursor,
        rows: usize,
        stop: &watch::Receiver<bool>,
    ) -> Result<Vec<ChangePage>, SyncError> {
        let mut pages = Vec::new();
        let mut held = 0;
        loop {
            let page = self.fetch(account, since).await?;
            held += page.items.len() + page.undecoded.len();
            since = page.next_cursor;
            let more = page.has_more;
            pages.push(page);
            if !more || held >= rows || *stop.borrow() {
                return Ok(pages);
            }
        }
    }

    /// One page of an account's feed, with failures counted by kind.
    async fn fetch(&self, account: &FeedAccount, since: Cursor) -> Result<ChangePage, SyncError> {
        account.feed.changes(since, self.options.page_size).await.map_err(|source| {
            self.observer.remote_error(account.carrier.as_str(), source.kind());
            SyncError::Carrier { account: account.name.clone(), source }
        })
    }

    /// Looks up first-leg tracking for up to `refresh_batch` parcels, as the store offers
    /// them by the refresh schedule (due ones first; never final parcels, parcels whose first
    /// leg is over or parcels a webhook covers: see [`crate::schedule`]), storing each answer
    /// as soon as it arrives and noting when the parcel is next due. A parcel the tracker does
    /// not know yet is not an error. With a [`Coordination`] the parcels are claimed first
    /// (others skip them) and each claim is renewed right before its lookup; with a
    /// [`SharedBudget`] each lookup waits for a grant.
    ///
    /// # Errors
    /// Store failures, and auth failures (a wrong key fails every lookup: stop and say so).
    pub async fn refresh_tracking(&self) -> Result<SyncReport, SyncError> {
        let mut report = SyncReport::default();
        let Some(leg) = &self.tracker else { return Ok(report) };
        let tracker = &leg.tracker;
        let policy = &self.options.refresh_policy;
        let selection = RefreshSelection {
            limit: self.options.refresh_batch,
            pushed_within: policy.push_cover,
        };
        let candidates = match &self.coordination {
            Some(c) => {
                c.leases.claim_refreshes(&c.holder, &selection, self.options.refresh_lease).await?
            }
            None => self.store.refresh_candidates(&selection).await?,
        };
        // Each lookup stores its own answer as soon as it arrives (an event found by the
        // batch's first lookup does not wait for its last), inside its own future: the loop
        // below only adds up, so no in-flight lookup is left unpolled while holding a
        // database connection or the shared budget's turn.
        let mut lookups = stream::iter(candidates)
            .map(|c| {
                let tracker = Arc::clone(tracker);
                async move { self.refresh_one(leg, tracker.as_ref(), c).await }
            })
            .buffer_unordered(self.options.refresh_concurrency.max(1));
        let mut released = Vec::new();
        while let Some(outcome) = lookups.next().await {
            match outcome? {
                Refresh::Stored { new_events } => {
                    report.tracking_events += new_events;
                    report.refreshed += 1;
                }
                Refresh::Failed(parcel) => {
                    report.refresh_errors += 1;
                    released.push(parcel);
                }
                Refresh::Lapsed => {}
            }
        }
        drop(lookups);
        // Failed lookups are handed back at once, so any worker's next round retries them.
        if let Some(c) = &self.coordination {
            for parcel in &released {
                c.leases.release_refresh(&c.holder, parcel).await?;
            }
        }
        Ok(report)
    }

    /// One candidate: looked up, its events stored, its next lookup scheduled.
    async fn refresh_one(
        &self,
        leg: &LegTracker,
        tracker: &dyn Tracker,
        candidate: RefreshCandidate,
    ) -> Result<Refresh, SyncError> {
        let result = match self.look_up(tracker, &candidate.merchant_tracking_number).await? {
            Lookup::Done(result) => result,
            Lookup::Lapsed => {
                tracing::warn!(parcel = %candidate.merchant_tracking_number, "refresh claim lapsed before the lookup; skipped");
                return Ok(Refresh::Lapsed);
            }
        };
        match result {
            Ok(shipments) => {
                // A first-leg tracker's "Delivered" is the hand-over to the main carrier.
                let handed_over = shipments.iter().any(|s| {
                    s.status == waybill_domain::TrackingStatus::Delivered
                        || !schedule::hand_overs(&leg.carrier, &s.events).is_empty()
                });
                let events: Vec<_> = shipments
                    .into_iter()
                    .flat_map(|s| s.events)
                    .map(|e| leg.carrier.join(e))
                    .collect();
                let new_events = self.store.record_events(&events).await? as u64;
                self.observer.tracking_events(new_events);
                self.mark(&candidate, new_events > 0, handed_over).await?;
                Ok(Refresh::Stored { new_events })
            }
            Err(CarrierError::NotFound { .. }) => {
                self.mark(&candidate, false, false).await?;
                Ok(Refresh::Stored { new_events: 0 })
            }
            Err(e @ (CarrierError::Auth { .. } | CarrierError::Forbidden { .. })) => {
                self.observer.remote_error(leg.carrier.id.as_str(), e.kind());
                Err(SyncError::Carrier { account: leg.carrier.id.to_string(), source: e })
            }
            Err(e) => {
                self.observer.remote_error(leg.carrier.id.as_str(), e.kind());
                tracing::warn!(parcel = %candidate.merchant_tracking_number, error = %e, "tracking refresh failed; will retry next round");
                Ok(Refresh::Failed(candidate.merchant_tracking_number))
            }
        }
    }

    /// Notes a lookup in the store: the schedule decides when the parcel is next due.
    async fn mark(
        &self,
        candidate: &RefreshCandidate,
        news: bool,
        handed_over: bool,
    ) -> Result<(), SyncError> {
        let lookup = schedule::Lookup { news, handed_over, idle: candidate.idle };
        let refreshed = self.options.refresh_policy.next(&lookup);
        self.store.mark_refreshed(&candidate.merchant_tracking_number, &refreshed).await?;
        Ok(())
    }

    /// One lookup: the claim renewed (coordinated), a grant taken (shared budget), then the
    /// tracker asked.
    async fn look_up(
        &self,
        tracker: &dyn Tracker,
        parcel: &waybill_domain::MerchantTrackingNumber,
    ) -> Result<Lookup, SyncError> {
        let number = match TrackingNumber::parse(parcel.as_str()) {
            Ok(n) => n,
            Err(e) => {
                return Ok(Lookup::Done(Err(CarrierError::Config { message: e.to_string() })));
            }
        };
        if let Some(c) = &self.coordination
            && !c.leases.keep_refresh(&c.holder, parcel, self.options.refresh_lease).await?
        {
            return Ok(Lookup::Lapsed);
        }
        if let Some(budget) = &self.budget {
            budget.take().await?;
        }
        Ok(Lookup::Done(tracker.track(&TrackQuery::TrackingNumber(number)).await))
    }

    /// One full round: drain every account, then refresh tracking.
    ///
    /// # Errors
    /// The first account or store failure.
    pub async fn run_once(&self, stop: &watch::Receiver<bool>) -> Result<SyncReport, SyncError> {
        let mut report = SyncReport::default();
        // Coordinated workers start at different accounts, so they spread over the pools.
        let start = self.coordination.as_ref().map_or(0, |c| {
            let sum: usize = c.holder.bytes().map(usize::from).sum();
            sum % self.accounts.len().max(1)
        });
        let ordered = self.accounts[start..].iter().chain(&self.accounts[..start]);
        for account in ordered {
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
    /// commits it) before returning. Transient carrier failures, and pages the feed could not
    /// read at all (a decode failure: nothing of the page was committed, the cursor stays), are
    /// logged and retried after the poll interval; store and auth failures end the loop.
    ///
    /// # Errors
    /// A store failure or a credential the carrier refuses.
    pub async fn run(&self, mut stop: watch::Receiver<bool>) -> Result<SyncReport, SyncError> {
        let mut total = SyncReport::default();
        loop {
            match self.run_once(&stop).await {
                Ok(r) => total.add(&r),
                Err(SyncError::Carrier { account, source })
                    if source.is_transient() || matches!(source, CarrierError::Decode { .. }) =>
                {
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
            Ok(ChangePage {
                has_more: after.len() > page.len(),
                items: page,
                undecoded: vec![],
                next_cursor: next,
            })
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

    /// Counts what the engine reports as quarantined.
    #[derive(Default)]
    struct QuarantineSeen(std::sync::Mutex<Vec<(String, u64)>>);

    impl SyncObserver for QuarantineSeen {
        fn quarantined(&self, account: &str, rows: u64) {
            self.0.lock().unwrap().push((account.to_owned(), rows));
        }
    }

    #[tokio::test]
    async fn an_undecodable_row_is_quarantined_and_the_drain_goes_on() {
        let (store, _dir) = SqliteStore::open_temporary().await.unwrap();
        let store: Arc<dyn Store> = Arc::new(store);
        // Cursor 1 cannot be decoded; 2..=12 can, over two pages of 6.
        let rows: Vec<_> =
            (2..=12).map(|c| item(c, &format!("T{}", c % 3), "in_transit")).collect();
        let bad = UndecodedRow {
            cursor: Some(Cursor(1)),
            raw: r#"{"cursor":1,"occurred_at":""}"#.into(),
            error: "occurred_at is empty".into(),
        };
        let mut feed = MockStatusFeed::new();
        feed.expect_changes().returning(move |since, limit| {
            let after: Vec<_> = rows.iter().filter(|r| r.cursor > since).cloned().collect();
            let page: Vec<_> = after.iter().take(limit as usize - 1).cloned().collect();
            let next = page.last().map_or(since, |r| r.cursor);
            let undecoded = if since == Cursor(0) { vec![bad.clone()] } else { vec![] };
            Ok(ChangePage {
                has_more: after.len() > page.len(),
                items: page,
                undecoded,
                next_cursor: next,
            })
        });
        let account = FeedAccount { name: "syd".into(), carrier: MAIN, feed: Arc::new(feed) };
        let seen = Arc::new(QuarantineSeen::default());
        let engine = SyncEngine::new(
            store.clone(),
            vec![account.clone()],
            None,
            SyncOptions { page_size: 7, commit_rows: 1, ..SyncOptions::default() },
        )
        .with_observer(seen.clone());
        let (_tx, rx) = watch::channel(false);
        let report = engine.drain(&account, &rx).await.unwrap();
        assert_eq!((report.pool_rows, report.quarantined), (11, 1));
        assert_eq!(store.cursor("syd").await.unwrap(), Cursor(12), "the cursor moved past it");
        assert_eq!(*seen.0.lock().unwrap(), [("syd".to_owned(), 1)]);
        let kept = store.quarantined(&waybill_store::QuarantineFilter { account: None, limit: 10 });
        let kept = kept.await.unwrap();
        assert_eq!((kept.len(), kept[0].cursor, kept[0].raw.as_str()), (1, Some(1), bad_raw()));
        // Asking again from the start (a replay) keeps it once.
        store
            .record_pool_rows(
                "syd",
                &[],
                &[UndecodedRow {
                    cursor: Some(Cursor(1)),
                    raw: bad_raw().into(),
                    error: "x".into(),
                }],
                Cursor(1),
            )
            .await
            .unwrap();
        assert_eq!(store.counts().await.unwrap().quarantined, 1);
    }

    #[tokio::test]
    async fn continuous_sync_retries_a_page_it_could_not_read() {
        let (store, _dir) = SqliteStore::open_temporary().await.unwrap();
        let store: Arc<dyn Store> = Arc::new(store);
        let rows: Vec<_> = (1..=5).map(|c| item(c, "T1", "in_transit")).collect();
        let good = pool(rows);
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let mut feed = MockStatusFeed::new();
        feed.expect_changes().returning(move |since, limit| {
            if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                return Err(CarrierError::Decode {
                    message: "the page is not JSON".into(),
                    body: "<html>".into(),
                });
            }
            futures::executor::block_on(good.changes(since, limit))
        });
        let account = FeedAccount { name: "syd".into(), carrier: MAIN, feed: Arc::new(feed) };
        let options =
            SyncOptions { poll_interval: Duration::from_millis(10), ..SyncOptions::default() };
        let engine = Arc::new(SyncEngine::new(store.clone(), vec![account], None, options));
        let (tx, rx) = watch::channel(false);
        let running = tokio::spawn({
            let engine = Arc::clone(&engine);
            async move { engine.run(rx).await }
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while store.cursor("syd").await.unwrap() != Cursor(5) {
            assert!(std::time::Instant::now() < deadline, "the page was never retried");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tx.send(true).unwrap();
        let total = running.await.unwrap().unwrap();
        assert_eq!(total.pool_rows, 5);
    }

    fn bad_raw() -> &'static str {
        r#"{"cursor":1,"occurred_at":""}"#
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
    async fn a_parcel_is_not_looked_up_again_once_its_first_leg_is_handed_over() {
        let (store, _dir) = SqliteStore::open_temporary().await.unwrap();
        let store: Arc<dyn Store> = Arc::new(store);
        let rows = [item(1, "A1", "waiting_for_arrival"), item(2, "B2", "waiting_for_arrival")];
        store.record_pool_page("syd", &rows, Cursor(2)).await.unwrap();
        let asked = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let mut tracker = MockTracker::new();
        let log = Arc::clone(&asked);
        tracker.expect_track().returning(move |q| {
            let TrackQuery::TrackingNumber(n) = q else { unreachable!("tracked by number") };
            log.lock().unwrap().push(n.to_string());
            let (raw, status) = if n.as_str() == "A1" {
                ("Delivered", TrackingStatus::Delivered)
            } else {
                ("In Transit", TrackingStatus::InTransit)
            };
            Ok(first_leg(n, "2030-01-01T10:00:00", raw, status))
        });
        let engine = SyncEngine::new(store.clone(), vec![], leg(tracker), SyncOptions::default());
        for _ in 0..3 {
            engine.refresh_tracking().await.unwrap();
        }
        let asked = asked.lock().unwrap().clone();
        assert_eq!(asked.iter().filter(|n| *n == "A1").count(), 1, "{asked:?}");
        assert_eq!(asked.iter().filter(|n| *n == "B2").count(), 3, "{asked:?}");
    }

    #[tokio::test]
    async fn a_parcel_a_webhook_covers_is_not_looked_up() {
        let (store, _dir) = store_with_parcel_a1().await;
        let pushed: Vec<_> = first_leg(
            &TrackingNumber::parse("A1").unwrap(),
            "2030-01-01T10:00:00",
            "In Transit",
            TrackingStatus::InTransit,
        )
        .into_iter()
        .flat_map(|s| s.events)
        .map(|e| FIRST.join(e))
        .collect();
        assert_eq!(store.record_pushed(&pushed, &[]).await.unwrap(), 1);
        let mut tracker = MockTracker::new();
        tracker.expect_track().never();
        let engine = SyncEngine::new(store.clone(), vec![], leg(tracker), SyncOptions::default());
        assert_eq!(engine.refresh_tracking().await.unwrap().refreshed, 0);
        // With no cover (a zero window), it is looked up again.
        let mut tracker = MockTracker::new();
        tracker
            .expect_track()
            .times(1)
            .returning(|_| Err(CarrierError::NotFound { message: "no such shipment".into() }));
        let policy = RefreshPolicy { push_cover: Duration::ZERO, ..RefreshPolicy::default() };
        let options = SyncOptions { refresh_policy: policy, ..SyncOptions::default() };
        let engine = SyncEngine::new(store, vec![], leg(tracker), options);
        assert_eq!(engine.refresh_tracking().await.unwrap().refreshed, 1);
    }

    #[tokio::test]
    async fn news_puts_a_parcel_ahead_of_quiet_ones() {
        let (store, _dir) = SqliteStore::open_temporary().await.unwrap();
        let store: Arc<dyn Store> = Arc::new(store);
        let rows = [item(1, "A1", "waiting_for_arrival"), item(2, "B2", "waiting_for_arrival")];
        store.record_pool_page("syd", &rows, Cursor(2)).await.unwrap();
        // A1 has news at every lookup, B2 never; both are looked up twice.
        let mut tracker = MockTracker::new();
        let scans = std::sync::atomic::AtomicU32::new(0);
        tracker.expect_track().returning(move |q| {
            let TrackQuery::TrackingNumber(n) = q else { unreachable!("tracked by number") };
            if n.as_str() != "A1" {
                return Err(CarrierError::NotFound { message: "not yet".into() });
            }
            let k = scans.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let at = format!("2030-01-01T10:{k:02}:00");
            Ok(first_leg(n, &at, "In Transit", TrackingStatus::InTransit))
        });
        let policy = RefreshPolicy {
            after_news: Duration::ZERO,
            idle_divisor: 1,
            longest: Duration::from_secs(3600),
            ..RefreshPolicy::default()
        };
        let options = SyncOptions { refresh_policy: policy, ..SyncOptions::default() };
        let engine = SyncEngine::new(store.clone(), vec![], leg(tracker), options);
        engine.refresh_tracking().await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        engine.refresh_tracking().await.unwrap();
        // A1 is due at once (news); B2, idle for 200 ms, only 200 ms from now, whichever
        // was looked up last.
        let next = store
            .refresh_candidates(&RefreshSelection { limit: 1, pushed_within: Duration::ZERO })
            .await
            .unwrap();
        assert_eq!(next[0].merchant_tracking_number.as_str(), "A1");
    }

    /// Leases over a SQLite store for the engine's tests: `held_by_other` refuses every
    /// acquisition; otherwise leased commits succeed `pages_before_loss` times, then the lease
    /// is lost.
    struct FakeLeases {
        store: Arc<dyn Store>,
        held_by_other: bool,
        pages_before_loss: std::sync::atomic::AtomicUsize,
        released: std::sync::atomic::AtomicBool,
    }

    #[async_trait::async_trait]
    impl Leases for FakeLeases {
        async fn acquire(&self, _: &Lease) -> Result<bool, StoreError> {
            Ok(!self.held_by_other)
        }
        async fn release(&self, _: &Lease) -> Result<(), StoreError> {
            self.released.store(true, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        }
        async fn record_pool_page_leased(
            &self,
            lease: &Lease,
            account: &str,
            items: &[FeedItem],
            undecoded: &[UndecodedRow],
            next: Cursor,
        ) -> Result<waybill_store::PoolCommit, StoreError> {
            use std::sync::atomic::Ordering::SeqCst;
            let left = self.pages_before_loss.load(SeqCst);
            if left == 0 {
                return Err(StoreError::LeaseLost {
                    name: lease.name.clone(),
                    holder: lease.holder.clone(),
                });
            }
            self.pages_before_loss.store(left - 1, SeqCst);
            self.store.record_pool_rows(account, items, undecoded, next).await
        }
        async fn claim_refreshes(
            &self,
            _: &str,
            _: &RefreshSelection,
            _: Duration,
        ) -> Result<Vec<waybill_store::RefreshCandidate>, StoreError> {
            Ok(Vec::new())
        }
        async fn keep_refresh(
            &self,
            _: &str,
            _: &MerchantTrackingNumber,
            _: Duration,
        ) -> Result<bool, StoreError> {
            Ok(true)
        }
        async fn release_refresh(
            &self,
            _: &str,
            _: &MerchantTrackingNumber,
        ) -> Result<(), StoreError> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_coordinated_drain_skips_a_leased_pool_and_stops_when_its_lease_is_lost() {
        let (store, _dir) = SqliteStore::open_temporary().await.unwrap();
        let store: Arc<dyn Store> = Arc::new(store);
        let rows: Vec<_> =
            (1..=30).map(|c| item(c, &format!("T{}", c % 5), "in_transit")).collect();
        let account = FeedAccount { name: "syd".into(), carrier: MAIN, feed: Arc::new(pool(rows)) };
        let options = SyncOptions { page_size: 10, commit_rows: 10, ..SyncOptions::default() };
        let fake = |held_by_other, pages| {
            Arc::new(FakeLeases {
                store: Arc::clone(&store),
                held_by_other,
                pages_before_loss: std::sync::atomic::AtomicUsize::new(pages),
                released: std::sync::atomic::AtomicBool::new(false),
            })
        };
        let (_tx, rx) = watch::channel(false);

        // Another worker drains it: nothing fetched, nothing stored, not an error.
        let busy = fake(true, 9);
        let engine =
            SyncEngine::new(Arc::clone(&store) as _, vec![account.clone()], None, options.clone())
                .with_coordination(Coordination::new(busy.clone()));
        assert_eq!(engine.drain(&account, &rx).await.unwrap(), SyncReport::default());
        assert_eq!(store.cursor("syd").await.unwrap(), Cursor(0));

        // The lease is lost after one commit: the drain stops there and gives the lease up.
        let losing = fake(false, 1);
        let engine = SyncEngine::new(Arc::clone(&store) as _, vec![account.clone()], None, options)
            .with_coordination(Coordination::new(losing.clone()));
        assert!(engine.holder().is_some());
        let report = engine.drain(&account, &rx).await.unwrap();
        assert_eq!(report.pool_rows, 10, "only the page committed under the lease counts");
        assert_eq!(store.cursor("syd").await.unwrap(), Cursor(10));
        assert!(losing.released.load(std::sync::atomic::Ordering::SeqCst));
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

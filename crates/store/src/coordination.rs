//! The ports several workers sharing one database coordinate through: expiring leases on
//! work, and a request budget shared by every process. Only a shared database offers them
//! (the PostgreSQL backend); with SQLite one process does all the work.

use std::time::Duration;

use async_trait::async_trait;
use waybill_domain::{Cursor, FeedItem, MerchantTrackingNumber, UndecodedRow};

use crate::{PoolCommit, RefreshCandidate, RefreshSelection, StoreError};

/// A lease on a named piece of work, as one worker asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// What is leased, e.g. `pool:sydney`.
    pub name: String,
    /// Who holds it: unique per worker process (a restarted worker is a new holder).
    pub holder: String,
    /// How long the lease lasts after each acquisition or renewal; a worker that stops
    /// renewing loses the work to another within this time.
    pub ttl: Duration,
}

impl Lease {
    /// The lease on draining an account's status pool.
    #[must_use]
    pub fn pool(account: &str, holder: &str, ttl: Duration) -> Lease {
        Lease { name: format!("pool:{account}"), holder: holder.to_owned(), ttl }
    }
}

/// Expiring leases on work, so each piece is done by one worker at a time.
#[async_trait]
pub trait Leases: Send + Sync {
    /// Takes the lease when it is free or expired, or renews it when this holder has it.
    /// Returns false when another holder has it.
    async fn acquire(&self, lease: &Lease) -> Result<bool, StoreError>;

    /// Gives the lease up (when this holder has it), so another worker may take the work at
    /// once.
    async fn release(&self, lease: &Lease) -> Result<(), StoreError>;

    /// [`FeedSink::record_pool_rows`](crate::FeedSink::record_pool_rows), committed only while
    /// `lease` is held: inside the page's transaction the lease is checked and renewed, and a
    /// lease that expired or was taken over refuses the whole page with
    /// [`StoreError::LeaseLost`] (nothing is written, the cursor does not move, nothing is
    /// quarantined).
    async fn record_pool_page_leased(
        &self,
        lease: &Lease,
        account: &str,
        items: &[FeedItem],
        undecoded: &[UndecodedRow],
        next_cursor: Cursor,
    ) -> Result<PoolCommit, StoreError>;

    /// Claims parcels to refresh (the ones
    /// [`FeedSink::refresh_candidates`](crate::FeedSink::refresh_candidates) would offer, in
    /// its order), skipping those another worker is looking up: each merchant number
    /// returned is leased to `holder` for `ttl`, and no other holder gets it until the lease
    /// ends.
    async fn claim_refreshes(
        &self,
        holder: &str,
        selection: &RefreshSelection,
        ttl: Duration,
    ) -> Result<Vec<RefreshCandidate>, StoreError>;

    /// Renews `holder`'s lease on a parcel right before looking it up; false when the lease
    /// ended and another worker may have it (the lookup must then be skipped).
    async fn keep_refresh(
        &self,
        holder: &str,
        parcel: &MerchantTrackingNumber,
        ttl: Duration,
    ) -> Result<bool, StoreError>;

    /// Ends `holder`'s lease on a parcel (after a failed lookup, so a later round retries it;
    /// [`FeedSink::mark_refreshed`](crate::FeedSink::mark_refreshed) ends it too).
    async fn release_refresh(
        &self,
        holder: &str,
        parcel: &MerchantTrackingNumber,
    ) -> Result<(), StoreError>;
}

/// The answer of [`RateBudget::try_take`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetGrant {
    /// One request may be sent now.
    Granted,
    /// The budget is spent: ask again after this long.
    Wait(Duration),
}

/// A request budget shared by every process using the database: at most `per_window`
/// grants in any sliding window of length `window`, counted in the database's clock (so
/// workers' clocks do not matter).
#[async_trait]
pub trait RateBudget: Send + Sync {
    /// Takes one grant from `budget` (an identity such as a digest of a subscription key,
    /// never a secret), or says how long until one frees up.
    async fn try_take(
        &self,
        budget: &str,
        per_window: u32,
        window: Duration,
    ) -> Result<BudgetGrant, StoreError>;
}

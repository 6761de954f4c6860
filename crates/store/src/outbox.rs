//! The outbox of outbound webhooks: the subscriptions the configuration names, and one
//! durable delivery per subscription for every change of a parcel's unified status or
//! milestone.
//!
//! Deliveries are written by the database itself (a trigger on the parcels table, see
//! `migrations/0005_outbound_webhooks.sql`), in the same transaction as the events that moved
//! the parcel, whichever port wrote them: a pool page, tracking events, a webhook, a parcel
//! placement. So a crash never loses a notification, and a replayed page (which moves no
//! parcel) never writes one twice; the sender then delivers each **at least once**.
//!
//! A worker [claims](Outbox::claim_deliveries) due deliveries (a claim is a lock that expires,
//! so a worker killed mid-send leaves its deliveries to be sent again), sends them, and
//! [finishes](Outbox::finish_delivery) each with the attempt's outcome. A parcel's deliveries
//! to one subscription go out in the order the changes happened: only the oldest pending one
//! is ever due.

use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use serde::Serialize;
use waybill_domain::{
    MerchantTrackingNumber, Milestone, PartnerOrderRef, TrackingNumber, TrackingStatus,
};

use crate::StoreError;

/// A subscription as the store keeps it (its secret stays with the sender, never stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The subscription's name (unique).
    pub name: String,
    /// Where deliveries are posted.
    pub url: String,
    /// The unified statuses whose changes notify; empty: every change.
    pub statuses: Vec<TrackingStatus>,
    /// How long a delivery is retried before it is given up.
    pub retry_for: Duration,
}

/// Where a delivery is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// To be sent (again) at its next attempt time.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Given up: retried for its subscription's whole retry time, or the subscription was
    /// removed from the configuration. `redeliver` queues it again.
    Failed,
}

impl DeliveryState {
    /// Every state, in life order.
    pub const ALL: [DeliveryState; 3] =
        [DeliveryState::Pending, DeliveryState::Delivered, DeliveryState::Failed];

    /// The stored (and printed) name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }
}

impl std::fmt::Display for DeliveryState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for DeliveryState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|state| state.as_str() == s).ok_or_else(|| {
            format!("{s:?} is not a delivery state: use pending, delivered or failed")
        })
    }
}

/// A change of one parcel's unified status or milestone, as it was when it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusChange {
    /// The main carrier account.
    pub account: String,
    /// The order's reference.
    pub reference: PartnerOrderRef,
    /// The parcel's merchant tracking number.
    pub merchant_tracking_number: MerchantTrackingNumber,
    /// The main carrier's tracking number for the parcel, when known then.
    pub tracking_number: Option<TrackingNumber>,
    /// The status before.
    pub previous_status: TrackingStatus,
    /// The milestone before.
    pub previous_milestone: Milestone,
    /// The status after.
    pub status: TrackingStatus,
    /// The milestone after.
    pub milestone: Milestone,
    /// The carrier of the event now at the head of the parcel's timeline.
    pub carrier: Option<String>,
    /// That event's status as the carrier wrote it.
    pub raw_status: Option<String>,
    /// When the store recorded the change.
    pub changed_at: Timestamp,
}

/// One notification to one subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    /// The delivery's id: increasing, unique across subscriptions.
    pub id: u64,
    /// The subscription it is for.
    pub subscription: String,
    /// What changed.
    pub change: StatusChange,
    /// Where it is in its life.
    pub state: DeliveryState,
    /// Attempts made so far.
    pub attempts: u32,
    /// When it is (or was last) due.
    pub next_attempt_at: Timestamp,
    /// When retrying stops.
    pub expires_at: Timestamp,
    /// The HTTP status of the last attempt, when one was answered.
    pub last_status_code: Option<u16>,
    /// Why the last attempt failed, when it did.
    pub last_error: Option<String>,
    /// When it was delivered or given up.
    pub finished_at: Option<Timestamp>,
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The receiver answered 2xx.
    Delivered {
        /// The status it answered.
        status_code: u16,
    },
    /// It did not: an error status, no answer, or a refused connection.
    Failed {
        /// The status, when the receiver answered one.
        status_code: Option<u16>,
        /// What went wrong, for the delivery log.
        error: String,
        /// Try again after this long; `None`, or a time past the delivery's expiry, gives it up.
        retry_in: Option<Duration>,
    },
}

/// Which deliveries to list.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    /// Only this subscription's.
    pub subscription: Option<String>,
    /// Only those in this state.
    pub state: Option<DeliveryState>,
    /// Only this parcel's (by merchant tracking number).
    pub parcel: Option<MerchantTrackingNumber>,
    /// Keyset pagination: only deliveries older than this id.
    pub before: Option<u64>,
    /// At most this many, newest first (clamped to 1..=[`DeliveryFilter::MAX_LIMIT`]).
    pub limit: u32,
}

impl DeliveryFilter {
    /// The most deliveries one listing returns.
    pub const MAX_LIMIT: u32 = 1000;

    /// The limit actually applied.
    #[must_use]
    pub fn clamped_limit(&self) -> u32 {
        self.limit.clamp(1, Self::MAX_LIMIT)
    }
}

/// What asking to redeliver did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redelivery {
    /// Queued to be sent now (its retry time starts again).
    Queued(Box<Delivery>),
    /// No delivery has that id.
    NotFound,
    /// Its subscription is no longer configured (named).
    SubscriptionRemoved(String),
}

/// How many deliveries one subscription has in one state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryCount {
    /// The subscription.
    pub subscription: String,
    /// The state.
    pub state: DeliveryState,
    /// How many.
    pub deliveries: u64,
}

/// The outbox: subscriptions, and the deliveries the store writes for them.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Makes the stored subscriptions exactly `subscriptions` (upserting each by name).
    /// Pending deliveries of a subscription no longer named are given up, saying so.
    async fn set_subscriptions(&self, subscriptions: &[Subscription]) -> Result<(), StoreError>;

    /// Claims up to `limit` due deliveries of the named subscriptions for `lock_for` (no
    /// other worker gets them meanwhile), oldest first, at most one per parcel and
    /// subscription (the oldest pending one, so a parcel's notifications keep their order).
    async fn claim_deliveries(
        &self,
        subscriptions: &[String],
        limit: u32,
        lock_for: Duration,
    ) -> Result<Vec<Delivery>, StoreError>;

    /// Claims one pending delivery by id, due or not (an operator's redelivery), unless
    /// another worker holds it.
    async fn claim_delivery(
        &self,
        id: u64,
        lock_for: Duration,
    ) -> Result<Option<Delivery>, StoreError>;

    /// Records how an attempt on a claimed delivery ended, releasing the claim; returns the
    /// delivery as it now is (`None` when it is not pending any more).
    async fn finish_delivery(
        &self,
        id: u64,
        attempt: &Attempt,
    ) -> Result<Option<Delivery>, StoreError>;

    /// Deliveries, newest first, filtered.
    async fn deliveries(&self, filter: &DeliveryFilter) -> Result<Vec<Delivery>, StoreError>;

    /// Queues a delivery (in any state) to be sent again now, its retry time restarted.
    async fn redeliver(&self, id: u64) -> Result<Redelivery, StoreError>;

    /// Deliveries by subscription and state (empty combinations left out).
    async fn delivery_counts(&self) -> Result<Vec<DeliveryCount>, StoreError>;
}

/// The columns every delivery query selects, in [`decode`]'s order (a macro, so `concat!`
/// can build each backend's statements from it).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
macro_rules! delivery_columns {
    () => {
        "id, subscription, account, reference, merchant_tracking_number, tracking_number, \
         previous_status, previous_milestone, status, milestone, carrier, raw_status, \
         changed_at_ms, state, attempts, next_attempt_at_ms, expires_at_ms, last_status_code, \
         last_error, finished_at_ms"
    };
}

/// Reads a delivery row (`delivery_columns!()`) of either backend, parsing every value back.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn decode<'r, R>(row: &'r R) -> Result<Delivery, StoreError>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    use crate::codec::{corrupt, parse, parse_opt};
    const TABLE: &str = "webhook_deliveries";
    let id: i64 = row.try_get(0)?;
    let text = |i: usize| -> Result<String, StoreError> { Ok(row.try_get(i)?) };
    let opt_text = |i: usize| -> Result<Option<String>, StoreError> { Ok(row.try_get(i)?) };
    let int = |i: usize| -> Result<i64, StoreError> { Ok(row.try_get(i)?) };
    let opt_int = |i: usize| -> Result<Option<i64>, StoreError> { Ok(row.try_get(i)?) };
    let time = |ms: i64, column: &str| {
        Timestamp::from_millisecond(ms)
            .map_err(|e| corrupt(TABLE, id, format_args!("column {column} {ms}: {e}")))
    };
    let change = StatusChange {
        account: text(2)?,
        reference: parse(&text(3)?, TABLE, id, "reference")?,
        merchant_tracking_number: parse(&text(4)?, TABLE, id, "merchant_tracking_number")?,
        tracking_number: parse_opt(opt_text(5)?.as_deref(), TABLE, id, "tracking_number")?,
        previous_status: parse(&text(6)?, TABLE, id, "previous_status")?,
        previous_milestone: parse(&text(7)?, TABLE, id, "previous_milestone")?,
        status: parse(&text(8)?, TABLE, id, "status")?,
        milestone: parse(&text(9)?, TABLE, id, "milestone")?,
        carrier: opt_text(10)?,
        raw_status: opt_text(11)?,
        changed_at: time(int(12)?, "changed_at_ms")?,
    };
    let code = opt_int(17)?
        .map(|c| u16::try_from(c).map_err(|e| corrupt(TABLE, id, format_args!("status {c}: {e}"))))
        .transpose()?;
    Ok(Delivery {
        id: u64::try_from(id).map_err(|e| corrupt(TABLE, id, e))?,
        subscription: text(1)?,
        change,
        state: parse(&text(13)?, TABLE, id, "state")?,
        attempts: u32::try_from(int(14)?).map_err(|e| corrupt(TABLE, id, e))?,
        next_attempt_at: time(int(15)?, "next_attempt_at_ms")?,
        expires_at: time(int(16)?, "expires_at_ms")?,
        last_status_code: code,
        last_error: opt_text(18)?,
        finished_at: opt_int(19)?.map(|ms| time(ms, "finished_at_ms")).transpose()?,
    })
}

/// A duration in whole milliseconds, saturating (the store keeps times as `i64` ms).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// A subscription's statuses as the JSON array the trigger matches against.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn statuses_json(s: &Subscription) -> Result<String, StoreError> {
    let names: Vec<&str> = s.statuses.iter().map(|s| s.as_str()).collect();
    crate::codec::to_json(&names, "a subscription's statuses")
}

/// What a removed subscription's pending deliveries say when they are given up.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) const REMOVED: &str =
    "its subscription was removed from the configuration; add it back and redeliver";

/// The [`Outbox`] queries of one backend, written once: the backends differ only in how they
/// read the database's clock, bind a list, and skip rows another worker has locked.
/// `writer` pools run the writes; SQLite passes its dedicated writer connection.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
macro_rules! outbox_queries {
    (pool: $pool:ty, now: $now:literal, in_list: $in_list:literal, skip_locked: $skip:literal) => {
        use std::time::Duration;

        use crate::StoreError;
        use crate::outbox::{
            Attempt, Delivery, DeliveryCount, DeliveryFilter, REMOVED, Redelivery, Subscription,
            decode, millis, statuses_json,
        };

        /// See [`crate::Outbox::set_subscriptions`].
        pub(super) async fn set_subscriptions(
            writer: &$pool,
            subscriptions: &[Subscription],
        ) -> Result<(), StoreError> {
            let mut tx = writer.begin().await?;
            for s in subscriptions {
                sqlx::query(
                    "INSERT INTO webhook_subscriptions (name, url, statuses, retry_for_ms)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (name) DO UPDATE SET url = excluded.url,
                        statuses = excluded.statuses, retry_for_ms = excluded.retry_for_ms",
                )
                .bind(s.name.as_str())
                .bind(s.url.as_str())
                .bind(statuses_json(s)?)
                .bind(millis(s.retry_for))
                .execute(&mut *tx)
                .await?;
            }
            let stored: Vec<String> = sqlx::query_scalar("SELECT name FROM webhook_subscriptions")
                .fetch_all(&mut *tx)
                .await?;
            for name in stored.iter().filter(|n| !subscriptions.iter().any(|s| &s.name == *n)) {
                sqlx::query("DELETE FROM webhook_subscriptions WHERE name = $1")
                    .bind(name.as_str())
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(concat!(
                    "UPDATE webhook_deliveries SET state = 'failed', last_error = $2,
                        finished_at_ms = ",
                    $now,
                    ", locked_until_ms = NULL
                      WHERE subscription = $1 AND state = 'pending'"
                ))
                .bind(name.as_str())
                .bind(REMOVED)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        }

        /// See [`crate::Outbox::claim_deliveries`].
        pub(super) async fn claim_deliveries(
            writer: &$pool,
            subscriptions: &[String],
            limit: u32,
            lock_for: Duration,
        ) -> Result<Vec<Delivery>, StoreError> {
            let names = crate::codec::to_json(subscriptions, "subscription names")?;
            let rows = sqlx::query(concat!(
                "UPDATE webhook_deliveries SET locked_until_ms = ",
                $now,
                " + $1
                  WHERE id IN (
                    SELECT d.id FROM webhook_deliveries d
                     WHERE d.state = 'pending' AND d.next_attempt_at_ms <= ",
                $now,
                "
                       AND (d.locked_until_ms IS NULL OR d.locked_until_ms <= ",
                $now,
                ")
                       AND d.subscription ",
                $in_list,
                "
                       AND NOT EXISTS (
                            SELECT 1 FROM webhook_deliveries e
                             WHERE e.state = 'pending' AND e.subscription = d.subscription
                               AND e.parcel_id = d.parcel_id AND e.id < d.id)
                     ORDER BY d.id
                     LIMIT $3",
                $skip,
                ")
                  RETURNING ",
                delivery_columns!()
            ))
            .bind(millis(lock_for))
            .bind(names)
            .bind(i64::from(limit))
            .fetch_all(writer)
            .await?;
            let mut claimed = rows.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
            claimed.sort_by_key(|d| d.id);
            Ok(claimed)
        }

        /// See [`crate::Outbox::claim_delivery`].
        pub(super) async fn claim_delivery(
            writer: &$pool,
            id: u64,
            lock_for: Duration,
        ) -> Result<Option<Delivery>, StoreError> {
            let row = sqlx::query(concat!(
                "UPDATE webhook_deliveries SET locked_until_ms = ",
                $now,
                " + $2
                  WHERE id = $1 AND state = 'pending'
                    AND (locked_until_ms IS NULL OR locked_until_ms <= ",
                $now,
                ")
                  RETURNING ",
                delivery_columns!()
            ))
            .bind(i64::try_from(id).unwrap_or(i64::MAX))
            .bind(millis(lock_for))
            .fetch_optional(writer)
            .await?;
            row.as_ref().map(decode).transpose()
        }

        /// See [`crate::Outbox::finish_delivery`].
        pub(super) async fn finish_delivery(
            writer: &$pool,
            id: u64,
            attempt: &Attempt,
        ) -> Result<Option<Delivery>, StoreError> {
            let id = i64::try_from(id).unwrap_or(i64::MAX);
            let row = match attempt {
                Attempt::Delivered { status_code } => {
                    sqlx::query(concat!(
                        "UPDATE webhook_deliveries SET state = 'delivered',
                            attempts = attempts + 1, last_status_code = $2, last_error = NULL,
                            finished_at_ms = ",
                        $now,
                        ", locked_until_ms = NULL
                          WHERE id = $1 AND state = 'pending'
                          RETURNING ",
                        delivery_columns!()
                    ))
                    .bind(id)
                    .bind(i64::from(*status_code))
                    .fetch_optional(writer)
                    .await?
                }
                Attempt::Failed { status_code, error, retry_in } => {
                    // Given up when no retry is wanted or the next one would be too late.
                    sqlx::query(concat!(
                        "UPDATE webhook_deliveries SET attempts = attempts + 1,
                            last_status_code = $2, last_error = $3, locked_until_ms = NULL,
                            next_attempt_at_ms = CASE WHEN $4 IS NULL THEN next_attempt_at_ms
                                                      ELSE ",
                        $now,
                        " + $4 END,
                            state = CASE WHEN $4 IS NULL OR ",
                        $now,
                        " + $4 > expires_at_ms
                                         THEN 'failed' ELSE 'pending' END,
                            finished_at_ms = CASE WHEN $4 IS NULL OR ",
                        $now,
                        " + $4 > expires_at_ms
                                                  THEN ",
                        $now,
                        " ELSE NULL END
                          WHERE id = $1 AND state = 'pending'
                          RETURNING ",
                        delivery_columns!()
                    ))
                    .bind(id)
                    .bind(status_code.map(i64::from))
                    .bind(error.as_str())
                    .bind(retry_in.map(millis))
                    .fetch_optional(writer)
                    .await?
                }
            };
            row.as_ref().map(decode).transpose()
        }

        /// See [`crate::Outbox::deliveries`].
        pub(super) async fn deliveries(
            pool: &$pool,
            filter: &DeliveryFilter,
        ) -> Result<Vec<Delivery>, StoreError> {
            let rows = sqlx::query(concat!(
                "SELECT ",
                delivery_columns!(),
                " FROM webhook_deliveries
                  WHERE ($1 IS NULL OR subscription = $1) AND ($2 IS NULL OR state = $2)
                    AND ($3 IS NULL OR merchant_tracking_number = $3)
                    AND ($4 IS NULL OR id < $4)
                  ORDER BY id DESC
                  LIMIT $5"
            ))
            .bind(filter.subscription.as_deref())
            .bind(filter.state.map(|s| s.as_str()))
            .bind(filter.parcel.as_ref().map(|p| p.as_str()))
            .bind(filter.before.map(|b| i64::try_from(b).unwrap_or(i64::MAX)))
            .bind(i64::from(filter.clamped_limit()))
            .fetch_all(pool)
            .await?;
            rows.iter().map(decode).collect()
        }

        /// See [`crate::Outbox::redeliver`].
        pub(super) async fn redeliver(writer: &$pool, id: u64) -> Result<Redelivery, StoreError> {
            let id = i64::try_from(id).unwrap_or(i64::MAX);
            // One statement, so nothing is left half-done; a worker's claim is kept (it may
            // be sending right now).
            let row = sqlx::query(concat!(
                "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at_ms = ",
                $now,
                ",
                    expires_at_ms = ",
                $now,
                " + (
                        SELECT s.retry_for_ms FROM webhook_subscriptions s
                         WHERE s.name = webhook_deliveries.subscription),
                    finished_at_ms = NULL
                  WHERE id = $1
                    AND EXISTS (SELECT 1 FROM webhook_subscriptions s
                                 WHERE s.name = webhook_deliveries.subscription)
                  RETURNING ",
                delivery_columns!()
            ))
            .bind(id)
            .fetch_optional(writer)
            .await?;
            if let Some(row) = row {
                return Ok(Redelivery::Queued(Box::new(decode(&row)?)));
            }
            let subscription: Option<String> =
                sqlx::query_scalar("SELECT subscription FROM webhook_deliveries WHERE id = $1")
                    .bind(id)
                    .fetch_optional(writer)
                    .await?;
            Ok(subscription.map_or(Redelivery::NotFound, Redelivery::SubscriptionRemoved))
        }

        /// See [`crate::Outbox::delivery_counts`].
        pub(super) async fn delivery_counts(
            pool: &$pool,
        ) -> Result<Vec<DeliveryCount>, StoreError> {
            let rows: Vec<(String, String, i64)> = sqlx::query_as(
                "SELECT subscription, state, count(*) FROM webhook_deliveries
                  GROUP BY subscription, state ORDER BY subscription, state",
            )
            .fetch_all(pool)
            .await?;
            rows.into_iter()
                .map(|(subscription, state, n)| {
                    Ok(DeliveryCount {
                        state: crate::codec::parse(
                            &state,
                            "webhook_deliveries",
                            &subscription,
                            "state",
                        )?,
                        subscription,
                        deliveries: u64::try_from(n).unwrap_or_default(),
                    })
                })
                .collect()
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_and_bad_ones_say_what_is_allowed() {
        for state in DeliveryState::ALL {
            assert_eq!(state.as_str().parse::<DeliveryState>(), Ok(state));
        }
        let e = "sent".parse::<DeliveryState>().unwrap_err();
        assert!(e.contains("pending, delivered or failed"), "{e}");
    }

    #[test]
    fn limits_are_clamped() {
        let f = |limit| DeliveryFilter { limit, ..DeliveryFilter::default() }.clamped_limit();
        assert_eq!((f(0), f(20), f(50_000)), (1, 20, 1000));
    }
}

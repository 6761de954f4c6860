//! The first-leg refresh schedule (which parcels to look up next: see
//! [`crate::RefreshSelection`]; noting lookups and webhook pushes), and sharing the lookups
//! out between workers: `SELECT … FOR UPDATE SKIP LOCKED` splits the candidates
//! between concurrent claimers, and a `refresh_leases` row per merchant number (its primary
//! key, `lease_until`) makes the claim exclusive even for a number two accounts share.

use std::{sync::LazyLock, time::Duration};

use sqlx::PgPool;
use waybill_domain::{MerchantTrackingNumber, TrackingEvent};

use super::codec;
use crate::refresh_filter::{CLOSING, ELIGIBLE, hub_rank};
use crate::{NextRefresh, RefreshCandidate, RefreshSelection, Refreshed, StoreError};

/// A row of the candidate queries: id, merchant number, microseconds since the last news.
type Row = (i64, String, Option<i64>);

/// The three passes of the candidate queries (filter, order), each with its partial index
/// (migration 0007): due parcels by due time (never-looked-up first), then the closing
/// lookups, then the other eligible parcels by their last lookup.
static PASSES: LazyLock<[(String, &str); 3]> = LazyLock::new(|| {
    [
        (
            format!(
                "{} AND (p.next_refresh_at IS NULL OR p.next_refresh_at <= $3::timestamptz)",
                *ELIGIBLE
            ),
            "p.next_refresh_at NULLS FIRST, p.id",
        ),
        (CLOSING.clone(), "p.id"),
        (
            format!("{} AND p.next_refresh_at > $3::timestamptz", *ELIGIBLE),
            "p.last_refreshed_at NULLS FIRST, p.id",
        ),
    ]
});

/// See [`crate::FeedSink::refresh_candidates`]. A merchant number shared by parcels of
/// several accounts is returned once (tracking it refreshes all of them).
pub(super) async fn refresh_candidates(
    pool: &PgPool,
    selection: &RefreshSelection,
) -> Result<Vec<RefreshCandidate>, StoreError> {
    take(pool, None, selection, Duration::ZERO).await
}

/// See [`crate::Leases::claim_refreshes`].
pub(super) async fn claim(
    pool: &PgPool,
    holder: &str,
    selection: &RefreshSelection,
    ttl: Duration,
) -> Result<Vec<RefreshCandidate>, StoreError> {
    take(pool, Some(holder), selection, ttl).await
}

/// Both passes, as of one instant; with a holder, each pass claims what it returns (the
/// second pass skips what the first leased).
async fn take(
    pool: &PgPool,
    holder: Option<&str>,
    selection: &RefreshSelection,
    ttl: Duration,
) -> Result<Vec<RefreshCandidate>, StoreError> {
    // One instant for both passes, so they split the parcels exactly.
    let now: String = sqlx::query_scalar("SELECT clock_timestamp()::text").fetch_one(pool).await?;
    let mut rows: Vec<Row> = Vec::new();
    for (filter, order) in PASSES.iter() {
        let left = selection.limit.saturating_sub(u32::try_from(rows.len()).unwrap_or(u32::MAX));
        if left == 0 {
            break;
        }
        let sql = match holder {
            None => format!(
                "SELECT p.id, p.merchant_tracking_number, {IDLE} FROM parcels p
                  WHERE (pushed_at IS NULL
                         OR pushed_at < $3::timestamptz - $2 * interval '1 microsecond')
                    AND {filter}
                  ORDER BY {order}
                  LIMIT $1"
            ),
            Some(_) => format!(
                "WITH c AS (
                     SELECT p.id, p.merchant_tracking_number, p.next_refresh_at,
                            p.last_refreshed_at, {IDLE} FROM parcels p
                      WHERE (pushed_at IS NULL
                             OR pushed_at < $3::timestamptz - $2 * interval '1 microsecond')
                        AND {filter}
                        AND NOT EXISTS (SELECT 1 FROM refresh_leases l
                                         WHERE l.merchant_tracking_number = p.merchant_tracking_number
                                           AND l.lease_until > clock_timestamp())
                      ORDER BY {order}
                      LIMIT $1
                      FOR UPDATE OF p SKIP LOCKED),
                 claimed AS (
                     INSERT INTO refresh_leases (merchant_tracking_number, holder, lease_until)
                     SELECT m, $4, clock_timestamp() + $5 * interval '1 microsecond'
                       FROM (SELECT DISTINCT merchant_tracking_number AS m FROM c) AS d
                     ON CONFLICT (merchant_tracking_number) DO UPDATE
                        SET holder = excluded.holder, lease_until = excluded.lease_until
                      WHERE refresh_leases.lease_until <= clock_timestamp()
                     RETURNING merchant_tracking_number)
                 SELECT min(c.id), c.merchant_tracking_number, max(c.idle)
                   FROM c JOIN claimed USING (merchant_tracking_number)
                  GROUP BY c.merchant_tracking_number
                  ORDER BY min(c.id)"
            ),
        };
        let query = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(i64::from(left))
            .bind(codec::micros(selection.pushed_within))
            .bind(&now);
        let query = match holder {
            Some(holder) => query.bind(holder).bind(codec::micros(ttl)),
            None => query,
        };
        let mut pass: Vec<Row> = query.fetch_all(pool).await?;
        rows.append(&mut pass);
    }
    candidates(rows)
}

/// Microseconds since `last_activity_at` (NULL before the first lookup).
const IDLE: &str =
    "(extract(epoch FROM clock_timestamp() - p.last_activity_at) * 1000000)::bigint AS idle";

/// See [`crate::Leases::keep_refresh`].
pub(super) async fn keep(
    pool: &PgPool,
    holder: &str,
    parcel: &MerchantTrackingNumber,
    ttl: Duration,
) -> Result<bool, StoreError> {
    let kept = sqlx::query(
        "UPDATE refresh_leases SET lease_until = clock_timestamp() + $3 * interval '1 microsecond'
          WHERE merchant_tracking_number = $1 AND holder = $2
            AND lease_until > clock_timestamp()",
    )
    .bind(parcel.as_str())
    .bind(holder)
    .bind(codec::micros(ttl))
    .execute(pool)
    .await?;
    Ok(kept.rows_affected() == 1)
}

/// See [`crate::Leases::release_refresh`].
pub(super) async fn release(
    pool: &PgPool,
    holder: &str,
    parcel: &MerchantTrackingNumber,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM refresh_leases WHERE merchant_tracking_number = $1 AND holder = $2")
        .bind(parcel.as_str())
        .bind(holder)
        .execute(pool)
        .await?;
    Ok(())
}

/// See [`crate::FeedSink::mark_refreshed`]: every account's parcel with that number, and the
/// end of whoever's lease on it. A lookup of a parcel the main carrier already holds was its
/// closing lookup: its first leg ends whatever the answer said.
pub(super) async fn mark_refreshed(
    pool: &PgPool,
    parcel: &MerchantTrackingNumber,
    refreshed: &Refreshed,
) -> Result<(), StoreError> {
    let (next, ended) = match refreshed.next {
        NextRefresh::After(d) => (Some(codec::micros(d)), false),
        NextRefresh::Never => (None, true),
    };
    let mut tx = pool.begin().await?;
    sqlx::query(
        "UPDATE parcels SET
            last_refreshed_at = clock_timestamp(),
            next_refresh_at = clock_timestamp() + $2 * interval '1 microsecond',
            first_leg_ended_at = CASE WHEN $3 OR head_rank >= $5
                                      THEN coalesce(first_leg_ended_at, clock_timestamp())
                                      ELSE first_leg_ended_at END,
            last_activity_at = CASE WHEN $4 OR last_activity_at IS NULL THEN clock_timestamp()
                                    ELSE last_activity_at END
          WHERE merchant_tracking_number = $1",
    )
    .bind(parcel.as_str())
    .bind(next)
    .bind(ended)
    .bind(refreshed.news)
    .bind(i32::from(hub_rank()))
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM refresh_leases WHERE merchant_tracking_number = $1")
        .bind(parcel.as_str())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The schedule half of [`crate::FeedSink::record_pushed`] (the events are stored first):
/// the pushed parcels are covered and have news; the handed-over ones' first legs ended.
pub(super) async fn mark_pushed(
    pool: &PgPool,
    events: &[TrackingEvent],
    handed_over: &[MerchantTrackingNumber],
) -> Result<(), StoreError> {
    let pushed: Vec<&str> = events
        .iter()
        .filter_map(|e| e.merchant_tracking_number.as_ref())
        .map(MerchantTrackingNumber::as_str)
        .collect();
    let ended: Vec<&str> = handed_over.iter().map(MerchantTrackingNumber::as_str).collect();
    if pushed.is_empty() && ended.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "UPDATE parcels SET
            pushed_at = CASE WHEN merchant_tracking_number = ANY($1::text[])
                             THEN clock_timestamp() ELSE pushed_at END,
            last_activity_at = CASE WHEN merchant_tracking_number = ANY($1::text[])
                                    THEN clock_timestamp() ELSE last_activity_at END,
            first_leg_ended_at = CASE WHEN merchant_tracking_number = ANY($2::text[])
                                      THEN coalesce(first_leg_ended_at, clock_timestamp())
                                      ELSE first_leg_ended_at END
          WHERE merchant_tracking_number = ANY($1::text[])
             OR merchant_tracking_number = ANY($2::text[])",
    )
    .bind(&pushed)
    .bind(&ended)
    .execute(pool)
    .await?;
    Ok(())
}

/// Parses candidate rows, each number once.
fn candidates(rows: Vec<Row>) -> Result<Vec<RefreshCandidate>, StoreError> {
    let mut seen = std::collections::HashSet::with_capacity(rows.len());
    let mut out = Vec::with_capacity(rows.len());
    for (id, number, idle) in rows {
        if seen.insert(number.clone()) {
            let merchant_tracking_number: MerchantTrackingNumber =
                codec::parse(&number, "parcels", id, "merchant_tracking_number")?;
            let idle = idle.map(|us| Duration::from_micros(u64::try_from(us).unwrap_or(0)));
            out.push(RefreshCandidate { merchant_tracking_number, idle });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_and_the_partial_index_agree_word_for_word() {
        let migration = include_str!("../../migrations/postgres/0007_refresh_schedule.sql");
        assert!(migration.contains(ELIGIBLE.as_str()), "the index differs from:\n{}", *ELIGIBLE);
        assert!(migration.contains(CLOSING.as_str()), "the index differs from:\n{}", *CLOSING);
    }
}

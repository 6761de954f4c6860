//! Which parcels' first-leg tracking to refresh next, remembering that it was, and sharing
//! the lookups out between workers: `SELECT … FOR UPDATE SKIP LOCKED` splits the candidates
//! between concurrent claimers, and a `refresh_leases` row per merchant number (its primary
//! key, `lease_until`) makes the claim exclusive even for a number two accounts share.

use std::time::Duration;

use sqlx::PgPool;
use waybill_domain::MerchantTrackingNumber;

use super::{codec, status};
use crate::{RefreshCandidate, StoreError};

/// See [`crate::FeedSink::refresh_candidates`]. A merchant number shared by parcels of
/// several accounts is returned once (tracking it refreshes all of them).
pub(super) async fn refresh_candidates(
    pool: &PgPool,
    limit: u32,
) -> Result<Vec<RefreshCandidate>, StoreError> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, merchant_tracking_number FROM parcels
          WHERE status <> ALL($1::text[])
          ORDER BY last_refreshed_at NULLS FIRST, id
          LIMIT $2",
    )
    .bind(status::terminal_names())
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    candidates(rows)
}

/// See [`crate::Leases::claim_refreshes`].
pub(super) async fn claim(
    pool: &PgPool,
    holder: &str,
    limit: u32,
    ttl: Duration,
) -> Result<Vec<RefreshCandidate>, StoreError> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "WITH c AS (
             SELECT p.id, p.merchant_tracking_number FROM parcels p
              WHERE p.status <> ALL($1::text[])
                AND NOT EXISTS (SELECT 1 FROM refresh_leases l
                                 WHERE l.merchant_tracking_number = p.merchant_tracking_number
                                   AND l.lease_until > clock_timestamp())
              ORDER BY p.last_refreshed_at NULLS FIRST, p.id
              LIMIT $2
              FOR UPDATE OF p SKIP LOCKED),
         claimed AS (
             INSERT INTO refresh_leases (merchant_tracking_number, holder, lease_until)
             SELECT m, $3, clock_timestamp() + $4 * interval '1 microsecond'
               FROM (SELECT DISTINCT merchant_tracking_number AS m FROM c) AS d
             ON CONFLICT (merchant_tracking_number) DO UPDATE
                SET holder = excluded.holder, lease_until = excluded.lease_until
              WHERE refresh_leases.lease_until <= clock_timestamp()
             RETURNING merchant_tracking_number)
         SELECT min(c.id), c.merchant_tracking_number
           FROM c JOIN claimed USING (merchant_tracking_number)
          GROUP BY c.merchant_tracking_number
          ORDER BY min(c.id)",
    )
    .bind(status::terminal_names())
    .bind(i64::from(limit))
    .bind(holder)
    .bind(codec::micros(ttl))
    .fetch_all(pool)
    .await?;
    candidates(rows)
}

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
/// end of whoever's lease on it.
pub(super) async fn mark_refreshed(
    pool: &PgPool,
    parcel: &MerchantTrackingNumber,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "UPDATE parcels SET last_refreshed_at = clock_timestamp()
          WHERE merchant_tracking_number = $1",
    )
    .bind(parcel.as_str())
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM refresh_leases WHERE merchant_tracking_number = $1")
        .bind(parcel.as_str())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Parses (id, merchant number) rows, each number once.
fn candidates(rows: Vec<(i64, String)>) -> Result<Vec<RefreshCandidate>, StoreError> {
    let mut seen = std::collections::HashSet::with_capacity(rows.len());
    let mut out = Vec::with_capacity(rows.len());
    for (id, number) in rows {
        if seen.insert(number.clone()) {
            let merchant_tracking_number: MerchantTrackingNumber =
                codec::parse(&number, "parcels", id, "merchant_tracking_number")?;
            out.push(RefreshCandidate { merchant_tracking_number });
        }
    }
    Ok(out)
}

//! Which parcels' first-leg tracking to refresh next, and remembering that it was.

use sqlx::SqlitePool;
use waybill_domain::{MerchantTrackingNumber, TrackingStatus};

use super::{codec, status};
use crate::{RefreshCandidate, StoreError};

/// See [`crate::Store::refresh_candidates`]. A merchant number shared by parcels of
/// several accounts is returned once (tracking it refreshes all of them).
pub(super) async fn refresh_candidates(
    pool: &SqlitePool,
    limit: u32,
) -> Result<Vec<RefreshCandidate>, StoreError> {
    let terminal = status::names(TrackingStatus::ALL.into_iter().filter(|s| s.is_terminal()));
    // NULLs sort first in SQLite, so never-refreshed parcels come first.
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, merchant_tracking_number FROM parcels
          WHERE status NOT IN (SELECT value FROM json_each($1))
          ORDER BY last_refreshed_at, id
          LIMIT $2",
    )
    .bind(codec::json_list(&terminal)?)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
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

/// See [`crate::Store::mark_refreshed`]: every account's parcel with that number.
pub(super) async fn mark_refreshed(
    pool: &SqlitePool,
    parcel: &MerchantTrackingNumber,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE parcels SET last_refreshed_at = $1 WHERE merchant_tracking_number = $2")
        .bind(codec::now())
        .bind(parcel.as_str())
        .execute(pool)
        .await?;
    Ok(())
}

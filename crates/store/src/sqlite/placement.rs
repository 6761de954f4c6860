//! Parcels that change order after creation (added to an order, split onto a new one):
//! recorded at once, so the order book does not wait for the pool to tell it.

use sqlx::SqlitePool;

use super::{codec, status};
use waybill_domain::TrackingNumber;

use crate::{ParcelPlacement, StoreError};

/// See [`crate::OrderBook::place_parcel`].
pub(super) async fn place_parcel(
    pool: &SqlitePool,
    account: &str,
    placement: &ParcelPlacement,
) -> Result<(), StoreError> {
    let reference = placement.reference.as_str();
    let number = placement.merchant_tracking_number.as_str();
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let mut orders = vec![(account.to_owned(), reference.to_owned())];
    match &placement.split {
        // The new order takes the source's service; its request stays unknown (it was made
        // by the carrier from the source's), so a create replay under it is never matched.
        Some(split) => {
            sqlx::query(
                "INSERT INTO orders (account, reference, service_id, tracking_number, created_at)
                 VALUES ($1, $2,
                         (SELECT service_id FROM orders WHERE account = $1 AND reference = $3),
                         $4, $5)
                 ON CONFLICT (account, reference) DO UPDATE SET
                    service_id = COALESCE(orders.service_id, excluded.service_id),
                    tracking_number = COALESCE(orders.tracking_number, excluded.tracking_number)",
            )
            .bind(account)
            .bind(reference)
            .bind(split.source.as_str())
            .bind(split.order_tracking_number.as_str())
            .bind(codec::now())
            .execute(&mut *tx)
            .await?;
            orders.push((account.to_owned(), split.source.as_str().to_owned()));
        }
        // An order created elsewhere gets a row of its own; a stored one is left as it is.
        None => {
            sqlx::query(
                "INSERT INTO orders (account, reference, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT (account, reference) DO NOTHING",
            )
            .bind(account)
            .bind(reference)
            .bind(codec::now())
            .execute(&mut *tx)
            .await?;
        }
    }
    // The parcel moves to its order (a split) or joins it (an added parcel).
    sqlx::query(
        "INSERT INTO parcels (account, reference, merchant_tracking_number, tracking_number)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (merchant_tracking_number, account) DO UPDATE SET
            reference = excluded.reference,
            tracking_number = COALESCE(excluded.tracking_number, parcels.tracking_number)",
    )
    .bind(account)
    .bind(reference)
    .bind(number)
    .bind(placement.tracking_number.as_ref().map(TrackingNumber::as_str))
    .execute(&mut *tx)
    .await?;
    status::refresh(&mut tx, &[number.to_owned()], &orders).await?;
    tx.commit().await?;
    Ok(())
}

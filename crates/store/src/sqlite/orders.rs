//! Orders and their parcels: saving what the carrier answered, reading one, listing many.

use std::collections::HashMap;

use sqlx::{AssertSqlSafe, SqliteConnection, SqlitePool};
use waybill_domain::{Order, OrderParcel, OrderRequest, PartnerOrderRef, TrackingStatus};

use super::codec;
use super::status;
use crate::fingerprint::{self, RequestFingerprint, StoredRequest};
use crate::{OrderFilter, OrderSort, Replay, StoreError, StoredOrder, StoredParcel};

/// The most orders one listing returns.
pub(super) const MAX_LIST: u32 = 1000;

/// See [`crate::Store::save_order`].
pub(super) async fn save_order(
    pool: &SqlitePool,
    account: &str,
    request: &OrderRequest,
    order: &Order,
) -> Result<(), StoreError> {
    let reference = request.reference().as_str();
    let request_json = codec::to_json(request, "an order request")?;
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    // Checked inside the write transaction, so two different requests racing on one
    // reference cannot both be recorded: the second finds the first.
    match replay(&mut tx, account, request).await? {
        Replay::Conflict(c) => return Err(StoreError::IdempotencyConflict(c)),
        Replay::New => fingerprint::check_answer(request, order)
            .map_err(|c| StoreError::IdempotencyConflict(Box::new(c)))?,
        Replay::Same => {}
    }
    // The pool may have revealed the order first: fill in what it could not know, keep the
    // first request saved, and take the carrier's order tracking number.
    sqlx::query(
        "INSERT INTO orders (account, reference, service_id, tracking_number, request, created_at,
                             fingerprint)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (account, reference) DO UPDATE SET
            service_id = COALESCE(orders.service_id, excluded.service_id),
            tracking_number = excluded.tracking_number,
            request = COALESCE(orders.request, excluded.request),
            fingerprint = COALESCE(orders.fingerprint, excluded.fingerprint)",
    )
    .bind(account)
    .bind(reference)
    .bind(i64::from(request.service_id().get()))
    .bind(order.tracking_number.as_str())
    .bind(&request_json)
    .bind(codec::now())
    .bind(RequestFingerprint::of(request).as_str())
    .execute(&mut *tx)
    .await?;

    let mut numbers = Vec::with_capacity(request.items().len());
    for (index, item) in request.items().iter().enumerate() {
        let number = item.merchant_tracking_number.as_str();
        let parcel = match_parcel(request, &order.parcels, index);
        // A parcel the pool revealed under this account keeps its order; its Starmile number
        // is the carrier's answer.
        sqlx::query(
            "INSERT INTO parcels (account, reference, merchant_tracking_number, tracking_number)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (merchant_tracking_number, account) DO UPDATE SET
                tracking_number = COALESCE(excluded.tracking_number, parcels.tracking_number)",
        )
        .bind(account)
        .bind(reference)
        .bind(number)
        .bind(parcel.map(|p| p.tracking_number.as_str()))
        .execute(&mut *tx)
        .await?;
        numbers.push(number.to_owned());
    }
    // Events may have arrived before the order was saved (StarShipIT scans, pool rows).
    status::refresh(&mut tx, &numbers, &[(account.to_owned(), reference.to_owned())]).await?;
    tx.commit().await?;
    Ok(())
}

/// See [`crate::OrderBook::check_replay`].
pub(super) async fn check_replay(
    pool: &SqlitePool,
    account: &str,
    request: &OrderRequest,
) -> Result<Replay, StoreError> {
    let mut conn = pool.acquire().await?;
    replay(&mut conn, account, request).await
}

/// What the store holds under the request's reference, compared with the request.
async fn replay(
    conn: &mut SqliteConnection,
    account: &str,
    request: &OrderRequest,
) -> Result<Replay, StoreError> {
    let reference = request.reference().as_str();
    let row: Option<(Option<String>, Option<String>, Option<i64>)> = sqlx::query_as(
        "SELECT request, fingerprint, service_id FROM orders WHERE account = $1 AND reference = $2",
    )
    .bind(account)
    .bind(reference)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((stored_request, fingerprint, service_id)) = row else { return Ok(Replay::New) };
    let key = format!("{account}/{reference}");
    let stored_request = stored_request
        .map(|text| codec::from_json::<serde_json::Value>(&text, "orders", &key, "request"))
        .transpose()?;
    // Only an order stored without its request (revealed by the pool) is compared by its
    // parcels.
    let parcels: Vec<(String,)> = if stored_request.is_some() {
        Vec::new()
    } else {
        sqlx::query_as(
            "SELECT merchant_tracking_number FROM parcels WHERE account = $1 AND reference = $2",
        )
        .bind(account)
        .bind(reference)
        .fetch_all(&mut *conn)
        .await?
    };
    let stored = StoredRequest {
        request: stored_request,
        fingerprint,
        service_id,
        parcels: parcels.into_iter().map(|(p,)| p).collect(),
    };
    Ok(fingerprint::check(&stored, request))
}

/// The carrier's parcel for the request's item at `index`: the one echoing its merchant
/// number, else the one whose item id is that number (waybill sends the merchant number as the
/// item id), else the one at the same position unless that one is clearly another item's.
fn match_parcel<'a>(
    request: &OrderRequest,
    parcels: &'a [OrderParcel],
    index: usize,
) -> Option<&'a OrderParcel> {
    let number = &request.items()[index].merchant_tracking_number;
    parcels
        .iter()
        .find(|p| p.merchant_tracking_number.as_ref() == Some(number))
        .or_else(|| parcels.iter().find(|p| p.item_id.as_deref() == Some(number.as_str())))
        .or_else(|| {
            parcels.get(index).filter(|p| {
                let names_other = |n: &str| {
                    n != number.as_str()
                        && request.items().iter().any(|i| i.merchant_tracking_number.as_str() == n)
                };
                p.merchant_tracking_number.as_ref().is_none_or(|m| m == number)
                    && !p.item_id.as_deref().is_some_and(names_other)
            })
        })
}

/// An `orders` row: account, reference, service id, tracking number, status, created at.
type OrderRow = (String, String, Option<i64>, Option<String>, String, String);

/// A `parcels` row: account, reference, merchant number, tracking number, status, milestone.
type ParcelRow = (String, String, String, Option<String>, String, String);

/// See [`crate::Store::order`]. Without an account, the first account (by name) that
/// has the reference.
pub(super) async fn order(
    pool: &SqlitePool,
    account: Option<&str>,
    reference: &PartnerOrderRef,
) -> Result<Option<StoredOrder>, StoreError> {
    let row: Option<OrderRow> = sqlx::query_as(
        "SELECT account, reference, service_id, tracking_number, status, created_at FROM orders
          WHERE reference = $1 AND ($2 IS NULL OR account = $2)
          ORDER BY account LIMIT 1",
    )
    .bind(reference.as_str())
    .bind(account)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let mut conn = pool.acquire().await?;
    let mut orders = with_parcels(&mut conn, vec![row]).await?;
    Ok(orders.pop())
}

/// See [`crate::Store::list_orders`].
pub(super) async fn list_orders(
    pool: &SqlitePool,
    filter: &OrderFilter,
) -> Result<Vec<StoredOrder>, StoreError> {
    let limit = if filter.limit == 0 { MAX_LIST } else { filter.limit.min(MAX_LIST) };
    let (keyset, order) = match filter.sort {
        OrderSort::Reference => (
            "($4 IS NULL OR reference > $4 OR (reference = $4 AND $6 IS NOT NULL AND account > $6))",
            "reference, account",
        ),
        // The cursor order's own sort key, looked up: callers hand back only its reference.
        OrderSort::Newest => (
            "($4 IS NULL OR (created_at, account, reference) <
                (SELECT c.created_at, c.account, c.reference FROM orders c
                  WHERE c.reference = $4 AND ($6 IS NULL OR c.account = $6)
                  ORDER BY c.account LIMIT 1))",
            "created_at DESC, account DESC, reference DESC",
        ),
    };
    let rows: Vec<OrderRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT account, reference, service_id, tracking_number, status, created_at FROM orders
          WHERE ($1 IS NULL OR account = $1)
            AND ($2 IS NULL OR status = $2)
            AND ($3 IS NULL OR service_id = $3)
            AND {keyset}
          ORDER BY {order}
          LIMIT $5"
    )))
    .bind(filter.account.as_deref())
    .bind(filter.status.map(TrackingStatus::as_str))
    .bind(filter.service_id.map(|s| i64::from(s.get())))
    .bind(filter.after.as_ref().map(PartnerOrderRef::as_str))
    .bind(i64::from(limit))
    .bind(filter.after_account.as_deref())
    .fetch_all(pool)
    .await?;
    let mut conn = pool.acquire().await?;
    with_parcels(&mut conn, rows).await
}

/// Parses order rows and attaches their parcels (one query for all of them).
async fn with_parcels(
    conn: &mut SqliteConnection,
    rows: Vec<OrderRow>,
) -> Result<Vec<StoredOrder>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<(&str, &str)> = rows.iter().map(|r| (r.0.as_str(), r.1.as_str())).collect();
    let parcel_rows: Vec<ParcelRow> = sqlx::query_as(
        "SELECT p.account, p.reference, p.merchant_tracking_number, p.tracking_number, p.status,
                p.milestone
           FROM json_each($1) j
           JOIN parcels p ON p.account = json_extract(j.value, '$[0]')
                         AND p.reference = json_extract(j.value, '$[1]')
          ORDER BY p.account, p.reference, p.merchant_tracking_number",
    )
    .bind(codec::json_list(&keys)?)
    .fetch_all(&mut *conn)
    .await?;
    let mut parcels: HashMap<(String, String), Vec<StoredParcel>> = HashMap::new();
    for (account, reference, number, tracking_number, status, milestone) in parcel_rows {
        let parcel =
            parse_parcel(&account, &number, tracking_number.as_deref(), &status, &milestone)?;
        parcels.entry((account, reference)).or_default().push(parcel);
    }
    rows.into_iter()
        .map(|(account, reference, service_id, tracking_number, status, created_at)| {
            let key = format!("{account}/{reference}");
            let service_id = service_id
                .map(|id| {
                    u32::try_from(id)
                        .ok()
                        .and_then(|id| waybill_domain::ServiceId::new(id).ok())
                        .ok_or_else(|| {
                            codec::corrupt(
                                "orders",
                                &key,
                                format_args!("column service_id {id} is not a service id"),
                            )
                        })
                })
                .transpose()?;
            Ok(StoredOrder {
                reference: codec::parse(&reference, "orders", &key, "reference")?,
                service_id,
                tracking_number: codec::parse_opt(
                    tracking_number.as_deref(),
                    "orders",
                    &key,
                    "tracking_number",
                )?,
                status: codec::parse(&status, "orders", &key, "status")?,
                parcels: parcels.remove(&(account.clone(), reference)).unwrap_or_default(),
                created_at,
                account,
            })
        })
        .collect()
}

/// A `parcels` row's columns as a [`StoredParcel`]; a value that no longer parses is
/// [`StoreError::Corrupt`] naming the row.
pub(super) fn parse_parcel(
    account: &str,
    number: &str,
    tracking_number: Option<&str>,
    status: &str,
    milestone: &str,
) -> Result<StoredParcel, StoreError> {
    let key = format!("{account}/{number}");
    Ok(StoredParcel {
        merchant_tracking_number: codec::parse(
            number,
            "parcels",
            &key,
            "merchant_tracking_number",
        )?,
        tracking_number: codec::parse_opt(tracking_number, "parcels", &key, "tracking_number")?,
        status: codec::parse(status, "parcels", &key, "status")?,
        milestone: codec::parse(milestone, "parcels", &key, "milestone")?,
    })
}

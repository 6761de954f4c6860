//! Orders and their parcels: saving what the carrier answered, reading one, listing many
//! (the same matching rules and queries as the SQLite backend).

use std::collections::HashMap;
use std::sync::LazyLock;

use sqlx::{AssertSqlSafe, PgConnection, PgPool};
use waybill_domain::{Order, OrderParcel, OrderRequest, PartnerOrderRef, TrackingStatus};

use super::{codec, ingest, journal, status};
use crate::fingerprint::{self, IdempotencyConflict, RequestFingerprint, StoredRequest};
use crate::{JournalEntry, OrderFilter, OrderSort, Replay, StoreError, StoredOrder, StoredParcel};

/// The most orders one listing returns.
const MAX_LIST: u32 = 1000;

/// See [`crate::OrderBook::save_order`].
pub(super) async fn save_order(
    pool: &PgPool,
    account: &str,
    request: &OrderRequest,
    order: &Order,
) -> Result<(), StoreError> {
    let mut tx = ingest::begin_write(pool).await?;
    let numbers = write_order(&mut tx, account, request, order)
        .await?
        .map_err(StoreError::IdempotencyConflict)?;
    // Events may have arrived before the order was saved (first-leg scans, pool rows).
    status::refresh(&mut tx, &numbers, &[(account.to_owned(), request.reference().to_string())])
        .await?;
    tx.commit().await?;
    Ok(())
}

/// See [`crate::ImportJournal::save_imported`]: every order and its journal entry in one
/// transaction, then one set-based status refresh for all of them.
pub(super) async fn save_imported(
    pool: &PgPool,
    account: &str,
    orders: &[(&OrderRequest, &Order)],
) -> Result<Vec<Result<(), Box<IdempotencyConflict>>>, StoreError> {
    let mut answers = Vec::with_capacity(orders.len());
    let mut numbers = Vec::new();
    let mut saved = Vec::new();
    let mut tx = ingest::begin_write(pool).await?;
    for (request, order) in orders {
        let reference = request.reference();
        let entry = match write_order(&mut tx, account, request, order).await? {
            Ok(mut parcels) => {
                numbers.append(&mut parcels);
                saved.push((account.to_owned(), reference.to_string()));
                answers.push(Ok(()));
                JournalEntry::Done { tracking_number: order.tracking_number.clone() }
            }
            Err(conflict) => {
                let entry = JournalEntry::Failed { message: conflict.to_string() };
                answers.push(Err(conflict));
                entry
            }
        };
        journal::put_in(&mut tx, account, reference, &entry).await?;
    }
    status::refresh(&mut tx, &numbers, &saved).await?;
    tx.commit().await?;
    Ok(answers)
}

/// Writes an order and its parcels inside the caller's write transaction, returning the
/// parcels' merchant numbers (for the status refresh the caller owes them), or the conflict
/// that refused it, having written nothing.
async fn write_order(
    conn: &mut PgConnection,
    account: &str,
    request: &OrderRequest,
    order: &Order,
) -> Result<Result<Vec<String>, Box<IdempotencyConflict>>, StoreError> {
    let reference = request.reference().as_str();
    let request_json = codec::to_json(request, "an order request")?;
    // Checked inside the write transaction (under the writer lock), so two different
    // requests racing on one reference cannot both be recorded: the second finds the first.
    match replay(&mut *conn, account, request).await? {
        Replay::Conflict(c) => return Ok(Err(c)),
        Replay::New => {
            if let Err(c) = fingerprint::check_answer(request, order) {
                return Ok(Err(Box::new(c)));
            }
        }
        Replay::Same => {}
    }
    // The pool may have revealed the order first: fill in what it could not know, keep the
    // first request saved, and take the carrier's order tracking number.
    sqlx::query(
        "INSERT INTO orders (account, reference, service_id, tracking_number, request, fingerprint)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6)
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
    .bind(RequestFingerprint::of(request).as_str())
    .execute(&mut *conn)
    .await?;

    let mut numbers = Vec::with_capacity(request.items().len());
    for (index, item) in request.items().iter().enumerate() {
        let number = item.merchant_tracking_number.as_str();
        let parcel = match_parcel(request, &order.parcels, index);
        // A parcel the pool revealed under this account keeps its order; its main-carrier
        // number is the carrier's answer.
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
        .execute(&mut *conn)
        .await?;
        numbers.push(number.to_owned());
    }
    Ok(Ok(numbers))
}

/// See [`crate::OrderBook::check_replay`].
pub(super) async fn check_replay(
    pool: &PgPool,
    account: &str,
    request: &OrderRequest,
) -> Result<Replay, StoreError> {
    let mut conn = pool.acquire().await?;
    replay(&mut conn, account, request).await
}

/// What the store holds under the request's reference, compared with the request.
async fn replay(
    conn: &mut sqlx::PgConnection,
    account: &str,
    request: &OrderRequest,
) -> Result<Replay, StoreError> {
    let reference = request.reference().as_str();
    let row: Option<(Option<String>, Option<String>, Option<i64>)> = sqlx::query_as(
        "SELECT request::text, fingerprint, service_id FROM orders
          WHERE account = $1 AND reference = $2",
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
/// number, else the one whose item id is that number, else the one at the same position
/// unless that one is clearly another item's (as the SQLite backend matches).
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

/// A `parcels` row: account, reference, merchant number, tracking number, status.
type ParcelRow = (String, String, String, Option<String>, String, String);

/// The columns of an [`OrderRow`].
static ORDER_COLUMNS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT account, reference, service_id, tracking_number, status, {} FROM orders",
        codec::rfc3339("created_at")
    )
});

/// See [`crate::OrderBook::order`]. Without an account, the first account (by name) that
/// has the reference.
pub(super) async fn order(
    pool: &PgPool,
    account: Option<&str>,
    reference: &PartnerOrderRef,
) -> Result<Option<StoredOrder>, StoreError> {
    let row: Option<OrderRow> = sqlx::query_as(AssertSqlSafe(format!(
        "{} WHERE reference = $1 AND ($2::text IS NULL OR account = $2)
          ORDER BY account LIMIT 1",
        *ORDER_COLUMNS
    )))
    .bind(reference.as_str())
    .bind(account)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let mut orders = with_parcels(pool, vec![row]).await?;
    Ok(orders.pop())
}

/// See [`crate::OrderBook::list_orders`].
pub(super) async fn list_orders(
    pool: &PgPool,
    filter: &OrderFilter,
) -> Result<Vec<StoredOrder>, StoreError> {
    let limit = if filter.limit == 0 { MAX_LIST } else { filter.limit.min(MAX_LIST) };
    let (keyset, order) = match filter.sort {
        OrderSort::Reference => (
            "($4::text IS NULL OR reference > $4
              OR (reference = $4 AND $6::text IS NOT NULL AND account > $6))",
            "reference, account",
        ),
        // The cursor order's own sort key, looked up: callers hand back only its reference.
        OrderSort::Newest => (
            "($4::text IS NULL OR (created_at, account, reference) <
                (SELECT c.created_at, c.account, c.reference FROM orders c
                  WHERE c.reference = $4 AND ($6::text IS NULL OR c.account = $6)
                  ORDER BY c.account LIMIT 1))",
            "created_at DESC, account DESC, reference DESC",
        ),
    };
    let rows: Vec<OrderRow> = sqlx::query_as(AssertSqlSafe(format!(
        "{} WHERE ($1::text IS NULL OR account = $1)
            AND ($2::text IS NULL OR status = $2)
            AND ($3::bigint IS NULL OR service_id = $3)
            AND {keyset}
          ORDER BY {order}
          LIMIT $5",
        *ORDER_COLUMNS
    )))
    .bind(filter.account.as_deref())
    .bind(filter.status.map(TrackingStatus::as_str))
    .bind(filter.service_id.map(|s| i64::from(s.get())))
    .bind(filter.after.as_ref().map(PartnerOrderRef::as_str))
    .bind(i64::from(limit))
    .bind(filter.after_account.as_deref())
    .fetch_all(pool)
    .await?;
    with_parcels(pool, rows).await
}

/// Parses order rows and attaches their parcels (one query for all of them).
async fn with_parcels(pool: &PgPool, rows: Vec<OrderRow>) -> Result<Vec<StoredOrder>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let (accounts, references): (Vec<&str>, Vec<&str>) =
        rows.iter().map(|r| (r.0.as_str(), r.1.as_str())).unzip();
    let parcel_rows: Vec<ParcelRow> = sqlx::query_as(
        "SELECT p.account, p.reference, p.merchant_tracking_number, p.tracking_number, p.status,
                p.milestone
           FROM unnest($1::text[], $2::text[]) AS o(a, r)
           JOIN parcels p ON p.account = o.a AND p.reference = o.r
          ORDER BY p.account, p.reference, p.merchant_tracking_number",
    )
    .bind(&accounts)
    .bind(&references)
    .fetch_all(pool)
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

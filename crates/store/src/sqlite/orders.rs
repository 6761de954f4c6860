//! Orders and their parcels: saving what the carrier answered, reading one, listing many.

use std::collections::{HashMap, HashSet};

use sqlx::{AssertSqlSafe, SqliteConnection, SqlitePool};
use waybill_domain::{Order, OrderParcel, OrderRequest, PartnerOrderRef, TrackingStatus};

use super::{codec, journal, status};
use crate::fingerprint::{self, IdempotencyConflict, RequestFingerprint, StoredRequest};
use crate::{JournalEntry, OrderFilter, OrderSort, Replay, StoreError, StoredOrder, StoredParcel};

/// The most orders one listing returns.
pub(super) const MAX_LIST: u32 = 1000;

/// See [`crate::Store::save_order`].
pub(super) async fn save_order(
    pool: &SqlitePool,
    account: &str,
    request: &OrderRequest,
    order: &Order,
) -> Result<(), StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let numbers = write_order(&mut tx, account, request, order)
        .await?
        .map_err(StoreError::IdempotencyConflict)?;
    // Events may have arrived before the order was saved (StarShipIT scans, pool rows).
    status::refresh(&mut tx, &numbers, &[(account.to_owned(), request.reference().to_string())])
        .await?;
    tx.commit().await?;
    Ok(())
}

/// See [`crate::ImportJournal::save_imported`]: one transaction, and a fixed handful of
/// statements per [`CHUNK`] of orders whatever their number (each statement is a
/// hop to SQLite's worker thread: one per order and table was what held the import back).
pub(super) async fn save_imported(
    pool: &SqlitePool,
    account: &str,
    orders: &[(&OrderRequest, &Order)],
) -> Result<Vec<Result<(), Box<IdempotencyConflict>>>, StoreError> {
    let mut answers = Vec::with_capacity(orders.len());
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    for chunk in orders.chunks(CHUNK) {
        // Checked inside the write transaction, as `save_order` does; only references the
        // store already holds need the full comparison.
        let references: Vec<&str> = chunk.iter().map(|(r, _)| r.reference().as_str()).collect();
        let stored = stored_references(&mut tx, account, &references).await?;
        let mut saved: Vec<(&OrderRequest, &Order, String, RequestFingerprint)> = Vec::new();
        let mut entries: Vec<(&str, JournalEntry)> = Vec::with_capacity(chunk.len());
        for &(request, order) in chunk {
            let reference = request.reference().as_str();
            let verdict = if stored.contains(reference) {
                replay(&mut tx, account, request).await?
            } else {
                Replay::New
            };
            let checked = match verdict {
                Replay::Conflict(c) => Err(c),
                Replay::New => fingerprint::check_answer(request, order).map_err(Box::new),
                Replay::Same => Ok(()),
            };
            let entry = match &checked {
                Ok(()) => {
                    let json = codec::to_json(request, "an order request")?;
                    saved.push((request, order, json, RequestFingerprint::of(request)));
                    JournalEntry::Done { tracking_number: order.tracking_number.clone() }
                }
                Err(conflict) => JournalEntry::Failed { message: conflict.to_string() },
            };
            entries.push((reference, entry));
            answers.push(checked);
        }
        insert_orders(&mut tx, account, &saved).await?;
        let numbers = insert_parcels(&mut tx, account, &saved).await?;
        journal::put_many(&mut tx, account, &entries).await?;
        let orders: Vec<(String, String)> =
            saved.iter().map(|(r, ..)| (account.to_owned(), r.reference().to_string())).collect();
        // New orders whose parcels have no events yet are `pending`, as their rows were
        // written: the refresh would only rewrite them. Orders stored before (a new parcel
        // changes the order's status) and parcels with events are derived as usual.
        if !stored.is_empty() || has_events(&mut tx, account, &numbers, &orders).await? {
            status::refresh(&mut tx, &numbers, &orders).await?;
        }
    }
    tx.commit().await?;
    Ok(answers)
}

/// Whether any event belongs to these parcels (by merchant number, in any account) or is
/// order-scoped to these (account, reference) orders.
async fn has_events(
    conn: &mut SqliteConnection,
    account: &str,
    numbers: &[String],
    orders: &[(String, String)],
) -> Result<bool, StoreError> {
    let references: Vec<&str> = orders.iter().map(|(_, r)| r.as_str()).collect();
    let found: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM json_each($1) j
                         CROSS JOIN events e ON e.merchant_tracking_number = j.value)
             OR EXISTS (SELECT 1 FROM json_each($2) j
                         CROSS JOIN events e ON e.account = $3 AND e.reference = j.value
                                            AND e.merchant_tracking_number IS NULL)",
    )
    .bind(codec::json_list(numbers)?)
    .bind(codec::json_list(&references)?)
    .bind(account)
    .fetch_one(&mut *conn)
    .await?;
    Ok(found)
}

/// Which of these references the account's orders hold.
async fn stored_references(
    conn: &mut SqliteConnection,
    account: &str,
    references: &[&str],
) -> Result<HashSet<String>, StoreError> {
    let stored: Vec<String> = sqlx::query_scalar(
        "SELECT o.reference FROM json_each($2) j
          CROSS JOIN orders o ON o.account = $1 AND o.reference = j.value",
    )
    .bind(account)
    .bind(codec::json_list(references)?)
    .fetch_all(&mut *conn)
    .await?;
    Ok(stored.into_iter().collect())
}

/// The orders rows of saved orders (request JSON and fingerprint beside each), as
/// [`write_order`] writes one. The rows travel as one JSON array read by `json_each`, so the
/// statement's text is the same for any number of rows: SQLite prepares it once per
/// connection (a multi-row `VALUES` of a new length was a new statement to parse and plan,
/// and the import profile showed preparing them costing half as much as running them).
async fn insert_orders(
    conn: &mut SqliteConnection,
    account: &str,
    saved: &[(&OrderRequest, &Order, String, RequestFingerprint)],
) -> Result<(), StoreError> {
    if saved.is_empty() {
        return Ok(());
    }
    let rows: Vec<(&str, i64, &str, &str, &str)> = saved
        .iter()
        .map(|(request, order, json, fingerprint)| {
            (
                request.reference().as_str(),
                i64::from(request.service_id().get()),
                order.tracking_number.as_str(),
                json.as_str(),
                fingerprint.as_str(),
            )
        })
        .collect();
    // `WHERE true`: SQLite's grammar needs it between an `INSERT … SELECT` and its upsert.
    sqlx::query(
        "INSERT INTO orders (account, reference, service_id, tracking_number, request, created_at,
                             fingerprint)
         SELECT $1, j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, $2, j.value ->> 4
           FROM json_each($3) j WHERE true
         ON CONFLICT (account, reference) DO UPDATE SET
            service_id = COALESCE(orders.service_id, excluded.service_id),
            tracking_number = excluded.tracking_number,
            request = COALESCE(orders.request, excluded.request),
            fingerprint = COALESCE(orders.fingerprint, excluded.fingerprint)",
    )
    .bind(account)
    .bind(codec::now())
    .bind(codec::to_json(&rows, "the imported orders")?)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The parcels rows of saved orders, as [`write_order`] writes them (one JSON array, as
/// [`insert_orders`]); returns their merchant numbers.
async fn insert_parcels(
    conn: &mut SqliteConnection,
    account: &str,
    saved: &[(&OrderRequest, &Order, String, RequestFingerprint)],
) -> Result<Vec<String>, StoreError> {
    let mut rows = Vec::new();
    for (request, order, ..) in saved {
        for (index, item) in request.items().iter().enumerate() {
            let parcel = match_parcel(request, &order.parcels, index);
            rows.push((
                request.reference().as_str(),
                item.merchant_tracking_number.as_str(),
                parcel.map(|p| p.tracking_number.as_str()),
            ));
        }
    }
    if !rows.is_empty() {
        sqlx::query(
            "INSERT INTO parcels (account, reference, merchant_tracking_number, tracking_number)
             SELECT $1, j.value ->> 0, j.value ->> 1, j.value ->> 2
               FROM json_each($2) j WHERE true
             ON CONFLICT (merchant_tracking_number, account) DO UPDATE SET
                tracking_number = COALESCE(excluded.tracking_number, parcels.tracking_number)",
        )
        .bind(account)
        .bind(codec::to_json(&rows, "the imported parcels")?)
        .execute(&mut *conn)
        .await?;
    }
    Ok(rows.into_iter().map(|(_, number, _)| number.to_owned()).collect())
}

/// Writes an order and its parcels inside the caller's write transaction, returning the
/// parcels' merchant numbers (for the status refresh the caller owes them), or the conflict
/// that refused it, having written nothing.
async fn write_order(
    conn: &mut SqliteConnection,
    account: &str,
    request: &OrderRequest,
    order: &Order,
) -> Result<Result<Vec<String>, Box<IdempotencyConflict>>, StoreError> {
    let reference = request.reference().as_str();
    let request_json = codec::to_json(request, "an order request")?;
    // Checked inside the write transaction, so two different requests racing on one
    // reference cannot both be recorded: the second finds the first.
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
    .execute(&mut *conn)
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
        .execute(&mut *conn)
        .await?;
        numbers.push(number.to_owned());
    }
    Ok(Ok(numbers))
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

/// See [`crate::OrderBook::check_replays`]: one query per [`CHUNK`] of references finds the
/// stored ones (a fresh import's are all new), and only those are compared one by one.
pub(super) async fn check_replays(
    pool: &SqlitePool,
    account: &str,
    requests: &[&OrderRequest],
) -> Result<Vec<Replay>, StoreError> {
    let mut conn = pool.acquire().await?;
    let mut answers = Vec::with_capacity(requests.len());
    for chunk in requests.chunks(CHUNK) {
        let references: Vec<&str> = chunk.iter().map(|r| r.reference().as_str()).collect();
        let stored: HashSet<String> = sqlx::query_scalar(
            "SELECT o.reference FROM json_each($2) j
              CROSS JOIN orders o ON o.account = $1 AND o.reference = j.value",
        )
        .bind(account)
        .bind(codec::json_list(&references)?)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .collect();
        for request in chunk {
            answers.push(if stored.contains(request.reference().as_str()) {
                replay(&mut conn, account, request).await?
            } else {
                Replay::New
            });
        }
    }
    Ok(answers)
}

/// References per batched lookup, orders per round of save statements.
const CHUNK: usize = 500;

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

//! Writing events: status pool pages (with the account's cursor) and tracking events from
//! any carrier, each batch in one transaction with multi-row statements.
//!
//! A page costs a fixed handful of statements whatever its size: raw rows (`RETURNING` tells
//! which are new, and only those go further), revealed orders, revealed parcels, events (a
//! pool event points at its raw row instead of repeating its JSON), the parcels' timeline
//! heads moved forward from the page's own events, the touched orders' statuses and the
//! cursor. Replayed rows stop at the first statement.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};
use waybill_domain::{Cursor, FeedItem, MerchantTrackingNumber, TrackingEvent, UndecodedRow};

use super::codec;
use super::status::{self, Head};
use crate::{PoolCommit, StoreError};

/// Rows per multi-row statement: the widest (events, 11 columns) stays far below SQLite's
/// 32,766 bound variables.
const CHUNK_ROWS: usize = 500;

/// An event ready to insert, with the scope columns that say which parcels it belongs to.
struct EventRow {
    account: Option<String>,
    reference: Option<String>,
    merchant_number: Option<String>,
    carrier: String,
    tracking_number: String,
    key: Vec<u8>,
    /// See [`codec::key_time`].
    key_time: i64,
    sort_key: i64,
    raw_status: String,
    status: &'static str,
    /// The event's milestone and its rank (`None`: unknown, never moves a parcel).
    milestone: &'static str,
    rank: Option<i64>,
    /// The pool row holding the event, for pool events (whose JSON is not repeated).
    pool_cursor: Option<i64>,
    /// The event's JSON, for events from elsewhere.
    json: Option<String>,
}

impl EventRow {
    fn new(
        event: &TrackingEvent,
        account: Option<String>,
        reference: Option<String>,
        merchant_number: Option<String>,
        pool_cursor: Option<i64>,
    ) -> Result<Self, StoreError> {
        let json = match pool_cursor {
            Some(_) => None,
            None => Some(codec::to_json(event, "an event")?),
        };
        Ok(Self {
            account,
            reference,
            merchant_number,
            carrier: event.carrier.as_str().to_owned(),
            tracking_number: event.tracking_number.as_str().to_owned(),
            key: codec::event_key(event)?,
            key_time: codec::key_time(&event.occurred_at),
            sort_key: codec::sort_key(&event.occurred_at),
            raw_status: event.raw_status.clone(),
            status: event.status.as_str(),
            milestone: event.milestone().as_str(),
            rank: event.milestone().rank().map(i64::from),
            pool_cursor,
            json,
        })
    }
}

/// The account's cursor.
pub(super) async fn cursor(pool: &SqlitePool, account: &str) -> Result<Cursor, StoreError> {
    let row: Option<i64> = sqlx::query_scalar("SELECT cursor FROM cursors WHERE account = $1")
        .bind(account)
        .fetch_optional(pool)
        .await?;
    row.map_or(Ok(Cursor::default()), |c| codec::cursor_from_db(c, "cursors", account))
}

/// See [`crate::FeedSink::record_pool_rows`].
pub(super) async fn record_pool_rows(
    pool: &SqlitePool,
    account: &str,
    items: &[FeedItem],
    undecoded: &[UndecodedRow],
    next_cursor: Cursor,
) -> Result<PoolCommit, StoreError> {
    let next_cursor = codec::cursor_to_db(next_cursor)?;
    let mut raw = Vec::with_capacity(items.len());
    for item in items {
        raw.push((codec::cursor_to_db(item.cursor)?, codec::to_json(item, "a pool item")?));
    }

    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let mut fresh = insert_pool_rows(&mut tx, account, &raw).await?;
    // A cursor repeated within the page was inserted once: its first item is the new one.
    let new_items: Vec<(i64, &FeedItem)> = items
        .iter()
        .zip(&raw)
        .filter(|(_, (cursor, _))| fresh.remove(cursor))
        .map(|(item, (cursor, _))| (*cursor, item))
        .collect();

    if !new_items.is_empty() {
        let page = classify(&mut tx, account, &new_items).await?;
        upsert_orders(&mut tx, account, &page.orders).await?;
        let changed = upsert_parcels(&mut tx, account, &page.parcels).await?;
        insert_events(&mut tx, &page.events, false).await?;
        // New parcels may have older events (StarShipIT scans, their order's rows): those
        // are recomputed in full; every other touched parcel only moves forward.
        status::refresh_parcels(&mut tx, &changed, &[]).await?;
        let numbers: Vec<String> = page.by_number.keys().cloned().collect();
        // A recomputed parcel already counts the page's own events: moving it again is work
        // for nothing (a new parcel per order, every page).
        let changed: HashSet<String> = changed.into_iter().collect();
        let by_number: Vec<_> =
            page.by_number.into_iter().filter(|(n, _)| !changed.contains(n)).collect();
        let by_reference: Vec<_> = page.by_reference.into_iter().collect();
        status::advance_parcels(&mut tx, account, &by_number, &by_reference).await?;
        let orders: Vec<(String, String)> =
            by_reference.into_iter().map(|(r, _)| (account.to_owned(), r)).collect();
        status::refresh_orders(&mut tx, &numbers, &orders).await?;
    }
    let quarantined = insert_quarantine(&mut tx, account, undecoded).await?;

    sqlx::query(
        "INSERT INTO cursors (account, cursor, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (account) DO UPDATE
            SET cursor = excluded.cursor, updated_at = excluded.updated_at
          WHERE excluded.cursor > cursors.cursor",
    )
    .bind(account)
    .bind(next_cursor)
    .bind(codec::now())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(PoolCommit { items: new_items.len(), quarantined })
}

/// Keeps undecodable rows in the quarantine (once per account and raw text), returning how
/// many were new.
async fn insert_quarantine(
    conn: &mut SqliteConnection,
    account: &str,
    rows: &[UndecodedRow],
) -> Result<usize, StoreError> {
    let mut fresh = 0;
    let now = codec::now();
    for chunk in rows.chunks(CHUNK_ROWS) {
        let mut encoded = Vec::with_capacity(chunk.len());
        for row in chunk {
            let cursor = row.cursor.map(codec::cursor_to_db).transpose()?;
            encoded.push((cursor, crate::quarantine::row_key(&row.raw), row));
        }
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT OR IGNORE INTO quarantine (account, cursor, row_key, raw, error, quarantined_at) ",
        );
        q.push_values(&encoded, |mut b, (cursor, key, row)| {
            b.push_bind(account)
                .push_bind(*cursor)
                .push_bind(key.as_slice())
                .push_bind(row.raw.as_str())
                .push_bind(row.error.as_str())
                .push_bind(now.as_str());
        });
        q.push(" RETURNING id");
        let new: Vec<i64> = q.build_query_scalar().fetch_all(&mut *conn).await?;
        fresh += new.len();
    }
    Ok(fresh)
}

/// Inserts raw rows, returning the cursors that were new.
async fn insert_pool_rows(
    conn: &mut SqliteConnection,
    account: &str,
    rows: &[(i64, String)],
) -> Result<HashSet<i64>, StoreError> {
    let mut fresh = HashSet::with_capacity(rows.len());
    for chunk in rows.chunks(CHUNK_ROWS) {
        let mut q =
            QueryBuilder::<Sqlite>::new("INSERT OR IGNORE INTO pool_rows (account, cursor, item) ");
        q.push_values(chunk, |mut b, (cursor, json)| {
            b.push_bind(account).push_bind(*cursor).push_bind(json.as_str());
        });
        q.push(" RETURNING cursor");
        let new: Vec<i64> = q.build_query_scalar().fetch_all(&mut *conn).await?;
        fresh.extend(new);
    }
    Ok(fresh)
}

/// What a page's new items reveal and carry.
#[derive(Default)]
struct Page {
    /// Reference → the order's Starmile tracking number, if a row taught it (first wins).
    orders: BTreeMap<String, Option<String>>,
    /// Merchant number → (reference, the parcel's Starmile tracking number) (first wins).
    parcels: BTreeMap<String, (String, Option<String>)>,
    events: Vec<EventRow>,
    /// Merchant number → the page's newest event of that parcel.
    by_number: BTreeMap<String, Head>,
    /// Reference → the page's newest order-scoped event of that order.
    by_reference: BTreeMap<String, Head>,
}

/// Applies the join rules to new pool items (see the module documentation of `sqlite`).
async fn classify(
    conn: &mut SqliteConnection,
    account: &str,
    items: &[(i64, &FeedItem)],
) -> Result<Page, StoreError> {
    let mut page = Page::default();
    for &(cursor, item) in items {
        let event = &item.event;
        let tracking_number = event.tracking_number.as_str();
        // The partner's item reference is the merchant number by waybill's convention.
        let item_number = match (&event.merchant_tracking_number, &item.item_ref) {
            (Some(m), _) => Some(Ok(m.as_str().to_owned())),
            (None, Some(r)) => Some(match MerchantTrackingNumber::parse(r.as_str()) {
                Ok(m) => Ok(m.as_str().to_owned()),
                // Kept on the event so the row stays parcel-scoped, but no parcel is made.
                Err(_) => Err(r.clone()),
            }),
            (None, None) => None,
        };
        let mut reference = item.reference.as_ref().map(|r| r.as_str().to_owned());
        match item_number {
            Some(Ok(number)) => {
                if reference.is_none() {
                    reference = reference_of_parcel(conn, account, &number).await?;
                }
                if let Some(r) = &reference {
                    page.orders.entry(r.clone()).or_insert(None);
                    page.parcels
                        .entry(number.clone())
                        .or_insert_with(|| (r.clone(), Some(tracking_number.to_owned())));
                }
                page.by_number.entry(number.clone()).or_default().observe(event);
                let row = EventRow::new(
                    event,
                    Some(account.into()),
                    reference,
                    Some(number),
                    Some(cursor),
                )?;
                page.events.push(row);
            }
            Some(Err(raw_ref)) => {
                if let Some(r) = &reference {
                    page.orders.entry(r.clone()).or_insert(None);
                }
                let row = EventRow::new(
                    event,
                    Some(account.into()),
                    reference,
                    Some(raw_ref),
                    Some(cursor),
                )?;
                page.events.push(row);
            }
            None => {
                if reference.is_none() {
                    reference = reference_of_order(conn, account, tracking_number).await?;
                }
                if let Some(r) = &reference {
                    let known = page.orders.entry(r.clone()).or_insert(None);
                    known.get_or_insert_with(|| tracking_number.to_owned());
                    page.by_reference.entry(r.clone()).or_default().observe(event);
                }
                let row =
                    EventRow::new(event, Some(account.into()), reference, None, Some(cursor))?;
                page.events.push(row);
            }
        }
    }
    Ok(page)
}

/// The reference of an account's parcel (for a parcel row that did not name its order).
async fn reference_of_parcel(
    conn: &mut SqliteConnection,
    account: &str,
    number: &str,
) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT reference FROM parcels WHERE account = $1 AND merchant_tracking_number = $2",
    )
    .bind(account)
    .bind(number)
    .fetch_optional(conn)
    .await?)
}

/// The reference of an account's order by its Starmile tracking number, when unique.
async fn reference_of_order(
    conn: &mut SqliteConnection,
    account: &str,
    tracking_number: &str,
) -> Result<Option<String>, StoreError> {
    let found: Vec<String> = sqlx::query_scalar(
        "SELECT reference FROM orders WHERE account = $1 AND tracking_number = $2 LIMIT 2",
    )
    .bind(account)
    .bind(tracking_number)
    .fetch_all(conn)
    .await?;
    Ok(if found.len() == 1 { found.into_iter().next() } else { None })
}

/// Creates orders the store has not seen and learns their Starmile tracking numbers.
async fn upsert_orders(
    conn: &mut SqliteConnection,
    account: &str,
    orders: &BTreeMap<String, Option<String>>,
) -> Result<(), StoreError> {
    let orders: Vec<_> = orders.iter().collect();
    let now = codec::now();
    for chunk in orders.chunks(CHUNK_ROWS) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO orders (account, reference, tracking_number, created_at) ",
        );
        q.push_values(chunk, |mut b, (reference, tracking_number)| {
            b.push_bind(account)
                .push_bind(reference.as_str())
                .push_bind(tracking_number.as_deref())
                .push_bind(now.as_str());
        });
        q.push(
            " ON CONFLICT (account, reference) DO UPDATE SET tracking_number = excluded.tracking_number
              WHERE orders.tracking_number IS NULL AND excluded.tracking_number IS NOT NULL",
        );
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Creates parcels the store has not seen and learns their Starmile tracking numbers.
/// Returns the merchant numbers of the parcels created or changed.
async fn upsert_parcels(
    conn: &mut SqliteConnection,
    account: &str,
    parcels: &BTreeMap<String, (String, Option<String>)>,
) -> Result<Vec<String>, StoreError> {
    let parcels: Vec<_> = parcels.iter().collect();
    let mut changed = Vec::new();
    for chunk in parcels.chunks(CHUNK_ROWS) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO parcels (account, reference, merchant_tracking_number, tracking_number) ",
        );
        q.push_values(chunk, |mut b, (number, (reference, tracking_number))| {
            b.push_bind(account)
                .push_bind(reference.as_str())
                .push_bind(number.as_str())
                .push_bind(tracking_number.as_deref());
        });
        q.push(
            " ON CONFLICT (merchant_tracking_number, account) DO UPDATE
                 SET tracking_number = excluded.tracking_number
               WHERE parcels.tracking_number IS NULL AND excluded.tracking_number IS NOT NULL
              RETURNING merchant_tracking_number",
        );
        changed.extend(q.build_query_scalar::<String>().fetch_all(&mut *conn).await?);
    }
    Ok(changed)
}

/// Inserts events, ignoring keys already stored. With `report`, returns the scope columns
/// (account, reference, merchant number) of the events that were new.
async fn insert_events(
    conn: &mut SqliteConnection,
    events: &[EventRow],
    report: bool,
) -> Result<Vec<NewEvent>, StoreError> {
    let mut new = Vec::new();
    for chunk in events.chunks(CHUNK_ROWS) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT OR IGNORE INTO events (account, reference, merchant_tracking_number, carrier,
                 tracking_number, event_key, key_time, sort_key, raw_status, status, milestone,
                 rank, pool_cursor, event) ",
        );
        q.push_values(chunk, |mut b, e| {
            b.push_bind(e.account.as_deref())
                .push_bind(e.reference.as_deref())
                .push_bind(e.merchant_number.as_deref())
                .push_bind(e.carrier.as_str())
                .push_bind(e.tracking_number.as_str())
                .push_bind(e.key.as_slice())
                .push_bind(e.key_time)
                .push_bind(e.sort_key)
                .push_bind(e.raw_status.as_str())
                .push_bind(e.status)
                .push_bind(e.milestone)
                .push_bind(e.rank)
                .push_bind(e.pool_cursor)
                .push_bind(e.json.as_deref());
        });
        if report {
            q.push(" RETURNING account, reference, merchant_tracking_number");
            new.extend(q.build_query_as::<NewEvent>().fetch_all(&mut *conn).await?);
        } else {
            q.build().execute(&mut *conn).await?;
        }
    }
    Ok(new)
}

/// The scope of a newly stored event.
type NewEvent = (Option<String>, Option<String>, Option<String>);

/// See [`crate::Store::record_events`].
pub(super) async fn record_events(
    pool: &SqlitePool,
    events: &[TrackingEvent],
) -> Result<usize, StoreError> {
    if events.is_empty() {
        return Ok(0);
    }
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let mut rows = Vec::with_capacity(events.len());
    for event in events {
        let (account, reference, number) = scope_of(&mut tx, event).await?;
        rows.push(EventRow::new(event, account, reference, number, None)?);
    }
    let new = insert_events(&mut tx, &rows, true).await?;
    let mut numbers = BTreeSet::new();
    let mut orders = BTreeSet::new();
    for (account, reference, number) in &new {
        match (account, reference, number) {
            (_, _, Some(number)) => {
                numbers.insert(number.clone());
            }
            (Some(account), Some(reference), None) => {
                orders.insert((account.clone(), reference.clone()));
            }
            _ => {}
        }
    }
    let numbers: Vec<String> = numbers.into_iter().collect();
    let orders: Vec<(String, String)> = orders.into_iter().collect();
    status::refresh(&mut tx, &numbers, &orders).await?;
    tx.commit().await?;
    Ok(new.len())
}

/// Which parcels an event outside the pool belongs to: (account, reference, merchant number).
///
/// An event naming a merchant number stays account-less and joins that parcel in any
/// account, even one not stored yet (first-leg events carry it: the first-leg label is the
/// merchant number). Otherwise it joins by its tracking number when that is exactly one
/// stored parcel's, or one order's (order-scoped).
async fn scope_of(
    conn: &mut SqliteConnection,
    event: &TrackingEvent,
) -> Result<(Option<String>, Option<String>, Option<String>), StoreError> {
    if let Some(number) = &event.merchant_tracking_number {
        return Ok((None, None, Some(number.as_str().to_owned())));
    }
    let tracking_number = event.tracking_number.as_str();
    let parcels: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT account, reference, merchant_tracking_number FROM parcels
          WHERE tracking_number = $1 LIMIT 2",
    )
    .bind(tracking_number)
    .fetch_all(&mut *conn)
    .await?;
    if let [(account, reference, number)] = parcels.as_slice() {
        return Ok((Some(account.clone()), Some(reference.clone()), Some(number.clone())));
    }
    let orders: Vec<(String, String)> =
        sqlx::query_as("SELECT account, reference FROM orders WHERE tracking_number = $1 LIMIT 2")
            .bind(tracking_number)
            .fetch_all(&mut *conn)
            .await?;
    if let [(account, reference)] = orders.as_slice() {
        return Ok((Some(account.clone()), Some(reference.clone()), None));
    }
    Ok((None, None, None))
}

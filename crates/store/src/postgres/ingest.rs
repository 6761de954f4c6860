//! Writing events: status pool pages (with the account's cursor, and the lease when several
//! workers share the database) and tracking events from any carrier, each batch in one
//! transaction. Bulk rows travel as arrays (`unnest`), so a page is a fixed handful of
//! statements whatever its size — the same statements, in the same order, as SQLite's.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use sqlx::{PgConnection, PgPool};
use waybill_domain::{Cursor, FeedItem, MerchantTrackingNumber, TrackingEvent, UndecodedRow};

use super::codec;
use super::status::{self, Head};
use crate::{Lease, PoolCommit, StoreError};

/// The advisory lock every status-deriving write holds for its transaction (the first key;
/// the second is the schema's name, so schemas in one database do not serialise each other).
const WRITER_LOCK: i32 = 0x5742_0001;

/// Starts a write transaction holding the writer lock (see the `postgres` module docs).
pub(super) async fn begin_write(
    pool: &PgPool,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))")
        .bind(WRITER_LOCK)
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

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
    rank: Option<i32>,
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
            rank: event.milestone().rank().map(i32::from),
            pool_cursor,
            json,
        })
    }
}

/// The account's cursor.
pub(super) async fn cursor(pool: &PgPool, account: &str) -> Result<Cursor, StoreError> {
    let row: Option<i64> = sqlx::query_scalar("SELECT cursor FROM cursors WHERE account = $1")
        .bind(account)
        .fetch_optional(pool)
        .await?;
    row.map_or(Ok(Cursor::default()), |c| codec::cursor_from_db(c, "cursors", account))
}

/// See [`crate::FeedSink::record_pool_rows`] and, with a lease,
/// [`crate::Leases::record_pool_page_leased`].
pub(super) async fn record_pool_page(
    pool: &PgPool,
    account: &str,
    items: &[FeedItem],
    undecoded: &[UndecodedRow],
    next_cursor: Cursor,
    lease: Option<&Lease>,
) -> Result<PoolCommit, StoreError> {
    let next_cursor = codec::cursor_to_db(next_cursor)?;
    let mut cursors = Vec::with_capacity(items.len());
    let mut jsons = Vec::with_capacity(items.len());
    for item in items {
        cursors.push(codec::cursor_to_db(item.cursor)?);
        jsons.push(codec::to_json(item, "a pool item")?);
    }

    let mut tx = begin_write(pool).await?;
    if let Some(lease) = lease {
        // Checked and renewed inside the page's transaction: the row stays locked until the
        // commit, so a worker taking over waits for it and then sees the renewed lease.
        if !super::leases::renew_in(&mut tx, lease).await? {
            return Err(StoreError::LeaseLost {
                name: lease.name.clone(),
                holder: lease.holder.clone(),
            });
        }
    }
    let mut fresh: HashSet<i64> = sqlx::query_scalar(
        "INSERT INTO pool_rows (account, cursor, item)
         SELECT $1, c, i::jsonb FROM unnest($2::bigint[], $3::text[]) AS t(c, i)
         ON CONFLICT DO NOTHING
         RETURNING cursor",
    )
    .bind(account)
    .bind(&cursors)
    .bind(&jsons)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();
    // A cursor repeated within the page was inserted once: its first item is the new one.
    let new_items: Vec<(i64, &FeedItem)> = items
        .iter()
        .zip(&cursors)
        .filter(|(_, cursor)| fresh.remove(cursor))
        .map(|(item, cursor)| (*cursor, item))
        .collect();

    if !new_items.is_empty() {
        let page = classify(&mut tx, account, &new_items).await?;
        upsert_orders(&mut tx, account, &page.orders).await?;
        let changed = upsert_parcels(&mut tx, account, &page.parcels).await?;
        insert_events(&mut tx, &page.events, false).await?;
        // New parcels may have older events (first-leg scans, their order's rows): those
        // are recomputed in full; every other touched parcel only moves forward.
        status::refresh_parcels(&mut tx, &changed, &[]).await?;
        let by_number: Vec<_> = page.by_number.into_iter().collect();
        let by_reference: Vec<_> = page.by_reference.into_iter().collect();
        status::advance_parcels(&mut tx, account, &by_number, "merchant_tracking_number").await?;
        status::advance_parcels(&mut tx, account, &by_reference, "reference").await?;
        let numbers: Vec<String> = by_number.into_iter().map(|(n, _)| n).collect();
        let orders: Vec<(String, String)> =
            by_reference.into_iter().map(|(r, _)| (account.to_owned(), r)).collect();
        status::refresh_orders(&mut tx, &numbers, &orders).await?;
    }
    let quarantined = insert_quarantine(&mut tx, account, undecoded).await?;

    sqlx::query(
        "INSERT INTO cursors (account, cursor, updated_at) VALUES ($1, $2, clock_timestamp())
         ON CONFLICT (account) DO UPDATE
            SET cursor = excluded.cursor, updated_at = excluded.updated_at
          WHERE excluded.cursor > cursors.cursor",
    )
    .bind(account)
    .bind(next_cursor)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(PoolCommit { items: new_items.len(), quarantined })
}

/// Keeps undecodable rows in the quarantine (once per account and raw text), returning how
/// many were new.
async fn insert_quarantine(
    conn: &mut PgConnection,
    account: &str,
    rows: &[UndecodedRow],
) -> Result<usize, StoreError> {
    if rows.is_empty() {
        return Ok(0);
    }
    let mut cursors = Vec::with_capacity(rows.len());
    let mut keys = Vec::with_capacity(rows.len());
    let mut raws = Vec::with_capacity(rows.len());
    let mut errors = Vec::with_capacity(rows.len());
    for row in rows {
        cursors.push(row.cursor.map(codec::cursor_to_db).transpose()?);
        keys.push(crate::quarantine::row_key(&row.raw));
        raws.push(row.raw.as_str());
        errors.push(row.error.as_str());
    }
    let new: Vec<i64> = sqlx::query_scalar(
        "INSERT INTO quarantine (account, cursor, row_key, raw, error)
         SELECT $1, c, k, r, e FROM unnest($2::bigint[], $3::bytea[], $4::text[], $5::text[])
             AS t(c, k, r, e)
         ON CONFLICT DO NOTHING
         RETURNING id",
    )
    .bind(account)
    .bind(&cursors)
    .bind(&keys)
    .bind(&raws)
    .bind(&errors)
    .fetch_all(&mut *conn)
    .await?;
    Ok(new.len())
}

/// What a page's new items reveal and carry.
#[derive(Default)]
struct Page {
    /// Reference → the order's main-carrier tracking number, if a row taught it (first wins).
    orders: BTreeMap<String, Option<String>>,
    /// Merchant number → (reference, the parcel's main-carrier tracking number) (first wins).
    parcels: BTreeMap<String, (String, Option<String>)>,
    events: Vec<EventRow>,
    /// Merchant number → the page's newest event of that parcel.
    by_number: BTreeMap<String, Head>,
    /// Reference → the page's newest order-scoped event of that order.
    by_reference: BTreeMap<String, Head>,
}

/// Applies the join rules to new pool items (see the `sqlite` module documentation; both
/// backends apply the same rules).
async fn classify(
    conn: &mut PgConnection,
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
    conn: &mut PgConnection,
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

/// The reference of an account's order by its main-carrier tracking number, when unique.
async fn reference_of_order(
    conn: &mut PgConnection,
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

/// Creates orders the store has not seen and learns their main-carrier tracking numbers.
async fn upsert_orders(
    conn: &mut PgConnection,
    account: &str,
    orders: &BTreeMap<String, Option<String>>,
) -> Result<(), StoreError> {
    if orders.is_empty() {
        return Ok(());
    }
    let (references, numbers): (Vec<&str>, Vec<Option<&str>>) =
        orders.iter().map(|(r, t)| (r.as_str(), t.as_deref())).unzip();
    sqlx::query(
        "INSERT INTO orders (account, reference, tracking_number)
         SELECT $1, r, t FROM unnest($2::text[], $3::text[]) AS o(r, t)
         ON CONFLICT (account, reference) DO UPDATE SET tracking_number = excluded.tracking_number
          WHERE orders.tracking_number IS NULL AND excluded.tracking_number IS NOT NULL",
    )
    .bind(account)
    .bind(&references)
    .bind(&numbers)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Creates parcels the store has not seen and learns their main-carrier tracking numbers.
/// Returns the merchant numbers of the parcels created or changed.
async fn upsert_parcels(
    conn: &mut PgConnection,
    account: &str,
    parcels: &BTreeMap<String, (String, Option<String>)>,
) -> Result<Vec<String>, StoreError> {
    if parcels.is_empty() {
        return Ok(Vec::new());
    }
    let mut numbers = Vec::with_capacity(parcels.len());
    let mut references = Vec::with_capacity(parcels.len());
    let mut tracking = Vec::with_capacity(parcels.len());
    for (number, (reference, tracking_number)) in parcels {
        numbers.push(number.as_str());
        references.push(reference.as_str());
        tracking.push(tracking_number.as_deref());
    }
    Ok(sqlx::query_scalar(
        "INSERT INTO parcels (account, reference, merchant_tracking_number, tracking_number)
         SELECT $1, r, m, t FROM unnest($2::text[], $3::text[], $4::text[]) AS p(r, m, t)
         ON CONFLICT (merchant_tracking_number, account) DO UPDATE
            SET tracking_number = excluded.tracking_number
          WHERE parcels.tracking_number IS NULL AND excluded.tracking_number IS NOT NULL
         RETURNING merchant_tracking_number",
    )
    .bind(account)
    .bind(&references)
    .bind(&numbers)
    .bind(&tracking)
    .fetch_all(&mut *conn)
    .await?)
}

/// The scope of a newly stored event: account, reference, merchant number.
type NewEvent = (Option<String>, Option<String>, Option<String>);

/// Inserts events, ignoring keys already stored (the first of a batch's copies wins). With
/// `report`, returns the scope columns of the events that were new.
async fn insert_events(
    conn: &mut PgConnection,
    events: &[EventRow],
    report: bool,
) -> Result<Vec<NewEvent>, StoreError> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let column = |f: fn(&EventRow) -> Option<&str>| events.iter().map(f).collect::<Vec<_>>();
    let accounts = column(|e| e.account.as_deref());
    let references = column(|e| e.reference.as_deref());
    let numbers = column(|e| e.merchant_number.as_deref());
    let carriers = column(|e| Some(e.carrier.as_str()));
    let tracking = column(|e| Some(e.tracking_number.as_str()));
    let raws = column(|e| Some(e.raw_status.as_str()));
    let statuses = column(|e| Some(e.status));
    let milestones = column(|e| Some(e.milestone));
    let ranks: Vec<Option<i32>> = events.iter().map(|e| e.rank).collect();
    let jsons = column(|e| e.json.as_deref());
    let keys: Vec<&[u8]> = events.iter().map(|e| e.key.as_slice()).collect();
    let key_times: Vec<i64> = events.iter().map(|e| e.key_time).collect();
    let sort_keys: Vec<i64> = events.iter().map(|e| e.sort_key).collect();
    let cursors: Vec<Option<i64>> = events.iter().map(|e| e.pool_cursor).collect();
    // WITH ORDINALITY keeps the batch's order, so the first copy of a repeated key wins.
    let sql = format!(
        "INSERT INTO events (account, reference, merchant_tracking_number, carrier,
             tracking_number, event_key, sort_key, raw_status, status, pool_cursor, event,
             milestone, rank, key_time)
         SELECT a, r, m, c, t, k, s, w, u, p, j::jsonb, ms, rk, kt
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[],
                       $7::bigint[], $8::text[], $9::text[], $10::bigint[], $11::text[],
                       $12::text[], $13::int[], $14::bigint[])
                WITH ORDINALITY AS e(a, r, m, c, t, k, s, w, u, p, j, ms, rk, kt, n)
          ORDER BY n
         ON CONFLICT (key_time, event_key) DO NOTHING
         {}",
        if report { "RETURNING account, reference, merchant_tracking_number" } else { "" }
    );
    // Without RETURNING the statement yields no rows: one code path serves both uses.
    Ok(sqlx::query_as::<_, NewEvent>(sqlx::AssertSqlSafe(sql))
        .bind(&accounts)
        .bind(&references)
        .bind(&numbers)
        .bind(&carriers)
        .bind(&tracking)
        .bind(&keys)
        .bind(&sort_keys)
        .bind(&raws)
        .bind(&statuses)
        .bind(&cursors)
        .bind(&jsons)
        .bind(&milestones)
        .bind(&ranks)
        .bind(&key_times)
        .fetch_all(&mut *conn)
        .await?)
}

/// See [`crate::FeedSink::record_events`].
pub(super) async fn record_events(
    pool: &PgPool,
    events: &[TrackingEvent],
) -> Result<usize, StoreError> {
    if events.is_empty() {
        return Ok(0);
    }
    let mut tx = begin_write(pool).await?;
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

/// Which parcels an event outside the pool belongs to (the same rule as SQLite's): an event
/// naming a merchant number stays account-less and joins that parcel in any account; else
/// it joins by its tracking number when that is exactly one stored parcel's, or one order's.
async fn scope_of(
    conn: &mut PgConnection,
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

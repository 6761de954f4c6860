//! Reading merged timelines: one parcel found by any of its numbers, or all of them (the
//! same lookups and merging as the SQLite backend; JSON columns are read as text and parsed
//! through the domain types).

use std::collections::{BTreeSet, HashMap};

use sqlx::PgPool;
use waybill_domain::{FeedItem, Timeline, TrackingEvent};

use super::codec;
use crate::{ParcelTimeline, StoreError};

/// A parcel joined with its order: account, reference, merchant number, tracking number,
/// status, order tracking number.
type ParcelRow = (String, String, String, Option<String>, String, String, Option<String>);

/// A parcel a looked-up number names: id, found through its order?, then the
/// [`ParcelRow`] columns.
type Hit = (i64, bool, String, String, String, Option<String>, String, String, Option<String>);

/// An event with its scope: id, account, reference, merchant number, event JSON, pool row JSON.
type EventRow =
    (i64, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>);

const PARCEL_COLUMNS: &str = "SELECT p.account, p.reference, p.merchant_tracking_number,
        p.tracking_number, p.status, p.milestone, o.tracking_number
   FROM parcels p JOIN orders o ON o.account = p.account AND o.reference = p.reference";

/// See [`crate::TimelineReader::parcel_timeline`].
///
/// Two statements on one connection: the parcels the number names, each with its parcel
/// and order columns (so the chosen one needs no third read), then that parcel's events. The
/// serving profile showed a request's time going to statement round trips and page reads,
/// not to rendering.
pub(super) async fn parcel_timeline(
    pool: &PgPool,
    number: &str,
) -> Result<Option<ParcelTimeline>, StoreError> {
    let mut conn = pool.acquire().await?;
    let hits: Vec<Hit> = sqlx::query_as(
        "SELECT p.id, FALSE, p.account, p.reference, p.merchant_tracking_number,
                p.tracking_number, p.status, p.milestone, o.tracking_number
           FROM parcels p JOIN orders o ON o.account = p.account AND o.reference = p.reference
          WHERE p.merchant_tracking_number = $1 OR p.tracking_number = $1
         UNION
         SELECT p.id, TRUE, p.account, p.reference, p.merchant_tracking_number,
                p.tracking_number, p.status, p.milestone, o.tracking_number
           FROM orders o JOIN parcels p ON p.account = o.account AND p.reference = o.reference
          WHERE o.tracking_number = $1 OR o.reference = $1",
    )
    .bind(number)
    .fetch_all(&mut *conn)
    .await?;
    let Some(id) = chosen(number, &hits)? else { return Ok(None) };
    let Some(hit) = hits.into_iter().find(|h| h.0 == id) else { return Ok(None) };
    let (_, _, account, reference, merchant, tracking, status, milestone, order_tracking) = hit;
    let row: ParcelRow =
        (account, reference, merchant, tracking, status, milestone, order_tracking);
    let events: Vec<(i64, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT e.id, e.event::text, r.item::text FROM events e
           LEFT JOIN pool_rows r ON r.account = e.account AND r.cursor = e.pool_cursor
          WHERE e.merchant_tracking_number = $1 AND (e.account = $2 OR e.account IS NULL)
         UNION ALL
         SELECT e.id, e.event::text, r.item::text FROM events e
           LEFT JOIN pool_rows r ON r.account = e.account AND r.cursor = e.pool_cursor
          WHERE e.account = $2 AND e.reference = $3 AND e.merchant_tracking_number IS NULL",
    )
    .bind(&row.2)
    .bind(&row.0)
    .bind(&row.1)
    .fetch_all(&mut *conn)
    .await?;
    drop(conn);
    let events = events
        .into_iter()
        .map(|(id, event, item)| decode_event(id, event, item))
        .collect::<Result<Vec<TrackingEvent>, _>>()?;
    assemble(row, events).map(Some)
}

/// Which parcel the hits name: one found directly by its own number, or the only parcel of
/// an order found by the order's number or reference (an order's numbers name a parcel only
/// when the order has exactly one); several candidates are ambiguous.
fn chosen(number: &str, hits: &[Hit]) -> Result<Option<i64>, StoreError> {
    let mut per_order: HashMap<(&str, &str), Vec<i64>> = HashMap::new();
    let mut found = BTreeSet::new();
    for (id, via_order, account, reference, ..) in hits {
        if *via_order {
            per_order.entry((account, reference)).or_default().push(*id);
        } else {
            found.insert(*id);
        }
    }
    let mut of_orders = BTreeSet::new();
    for ids in per_order.values() {
        of_orders.extend(ids.iter().copied());
        if let [only] = ids.as_slice() {
            found.insert(*only);
        }
    }
    match (found.len(), of_orders.len()) {
        (1, _) => Ok(found.into_iter().next()),
        (0, 0 | 1) => Ok(None),
        (0, count) | (count, _) => Err(StoreError::Ambiguous { number: number.to_owned(), count }),
    }
}

/// See [`crate::TimelineReader::all_timelines`]: reads every parcel and every joinable event
/// once, and distributes the events in memory.
pub(super) async fn all_timelines(pool: &PgPool) -> Result<Vec<ParcelTimeline>, StoreError> {
    let parcels: Vec<ParcelRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{PARCEL_COLUMNS} ORDER BY p.reference, p.merchant_tracking_number, p.account"
    )))
    .fetch_all(pool)
    .await?;
    let rows: Vec<EventRow> = sqlx::query_as(
        "SELECT e.id, e.account, e.reference, e.merchant_tracking_number, e.event::text,
                r.item::text
           FROM events e
           LEFT JOIN pool_rows r ON r.account = e.account AND r.cursor = e.pool_cursor
          WHERE e.merchant_tracking_number IS NOT NULL
             OR (e.account IS NOT NULL AND e.reference IS NOT NULL)",
    )
    .fetch_all(pool)
    .await?;
    let mut by_parcel: HashMap<(String, String), Vec<TrackingEvent>> = HashMap::new();
    let mut by_number: HashMap<String, Vec<TrackingEvent>> = HashMap::new();
    let mut by_order: HashMap<(String, String), Vec<TrackingEvent>> = HashMap::new();
    for (id, account, reference, number, event, item) in rows {
        let event = decode_event(id, event, item)?;
        match (account, reference, number) {
            (Some(account), _, Some(number)) => {
                by_parcel.entry((account, number)).or_default().push(event);
            }
            (None, _, Some(number)) => by_number.entry(number).or_default().push(event),
            (Some(account), Some(reference), None) => {
                by_order.entry((account, reference)).or_default().push(event);
            }
            (None, _, None) | (Some(_), None, None) => {}
        }
    }
    let empty = Vec::new();
    let mut out = Vec::with_capacity(parcels.len());
    for row in parcels {
        let events = [
            by_parcel.get(&(row.0.clone(), row.2.clone())),
            by_number.get(&row.2),
            by_order.get(&(row.0.clone(), row.1.clone())),
        ]
        .into_iter()
        .flat_map(|e| e.unwrap_or(&empty).iter().cloned())
        .collect();
        out.push(assemble(row, events)?);
    }
    Ok(out)
}

/// An event from its own JSON or, for a pool event, from its raw pool row.
fn decode_event(
    id: i64,
    event: Option<String>,
    item: Option<String>,
) -> Result<TrackingEvent, StoreError> {
    match (event, item) {
        (Some(json), _) => codec::from_json(&json, "events", id, "event"),
        (None, Some(item)) => {
            codec::from_json::<FeedItem>(&item, "events", id, "pool row item").map(|i| i.event)
        }
        (None, None) => Err(codec::corrupt("events", id, "has no event JSON and no pool row")),
    }
}

/// Parses a parcel row and merges its events.
fn assemble(row: ParcelRow, events: Vec<TrackingEvent>) -> Result<ParcelTimeline, StoreError> {
    let (account, reference, number, tracking_number, status, milestone, order_tracking_number) =
        row;
    let key = format!("{account}/{number}");
    Ok(ParcelTimeline {
        reference: codec::parse(&reference, "parcels", &key, "reference")?,
        parcel: super::orders::parse_parcel(
            &account,
            &number,
            tracking_number.as_deref(),
            &status,
            &milestone,
        )?,
        order_tracking_number: codec::parse_opt(
            order_tracking_number.as_deref(),
            "orders",
            format_args!("{account}/{reference}"),
            "tracking_number",
        )?,
        timeline: Timeline::from_events(events),
        account,
    })
}

//! Derived statuses: a parcel's status and milestone are its merged timeline's current ones,
//! an order's status is its most urgent parcel needing attention, else its least advanced.
//! Both live in SQL, updated for exactly the parcels and orders a write touched.
//!
//! A parcel stores its timeline's *head*: the greatest of its events by the domain's
//! forward-only key, [`waybill_domain::ProgressKey`] — (rank, sort key, carrier, tracking
//! number, raw status), over events whose milestone has a rank — plus whether it has any event
//! at all. Each event row carries the `rank` and `milestone` the domain gave it when it was
//! written (`Milestone::rank`), so SQL never interprets statuses. The `status` and `milestone`
//! columns are generated from the head, mirroring [`waybill_domain::Timeline::current`]
//! (`unknown` when every event is unknown, `pending`/`announced` when there is none). Because
//! the head is a maximum, it can be moved forward from a batch's events alone
//! ([`advance_parcels`], the pool's hot path) and gives the same answer as recomputing it from
//! every stored event ([`refresh_parcels`]), whatever the batching.

use std::sync::LazyLock;

use sqlx::{AssertSqlSafe, SqliteConnection};
use waybill_domain::{ProgressKey, TrackingEvent};

use super::codec;
use crate::StoreError;

/// The greatest event of a batch for one scope by the forward-only key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Head {
    /// (rank, sort key, carrier, tracking number, raw status, status, milestone) of the event
    /// that decides; `None` when no event of the batch had a ranked milestone.
    newest: Option<(u8, i64, String, String, String, &'static str, &'static str)>,
}

impl Head {
    /// Takes an event into account (a maximum: order and repetition do not matter).
    pub fn observe(&mut self, event: &TrackingEvent) {
        let Some(key) = ProgressKey::of(event) else { return };
        // The stored sort key is the domain's, in saturating nanoseconds.
        let candidate = (
            key.rank,
            codec::sort_key(&event.occurred_at),
            key.carrier,
            key.tracking_number,
            key.raw_status,
        );
        let newer = self.newest.as_ref().is_none_or(|(rank, k, c, t, r, _, _)| {
            candidate > (*rank, *k, c.as_str(), t.as_str(), r.as_str())
        });
        if newer {
            self.newest = Some((
                candidate.0,
                candidate.1,
                candidate.2.to_owned(),
                candidate.3.to_owned(),
                candidate.4.to_owned(),
                event.status.as_str(),
                event.milestone().as_str(),
            ));
        }
    }

    /// `[scope, rank, sort key, carrier, tracking number, raw status, status, milestone]`,
    /// nulls when unknown.
    fn to_json(&self, scope: &str) -> serde_json::Value {
        match &self.newest {
            Some((rank, k, c, t, r, s, m)) => serde_json::json!([scope, rank, k, c, t, r, s, m]),
            None => serde_json::json!([scope, null, null, null, null, null, null, null]),
        }
    }
}

/// Moves the heads of an account's parcels forward from a batch's events: `by_number` for
/// events of one parcel (by merchant number), `by_reference` for order-scoped events (every
/// parcel of the order).
pub(super) async fn advance_parcels(
    conn: &mut SqliteConnection,
    account: &str,
    by_number: &[(String, Head)],
    by_reference: &[(String, Head)],
) -> Result<(), StoreError> {
    for (heads, sql) in [(by_number, &*ADVANCE_BY_NUMBER), (by_reference, &*ADVANCE_BY_REFERENCE)] {
        if heads.is_empty() {
            continue;
        }
        let json: Vec<_> = heads.iter().map(|(scope, head)| head.to_json(scope)).collect();
        sqlx::query(AssertSqlSafe(sql.as_str()))
            .bind(account)
            .bind(codec::json_list(&json)?)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Recomputes the heads of parcels from every stored event: those with these merchant numbers
/// (any account) and every parcel of these (account, reference) orders.
pub(super) async fn refresh_parcels(
    conn: &mut SqliteConnection,
    numbers: &[String],
    orders: &[(String, String)],
) -> Result<(), StoreError> {
    run_refresh(conn, &REFRESH_PARCELS, numbers, orders).await
}

/// Recomputes the statuses of the orders of the parcels with these merchant numbers (any
/// account) and of these (account, reference) orders.
pub(super) async fn refresh_orders(
    conn: &mut SqliteConnection,
    numbers: &[String],
    orders: &[(String, String)],
) -> Result<(), StoreError> {
    run_refresh(conn, &REFRESH_ORDERS, numbers, orders).await
}

/// Runs a refresh statement over `$1` (merchant numbers) and `$2` (`[account, reference]`).
async fn run_refresh(
    conn: &mut SqliteConnection,
    sql: &str,
    numbers: &[String],
    orders: &[(String, String)],
) -> Result<(), StoreError> {
    if numbers.is_empty() && orders.is_empty() {
        return Ok(());
    }
    sqlx::query(AssertSqlSafe(sql))
        .bind(codec::json_list(numbers)?)
        .bind(codec::json_list(orders)?)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Recomputes parcels and then their orders (small writes: saved orders, tracking events).
pub(super) async fn refresh(
    conn: &mut SqliteConnection,
    numbers: &[String],
    orders: &[(String, String)],
) -> Result<(), StoreError> {
    refresh_parcels(conn, numbers, orders).await?;
    refresh_orders(conn, numbers, orders).await
}

/// A parcel's events: its own (by merchant number, in its account or account-less) and its
/// order's order-scoped ones, as (s)tatus, sort (k)ey, (c)arrier, (t)racking number, (r)aw,
/// ra(n)k, (m)ilestone.
const PARCEL_EVENTS: &str = "
        SELECT e.status AS s, e.sort_key AS k, e.carrier AS c, e.tracking_number AS t,
               e.raw_status AS r, e.rank AS n, e.milestone AS m
          FROM events e
         WHERE e.merchant_tracking_number = parcels.merchant_tracking_number
           AND (e.account = parcels.account OR e.account IS NULL)
        UNION ALL
        SELECT e.status, e.sort_key, e.carrier, e.tracking_number, e.raw_status, e.rank,
               e.milestone
          FROM events e
         WHERE e.account = parcels.account AND e.reference = parcels.reference
           AND e.merchant_tracking_number IS NULL";

/// Recomputes parcel heads. `$1`: JSON array of merchant numbers; `$2`: JSON array of
/// `[account, reference]`.
static REFRESH_PARCELS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "
UPDATE parcels SET
    (head_rank, head_sort_key, head_carrier, head_tracking_number, head_raw_status, head_status,
     head_milestone) = (
        SELECT n, k, c, t, r, s, m FROM ({PARCEL_EVENTS})
         WHERE n IS NOT NULL ORDER BY n DESC, k DESC, c DESC, t DESC, r DESC LIMIT 1),
    has_events = EXISTS (SELECT 1 FROM ({PARCEL_EVENTS}))
WHERE id IN (
    SELECT p.id FROM json_each($1) j JOIN parcels p ON p.merchant_tracking_number = j.value
    UNION
    SELECT p.id FROM json_each($2) j JOIN parcels p
        ON p.account = json_extract(j.value, '$[0]') AND p.reference = json_extract(j.value, '$[1]'))"
    )
});

/// Moves parcel heads forward. `$1`: the account; `$2`: JSON array of
/// `[scope, n, k, c, t, r, s, m]`, at most one per scope, where the scope is the parcel's
/// `column`.
fn advance_sql(column: &str) -> String {
    // The batch is materialised first so SQLite walks it and looks each scope up by index,
    // rather than scanning the account's parcels.
    format!(
        "
WITH n AS MATERIALIZED (
    SELECT q.id, j.n, j.k, j.c, j.t, j.r, j.s, j.m,
           j.n IS NOT NULL AND (q.head_rank IS NULL
               OR (j.n, j.k, j.c, j.t, j.r)
                  > (q.head_rank, q.head_sort_key, q.head_carrier, q.head_tracking_number,
                     q.head_raw_status))
               AS wins
      FROM (SELECT json_extract(value, '$[0]') AS scope, json_extract(value, '$[1]') AS n,
                   json_extract(value, '$[2]') AS k, json_extract(value, '$[3]') AS c,
                   json_extract(value, '$[4]') AS t, json_extract(value, '$[5]') AS r,
                   json_extract(value, '$[6]') AS s, json_extract(value, '$[7]') AS m
              FROM json_each($2)) AS j
      CROSS JOIN parcels q ON q.account = $1 AND q.{column} = j.scope)
UPDATE parcels AS p SET
    has_events = 1,
    head_rank = iif(n.wins, n.n, p.head_rank),
    head_milestone = iif(n.wins, n.m, p.head_milestone),
    head_sort_key = iif(n.wins, n.k, p.head_sort_key),
    head_carrier = iif(n.wins, n.c, p.head_carrier),
    head_tracking_number = iif(n.wins, n.t, p.head_tracking_number),
    head_raw_status = iif(n.wins, n.r, p.head_raw_status),
    head_status = iif(n.wins, n.s, p.head_status)
FROM n
WHERE p.id = n.id AND (n.wins OR p.has_events = 0)"
    )
}

static ADVANCE_BY_NUMBER: LazyLock<String> =
    LazyLock::new(|| advance_sql("merchant_tracking_number"));
static ADVANCE_BY_REFERENCE: LazyLock<String> = LazyLock::new(|| advance_sql("reference"));

/// Sets each touched order's status: its most urgent parcel needing attention, else its least
/// advanced one ([`waybill_domain::TrackingStatus::order_status`]), or for
/// an order with no known parcel, what its order-scoped events say.
static REFRESH_ORDERS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "
UPDATE orders SET status = COALESCE(
    (SELECT p.status FROM parcels p
      WHERE p.account = orders.account AND p.reference = orders.reference
      ORDER BY {rank} LIMIT 1),
    (SELECT e.status FROM events e
      WHERE e.account = orders.account AND e.reference = orders.reference
        AND e.merchant_tracking_number IS NULL AND e.rank IS NOT NULL
      ORDER BY e.rank DESC, e.sort_key DESC, e.carrier DESC, e.tracking_number DESC,
               e.raw_status DESC
      LIMIT 1),
    CASE WHEN EXISTS (SELECT 1 FROM events e
                       WHERE e.account = orders.account AND e.reference = orders.reference
                         AND e.merchant_tracking_number IS NULL)
         THEN 'unknown' ELSE 'pending' END)
WHERE rowid IN (
    SELECT o.rowid FROM json_each($1) j
      JOIN parcels p ON p.merchant_tracking_number = j.value
      JOIN orders o ON o.account = p.account AND o.reference = p.reference
    UNION
    SELECT o.rowid FROM json_each($2) j
      JOIN orders o ON o.account = json_extract(j.value, '$[0]')
                   AND o.reference = json_extract(j.value, '$[1]'))
",
        rank = codec::order_rank("p.status"),
    )
});

#[cfg(test)]
mod tests {
    use waybill_domain::TrackingStatus;

    #[test]
    fn the_sql_literals_are_the_domain_names() {
        // The statements above and the generated `status` column spell these out.
        assert_eq!(TrackingStatus::Unknown.as_str(), "unknown");
        assert_eq!(TrackingStatus::Pending.as_str(), "pending");
    }
}

//! Derived statuses, as in the SQLite backend: a parcel stores its timeline's head (the
//! greatest of its ranked events by the domain's forward-only key,
//! [`waybill_domain::ProgressKey`]: rank, sort key, carrier, tracking number, raw status) and
//! its `status` and `milestone` columns are generated from it; an order takes its most urgent
//! parcel needing attention, else its least advanced one. The head is a maximum, so moving it forward from a batch ([`advance_parcels`]) and recomputing it
//! from every stored event ([`refresh_parcels`]) agree whatever the batching.

use std::sync::LazyLock;

use sqlx::{AssertSqlSafe, PgConnection};
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
}

/// Moves the heads of an account's parcels forward from a batch's newest events, one per
/// scope: `column` is `merchant_tracking_number` (one parcel each) or `reference` (every
/// parcel of the order, for order-scoped events).
pub(super) async fn advance_parcels(
    conn: &mut PgConnection,
    account: &str,
    heads: &[(String, Head)],
    column: &'static str,
) -> Result<(), StoreError> {
    if heads.is_empty() {
        return Ok(());
    }
    let sql = match column {
        "merchant_tracking_number" => &*ADVANCE_BY_NUMBER,
        _ => &*ADVANCE_BY_REFERENCE,
    };
    let mut scopes = Vec::with_capacity(heads.len());
    let mut keys = Vec::with_capacity(heads.len());
    let mut carriers = Vec::with_capacity(heads.len());
    let mut numbers = Vec::with_capacity(heads.len());
    let mut raws = Vec::with_capacity(heads.len());
    let mut statuses = Vec::with_capacity(heads.len());
    let mut ranks = Vec::with_capacity(heads.len());
    let mut milestones = Vec::with_capacity(heads.len());
    for (scope, head) in heads {
        scopes.push(scope.as_str());
        let newest = head.newest.as_ref();
        ranks.push(newest.map(|n| i32::from(n.0)));
        keys.push(newest.map(|n| n.1));
        carriers.push(newest.map(|n| n.2.as_str()));
        numbers.push(newest.map(|n| n.3.as_str()));
        raws.push(newest.map(|n| n.4.as_str()));
        statuses.push(newest.map(|n| n.5));
        milestones.push(newest.map(|n| n.6));
    }
    sqlx::query(AssertSqlSafe(sql.as_str()))
        .bind(account)
        .bind(&scopes)
        .bind(&keys)
        .bind(&carriers)
        .bind(&numbers)
        .bind(&raws)
        .bind(&statuses)
        .bind(&ranks)
        .bind(&milestones)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Recomputes the heads of parcels from every stored event: those with these merchant numbers
/// (any account) and every parcel of these (account, reference) orders.
pub(super) async fn refresh_parcels(
    conn: &mut PgConnection,
    numbers: &[String],
    orders: &[(String, String)],
) -> Result<(), StoreError> {
    run_refresh(conn, &REFRESH_PARCELS, numbers, orders).await
}

/// Recomputes the statuses of the orders of the parcels with these merchant numbers (any
/// account) and of these (account, reference) orders.
pub(super) async fn refresh_orders(
    conn: &mut PgConnection,
    numbers: &[String],
    orders: &[(String, String)],
) -> Result<(), StoreError> {
    run_refresh(conn, &REFRESH_ORDERS, numbers, orders).await
}

/// Runs a refresh statement over `$1` (merchant numbers), `$2`/`$3` (accounts, references).
async fn run_refresh(
    conn: &mut PgConnection,
    sql: &str,
    numbers: &[String],
    orders: &[(String, String)],
) -> Result<(), StoreError> {
    if numbers.is_empty() && orders.is_empty() {
        return Ok(());
    }
    let (accounts, references): (Vec<&str>, Vec<&str>) =
        orders.iter().map(|(a, r)| (a.as_str(), r.as_str())).unzip();
    sqlx::query(AssertSqlSafe(sql))
        .bind(numbers)
        .bind(&accounts)
        .bind(&references)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Recomputes parcels and then their orders (small writes: saved orders, tracking events).
pub(super) async fn refresh(
    conn: &mut PgConnection,
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

/// The parcels named by `$1` (merchant numbers) or `$2`/`$3` (their orders).
const TOUCHED_PARCELS: &str = "
    SELECT p.id FROM parcels p WHERE p.merchant_tracking_number = ANY($1::text[])
    UNION
    SELECT p.id FROM unnest($2::text[], $3::text[]) AS o(a, r)
      JOIN parcels p ON p.account = o.a AND p.reference = o.r";

/// Recomputes parcel heads.
static REFRESH_PARCELS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "
UPDATE parcels SET
    (head_rank, head_sort_key, head_carrier, head_tracking_number, head_raw_status, head_status,
     head_milestone) = (
        SELECT n, k, c, t, r, s, m FROM ({PARCEL_EVENTS}) AS x
         WHERE n IS NOT NULL ORDER BY n DESC, k DESC, c DESC, t DESC, r DESC LIMIT 1),
    has_events = EXISTS (SELECT 1 FROM ({PARCEL_EVENTS}) AS y)
WHERE id IN ({TOUCHED_PARCELS})"
    )
});

/// Moves parcel heads forward. `$1`: the account; `$2`…`$9`: scope, sort key, carrier,
/// tracking number, raw status, status, rank and milestone of each scope's greatest event
/// (nulls when no event was ranked), at most one per scope, where the scope is the parcel's
/// `column`.
fn advance_sql(column: &str) -> String {
    format!(
        "
WITH n AS (
    SELECT q.id, j.n, j.k, j.c, j.t, j.r, j.s, j.m,
           j.n IS NOT NULL AND (q.head_rank IS NULL
               OR (j.n, j.k, j.c, j.t, j.r)
                  > (q.head_rank, q.head_sort_key, q.head_carrier, q.head_tracking_number,
                     q.head_raw_status))
               AS wins
      FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],
                  $8::int[], $9::text[])
           AS j(scope, k, c, t, r, s, n, m)
      JOIN parcels q ON q.account = $1 AND q.{column} = j.scope)
UPDATE parcels AS p SET
    has_events = TRUE,
    head_rank = CASE WHEN n.wins THEN n.n ELSE p.head_rank END,
    head_milestone = CASE WHEN n.wins THEN n.m ELSE p.head_milestone END,
    head_sort_key = CASE WHEN n.wins THEN n.k ELSE p.head_sort_key END,
    head_carrier = CASE WHEN n.wins THEN n.c ELSE p.head_carrier END,
    head_tracking_number = CASE WHEN n.wins THEN n.t ELSE p.head_tracking_number END,
    head_raw_status = CASE WHEN n.wins THEN n.r ELSE p.head_raw_status END,
    head_status = CASE WHEN n.wins THEN n.s ELSE p.head_status END
FROM n
WHERE p.id = n.id AND (n.wins OR NOT p.has_events)"
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
WHERE (account, reference) IN (
    SELECT p.account, p.reference FROM parcels p
     WHERE p.merchant_tracking_number = ANY($1::text[])
    UNION
    SELECT o.a, o.r FROM unnest($2::text[], $3::text[]) AS o(a, r))
",
        rank = codec::order_rank("p.status"),
    )
});

#[cfg(test)]
mod tests {
    use waybill_domain::TrackingStatus;

    #[test]
    fn the_sql_literals_are_the_domain_names() {
        assert_eq!(TrackingStatus::Unknown.as_str(), "unknown");
        assert_eq!(TrackingStatus::Pending.as_str(), "pending");
    }
}

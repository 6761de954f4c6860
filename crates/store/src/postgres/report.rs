//! What the store holds and who works on it: counts, and `waybill store status`'s report.

use sqlx::{AssertSqlSafe, PgPool};

use super::codec;
use crate::{AccountStatus, StoreCounts, StoreError, StoreStatus};

/// See [`crate::TimelineReader::counts`].
pub(super) async fn counts(pool: &PgPool) -> Result<StoreCounts, StoreError> {
    let (orders, parcels, pool_rows, events, quarantined): (i64, i64, i64, i64, i64) =
        sqlx::query_as(
            "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM parcels),
                (SELECT count(*) FROM pool_rows), (SELECT count(*) FROM events),
                (SELECT count(*) FROM quarantine)",
        )
        .fetch_one(pool)
        .await?;
    // Counts are never negative; the conversion only guards the types.
    let n = |v: i64| u64::try_from(v).unwrap_or_default();
    Ok(StoreCounts {
        orders: n(orders),
        parcels: n(parcels),
        pool_rows: n(pool_rows),
        events: n(events),
        quarantined: n(quarantined),
    })
}

/// An account, its cursor, and its live pool lease's holder and end.
type AccountRow = (String, Option<i64>, Option<String>, Option<String>);

/// See [`crate::PostgresStore::status`].
pub(super) async fn status(pool: &PgPool, target: &str) -> Result<StoreStatus, StoreError> {
    let schema_version: Option<i64> =
        sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(pool)
            .await?;
    // Every account with a cursor or a live pool lease.
    let rows: Vec<AccountRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT a.account, c.cursor, l.holder, {until}
               FROM (SELECT account FROM cursors
                     UNION SELECT substr(name, 6) FROM leases WHERE name LIKE 'pool:%') AS a
               LEFT JOIN cursors c ON c.account = a.account
               LEFT JOIN leases l ON l.name = 'pool:' || a.account
                                 AND l.lease_until > clock_timestamp()
              ORDER BY a.account",
        until = codec::rfc3339("l.lease_until")
    )))
    .fetch_all(pool)
    .await?;
    let mut accounts = Vec::with_capacity(rows.len());
    for (account, cursor, holder, until) in rows {
        let cursor = cursor.map(|c| codec::cursor_from_db(c, "cursors", &account)).transpose()?;
        accounts.push(AccountStatus {
            cursor: cursor.unwrap_or_default().0,
            lease_holder: holder,
            lease_until: until,
            account,
        });
    }
    Ok(StoreStatus {
        backend: "postgres",
        location: format!("postgres://{target}"),
        schema_version: schema_version.unwrap_or(0),
        counts: counts(pool).await?,
        accounts,
    })
}

//! Reading the quarantine (rows are written with their page by `ingest`).

use sqlx::SqlitePool;

use super::codec;
use crate::{QuarantineCount, QuarantineFilter, QuarantinedRow, StoreError};

/// See [`crate::Quarantine::quarantined`].
pub(super) async fn list(
    pool: &SqlitePool,
    filter: &QuarantineFilter,
) -> Result<Vec<QuarantinedRow>, StoreError> {
    let rows: Vec<(i64, String, Option<i64>, String, String, String)> = sqlx::query_as(
        "SELECT id, account, cursor, error, raw, quarantined_at FROM quarantine
          WHERE $1 IS NULL OR account = $1
          ORDER BY account, cursor IS NULL, cursor, id
          LIMIT $2",
    )
    .bind(filter.account.as_deref())
    .bind(i64::from(filter.clamped_limit()))
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(id, account, cursor, error, raw, quarantined_at)| {
            let cursor = cursor.map(|c| codec::cursor_from_db(c, "quarantine", id)).transpose()?;
            Ok(QuarantinedRow { account, cursor: cursor.map(|c| c.0), error, raw, quarantined_at })
        })
        .collect()
}

/// See [`crate::Quarantine::quarantine_counts`].
pub(super) async fn counts(pool: &SqlitePool) -> Result<Vec<QuarantineCount>, StoreError> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT account, count(*) FROM quarantine GROUP BY account ORDER BY account",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(account, n)| QuarantineCount { account, rows: u64::try_from(n).unwrap_or_default() })
        .collect())
}

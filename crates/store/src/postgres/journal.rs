//! The import journal: how each (account, reference) of a bulk import ended (as SQLite's).

use sqlx::{PgConnection, PgPool};
use waybill_domain::PartnerOrderRef;

use super::codec;
use crate::{JournalEntry, StoreError};

/// See [`crate::ImportJournal::journal_get`].
pub(super) async fn get(
    pool: &PgPool,
    account: &str,
    reference: &PartnerOrderRef,
) -> Result<Option<JournalEntry>, StoreError> {
    let row: Option<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT outcome, tracking_number, message FROM import_journal
          WHERE account = $1 AND reference = $2",
    )
    .bind(account)
    .bind(reference.as_str())
    .fetch_optional(pool)
    .await?;
    let Some((outcome, tracking_number, message)) = row else { return Ok(None) };
    let key = format!("{account}/{reference}");
    let entry = match (outcome.as_str(), tracking_number, message) {
        ("done", Some(number), _) => JournalEntry::Done {
            tracking_number: codec::parse(&number, "import_journal", &key, "tracking_number")?,
        },
        ("failed", _, message) => JournalEntry::Failed { message: message.unwrap_or_default() },
        (outcome, _, _) => {
            return Err(codec::corrupt(
                "import_journal",
                &key,
                format_args!("outcome {outcome:?} without the data it needs"),
            ));
        }
    };
    Ok(Some(entry))
}

/// See [`crate::ImportJournal::journal_put`].
pub(super) async fn put(
    pool: &PgPool,
    account: &str,
    reference: &PartnerOrderRef,
    entry: &JournalEntry,
) -> Result<(), StoreError> {
    let mut conn = pool.acquire().await?;
    put_in(&mut conn, account, reference, entry).await
}

/// [`put`] on a connection (inside the caller's transaction).
pub(super) async fn put_in(
    conn: &mut PgConnection,
    account: &str,
    reference: &PartnerOrderRef,
    entry: &JournalEntry,
) -> Result<(), StoreError> {
    let (outcome, tracking_number, message) = match entry {
        JournalEntry::Done { tracking_number } => ("done", Some(tracking_number.as_str()), None),
        JournalEntry::Failed { message } => ("failed", None, Some(message.as_str())),
    };
    sqlx::query(
        "INSERT INTO import_journal (account, reference, outcome, tracking_number, message, updated_at)
         VALUES ($1, $2, $3, $4, $5, clock_timestamp())
         ON CONFLICT (account, reference) DO UPDATE SET
            outcome = excluded.outcome, tracking_number = excluded.tracking_number,
            message = excluded.message, updated_at = excluded.updated_at",
    )
    .bind(account)
    .bind(reference.as_str())
    .bind(outcome)
    .bind(tracking_number)
    .bind(message)
    .execute(conn)
    .await?;
    Ok(())
}

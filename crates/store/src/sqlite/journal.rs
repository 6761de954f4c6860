//! The import journal: how each (account, reference) of a bulk import ended.

use std::collections::HashMap;

use sqlx::{SqliteConnection, SqlitePool};
use waybill_domain::PartnerOrderRef;

use super::codec;
use crate::{JournalEntry, StoreError};

/// See [`crate::Store::journal_get`].
pub(super) async fn get(
    pool: &SqlitePool,
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
    decode(account, reference.as_str(), &outcome, tracking_number, message).map(Some)
}

/// See [`crate::ImportJournal::journal_entries`]: one query per [`CHUNK`] references.
pub(super) async fn entries(
    pool: &SqlitePool,
    account: &str,
    references: &[PartnerOrderRef],
) -> Result<Vec<Option<JournalEntry>>, StoreError> {
    let mut found: HashMap<String, JournalEntry> = HashMap::new();
    for chunk in references.chunks(CHUNK) {
        let names: Vec<&str> = chunk.iter().map(PartnerOrderRef::as_str).collect();
        let rows: Vec<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT j.reference, j.outcome, j.tracking_number, j.message
               FROM json_each($2) r
              CROSS JOIN import_journal j ON j.account = $1 AND j.reference = r.value",
        )
        .bind(account)
        .bind(codec::json_list(&names)?)
        .fetch_all(pool)
        .await?;
        for (reference, outcome, tracking_number, message) in rows {
            let entry = decode(account, &reference, &outcome, tracking_number, message)?;
            found.insert(reference, entry);
        }
    }
    Ok(references.iter().map(|r| found.remove(r.as_str())).collect())
}

/// References per batched lookup.
const CHUNK: usize = 500;

/// A journal row as an entry; one that lacks what its outcome needs is corrupt.
fn decode(
    account: &str,
    reference: &str,
    outcome: &str,
    tracking_number: Option<String>,
    message: Option<String>,
) -> Result<JournalEntry, StoreError> {
    let key = format!("{account}/{reference}");
    Ok(match (outcome, tracking_number, message) {
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
    })
}

/// See [`crate::Store::journal_put`].
pub(super) async fn put(
    pool: &SqlitePool,
    account: &str,
    reference: &PartnerOrderRef,
    entry: &JournalEntry,
) -> Result<(), StoreError> {
    let mut conn = pool.acquire().await?;
    put_in(&mut conn, account, reference, entry).await
}

/// [`put`] on a connection (inside the caller's transaction).
pub(super) async fn put_in(
    conn: &mut SqliteConnection,
    account: &str,
    reference: &PartnerOrderRef,
    entry: &JournalEntry,
) -> Result<(), StoreError> {
    let (outcome, tracking_number, message) = columns(entry);
    sqlx::query(
        "INSERT INTO import_journal (account, reference, outcome, tracking_number, message, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (account, reference) DO UPDATE SET
            outcome = excluded.outcome, tracking_number = excluded.tracking_number,
            message = excluded.message, updated_at = excluded.updated_at",
    )
    .bind(account)
    .bind(reference.as_str())
    .bind(outcome)
    .bind(tracking_number)
    .bind(message)
    .bind(codec::now())
    .execute(conn)
    .await?;
    Ok(())
}

/// Many entries at once (inside the caller's transaction), in one statement.
pub(super) async fn put_many(
    conn: &mut SqliteConnection,
    account: &str,
    entries: &[(&str, JournalEntry)],
) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    let rows: Vec<(&str, &str, Option<&str>, Option<&str>)> = entries
        .iter()
        .map(|(reference, entry)| {
            let (outcome, tracking_number, message) = columns(entry);
            (*reference, outcome, tracking_number, message)
        })
        .collect();
    // One JSON array through `json_each`: the same statement text for any number of entries,
    // prepared once (see `orders::insert_orders`).
    sqlx::query(
        "INSERT INTO import_journal (account, reference, outcome, tracking_number, message,
                                     updated_at)
         SELECT $1, j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, $2
           FROM json_each($3) j WHERE true
         ON CONFLICT (account, reference) DO UPDATE SET
            outcome = excluded.outcome, tracking_number = excluded.tracking_number,
            message = excluded.message, updated_at = excluded.updated_at",
    )
    .bind(account)
    .bind(codec::now())
    .bind(codec::to_json(&rows, "the import journal entries")?)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An entry's (outcome, tracking number, message) columns.
fn columns(entry: &JournalEntry) -> (&'static str, Option<&str>, Option<&str>) {
    match entry {
        JournalEntry::Done { tracking_number } => ("done", Some(tracking_number.as_str()), None),
        JournalEntry::Failed { message } => ("failed", None, Some(message.as_str())),
    }
}

//! Conversions between domain values and their column forms shared by every backend, and the
//! errors they raise. Reading never trusts the database: every stored value is parsed back
//! through the domain types, and a value that no longer parses becomes [`StoreError::Corrupt`]
//! naming the table, the row and the column. Backend-specific forms live in each backend's
//! own `codec` module, which re-exports these.

use std::fmt::Display;
use std::str::FromStr;

use serde::Serialize;
use serde::de::DeserializeOwned;
use waybill_domain::{Cursor, EventTime, TrackingStatus};

use crate::StoreError;

/// A stored value that no longer parses.
pub(crate) fn corrupt(table: &str, key: impl Display, what: impl Display) -> StoreError {
    StoreError::Corrupt(format!("{table} row {key}: {what}"))
}

/// A value that cannot be written (it does not fit a column).
pub(crate) fn unencodable(what: String) -> StoreError {
    StoreError::from(sqlx::Error::Encode(what.into()))
}

/// Parses a text column through `FromStr`.
pub(crate) fn parse<T>(
    text: &str,
    table: &str,
    key: impl Display,
    column: &str,
) -> Result<T, StoreError>
where
    T: FromStr,
    T::Err: Display,
{
    text.parse().map_err(|e| corrupt(table, key, format_args!("column {column} {text:?}: {e}")))
}

/// Parses an optional text column through `FromStr`.
pub(crate) fn parse_opt<T>(
    text: Option<&str>,
    table: &str,
    key: impl Display,
    column: &str,
) -> Result<Option<T>, StoreError>
where
    T: FromStr,
    T::Err: Display,
{
    text.map(|t| parse(t, table, key, column)).transpose()
}

/// Parses a JSON column.
pub(crate) fn from_json<T: DeserializeOwned>(
    text: &str,
    table: &str,
    key: impl Display,
    column: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| corrupt(table, key, format_args!("column {column} is not valid JSON: {e}")))
}

/// Serialises a value for a JSON column.
pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T, what: &str) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| unencodable(format!("cannot serialise {what}: {e}")))
}

/// An event's identity as an index key: the first 16 bytes of the SHA-256 of the JSON of its
/// [`waybill_domain::EventKey`]. Sixteen bytes keep the unique index about ten times smaller
/// than the JSON text (the pool-ingest profile's largest statement) while a collision stays
/// out of reach (2^-64 at four billion events).
pub(crate) fn event_key(event: &waybill_domain::TrackingEvent) -> Result<Vec<u8>, StoreError> {
    use sha2::Digest as _;
    let json = to_json(&waybill_domain::EventKey::of(event), "an event key")?;
    Ok(sha2::Sha256::digest(json.as_bytes())[..16].to_vec())
}

/// A cursor as a column value (SQLite integers and PostgreSQL `bigint` are signed 64-bit).
pub(crate) fn cursor_to_db(cursor: Cursor) -> Result<i64, StoreError> {
    i64::try_from(cursor.0)
        .map_err(|_| unencodable(format!("cursor {} does not fit a 63-bit integer", cursor.0)))
}

/// A cursor read back from a column.
pub(crate) fn cursor_from_db(
    value: i64,
    table: &str,
    key: impl Display,
) -> Result<Cursor, StoreError> {
    u64::try_from(value)
        .map(Cursor)
        .map_err(|_| corrupt(table, key, format_args!("cursor {value} is negative")))
}

/// A SQL expression giving a status column's [`TrackingStatus::order_rank`], generated from
/// the domain so the store's order statuses never drift from [`TrackingStatus::order_status`].
pub(crate) fn order_rank(column: &str) -> String {
    use std::fmt::Write as _;
    let mut sql = format!("CASE {column}");
    for status in TrackingStatus::ALL {
        let _ = write!(sql, " WHEN '{}' THEN {}", status.as_str(), status.order_rank());
    }
    sql.push_str(" END");
    sql
}

/// `(status, count)` rows of `SELECT status, count(*) FROM parcels GROUP BY status`, parsed.
pub(crate) fn status_counts(
    rows: Vec<(String, i64)>,
) -> Result<Vec<(TrackingStatus, u64)>, StoreError> {
    rows.into_iter()
        .map(|(status, n)| {
            let status = parse(&status, "parcels", "status count", "status")?;
            Ok((status, u64::try_from(n).unwrap_or_default()))
        })
        .collect()
}

/// The statement behind [`status_counts`], the same on every backend.
pub(crate) const STATUS_COUNTS: &str = "SELECT status, count(*) FROM parcels GROUP BY status";

/// The event time's sort key as nanoseconds since the Unix epoch, saturating outside the
/// years 1678–2262 (only ties among such absurd times are then ordered by the other columns).
pub(crate) fn sort_key(time: &EventTime) -> i64 {
    let nanos = time.sort_key().as_nanosecond();
    i64::try_from(nanos).unwrap_or(if nanos < 0 { i64::MIN } else { i64::MAX })
}

/// The event time as the event's identity ([`EventKey`](waybill_domain::EventKey)) sees it,
/// for the unique index `(key_time, event_key)`: the sort key, or 0 for a time the source did
/// not give (the sort key is then the receipt, which differs on every redelivery and is left
/// out of the identity). Keying on time first keeps a time-ordered feed's inserts at the
/// index's end.
pub(crate) fn key_time(time: &EventTime) -> i64 {
    if time.is_known() { sort_key(time) } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_keys_saturate_and_keep_order() {
        let t = |s: &str| EventTime::exact(s.parse().expect("timestamp"), None);
        assert!(sort_key(&t("2026-06-20T09:14:00Z")) < sort_key(&t("2026-06-20T09:14:00.000001Z")));
        assert_eq!(sort_key(&t("9000-01-01T00:00:00Z")), i64::MAX);
        assert_eq!(sort_key(&t("0001-01-01T00:00:00Z")), i64::MIN);
    }

    #[test]
    fn the_order_rank_sql_is_the_domains() {
        let rank = order_rank("x");
        assert!(rank.starts_with("CASE x WHEN 'pending' THEN 100 WHEN 'info_received' THEN 101"));
        assert!(
            rank.contains("WHEN 'attempt_failed' THEN 1 ")
                && rank.contains("WHEN 'exception' THEN 0 ")
        );
        assert!(rank.ends_with("WHEN 'unknown' THEN 111 END"), "{rank}");
    }

    #[test]
    fn cursors_beyond_63_bits_are_refused() {
        assert_eq!(cursor_to_db(Cursor(7)).expect("fits"), 7);
        assert!(cursor_to_db(Cursor(u64::MAX)).is_err());
        assert!(cursor_from_db(-1, "cursors", "acct").is_err());
    }
}

//! Conversions between domain values and their PostgreSQL column forms, and the errors they
//! raise. Reading never trusts the database: every stored value is parsed back through the
//! domain types, and one that no longer parses is [`StoreError::Corrupt`] naming the table,
//! the row and the column.

use std::fmt::Display;
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use waybill_domain::{Cursor, EventTime};

use crate::StoreError;

/// A `timestamptz` expression rendered as the fixed-width RFC 3339 text (UTC, microseconds)
/// the SQLite backend stores, so both report times identically.
pub(super) fn rfc3339(column: &str) -> String {
    format!(r#"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"#)
}

/// A stored value that no longer parses.
pub(super) fn corrupt(table: &str, key: impl Display, what: impl Display) -> StoreError {
    StoreError::Corrupt(format!("{table} row {key}: {what}"))
}

/// A value that cannot be written (it does not fit a column).
pub(super) fn unencodable(what: String) -> StoreError {
    StoreError::from(sqlx::Error::Encode(what.into()))
}

/// Parses a text column through `FromStr`.
pub(super) fn parse<T>(
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
pub(super) fn parse_opt<T>(
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

/// Parses a JSON column (read as `column::text`).
pub(super) fn from_json<T: DeserializeOwned>(
    text: &str,
    table: &str,
    key: impl Display,
    column: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| corrupt(table, key, format_args!("column {column} is not valid JSON: {e}")))
}

/// Serialises a value for a JSON column (bound as text, cast to `jsonb`).
pub(super) fn to_json<T: Serialize + ?Sized>(value: &T, what: &str) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| unencodable(format!("cannot serialise {what}: {e}")))
}

/// An event's identity as an index key: the same 16-byte digest of its
/// [`waybill_domain::EventKey`] the SQLite backend uses.
pub(super) fn event_key(event: &waybill_domain::TrackingEvent) -> Result<Vec<u8>, StoreError> {
    use sha2::Digest as _;
    let json = to_json(&waybill_domain::EventKey::of(event), "an event key")?;
    Ok(sha2::Sha256::digest(json.as_bytes())[..16].to_vec())
}

/// A cursor as a column value (`bigint` is signed 64-bit).
pub(super) fn cursor_to_db(cursor: Cursor) -> Result<i64, StoreError> {
    i64::try_from(cursor.0)
        .map_err(|_| unencodable(format!("cursor {} does not fit a 63-bit integer", cursor.0)))
}

/// A cursor read back from a column.
pub(super) fn cursor_from_db(
    value: i64,
    table: &str,
    key: impl Display,
) -> Result<Cursor, StoreError> {
    u64::try_from(value)
        .map(Cursor)
        .map_err(|_| corrupt(table, key, format_args!("cursor {value} is negative")))
}

/// The event time's sort key as nanoseconds since the Unix epoch, saturating (as SQLite's).
pub(super) fn sort_key(time: &EventTime) -> i64 {
    let nanos = time.sort_key().as_nanosecond();
    i64::try_from(nanos).unwrap_or(if nanos < 0 { i64::MIN } else { i64::MAX })
}

/// A duration as whole microseconds, bound for `$n * interval '1 microsecond'` (saturating:
/// nobody leases work for 290,000 years).
pub(super) fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_beyond_63_bits_are_refused() {
        assert_eq!(cursor_to_db(Cursor(7)).expect("fits"), 7);
        assert!(cursor_to_db(Cursor(u64::MAX)).is_err());
        assert!(cursor_from_db(-1, "cursors", "acct").is_err());
    }

    #[test]
    fn durations_become_microseconds() {
        assert_eq!(micros(Duration::from_millis(1500)), 1_500_000);
        assert_eq!(micros(Duration::MAX), i64::MAX);
    }
}

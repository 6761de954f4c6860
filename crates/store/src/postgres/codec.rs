//! PostgreSQL column forms beyond the shared ones in [`crate::codec`] (re-exported here):
//! `timestamptz` rendered as the SQLite backend's text, and durations as microseconds.

use std::time::Duration;

pub(super) use crate::codec::*;

/// A `timestamptz` expression rendered as the fixed-width RFC 3339 text (UTC, microseconds)
/// the SQLite backend stores, so both report times identically.
pub(super) fn rfc3339(column: &str) -> String {
    format!(r#"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"#)
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
    fn durations_become_microseconds() {
        assert_eq!(micros(Duration::from_millis(1500)), 1_500_000);
        assert_eq!(micros(Duration::MAX), i64::MAX);
    }
}

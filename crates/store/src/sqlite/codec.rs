//! SQLite column forms beyond the shared ones in [`crate::codec`] (re-exported here): times as
//! fixed-width text and key lists as JSON arrays.

use jiff::Timestamp;
use serde::Serialize;

use crate::StoreError;
pub(super) use crate::codec::*;

/// Now, as fixed-width RFC 3339 text (microseconds) so stored times sort as text.
pub(super) fn now() -> String {
    format!("{:.6}", Timestamp::now())
}

/// A JSON array of values, bound as one parameter and read with `json_each`.
pub(super) fn json_list<T: Serialize>(values: &[T]) -> Result<String, StoreError> {
    to_json(values, "a list of keys")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_is_fixed_width_so_text_order_is_time_order() {
        let a = now();
        assert_eq!(a.len(), "2026-06-20T09:14:00.000000Z".len(), "{a}");
        assert!(a.ends_with('Z'));
    }
}

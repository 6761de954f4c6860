//! `Retry-After` parsing (RFC 9110 §10.2.3), shared by every adapter so a server's "come
//! back later" is read the same way everywhere.
//!
//! The header is either delay-seconds (`"2"`) or an HTTP date (`"Wed, 21 Oct 2026 07:28:00
//! GMT"`). [`parse_retry_after`] reads both (and fractional seconds, which some gateways
//! send); [`parse_retry_after_seconds`] reads delay-seconds only, for APIs documented never
//! to send a date. Both are pure: the current time is a parameter.

use std::time::Duration;

/// Reads a `Retry-After` header given as whole delay-seconds (`"2"`, surrounding white
/// space allowed). Anything else, a date or a fraction included, gives `None`.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(waybill_kit::parse_retry_after_seconds(" 3 "), Some(Duration::from_secs(3)));
/// assert_eq!(waybill_kit::parse_retry_after_seconds("1.5"), None);
/// ```
#[must_use]
pub fn parse_retry_after_seconds(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Parses a `Retry-After` header: delay-seconds (`"2"`, also `"1.5"`) or an HTTP date
/// (`"Wed, 21 Oct 2026 07:28:00 GMT"`) relative to `now`. A date in the past gives zero;
/// anything else gives `None`.
///
/// ```
/// use std::time::Duration;
/// let now: jiff::Timestamp = "2026-10-21T07:27:00Z".parse().expect("a timestamp");
/// let wait = waybill_kit::parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT", now);
/// assert_eq!(wait, Some(Duration::from_secs(60)));
/// ```
#[must_use]
pub fn parse_retry_after(value: &str, now: jiff::Timestamp) -> Option<Duration> {
    if let Some(wait) = parse_retry_after_seconds(value) {
        return Some(wait);
    }
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (0.0..1e9).contains(&secs).then(|| Duration::from_secs_f64(secs));
    }
    let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let secs = at.as_second().saturating_sub(now.as_second());
    Some(Duration::from_secs(u64::try_from(secs).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn retry_after_seconds_parse(secs in 0u64..1_000_000) {
            prop_assert_eq!(parse_retry_after(&secs.to_string(), jiff::Timestamp::UNIX_EPOCH), Some(Duration::from_secs(secs)));
            prop_assert_eq!(parse_retry_after_seconds(&secs.to_string()), Some(Duration::from_secs(secs)));
        }

        #[test]
        fn retry_after_never_panics(s in "\\PC{0,40}") {
            let _ = parse_retry_after(&s, jiff::Timestamp::UNIX_EPOCH);
            let _ = parse_retry_after_seconds(&s);
        }

        #[test]
        fn seconds_only_is_a_subset_of_the_full_parser(s in "\\PC{0,40}") {
            if let Some(wait) = parse_retry_after_seconds(&s) {
                prop_assert_eq!(parse_retry_after(&s, jiff::Timestamp::UNIX_EPOCH), Some(wait));
            }
        }
    }

    #[test]
    fn retry_after_dates_are_relative_to_now() {
        let now: jiff::Timestamp = "2026-10-21T07:27:00Z".parse().unwrap();
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(parse_retry_after("Wed, 21 Oct 2026 07:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("1.5", now), Some(Duration::from_millis(1500)));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }

    #[test]
    fn seconds_only_refuses_dates_and_fractions() {
        assert_eq!(parse_retry_after_seconds("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after_seconds(" 2\t"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after_seconds("1.5"), None);
        assert_eq!(parse_retry_after_seconds("Wed, 21 Oct 2026 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after_seconds("-3"), None);
    }
}

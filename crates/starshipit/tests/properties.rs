//! Property tests: the time parser (round-trips, digit counts, garbage) and the retry policy.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use jiff::{civil, tz::Offset};
use proptest::prelude::*;
use waybill_domain::EventTime;
use waybill_starshipit::{
    retry::{Decision, Outcome, RetryPolicy},
    time,
};

#[derive(Debug, Clone)]
enum Zone {
    None,
    Z,
    Offset(i32),
}

fn zone() -> impl Strategy<Value = Zone> {
    prop_oneof![
        Just(Zone::None),
        Just(Zone::Z),
        (-(23 * 60 + 59)..=(23 * 60 + 59)).prop_map(|m| Zone::Offset(m * 60)),
    ]
}

/// A valid stamp: fields, digit count (0 = no fraction), fraction value, zone.
fn stamp() -> impl Strategy<Value = (civil::DateTime, usize, Zone, String)> {
    (1i16..=9999, 1i8..=12, 1i8..=28, 0i8..24, 0i8..60, 0i8..60, 0usize..=9, any::<u32>(), zone())
        .prop_map(|(y, mo, d, h, mi, s, digits, seed, zone)| {
            let value = if digits == 0 { 0 } else { seed % 10u32.pow(digits as u32) };
            let nanos = (value * 10u32.pow(9 - digits as u32)) as i32;
            let dt = civil::DateTime::new(y, mo, d, h, mi, s, nanos).unwrap();
            let mut text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
            if digits > 0 {
                text.push_str(&format!(".{value:0digits$}"));
            }
            match &zone {
                Zone::None => {}
                Zone::Z => text.push('Z'),
                Zone::Offset(secs) => {
                    let sign = if *secs < 0 { '-' } else { '+' };
                    let a = secs.abs();
                    text.push_str(&format!("{sign}{:02}:{:02}", a / 3600, a % 3600 / 60));
                }
            }
            (dt, digits, zone, text)
        })
}

proptest! {
    #[test]
    fn valid_stamps_round_trip((dt, _digits, zone, text) in stamp()) {
        let parsed = time::parse(&text).unwrap();
        let expected = match zone {
            Zone::None => EventTime::Local { at: dt },
            Zone::Z => EventTime::exact(Offset::UTC.to_timestamp(dt).unwrap(), None),
            Zone::Offset(secs) => {
                EventTime::exact(Offset::from_seconds(secs).unwrap().to_timestamp(dt).unwrap(), None)
            }
        };
        prop_assert_eq!(parsed, expected);
    }

    #[test]
    fn offsetless_stamps_stay_local_with_exact_nanoseconds((dt, digits, _z, text) in stamp()) {
        // Drop the zone suffix: keep the date-time and its fraction.
        let keep = if digits == 0 { 19 } else { 20 + digits };
        let text = &text[..keep];
        let EventTime::Local { at } = time::parse(text).unwrap() else {
            return Err(TestCaseError::fail(format!("{text} must stay local")));
        };
        prop_assert_eq!(at, dt);
        // The fraction printed with `digits` digits reads back exactly.
        let fraction = text.split_once('.').map_or(0, |(_, f)| f.len());
        prop_assert_eq!(fraction, digits);
    }

    #[test]
    fn ten_or_more_fraction_digits_are_rejected(extra in "[0-9]{10,15}") {
        let e = time::parse(&format!("2017-04-12T13:17:40.{extra}")).unwrap_err();
        prop_assert!(e.to_string().contains("at most 9 fractional digits"));
    }

    #[test]
    fn garbage_never_panics_and_errors_name_the_input(s in "\\PC{0,40}") {
        if let Err(e) = time::parse(&s) {
            prop_assert!(e.to_string().contains("expected YYYY-MM-DDTHH:MM:SS"));
            prop_assert_eq!(e.raw, s);
        }
    }

    #[test]
    fn a_corrupted_valid_stamp_is_rejected((_dt, _d, _z, text) in stamp(), pos in 0usize..19, c in "[a-zA-SU-Z /_]") {
        let mut chars: Vec<char> = text.chars().collect();
        chars[pos] = c.chars().next().unwrap();
        let corrupted: String = chars.into_iter().collect();
        prop_assert!(time::parse(&corrupted).is_err(), "{}", corrupted);
    }
}

fn policy() -> impl Strategy<Value = RetryPolicy> {
    (1u32..6, 1u64..1000, 1u64..10_000, 0u64..120).prop_map(|(max, base, cap, ra)| RetryPolicy {
        max_attempts: max,
        base_delay: Duration::from_millis(base),
        max_delay: Duration::from_millis(cap),
        max_retry_after: Duration::from_secs(ra),
    })
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        Just(Outcome::Network),
        (100u16..600, proptest::option::of(0u64..200)).prop_map(|(status, ra)| Outcome::Status {
            status,
            retry_after: ra.map(Duration::from_secs)
        }),
    ]
}

proptest! {
    #[test]
    fn never_retries_past_the_budget(p in policy(), attempt in 0u32..20, o in outcome(), j in 0.0f64..=1.0) {
        if attempt >= p.max_attempts {
            prop_assert_eq!(p.decide(attempt, o, j), Decision::Stop);
        }
    }

    #[test]
    fn retries_exactly_network_errors_5xx_and_429(p in policy(), o in outcome(), j in 0.0f64..=1.0) {
        prop_assume!(p.max_attempts > 1);
        let retryable = match o {
            Outcome::Network => true,
            Outcome::Status { status, retry_after } => {
                (500..600).contains(&status)
                    || (status == 429 && retry_after.is_none_or(|r| r <= p.max_retry_after))
            }
        };
        prop_assert_eq!(matches!(p.decide(1, o, j), Decision::RetryAfter(_)), retryable);
    }

    #[test]
    fn a_429_waits_exactly_retry_after(p in policy(), secs in 0u64..120, attempt in 1u32..6) {
        prop_assume!(attempt < p.max_attempts);
        let wait = Duration::from_secs(secs);
        let d = p.decide(attempt, Outcome::Status { status: 429, retry_after: Some(wait) }, 0.5);
        if wait <= p.max_retry_after {
            prop_assert_eq!(d, Decision::RetryAfter(wait));
        } else {
            prop_assert_eq!(d, Decision::Stop);
        }
    }

    #[test]
    fn backoff_is_capped_jittered_and_grows(p in policy(), attempt in 1u32..40, j in any::<f64>()) {
        let b = p.backoff(attempt, j);
        prop_assert!(b <= p.max_delay);
        let nominal = p.base_delay.saturating_mul(1 << (attempt - 1).min(30)).min(p.max_delay);
        prop_assert!(b >= nominal / 2 - Duration::from_nanos(1), "{b:?} < half of {nominal:?}");
        prop_assert!(p.backoff(attempt, 1.0) <= p.backoff(attempt + 1, 1.0));
        prop_assert!(p.backoff(attempt, 0.0) <= p.backoff(attempt, 1.0));
    }
}

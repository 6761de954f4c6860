//! When to look a parcel's first leg up again: the refresh schedule as a value.
//!
//! A tracking key allows a few requests a second for thousands of parcels, so each lookup
//! should go where news is likely. After each lookup [`RefreshPolicy::next`] decides when the
//! parcel is next due, and the store offers due parcels most overdue first (then, with what
//! the budget has left, the rest least recently looked up first: see
//! [`RefreshSelection`](waybill_store::RefreshSelection)):
//!
//! - **right after news** (a lookup or a webhook stored a new event) a parcel is due again
//!   soon ([`RefreshPolicy::after_news`]): one scan is often followed by another (a label
//!   printed, then collected);
//! - **the longer it stays idle, the later it is due**: the interval is a share of the time
//!   since the last news ([`RefreshPolicy::idle_divisor`]), never longer than
//!   [`RefreshPolicy::longest`];
//! - **never again once its first leg is over**: the first-leg carrier reported the
//!   hand-over (its "delivered", see [`hand_overs`]); the store also stops offering final
//!   parcels, and a parcel the main carrier holds after one closing lookup (so the first
//!   leg's last scans are stored even when no lookup caught them in time);
//! - **not while a webhook covers it**: a parcel a webhook pushed an event for within
//!   [`RefreshPolicy::push_cover`] gets its news pushed, not polled.
//!
//! Everything here is pure; the engine's refresh round applies it.

use std::time::Duration;

use waybill_domain::{CarrierInfo, Leg, MerchantTrackingNumber, TrackingEvent, TrackingStatus};
use waybill_store::{NextRefresh, Refreshed};

/// The refresh schedule's knobs (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshPolicy {
    /// The interval right after news, and the shortest there is.
    pub after_news: Duration,
    /// An idle parcel's interval is its idle time divided by this (at least 1).
    pub idle_divisor: u32,
    /// The longest interval.
    pub longest: Duration,
    /// A webhook push this recent covers a parcel: it is not looked up.
    pub push_cover: Duration,
}

impl Default for RefreshPolicy {
    /// Two minutes after news, a quarter of the idle time after that, at most an hour; a
    /// webhook covers a parcel for a day (longer than a first leg's quiet spells, so a
    /// parcel whose merchant pushes is not polled between its pushes).
    fn default() -> Self {
        Self {
            after_news: Duration::from_secs(120),
            idle_divisor: 4,
            longest: Duration::from_secs(3600),
            push_cover: Duration::from_secs(24 * 3600),
        }
    }
}

/// What one lookup of a parcel's first leg showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lookup {
    /// It stored a new event.
    pub news: bool,
    /// The first-leg carrier reported the hand-over to the main carrier.
    pub handed_over: bool,
    /// How long the parcel had been idle before this lookup (since its last news, or its
    /// first lookup; `None` for a first lookup).
    pub idle: Option<Duration>,
}

impl RefreshPolicy {
    /// The same policy with every duration divided by `factor` (at least 1): for a world
    /// whose clock runs `factor` times faster, as in the benchmarks.
    #[must_use]
    pub fn sped_up(self, factor: u32) -> Self {
        let f = factor.max(1);
        Self {
            after_news: self.after_news / f,
            idle_divisor: self.idle_divisor,
            longest: self.longest / f,
            push_cover: self.push_cover / f,
        }
    }

    /// The interval for a parcel idle for `idle` (no news since): `idle / idle_divisor`,
    /// clamped to [`after_news`](Self::after_news) ..= [`longest`](Self::longest).
    #[must_use]
    pub fn interval(&self, idle: Duration) -> Duration {
        let longest = self.longest.max(self.after_news);
        (idle / self.idle_divisor.max(1)).clamp(self.after_news, longest)
    }

    /// What the store notes after `lookup`: news, and when the parcel is next due.
    #[must_use]
    pub fn next(&self, lookup: &Lookup) -> Refreshed {
        let next = if lookup.handed_over {
            NextRefresh::Never
        } else if lookup.news {
            NextRefresh::After(self.after_news)
        } else {
            NextRefresh::After(self.interval(lookup.idle.unwrap_or(Duration::ZERO)))
        };
        Refreshed { news: lookup.news, next }
    }
}

/// The parcels whose first leg these events of `carrier` (as the carrier reported them,
/// before [`CarrierInfo::join`]) say is over: a first-leg carrier's "delivered" is the
/// hand-over to the main carrier. Each number once; none for a main-leg carrier.
#[must_use]
pub fn hand_overs(carrier: &CarrierInfo, events: &[TrackingEvent]) -> Vec<MerchantTrackingNumber> {
    if carrier.leg != Leg::First {
        return Vec::new();
    }
    let mut out: Vec<MerchantTrackingNumber> = Vec::new();
    for e in events.iter().filter(|e| e.status == TrackingStatus::Delivered) {
        let number = e
            .merchant_tracking_number
            .clone()
            .or_else(|| MerchantTrackingNumber::parse(e.tracking_number.as_str()).ok());
        if let Some(n) = number
            && !out.contains(&n)
        {
            out.push(n);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use waybill_domain::{CarrierId, EventTime, TrackingNumber};

    use super::*;

    fn policy() -> impl Strategy<Value = RefreshPolicy> {
        (1u64..600, 1u32..20, 1u64..86_400, 0u64..200_000).prop_map(
            |(after, divisor, longest, cover)| RefreshPolicy {
                after_news: Duration::from_secs(after),
                idle_divisor: divisor,
                longest: Duration::from_secs(longest),
                push_cover: Duration::from_secs(cover),
            },
        )
    }

    fn secs() -> impl Strategy<Value = Duration> {
        (0u64..10_000_000).prop_map(Duration::from_secs)
    }

    fn after(r: Refreshed) -> Duration {
        match r.next {
            NextRefresh::After(d) => d,
            NextRefresh::Never => panic!("never due: {r:?}"),
        }
    }

    proptest! {
        #[test]
        fn intervals_stay_between_after_news_and_the_longest(p in policy(), idle in secs()) {
            let i = p.interval(idle);
            prop_assert!(i >= p.after_news);
            prop_assert!(i <= p.longest.max(p.after_news));
        }

        #[test]
        fn the_longer_idle_the_later_due(p in policy(), a in secs(), b in secs()) {
            let (short, long) = (a.min(b), a.max(b));
            prop_assert!(p.interval(short) <= p.interval(long));
        }

        #[test]
        fn news_makes_a_parcel_due_soonest(p in policy(), idle in proptest::option::of(secs())) {
            let news = p.next(&Lookup { news: true, handed_over: false, idle });
            let quiet = p.next(&Lookup { news: false, handed_over: false, idle });
            prop_assert!(news.news && !quiet.news);
            prop_assert_eq!(after(news), p.after_news);
            prop_assert!(after(news) <= after(quiet));
        }

        #[test]
        fn a_hand_over_is_never_due_again(
            p in policy(),
            news in any::<bool>(),
            idle in proptest::option::of(secs()),
        ) {
            let r = p.next(&Lookup { news, handed_over: true, idle });
            prop_assert_eq!(r.next, NextRefresh::Never);
            prop_assert_eq!(r.news, news);
        }

        #[test]
        fn a_sped_up_policy_is_the_same_policy_on_a_faster_clock(
            p in policy(),
            factor in 1u32..100,
            n in 0u64..100_000,
        ) {
            // Durations that divide exactly, so no rounding is involved.
            let p = RefreshPolicy { after_news: p.after_news * factor, longest: p.longest * factor, ..p };
            let idle = Duration::from_secs(n) * factor * p.idle_divisor;
            let fast = p.sped_up(factor);
            prop_assert_eq!(fast.interval(idle / factor), p.interval(idle) / factor);
            prop_assert_eq!(fast.idle_divisor, p.idle_divisor);
        }
    }

    #[test]
    fn the_default_backs_off_from_two_minutes_to_an_hour() {
        let p = RefreshPolicy::default();
        let m = |m: u64| Duration::from_secs(m * 60);
        assert_eq!(p.interval(Duration::ZERO), m(2));
        assert_eq!(p.interval(m(60)), m(15));
        assert_eq!(p.interval(m(600)), m(60));
        assert_eq!(p.push_cover, m(24 * 60));
    }

    fn scan(number: &str, status: TrackingStatus) -> TrackingEvent {
        let at = EventTime::Local { at: "2026-06-20T10:00:00".parse().unwrap() };
        TrackingEvent::new(
            CarrierId::from_static("courier"),
            TrackingNumber::parse(number).unwrap(),
            at,
            "raw",
            status,
        )
    }

    #[test]
    fn only_a_first_leg_delivery_is_a_hand_over() {
        let first = CarrierInfo::new(CarrierId::from_static("courier"), "Courier", Leg::First);
        let main = CarrierInfo { leg: Leg::Main, ..first.clone() };
        let events = [
            scan("M-1", TrackingStatus::InTransit),
            scan("M-2", TrackingStatus::Delivered),
            scan("M-2", TrackingStatus::Delivered),
            scan("M-3", TrackingStatus::AttemptFailed),
        ];
        assert_eq!(hand_overs(&first, &events), [MerchantTrackingNumber::parse("M-2").unwrap()]);
        assert!(hand_overs(&main, &events).is_empty());
        // Joined events keep working: the merchant number is taken when the event has one.
        let joined: Vec<_> = events.iter().cloned().map(|e| first.join(e)).collect();
        assert!(hand_overs(&first, &joined).is_empty(), "joined, a delivery is in transit");
    }
}

//! How event times and places read to people, the same on every surface (CLI tables, the
//! API, the tracking page). A timeline's times are [`Resolved`] on one clock first
//! ([`Timeline::resolved`](crate::Timeline::resolved)); a view then shows every time in one
//! zone with its UTC offset ([`in_zone`], the CLI's `--tz`), or each in the event's own local
//! zone with its offset ([`local`], the tracking page), and says when waybill chose the zone
//! ([`zone_note`]). Minutes are truncated, never rounded, so the displayed order is the
//! instants' order.

use jiff::tz::TimeZone;

use crate::{EventTime, Resolved, TrackingEvent, ZoneSource};

/// A resolved time in `zone`, with the offset: `2026-06-20 09:14 +02:00`.
///
/// ```
/// # use waybill_domain::{EventTime, present};
/// let t = EventTime::exact("2026-06-20T07:14:00Z".parse()?, Some("Australia/Sydney".into()));
/// let tz = jiff::tz::TimeZone::get("Europe/Paris")?;
/// assert_eq!(present::in_zone(&t.resolve(None), &tz), "2026-06-20 09:14 +02:00");
/// assert_eq!(present::local(&t.resolve(None)), "2026-06-20 17:14 +10:00");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub fn in_zone(r: &Resolved, zone: &TimeZone) -> String {
    if r.source == ZoneSource::NoTime {
        return UNKNOWN.to_owned();
    }
    r.at.to_zoned(zone.clone()).strftime("%Y-%m-%d %H:%M %:z").to_string()
}

/// What a time the carrier did not give usably reads as, everywhere.
pub const UNKNOWN: &str = "time unknown";

/// A resolved time in the event's own local zone, with the offset: `2026-06-20 17:14 +10:00`.
#[must_use]
pub fn local(r: &Resolved) -> String {
    in_zone(r, &r.zone)
}

/// The day a resolved time falls on in `zone`, for grouping: `Sat 20 Jun 2026`.
#[must_use]
pub fn day(r: &Resolved, zone: &TimeZone) -> String {
    if r.source == ZoneSource::NoTime {
        return UNKNOWN.to_owned();
    }
    r.at.to_zoned(zone.clone()).strftime("%a %-d %b %Y").to_string()
}

/// Why a time's zone is what it is, when waybill chose it: `zone inferred: Australia/Sydney`,
/// `zone configured: …`, or `zone unknown, read as UTC`. `None` when the carrier gave it.
#[must_use]
pub fn zone_note(r: &Resolved) -> Option<String> {
    match r.source {
        ZoneSource::Reported => None,
        ZoneSource::Configured => Some(format!("zone configured: {}", r.zone_name)),
        ZoneSource::Inferred => Some(format!("zone inferred: {}", r.zone_name)),
        ZoneSource::Assumed => Some("zone unknown, read as UTC".to_owned()),
        ZoneSource::NoTime => {
            Some("the carrier sent no usable time; listed when waybill received it".to_owned())
        }
    }
}

/// An event time for people, e.g. `2026-06-20 17:14 Australia/Sydney` or
/// `2017-04-12 15:22 (local)`.
///
/// ```
/// # use waybill_domain::{EventTime, present};
/// let t = EventTime::exact("2026-06-20T07:14:00Z".parse()?, Some("Australia/Sydney".into()));
/// assert_eq!(present::time(&t), "2026-06-20 17:14 Australia/Sydney");
/// let local = EventTime::Local { at: "2017-04-12T15:22:45".parse()? };
/// assert_eq!(present::time(&local), "2017-04-12 15:22 (local)");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub fn time(t: &EventTime) -> String {
    match t {
        EventTime::Exact { at, zone } => {
            let tz = zone
                .as_deref()
                .and_then(|z| jiff::tz::TimeZone::get(z).ok())
                .unwrap_or(jiff::tz::TimeZone::UTC);
            let name = zone.as_deref().unwrap_or("UTC");
            format!("{} {name}", at.to_zoned(tz).strftime("%Y-%m-%d %H:%M"))
        }
        EventTime::Local { at } => format!("{} (local)", at.strftime("%Y-%m-%d %H:%M")),
        EventTime::Unknown { raw: Some(raw), .. } => format!("{UNKNOWN} (sent as {raw:?})"),
        EventTime::Unknown { raw: None, .. } => UNKNOWN.to_owned(),
    }
}

/// Where an event happened: "place, country", either alone, or empty.
#[must_use]
pub fn place(e: &TrackingEvent) -> String {
    match (&e.location, &e.country) {
        (Some(l), Some(c)) => format!("{l}, {c}"),
        (Some(l), None) => l.clone(),
        (None, Some(c)) => c.to_string(),
        (None, None) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CarrierId, Milestone, Timeline, TrackingNumber, TrackingStatus};
    use proptest::prelude::*;

    const ZONES: [&str; 5] =
        ["UTC", "Australia/Sydney", "Pacific/Auckland", "America/Los_Angeles", "Asia/Kolkata"];

    fn event() -> impl Strategy<Value = TrackingEvent> {
        // Hours around the Sydney DST change of 2026-04-05, so offsets differ between events.
        (any::<bool>(), 0..ZONES.len(), 0i64..96 * 60, prop::option::of(0..ZONES.len())).prop_map(
            |(exact, zone, minute, reported)| {
                let base = jiff::Timestamp::from_second(1_775_200_000).unwrap();
                let at = base + jiff::SignedDuration::from_mins(minute);
                let (carrier, time) = if exact {
                    let zone = reported.map(|z| ZONES[z].to_owned());
                    ("starmile", EventTime::exact(at, zone))
                } else {
                    let tz = TimeZone::get(ZONES[zone]).unwrap();
                    ("starshipit", EventTime::Local { at: at.to_zoned(tz).datetime() })
                };
                let mut e = TrackingEvent::new(
                    CarrierId::from_static(carrier),
                    TrackingNumber::parse("T1").unwrap(),
                    time,
                    format!("s{minute}"),
                    TrackingStatus::InTransit,
                );
                e.milestone = Some(Milestone::InTransit);
                e
            },
        )
    }

    fn instant(shown: &str) -> jiff::Timestamp {
        jiff::fmt::strtime::parse("%Y-%m-%d %H:%M %:z", shown).unwrap().to_timestamp().unwrap()
    }

    proptest! {
        /// The displayed list is sorted by displayed instant, in one view zone (the CLI) and
        /// in each event's own zone with its offset (the page), whatever the zones involved.
        #[test]
        fn the_displayed_list_is_sorted_by_displayed_instant(
            events in prop::collection::vec(event(), 0..40),
            view in 0..ZONES.len(),
            configured in prop::option::of(0..ZONES.len()),
        ) {
            let mut t = Timeline::from_events(events);
            if let Some(z) = configured {
                prop_assert!(t.set_local_zone(&CarrierId::from_static("starshipit"), ZONES[z]));
            }
            let tz = TimeZone::get(ZONES[view]).unwrap();
            let resolved = t.resolved();
            let in_view: Vec<_> = resolved.iter().map(|(_, r)| instant(&in_zone(r, &tz))).collect();
            prop_assert!(in_view.windows(2).all(|w| w[0] <= w[1]), "{in_view:?}");
            let own: Vec<_> = resolved.iter().map(|(_, r)| instant(&local(r))).collect();
            prop_assert!(own.windows(2).all(|w| w[0] <= w[1]), "{own:?}");
            // A displayed time is its instant truncated to the minute, never another one.
            for ((_, r), shown) in resolved.iter().zip(&in_view) {
                prop_assert!(*shown <= r.at && r.at.as_second() - shown.as_second() < 60);
            }
        }
    }

    #[test]
    fn inferred_zones_say_so() {
        let t = EventTime::Local { at: "2026-06-20T10:30:00".parse().unwrap() };
        assert_eq!(zone_note(&t.resolve(None)).as_deref(), Some("zone unknown, read as UTC"));
        let sydney = crate::LocalZone::named("Australia/Sydney", ZoneSource::Inferred).unwrap();
        let r = t.resolve(Some(&sydney));
        assert_eq!(local(&r), "2026-06-20 10:30 +10:00");
        assert_eq!(zone_note(&r).as_deref(), Some("zone inferred: Australia/Sydney"));
        assert_eq!(day(&r, &TimeZone::UTC), "Sat 20 Jun 2026");
    }
}

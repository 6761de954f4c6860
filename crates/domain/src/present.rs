//! How event times and places read to people, the same on every surface (CLI tables, the
//! tracking page): exact times in the zone the carrier reported (or UTC), local wall-clock
//! times marked as such and never converted, since their zone is unknown.

use crate::{EventTime, TrackingEvent};

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

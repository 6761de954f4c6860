//! When an event happened: an exact instant, or a local wall-clock time flagged as such, and
//! the one clock every surface orders and shows them by.
//!
//! A stored [`EventTime`] is what the carrier said, never rewritten. To order a merged
//! timeline and show it in one zone, a local (offset-less) time is *resolved* in a zone
//! inferred for it — a configured per-carrier zone, else the zone of the parcel's own zoned
//! events (the receiving hub) — and the result says so ([`ZoneSource`]); only when nothing
//! names a zone is it read as UTC, marked [`ZoneSource::Assumed`].
//!
//! A carrier may also send an event whose time is missing or unreadable. It is kept as
//! [`EventTime::Unknown`] with the text as sent — never dropped, never given an invented
//! time. It is ordered by when waybill received it (the only fact at hand), shown as "time
//! unknown", and its identity leaves the receipt out, so a redelivery stores nothing new.

use std::fmt;

use jiff::{Timestamp, civil};
use serde::{Deserialize, Serialize};

/// The time of a tracking event.
///
/// ```
/// # use waybill_domain::EventTime;
/// let exact = EventTime::exact("2026-06-20T07:14:00Z".parse()?, Some("Australia/Sydney".into()));
/// let local = EventTime::Local { at: "2017-04-12T15:22:45".parse()? };
/// assert!(exact.is_exact() && !local.is_exact());
/// assert_eq!(local.to_string(), "2017-04-12T15:22:45 (local time, zone unknown)");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventTime {
    /// An exact instant: the source gave an offset or an IANA zone.
    Exact {
        /// The instant.
        at: Timestamp,
        /// The IANA zone the carrier reported, kept for display in local time.
        zone: Option<String>,
    },
    /// A wall-clock time in a zone the source did not name (StarShipIT's `/track` times).
    Local {
        /// The wall-clock reading.
        at: civil::DateTime,
    },
    /// The source sent no usable time: missing, or text no time format reads.
    Unknown {
        /// The time text as sent (`None` when there was none).
        raw: Option<String>,
        /// When waybill received the event: its place on a timeline, never shown as the
        /// event's time and left out of its identity.
        received: Timestamp,
    },
}

impl EventTime {
    /// An exact instant, optionally with the zone it was reported in.
    #[must_use]
    pub fn exact(at: Timestamp, zone: Option<String>) -> Self {
        Self::Exact { at, zone }
    }

    /// A time the source did not give usably (`raw` as sent), received at `received`.
    #[must_use]
    pub fn unknown(raw: Option<String>, received: Timestamp) -> Self {
        Self::Unknown { raw, received }
    }

    /// True for an exact instant.
    #[must_use]
    pub fn is_exact(&self) -> bool {
        matches!(self, Self::Exact { .. })
    }

    /// True unless the source gave no usable time.
    #[must_use]
    pub fn is_known(&self) -> bool {
        !matches!(self, Self::Unknown { .. })
    }

    /// The value used to order events on a timeline. An exact time orders by its instant;
    /// a local time orders as if its wall clock were UTC. That is an ordering heuristic only:
    /// it is never shown or stored as an instant.
    #[must_use]
    pub fn sort_key(&self) -> Timestamp {
        match self {
            Self::Exact { at, .. } => *at,
            Self::Local { at } => {
                at.to_zoned(jiff::tz::TimeZone::UTC).map_or(Timestamp::MIN, |z| z.timestamp())
            }
            Self::Unknown { received, .. } => *received,
        }
    }

    /// The same time without display-only data (the zone name), for identity comparisons.
    #[must_use]
    pub fn identity(&self) -> EventTime {
        match self {
            Self::Exact { at, .. } => Self::Exact { at: *at, zone: None },
            Self::Local { at } => Self::Local { at: *at },
            // The receipt differs on every redelivery; the text as sent does not.
            Self::Unknown { raw, .. } => {
                Self::Unknown { raw: raw.clone(), received: Timestamp::UNIX_EPOCH }
            }
        }
    }
}

/// How the zone a time is resolved in was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZoneSource {
    /// The carrier gave the offset or zone with the time.
    Reported,
    /// The configuration names the zone of this carrier's offset-less times.
    Configured,
    /// Inferred from the parcel's other events (the zone of its earliest zoned event).
    Inferred,
    /// Nothing named a zone: the wall clock is read as UTC.
    Assumed,
    /// The source gave no usable time: the event is placed by when waybill received it.
    NoTime,
}

impl ZoneSource {
    /// True when waybill chose the zone rather than the carrier.
    #[must_use]
    pub fn is_inferred(self) -> bool {
        self != Self::Reported
    }

    /// The snake_case name used on the wire.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reported => "reported",
            Self::Configured => "configured",
            Self::Inferred => "inferred",
            Self::Assumed => "assumed",
            Self::NoTime => "no_time",
        }
    }
}

/// A zone offset-less times are read in, and how it was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalZone {
    /// The IANA name, e.g. `Australia/Sydney`.
    pub name: String,
    /// The zone.
    pub tz: jiff::tz::TimeZone,
    /// Configured or inferred.
    pub source: ZoneSource,
}

impl LocalZone {
    /// A zone by IANA name; `None` for a name the bundled database does not know.
    #[must_use]
    pub fn named(name: &str, source: ZoneSource) -> Option<Self> {
        let tz = jiff::tz::TimeZone::get(name).ok()?;
        Some(Self { name: name.to_owned(), tz, source })
    }
}

/// An event time placed on the one clock: its instant, and the zone it reads in locally.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// The instant (for a local time: its wall clock in `zone`).
    pub at: Timestamp,
    /// The event's local zone: the reported one, else the local zone it was resolved in,
    /// else UTC.
    pub zone: jiff::tz::TimeZone,
    /// The zone's IANA name (`UTC` when none).
    pub zone_name: String,
    /// Whether the carrier gave the zone or waybill chose it.
    pub source: ZoneSource,
}

impl EventTime {
    /// This time on the one clock. An exact time keeps its instant (its zone is the reported
    /// one, else `local`'s, else UTC, for display only); a local time is read in `local`
    /// (ambiguous or skipped wall-clock readings at a DST change resolve as jiff's
    /// "compatible" rule does), or as UTC when no zone is known.
    ///
    /// ```
    /// # use waybill_domain::{EventTime, LocalZone, ZoneSource};
    /// let sydney = LocalZone::named("Australia/Sydney", ZoneSource::Inferred).unwrap();
    /// let t = EventTime::Local { at: "2026-06-20T17:14:00".parse()? };
    /// let r = t.resolve(Some(&sydney));
    /// assert_eq!(r.at.to_string(), "2026-06-20T07:14:00Z");
    /// assert_eq!(r.source, ZoneSource::Inferred);
    /// assert_eq!(t.resolve(None).source, ZoneSource::Assumed);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn resolve(&self, local: Option<&LocalZone>) -> Resolved {
        match self {
            Self::Exact { at, zone } => {
                let reported = zone
                    .as_deref()
                    .and_then(|name| jiff::tz::TimeZone::get(name).ok().map(|tz| (name, tz)));
                let (zone_name, zone) = match (reported, local) {
                    (Some((name, tz)), _) => (name.to_owned(), tz),
                    (None, Some(l)) => (l.name.clone(), l.tz.clone()),
                    (None, None) => ("UTC".to_owned(), jiff::tz::TimeZone::UTC),
                };
                Resolved { at: *at, zone, zone_name, source: ZoneSource::Reported }
            }
            Self::Local { at } => {
                let (zone_name, zone, source) = match local {
                    Some(l) => (l.name.clone(), l.tz.clone(), l.source),
                    None => ("UTC".to_owned(), jiff::tz::TimeZone::UTC, ZoneSource::Assumed),
                };
                let instant =
                    at.to_zoned(zone.clone()).map_or_else(|_| self.sort_key(), |z| z.timestamp());
                Resolved { at: instant, zone, zone_name, source }
            }
            Self::Unknown { received, .. } => Resolved {
                at: *received,
                zone: jiff::tz::TimeZone::UTC,
                zone_name: "UTC".to_owned(),
                source: ZoneSource::NoTime,
            },
        }
    }
}

impl fmt::Display for EventTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exact { at, .. } => write!(f, "{at}"),
            Self::Local { at } => write!(f, "{at} (local time, zone unknown)"),
            Self::Unknown { raw: Some(raw), .. } => write!(f, "time unknown (sent as {raw:?})"),
            Self::Unknown { raw: None, .. } => f.write_str("time unknown (none sent)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_shape_is_tagged() {
        let t = EventTime::Local { at: "2017-04-12T13:17:40.5931835".parse().unwrap() };
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, r#"{"kind":"local","at":"2017-04-12T13:17:40.5931835"}"#);
        assert_eq!(serde_json::from_str::<EventTime>(&json).unwrap(), t);
        let e = EventTime::exact("2026-06-20T07:14:00Z".parse().unwrap(), Some("UTC".into()));
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(json, r#"{"kind":"exact","at":"2026-06-20T07:14:00Z","zone":"UTC"}"#);
    }

    #[test]
    fn identity_drops_the_zone_only() {
        let a = EventTime::exact("2026-06-20T07:14:00Z".parse().unwrap(), Some("UTC".into()));
        let b = EventTime::exact("2026-06-20T07:14:00Z".parse().unwrap(), Some("Etc/UTC".into()));
        assert_ne!(a, b);
        assert_eq!(a.identity(), b.identity());
        assert_eq!(a.sort_key(), b.sort_key());
    }

    #[test]
    fn unknown_times_keep_their_text_order_by_receipt_and_share_an_identity() {
        let first: Timestamp = "2026-06-20T07:14:00Z".parse().unwrap();
        let later: Timestamp = "2026-06-21T07:14:00Z".parse().unwrap();
        let a = EventTime::unknown(Some("yesterday".into()), first);
        let b = EventTime::unknown(Some("yesterday".into()), later);
        assert!(!a.is_known() && !a.is_exact());
        assert_eq!(a.sort_key(), first);
        assert_eq!(a.identity(), b.identity(), "a redelivery is the same event");
        assert_ne!(a.identity(), EventTime::unknown(None, first).identity());
        assert_eq!(a.to_string(), "time unknown (sent as \"yesterday\")");
        assert_eq!(EventTime::unknown(None, first).to_string(), "time unknown (none sent)");
        let r = a.resolve(None);
        assert_eq!((r.at, r.source), (first, ZoneSource::NoTime));
        assert_eq!(crate::present::in_zone(&r, &jiff::tz::TimeZone::UTC), "time unknown");
        assert!(crate::present::zone_note(&r).unwrap().contains("no usable time"));
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(json["kind"], "unknown");
        assert_eq!(serde_json::from_value::<EventTime>(json).unwrap(), a);
    }
}

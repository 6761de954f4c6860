//! When an event happened: an exact instant, or a local wall-clock time flagged as such.
//! waybill never guesses a UTC offset the carrier did not give.

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
}

impl EventTime {
    /// An exact instant, optionally with the zone it was reported in.
    #[must_use]
    pub fn exact(at: Timestamp, zone: Option<String>) -> Self {
        Self::Exact { at, zone }
    }

    /// True for an exact instant.
    #[must_use]
    pub fn is_exact(&self) -> bool {
        matches!(self, Self::Exact { .. })
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
        }
    }

    /// The same time without display-only data (the zone name), for identity comparisons.
    #[must_use]
    pub fn identity(&self) -> EventTime {
        match self {
            Self::Exact { at, .. } => Self::Exact { at: *at, zone: None },
            Self::Local { at } => Self::Local { at: *at },
        }
    }
}

impl fmt::Display for EventTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exact { at, .. } => write!(f, "{at}"),
            Self::Local { at } => write!(f, "{at} (local time, zone unknown)"),
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
}

//! A parcel's timeline: events from any number of carriers merged into one ordered,
//! deduplicated list with a derived current status.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::{CarrierId, EventTime, TrackingEvent, TrackingNumber, TrackingStatus};

/// The identity of an event across re-deliveries: carrier, tracking number, instant and raw
/// status. Descriptions and other details are *not* part of it, because carriers edit old
/// events; when two copies share a key, the timeline keeps the greater one in [`TrackingEvent`]'s
/// total order (so the choice never depends on arrival order).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EventKey {
    /// The carrier.
    pub carrier: CarrierId,
    /// The carrier's tracking number.
    pub tracking_number: TrackingNumber,
    /// The time, without display-only data.
    pub time: EventTime,
    /// The raw status text.
    pub raw_status: String,
}

impl EventKey {
    /// The key of an event.
    #[must_use]
    pub fn of(event: &TrackingEvent) -> Self {
        Self {
            carrier: event.carrier.clone(),
            tracking_number: event.tracking_number.clone(),
            time: event.occurred_at.identity(),
            raw_status: event.raw_status.clone(),
        }
    }
}

/// The merged events of one parcel, oldest first.
///
/// Merging is idempotent (merging the same events again changes nothing) and
/// order-independent (any interleaving of the same events gives the same timeline).
///
/// ```
/// # use waybill_domain::*;
/// let ev = |t: &str, raw: &str, st| -> Result<TrackingEvent, Box<dyn std::error::Error>> {
///     Ok(TrackingEvent::new(CarrierId::from_static("starmile"), TrackingNumber::parse("STM1")?,
///         EventTime::exact(t.parse()?, None), raw, st))
/// };
/// let a = ev("2026-06-20T09:00:00Z", "in_transit", TrackingStatus::InTransit)?;
/// let b = ev("2026-06-21T09:00:00Z", "delivered", TrackingStatus::Delivered)?;
/// let mut timeline = Timeline::from_events([b.clone(), a.clone()]);
/// timeline.merge([a]); // a replay changes nothing
/// assert_eq!(timeline.events().len(), 2);
/// assert_eq!(timeline.current_status(), TrackingStatus::Delivered);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeline {
    events: Vec<TrackingEvent>,
}

impl Timeline {
    /// An empty timeline.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A timeline of the given events, merged.
    #[must_use]
    pub fn from_events(events: impl IntoIterator<Item = TrackingEvent>) -> Self {
        let mut t = Self::new();
        t.merge(events);
        t
    }

    /// Merges events in: duplicates (same [`EventKey`]) collapse, order is restored.
    pub fn merge(&mut self, events: impl IntoIterator<Item = TrackingEvent>) {
        self.events.extend(events);
        // Group copies of one event together, greatest copy first, then keep the first.
        self.events.sort_by(|a, b| EventKey::of(a).cmp(&EventKey::of(b)).then_with(|| b.cmp(a)));
        self.events.dedup_by(|later, first| EventKey::of(later) == EventKey::of(first));
        self.events.sort_by(timeline_order);
    }

    /// The events, oldest first.
    #[must_use]
    pub fn events(&self) -> &[TrackingEvent] {
        &self.events
    }

    /// True when there are no events.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The event that decides the current status: the newest final one (delivered, returned,
    /// cancelled) if there is one, else the newest whose status is known (not
    /// [`TrackingStatus::Unknown`]).
    ///
    /// A final status is not undone by a later non-final event: on a merged timeline those
    /// come from another leg, e.g. a first-leg carrier still scanning a parcel whose order
    /// Starmile has cancelled.
    #[must_use]
    pub fn latest(&self) -> Option<&TrackingEvent> {
        let known = || self.events.iter().rev().filter(|e| e.status != TrackingStatus::Unknown);
        known().find(|e| e.status.is_terminal()).or_else(|| known().next())
    }

    /// The parcel's current status: [`Timeline::latest`]'s status; `Unknown` when every
    /// event is unknown; `Pending` when there are no events yet.
    #[must_use]
    pub fn current_status(&self) -> TrackingStatus {
        match (self.latest(), self.events.is_empty()) {
            (Some(e), _) => e.status,
            (None, true) => TrackingStatus::Pending,
            (None, false) => TrackingStatus::Unknown,
        }
    }

    /// True once the current status is final.
    #[must_use]
    pub fn is_terminal(&self) -> bool {
        self.current_status().is_terminal()
    }
}

/// Oldest first; ties broken by carrier, tracking number, raw status, then the event's total
/// order, so the result is a total order independent of input order.
fn timeline_order(a: &TrackingEvent, b: &TrackingEvent) -> Ordering {
    a.occurred_at
        .sort_key()
        .cmp(&b.occurred_at.sort_key())
        .then_with(|| a.carrier.cmp(&b.carrier))
        .then_with(|| a.tracking_number.cmp(&b.tracking_number))
        .then_with(|| a.raw_status.cmp(&b.raw_status))
        .then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn event() -> impl Strategy<Value = TrackingEvent> {
        (
            prop_oneof![
                Just(CarrierId::from_static("starmile")),
                Just(CarrierId::from_static("starshipit"))
            ],
            prop_oneof![Just("STM1"), Just("0000000000")],
            0i64..20,
            any::<bool>(),
            prop_oneof![Just("in_transit"), Just("delivered"), Just("mystery"), Just("In Transit")],
            prop::option::of(prop_oneof![Just("a"), Just("b")]),
        )
            .prop_map(|(carrier, tn, minute, exact, raw, desc)| {
                let at = if exact {
                    EventTime::exact(
                        jiff::Timestamp::from_second(1_700_000_000 + minute * 60).unwrap(),
                        None,
                    )
                } else {
                    EventTime::Local {
                        at: jiff::civil::date(2023, 11, 14).at(22, minute as i8, 0, 0),
                    }
                };
                let status = match raw {
                    "delivered" => TrackingStatus::Delivered,
                    "mystery" => TrackingStatus::Unknown,
                    _ => TrackingStatus::InTransit,
                };
                let mut e = TrackingEvent::new(
                    carrier,
                    TrackingNumber::parse(tn).unwrap(),
                    at,
                    raw,
                    status,
                );
                e.description = desc.map(String::from);
                e
            })
    }

    proptest! {
        #[test]
        fn merge_is_order_independent(events in proptest::collection::vec(event(), 0..30), seed in any::<u64>()) {
            let forward = Timeline::from_events(events.clone());
            let mut shuffled = events.clone();
            // A deterministic shuffle driven by the seed.
            let n = shuffled.len();
            for i in (1..n).rev() {
                let j = (seed.wrapping_mul(6364136223846793005).wrapping_add(i as u64) % (i as u64 + 1)) as usize;
                shuffled.swap(i, j);
            }
            let mut incremental = Timeline::new();
            for chunk in shuffled.chunks(3) {
                incremental.merge(chunk.to_vec());
            }
            prop_assert_eq!(&forward, &incremental);
            prop_assert_eq!(forward.current_status(), incremental.current_status());
        }

        #[test]
        fn merge_is_idempotent(events in proptest::collection::vec(event(), 0..30)) {
            let once = Timeline::from_events(events.clone());
            let mut twice = once.clone();
            twice.merge(events.clone());
            twice.merge(once.events().to_vec());
            prop_assert_eq!(&once, &twice);
            prop_assert_eq!(once.current_status(), twice.current_status());
        }

        #[test]
        fn merge_deduplicates_on_the_key_and_orders(events in proptest::collection::vec(event(), 0..30)) {
            let t = Timeline::from_events(events.clone());
            let keys: std::collections::BTreeSet<_> = events.iter().map(EventKey::of).collect();
            prop_assert_eq!(t.events().len(), keys.len());
            prop_assert!(t.events().windows(2).all(|w| w[0].occurred_at.sort_key() <= w[1].occurred_at.sort_key()));
            // Every kept copy is the greatest of its key's copies.
            for kept in t.events() {
                let best = events.iter().filter(|e| EventKey::of(e) == EventKey::of(kept)).max().unwrap();
                prop_assert_eq!(kept, best);
            }
        }

        #[test]
        fn current_status_is_the_newest_final_else_the_newest_known(events in proptest::collection::vec(event(), 1..30)) {
            let t = Timeline::from_events(events);
            let known: Vec<TrackingStatus> = t.events().iter().rev().map(|e| e.status).filter(|s| *s != TrackingStatus::Unknown).collect();
            let expected = known
                .iter()
                .find(|s| s.is_terminal())
                .or(known.first())
                .copied()
                .unwrap_or(TrackingStatus::Unknown);
            prop_assert_eq!(t.current_status(), expected);
        }
    }

    #[test]
    fn a_later_event_from_another_leg_does_not_undo_a_final_status() {
        let at = |m: i8| EventTime::Local { at: jiff::civil::date(2026, 6, 20).at(10, m, 0, 0) };
        let n = TrackingNumber::parse("T1").unwrap();
        let cancelled = TrackingEvent::new(
            CarrierId::from_static("starmile"),
            n.clone(),
            at(0),
            "cancelled",
            TrackingStatus::Cancelled,
        );
        let scan = TrackingEvent::new(
            CarrierId::from_static("starshipit"),
            n,
            at(5),
            "In Transit",
            TrackingStatus::InTransit,
        );
        let t = Timeline::from_events([cancelled, scan]);
        assert_eq!(t.current_status(), TrackingStatus::Cancelled);
        assert!(t.is_terminal());
    }

    #[test]
    fn empty_timeline_is_pending() {
        assert_eq!(Timeline::new().current_status(), TrackingStatus::Pending);
        assert!(!Timeline::new().is_terminal());
    }
}

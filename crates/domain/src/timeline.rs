//! A parcel's timeline: events from any number of carriers merged into one deduplicated list
//! on one clock, with a current status and milestone that only move forward.
//!
//! **Order.** Events are ordered by instant. A local (offset-less) time is resolved in the
//! zone configured for its carrier ([`Timeline::set_local_zone`]), else in the zone of the
//! parcel's earliest zoned event (for a first leg: the receiving hub's), else read as UTC;
//! each resolved time says which ([`ZoneSource`]). Stored values are never rewritten.
//!
//! **Forward-only rule.** The event that decides the current status and milestone is the
//! greatest by [`ProgressKey`]: milestone rank first, then the stored sort key, carrier,
//! tracking number and raw status. Adding events can therefore only keep or raise the rank;
//! within one rank the newer event decides, which is exactly what the documented loops need
//! (failed attempt → out for delivery again or to a pickup point; customs hold → released;
//! exception → resumed), while a stale event (a first-leg scan after the hub received the
//! parcel, a late hub scan after linehaul) stays on the timeline without moving the parcel
//! back. The rule is a maximum, so it is independent of arrival order and batching, and the
//! store maintains it incrementally with the same key.

use std::cmp::Ordering;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::{
    CarrierId, EventTime, LocalZone, Milestone, Resolved, TrackingEvent, TrackingNumber,
    TrackingStatus, ZoneSource,
};

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

/// The forward-only rule's order of events (see the module docs): the greatest known event
/// decides a parcel's current status and milestone. `None` for an event whose milestone is
/// unknown: it never moves a parcel.
///
/// The sort key is [`EventTime::sort_key`] (a local time as if UTC), the value every store
/// keeps, so the store and the domain pick the same event; it only breaks ties within one
/// rank, where events come from the same stage of one carrier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProgressKey<'a> {
    /// [`Milestone::rank`] of the event's milestone.
    pub rank: u8,
    /// [`EventTime::sort_key`].
    pub sort_key: Timestamp,
    /// The carrier.
    pub carrier: &'a str,
    /// The carrier's tracking number.
    pub tracking_number: &'a str,
    /// The raw status text.
    pub raw_status: &'a str,
}

impl<'a> ProgressKey<'a> {
    /// The key of an event, `None` when its milestone is unknown.
    #[must_use]
    pub fn of(event: &'a TrackingEvent) -> Option<Self> {
        Some(Self {
            rank: event.milestone().rank()?,
            sort_key: event.occurred_at.sort_key(),
            carrier: event.carrier.as_str(),
            tracking_number: event.tracking_number.as_str(),
            raw_status: event.raw_status.as_str(),
        })
    }
}

/// A parcel's derived state: its current unified status and milestone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Step {
    /// The unified status.
    pub status: TrackingStatus,
    /// The milestone.
    pub milestone: Milestone,
}

impl Step {
    /// True when going from `self` to `next` moves the parcel back outside the documented
    /// loops: to a lower milestone rank, or within one rank to an earlier status (lifecycle
    /// order) other than failed attempt → out for delivery or pickup point, customs hold →
    /// in transit, and exception → anything.
    #[must_use]
    pub fn is_backward_to(self, next: Step) -> bool {
        use TrackingStatus as S;
        let rank = |m: Milestone| m.rank().map_or(-1, i16::from);
        match rank(next.milestone).cmp(&rank(self.milestone)) {
            Ordering::Less => true,
            Ordering::Greater => false,
            Ordering::Equal => {
                let documented_loop = matches!(
                    (self.status, next.status),
                    (S::AttemptFailed, S::OutForDelivery | S::AvailableForPickup)
                        | (S::CustomsHold, S::InTransit)
                        | (S::Exception, _)
                );
                next.status < self.status && !documented_loop
            }
        }
    }
}

/// The merged events of one parcel, oldest first on the one clock.
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
/// assert_eq!(timeline.current_milestone(), Milestone::Delivered);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeline {
    events: Vec<TrackingEvent>,
    /// Configured zones of carriers' offset-less times (carrier, IANA name).
    #[serde(skip)]
    configured: Vec<(CarrierId, String)>,
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
        self.reorder();
    }

    /// Reads `carrier`'s offset-less times in the IANA zone `zone` (a per-account setting)
    /// instead of the inferred one, and reorders. Returns false, changing nothing, when the
    /// zone is unknown.
    pub fn set_local_zone(&mut self, carrier: &CarrierId, zone: &str) -> bool {
        if jiff::tz::TimeZone::get(zone).is_err() {
            return false;
        }
        self.configured.retain(|(c, _)| c != carrier);
        self.configured.push((carrier.clone(), zone.to_owned()));
        self.reorder();
        true
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

    /// The zone inferred for offset-less times: that of the parcel's earliest event whose
    /// carrier named a (known) zone, e.g. the hub that received the parcel from its first leg.
    #[must_use]
    pub fn inferred_zone(&self) -> Option<LocalZone> {
        self.events
            .iter()
            .filter_map(|e| match &e.occurred_at {
                EventTime::Exact { at, zone: Some(name) } => {
                    LocalZone::named(name, ZoneSource::Inferred).map(|z| ((*at, e), z))
                }
                _ => None,
            })
            .min_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, z)| z)
    }

    /// The zone `carrier`'s offset-less times are read in: the configured one, else the
    /// inferred one (`None`: read as UTC, marked assumed).
    #[must_use]
    pub fn local_zone(&self, carrier: &CarrierId) -> Option<LocalZone> {
        self.configured
            .iter()
            .find(|(c, _)| c == carrier)
            .and_then(|(_, name)| LocalZone::named(name, ZoneSource::Configured))
            .or_else(|| self.inferred_zone())
    }

    /// An event's time on the timeline's clock.
    #[must_use]
    pub fn resolve(&self, event: &TrackingEvent) -> Resolved {
        event.occurred_at.resolve(self.local_zone(&event.carrier).as_ref())
    }

    /// Every event with its time on the clock, oldest first.
    #[must_use]
    pub fn resolved(&self) -> Vec<(&TrackingEvent, Resolved)> {
        let inferred = self.inferred_zone();
        self.events.iter().map(|e| (e, self.resolve_with(e, inferred.as_ref()))).collect()
    }

    /// The event that decides the current status and milestone: the greatest by
    /// [`ProgressKey`] (the forward-only rule, see the module docs).
    ///
    /// A final status (delivered, returned, cancelled; the highest rank) is not undone by a
    /// later non-final event: on a merged timeline those come from another leg, e.g. a
    /// first-leg carrier still scanning a parcel whose order the main carrier has cancelled.
    #[must_use]
    pub fn latest(&self) -> Option<&TrackingEvent> {
        self.events
            .iter()
            .filter_map(|e| ProgressKey::of(e).map(|k| (k, e)))
            .max_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)))
            .map(|(_, e)| e)
    }

    /// The parcel's current status: [`Timeline::latest`]'s status; `Unknown` when every
    /// event is unknown; `Pending` when there are no events yet.
    #[must_use]
    pub fn current_status(&self) -> TrackingStatus {
        self.current().status
    }

    /// The parcel's current milestone: [`Timeline::latest`]'s; `Unknown` when every event
    /// is unknown; `Announced` when there are no events yet.
    #[must_use]
    pub fn current_milestone(&self) -> Milestone {
        self.current().milestone
    }

    /// The current status and milestone together.
    #[must_use]
    pub fn current(&self) -> Step {
        match (self.latest(), self.events.is_empty()) {
            (Some(e), _) => Step { status: e.status, milestone: e.milestone() },
            (None, true) => {
                Step { status: TrackingStatus::Pending, milestone: Milestone::Announced }
            }
            (None, false) => {
                Step { status: TrackingStatus::Unknown, milestone: Milestone::Unknown }
            }
        }
    }

    /// The parcel's derived state after each event in timeline order, consecutive repeats
    /// collapsed: what a person reading the timeline top to bottom saw the parcel do.
    #[must_use]
    pub fn progress(&self) -> Vec<Step> {
        let mut steps: Vec<Step> = Vec::new();
        let mut best: Option<(ProgressKey<'_>, &TrackingEvent)> = None;
        for e in &self.events {
            if let Some(k) = ProgressKey::of(e)
                && best.is_none_or(|(bk, be)| (k, e) > (bk, be))
            {
                best = Some((k, e));
            }
            let step = match best {
                Some((_, b)) => Step { status: b.status, milestone: b.milestone() },
                None => Step { status: TrackingStatus::Unknown, milestone: Milestone::Unknown },
            };
            if steps.last() != Some(&step) {
                steps.push(step);
            }
        }
        steps
    }

    /// True once the current status is final.
    #[must_use]
    pub fn is_terminal(&self) -> bool {
        self.current_status().is_terminal()
    }

    fn resolve_with(&self, event: &TrackingEvent, inferred: Option<&LocalZone>) -> Resolved {
        let configured = self
            .configured
            .iter()
            .find(|(c, _)| *c == event.carrier)
            .and_then(|(_, name)| LocalZone::named(name, ZoneSource::Configured));
        event.occurred_at.resolve(configured.as_ref().or(inferred))
    }

    /// Oldest first by resolved instant; ties broken by carrier, tracking number, raw status,
    /// then the event's total order, so the result is a total order independent of input order.
    fn reorder(&mut self) {
        let inferred = self.inferred_zone();
        let mut keyed: Vec<(Timestamp, TrackingEvent)> = std::mem::take(&mut self.events)
            .into_iter()
            .map(|e| (self.resolve_with(&e, inferred.as_ref()).at, e))
            .collect();
        keyed.sort_by(|(ta, a), (tb, b)| {
            ta.cmp(tb)
                .then_with(|| a.carrier.cmp(&b.carrier))
                .then_with(|| a.tracking_number.cmp(&b.tracking_number))
                .then_with(|| a.raw_status.cmp(&b.raw_status))
                .then_with(|| a.cmp(b))
        });
        self.events = keyed.into_iter().map(|(_, e)| e).collect();
    }
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
            let resolved = t.resolved();
            prop_assert!(resolved.windows(2).all(|w| w[0].1.at <= w[1].1.at));
            // Every kept copy is the greatest of its key's copies.
            for kept in t.events() {
                let best = events.iter().filter(|e| EventKey::of(e) == EventKey::of(kept)).max().unwrap();
                prop_assert_eq!(kept, best);
            }
        }

        #[test]
        fn current_is_the_newest_of_the_highest_rank(events in proptest::collection::vec(event(), 1..30)) {
            let t = Timeline::from_events(events);
            let top = t.events().iter().filter_map(|e| e.milestone().rank()).max();
            let expected = match top {
                Some(top) => {
                    let newest = t
                        .events()
                        .iter()
                        .filter(|e| e.milestone().rank() == Some(top))
                        .max_by_key(|e| (e.occurred_at.sort_key(), e.carrier.clone(), e.tracking_number.clone(), e.raw_status.clone()))
                        .unwrap();
                    newest.status
                }
                None => TrackingStatus::Unknown,
            };
            prop_assert_eq!(t.current_status(), expected);
            // Forward only: the state after each event never drops a rank.
            let steps = t.progress();
            prop_assert!(steps.windows(2).all(|w| w[0].milestone.rank() <= w[1].milestone.rank() || w[0].milestone == Milestone::Unknown));
            prop_assert_eq!(steps.last().copied(), Some(t.current()));
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

    fn at_sydney_hub(utc: &str) -> TrackingEvent {
        let mut e = TrackingEvent::new(
            CarrierId::from_static("starmile"),
            TrackingNumber::parse("STM1").unwrap(),
            EventTime::exact(utc.parse().unwrap(), Some("Australia/Sydney".into())),
            "received_at_hub",
            TrackingStatus::InTransit,
        );
        e.milestone = Some(Milestone::AtOriginHub);
        e
    }

    fn first_leg(local: &str, raw: &str, status: TrackingStatus) -> TrackingEvent {
        TrackingEvent::new(
            CarrierId::from_static("starshipit"),
            TrackingNumber::parse("WB1").unwrap(),
            EventTime::Local { at: local.parse().unwrap() },
            raw,
            status,
        )
    }

    #[test]
    fn local_times_are_read_in_the_zone_of_the_parcels_hub_events() {
        // 10:30 in Sydney is 00:30 UTC: before the hub's 05:00 UTC receipt, although its
        // wall clock, read as UTC, is later.
        let scan = first_leg("2026-06-20T10:30:00", "In Transit", TrackingStatus::InTransit);
        let hub = at_sydney_hub("2026-06-20T05:00:00Z");
        let t = Timeline::from_events([hub.clone(), scan.clone()]);
        assert_eq!(t.events(), &[scan.clone(), hub.clone()]);
        let (_, r) = &t.resolved()[0];
        assert_eq!(r.source, ZoneSource::Inferred);
        assert_eq!(r.zone_name, "Australia/Sydney");
        assert_eq!(r.at.to_string(), "2026-06-20T00:30:00Z");
        // Without a zoned event the wall clock is read as UTC, and says so.
        let alone = Timeline::from_events([scan.clone()]);
        assert_eq!(alone.resolved()[0].1.source, ZoneSource::Assumed);
        // A configured zone wins over the inferred one (Auckland: 22:30 UTC the day before).
        let mut t = t;
        assert!(t.set_local_zone(&scan.carrier, "Pacific/Auckland"));
        assert!(!t.set_local_zone(&scan.carrier, "Mars/Olympus"));
        let (_, r) = &t.resolved()[0];
        assert_eq!(
            (r.source, r.at.to_string().as_str()),
            (ZoneSource::Configured, "2026-06-19T22:30:00Z")
        );
        // Stored values are never rewritten.
        assert_eq!(t.events()[0].occurred_at, scan.occurred_at);
    }

    #[test]
    fn a_stale_first_leg_scan_does_not_move_the_parcel_back() {
        let hub = at_sydney_hub("2026-06-20T05:00:00Z");
        let mut dispatched =
            first_leg("2026-06-20T16:00:00", "Delivered", TrackingStatus::InTransit);
        dispatched.milestone = Some(Milestone::InTransit);
        let t = Timeline::from_events([hub.clone(), dispatched]);
        assert_eq!(t.current_milestone(), Milestone::AtOriginHub);
        assert!(t.progress().windows(2).all(|w| !w[0].is_backward_to(w[1])));
    }

    #[test]
    fn documented_loops_are_not_backward_steps() {
        use Milestone as M;
        use TrackingStatus as S;
        let step = |status, milestone| Step { status, milestone };
        let ofd = step(S::OutForDelivery, M::OutForDelivery);
        let failed = step(S::AttemptFailed, M::OutForDelivery);
        let hold = step(S::CustomsHold, M::Customs);
        let released = step(S::InTransit, M::Customs);
        let exception = step(S::Exception, M::AtOriginHub);
        let hub = step(S::InTransit, M::AtOriginHub);
        assert!(!failed.is_backward_to(ofd));
        assert!(!failed.is_backward_to(step(S::AvailableForPickup, M::AtPickupPoint)));
        assert!(!hold.is_backward_to(released));
        assert!(!exception.is_backward_to(hub));
        assert!(!hub.is_backward_to(step(S::InTransit, M::Linehaul)));
        assert!(step(S::InTransit, M::Linehaul).is_backward_to(hub));
        assert!(ofd.is_backward_to(step(S::InTransit, M::OutForDelivery)));
        assert!(
            step(S::InTransit, M::AtOriginHub).is_backward_to(step(S::InTransit, M::LabelCreated))
        );
    }
}

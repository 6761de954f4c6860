//! What a carrier adapter says about itself: its id, the name people read, and which leg of a
//! parcel's journey it reports. Central code (store, engine, server) reads this metadata
//! instead of naming carriers.

use serde::Serialize;

use crate::{CarrierId, MerchantTrackingNumber, Milestone, TrackingEvent, TrackingStatus};

/// Which part of a parcel's journey a carrier reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Leg {
    /// The merchant's own carrier taking the parcel to the main carrier's warehouse. Its
    /// tracking number is the parcel's merchant tracking number, and its "delivered" is a
    /// hand-over, not the parcel's delivery.
    First,
    /// The carrier that owns the journey to the recipient: its final statuses are final.
    Main,
}

/// A carrier's words for people, from its generated status map: a sentence for each raw
/// status and reason code it documents (what happened, and what to do when it needs action).
#[derive(Clone, Copy)]
pub struct Vocabulary {
    /// The sentence for a raw status; `None` for a value the table does not know.
    pub describe: fn(&str) -> Option<&'static str>,
    /// The sentence for a reason code given with a raw status; `None` when unknown.
    pub describe_reason: fn(&str, &str) -> Option<&'static str>,
}

impl Vocabulary {
    /// A vocabulary that knows no words (tests, carriers without a table).
    pub const NONE: Vocabulary = Vocabulary { describe: |_| None, describe_reason: |_, _| None };
}

impl std::fmt::Debug for Vocabulary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vocabulary")
    }
}

impl PartialEq for Vocabulary {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::fn_addr_eq(self.describe, other.describe)
            && std::ptr::fn_addr_eq(self.describe_reason, other.describe_reason)
    }
}

impl Eq for Vocabulary {}

/// A carrier's metadata, exported by its adapter (`waybill_starmile::carrier()`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CarrierInfo {
    /// The stable slug events and metrics are labelled with.
    pub id: CarrierId,
    /// The name shown to people, e.g. "Starmile".
    pub display_name: &'static str,
    /// The leg of the journey it reports.
    pub leg: Leg,
    /// Its sentences for raw statuses and reasons.
    #[serde(skip)]
    pub vocabulary: Vocabulary,
    /// The IANA zone its offset-less times are read in, when configured (else inferred; see
    /// [`Timeline::set_local_zone`](crate::Timeline::set_local_zone)).
    pub local_zone: Option<String>,
}

impl CarrierInfo {
    /// Metadata with no vocabulary and no configured zone.
    #[must_use]
    pub const fn new(id: CarrierId, display_name: &'static str, leg: Leg) -> Self {
        Self { id, display_name, leg, vocabulary: Vocabulary::NONE, local_zone: None }
    }

    /// A sentence for people about an event: its raw status's, followed by its reason's.
    #[must_use]
    pub fn explain(&self, event: &TrackingEvent) -> Option<String> {
        let status = (self.vocabulary.describe)(&event.raw_status);
        let reason = event
            .reason
            .as_ref()
            .and_then(|r| (self.vocabulary.describe_reason)(&event.raw_status, &r.code));
        match (status, reason) {
            (Some(s), Some(r)) => Some(format!("{s} {r}")),
            (Some(s), None) => Some(s.to_owned()),
            (None, Some(r)) => Some(r.to_owned()),
            (None, None) => None,
        }
    }

    /// An event of this carrier as it joins a parcel's merged timeline (see [`Leg`]).
    ///
    /// A first leg ends at the main carrier's hub, so its last-mile statuses (out for
    /// delivery, at a pickup point, a failed attempt, delivered) are steps of the way there:
    /// they become `in_transit` at milestone `in_transit` (raw status and description kept),
    /// so a parcel is never shown delivered, or treated as final, before the main carrier says
    /// so, and never moves back when the hub takes over. Its tracking number names the
    /// parcel's merchant tracking number when the event does not say otherwise. Main-leg
    /// events pass unchanged.
    ///
    /// ```
    /// # use waybill_domain::*;
    /// let first = CarrierInfo::new(CarrierId::from_static("courier"), "Courier", Leg::First);
    /// let at = EventTime::Local { at: "2026-06-20T10:00:00".parse()? };
    /// let e = TrackingEvent::new(first.id.clone(), TrackingNumber::parse("TRK-1")?, at,
    ///     "Delivered", TrackingStatus::Delivered);
    /// let joined = first.join(e);
    /// assert_eq!(joined.status, TrackingStatus::InTransit);
    /// assert_eq!(joined.raw_status, "Delivered");
    /// assert_eq!(joined.milestone(), Milestone::InTransit);
    /// assert_eq!(joined.merchant_tracking_number.map(|m| m.to_string()).as_deref(), Some("TRK-1"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn join(&self, mut event: TrackingEvent) -> TrackingEvent {
        if self.leg == Leg::First {
            use TrackingStatus as S;
            if matches!(
                event.status,
                S::OutForDelivery | S::AvailableForPickup | S::AttemptFailed | S::Delivered
            ) {
                event.status = S::InTransit;
                event.milestone = Some(Milestone::InTransit);
            }
            if event.merchant_tracking_number.is_none() {
                event.merchant_tracking_number =
                    MerchantTrackingNumber::parse(event.tracking_number.as_str()).ok();
            }
        }
        event
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EventTime, TrackingNumber};

    fn event(status: TrackingStatus) -> TrackingEvent {
        let at = EventTime::Local { at: "2026-06-20T10:00:00".parse().unwrap() };
        TrackingEvent::new(
            CarrierId::from_static("x"),
            TrackingNumber::parse("T1").unwrap(),
            at,
            "raw",
            status,
        )
    }

    #[test]
    fn only_a_first_leg_delivery_is_a_hand_over() {
        let first = CarrierInfo::new(CarrierId::from_static("x"), "X", Leg::First);
        let main = CarrierInfo { leg: Leg::Main, ..first.clone() };
        assert_eq!(first.join(event(TrackingStatus::Delivered)).status, TrackingStatus::InTransit);
        assert_eq!(first.join(event(TrackingStatus::Exception)).status, TrackingStatus::Exception);
        assert_eq!(
            first.join(event(TrackingStatus::AttemptFailed)).status,
            TrackingStatus::InTransit
        );
        assert_eq!(main.join(event(TrackingStatus::Delivered)).status, TrackingStatus::Delivered);
        assert!(main.join(event(TrackingStatus::Delivered)).merchant_tracking_number.is_none());
    }
}

//! What a carrier adapter says about itself: its id, the name people read, and which leg of a
//! parcel's journey it reports. Central code (store, engine, server) reads this metadata
//! instead of naming carriers.

use serde::Serialize;

use crate::{CarrierId, MerchantTrackingNumber, TrackingEvent, TrackingStatus};

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

/// A carrier's metadata, exported by its adapter (`waybill_starmile::CARRIER`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CarrierInfo {
    /// The stable slug events and metrics are labelled with.
    pub id: CarrierId,
    /// The name shown to people, e.g. "Starmile".
    pub display_name: &'static str,
    /// The leg of the journey it reports.
    pub leg: Leg,
}

impl CarrierInfo {
    /// An event of this carrier as it joins a parcel's merged timeline (see [`Leg`]).
    ///
    /// A first-leg carrier's "delivered" becomes `in_transit` (raw status and description
    /// kept), so a parcel is never shown delivered, or treated as final, before the main
    /// carrier says so; and its tracking number names the parcel's merchant tracking number
    /// when the event does not say otherwise. Main-leg events pass unchanged.
    ///
    /// ```
    /// # use waybill_domain::*;
    /// let first = CarrierInfo { id: CarrierId::from_static("courier"), display_name: "Courier", leg: Leg::First };
    /// let at = EventTime::Local { at: "2026-06-20T10:00:00".parse()? };
    /// let e = TrackingEvent::new(first.id.clone(), TrackingNumber::parse("TRK-1")?, at,
    ///     "Delivered", TrackingStatus::Delivered);
    /// let joined = first.join(e);
    /// assert_eq!(joined.status, TrackingStatus::InTransit);
    /// assert_eq!(joined.raw_status, "Delivered");
    /// assert_eq!(joined.merchant_tracking_number.map(|m| m.to_string()).as_deref(), Some("TRK-1"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn join(&self, mut event: TrackingEvent) -> TrackingEvent {
        if self.leg == Leg::First {
            if event.status == TrackingStatus::Delivered {
                event.status = TrackingStatus::InTransit;
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
        let first =
            CarrierInfo { id: CarrierId::from_static("x"), display_name: "X", leg: Leg::First };
        let main = CarrierInfo { leg: Leg::Main, ..first.clone() };
        assert_eq!(first.join(event(TrackingStatus::Delivered)).status, TrackingStatus::InTransit);
        assert_eq!(first.join(event(TrackingStatus::Exception)).status, TrackingStatus::Exception);
        assert_eq!(main.join(event(TrackingStatus::Delivered)).status, TrackingStatus::Delivered);
        assert!(main.join(event(TrackingStatus::Delivered)).merchant_tracking_number.is_none());
    }
}

//! How the two carriers meet on one parcel's journey.
//!
//! StarShipIT reports the **first leg**: the merchant's carrier taking the parcel to a
//! Starmile warehouse (its tracking number is the parcel's merchant tracking number). When
//! that carrier says "Delivered", the parcel has been *handed over* to Starmile, not delivered
//! to its recipient; Starmile's pool carries the journey on from there. So a first-leg
//! delivery joins the merged timeline as `in_transit`, with its raw status ("Delivered") and
//! description kept, and a parcel is never shown delivered, or treated as final, before
//! Starmile says so.

use waybill_domain::{TrackingEvent, TrackingStatus};

/// A first-leg carrier's event as it joins a parcel's merged timeline.
///
/// ```
/// # use waybill_domain::*;
/// let at = EventTime::Local { at: "2026-06-20T10:00:00".parse()? };
/// let e = TrackingEvent::new(waybill_starshipit::CARRIER_ID, TrackingNumber::parse("TRK-1")?, at,
///     "Delivered", TrackingStatus::Delivered);
/// let joined = waybill::legs::first_leg(e);
/// assert_eq!(joined.status, TrackingStatus::InTransit);
/// assert_eq!(joined.raw_status, "Delivered");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub fn first_leg(mut event: TrackingEvent) -> TrackingEvent {
    if event.status == TrackingStatus::Delivered {
        event.status = TrackingStatus::InTransit;
    }
    event
}

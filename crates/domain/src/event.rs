//! One tracking event as a carrier reported it, in domain terms.

use serde::{Deserialize, Serialize};

use crate::{
    CarrierId, CountryCode, EventTime, MerchantTrackingNumber, Milestone, TrackingNumber,
    TrackingStatus,
};

/// A carrier's reason for a status (e.g. Starmile's `customer_absent` on `delivery_failed`).
/// Codes are only ever added by carriers, so unknown codes are kept as text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Reason {
    /// The machine-readable code.
    pub code: String,
    /// Free text that came with it.
    pub detail: Option<String>,
}

/// A tracking event: what a carrier saw, when, and where, with its raw status kept beside the
/// unified one so no information is lost in translation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TrackingEvent {
    /// Which carrier reported it.
    pub carrier: CarrierId,
    /// The carrier's tracking number the event is about.
    pub tracking_number: TrackingNumber,
    /// The parcel's merchant tracking number, when the source names it.
    pub merchant_tracking_number: Option<MerchantTrackingNumber>,
    /// When it happened.
    pub occurred_at: EventTime,
    /// The time exactly as the carrier wrote it, when it came as text.
    pub raw_time: Option<String>,
    /// The carrier's own status text.
    pub raw_status: String,
    /// The unified status the raw status maps to.
    pub status: TrackingStatus,
    /// The milestone the raw status maps to, when the source's table gave one (read it with
    /// [`TrackingEvent::milestone`], which falls back to the status's coarse milestone for
    /// events stored before milestones existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub milestone: Option<Milestone>,
    /// The carrier's reason code and detail, when given.
    pub reason: Option<Reason>,
    /// Human description, e.g. "Departed Facility in MELBOURNE".
    pub description: Option<String>,
    /// Place name, when given.
    pub location: Option<String>,
    /// Country of the place, when given.
    pub country: Option<CountryCode>,
    /// The source's own id for the event (e.g. the Starmile pool cursor).
    pub source_id: Option<String>,
    /// The carrier that physically handles this leg, as the source names it (StarShipIT's
    /// `carrier_name`, e.g. "Australia Post"), when it differs from the reporting platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier_name: Option<String>,
    /// A public tracking page for this leg, as the source gave it (StarShipIT's `tracking_url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_url: Option<String>,
    /// Every other field the source carried that the fields above do not hold (e.g. a webhook's
    /// `order_number`, `shipment_date`), by the source's own field name, kept as text so nothing
    /// is lost in translation.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub extra: std::collections::BTreeMap<String, String>,
}

impl TrackingEvent {
    /// A minimal event; set the optional fields directly.
    ///
    /// ```
    /// # use waybill_domain::*;
    /// let e = TrackingEvent::new(CarrierId::from_static("starmile"), TrackingNumber::parse("STM1")?,
    ///     EventTime::exact("2026-06-20T09:14:00Z".parse()?, None), "delivered", TrackingStatus::Delivered);
    /// assert_eq!(e.raw_status, "delivered");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn new(
        carrier: CarrierId,
        tracking_number: TrackingNumber,
        occurred_at: EventTime,
        raw_status: impl Into<String>,
        status: TrackingStatus,
    ) -> Self {
        Self {
            carrier,
            tracking_number,
            merchant_tracking_number: None,
            occurred_at,
            raw_time: None,
            raw_status: raw_status.into(),
            status,
            milestone: None,
            reason: None,
            description: None,
            location: None,
            country: None,
            source_id: None,
            carrier_name: None,
            tracking_url: None,
            extra: std::collections::BTreeMap::new(),
        }
    }

    /// The event's milestone: the one its source mapped, else the coarse reading of its
    /// unified status ([`Milestone::from_status`]).
    #[must_use]
    pub fn milestone(&self) -> Milestone {
        self.milestone.unwrap_or_else(|| Milestone::from_status(self.status))
    }
}

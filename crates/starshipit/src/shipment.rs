//! What a `/api/track` lookup returns in domain terms, plus the StarShipIT-only details the
//! domain [`Shipment`] has no field for (order status, shipment date, last update). A scan
//! whose time could not be read is in [`Shipment::events`] with an
//! [`EventTime::Unknown`] time.

use serde::{Deserialize, Serialize};
use waybill_domain::{EventTime, Shipment};

/// One shipment from `/api/track`: the domain [`Shipment`] and StarShipIT's extra fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackedShipment {
    /// The shipment in domain terms (tracking number, carrier, status, events).
    pub shipment: Shipment,
    /// StarShipIT's order status as sent ("Unshipped", "Shipped", "Delivered", ...).
    pub order_status: Option<String>,
    /// When the shipment was picked up (`shipment_date`), raw text kept.
    pub shipment_date: Option<StampedTime>,
    /// The carrier's last update (`last_updated_date`), raw text kept.
    pub last_updated: Option<StampedTime>,
}

/// A parsed time with the exact text it came from (StarShipIT's digit counts vary, so the
/// raw string is the only lossless record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StampedTime {
    /// The text as received, e.g. `2017-04-12T13:17:40.5931835`.
    pub raw: String,
    /// The parsed time (local when the text had no offset); `None` when the text is not a
    /// time StarShipIT writes (kept raw, never guessed).
    pub time: Option<EventTime>,
}

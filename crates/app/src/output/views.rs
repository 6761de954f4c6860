//! The `--json` shapes of the CLI. They are the HTTP API's own types
//! ([`waybill_server::model`]), re-exported so one model serves both surfaces; the few CLI-only
//! results (a live lookup, a sync report, a config summary) are defined here with the same
//! field names for the same things.

use serde::Serialize;
use waybill_domain::Shipment;
pub use waybill_server::model::{
    CreatedOrder, EventView, OrderView, RateCardView, ServiceView, Status, TimelineView,
};

/// A live tracking lookup's shipment (`waybill track --json`), its events in the API's
/// [`EventView`] shape.
#[derive(Debug, Clone, Serialize)]
pub struct ShipmentView {
    /// The tracking number.
    pub tracking_number: String,
    /// The merchant's order number, when given.
    pub order_number: Option<String>,
    /// The carrier's display name.
    pub carrier_name: Option<String>,
    /// The carrier's service code.
    pub carrier_service: Option<String>,
    /// The platform's latest raw status.
    pub raw_status: Option<String>,
    /// The unified latest status.
    pub status: Status,
    /// A public tracking URL, when given.
    pub tracking_url: Option<String>,
    /// Events, oldest first.
    pub events: Vec<EventView>,
}

impl From<&Shipment> for ShipmentView {
    fn from(s: &Shipment) -> Self {
        Self {
            tracking_number: s.tracking_number.to_string(),
            order_number: s.order_number.clone(),
            carrier_name: s.carrier_name.clone(),
            carrier_service: s.carrier_service.clone(),
            raw_status: s.raw_status.clone(),
            status: s.status.into(),
            tracking_url: s.tracking_url.clone(),
            events: s.events.iter().map(EventView::from).collect(),
        }
    }
}

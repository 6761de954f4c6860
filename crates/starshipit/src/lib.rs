//! A typed, rate-limited client for the StarShipIT tracking API (`GET /api/track`), with a
//! faithful in-process emulator behind the `sandbox` feature.
//!
//! - [`StarshipitClient`] tracks by tracking number or order number, paces itself per
//!   subscription key so it never trips the gateway's limit, retries what is safe to retry
//!   ([`retry`]), reads JSON or XML, and speaks domain types ([`waybill_domain::Shipment`]);
//!   it implements the domain [`Tracker`](waybill_domain::Tracker) port.
//! - [`time`] parses StarShipIT's time stamps without ever inventing an offset.
//! - [`webhook`] parses and verifies pushed tracking updates.
//! - [`status_map`] (generated) maps raw statuses to the unified vocabulary.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use waybill_domain::{TrackQuery, TrackingNumber};
//! let client = waybill_starshipit::StarshipitClient::builder(
//!     "https://api.starshipit.com",
//!     std::env::var("STARSHIPIT_API_KEY")?.into(),
//!     std::env::var("STARSHIPIT_SUBSCRIPTION_KEY")?.into(),
//! )
//! .build()?;
//! let query = TrackQuery::TrackingNumber(TrackingNumber::parse("0000000000")?);
//! for shipment in client.track(&query).await? {
//!     println!("{} is {}", shipment.tracking_number, shipment.status);
//! }
//! # Ok(()) }
//! ```

mod error;
mod limiter;
mod ports;
pub mod retry;
#[cfg(feature = "sandbox")]
pub mod sandbox;
mod shipment;
pub mod status_map;
pub mod time;
mod track;
mod transport;
pub mod webhook;
mod wire;
mod xml;

pub use transport::{ClientBuilder, Format, StarshipitClient};
pub use webhook::StarshipitWebhooks;

use waybill_domain::{CarrierId, CarrierInfo, Leg};

/// StarShipIT's carrier id: every event this adapter produces carries it.
pub const CARRIER_ID: CarrierId = CarrierId::from_static("starshipit");

/// StarShipIT as the app wires it: the first leg (the merchant's carrier taking the parcel to
/// the main carrier's warehouse; its tracking number is the merchant tracking number).
#[must_use]
pub fn carrier() -> CarrierInfo {
    CarrierInfo { id: CARRIER_ID, display_name: "StarShipIT", leg: Leg::First }
}
pub use error::Error;
pub use shipment::{StampedTime, TrackedShipment};
pub use time::TimeError;
pub use track::decode_track_json;
pub use webhook::{WebhookError, WebhookEvent};

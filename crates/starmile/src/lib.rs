//! A typed, resilient client for the Starmile Partner API, with a faithful sandbox.
//!
//! ```no_run
//! # async fn run() -> Result<(), waybill_starmile::Error> {
//! use waybill_starmile::{ChangesQuery, StarmileClient};
//! use waybill_domain::Cursor;
//!
//! let client = StarmileClient::builder(
//!     "https://api.starmile.io",
//!     "my-client-id",
//!     "my-secret".to_owned().into(),
//! )
//! .build()?;
//! let services = client.services().await?;
//! let page = client.changes(&ChangesQuery::since(Cursor(0))).await?;
//! # let _ = (services, page); Ok(()) }
//! ```
//!
//! # What the client does for you
//! - **Token**: `POST /oauth/token` (the spec's JSON body) on first use; cached and treated
//!   as expired 30 s early (or at half its lifetime when that is shorter); one refresh in
//!   flight no matter how many callers wait (single flight); on a 401 from an API call the
//!   client refreshes and re-sends exactly once, and a second 401 is final.
//! - **Retries**: see [`RetryPolicy`]. Reads (and token requests) are retried on network
//!   errors, 429 and 5xx; order creation is retried too, *only* because Starmile is
//!   idempotent on `external_parent_id` (a replay answers `200 duplicate:true` with the
//!   original ids); cancellation is never retried.
//! - **Errors**: one [`Error`] variant per row of Starmile's error table, 422 field errors
//!   kept, `Retry-After` parsed, and the raw body kept when an error is not JSON (a
//!   gateway's HTML 502). `impl From<Error> for CarrierError` feeds the domain ports.
//! - **Transport**: one `reqwest` connection pool per client (clones share it), rustls,
//!   `User-Agent: waybill-starmile/<version>`, timeouts; an `http://` base URL is refused
//!   unless its host is loopback.
//!
//! # Catalogue shapes
//! `GET /api/v1/services` answers `{"data":[{"id":5,"name":"Standard","flow_key":
//! "cb3_cross_border_terminal_hd","flow_label":…,"family":"cross_border","variant":…,
//! "scope":…,"org_country_id":…,"flow_definition_id":…}]}`. Starmile's record shows no
//! field names for rates, so waybill uses (and its sandbox serves) this shape, one entry per
//! service and corridor, tiers ascending, prices as decimal strings in the entry's
//! ISO-4217 currency, `max_weight_grams` inclusive:
//!
//! ```json
//! {"data":[{"service_id":7,"origin":"AU","destination":"NZ","currency":"AUD",
//!           "tiers":[{"max_weight_grams":500,"price":"9.50"},
//!                    {"max_weight_grams":2000,"price":"18.00"}]}]}
//! ```
//!
//! # Joining pool rows to merchant tracking numbers
//! Pool rows name a parcel by Starmile's tracking number and by `external_id`, the
//! partner's *item reference*. [`StarmileClient::create_order`] sends every item's `item_id`
//! equal to its merchant tracking number, so on parcel rows `external_id` *is* the merchant
//! tracking number: the feed fills [`TrackingEvent::merchant_tracking_number`] from it, and
//! the returned [`Order`] maps each parcel's Starmile tracking number to its merchant
//! tracking number. Orders created by other tools with different item ids still decode;
//! their `external_id` is kept in [`FeedItem::item_ref`].
//!
//! # Pool times
//! A row's naive `occurred_at` plus its IANA `timezone` becomes
//! [`EventTime::Exact`] with the zone kept. A zone name this machine's time-zone database
//! does not know (or a null zone) gives [`EventTime::Local`] — never a guessed UTC — rather
//! than an error, because one undecodable row would otherwise block the whole feed (the
//! cursor could never move past it). A missing or malformed `occurred_at` is a
//! [`Error::Decode`] naming the row's cursor.
//!
//! # Wire types
//! The JSON shapes are handwritten, private serde types (`wire` module), not generated:
//! the surface is six small shapes, decoding must be tolerant (every pool key may be null,
//! unknown keys appear as the API grows, two create-body generations exist), and errors
//! need a raw-body path that no generated model provides.
//!
//! [`TrackingEvent::merchant_tracking_number`]: waybill_domain::TrackingEvent::merchant_tracking_number
//! [`Order`]: waybill_domain::Order
//! [`FeedItem::item_ref`]: waybill_domain::FeedItem::item_ref
//! [`EventTime::Exact`]: waybill_domain::EventTime::Exact
//! [`EventTime::Local`]: waybill_domain::EventTime::Local

mod catalog;
mod error;
mod feed;
mod orders;
mod ports;
mod retry;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod status_map;
mod token;
mod transport;
mod wire;

pub use transport::{ClientBuilder, StarmileClient};

use waybill_domain::{CarrierId, CarrierInfo, Leg};

/// Starmile's carrier id: every event this adapter produces carries it.
pub const CARRIER_ID: CarrierId = CarrierId::from_static("starmile");

/// Starmile as the app wires it: the main leg (warehouse, border, delivery to the recipient).
#[must_use]
pub fn carrier() -> CarrierInfo {
    CarrierInfo { id: CARRIER_ID, display_name: "Starmile", leg: Leg::Main }
}
pub use error::Error;
pub use feed::{ChangesQuery, decode_changes_page};
pub use retry::{Outcome, RequestKind, RetryPolicy, parse_retry_after};

/// The `User-Agent` the client sends unless told otherwise.
pub const USER_AGENT: &str = concat!("waybill-starmile/", env!("CARGO_PKG_VERSION"));

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
//!   original ids); cancellation, parcel changes and inbound events are never retried
//!   unless the caller opts in for that call with [`StarmileClient::retry`] and a [`Retry`]
//!   (the official SDK's `retry(times, sleep, when)`).
//! - **Errors**: one [`Error`] variant per row of Starmile's error table, 422 field errors
//!   kept, `Retry-After` parsed, and the raw body kept when an error is not JSON (a
//!   gateway's HTML 502). `impl From<Error> for CarrierError` feeds the domain ports.
//! - **Transport**: one `reqwest` connection pool per client (clones share it), rustls,
//!   `User-Agent: waybill-starmile/<version>`, timeouts; an `http://` base URL is refused
//!   unless its host is loopback.
//!
//! # The v1 partner API, as waybill understands it
//! From the spec, the contract notes and the official PHP SDK's README, changelog and unit
//! tests (read, not copied). Every call carries `Authorization: Bearer`, answers JSON
//! (`{"data": …}` for resources) unless said otherwise, and refuses a token without the
//! route's scope with 403; another partner's reference is 404, never 403. `{order}` and
//! `{item}` in paths are the partner's own references (`order_id` / `external_parent_id`,
//! and a parcel's `item_id`), percent-encoded per segment.
//!
//! | route | scope | body → answer |
//! |---|---|---|
//! | `POST /oauth/token` | — | client credentials (JSON, form or HTTP Basic) → `{access_token, expires_in}`; 401 bad credentials, 400 unknown grant or scope |
//! | `GET /api/v1/services`, `/rates` | `catalogue:read` | → the catalogue (shapes below) |
//! | `POST /api/v1/orders` | `orders:create` | an order (two generations, below) → 201 `{order_id, duplicate:false, region_status, items:[{item_id, parcel_id}]}`; the same reference again → 200 `duplicate:true` with the original ids, the rest of the body ignored |
//! | `POST /api/v1/orders/{order}/cancel` | `orders:cancel` | `{reason?}` → 200; 409 once a parcel is in custody |
//! | `PATCH /api/v1/orders/{order}/parcels/{item}` | `orders:update` | any of `merchant_tracking`, `package_type`, `weight_grams`, `length_mm`, `width_mm`, `height_mm`, `products[]` (replaces the list) → 200 `{order_id, item:{item_id, parcel_id, merchant_tracking, status, …}}`; 409 once received |
//! | `POST /api/v1/orders/{order}/parcels` | `orders:update` | one parcel, `products` required → 201 `{order_id, item}`; the new parcel starts its own lifecycle; 409 on a cancelled order |
//! | `POST /api/v1/orders/{order}/parcels/{item}/cancel` | `orders:cancel` | `{reason?}` → 200 `{order_id, order_status, item}`; the order is cancelled with its last active parcel; 409 once received or already cancelled |
//! | `POST /api/v1/orders/{order}/parcels/{item}/split` | `orders:update` | `{new_order_id, reason?}` → 201 `{order_id (the new order's), new_order_id, source_order_id, item}`; the parcel keeps its tracking number; 409 single-parcel, received or cancelled; 422 `new_order_id` taken or equal to `{order}` |
//! | `GET /api/v1/orders/label?merchant_tracking=…` \| `parcel_id=…` \| `order_id=…` | `labels:read` | → `application/pdf` bytes (one parcel, or the order's own label) |
//! | `GET /api/v1/partner/changes` | `status:read` | the status pool (see `feed`) |
//! | `POST /api/v1/partner/events` | by family: `shipment.*` `events:transport`, `parcel.*` `events:pudo`, `customs.*` `events:customs`, `leg.*` `leg:handoff` | `{event_id, type, tracking_number, occurred_at?, data?}` → 200 `{result:"applied", order_status}`; a replayed `event_id` → `result:"duplicate"`; not a legal next step → 422 `{error, hint}` ([`Error::Rejected`]) |
//!
//! **Order bodies.** The spec's: `service_id`, `external_parent_id`,
//! `items[].merchant_tracking_number` (required). The record's (what the SDK sends):
//! `service_id`, `order_id`, `parcels[]` of `item_id`, `merchant_tracking` (optional),
//! `package_type` (`fragile` | `breakable` | `liquid`), `weight_grams`, `length_mm`,
//! `width_mm`, `height_mm` and `products[]` (`name`, `hs_code`, `declared_value`,
//! `currency`, `weight_grams`, `quantity`; at least one), plus the recipient
//! (`customer_name`, `customer_phone`, `customer_email`, `gov_id`; a phone or an email is
//! required since SDK 6.8), the destination (`pudo_id` | `locker_id` | home: `region` (name
//! or id), `parent_region`, `address_first`, `address_second`, `zip`; the delivery channel
//! is the service's, so a home-delivery service needs a `region`) and `shipping_cost`.
//! Validation errors name the fields of the body that was sent (`errors.order_id`,
//! `errors["parcels.0.products"]`, `errors["items.1.merchant_tracking_number"]`). An
//! `item_id` and a merchant tracking number are unique per partner across orders (422).
//! `items[].item_id` in the answer is what was sent, or null. `region_status` follows the
//! destination: `not_applicable` without a home region (pickup point, locker, or the spec's
//! minimal body), `mapped` when the home region is known, `pending_mapping` otherwise
//! (accepted; do not resend).
//!
//! This client sends the spec's body, each item with `item_id` = its merchant tracking
//! number, and adds the record's fields when the [`OrderRequest`] is a full order
//! ([`OrderRequest::with_shipment`]). Parcels are addressed by that item id.
//!
//! **Inbound events.** [`EventType`] lists the 18 types with their scope and accepted `data`
//! fields (every type also takes `note`); [`InboundEvent`] refuses an unknown type or field
//! before anything is sent.
//!
//! **Not here: `/api/v2`.** A separate contract: `items[]` instead of `parcels[]`, items
//! without a Starmile tracking number of their own (addressed by `item_id` or
//! `merchant_tracking`), the order's Starmile number answered as `tracking_number` and the
//! partner's reference echoed as `order_id`, single-item orders folded into the order (no
//! add/split), and a status pool with its own cursor space. A v1 cursor means nothing on v2;
//! one integration uses one version.
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
//! # Layout
//! The canonical adapter shape (the same module names in every adapter): `transport`
//! (builder, token hookup, send with retries), one module per capability — `catalog`
//! (services, rates), `orders` (create, cancel), `parcels` (update, add, cancel, split),
//! `labels` (PDFs), `events` (inbound events), `feed` (the status pool: page, stream,
//! row decoding) — `ports` (the domain port impls), `error`, `retry` (Starmile's policy),
//! `token` (the single-flight token cache), `wire` (private wire types), `status_map`
//! (generated by `cargo xtask codegen`) and `sandbox`. What every adapter shares
//! (`Retry-After` parsing, [`Outcome`], the https-or-loopback rule, body truncation,
//! jitter) lives once in `waybill-kit`.
//!
//! [`TrackingEvent::merchant_tracking_number`]: waybill_domain::TrackingEvent::merchant_tracking_number
//! [`Order`]: waybill_domain::Order
//! [`OrderRequest`]: waybill_domain::OrderRequest
//! [`OrderRequest::with_shipment`]: waybill_domain::OrderRequest::with_shipment
//! [`FeedItem::item_ref`]: waybill_domain::FeedItem::item_ref
//! [`EventTime::Exact`]: waybill_domain::EventTime::Exact
//! [`EventTime::Local`]: waybill_domain::EventTime::Local

mod catalog;
mod error;
mod events;
mod feed;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod labels;
mod orders;
mod parcels;
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
    CarrierInfo {
        vocabulary: status_map::VOCABULARY,
        ..CarrierInfo::new(CARRIER_ID, "Starmile", Leg::Main)
    }
}
pub use error::Error;
pub use events::{EventError, EventOutcome, EventType, InboundEvent};
pub use feed::{ChangesQuery, decode_changes_page};
pub use retry::{Outcome, RequestKind, Retry, RetryPolicy, RetryWhen, parse_retry_after};

/// The `User-Agent` the client sends unless told otherwise.
pub const USER_AGENT: &str = concat!("waybill-starmile/", env!("CARGO_PKG_VERSION"));

//! The pure domain model of waybill: parsed identifiers, money and weight, services and rate
//! cards, orders, the unified tracking vocabulary, timelines, and the ports every carrier
//! adapter implements.
//!
//! This crate performs no I/O and depends on no HTTP, runtime, database or server crate; that
//! rule is checked by `cargo xtask ci` (the tidy test). Values are *parsed* at the boundary:
//! a `TrackingNumber` you hold is already known to be well formed.
//!
//! ```
//! use waybill_domain::{TrackingNumber, TrackingStatus};
//! let number = TrackingNumber::parse("STM000124")?;
//! assert_eq!(number.as_str(), "STM000124");
//! assert!(TrackingStatus::Delivered.is_terminal());
//! # Ok::<(), waybill_domain::ParseError>(())
//! ```

mod carrier;
mod error;
mod event;
mod ids;
mod milestone;
mod money;
mod order;
mod parcels;
mod ports;
pub mod present;
mod service;
mod shipment;
mod status;
mod time;
mod timeline;
mod webhook;
mod weight;

pub use carrier::{CarrierInfo, Leg, Vocabulary};
pub use error::{CarrierError, FieldErrors};
pub use event::{Reason, TrackingEvent};
pub use ids::{
    CarrierId, CountryCode, MerchantTrackingNumber, ParseError, PartnerOrderRef, ServiceId,
    TrackingNumber,
};
pub use milestone::{Milestone, UnknownMilestoneName};
pub use money::{Currency, Money, MoneyError};
pub use order::{Order, OrderError, OrderItem, OrderParcel, OrderRequest, RegionStatus};
#[cfg(feature = "mocks")]
pub use parcels::MockParcelDesk;
pub use parcels::{LabelPdf, LabelTarget, NotPdf, ParcelCancellation, ParcelDesk, SplitOrder};
pub use ports::{
    Catalog, ChangePage, Cursor, FeedItem, OrderDesk, RequestObserver, Shipment, StatusFeed,
    TrackQuery, Tracker, UndecodedRow,
};
#[cfg(feature = "mocks")]
pub use ports::{MockCatalog, MockOrderDesk, MockStatusFeed, MockTracker};
pub use service::{QuoteError, RateCard, RateCardError, RateTier, Service};
pub use shipment::{
    AddressLine, Destination, Dimensions, Email, GovId, HomeAddress, HsCode, MAX_PRODUCTS,
    PackageType, ParcelChanges, Phone, PointId, PostalCode, Product, ProductName, Quantity,
    Recipient, RecipientName, Region, ShipmentError,
};
pub use status::{TrackingStatus, UnknownStatusName};
pub use time::{EventTime, LocalZone, Resolved, ZoneSource};
pub use timeline::{EventKey, ProgressKey, Step, Timeline};
#[cfg(feature = "mocks")]
pub use webhook::MockWebhookReceiver;
pub use webhook::{WebhookReceiver, WebhookRejection, WebhookRequest};
pub use weight::Weight;

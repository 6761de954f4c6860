//! Ports: the async traits a carrier adapter implements so the app can drive any carrier.
//! Every method returns [`CarrierError`]; each documents the variants it commonly produces.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{
    CarrierError, Order, OrderRequest, PartnerOrderRef, RateCard, Service, TrackingEvent,
    TrackingNumber, TrackingStatus,
};

/// What a partner may order and at what price.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait Catalog: Send + Sync {
    /// The services this credential may order.
    ///
    /// # Errors
    /// `Auth`/`Forbidden` for a bad or under-scoped credential; transient variants
    /// (`RateLimited`, `Unavailable`, `Transport`) after the adapter's own retries.
    async fn services(&self) -> Result<Vec<Service>, CarrierError>;

    /// The rate cards of those services.
    ///
    /// # Errors
    /// As [`Catalog::services`].
    async fn rates(&self) -> Result<Vec<RateCard>, CarrierError>;
}

/// Creating and cancelling orders.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait OrderDesk: Send + Sync {
    /// Creates an order. Replaying the same reference returns the original order with
    /// `duplicate: true` on carriers that are idempotent on it (Starmile is).
    ///
    /// # Errors
    /// `Validation` (unknown service, merchant tracking number already used), `Auth`,
    /// `Forbidden`, transient variants.
    async fn create_order(&self, request: &OrderRequest) -> Result<Order, CarrierError>;

    /// Cancels an order by the partner's reference.
    ///
    /// # Errors
    /// `NotFound` (unknown or another partner's), `Conflict` (already in custody), `Auth`,
    /// `Forbidden`, transient variants.
    async fn cancel_order(
        &self,
        reference: &PartnerOrderRef,
        reason: Option<String>,
    ) -> Result<(), CarrierError>;
}

/// A position in a carrier's change feed. The caller owns it and must persist it only after
/// the items before it are durably handled.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Cursor(pub u64);

/// One change from a feed: the event and the cursor just after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedItem {
    /// This item's cursor: persist it once the item is stored.
    pub cursor: Cursor,
    /// The partner's order reference, when the carrier gives it.
    pub reference: Option<PartnerOrderRef>,
    /// The partner's item reference (parcel-scoped rows), when given.
    pub item_ref: Option<String>,
    /// The carrier's previous raw status, when given (`None` on an order's first row).
    pub previous_status: Option<String>,
    /// The event.
    pub event: TrackingEvent,
}

/// A feed row the adapter could not decode, kept as received so nothing is lost: the page
/// it came in still commits (its cursor moves on) and the row is stored aside, raw, with
/// why it could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UndecodedRow {
    /// The row's own cursor, when even that could not be read `None`.
    pub cursor: Option<Cursor>,
    /// The row exactly as the carrier sent it (its JSON text).
    pub raw: String,
    /// Why it could not be decoded (names the field and the row's cursor).
    pub error: String,
}

/// A page of a change feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangePage {
    /// Changes, oldest first.
    pub items: Vec<FeedItem>,
    /// Rows of this page that could not be decoded, in page order (usually none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub undecoded: Vec<UndecodedRow>,
    /// The cursor to ask from next (equals the request's cursor on an empty page).
    pub next_cursor: Cursor,
    /// True when more changes are waiting: ask again right away.
    pub has_more: bool,
}

/// A pull-based feed of status changes.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait StatusFeed: Send + Sync {
    /// The changes strictly after `since`, at most `limit` (the adapter clamps it to what
    /// the carrier allows).
    ///
    /// # Errors
    /// `Auth`, `Forbidden`, `Decode` (a page whose envelope cannot be read; a row that cannot
    /// be read comes back in [`ChangePage::undecoded`] instead), transient variants.
    async fn changes(&self, since: Cursor, limit: u32) -> Result<ChangePage, CarrierError>;
}

/// What to look up on a tracking platform.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "by", content = "value", rename_all = "snake_case")]
pub enum TrackQuery {
    /// A carrier tracking number.
    TrackingNumber(TrackingNumber),
    /// The merchant's order number in their e-commerce platform.
    OrderNumber(String),
}

/// One shipment as a tracking platform reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    /// The tracking number.
    pub tracking_number: TrackingNumber,
    /// The merchant's order number, when given.
    pub order_number: Option<String>,
    /// The carrier's display name, e.g. "DHL".
    pub carrier_name: Option<String>,
    /// The carrier's service code, e.g. "P".
    pub carrier_service: Option<String>,
    /// The platform's latest raw status.
    pub raw_status: Option<String>,
    /// The unified latest status.
    pub status: TrackingStatus,
    /// A public tracking URL, when given.
    pub tracking_url: Option<String>,
    /// Events, oldest first.
    pub events: Vec<TrackingEvent>,
}

/// A tracking platform.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait Tracker: Send + Sync {
    /// The shipments matching the query (usually one).
    ///
    /// # Errors
    /// `NotFound` when nothing matches, `Auth` for bad keys, `RateLimited` when the
    /// platform's limit was hit despite pacing, other transient variants.
    async fn track(&self, query: &TrackQuery) -> Result<Vec<Shipment>, CarrierError>;
}

#[cfg(test)]
mod page_tests {
    use super::*;

    #[test]
    fn a_page_without_undecoded_rows_reads_and_writes_as_before() {
        let page: ChangePage =
            serde_json::from_str(r#"{"items":[],"next_cursor":3,"has_more":false}"#).unwrap();
        assert!(page.undecoded.is_empty());
        assert_eq!(
            serde_json::to_string(&page).unwrap(),
            r#"{"items":[],"next_cursor":3,"has_more":false}"#
        );
        let with = ChangePage {
            undecoded: vec![UndecodedRow {
                cursor: None,
                raw: "17".into(),
                error: "not a row".into(),
            }],
            ..page
        };
        let json = serde_json::to_string(&with).unwrap();
        assert_eq!(serde_json::from_str::<ChangePage>(&json).unwrap(), with);
    }
}

#[cfg(all(test, feature = "mocks"))]
mod tests {
    use super::*;

    #[tokio::test]
    async fn mocks_stand_in_for_ports() {
        let mut feed = MockStatusFeed::new();
        feed.expect_changes().returning(|since, _| {
            Ok(ChangePage { items: vec![], undecoded: vec![], next_cursor: since, has_more: false })
        });
        let feed: &dyn StatusFeed = &feed;
        let page = feed.changes(Cursor(7), 50).await.unwrap();
        assert_eq!(page.next_cursor, Cursor(7));
        assert!(!page.has_more);
    }
}

/// Hears how a carrier's rate limits treat one account's calls. An adapter's client reports
/// to the observer it was built with; the app gives each client one labelled with the
/// client's carrier and account, and the server's metrics count what it hears (carrier-
/// agnostic: nothing here names a carrier or a metric).
pub trait RequestObserver: Send + Sync {
    /// A call waited `waited` for the client-side rate limiter before it could leave (not
    /// called for calls that left at once).
    fn limiter_waited(&self, waited: std::time::Duration);

    /// The carrier answered a call with 429 Too Many Requests (each answer counts, retried
    /// or not).
    fn throttled(&self);
}

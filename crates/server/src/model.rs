//! The API's wire types. They are separate from the domain types on purpose: the HTTP contract
//! (documented by OpenAPI) stays stable while the model evolves, and the domain crate stays
//! free of server dependencies.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use waybill_domain::{
    EventTime, Milestone, Order, RateCard, Resolved, Service, Timeline, TrackingEvent,
    TrackingStatus,
};

use waybill_domain::present;
use waybill_store::{ParcelTimeline, StoredOrder, StoredParcel};

/// The unified tracking status (lifecycle order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Announced to the carrier; not received yet.
    Pending,
    /// The carrier has the parcel's data and is preparing it.
    InfoReceived,
    /// Moving between facilities.
    InTransit,
    /// Held by customs.
    CustomsHold,
    /// With a courier for final delivery.
    OutForDelivery,
    /// Waiting at a pickup point.
    AvailableForPickup,
    /// A delivery attempt failed.
    AttemptFailed,
    /// Delivered (final).
    Delivered,
    /// Something went wrong that needs attention.
    Exception,
    /// Returned to the sender (final).
    Returned,
    /// Cancelled (final).
    Cancelled,
    /// A carrier status no mapping knows (the raw status is kept).
    Unknown,
}

/// Where in its journey a parcel is (journey order; see `docs/architecture.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MilestoneView {
    /// Announced; no label, no parcel.
    Announced,
    /// A label exists; the carrier has the data, not the parcel.
    LabelCreated,
    /// Collected by a carrier.
    PickedUp,
    /// Moving towards the main carrier's hub.
    InTransit,
    /// At the origin hub.
    AtOriginHub,
    /// Between countries or regions.
    Linehaul,
    /// In customs clearance.
    Customs,
    /// At the destination hub.
    AtDestinationHub,
    /// With a courier for delivery.
    OutForDelivery,
    /// At a pickup point.
    AtPickupPoint,
    /// Delivered (final).
    Delivered,
    /// Returned (final).
    Returned,
    /// Cancelled (final).
    Cancelled,
    /// No table knows the raw status.
    Unknown,
}

impl From<Milestone> for MilestoneView {
    fn from(m: Milestone) -> Self {
        match m {
            Milestone::Announced => Self::Announced,
            Milestone::LabelCreated => Self::LabelCreated,
            Milestone::PickedUp => Self::PickedUp,
            Milestone::InTransit => Self::InTransit,
            Milestone::AtOriginHub => Self::AtOriginHub,
            Milestone::Linehaul => Self::Linehaul,
            Milestone::Customs => Self::Customs,
            Milestone::AtDestinationHub => Self::AtDestinationHub,
            Milestone::OutForDelivery => Self::OutForDelivery,
            Milestone::AtPickupPoint => Self::AtPickupPoint,
            Milestone::Delivered => Self::Delivered,
            Milestone::Returned => Self::Returned,
            Milestone::Cancelled => Self::Cancelled,
            Milestone::Unknown => Self::Unknown,
        }
    }
}

impl From<TrackingStatus> for Status {
    fn from(s: TrackingStatus) -> Self {
        match s {
            TrackingStatus::Pending => Self::Pending,
            TrackingStatus::InfoReceived => Self::InfoReceived,
            TrackingStatus::InTransit => Self::InTransit,
            TrackingStatus::CustomsHold => Self::CustomsHold,
            TrackingStatus::OutForDelivery => Self::OutForDelivery,
            TrackingStatus::AvailableForPickup => Self::AvailableForPickup,
            TrackingStatus::AttemptFailed => Self::AttemptFailed,
            TrackingStatus::Delivered => Self::Delivered,
            TrackingStatus::Exception => Self::Exception,
            TrackingStatus::Returned => Self::Returned,
            TrackingStatus::Cancelled => Self::Cancelled,
            TrackingStatus::Unknown => Self::Unknown,
        }
    }
}

/// A new order: Starmile's `external_parent_id` is `reference`, the idempotency key (sending
/// the same order again answers 200 with `duplicate: true`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrder {
    /// Your order reference.
    #[schema(value_type = OrderReference)]
    pub reference: String,
    /// A Starmile service id (see `GET /v1/services`).
    // Documented as int64 up to u32::MAX: what the server reads (utoipa's default int32 would
    // say 2^31 and above are refused, which they are not).
    #[schema(value_type = u64, example = 5, minimum = 1, maximum = 4_294_967_295_u64)]
    pub service_id: u32,
    /// The parcels, one per merchant tracking number.
    #[schema(min_items = 1)]
    pub items: Vec<CreateItem>,
    /// The configured Starmile account to order with (default: the first).
    #[serde(default)]
    pub account: Option<String>,
}

/// One parcel of a new order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateItem {
    /// The code on the parcel's sticker (also its first-leg tracking number): printable
    /// ASCII without spaces.
    #[schema(value_type = StickerCode)]
    pub merchant_tracking_number: String,
    /// The parcel's weight in grams.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1000000)]
    pub weight_grams: Option<u32>,
}

/// What Starmile answered to a create.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedOrder {
    /// Your order reference.
    pub reference: String,
    /// Starmile's tracking number for the order.
    pub tracking_number: String,
    /// True when the order already existed (an idempotent replay).
    pub duplicate: bool,
    /// The parcels with Starmile's tracking numbers.
    pub parcels: Vec<CreatedParcel>,
}

/// One parcel of a created order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedParcel {
    /// The merchant tracking number, when Starmile echoed it.
    pub merchant_tracking_number: Option<String>,
    /// Starmile's tracking number for the parcel.
    pub tracking_number: String,
}

impl From<&Order> for CreatedOrder {
    fn from(o: &Order) -> Self {
        Self {
            reference: o.reference.to_string(),
            tracking_number: o.tracking_number.to_string(),
            duplicate: o.duplicate,
            parcels: o
                .parcels
                .iter()
                .map(|p| CreatedParcel {
                    merchant_tracking_number: p
                        .merchant_tracking_number
                        .as_ref()
                        .map(ToString::to_string),
                    tracking_number: p.tracking_number.to_string(),
                })
                .collect(),
        }
    }
}

/// A stored order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrderView {
    /// The Starmile account it belongs to.
    pub account: String,
    /// Your order reference.
    pub reference: String,
    /// The service, when known (orders discovered in the status pool do not say).
    pub service_id: Option<u32>,
    /// Starmile's tracking number for the order, once known.
    pub tracking_number: Option<String>,
    /// The status of the parcel that needs attention (exception, failed attempt, customs hold,
    /// return), else of the least advanced parcel.
    pub status: Status,
    /// When waybill first stored the order (RFC 3339).
    pub created_at: String,
    /// The parcels.
    pub parcels: Vec<ParcelView>,
}

/// A stored parcel.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ParcelView {
    /// The code on the sticker.
    pub merchant_tracking_number: String,
    /// Starmile's tracking number for the parcel, once known.
    pub tracking_number: Option<String>,
    /// The parcel's current status.
    pub status: Status,
    /// The parcel's current milestone.
    pub milestone: MilestoneView,
}

impl From<&StoredParcel> for ParcelView {
    fn from(p: &StoredParcel) -> Self {
        Self {
            merchant_tracking_number: p.merchant_tracking_number.to_string(),
            tracking_number: p.tracking_number.as_ref().map(ToString::to_string),
            status: p.status.into(),
            milestone: p.milestone.into(),
        }
    }
}

impl From<&StoredOrder> for OrderView {
    fn from(o: &StoredOrder) -> Self {
        Self {
            account: o.account.clone(),
            reference: o.reference.to_string(),
            service_id: o.service_id.map(waybill_domain::ServiceId::get),
            tracking_number: o.tracking_number.as_ref().map(ToString::to_string),
            status: o.status.into(),
            created_at: o.created_at.clone(),
            parcels: o.parcels.iter().map(ParcelView::from).collect(),
        }
    }
}

/// One page of orders.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrderPage {
    /// Orders sorted by reference.
    pub orders: Vec<OrderView>,
    /// Pass as `after` to get the next page; absent on the last page.
    pub next: Option<String>,
}

/// Filters and pagination for listing orders.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListOrdersQuery {
    /// Only orders whose status is this (e.g. `in_transit`).
    #[param(value_type = Option<Status>)]
    pub status: Option<String>,
    /// Only orders of this service id.
    #[param(value_type = Option<u64>, minimum = 1, maximum = 4_294_967_295_u64)]
    pub service: Option<u32>,
    /// The cursor: the previous page's `next` (`@ACCOUNT:REFERENCE`), or a reference (no
    /// control characters, no leading or trailing whitespace); empty is the same as absent.
    #[param(
        pattern = r"^(?:[^\s\x00-\x1f\x7f-\x9f](?:[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f])?)?$"
    )]
    pub after: Option<String>,
    /// `newest` (default: when first stored, newest first) or `reference`.
    pub sort: Option<ListSort>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

// The two schemas below are documentation only: every field and path parameter that takes
// a reference or a sticker code names them, so their rules (the domain's `PartnerOrderRef`
// and `MerchantTrackingNumber`) are written once.

/// An order reference: 1 to 100 characters, no leading or trailing whitespace, no control
/// characters.
#[derive(ToSchema)]
#[schema(
    value_type = String,
    example = "PO-10294",
    min_length = 1,
    max_length = 100,
    pattern = r"^[^\s\x00-\x1f\x7f-\x9f](?:[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f])?$"
)]
pub struct OrderReference(pub String);

/// A merchant tracking number (the parcel's sticker code): 1 to 64 printable ASCII
/// characters, no spaces.
#[derive(ToSchema)]
#[schema(value_type = String, example = "TRK-1", min_length = 1, max_length = 64, pattern = "^[!-~]+$")]
pub struct StickerCode(pub String);

/// The order of `GET /v1/orders`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListSort {
    /// When first stored, newest first.
    Newest,
    /// By reference (text order), then account.
    Reference,
}

/// When an event happened.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EventTimeView {
    /// `exact` (an instant), `local` (a wall-clock time whose zone the carrier did not give)
    /// or `unknown` (the carrier sent no usable time: `raw` holds what it sent).
    #[schema(example = "exact")]
    pub kind: String,
    /// RFC 3339 instant for `exact`; `YYYY-MM-DDTHH:MM:SS` wall-clock time for `local`;
    /// null for `unknown` (a time is never invented).
    pub at: Option<String>,
    /// The IANA zone the carrier reported, when it did.
    pub zone: Option<String>,
    /// The time as the carrier wrote it, when it came as text.
    pub raw: Option<String>,
    /// The instant on the timeline's one clock (RFC 3339, UTC): for a `local` time, its wall
    /// clock read in `local_zone`; for an `unknown` one, when waybill received the event (its
    /// place in the list, not when it happened).
    pub instant: String,
    /// The event's local zone: the reported one, else the one waybill read it in.
    pub local_zone: String,
    /// How `local_zone` was found: `reported`, `configured` (a per-carrier setting),
    /// `inferred` (the zone of the parcel's earliest zoned event), `assumed` (UTC, nothing
    /// named a zone) or `no_time` (the carrier sent no usable time).
    #[schema(example = "inferred")]
    pub zone_source: String,
    /// For people: the local time with its UTC offset, e.g. `2026-06-20 17:14 +10:00`, or
    /// `time unknown`.
    pub display: String,
}

impl EventTimeView {
    /// A time as stored, with its place on the clock.
    #[must_use]
    pub fn new(t: &EventTime, raw: Option<&str>, r: &Resolved) -> Self {
        let (kind, at, zone) = match t {
            EventTime::Exact { at, zone } => ("exact", Some(at.to_string()), zone.clone()),
            EventTime::Local { at } => ("local", Some(at.to_string()), None),
            EventTime::Unknown { .. } => ("unknown", None, None),
        };
        Self {
            kind: kind.into(),
            at,
            zone,
            raw: raw.map(str::to_owned).or_else(|| match t {
                EventTime::Unknown { raw, .. } => raw.clone(),
                _ => None,
            }),
            instant: r.at.to_string(),
            local_zone: r.zone_name.clone(),
            zone_source: r.source.as_str().to_owned(),
            display: present::local(r),
        }
    }
}

/// One tracking event.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EventView {
    /// The carrier that reported it (`starmile`, `starshipit`).
    pub carrier: String,
    /// The carrier's tracking number.
    pub tracking_number: String,
    /// When it happened.
    pub time: EventTimeView,
    /// The unified status.
    pub status: Status,
    /// The milestone.
    pub milestone: MilestoneView,
    /// The carrier's own status text.
    pub raw_status: String,
    /// The carrier's reason code, when any.
    pub reason_code: Option<String>,
    /// The carrier's reason detail, when any.
    pub reason_detail: Option<String>,
    /// The carrier's description.
    pub description: Option<String>,
    /// Where it happened.
    pub location: Option<String>,
    /// The ISO country code of the place.
    pub country: Option<String>,
    /// The carrier that handles this leg, as the source names it (e.g. "Australia Post").
    pub carrier_name: Option<String>,
    /// The leg's public tracking page, when the source gave one.
    pub tracking_url: Option<String>,
}

impl EventView {
    /// An event of `timeline`, its time on the timeline's clock.
    #[must_use]
    pub fn on(timeline: &Timeline, e: &TrackingEvent) -> Self {
        Self::with_time(e, &timeline.resolve(e))
    }

    fn with_time(e: &TrackingEvent, r: &Resolved) -> Self {
        Self {
            carrier: e.carrier.to_string(),
            tracking_number: e.tracking_number.to_string(),
            time: EventTimeView::new(&e.occurred_at, e.raw_time.as_deref(), r),
            status: e.status.into(),
            milestone: e.milestone().into(),
            raw_status: e.raw_status.clone(),
            reason_code: e.reason.as_ref().map(|r| r.code.clone()),
            reason_detail: e.reason.as_ref().and_then(|r| r.detail.clone()),
            description: e.description.clone(),
            location: e.location.clone(),
            country: e.country.as_ref().map(ToString::to_string),
            carrier_name: e.carrier_name.clone(),
            tracking_url: e.tracking_url.clone(),
        }
    }
}

impl From<&TrackingEvent> for EventView {
    /// An event alone (a live lookup): a local time is read as UTC, marked `assumed`.
    fn from(e: &TrackingEvent) -> Self {
        Self::with_time(e, &e.occurred_at.resolve(None))
    }
}

/// A parcel's merged timeline.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TimelineView {
    /// The order reference.
    pub reference: String,
    /// The parcel's merchant tracking number.
    pub merchant_tracking_number: String,
    /// Starmile's parcel tracking number, once known.
    pub tracking_number: Option<String>,
    /// Starmile's order tracking number, once known.
    pub order_tracking_number: Option<String>,
    /// The current status derived from the timeline (forward-only).
    pub status: Status,
    /// The current milestone derived from the timeline (forward-only).
    pub milestone: MilestoneView,
    /// Every event from every carrier, oldest first on one clock.
    pub events: Vec<EventView>,
}

impl From<&ParcelTimeline> for TimelineView {
    fn from(p: &ParcelTimeline) -> Self {
        Self {
            reference: p.reference.to_string(),
            merchant_tracking_number: p.parcel.merchant_tracking_number.to_string(),
            tracking_number: p.parcel.tracking_number.as_ref().map(ToString::to_string),
            order_tracking_number: p.order_tracking_number.as_ref().map(ToString::to_string),
            status: p.timeline.current_status().into(),
            milestone: p.timeline.current_milestone().into(),
            events: p.timeline.resolved().iter().map(|(e, r)| EventView::with_time(e, r)).collect(),
        }
    }
}

/// A tracking lookup: which parcel a number belongs to and where it is now.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TrackView {
    /// The number looked up.
    pub number: String,
    /// What the number is: `merchant_tracking_number`, `tracking_number` (Starmile's parcel
    /// number), `order_tracking_number` or `reference`.
    pub matched: String,
    /// The parcel's current status.
    pub status: Status,
    /// The parcel's current milestone.
    pub milestone: MilestoneView,
    /// The order reference.
    pub reference: String,
    /// The parcel's merchant tracking number.
    pub merchant_tracking_number: String,
    /// Starmile's parcel tracking number, once known.
    pub tracking_number: Option<String>,
    /// The carriers that reported events.
    pub carriers: Vec<String>,
    /// How many events the merged timeline holds.
    pub event_count: usize,
    /// The latest event.
    pub latest: Option<EventView>,
}

impl TrackView {
    /// The lookup result for `number`, which found `p`.
    #[must_use]
    pub fn new(number: &str, p: &ParcelTimeline) -> Self {
        let matched = if p.parcel.merchant_tracking_number.as_str() == number {
            "merchant_tracking_number"
        } else if p.parcel.tracking_number.as_ref().is_some_and(|t| t.as_str() == number) {
            "tracking_number"
        } else if p.order_tracking_number.as_ref().is_some_and(|t| t.as_str() == number) {
            "order_tracking_number"
        } else {
            "reference"
        };
        let mut carriers: Vec<String> =
            p.timeline.events().iter().map(|e| e.carrier.to_string()).collect();
        carriers.sort();
        carriers.dedup();
        Self {
            number: number.to_owned(),
            matched: matched.to_owned(),
            status: p.timeline.current_status().into(),
            milestone: p.timeline.current_milestone().into(),
            reference: p.reference.to_string(),
            merchant_tracking_number: p.parcel.merchant_tracking_number.to_string(),
            tracking_number: p.parcel.tracking_number.as_ref().map(ToString::to_string),
            carriers,
            event_count: p.timeline.events().len(),
            latest: p.timeline.latest().map(|e| EventView::on(&p.timeline, e)),
        }
    }
}

/// A Starmile service.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ServiceView {
    /// The service id to order with.
    pub id: u32,
    /// Its name.
    pub name: String,
    /// Starmile's flow key, when given.
    pub flow_key: Option<String>,
    /// The service family, when given.
    pub family: Option<String>,
}

impl From<&Service> for ServiceView {
    fn from(s: &Service) -> Self {
        Self {
            id: s.id.get(),
            name: s.name.clone(),
            flow_key: s.flow_key.clone(),
            family: s.family.clone(),
        }
    }
}

/// A rate card: prices by weight tier for one service and corridor.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RateCardView {
    /// The service id.
    pub service_id: u32,
    /// Origin country (ISO code).
    pub origin: String,
    /// Destination country, or absent for any.
    pub destination: Option<String>,
    /// ISO-4217 currency of every price.
    pub currency: String,
    /// Tiers, lightest first.
    pub tiers: Vec<RateTierView>,
    /// The price for the `weight` asked in the query, when one was asked and a tier covers it.
    pub quote: Option<String>,
}

/// One weight tier.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RateTierView {
    /// The heaviest parcel of this tier, in grams.
    pub max_weight_grams: u32,
    /// The price (decimal text).
    #[schema(example = "12.50")]
    pub price: String,
}

impl RateCardView {
    /// The card, with a quote for `weight` when given.
    #[must_use]
    pub fn new(c: &RateCard, weight: Option<waybill_domain::Weight>) -> Self {
        Self {
            service_id: c.service_id().get(),
            origin: c.origin().to_string(),
            destination: c.destination().map(|d| d.to_string()),
            currency: c.currency().to_string(),
            tiers: c
                .tiers()
                .iter()
                .map(|t| RateTierView {
                    max_weight_grams: t.max_weight.grams(),
                    price: t.price.amount().to_string(),
                })
                .collect(),
            quote: weight.and_then(|w| c.quote(w).ok()).map(|m| m.amount().to_string()),
        }
    }
}

/// Filters for rates.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RatesQuery {
    /// Only this service id.
    #[param(value_type = Option<u64>, minimum = 1, maximum = 4_294_967_295_u64)]
    pub service: Option<u32>,
    /// Also quote this weight: grams (`1500`) or with a unit (`1.5kg`).
    pub weight: Option<String>,
}

/// The answer to an accepted webhook.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookAck {
    /// True when the event was new; false for a duplicate (already stored).
    pub stored: bool,
}

/// Liveness.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// Always `ok` while the process answers.
    pub status: String,
}

/// Readiness, per component. By default only what the page and the API need (the store)
/// decides `ready`, so an upstream carrier outage never takes the tracking page offline; with
/// `?strict=sync` background sync must be healthy too (for a sync worker's own probe).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Readiness {
    /// True when every component that counts (see `components[].required`) is ok.
    pub ready: bool,
    /// `ok`, or why the store did not answer.
    pub store: String,
    /// `running`, `disabled`, `stalled` or `stopped: <why>`.
    pub sync: String,
    /// Seconds since sync last committed a page or finished a round.
    pub seconds_since_sync_progress: u64,
    /// Each component's state and, when it is not ok, why.
    pub components: Vec<Component>,
}

/// One component of readiness.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Component {
    /// `store`, `sync` or `quarantine`.
    pub name: String,
    /// True when the component works (`quarantine`: no row is quarantined).
    pub ok: bool,
    /// True when this component's state decides `ready` for this request (`quarantine`
    /// never does: sync goes past quarantined rows).
    pub required: bool,
    /// Why it is not ok (or `disabled`), absent when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// How many things the component counts, for components that count (`quarantine`: pool
    /// rows kept in quarantine, every account).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

/// `/readyz` query.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReadyQuery {
    /// `sync`: also require background sync to be running and making progress.
    #[param(value_type = Option<Strictness>)]
    pub strict: Option<String>,
}

/// What `/readyz?strict=` may also require (documentation only: the handler names the
/// accepted values in its 400 for anything else).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum Strictness {
    /// Background sync is running and making progress.
    Sync,
}

//! Private serde shapes of the Starmile wire format, written by hand from the contract
//! notes. Decoding is tolerant: unknown keys are ignored and optional keys may be null or
//! absent. The sandbox serialises the same shapes.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// `{"data": …}`, the envelope of every resource and list.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Data<T> {
    pub(crate) data: T,
}

/// `POST /oauth/token` body (the spec's JSON shape).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct TokenRequest {
    pub(crate) grant_type: String,
    #[serde(default)]
    pub(crate) client_id: Option<String>,
    #[serde(default)]
    pub(crate) client_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) scope: Option<String>,
}

/// `POST /oauth/token` answer.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct TokenResponse {
    #[serde(default)]
    pub(crate) token_type: Option<String>,
    pub(crate) access_token: String,
    #[serde(default)]
    pub(crate) expires_in: Option<u64>,
}

/// One service of `GET /api/v1/services`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ServiceRow {
    pub(crate) id: u32,
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) flow_key: Option<String>,
    #[serde(default)]
    pub(crate) flow_label: Option<String>,
    #[serde(default)]
    pub(crate) family: Option<String>,
    #[serde(default)]
    pub(crate) variant: Option<String>,
    #[serde(default)]
    pub(crate) scope: Option<String>,
    #[serde(default)]
    pub(crate) org_country_id: Option<u32>,
    #[serde(default)]
    pub(crate) flow_definition_id: Option<u32>,
}

/// One rate card of `GET /api/v1/rates`: a service on a corridor, in weight tiers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RateRow {
    pub(crate) service_id: u32,
    pub(crate) origin: String,
    #[serde(default)]
    pub(crate) destination: Option<String>,
    pub(crate) currency: String,
    pub(crate) tiers: Vec<TierRow>,
}

/// One weight tier: parcels up to `max_weight_grams` (inclusive) cost `price`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TierRow {
    pub(crate) max_weight_grams: u32,
    pub(crate) price: Decimal,
}

/// `POST /api/v1/orders` body as this client sends it: the spec's shape (`external_parent_id`,
/// `items[].merchant_tracking_number`) plus `item_id` (equal to the merchant tracking number)
/// and, when the request carries them, the record's recipient, destination and parcel
/// details under the record's field names.
#[derive(Debug, Serialize)]
pub(crate) struct CreateOrder<'a> {
    pub(crate) service_id: u32,
    pub(crate) external_parent_id: &'a str,
    #[serde(flatten)]
    pub(crate) recipient: RecipientFields<'a>,
    #[serde(flatten)]
    pub(crate) destination: DestinationFields<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) shipping_cost: Option<Decimal>,
    pub(crate) items: Vec<CreateItem<'a>>,
}

/// The recipient's top-level fields.
#[derive(Debug, Default, Serialize)]
pub(crate) struct RecipientFields<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) customer_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) customer_phone: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) customer_email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) gov_id: Option<&'a str>,
}

/// The destination's top-level fields: one of `pudo_id`, `locker_id`, or a home address.
#[derive(Debug, Default, Serialize)]
pub(crate) struct DestinationFields<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) pudo_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) locker_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) parent_region: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) region: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) address_first: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) address_second: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) zip: Option<&'a str>,
}

/// One item of [`CreateOrder`].
#[derive(Debug, Serialize)]
pub(crate) struct CreateItem<'a> {
    pub(crate) merchant_tracking_number: &'a str,
    pub(crate) item_id: &'a str,
    #[serde(flatten)]
    pub(crate) details: ParcelFields<'a>,
}

/// A parcel's optional details (create, add, update).
#[derive(Debug, Default, Serialize)]
pub(crate) struct ParcelFields<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) package_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) weight_grams: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) length_mm: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) width_mm: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) height_mm: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) products: Option<Vec<ProductRow<'a>>>,
}

/// One declared product. Amounts travel as decimal strings (exact; the API accepts
/// numbers and numeric strings).
#[derive(Debug, Serialize)]
pub(crate) struct ProductRow<'a> {
    pub(crate) name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) hs_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) declared_value: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) weight_grams: Option<u32>,
    pub(crate) quantity: u32,
}

/// `POST /api/v1/orders/{order}/parcels` body: one parcel in the record's shape.
#[derive(Debug, Serialize)]
pub(crate) struct AddParcel<'a> {
    pub(crate) item_id: &'a str,
    pub(crate) merchant_tracking: &'a str,
    #[serde(flatten)]
    pub(crate) details: ParcelFields<'a>,
}

/// `PATCH /api/v1/orders/{order}/parcels/{item}` body: only the fields that change.
#[derive(Debug, Serialize)]
pub(crate) struct UpdateParcel<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) merchant_tracking: Option<&'a str>,
    #[serde(flatten)]
    pub(crate) details: ParcelFields<'a>,
}

/// `POST …/parcels/{item}/split` body.
#[derive(Debug, Serialize)]
pub(crate) struct SplitParcel<'a> {
    pub(crate) new_order_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reason: Option<&'a str>,
}

/// The `data` of a parcel answer (update, add, cancel, split).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ParcelAnswer {
    /// The Starmile tracking number of the order the parcel is on now.
    pub(crate) order_id: String,
    /// Split only: the new order's partner reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) new_order_id: Option<String>,
    /// Split only: the source order's partner reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) source_order_id: Option<String>,
    /// Cancel only: the order's status after the cancellation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) order_status: Option<String>,
    pub(crate) item: ParcelView,
}

/// A parcel as the answers show it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct ParcelView {
    #[serde(default)]
    pub(crate) item_id: Option<String>,
    pub(crate) parcel_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) merchant_tracking: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) package_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) weight_grams: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) length_mm: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) width_mm: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) height_mm: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) products: Vec<serde_json::Value>,
}

/// `POST /api/v1/partner/events` body.
#[derive(Debug, Serialize)]
pub(crate) struct ReportEvent<'a> {
    pub(crate) event_id: &'a str,
    #[serde(rename = "type")]
    pub(crate) kind: &'a str,
    pub(crate) tracking_number: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) occurred_at: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) data: &'a BTreeMap<&'static str, serde_json::Value>,
}

/// `POST /api/v1/partner/events` answer (bare, as the SDK reads it; a `data` envelope is
/// tolerated).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct EventAnswer {
    #[serde(default)]
    pub(crate) result: Option<String>,
    #[serde(default)]
    pub(crate) order_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) data: Option<Box<EventAnswer>>,
}

/// The `data` of a create answer (201 created, 200 replay).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct CreatedOrder {
    pub(crate) order_id: String,
    #[serde(default)]
    pub(crate) duplicate: bool,
    #[serde(default)]
    pub(crate) region_status: Option<String>,
    #[serde(default)]
    pub(crate) items: Vec<CreatedItem>,
}

/// One parcel of a create answer.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct CreatedItem {
    #[serde(default)]
    pub(crate) item_id: Option<String>,
    pub(crate) parcel_id: String,
}

/// `POST /api/v1/orders/{order}/cancel` body.
#[derive(Debug, Serialize)]
pub(crate) struct CancelOrder<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reason: Option<&'a str>,
}

/// `GET /api/v1/partner/changes` answer.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ChangesPage {
    pub(crate) data: Vec<PoolRow>,
    pub(crate) next_cursor: u64,
    #[serde(default)]
    pub(crate) has_more: bool,
}

/// The same answer with each row left as its raw JSON text, so rows are decoded one by one
/// and a bad row is kept as received.
#[derive(Debug, Deserialize)]
pub(crate) struct RawChangesPage<'a> {
    #[serde(borrow)]
    pub(crate) data: Vec<&'a serde_json::value::RawValue>,
    pub(crate) next_cursor: u64,
    #[serde(default)]
    pub(crate) has_more: bool,
}

/// One status-pool row. Every key is present on the wire; nulls are allowed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PoolRow {
    pub(crate) cursor: u64,
    #[serde(default)]
    pub(crate) tracking_number: Option<String>,
    #[serde(default)]
    pub(crate) external_parent_id: Option<String>,
    #[serde(default)]
    pub(crate) external_id: Option<String>,
    #[serde(default)]
    pub(crate) country: Option<String>,
    pub(crate) status: String,
    #[serde(default)]
    pub(crate) previous_status: Option<String>,
    #[serde(default)]
    pub(crate) occurred_at: Option<String>,
    #[serde(default)]
    pub(crate) timezone: Option<String>,
    #[serde(default)]
    pub(crate) reason: Option<String>,
    #[serde(default)]
    pub(crate) reason_detail: Option<String>,
}

/// An error body: `{"message":…,"errors":{…}}`, or RFC 6749's `{"error":…}` from the
/// token endpoint.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) errors: Option<BTreeMap<String, Vec<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) error_description: Option<String>,
    /// How to fix a rejected inbound event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) hint: Option<String>,
    /// `rejected` on a refused inbound event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) result: Option<String>,
}

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

/// `POST /api/v1/orders` body as this client sends it: the spec's shape plus `item_id`
/// (equal to the merchant tracking number) and `weight_grams` when known.
#[derive(Debug, Serialize)]
pub(crate) struct CreateOrder<'a> {
    pub(crate) service_id: u32,
    pub(crate) external_parent_id: &'a str,
    pub(crate) items: Vec<CreateItem<'a>>,
}

/// One item of [`CreateOrder`].
#[derive(Debug, Serialize)]
pub(crate) struct CreateItem<'a> {
    pub(crate) merchant_tracking_number: &'a str,
    pub(crate) item_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) weight_grams: Option<u32>,
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
}

//! `POST /v1/orders/{reference}/cancel`: cancels a whole order at the carrier, as
//! `waybill orders cancel` does. The store learns the cancellation from the carrier's own
//! report (the pool's `cancelled` row), so the record only ever says what the carrier says.

use axum::{
    Json,
    extract::{Path, Query, State, rejection::JsonRejection},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use waybill_domain::PartnerOrderRef;

use crate::{
    accounts::{self, AccountQuery, carrier_error},
    error::{ApiError, ErrorBody},
    model::OrderReference,
    state::AppState,
};

/// Why an order is cancelled.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelOrder {
    /// Sent to the carrier.
    #[serde(default)]
    pub reason: Option<String>,
}

/// A cancelled order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CancelledOrder {
    /// The order's reference.
    pub reference: String,
    /// Always true: the carrier accepted the cancellation.
    pub cancelled: bool,
}

/// Cancel an order at Starmile before it reaches the hub (its stored status follows on the
/// next sync, from the carrier's own report).
#[utoipa::path(
    post,
    path = "/v1/orders/{reference}/cancel",
    tag = crate::api::TAG,
    params(
        ("reference" = OrderReference, Path, description = "Your order reference"),
        AccountQuery,
    ),
    request_body = CancelOrder,
    responses(
        (status = 200, description = "The carrier cancelled the order", body = CancelledOrder),
        (status = 400, description = "The reference is invalid, or no such account is configured", body = ErrorBody),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 404, description = "The carrier knows no such order", body = ErrorBody),
        (status = 409, description = "The order is already in the carrier's custody, or cancelled", body = ErrorBody),
        (status = 413, description = "The body is larger than the server accepts", body = ErrorBody),
        (status = 415, description = "The body was not sent as `application/json`", body = ErrorBody),
        (status = 422, description = "The body does not match the schema (`validation_failed`, with `fields`)", body = ErrorBody),
        (status = 502, description = "The carrier is unreachable", body = ErrorBody),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn cancel_order(
    State(state): State<AppState>,
    Path(reference): Path<String>,
    Query(q): Query<AccountQuery>,
    body: Result<Json<CancelOrder>, JsonRejection>,
) -> Result<Json<CancelledOrder>, ApiError> {
    let Json(body) = body?;
    let reference = PartnerOrderRef::parse(reference)
        .map_err(|e| ApiError::invalid_field("reference", e.to_string()))?;
    let account = accounts::resolve(&state, q.account.as_deref())?;
    account
        .desk
        .cancel_order(&reference, body.reason)
        .await
        .map_err(|e| carrier_error(&state, account, &e))?;
    Ok(Json(CancelledOrder { reference: reference.to_string(), cancelled: true }))
}

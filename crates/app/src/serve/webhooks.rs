//! `POST /webhooks/starshipit`: StarShipIT pushes tracking updates. The signature
//! (`X-Starshipit-Signature`, base64 HMAC-SHA256 of the raw body) is verified against the raw
//! bytes before anything is parsed; the event then joins the parcel's timeline through
//! [`Store::record_events`](crate::store::Store::record_events), whose event key makes a
//! redelivery a no-op. A bad or missing signature is answered 401 and nothing is stored.

use axum::{Json, body::Bytes, extract::State, http::HeaderMap, http::StatusCode};
use waybill_starshipit::webhook::{self, SIGNATURE_HEADER, WebhookError};

use super::{
    error::{ApiError, ErrorBody, ErrorCode},
    model::WebhookAck,
    state::AppState,
};

/// Receive a StarShipIT tracking webhook.
///
/// The body is StarShipIT's JSON payload, signed with the shared webhook secret. A duplicate
/// delivery is answered 200 with `stored: false`.
#[utoipa::path(
    post,
    path = "/webhooks/starshipit",
    tag = "webhooks",
    request_body(content = String, content_type = "application/json", description = "StarShipIT's tracking payload: order_number, carrier_name, tracking_number, tracking_status, last_updated_date, ..."),
    params(("X-Starshipit-Signature" = String, Header, description = "Base64 HMAC-SHA256 of the raw body with the webhook secret")),
    responses(
        (status = 200, description = "Accepted (new or duplicate)", body = WebhookAck),
        (status = 400, description = "Not a usable tracking payload", body = ErrorBody),
        (status = 401, description = "Missing or wrong signature; nothing was stored", body = ErrorBody),
        (status = 503, description = "No webhook secret is configured", body = ErrorBody),
    )
)]
pub async fn starshipit(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<WebhookAck>, ApiError> {
    let Some(secret) = &state.webhook_secret else {
        state.metrics.webhook("not_configured");
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::WebhookNotConfigured,
            "webhooks are off: the operator must set $WAYBILL_STARSHIPIT_WEBHOOK_SECRET or serve.webhook_secret_file",
        ));
    };
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    if let Err(e) = webhook::verify(Some(secret), &body, signature) {
        state.metrics.webhook("bad_signature");
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::BadSignature,
            e.to_string(),
        ));
    }
    let event = webhook::parse(&body)
        .and_then(|w| w.to_event())
        .map(crate::legs::first_leg)
        .map_err(|e: WebhookError| {
            state.metrics.webhook("invalid");
            ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest, e.to_string())
        })?;
    let new = state.store.record_events(std::slice::from_ref(&event)).await?;
    state.metrics.webhook(if new > 0 { "stored" } else { "duplicate" });
    state.metrics.ingested(super::metrics::Source::Webhook, new as u64);
    Ok(Json(WebhookAck { stored: new > 0 }))
}

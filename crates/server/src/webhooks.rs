//! `POST /webhooks/{carrier}` and `POST /webhooks/{carrier}/{token}`: carriers push tracking
//! updates. The routes are generic: the carrier's
//! [`WebhookReceiver`](waybill_domain::WebhookReceiver) (wired by the app) authenticates the
//! raw bytes (a signature, or the secret token of the second route, for senders that cannot
//! sign) before anything is parsed and decodes them; the events then join the parcel's
//! timeline through [`FeedSink::record_pushed`](waybill_store::FeedSink::record_pushed), whose
//! event key makes a redelivery a no-op (and which notes the parcel as covered, so the
//! refresh schedule does not poll it meanwhile). An unauthenticated delivery is answered 401 and
//! nothing is stored. An authentic body that carries no tracking event is answered 200
//! (senders retry anything else) with `stored: false`; the reason is logged and counted
//! (`waybill_webhooks_total{outcome="no_event"}`). The token never reaches a log line.

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
};
use waybill_domain::{WebhookRejection, WebhookRequest};

use crate::{
    error::{ApiError, ErrorBody, ErrorCode},
    metrics::Source,
    model::WebhookAck,
    state::AppState,
};

/// One received request, as a receiver reads it.
struct Received<'a> {
    headers: &'a HeaderMap,
    body: &'a [u8],
    token: Option<&'a str>,
}

impl WebhookRequest for Received<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn body(&self) -> &[u8] {
        self.body
    }

    fn path_token(&self) -> Option<&str> {
        self.token
    }
}

/// Receive a carrier's tracking webhook.
///
/// The body is the carrier's own payload, authenticated as that carrier signs it (for
/// `starshipit`: `X-Starshipit-Signature`, HMAC-SHA256 of the raw body with the shared
/// secret, base64 or hex). A duplicate delivery, or an authentic body without a tracking
/// event, is answered 200 with `stored: false`.
#[utoipa::path(
    post,
    path = "/webhooks/{carrier}",
    tag = "webhooks",
    request_body(content = String, content_type = "application/json", description = "The carrier's tracking payload, exactly as it sends it"),
    params(("carrier" = String, Path, description = "The id of the carrier whose receiver handles the delivery (its adapter's `CARRIER_ID`)")),
    responses(
        (status = 200, description = "Accepted (new, duplicate, or no tracking event in it)", body = WebhookAck),
        (status = 400, description = "Not a usable tracking payload", body = ErrorBody),
        (status = 401, description = "Missing or wrong signature; nothing was stored", body = ErrorBody),
        (status = 404, description = "No webhook receiver for that carrier", body = ErrorBody),
        (status = 503, description = "The receiver is not configured (e.g. no webhook secret)", body = ErrorBody),
    )
)]
pub async fn receive(
    State(state): State<AppState>,
    Path(carrier): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<WebhookAck>, ApiError> {
    accept(&state, &carrier, Received { headers: &headers, body: &body, token: None }).await
}

/// Receive a carrier's tracking webhook on its secret URL.
///
/// For senders that cannot sign: the secret token in the path authenticates the delivery
/// (compared in constant time, never logged). Answers as the plain route does.
#[utoipa::path(
    post,
    path = "/webhooks/{carrier}/{token}",
    tag = "webhooks",
    request_body(content = String, content_type = "application/json", description = "The carrier's tracking payload, exactly as it sends it"),
    params(
        ("carrier" = String, Path, description = "The id of the carrier whose receiver handles the delivery"),
        ("token" = String, Path, description = "The webhook URL's secret token, as configured"),
    ),
    responses(
        (status = 200, description = "Accepted (new, duplicate, or no tracking event in it)", body = WebhookAck),
        (status = 400, description = "Not a usable tracking payload", body = ErrorBody),
        (status = 401, description = "Wrong token (or a wrong signature sent along); nothing was stored", body = ErrorBody),
        (status = 404, description = "No webhook receiver for that carrier", body = ErrorBody),
        (status = 503, description = "The receiver is not configured", body = ErrorBody),
    )
)]
pub async fn receive_with_token(
    State(state): State<AppState>,
    Path((carrier, token)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<WebhookAck>, ApiError> {
    accept(&state, &carrier, Received { headers: &headers, body: &body, token: Some(&token) }).await
}

async fn accept(
    state: &AppState,
    carrier: &str,
    request: Received<'_>,
) -> Result<Json<WebhookAck>, ApiError> {
    let Some(receiver) = state.webhooks.iter().find(|r| r.carrier().id.as_str() == carrier) else {
        let known: Vec<&str> = state.webhooks.iter().map(|r| r.carrier().id.as_str()).collect();
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            format!(
                "no webhook receiver for carrier {carrier:?}; receivers: {}",
                if known.is_empty() { "none".to_owned() } else { known.join(", ") }
            ),
        ));
    };
    let events = match receiver.receive(&request) {
        Ok(events) => events,
        Err(WebhookRejection::NoEvent(why)) => {
            tracing::info!(carrier, reason = %why, "authentic webhook without a tracking event acknowledged, nothing stored");
            state.metrics.webhook("no_event");
            return Ok(Json(WebhookAck { stored: false }));
        }
        Err(rejection) => return Err(refuse(state, &rejection)),
    };
    let carrier = receiver.carrier();
    // A pushed first-leg "delivered" ends the lookups of that parcel (see the engine's
    // refresh schedule); pushed parcels are not polled while their pushes keep coming.
    let handed_over = waybill_engine::schedule::hand_overs(carrier, &events);
    let events: Vec<_> = events.into_iter().map(|e| carrier.join(e)).collect();
    let new = state.store.record_pushed(&events, &handed_over).await?;
    state.metrics.webhook(if new > 0 { "stored" } else { "duplicate" });
    state.metrics.ingested(Source::Webhook, new as u64);
    Ok(Json(WebhookAck { stored: new > 0 }))
}

/// The answer to a refused delivery, counted by outcome.
fn refuse(state: &AppState, rejection: &WebhookRejection) -> ApiError {
    let (status, code, outcome) = match rejection {
        WebhookRejection::NotConfigured(_) => {
            (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::WebhookNotConfigured, "not_configured")
        }
        WebhookRejection::Unauthenticated(_) => {
            (StatusCode::UNAUTHORIZED, ErrorCode::BadSignature, "bad_signature")
        }
        WebhookRejection::Invalid(_) | WebhookRejection::NoEvent(_) => {
            (StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest, "invalid")
        }
    };
    state.metrics.webhook(outcome);
    ApiError::new(status, code, rejection.to_string())
}

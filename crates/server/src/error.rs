//! The API's one error shape: `{"code": "...", "message": "...", "fields": {...}}`, with a
//! stable machine-readable `code` per kind of failure, a human `message` saying what to do,
//! and per-field messages for validation errors.

use std::collections::BTreeMap;

use axum::{
    Json,
    extract::rejection::{JsonRejection, QueryRejection},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use waybill_domain::CarrierError;

use waybill_store::StoreError;

/// Stable error codes. Clients may match on them; new codes may be added, existing ones never
/// change meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// No API key, or not a valid one (401).
    Unauthorized,
    /// The request is malformed: bad JSON, bad query parameter (400).
    InvalidRequest,
    /// The request is well formed but its content is invalid; see `fields` (422).
    ValidationFailed,
    /// The order, parcel or route does not exist (404).
    NotFound,
    /// A number matches several parcels (409).
    Ambiguous,
    /// The order's reference was already used for a different order; `fields` names what
    /// differs. Nothing was changed: use a new reference, or repeat the original order
    /// exactly (409).
    IdempotencyConflict,
    /// The route exists but not for this method; the `Allow` header lists those it takes (405).
    MethodNotAllowed,
    /// The request body is larger than the server accepts (413).
    PayloadTooLarge,
    /// The body is not in a media type the route takes, e.g. JSON without
    /// `Content-Type: application/json` (415).
    UnsupportedMediaType,
    /// The request took longer than the server allows (408).
    Timeout,
    /// A webhook's signature is missing or wrong (401).
    BadSignature,
    /// Webhooks are refused because no webhook secret is configured (503).
    WebhookNotConfigured,
    /// The carrier rejected the request's content; see `fields` (422).
    CarrierRejected,
    /// The carrier refused the change in the resource's current state (409).
    CarrierConflict,
    /// The carrier is rate limiting waybill; retry later (503).
    CarrierRateLimited,
    /// The carrier is unreachable or failing (502).
    CarrierUnavailable,
    /// waybill's credential for the carrier was refused: an operator must fix it (502).
    CarrierAuth,
    /// The store failed (500).
    StoreFailed,
    /// Something else failed (500).
    Internal,
}

/// An API error response body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// A stable machine-readable code.
    pub code: ErrorCode,
    /// What went wrong and what to do, for people.
    pub message: String,
    /// Messages per field (`items[0].merchant_tracking_number`, `limit`, ...), when any.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, Vec<String>>,
}

/// An API error: a status and its body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {}", body.message)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The body.
    pub body: ErrorBody,
    /// `Retry-After` seconds to send, when the client should wait.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody { code, message: message.into(), fields: BTreeMap::new() },
            retry_after: None,
        }
    }

    /// The same error with field messages.
    #[must_use]
    pub fn with_fields(mut self, fields: BTreeMap<String, Vec<String>>) -> Self {
        self.body.fields = fields;
        self
    }

    /// 401 `unauthorized`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
    }

    /// 400 `invalid_request` naming one field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let fields = BTreeMap::from([(field.to_owned(), vec![message.clone()])]);
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest, format!("{field}: {message}"))
            .with_fields(fields)
    }

    /// 422 `validation_failed` with per-field messages.
    pub fn validation(fields: BTreeMap<String, Vec<String>>) -> Self {
        let names: Vec<&str> = fields.keys().map(String::as_str).collect();
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::ValidationFailed,
            format!("the request has invalid fields: {}", names.join(", ")),
        )
        .with_fields(fields)
    }

    /// A carrier failure, mapped to a status and code; `who` names the carrier.
    pub fn carrier(who: &str, e: &CarrierError) -> Self {
        let message = format!("{who}: {e}");
        match e {
            CarrierError::NotFound { .. } => Self::not_found(message),
            CarrierError::Validation { fields, .. } => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::CarrierRejected, message)
                    .with_fields(fields.clone())
            }
            CarrierError::Conflict { .. } => {
                Self::new(StatusCode::CONFLICT, ErrorCode::CarrierConflict, message)
            }
            CarrierError::RateLimited { retry_after } => {
                let mut e = Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::CarrierRateLimited,
                    message,
                );
                e.retry_after = Some(retry_after.map_or(1, |d| d.as_secs().max(1)));
                e
            }
            CarrierError::Auth { .. } | CarrierError::Forbidden { .. } => {
                Self::new(StatusCode::BAD_GATEWAY, ErrorCode::CarrierAuth, message)
            }
            CarrierError::Unavailable { .. }
            | CarrierError::Decode { .. }
            | CarrierError::Transport { .. } => {
                Self::new(StatusCode::BAD_GATEWAY, ErrorCode::CarrierUnavailable, message)
            }
            CarrierError::Config { .. } => {
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal, message)
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Ambiguous { .. } => {
                Self::new(StatusCode::CONFLICT, ErrorCode::Ambiguous, e.to_string())
            }
            StoreError::IdempotencyConflict(conflict) => Self::new(
                StatusCode::CONFLICT,
                ErrorCode::IdempotencyConflict,
                conflict.to_string(),
            )
            .with_fields(conflict.differences.clone()),
            other => {
                tracing::error!(error = %other, "store failure while serving a request");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorCode::StoreFailed,
                    "the store failed; the operator's logs say why",
                )
            }
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let status = r.status();
        match r {
            JsonRejection::JsonDataError(e) => {
                let (field, problem) =
                    json_problem(&e).unwrap_or_else(|| ("body".into(), e.body_text()));
                Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::ValidationFailed,
                    format!("the body does not match the schema at {field}: {problem}"),
                )
                .with_fields(BTreeMap::from([(field, vec![problem])]))
            }
            JsonRejection::JsonSyntaxError(e) => {
                let problem = json_problem(&e).map_or_else(|| e.body_text(), |(_, p)| p);
                Self::new(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::InvalidRequest,
                    format!("the body is not valid JSON: {problem}"),
                )
                .with_fields(BTreeMap::from([("body".to_owned(), vec![problem])]))
            }
            JsonRejection::MissingJsonContentType(_) => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
                "send the body as JSON with `Content-Type: application/json`",
            ),
            _ if status == StatusCode::PAYLOAD_TOO_LARGE => {
                Self::new(status, ErrorCode::PayloadTooLarge, "the request body is too large")
            }
            other => Self::new(status, ErrorCode::InvalidRequest, other.body_text()),
        }
    }
}

/// The field path (`items[0].weight_grams`, or `body` for the whole document) and serde's
/// message for a JSON body that failed to deserialize, read from the error axum wraps.
fn json_problem(e: &(dyn std::error::Error + 'static)) -> Option<(String, String)> {
    let mut source = Some(e);
    while let Some(err) = source {
        if let Some(p) = err.downcast_ref::<serde_path_to_error::Error<serde_json::Error>>() {
            let path = p.path().to_string();
            let field = if path == "." { "body".to_owned() } else { path };
            return Some((field, p.inner().to_string()));
        }
        source = err.source();
    }
    None
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest, r.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// Turns the bodiless errors tower-http's layers produce (408 timeout, 413 body too large)
/// into the API's JSON error shape, so every error a client sees has a `code`.
pub async fn json_errors<B>(response: Response<B>) -> Response
where
    B: axum::body::HttpBody<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let response = response.map(axum::body::Body::new);
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
    if is_json {
        return response;
    }
    match response.status() {
        StatusCode::REQUEST_TIMEOUT => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            ErrorCode::Timeout,
            "the request took too long and was abandoned; retry it",
        )
        .into_response(),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            "the request body is too large",
        )
        .into_response(),
        StatusCode::METHOD_NOT_ALLOWED => {
            let allow = response.headers().get(header::ALLOW).cloned();
            let message = match allow.as_ref().and_then(|v| v.to_str().ok()) {
                Some(methods) => {
                    format!("this route does not take that method; it takes {methods}")
                }
                None => "this route does not take that method".to_owned(),
            };
            let mut json =
                ApiError::new(StatusCode::METHOD_NOT_ALLOWED, ErrorCode::MethodNotAllowed, message)
                    .into_response();
            if let Some(allow) = allow {
                json.headers_mut().insert(header::ALLOW, allow);
            }
            json
        }
        // axum's own plain-text rejections (a path segment that is not UTF-8, a query that
        // does not parse): the same JSON shape as every other error, saying what to fix.
        StatusCode::BAD_REQUEST => {
            let (_, body) = response.into_parts();
            let text = axum::body::to_bytes(body, 16 * 1024)
                .await
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest, rejection(&text))
                .into_response()
        }
        _ => response,
    }
}

/// A framework rejection's text as a message naming what to fix.
fn rejection(text: &str) -> String {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix("Invalid URL: Invalid UTF-8 in ") {
        return format!(
            "the URL's {} is not valid UTF-8: percent-encode the value's UTF-8 bytes",
            rest.trim_matches('`')
        );
    }
    if text.is_empty() {
        return "the request is malformed".to_owned();
    }
    let mut chars = text.chars();
    let first = chars.next().map(|c| c.to_lowercase().collect::<String>()).unwrap_or_default();
    format!("the request is malformed: {first}{}", chars.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framework_rejections_read_as_what_to_fix() {
        assert_eq!(
            rejection("Invalid URL: Invalid UTF-8 in `reference`"),
            "the URL's reference is not valid UTF-8: percent-encode the value's UTF-8 bytes"
        );
        assert_eq!(
            rejection("Failed to deserialize query string: limit: invalid digit"),
            "the request is malformed: failed to deserialize query string: limit: invalid digit"
        );
    }

    #[test]
    fn codes_are_snake_case_on_the_wire_and_fields_are_omitted_when_empty() {
        let e = ApiError::not_found("no order PO-1");
        let json = serde_json::to_value(&e.body).unwrap();
        assert_eq!(json, serde_json::json!({"code": "not_found", "message": "no order PO-1"}));
        let v = ApiError::invalid_field("limit", "must be 1 to 200");
        let json = serde_json::to_value(&v.body).unwrap();
        assert_eq!(json["code"], "invalid_request");
        assert_eq!(json["fields"]["limit"][0], "must be 1 to 200");
    }

    #[test]
    fn carrier_errors_map_to_statuses_and_keep_field_errors() {
        let mut fields = BTreeMap::new();
        fields.insert("service_id".to_owned(), vec!["unknown service".to_owned()]);
        let e = ApiError::carrier(
            "mainline",
            &CarrierError::Validation { message: "bad".into(), fields: fields.clone() },
        );
        assert_eq!(
            (e.status, e.body.code),
            (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::CarrierRejected)
        );
        assert_eq!(e.body.fields, fields);
        let e =
            ApiError::carrier("mainline", &CarrierError::Transport { message: "refused".into() });
        assert_eq!(
            (e.status, e.body.code),
            (StatusCode::BAD_GATEWAY, ErrorCode::CarrierUnavailable)
        );
        let e = ApiError::carrier("mainline", &CarrierError::RateLimited { retry_after: None });
        assert_eq!(e.retry_after, Some(1));
    }
}

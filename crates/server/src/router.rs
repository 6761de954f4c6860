//! The router: the documented routes of [`routes`], the API-key guard on
//! `/v1/*`, the public page and operations endpoints, and the tower-http layers —
//! request ids (`x-request-id`, generated when absent and echoed back), a timeout, a body-size
//! limit — plus per-route request metrics and security headers on every response
//! ([`security_headers`]).

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderName, HeaderValue, StatusCode, header},
    middleware,
    response::IntoResponse,
    routing::get,
};
use tower::ServiceBuilder;
use tower_http::{
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::{DefaultOnFailure, TraceLayer},
};

use crate::{allow, auth, error, metrics, openapi, ops, page, routes, state::AppState};

/// The request-id header.
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Limits applied to every request.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest a request may take (then 408).
    pub timeout: Duration,
    /// Largest accepted body (then 413).
    pub body_bytes: usize,
}

/// The whole application.
///
/// Layers, outermost first: request id (set, then echoed on the response), tracing, JSON
/// error bodies, the body-size limit; then inside the router (so the matched route is known):
/// request metrics, JSON error bodies, the timeout.
pub fn app(state: &AppState, limits: Limits) -> Router {
    let openapi: Arc<String> = Arc::new(openapi::json().unwrap_or_else(|e| {
        tracing::error!(error = %e, "cannot render the OpenAPI document");
        String::from("{}")
    }));
    let (api, api_doc) = routes::api().split_for_parts();
    let api = api.route_layer(middleware::from_fn_with_state(
        Arc::clone(&state.api_keys),
        auth::require_api_key,
    ));
    let (public, public_doc) = routes::public().split_for_parts();
    let allow =
        allow::methods(&[&api_doc, &public_doc], &["/track/{number}", "/metrics", "/openapi.json"]);
    let inner = Router::new()
        .merge(api)
        .merge(public)
        .route("/track", get(page::search))
        .route("/track/{number}", get(page::track_page))
        .route(page::STYLESHEET_PATH, get(page::stylesheet))
        .route("/metrics", get(ops::metrics))
        .route(
            "/openapi.json",
            get(move || {
                let doc = Arc::clone(&openapi);
                async move {
                    let json = HeaderValue::from_static("application/json");
                    ([(header::CONTENT_TYPE, json)], (*doc).clone()).into_response()
                }
            }),
        )
        .merge(docs())
        .fallback(fallback)
        .with_state(state.clone())
        .layer(
            ServiceBuilder::new()
                .layer(middleware::from_fn_with_state(
                    Arc::clone(&state.metrics),
                    metrics::track_requests,
                ))
                .layer(middleware::map_response(error::json_errors))
                .layer(middleware::from_fn_with_state(allow, allow::on_405))
                .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, limits.timeout))
                .layer(DefaultBodyLimit::max(limits.body_bytes)),
        );
    let outer = ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        // A 5xx is the client's answer, not a server crash: log it as a warning.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &axum::http::Request<_>| {
                    tracing::debug_span!(
                        "request",
                        method = %request.method(),
                        uri = %redacted_path(request.uri().path()),
                        version = ?request.version(),
                    )
                })
                .on_failure(DefaultOnFailure::new().level(tracing::Level::WARN)),
        )
        .layer(middleware::map_response(error::json_errors))
        .layer(middleware::map_response(security_headers))
        .layer(RequestBodyLimitLayer::new(limits.body_bytes))
        .service(inner);
    Router::new().fallback_service(outer)
}

/// Any unknown path: under `/v1` the API's JSON 404 (API clients parse errors, never HTML),
/// elsewhere the tracking page's friendly 404.
async fn fallback(method: axum::http::Method, uri: axum::http::Uri) -> axum::response::Response {
    let path = uri.path();
    if path == "/v1" || path.starts_with("/v1/") {
        return error::ApiError::not_found(format!(
            "no API route {method} {path}; the routes are listed in /openapi.json"
        ))
        .into_response();
    }
    page::fallback().await
}

/// The path as logged: a webhook URL's secret token (`/webhooks/{carrier}/{token}`) is
/// replaced, and the query (which may carry anything) is never logged.
fn redacted_path(path: &str) -> String {
    let mut parts = path.splitn(4, '/');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(""), Some("webhooks"), Some(carrier), Some(_)) => {
            format!("/webhooks/{carrier}/[REDACTED]")
        }
        _ => path.to_owned(),
    }
}

/// The Content-Security-Policy of every response: nothing but the page's own stylesheet, its
/// search form submitting to itself, and no framing. The pages use no script, inline style or
/// image, so this costs nothing and blocks injected content even if escaping ever failed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The Content-Security-Policy of `/docs`, the interactive API page: Swagger UI's own
/// scripts and styles (it sets inline styles and `data:` images), requests only to this
/// server (the OpenAPI document and "try it out"), no online validator, no framing.
pub const DOCS_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// `/docs`: Swagger UI over `/openapi.json`, its assets vendored in the binary so it works
/// offline. "Try it out" sends the API key the visitor enters under "Authorize".
fn docs() -> Router<AppState> {
    let config = utoipa_swagger_ui::Config::new(["/openapi.json"])
        .validator_url("none")
        .try_it_out_enabled(true)
        .persist_authorization(false)
        .display_request_duration(true);
    let ui: Router<AppState> = utoipa_swagger_ui::SwaggerUi::new("/docs").config(config).into();
    ui.layer(middleware::map_response(|mut r: axum::response::Response| async move {
        r.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DOCS_CONTENT_SECURITY_POLICY),
        );
        r
    }))
}

/// Adds the security headers to a response: [`CONTENT_SECURITY_POLICY`] (unless the route
/// set its own, as `/docs` does),
/// `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer` (a tracking number in
/// the URL never leaks to a carrier's site through a link) and `X-Frame-Options: DENY` (for
/// browsers without `frame-ancestors`).
pub async fn security_headers<B>(mut response: axum::http::Response<B>) -> axum::http::Response<B> {
    let h = response.headers_mut();
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

#[cfg(test)]
mod redaction_tests {
    use super::redacted_path;

    #[test]
    fn webhook_tokens_never_reach_the_log() {
        assert_eq!(redacted_path("/webhooks/courier/s3cret-token"), "/webhooks/courier/[REDACTED]");
        assert_eq!(redacted_path("/webhooks/courier"), "/webhooks/courier");
        assert_eq!(redacted_path("/track/ABC"), "/track/ABC");
    }
}

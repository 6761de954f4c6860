//! The documented routes, in one place: the router serves them and the OpenAPI document is
//! generated from them, so neither can drift from the other.

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{api, cancel, imports, ops, parcels, state::AppState, webhooks};

/// `/v1/*`: every route needs an API key.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::create_order, api::list_orders))
        .routes(routes!(api::get_order))
        .routes(routes!(cancel::cancel_order))
        .routes(routes!(imports::import))
        .routes(routes!(parcels::add_parcel))
        .routes(routes!(parcels::update_parcel))
        .routes(routes!(parcels::cancel_parcel))
        .routes(routes!(parcels::split_parcel))
        .routes(routes!(parcels::parcel_label))
        .routes(routes!(api::parcel_timeline))
        .routes(routes!(api::track))
        .routes(routes!(api::services))
        .routes(routes!(api::rates))
}

/// Documented routes open to anyone (the webhooks check their own signature or token).
pub fn public() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(webhooks::receive))
        .routes(routes!(webhooks::receive_with_token))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
}

/// Every documented route over `base` (used to generate the OpenAPI document).
pub fn documented(base: utoipa::openapi::OpenApi) -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(base).merge(api()).merge(public())
}

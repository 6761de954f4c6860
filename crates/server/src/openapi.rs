//! The OpenAPI 3 document, generated from the handlers' annotations and the wire types by
//! utoipa. Served at `/openapi.json`, printed by `waybill openapi`, and written to
//! `docs/openapi.json` by `cargo xtask codegen` (which `codegen --check` keeps fresh).

use utoipa::{
    Modify, OpenApi,
    openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
};

use crate::{error::ErrorCode, routes};

/// The document's fixed parts; the paths come from the router (see [`document`]).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "waybill",
        description = "Orders, merged parcel timelines and tracking over HTTP, served by `waybill serve`.\n\nThis document is generated from the code (utoipa); `docs/openapi.json` is written by `cargo xtask codegen`.",
        license(name = "MIT OR Apache-2.0"),
    ),
    components(schemas(ErrorCode, crate::model::ListSort, crate::model::Strictness)),
    modifiers(&Security),
    tags(
        (name = "api", description = "Orders, timelines, tracking, services and rates (API key required)"),
        (name = "webhooks", description = "Pushed carrier updates (signed)"),
        (name = "operations", description = "Health and readiness"),
    )
)]
struct ApiDoc;

/// Declares the two ways to present an API key.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Api-Key"))),
        );
    }
}

/// The whole document: fixed parts plus every documented route.
#[must_use]
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, api) = routes::documented(ApiDoc::openapi()).split_for_parts();
    api
}

/// The document as pretty JSON with a trailing newline (the bytes of `docs/openapi.json`).
///
/// # Errors
/// When serialisation fails (a bug).
pub fn json() -> Result<String, serde_json::Error> {
    let mut text = serde_json::to_string_pretty(&document())?;
    text.push('\n');
    Ok(text)
}

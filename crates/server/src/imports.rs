//! `POST /v1/imports`: a bulk import over HTTP — the body is a CSV or JSONL file, the answer
//! the same report `waybill orders import --json` prints (created, replays, orders done by an
//! earlier run, refused orders and bad rows with their lines and reasons, orders not created
//! yet after transient failures, retries). The import journal is the CLI's, so a re-posted
//! file skips what is done.

use axum::{
    Json,
    body::Bytes,
    extract::{Query, State},
    http::{HeaderMap, StatusCode, header},
};
use waybill_engine::import::{self, ImportError, ImportOptions};

use crate::{
    accounts::{self, AccountQuery},
    error::{ApiError, ErrorBody, ErrorCode},
    state::AppState,
};

/// Import orders from a CSV (`text/csv`) or JSONL (`application/x-ndjson`) body, with the
/// columns of the README's "Bulk import columns"; answers the import report. The body limit
/// is `serve.body_limit_bytes`: import larger files with `waybill orders import`.
#[utoipa::path(
    post,
    path = "/v1/imports",
    tag = crate::api::TAG,
    params(AccountQuery),
    request_body(content = String, description = "The import file", content_type = "text/csv"),
    responses(
        (status = 200, description = "The import report, as `waybill orders import --json` prints it: `created`, `duplicates`, `already_done`, `refused`, `not_yet`, `bad_rows` (each with lines and reasons), `retries`", body = Object),
        (status = 400, description = "No such account, or the file cannot be read at all (no header, an unknown column), named in the message", body = ErrorBody),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 413, description = "The body is larger than serve.body_limit_bytes", body = ErrorBody),
        (status = 415, description = "The body is neither text/csv nor application/x-ndjson", body = ErrorBody),
        (status = 500, description = "The store failed", body = ErrorBody),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn import(
    State(state): State<AppState>,
    Query(q): Query<AccountQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let media = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let Some(kind) = import::type_of_media(media) else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            format!(
                "an import body is text/csv or application/x-ndjson (JSON lines), not {media:?}"
            ),
        ));
    };
    let account = accounts::resolve(&state, q.account.as_deref())?;
    let options = ImportOptions { progress: false, ..ImportOptions::default() };
    let name = format!("the {kind} body");
    let report = import::import_bytes(
        kind,
        &body,
        &name,
        &account.name,
        std::sync::Arc::clone(&account.desk),
        std::sync::Arc::clone(&state.store),
        &options,
    )
    .await
    .map_err(|e| match e {
        ImportError::Store(s) => ApiError::from(s),
        other => {
            ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest, other.to_string())
        }
    })?;
    let json = serde_json::to_value(&report).map_err(|e| {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal, e.to_string())
    })?;
    Ok((StatusCode::OK, Json(json)))
}

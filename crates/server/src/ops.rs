//! Operations endpoints: `/healthz` (the process answers), `/readyz` (the store answers and
//! sync is not stalled or stopped) and `/metrics` (OpenMetrics text).

use axum::{
    Json,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::{
    metrics,
    model::{Health, Readiness},
    state::{AppState, SyncState},
};

/// Liveness: answers 200 while the process runs.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses((status = 200, description = "The process is up", body = Health))
)]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok".into() })
}

/// Readiness: 200 when the store answers and background sync made progress recently
/// (a committed page or a finished round within the configured window); 503 otherwise.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "The store does not answer, or sync is stalled or stopped", body = Readiness),
    )
)]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let probe = state.accounts.first().map_or("", |a| a.name.as_str()).to_owned();
    let store = match state.store.cursor(&probe).await {
        Ok(_) => "ok".to_owned(),
        Err(e) => format!("unreachable: {e}"),
    };
    let since = state.metrics.since_sync_progress();
    let sync = match state.sync_state() {
        SyncState::Disabled => "disabled".to_owned(),
        SyncState::Stopped(why) => format!("stopped: {why}"),
        SyncState::Running if since > state.sync_stalled_after => "stalled".to_owned(),
        SyncState::Running => "running".to_owned(),
    };
    let ready = store == "ok" && (sync == "running" || sync == "disabled");
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(Readiness { ready, store, sync, seconds_since_sync_progress: since.as_secs() }))
}

/// Prometheus metrics.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let mut r = state.metrics.render().into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(metrics::CONTENT_TYPE));
    r
}

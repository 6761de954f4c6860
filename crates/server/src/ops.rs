//! Operations endpoints: `/healthz` (the process answers), `/readyz` (per component: the store
//! decides readiness; sync counts only with `?strict=sync`; quarantined pool rows are
//! reported, never decisive) and `/metrics` (OpenMetrics text).

use axum::{
    Json,
    extract::{Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::{
    error::ApiError,
    metrics,
    model::{Component, Health, Readiness, ReadyQuery},
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

/// Readiness: 200 when the store answers, so the tracking page and the API can serve; an
/// upstream outage (a carrier unreachable, a refused credential) shows in the `sync`
/// component but does not make the server unready. `?strict=sync` also requires background
/// sync to be running and to have made progress (a committed page or a finished round) within
/// the configured window — the probe for a process whose job is syncing. The `quarantine`
/// component counts pool rows that could not be decoded (kept raw, sync went past them): it
/// is not ok while there are any, so someone looks at them, but it never makes the server
/// unready.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    params(ReadyQuery),
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 400, description = "`strict` names no component", body = crate::error::ErrorBody),
        (status = 503, description = "The store does not answer, or (with `strict=sync`) sync is stalled or stopped", body = Readiness),
    )
)]
pub async fn readyz(
    State(state): State<AppState>,
    query: Result<Query<ReadyQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let strict_sync = match query.map(|Query(q)| q.strict) {
        Ok(None) => false,
        Ok(Some(s)) if s == "sync" => true,
        Ok(Some(other)) => {
            return ApiError::invalid_field(
                "strict",
                format!("{other:?} is not a component; use strict=sync"),
            )
            .into_response();
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    let probe = state.accounts.first().map_or("", |a| a.name.as_str()).to_owned();
    let store = match state.store.cursor(&probe).await {
        Ok(_) => "ok".to_owned(),
        Err(e) => format!("unreachable: {e}"),
    };
    let since = state.metrics.since_sync_progress();
    let sync = match state.sync_state() {
        SyncState::Disabled => "disabled".to_owned(),
        SyncState::Stopped(why) => format!("stopped: {why}"),
        SyncState::Running if since > state.sync_stalled_after => format!(
            "stalled: no page committed and no round finished for {}s (limit {}s)",
            since.as_secs(),
            state.sync_stalled_after.as_secs()
        ),
        SyncState::Running => "running".to_owned(),
    };
    let quarantined = quarantine_total(&state).await;
    let store_ok = store == "ok";
    let sync_ok = sync == "running" || sync == "disabled";
    let components = vec![
        Component {
            name: "store".into(),
            ok: store_ok,
            required: true,
            reason: (!store_ok).then(|| store.clone()),
            count: None,
        },
        Component {
            name: "sync".into(),
            ok: sync_ok,
            required: strict_sync,
            reason: (sync != "running").then(|| sync.clone()),
            count: None,
        },
        Component {
            name: "quarantine".into(),
            ok: quarantined == Some(0),
            required: false,
            reason: match quarantined {
                Some(0) => None,
                Some(n) => Some(format!(
                    "{n} status-pool row(s) could not be decoded and are kept in quarantine; sync went past them (list them: waybill quarantine list)"
                )),
                None => Some("unknown: the store did not answer".into()),
            },
            count: quarantined,
        },
    ];
    let ready = components.iter().all(|c| c.ok || !c.required);
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body =
        Readiness { ready, store, sync, seconds_since_sync_progress: since.as_secs(), components };
    (status, Json(body)).into_response()
}

/// Every account's quarantined pool rows, summed; `None` when the store does not answer.
async fn quarantine_total(state: &AppState) -> Option<u64> {
    match state.store.quarantine_counts().await {
        Ok(counts) => Some(counts.iter().map(|c| c.rows).sum()),
        Err(e) => {
            tracing::warn!(error = %e, "cannot count quarantined pool rows");
            None
        }
    }
}

/// Prometheus metrics. The quarantine gauges are read from the store first (it is the truth
/// when several workers share it).
pub async fn metrics(State(state): State<AppState>) -> Response {
    match state.store.quarantine_counts().await {
        Ok(counts) => {
            let counts: Vec<_> = counts.into_iter().map(|c| (c.account, c.rows)).collect();
            state.metrics.set_quarantined(&counts);
        }
        Err(e) => tracing::warn!(error = %e, "cannot count quarantined pool rows for /metrics"),
    }
    match state.store.parcels_by_status().await {
        Ok(counts) => state.metrics.set_parcels(&counts),
        Err(e) => tracing::warn!(error = %e, "cannot count parcels by status for /metrics"),
    }
    match state.store.delivery_counts().await {
        Ok(counts) => state.metrics.set_webhook_deliveries(&counts),
        Err(e) => tracing::warn!(error = %e, "cannot count webhook deliveries for /metrics"),
    }
    let mut r = state.metrics.render().into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(metrics::CONTENT_TYPE));
    r
}

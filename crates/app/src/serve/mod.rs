//! `waybill serve`: one process that answers the JSON API (`/v1`), renders the public
//! tracking page (`/track/{number}`), receives StarShipIT webhooks, exports metrics and
//! readiness, and keeps syncing in the background with the same engine as `waybill sync`.
//!
//! | module | concept |
//! |---|---|
//! | [`router`] | routes, the API-key guard, tower-http layers |
//! | [`state`] | what handlers share |
//! | [`api`] / [`model`] | the JSON API and its wire types |
//! | [`error`] | the JSON error shape and its stable codes |
//! | [`auth`] | hashed API keys, constant-time comparison |
//! | [`page`] | the HTML tracking page, its 404 and 429 pages, per-client limits |
//! | [`webhooks`] | signed StarShipIT webhooks into the timeline |
//! | [`metrics`] / [`ops`] | Prometheus metrics, `/healthz`, `/readyz` |
//! | [`openapi`] | the generated OpenAPI 3 document |
//!
//! Shutdown (Ctrl-C or SIGTERM): the listener stops accepting, in-flight requests finish,
//! the sync engine finishes and commits its current page, then the process exits 0.

pub mod api;
pub mod auth;
pub mod error;
pub mod metrics;
pub mod model;
pub mod openapi;
pub mod ops;
pub mod page;
pub mod router;
pub mod state;
pub mod webhooks;

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::sync::watch;

use self::{
    metrics::Metrics,
    state::{Account, AppState, PageLimiter, SyncState},
};
use crate::{
    cli::Failure,
    commands::{open_store, shutdown_signal, starmile_client, sync_options, tracker_client},
    config::{Resolved, ResolvedServe},
    output::Output,
    store::Store,
    sync::{FeedAccount, SyncEngine},
};

/// Runs the server until Ctrl-C or SIGTERM, then shuts down gracefully.
///
/// Prints one line, `listening on http://ADDR`, once the socket is bound (tests and scripts
/// read the port from it when listening on port 0).
///
/// # Errors
/// A [`Failure`] when the store cannot be opened, a client cannot be built, or the address
/// cannot be bound.
pub async fn run(
    resolved: &Resolved,
    serve: ResolvedServe,
    out: &mut Output,
) -> Result<(), Failure> {
    let store = open_store(resolved).await?;
    let mut accounts = Vec::new();
    for a in &resolved.accounts {
        accounts.push(Account { name: a.name.clone(), client: Arc::new(starmile_client(a)?) });
    }
    let tracker = tracker_client(resolved)?.map(Arc::new);
    let names: Vec<String> = accounts.iter().map(|a| a.name.clone()).collect();
    let metrics = Arc::new(Metrics::new(&names, tracker.clone()));
    let state = AppState {
        store: Arc::clone(&store) as Arc<dyn Store>,
        accounts: Arc::new(accounts),
        api_keys: Arc::new(serve.api_keys.clone()),
        webhook_secret: serve.webhook_secret.clone().map(Arc::new),
        metrics: Arc::clone(&metrics),
        sync: Arc::new(Mutex::new(if serve.sync {
            SyncState::Running
        } else {
            SyncState::Disabled
        })),
        sync_stalled_after: serve.sync_stalled_after,
        page_limiter: Arc::new(PageLimiter::new(serve.page_requests_per_minute, serve.page_burst)),
    };

    let listener = tokio::net::TcpListener::bind(serve.listen)
        .await
        .map_err(|e| Failure::usage(format!("cannot listen on {}: {e}", serve.listen)))?;
    let local = listener
        .local_addr()
        .map_err(|e| Failure::runtime(format!("cannot read the bound address: {e}")))?;
    out.line(format!("listening on http://{local}"));
    tracing::info!(%local, api_keys = serve.api_keys.len(), webhooks = serve.webhook_secret.is_some(), "serving");

    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: no new connections; finishing requests and the sync page");
        let _ = stop_tx.send(true);
    });

    // Background sync: the same engine as `waybill sync`, sharing the API's clients.
    let sync_task = serve.sync.then(|| {
        let feeds = state
            .accounts
            .iter()
            .map(|a| FeedAccount { name: a.name.clone(), feed: Arc::clone(&a.client) as _ })
            .collect();
        let options = sync_options(resolved);
        let engine = SyncEngine::new(
            Arc::clone(&state.store),
            feeds,
            tracker.clone().map(|t| t as Arc<dyn waybill_domain::Tracker>),
            options,
        )
        .with_observer(Arc::clone(&metrics) as _);
        let state = state.clone();
        let stop = stop_rx.clone();
        tokio::spawn(async move {
            match engine.run(stop).await {
                Ok(report) => tracing::info!(?report, "sync stopped"),
                Err(e) => {
                    tracing::error!(error = %e, "sync stopped on an error; the API keeps serving, /readyz reports it");
                    state.set_sync_state(SyncState::Stopped(e.to_string()));
                }
            }
        })
    });

    // Forget idle page clients now and then, so the limiter's memory stays bounded.
    let limiter = Arc::clone(&state.page_limiter);
    let mut janitor_stop = stop_rx.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(60)) => limiter.forget_idle(),
                _ = janitor_stop.changed() => return,
            }
        }
    });

    let app = router::app(
        &state,
        router::Limits { timeout: serve.request_timeout, body_bytes: serve.body_limit_bytes },
    );
    let mut stop = stop_rx;
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        })
        .await
        .map_err(|e| Failure::runtime(format!("the server failed: {e}")))?;
    if let Some(task) = sync_task {
        // The engine returns once its current page is committed.
        task.await.map_err(|e| Failure::runtime(format!("the sync task failed: {e}")))?;
    }
    store.close().await;
    out.line("stopped");
    Ok(())
}

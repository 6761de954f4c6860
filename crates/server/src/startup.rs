//! Building and running the server (zero2prod's build/run split): [`bind`] takes ready
//! dependencies and settings, binds the socket and returns a [`Bound`] server whose
//! [`local_addr`](Bound::local_addr) is known before it runs; [`Bound::run`] serves until the
//! shutdown future resolves, then drains requests and lets background sync commit its page.
//! The server builds nothing itself: the app (or a test) hands it the store, the accounts as
//! ports, the carriers' metadata, webhook receivers and an optional sync engine.

use std::{
    net::SocketAddr,
    num::NonZeroU32,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::sync::watch;
use waybill_domain::{CarrierId, CarrierInfo, WebhookReceiver};
use waybill_engine::sync::SyncEngine;
use waybill_store::Store;

use crate::{
    auth::ApiKeys,
    metrics::{Metrics, UpstreamMetrics, WaitCounter},
    router,
    state::{Account, AppState, PageLimiter, SyncState},
};

/// What the server is handed, ready to use.
pub struct Deps {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The carrier accounts the API orders with; the first is the default.
    pub accounts: Vec<Account>,
    /// Every wired carrier's metadata (for display names and legs).
    pub carriers: Vec<CarrierInfo>,
    /// Webhook receivers, each routed at `/webhooks/{its carrier id}`.
    pub webhooks: Vec<Arc<dyn WebhookReceiver>>,
    /// Background sync, when wanted (the server attaches its metrics as the observer).
    pub engine: Option<SyncEngine>,
    /// Client-side rate-limiter wait counters to export, by carrier.
    pub limiter_waits: Vec<(CarrierId, WaitCounter)>,
    /// Limiter wait time and 429 answers by carrier and account, which the clients were
    /// built to report to.
    pub upstream: UpstreamMetrics,
}

/// How the server listens and limits.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The address to bind (port 0 picks a free port).
    pub listen: SocketAddr,
    /// Accepted API keys (hashed).
    pub api_keys: ApiKeys,
    /// Longest a request may take (then 408).
    pub request_timeout: Duration,
    /// Largest accepted request body in bytes (then 413).
    pub body_limit_bytes: usize,
    /// Tracking-page lookups per client (IP address) per minute, sustained.
    pub page_requests_per_minute: NonZeroU32,
    /// Tracking-page lookups per client in a burst.
    pub page_burst: NonZeroU32,
    /// `/readyz` fails after this long without sync progress.
    pub sync_stalled_after: Duration,
    /// Longest a client may take to send a request's headers (then the connection is
    /// closed): a slowloris client cannot hold a connection open by dripping bytes.
    pub header_read_timeout: Duration,
    /// Most connections served at once; further clients wait in the listen backlog until one
    /// closes. Keep it below the process's open-file limit, so accepting never fails.
    pub max_connections: usize,
}

/// Why the server could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The address could not be bound (in use, not permitted, not local).
    #[error(
        "cannot listen on {addr}: {source}; pick another address with --listen or serve.listen"
    )]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the OS said.
        source: std::io::Error,
    },
    /// Serving failed after the socket was bound.
    #[error("the server failed: {0}")]
    Serve(#[source] std::io::Error),
    /// The background sync task panicked or was cancelled.
    #[error("the background sync task failed: {0}")]
    SyncTask(String),
}

/// A server bound to its socket, not serving yet.
pub struct Bound {
    listener: tokio::net::TcpListener,
    local: SocketAddr,
    state: AppState,
    limits: router::Limits,
    connections: ConnectionLimits,
    engine: Option<SyncEngine>,
}

/// How connections are bounded (see [`Settings::header_read_timeout`] and
/// [`Settings::max_connections`]).
#[derive(Debug, Clone, Copy)]
struct ConnectionLimits {
    header_read_timeout: Duration,
    max: usize,
}

impl std::fmt::Debug for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bound").field("local", &self.local).finish_non_exhaustive()
    }
}

/// Binds the socket and assembles the application; nothing is served until [`Bound::run`].
///
/// # Errors
/// [`ServerError::Bind`] when the address cannot be bound.
pub async fn bind(deps: Deps, settings: Settings) -> Result<Bound, ServerError> {
    let names: Vec<String> = deps.accounts.iter().map(|a| a.name.clone()).collect();
    let metrics = Arc::new(Metrics::new(&names, deps.limiter_waits).with_upstream(&deps.upstream));
    let state = AppState {
        store: deps.store,
        accounts: Arc::new(deps.accounts),
        carriers: Arc::new(deps.carriers),
        webhooks: Arc::new(deps.webhooks),
        api_keys: Arc::new(settings.api_keys),
        metrics: Arc::clone(&metrics),
        sync: Arc::new(Mutex::new(if deps.engine.is_some() {
            SyncState::Running
        } else {
            SyncState::Disabled
        })),
        sync_stalled_after: settings.sync_stalled_after,
        page_limiter: Arc::new(PageLimiter::new(
            settings.page_requests_per_minute,
            settings.page_burst,
        )),
    };
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|source| ServerError::Bind { addr: settings.listen, source })?;
    let local = listener.local_addr().map_err(ServerError::Serve)?;
    let engine = deps.engine.map(|e| e.with_observer(metrics));
    let limits =
        router::Limits { timeout: settings.request_timeout, body_bytes: settings.body_limit_bytes };
    let connections = ConnectionLimits {
        header_read_timeout: settings.header_read_timeout,
        max: settings.max_connections.max(1),
    };
    Ok(Bound { listener, local, state, limits, connections, engine })
}

impl Bound {
    /// The bound address (the real port when port 0 was asked for).
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Serves until `shutdown` resolves, then stops accepting, finishes in-flight requests
    /// and waits for background sync to commit its current page.
    ///
    /// # Errors
    /// [`ServerError::Serve`] or [`ServerError::SyncTask`].
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let Bound { listener, local, state, limits, connections, engine } = self;
        tracing::info!(%local, accounts = state.accounts.len(), webhooks = state.webhooks.len(), sync = engine.is_some(), "serving");
        let (stop_tx, stop_rx) = watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            tracing::info!(
                "shutting down: no new connections; finishing requests and the sync page"
            );
            let _ = stop_tx.send(true);
        });

        // Background sync: the same engine as `waybill sync`, sharing the API's clients.
        let sync_task = engine.map(|engine| {
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

        let app = router::app(&state, limits);
        serve(listener, app, connections, stop_rx).await;
        if let Some(task) = sync_task {
            // The engine returns once its current page is committed.
            task.await.map_err(|e| ServerError::SyncTask(e.to_string()))?;
        }
        Ok(())
    }
}

/// Accepts connections until `stop` turns true, each served by hyper's HTTP/1 connection
/// with a header-read timeout, at most `limits.max` at once; then waits for open connections
/// to finish their requests. axum's own `serve` offers neither bound, so a slowloris client
/// could hold every file descriptor.
async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    limits: ConnectionLimits,
    mut stop: watch::Receiver<bool>,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt as _;

    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    loop {
        // Take a permit before accepting: at the cap, new clients wait in the backlog.
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            () = stopped(&mut stop) => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning; the next accept retries.
                    tracing::warn!(error = %e, "accept failed; retrying in 100 ms");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = stopped(&mut stop) => break,
        };
        let app = app.clone();
        let service = hyper::service::service_fn(
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
                app.clone().oneshot(request.map(axum::body::Body::new))
            },
        );
        let connection = http.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    graceful.shutdown().await;
}

/// Resolves once `stop` turns true (or its sender is gone), holding no borrow of the value.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

//! `waybill serve`: resolves the server's settings and ports, binds, prints one startup
//! block, and serves until Ctrl-C/SIGTERM. The block's first line is
//! `listening on http://ADDR` (tests and scripts read the port from it when listening on
//! port 0); then the store, each account and its cursor, sync and webhook state, the URLs.

use std::sync::Arc;

use waybill_engine::sync::SyncOptions;
use waybill_server::{Deps, Settings};
use waybill_store::AnyStore;

use crate::{
    carriers::Clients, cmd::shutdown_signal, config::ResolvedServe, context::Context,
    exit::Failure, output::Output,
};

/// `waybill serve` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Address to listen on, a host or IP address and a port (overrides `serve.listen`,
    /// default 127.0.0.1:8088; `localhost:8088` works too); port 0
    /// picks a free port, printed as `listening on http://ADDR`.
    #[arg(long)]
    pub listen: Option<String>,
}

/// Everything `waybill serve` runs with: the server's ports and settings, and the store to
/// close afterwards.
pub struct Assembled {
    /// The server's dependencies.
    pub deps: Deps,
    /// The server's settings.
    pub settings: Settings,
    /// The store (closed after the server stops).
    pub store: Arc<AnyStore>,
    /// What the startup block reports besides the store.
    pub startup: Startup,
}

/// What `waybill serve` runs with, for its startup block (never a secret's value).
#[derive(Debug, Clone)]
pub struct Startup {
    /// The Starmile accounts, in configuration order.
    pub starmile: Vec<String>,
    /// The StarShipIT accounts (empty without `[starshipit]`).
    pub starshipit: Vec<String>,
    /// Background sync's poll interval, when sync runs in this process.
    pub sync: Option<std::time::Duration>,
    /// Whether webhooks are authenticated by signature and by URL token.
    pub webhook_signature: bool,
    /// See [`Startup::webhook_signature`].
    pub webhook_token: bool,
    /// Outbound webhook subscriptions: (name, the host deliveries go to).
    pub outbound: Vec<(String, String)>,
}

/// Resolves what `waybill serve` needs from the context, then [`wire`]s it.
///
/// # Errors
/// Configuration or store failures.
pub async fn assemble(ctx: &Context, listen: Option<&str>) -> Result<Assembled, Failure> {
    let serve = ctx.serve(listen)?;
    let clients = ctx.clients()?;
    let options = ctx.sync_options()?;
    Ok(wire(&clients, serve, options, ctx.store().await?))
}

/// Wires resolved settings, clients and a store into the server's dependencies — the one
/// place that does, used by the binary and by the e2e harness's in-process server alike.
#[must_use]
pub fn wire(
    clients: &Clients,
    serve: ResolvedServe,
    options: SyncOptions,
    store: Arc<AnyStore>,
) -> Assembled {
    let startup = Startup {
        starmile: clients.accounts.iter().map(|(name, _)| name.clone()).collect(),
        starshipit: clients
            .tracker
            .as_ref()
            .map(|t| t.names().into_iter().map(str::to_owned).collect())
            .unwrap_or_default(),
        sync: serve.sync.then_some(options.poll_interval),
        webhook_signature: serve.webhook_secret.is_some(),
        webhook_token: serve.webhook_token.is_some(),
        outbound: Vec::new(),
    };
    let engine = serve.sync.then(|| clients.engine_for(&store, options));
    let deps = clients.server_deps(
        Arc::clone(&store) as _,
        serve.webhook_secret,
        serve.webhook_token,
        engine,
    );
    Assembled { deps, settings: serve.settings, store, startup }
}

/// Serves until Ctrl-C or SIGTERM, then shuts down gracefully.
///
/// # Errors
/// Configuration, store, bind or serve failures.
pub async fn run(ctx: &Context, args: &Args, out: &mut Output) -> Result<(), Failure> {
    let Assembled { deps, settings, store, mut startup } =
        assemble(ctx, args.listen.as_deref()).await?;
    let sender = ctx.webhook_sender(&store)?;
    if let Some(sender) = &sender {
        sender.subscribe().await.map_err(Failure::store)?;
        startup.outbound = outbound_hosts(ctx)?;
    }
    let status = store.status().await.map_err(Failure::store)?;
    let bound = waybill_server::bind(deps, settings).await.map_err(|e| match e {
        waybill_server::ServerError::Bind { .. } => Failure::config(e.to_string()),
        other => Failure::runtime(other.to_string()),
    })?;
    out.note(block(&status, &startup, &format!("http://{}", bound.local_addr())));
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let sending = sender.map(|s| tokio::spawn(async move { s.run(stop).await }));
    let shutdown = async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    };
    let served = bound.run(shutdown).await.map_err(|e| Failure::runtime(e.to_string()));
    // The pass in flight finishes (its deliveries are recorded) before the store closes.
    if let Some(task) = sending {
        let _ = task.await;
    }
    served?;
    store.close().await;
    out.note("stopped");
    Ok(())
}

/// Each outbound subscription's name and the host its deliveries go to (never the path or
/// query, which may carry a token).
pub fn outbound_hosts(ctx: &Context) -> Result<Vec<(String, String)>, Failure> {
    Ok(ctx
        .outbound_webhooks()?
        .into_iter()
        .map(|e| {
            let host = url::Url::parse(&e.url)
                .ok()
                .and_then(|u| {
                    u.host_str().map(|h| match u.port() {
                        Some(p) => format!("{}://{h}:{p}", u.scheme()),
                        None => format!("{}://{h}", u.scheme()),
                    })
                })
                .unwrap_or_default();
            (e.name, host)
        })
        .collect())
}

/// The startup block: the `listening on` line first (scripts read the address from it),
/// then what an operator checks first.
#[must_use]
pub fn block(status: &waybill_store::StoreStatus, startup: &Startup, base: &str) -> String {
    let cursor =
        |name: &str| status.accounts.iter().find(|a| a.account == name).map_or(0, |a| a.cursor);
    let starmile = startup
        .starmile
        .iter()
        .map(|n| format!("{n} (cursor {})", cursor(n)))
        .collect::<Vec<_>>()
        .join(", ");
    let starshipit = if startup.starshipit.is_empty() {
        "not configured (no first-leg tracking)".to_owned()
    } else {
        startup.starshipit.join(", ")
    };
    let sync = match startup.sync {
        Some(every) => format!("on, polling every {}", humantime(every)),
        None => "off (run `waybill sync` beside this server)".to_owned(),
    };
    let webhooks = match (startup.webhook_signature, startup.webhook_token) {
        (true, true) => format!(
            "on: signed at {base}/webhooks/starshipit, or by token at {base}/webhooks/starshipit/<token>"
        ),
        (true, false) => format!("on: signed, at {base}/webhooks/starshipit"),
        (false, true) => format!("on: by token, at {base}/webhooks/starshipit/<token>"),
        (false, false) => {
            "off (no webhook secret or token: deliveries are refused with 503)".to_owned()
        }
    };
    let outbound = if startup.outbound.is_empty() {
        "none (add [[outbound_webhooks]] to be told of status changes)".to_owned()
    } else {
        let names: Vec<String> =
            startup.outbound.iter().map(|(name, host)| format!("{name} → {host}")).collect();
        format!("{} (deliveries: `waybill webhooks deliveries`)", names.join(", "))
    };
    let c = &status.counts;
    [
        format!("listening on {base}"),
        format!(
            "  store:      {} at {} (schema {}; {} orders, {} parcels, {} events)",
            status.backend, status.location, status.schema_version, c.orders, c.parcels, c.events
        ),
        format!("  starmile:   {starmile}"),
        format!("  starshipit: {starshipit}"),
        format!("  sync:       {sync}"),
        format!("  webhooks:   {webhooks}"),
        format!("  outbound:   {outbound}"),
        format!("  page:       {base}/track/<number>"),
        format!("  api:        {base}/v1 (docs: {base}/docs/, OpenAPI: {base}/openapi.json)"),
        format!("  metrics:    {base}/metrics · readiness: {base}/readyz ({base}/readyz?strict=sync for sync)"),
    ]
    .join("\n")
}

/// A duration as people write it: `30s`, `2m`, `1m30s`, `500ms`.
fn humantime(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    match (secs / 60, secs % 60, d.subsec_millis()) {
        (0, 0, ms) => format!("{ms}ms"),
        (0, s, _) => format!("{s}s"),
        (m, 0, _) => format!("{m}m"),
        (m, s, _) => format!("{m}m{s}s"),
    }
}

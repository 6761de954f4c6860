//! `waybill serve`: resolves the server's settings and ports, binds, prints
//! `listening on http://ADDR` (tests and scripts read the port from it when listening on
//! port 0), and serves until Ctrl-C/SIGTERM.

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
    let engine = serve.sync.then(|| clients.engine_for(&store, options));
    let deps = clients.server_deps(
        Arc::clone(&store) as _,
        serve.webhook_secret,
        serve.webhook_token,
        engine,
    );
    Assembled { deps, settings: serve.settings, store }
}

/// Serves until Ctrl-C or SIGTERM, then shuts down gracefully.
///
/// # Errors
/// Configuration, store, bind or serve failures.
pub async fn run(ctx: &Context, args: &Args, out: &mut Output) -> Result<(), Failure> {
    let Assembled { deps, settings, store } = assemble(ctx, args.listen.as_deref()).await?;
    let bound = waybill_server::bind(deps, settings).await.map_err(|e| match e {
        waybill_server::ServerError::Bind { .. } => Failure::config(e.to_string()),
        other => Failure::runtime(other.to_string()),
    })?;
    out.note(format!("listening on http://{}", bound.local_addr()));
    bound.run(shutdown_signal()).await.map_err(|e| Failure::runtime(e.to_string()))?;
    store.close().await;
    out.note("stopped");
    Ok(())
}

//! `waybill serve`: resolves the server's settings and ports, binds, prints
//! `listening on http://ADDR` (tests and scripts read the port from it when listening on
//! port 0), and serves until Ctrl-C/SIGTERM.

use std::sync::Arc;

use waybill_server::{Deps, Settings};
use waybill_store::Store;

use crate::{carriers, cmd::shutdown_signal, context::Context, exit::Failure, output::Output};

/// `waybill serve` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Address to listen on (overrides `serve.listen`, default 127.0.0.1:8088); port 0
    /// picks a free port, printed as `listening on http://ADDR`.
    #[arg(long)]
    pub listen: Option<String>,
}

/// Everything `waybill serve` runs with, built from the configuration: the server's ports
/// and settings, and the store to close afterwards. The e2e harness uses this too, to start
/// the server in-process through [`waybill_server::bind`].
pub struct Assembled {
    /// The server's dependencies.
    pub deps: Deps,
    /// The server's settings.
    pub settings: Settings,
    /// The store (closed after the server stops).
    pub store: Arc<waybill_store::SqliteStore>,
}

/// Builds the server's dependencies and settings from the context.
///
/// # Errors
/// Configuration or store failures.
pub async fn assemble(ctx: &Context, listen: Option<&str>) -> Result<Assembled, Failure> {
    let serve = ctx.serve(listen)?;
    let accounts = ctx.accounts()?;
    let tracker = ctx.starshipit()?.map(|s| carriers::starshipit(&s)).transpose()?.map(Arc::new);
    let options = ctx.sync_options()?;
    let clients = carriers::starmile_all(&accounts)?;
    let store = ctx.store().await?;
    let engine = serve
        .sync
        .then(|| carriers::engine(Arc::clone(&store) as _, &clients, tracker.clone(), options));
    let deps = Deps {
        store: Arc::clone(&store) as Arc<dyn Store>,
        accounts: clients.iter().map(|(name, c)| carriers::server_account(name, c)).collect(),
        carriers: carriers::all(),
        webhooks: carriers::webhooks(serve.webhook_secret.clone()),
        engine,
        limiter_waits: tracker.iter().map(carriers::limiter_waits).collect(),
    };
    let settings = Settings {
        listen: serve.listen,
        api_keys: serve.api_keys,
        request_timeout: serve.request_timeout,
        body_limit_bytes: serve.body_limit_bytes,
        page_requests_per_minute: serve.page_requests_per_minute,
        page_burst: serve.page_burst,
        sync_stalled_after: serve.sync_stalled_after,
    };
    Ok(Assembled { deps, settings, store })
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

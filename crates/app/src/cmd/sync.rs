//! `waybill sync [--once]`: drain every account's status pool and refresh first-leg tracking;
//! continuous until Ctrl-C/SIGTERM (the current page is committed first). A pool row that
//! cannot be decoded does not stop it: the row is kept raw in quarantine (`waybill
//! quarantine list`) and sync goes on.

use tokio::sync::watch;
use waybill_engine::sync::SyncError;

use crate::{cmd::shutdown_signal, context::Context, exit::Failure, output::Output};

/// `waybill sync` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// One round (drain every pool, refresh tracking once), then exit.
    #[arg(long)]
    pub once: bool,
}

/// Runs the engine.
///
/// # Errors
/// Configuration, store, or carrier failures the engine cannot retry.
pub async fn run(ctx: &Context, args: &Args, out: &mut Output) -> Result<(), Failure> {
    let clients = ctx.clients()?;
    let options = ctx.sync_options()?;
    let store = ctx.store().await?;
    let engine = clients.engine_for(&store, options);
    if let Some(holder) = engine.holder() {
        out.note(format!("sync worker {holder} sharing {}", ctx.store_location()?.describe()));
    }
    let (tx, rx) = watch::channel(false);
    // Ctrl-C or SIGTERM: finish the current page, commit, exit.
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = tx.send(true);
    });
    let result = if args.once { engine.run_once(&rx).await } else { engine.run(rx).await };
    let report = result.map_err(|e| match e {
        SyncError::Carrier { account, source } => Failure::carrier(&account, &source),
        SyncError::Store(s) => Failure::store(s),
    })?;
    if out.json {
        out.json_value(&report);
    } else {
        out.line(format!(
            "synced: {} pages, {} new pool rows, {} parcels refreshed, {} new tracking events, {} lookups to retry",
            report.pages, report.pool_rows, report.refreshed, report.tracking_events, report.refresh_errors
        ));
    }
    if report.quarantined > 0 {
        // On stderr with --json too: the document stays the report.
        out.note(format!(
            "{} pool row(s) could not be decoded and were kept in quarantine; sync went past them. See them: waybill quarantine list",
            report.quarantined
        ));
    }
    Ok(())
}

//! `waybill sync [--once]`: drain every account's status pool and refresh first-leg tracking;
//! continuous until Ctrl-C/SIGTERM (the current page is committed first and the totals are
//! printed; Ctrl-C exits 130, SIGTERM, a supervisor's orderly stop, exits 0), printing one
//! line per round that stored something. A
//! pool row that cannot be decoded does not stop it: the row is kept raw in quarantine
//! (`waybill quarantine list`) and sync goes on.

use std::sync::Arc;

use tokio::sync::{mpsc, watch};
use waybill_engine::sync::{SyncError, SyncObserver, SyncReport};

use crate::{
    cmd::{Stop, stop_signal},
    context::Context,
    exit::{Failure, FailureKind},
    output::Output,
};

/// Hands each finished round to the command, which prints it (the engine's task never
/// writes to the terminal itself).
struct Rounds(mpsc::UnboundedSender<SyncReport>);

impl SyncObserver for Rounds {
    fn round_finished(&self, report: &SyncReport) {
        let _ = self.0.send(report.clone());
    }
}

/// One round for people, when it stored or looked up anything (idle rounds stay quiet).
fn round_line(r: &SyncReport) -> Option<String> {
    let busy = r.pool_rows + r.refreshed + r.tracking_events + r.quarantined + r.refresh_errors;
    (busy > 0).then(|| {
        let now = jiff::Timestamp::now()
            .round(jiff::Unit::Second)
            .unwrap_or_else(|_| jiff::Timestamp::now());
        let mut line = format!(
            "{now} round: {} new pool rows, {} parcels refreshed, {} new tracking events",
            r.pool_rows, r.refreshed, r.tracking_events
        );
        if r.quarantined > 0 {
            line.push_str(&format!(", {} quarantined", r.quarantined));
        }
        if r.refresh_errors > 0 {
            line.push_str(&format!(", {} lookups to retry", r.refresh_errors));
        }
        line
    })
}

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
    let (rounds_tx, mut rounds) = mpsc::unbounded_channel();
    let mut engine = clients.engine_for(&store, options);
    if !args.once {
        engine = engine.with_observer(Arc::new(Rounds(rounds_tx)));
    }
    if let Some(holder) = engine.holder() {
        out.note(format!("sync worker {holder} sharing {}", ctx.store_location()?.describe()));
    }
    let (tx, rx) = watch::channel(false);
    let (by_tx, by) = watch::channel(None);
    // Ctrl-C or SIGTERM: finish the current page, commit, exit.
    tokio::spawn(async move {
        let signal = stop_signal().await;
        let _ = by_tx.send(Some(signal));
        let _ = tx.send(true);
    });
    let stopped = rx.clone();
    let sender = ctx.webhook_sender(&store)?;
    if let Some(sender) = &sender {
        sender.subscribe().await.map_err(Failure::store)?;
    }
    let sender = sender.map(Arc::new);
    let sending = match (&sender, args.once) {
        (Some(sender), false) => {
            let (sender, rx) = (Arc::clone(sender), rx.clone());
            Some(tokio::spawn(async move { sender.run(rx).await }))
        }
        _ => None,
    };
    let result = if args.once {
        let result = engine.run_once(&rx).await;
        // One pass over what is due, so a cron-driven `sync --once` also notifies; what
        // fails waits for the next run (or `serve`) to retry.
        if let (Some(sender), Ok(_)) = (&sender, &result) {
            match sender.deliver_due().await {
                Ok(pass) if pass.attempted > 0 => out.note(format!(
                    "webhooks: {} sent, {} delivered, {} to retry, {} given up",
                    pass.attempted, pass.delivered, pass.retrying, pass.given_up
                )),
                Ok(_) => {}
                Err(e) => return Err(Failure::store(e)),
            }
        }
        result
    } else {
        let run = engine.run(rx);
        tokio::pin!(run);
        loop {
            tokio::select! {
                result = &mut run => break result,
                Some(round) = rounds.recv() => {
                    if let Some(line) = round_line(&round) {
                        out.note(line);
                    }
                }
            }
        }
    };
    if let Some(task) = sending {
        // Stopped by a signal: the pass in flight finishes. Stopped by a failure: the sender
        // stops mid-pass (a delivery it was sending is claimed, and sent again later).
        if *stopped.borrow() {
            let _ = task.await;
        } else {
            task.abort();
        }
    }
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
    if *by.borrow() == Some(Stop::Interrupt) {
        // The work is committed; the code says the run was cut short (shells and
        // supervisors read 130 as "interrupted").
        return Err(Failure::new(
            FailureKind::Interrupted,
            "interrupted: the current page was committed; run `waybill sync` again to go on",
        ));
    }
    Ok(())
}

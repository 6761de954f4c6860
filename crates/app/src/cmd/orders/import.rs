//! `waybill orders import FILE`: bulk creation from CSV or JSONL (columns in the README and
//! in [`waybill_engine::import`]).
//!
//! Exit codes: 0 when every row made it; 4 when rows must be fixed (bad rows, orders the
//! carrier refused, references reused for a different order) — `--rejects FILE` writes them
//! with a `reason` column, to fix and import as they are; 75 when nothing needs fixing but
//! some orders are not created yet (the carrier kept failing transiently for longer than
//! `--retry-for`): run the same command again.

use std::{path::PathBuf, sync::Arc, time::Duration};

use waybill_engine::import::{self, ImportError, ImportOptions, ImportReport, RetryBudget};

use crate::{
    carriers,
    context::Context,
    exit::{Failure, FailureKind},
    output::Output,
};

/// `waybill orders import` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The file (.csv or .jsonl).
    pub file: PathBuf,
    /// Orders created at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// How long (seconds) each order keeps retrying transient failures (429 — honouring
    /// Retry-After —, 5xx, dropped connections, timeouts) before it is reported "not yet".
    #[arg(long, value_name = "SECONDS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub retry_for: u64,
    /// The longest one attempt may take (seconds) before it is abandoned and retried (an
    /// order that was created meanwhile is recognised as a replay).
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub attempt_timeout: u64,
    /// Write every row not imported to FILE (CSV, the file's columns plus `reason`): fix the
    /// rows there and import FILE.
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
}

/// Imports the file.
///
/// # Errors
/// Configuration, file or store failures; exit 4 when rows or orders need fixing, 75 when
/// only transient failures are left (re-run).
pub async fn run(ctx: &Context, args: &Args, out: &mut Output) -> Result<(), Failure> {
    let account = ctx.account()?;
    let client = carriers::starmile(&account)?;
    let store = ctx.store().await?;
    let options = ImportOptions {
        concurrency: usize::from(args.concurrency),
        retry: RetryBudget {
            deadline: Duration::from_secs(args.retry_for),
            attempt_timeout: Duration::from_secs(args.attempt_timeout),
            ..RetryBudget::default()
        },
        rejects: args.rejects.clone(),
        progress: true,
    };
    let report = import::import_file(&args.file, &account.name, Arc::new(client), store, &options)
        .await
        .map_err(|e| match e {
            ImportError::Store(s) => Failure::store(s),
            ImportError::Rejects { .. } => Failure::runtime(e.to_string()),
            other => Failure::usage(other.to_string()),
        })?;
    if out.json {
        out.json_value(&report);
    } else {
        print_report(&report, out);
    }
    if report.needs_fixing() {
        let rejects = args
            .rejects
            .as_ref()
            .map(|r| format!(" (written to {} with their reasons)", r.display()))
            .unwrap_or_default();
        let not_yet = if report.not_yet.is_empty() {
            String::new()
        } else {
            format!(
                "; {} more orders are not created yet (transient failures), the re-run retries them",
                report.not_yet.len()
            )
        };
        return Err(Failure::new(
            FailureKind::Partial,
            format!(
                "{} bad rows and {} refused orders in {}{rejects}: fix them and re-run (done orders are skipped){not_yet}",
                report.bad_rows.len(),
                report.refused.len(),
                args.file.display()
            ),
        ));
    }
    if !report.not_yet.is_empty() {
        return Err(Failure::new(
            FailureKind::NotYet,
            format!(
                "{} orders are not created yet: the carrier kept failing transiently for {} s each; nothing needs fixing, run the same command again (done orders are skipped)",
                report.not_yet.len(),
                args.retry_for
            ),
        ));
    }
    Ok(())
}

fn print_report(report: &ImportReport, out: &mut Output) {
    out.line(format!(
        "{} rows: {} orders created, {} already at Starmile, {} done by an earlier run, {} refused, {} not yet, {} bad rows",
        report.rows,
        report.created,
        report.duplicates,
        report.already_done,
        report.refused.len(),
        report.not_yet.len(),
        report.bad_rows.len()
    ));
    if report.retries.total > 0 {
        let kinds: Vec<String> =
            report.retries.by_kind.iter().map(|(k, n)| format!("{k}: {n}")).collect();
        out.line(format!(
            "retried {} transient failures ({})",
            report.retries.total,
            kinds.join(", ")
        ));
    }
    for e in &report.bad_rows {
        out.line(format!("  line {}: {}", e.line, e.reason));
    }
    for p in &report.refused {
        out.line(format!("  line {}: refused: {}", first(&p.lines), p.reason));
    }
    for p in &report.not_yet {
        out.line(format!("  line {}: not yet: {}", first(&p.lines), p.reason));
    }
    if let Some(n) = report.rejects_written {
        out.line(format!("{n} rows written to the rejects file"));
    }
}

fn first(lines: &[u64]) -> u64 {
    lines.first().copied().unwrap_or(0)
}

//! `waybill orders import FILE`: bulk creation from CSV or JSONL (columns in the README and
//! in [`waybill_engine::import`]).

use std::{path::PathBuf, sync::Arc};

use waybill_engine::import::{self, ImportError};

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
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
}

/// Imports the file.
///
/// # Errors
/// Configuration, file or store failures; exit 4 when rows or orders need fixing.
pub async fn run(ctx: &Context, args: &Args, out: &mut Output) -> Result<(), Failure> {
    let account = ctx.account()?;
    let client = carriers::starmile(&account)?;
    let store = ctx.store().await?;
    let report =
        import::import_file(&args.file, &account.name, Arc::new(client), store, args.concurrency)
            .await
            .map_err(|e| match e {
                ImportError::Store(s) => Failure::store(s),
                other => Failure::usage(other.to_string()),
            })?;
    if out.json {
        out.json_value(&report);
    } else {
        out.line(format!(
            "{} rows: {} orders created, {} already at Starmile, {} done by an earlier run, {} refused, {} bad rows",
            report.rows,
            report.created,
            report.duplicates,
            report.already_done,
            report.failed_orders.len(),
            report.bad_rows.len()
        ));
        for e in report.bad_rows.iter().chain(&report.failed_orders) {
            out.line(format!("  line {}: {}", e.line, e.reason));
        }
    }
    if !report.is_clean() {
        return Err(Failure::new(
            FailureKind::Partial,
            format!(
                "{} bad rows and {} refused orders in {}; fix them and re-run (done orders are skipped)",
                report.bad_rows.len(),
                report.failed_orders.len(),
                args.file.display()
            ),
        ));
    }
    Ok(())
}

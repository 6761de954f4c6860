//! `waybill orders …`: one module per subcommand.

pub mod cancel;
pub mod create;
pub mod import;
pub mod list;
pub mod show;
mod table;

use crate::{context::Context, exit::Failure, output::Output};

/// `waybill orders …`
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Create one order.
    #[command(
        after_help = "Examples:\n  waybill orders create --reference PO-1 --service 5 --item TRK-1 --item TRK-2
  waybill orders create --reference PO-2 --service 5 --item TRK-3 --json"
    )]
    Create(create::Args),
    /// Create orders from a CSV or JSONL file (see the README for columns).
    #[command(after_help = "Examples:\n  waybill orders import orders.csv
  waybill orders import orders.jsonl --concurrency 32 --json")]
    Import(import::Args),
    /// List stored orders.
    #[command(after_help = "Examples:\n  waybill orders list
  waybill orders list --status customs_hold --limit 50
  waybill orders list --after PO-100 --json")]
    List(list::Args),
    /// Show one stored order with its parcels.
    #[command(after_help = "Examples:\n  waybill orders show PO-1
  waybill orders show PO-1 --json")]
    Show(show::Args),
    /// Cancel an order at Starmile.
    #[command(after_help = "Examples:\n  waybill orders cancel PO-1")]
    Cancel(cancel::Args),
}

/// Runs an orders subcommand.
///
/// # Errors
/// As the subcommand.
pub async fn run(ctx: &Context, command: Command, out: &mut Output) -> Result<(), Failure> {
    match command {
        Command::Create(args) => create::run(ctx, &args, out).await,
        Command::Import(args) => import::run(ctx, &args, out).await,
        Command::List(args) => list::run(ctx, &args, out).await,
        Command::Show(args) => show::run(ctx, &args, out).await,
        Command::Cancel(args) => cancel::run(ctx, &args, out).await,
    }
}

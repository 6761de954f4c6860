//! `waybill orders …`: one module per subcommand.

pub mod add_parcel;
pub mod cancel;
pub mod cancel_parcel;
pub mod create;
pub mod import;
pub mod list;
pub mod parcel_args;
pub mod show;
pub mod split;
mod table;
pub mod update_parcel;

use crate::{context::Context, exit::Failure, output::Output};

/// `waybill orders …`
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Create one order (a different order under a used reference is refused, exit 2).
    #[command(
        after_help = "Examples:\n  waybill orders create --reference PO-1 --service 5 --item TRK-1 --item TRK-2
  waybill orders create --reference PO-2 --service 5 --item TRK-3 --json"
    )]
    Create(create::Args),
    /// Create orders from a CSV or JSONL file (see the README for columns).
    #[command(after_help = "Examples:\n  waybill orders import orders.csv
  waybill orders import orders.csv --rejects rejects.csv   # fix rejects.csv, then: waybill orders import rejects.csv
  waybill orders import orders.jsonl --concurrency 32 --retry-for 300 --json

Exit codes: 0 all imported; 4 rows to fix (bad rows, refused orders); 75 nothing to fix but
some orders not created yet (transient carrier failures): run the same command again.")]
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
    /// Change a parcel at Starmile before it is received.
    #[command(
        after_help = "Examples:\n  waybill orders update-parcel PO-1 TRK-1 --weight 1.5kg --dimensions 300x200x100"
    )]
    UpdateParcel(update_parcel::Args),
    /// Add a parcel (with its declared products) to an order at Starmile.
    #[command(
        after_help = "Examples:\n  waybill orders add-parcel PO-1 TRK-9 --weight 800g --product \"Running shoes;640299;59.99 USD;1\""
    )]
    AddParcel(add_parcel::Args),
    /// Cancel one parcel at Starmile.
    #[command(
        after_help = "Examples:\n  waybill orders cancel-parcel PO-1 TRK-2 --reason \"customer changed their mind\""
    )]
    CancelParcel(cancel_parcel::Args),
    /// Move one parcel onto a new order at Starmile.
    #[command(
        after_help = "Examples:\n  waybill orders split PO-1 TRK-2 PO-1B --reason \"ships separately\""
    )]
    Split(split::Args),
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
        Command::UpdateParcel(args) => update_parcel::run(ctx, &args, out).await,
        Command::AddParcel(args) => add_parcel::run(ctx, &args, out).await,
        Command::CancelParcel(args) => cancel_parcel::run(ctx, &args, out).await,
        Command::Split(args) => split::run(ctx, &args, out).await,
    }
}

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
    /// Create one order.
    Create(create::Args),
    /// Create orders from a CSV or JSONL file (see the README for columns).
    Import(import::Args),
    /// List stored orders.
    List(list::Args),
    /// Show one stored order with its parcels.
    Show(show::Args),
    /// Cancel an order at Starmile.
    Cancel(cancel::Args),
    /// Change a parcel at Starmile before it is received.
    UpdateParcel(update_parcel::Args),
    /// Add a parcel (with its declared products) to an order at Starmile.
    AddParcel(add_parcel::Args),
    /// Cancel one parcel at Starmile.
    CancelParcel(cancel_parcel::Args),
    /// Move one parcel onto a new order at Starmile.
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

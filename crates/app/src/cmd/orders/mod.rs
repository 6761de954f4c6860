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
    Create(create::Args),
    /// Create orders from a CSV or JSONL file (see the README for columns).
    Import(import::Args),
    /// List stored orders.
    List(list::Args),
    /// Show one stored order with its parcels.
    Show(show::Args),
    /// Cancel an order at Starmile.
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

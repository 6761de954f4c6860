//! `waybill orders …`: one module per subcommand.

pub mod cancel;
pub mod create;
pub mod import;
pub mod list;
pub mod show;

use waybill_store::StoredOrder;

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

/// The header of [`order_rows`].
pub const ORDER_HEADER: [&str; 6] =
    ["reference", "account", "service", "starmile number", "parcels", "status"];

/// One table row per stored order.
#[must_use]
pub fn order_rows(orders: &[StoredOrder]) -> Vec<Vec<String>> {
    orders
        .iter()
        .map(|o| {
            vec![
                o.reference.to_string(),
                o.account.clone(),
                o.service_id.map(|s| s.to_string()).unwrap_or_default(),
                o.tracking_number.as_ref().map(ToString::to_string).unwrap_or_default(),
                o.parcels.len().to_string(),
                o.status.to_string(),
            ]
        })
        .collect()
}

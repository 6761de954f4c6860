//! `waybill orders cancel REF [--reason …]`: cancels an order at Starmile; the pool reports
//! it on the next sync.

use waybill_domain::{OrderDesk, PartnerOrderRef};

use crate::{carriers, context::Context, exit::Failure, output::Output};

/// `waybill orders cancel` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The order reference.
    pub reference: String,
    /// Why (sent to Starmile).
    #[arg(long)]
    pub reason: Option<String>,
}

/// Cancels the order.
///
/// # Errors
/// Usage, configuration or carrier failures.
pub async fn run(ctx: &Context, args: &Args, out: &mut Output) -> Result<(), Failure> {
    let reference = PartnerOrderRef::parse(args.reference.clone())
        .map_err(|e| Failure::usage(e.to_string()))?;
    let account = ctx.account()?;
    let client = carriers::starmile(&account)?;
    OrderDesk::cancel_order(&client, &reference, args.reason.clone())
        .await
        .map_err(|e| Failure::carrier(&carriers::who(&account), &e))?;
    if out.json {
        out.json_value(&serde_json::json!({ "reference": reference, "cancelled": true }));
    } else {
        out.line(format!("order {reference} cancelled; the pool will report it on the next sync"));
    }
    Ok(())
}

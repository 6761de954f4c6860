//! `waybill orders cancel-parcel REF PARCEL [--reason …]`: cancels one parcel at Starmile
//! (the order goes with its last active parcel).

use waybill_domain::ParcelDesk;

use super::update_parcel::refs;
use crate::{carriers, context::Context, exit::Failure, output::Output};

/// `waybill orders cancel-parcel` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The order reference.
    pub reference: String,
    /// The parcel's merchant tracking number.
    pub parcel: String,
    /// Why (sent to Starmile).
    #[arg(long)]
    pub reason: Option<String>,
}

/// Cancels the parcel.
///
/// # Errors
/// Usage, configuration or carrier failures.
pub async fn run(ctx: &Context, args: &Args, out: &mut Output) -> Result<(), Failure> {
    let (reference, parcel) = refs(&args.reference, &args.parcel)?;
    let account = ctx.account()?;
    let client = carriers::starmile(&account)?;
    let done = ParcelDesk::cancel_parcel(&client, &reference, &parcel, args.reason.clone())
        .await
        .map_err(|e| Failure::carrier(&carriers::who(&account), &e))?;
    if out.json {
        out.json_value(&done);
    } else if done.order_cancelled {
        out.line(format!(
            "parcel {parcel} cancelled; it was the last one, so order {reference} is cancelled too"
        ));
    } else {
        out.line(format!("parcel {parcel} of order {reference} cancelled"));
    }
    Ok(())
}

//! `waybill orders split REF PARCEL NEW_REF [--reason …]`: moves one parcel onto a new
//! order at Starmile (same service, recipient and destination).

use waybill_domain::{ParcelDesk, PartnerOrderRef};
use waybill_store::{OrderBook, ParcelPlacement, SplitFrom};

use super::update_parcel::refs;
use crate::{carriers, context::Context, exit::Failure, output::Output};

/// `waybill orders split` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The order the parcel leaves.
    pub reference: String,
    /// The parcel's merchant tracking number.
    pub parcel: String,
    /// The new order's reference (unused, different from REF).
    pub new_reference: String,
    /// Why (kept on the new order's history).
    #[arg(long)]
    pub reason: Option<String>,
}

/// Splits the parcel off.
///
/// # Errors
/// Usage, configuration or carrier failures.
pub async fn run(ctx: &Context, args: &Args, out: &mut Output) -> Result<(), Failure> {
    let (reference, parcel) = refs(&args.reference, &args.parcel)?;
    let new_reference = PartnerOrderRef::parse(args.new_reference.clone())
        .map_err(|e| Failure::usage(e.to_string()))?;
    if new_reference == reference {
        return Err(Failure::usage(
            "NEW_REF must differ from REF: choose an unused order reference",
        ));
    }
    let account = ctx.account()?;
    let client = carriers::starmile(&account)?;
    // Opened first: the new order and the parcel's move are recorded at once.
    let store = ctx.store().await?;
    let split =
        ParcelDesk::split_parcel(&client, &reference, &parcel, &new_reference, args.reason.clone())
            .await
            .map_err(|e| Failure::carrier(&carriers::who(&account), &e))?;
    let placement = ParcelPlacement {
        reference: split.reference.clone(),
        merchant_tracking_number: parcel.clone(),
        tracking_number: Some(split.parcel.tracking_number.clone()),
        split: Some(SplitFrom {
            source: split.source.clone(),
            order_tracking_number: split.tracking_number.clone(),
        }),
    };
    store.place_parcel(&account.name, &placement).await.map_err(Failure::store)?;
    if out.json {
        out.json_value(&split);
    } else {
        out.line(format!(
            "parcel {parcel} moved from {reference} to new order {new_reference} (starmile {})",
            split.tracking_number
        ));
    }
    Ok(())
}

//! `waybill orders add-parcel REF MERCHANT_TRACKING --product … [--weight …]`: adds a
//! parcel (with at least one declared product) to an order at Starmile.

use waybill_domain::{OrderItem, ParcelDesk};
use waybill_store::{OrderBook, ParcelPlacement};

use super::{parcel_args::ParcelFields, update_parcel::refs};
use crate::{carriers, context::Context, exit::Failure, output::Output};

/// `waybill orders add-parcel` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The order reference.
    pub reference: String,
    /// The new parcel's merchant tracking number.
    pub parcel: String,
    /// The parcel's details.
    #[command(flatten)]
    pub fields: ParcelFields,
}

/// Adds the parcel.
///
/// # Errors
/// Usage (no product, bad values), configuration or carrier failures.
pub async fn run(ctx: &Context, args: &Args, out: &mut Output) -> Result<(), Failure> {
    let (reference, parcel) = refs(&args.reference, &args.parcel)?;
    let mut item = OrderItem::new(parcel);
    item.weight = args.fields.weight()?;
    item.dimensions = args.fields.dimensions()?;
    item.package_type = args.fields.package_type()?;
    item.products = args.fields.products()?;
    item.check_addable().map_err(|e| Failure::usage(format!("{e} (use --product)")))?;
    let account = ctx.account()?;
    let client = carriers::starmile(&account)?;
    // Opened first: a parcel added at the carrier is recorded at once, so the order book
    // (and `label --all`) knows it before the pool reports it.
    let store = ctx.store().await?;
    let added = ParcelDesk::add_parcel(&client, &reference, &item)
        .await
        .map_err(|e| Failure::carrier(&carriers::who(&account), &e))?;
    let placement = ParcelPlacement {
        reference: reference.clone(),
        merchant_tracking_number: item.merchant_tracking_number.clone(),
        tracking_number: Some(added.tracking_number.clone()),
        split: None,
    };
    store.place_parcel(&account.name, &placement).await.map_err(Failure::store)?;
    if out.json {
        out.json_value(&added);
    } else {
        out.line(format!(
            "parcel {} added to order {reference}: starmile tracking number {}",
            item.merchant_tracking_number, added.tracking_number
        ));
    }
    Ok(())
}

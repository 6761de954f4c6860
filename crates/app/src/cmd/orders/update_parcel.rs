//! `waybill orders update-parcel REF PARCEL [--weight …] [--merchant-tracking …] …`:
//! changes a parcel at Starmile before it is received (`--product` replaces the list).

use waybill_domain::{MerchantTrackingNumber, ParcelChanges, ParcelDesk, PartnerOrderRef};

use super::parcel_args::ParcelFields;
use crate::{carriers, context::Context, exit::Failure, output::Output};

/// `waybill orders update-parcel` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The order reference.
    pub reference: String,
    /// The parcel's merchant tracking number.
    pub parcel: String,
    /// A new merchant tracking number for the parcel.
    #[arg(long)]
    pub merchant_tracking: Option<String>,
    /// The parcel's details.
    #[command(flatten)]
    pub fields: ParcelFields,
}

/// Sends the change.
///
/// # Errors
/// Usage (nothing to change, bad values), configuration or carrier failures.
pub async fn run(ctx: &Context, args: &Args, out: &mut Output) -> Result<(), Failure> {
    let (reference, parcel) = refs(&args.reference, &args.parcel)?;
    let mut changes = ParcelChanges {
        merchant_tracking_number: args
            .merchant_tracking
            .clone()
            .map(MerchantTrackingNumber::parse)
            .transpose()
            .map_err(|e| Failure::usage(e.to_string()))?,
        package_type: args.fields.package_type()?,
        weight: args.fields.weight()?,
        dimensions: args.fields.dimensions()?,
        products: None,
    };
    let products = args.fields.products()?;
    if !products.is_empty() {
        changes = changes.products(products);
    }
    changes.check().map_err(|e| Failure::usage(e.to_string()))?;
    let account = ctx.account()?;
    let client = carriers::starmile(&account)?;
    let updated = ParcelDesk::update_parcel(&client, &reference, &parcel, &changes)
        .await
        .map_err(|e| Failure::carrier(&carriers::who(&account), &e))?;
    if out.json {
        out.json_value(&updated);
    } else {
        out.line(format!(
            "parcel {parcel} of order {reference} updated ({})",
            updated.tracking_number
        ));
    }
    Ok(())
}

/// Parses an order reference and a parcel's merchant tracking number.
pub(crate) fn refs(
    reference: &str,
    parcel: &str,
) -> Result<(PartnerOrderRef, MerchantTrackingNumber), Failure> {
    let usage = |e: waybill_domain::ParseError| Failure::usage(e.to_string());
    Ok((
        PartnerOrderRef::parse(reference).map_err(usage)?,
        MerchantTrackingNumber::parse(parcel).map_err(usage)?,
    ))
}

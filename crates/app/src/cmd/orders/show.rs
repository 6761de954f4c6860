//! `waybill orders show REF`: one stored order with its parcels. Needs only the store.

use waybill_domain::PartnerOrderRef;
use waybill_store::OrderBook;

use crate::{
    cmd::orders::table::{ORDER_HEADER, order_rows},
    context::Context,
    exit::Failure,
    output::{Output, views::OrderView},
};

/// `waybill orders show` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The order reference.
    pub reference: String,
}

/// Shows the order.
///
/// # Errors
/// Usage, store failures, or not found.
pub async fn run(ctx: &Context, args: &Args, out: &mut Output) -> Result<(), Failure> {
    let reference = PartnerOrderRef::parse(args.reference.clone())
        .map_err(|e| Failure::usage(e.to_string()))?;
    let store = ctx.existing_store().await?;
    let Some(order) = store.order(None, &reference).await.map_err(Failure::store)? else {
        return Err(Failure::not_found(format!(
            "no stored order {reference}; see `waybill orders list`"
        )));
    };
    if out.json {
        out.json_value(&OrderView::from(&order));
    } else {
        out.table(&ORDER_HEADER, order_rows(std::slice::from_ref(&order)));
        let rows = order
            .parcels
            .iter()
            .map(|p| {
                vec![
                    p.merchant_tracking_number.to_string(),
                    p.tracking_number.as_ref().map(ToString::to_string).unwrap_or_default(),
                    p.status.to_string(),
                ]
            })
            .collect();
        out.table(&["merchant tracking number", "starmile tracking number", "status"], rows);
    }
    Ok(())
}

//! `waybill orders create --service 5 --reference PO-1 --item TRK-1 [--item …]`: one order
//! at Starmile, stored with its parcels.
//!
//! Idempotent on the reference: the same order again is a replay (exit 0, "already existed");
//! a different order under a reference already used is refused before anything is sent
//! (exit 2, naming what differs) and changes nothing.

use waybill_domain::{
    MerchantTrackingNumber, OrderDesk, OrderItem, OrderRequest, PartnerOrderRef, ServiceId,
};
use waybill_store::{OrderBook, Replay, StoreError};

use crate::{
    carriers, context::Context, exit::Failure, output::Output, output::views::CreatedOrder,
};

/// `waybill orders create` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Service id.
    #[arg(long)]
    pub service: u32,
    /// Your order reference (Starmile's `external_parent_id`).
    #[arg(long)]
    pub reference: String,
    /// A parcel's merchant tracking number; repeat for several parcels.
    #[arg(long = "item", required = true)]
    pub items: Vec<String>,
}

/// Creates the order.
///
/// # Errors
/// Usage (invalid order), configuration, carrier or store failures.
pub async fn run(ctx: &Context, args: &Args, out: &mut Output) -> Result<(), Failure> {
    let usage = |e: &dyn std::fmt::Display| Failure::usage(e.to_string());
    let service = ServiceId::new(args.service).map_err(|e| usage(&e))?;
    let reference = PartnerOrderRef::parse(args.reference.clone()).map_err(|e| usage(&e))?;
    let items = args
        .items
        .iter()
        .map(|i| MerchantTrackingNumber::parse(i.clone()).map(OrderItem::new))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| usage(&e))?;
    let request = OrderRequest::new(service, reference, items).map_err(|e| usage(&e))?;
    let account = ctx.account()?;
    let client = carriers::starmile(&account)?;
    let store = ctx.store().await?;
    if let Replay::Conflict(conflict) =
        store.check_replay(&account.name, &request).await.map_err(Failure::store)?
    {
        return Err(Failure::usage(conflict.to_string()));
    }
    let order = OrderDesk::create_order(&client, &request)
        .await
        .map_err(|e| Failure::carrier(&carriers::who(&account), &e))?;
    store.save_order(&account.name, &request, &order).await.map_err(|e| match e {
        StoreError::IdempotencyConflict(conflict) => Failure::usage(conflict.to_string()),
        other => Failure::store(other),
    })?;
    if out.json {
        out.json_value(&CreatedOrder::from(&order));
    } else {
        out.line(format!(
            "order {} {} as {}",
            order.reference,
            if order.duplicate { "already existed (replay)" } else { "created" },
            order.tracking_number
        ));
        let rows = order
            .parcels
            .iter()
            .map(|p| {
                vec![
                    p.merchant_tracking_number
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    p.tracking_number.to_string(),
                ]
            })
            .collect();
        out.table(&["merchant tracking number", "starmile tracking number"], rows);
    }
    Ok(())
}

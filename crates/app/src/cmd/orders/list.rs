//! `waybill orders list`: stored orders, filtered and paged by reference. Needs only the
//! store.

use waybill_domain::{PartnerOrderRef, ServiceId, TrackingStatus};
use waybill_store::{OrderBook, OrderFilter};

use crate::{
    cmd::orders::table::{ORDER_HEADER, order_rows},
    context::Context,
    exit::Failure,
    output::{Output, views::OrderView},
};

/// `waybill orders list` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Only orders in this unified status (e.g. `in_transit`).
    #[arg(long)]
    pub status: Option<String>,
    /// Only orders of this service id.
    #[arg(long)]
    pub service: Option<u32>,
    /// Start after this reference (the previous page's last).
    #[arg(long)]
    pub after: Option<String>,
    /// Page size.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
}

/// Lists the orders.
///
/// # Errors
/// Usage (bad filter) or store failures.
pub async fn run(ctx: &Context, args: &Args, out: &mut Output) -> Result<(), Failure> {
    let usage = |e: &dyn std::fmt::Display| Failure::usage(e.to_string());
    let status = args
        .status
        .as_deref()
        .map(str::parse::<TrackingStatus>)
        .transpose()
        .map_err(|e| usage(&e))?;
    let service = args.service.map(ServiceId::new).transpose().map_err(|e| usage(&e))?;
    let after =
        args.after.clone().map(PartnerOrderRef::parse).transpose().map_err(|e| usage(&e))?;
    let store = ctx.store().await?;
    let filter =
        OrderFilter { account: None, status, service_id: service, after, limit: args.limit };
    let orders = store.list_orders(&filter).await.map_err(Failure::store)?;
    if out.json {
        let views: Vec<OrderView> = orders.iter().map(OrderView::from).collect();
        out.json_value(&views);
    } else {
        out.table(&ORDER_HEADER, order_rows(&orders));
    }
    if orders.len() as u32 == args.limit
        && let Some(last) = orders.last()
    {
        out.note(format!("more: waybill orders list --after {}", last.reference));
    }
    Ok(())
}

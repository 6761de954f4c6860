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

/// The largest page: the store's cap on one listing.
const MAX_PAGE: i64 = 1000;

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
    /// Page size, 1 to 1000.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=MAX_PAGE))]
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
    let store = ctx.existing_store().await?;
    let mut filter =
        OrderFilter { account: None, status, service_id: service, after, limit: args.limit };
    let orders = store.list_orders(&filter).await.map_err(Failure::store)?;
    // A full page may be the last: one probe for a single order after it tells.
    let more = match orders.last() {
        Some(last) if orders.len() == args.limit as usize => {
            filter.after = Some(last.reference.clone());
            filter.limit = 1;
            !store.list_orders(&filter).await.map_err(Failure::store)?.is_empty()
        }
        _ => false,
    };
    if out.json {
        let views: Vec<OrderView> = orders.iter().map(OrderView::from).collect();
        out.json_value(&views);
    } else if orders.is_empty() {
        out.line(if args.status.is_some() || args.service.is_some() || args.after.is_some() {
            "no orders match these filters"
        } else {
            "no orders stored yet; create one with `waybill orders create` or `waybill orders import`"
        });
    } else {
        out.table(&ORDER_HEADER, order_rows(&orders));
    }
    if more && let Some(last) = orders.last() {
        out.note(format!("more: {}", next_page(args, last.reference.as_ref())));
    }
    Ok(())
}

/// The command for the next page: the same filters and page size, after `last`.
fn next_page(args: &Args, last: &str) -> String {
    let mut cmd = String::from("waybill orders list");
    if let Some(status) = &args.status {
        cmd.push_str(&format!(" --status {status}"));
    }
    if let Some(service) = args.service {
        cmd.push_str(&format!(" --service {service}"));
    }
    if args.limit != 50 {
        cmd.push_str(&format!(" --limit {}", args.limit));
    }
    cmd.push_str(&format!(" --after {}", shell_word(last)));
    cmd
}

/// `word` quoted for a POSIX shell when it holds anything but safe characters.
fn shell_word(word: &str) -> String {
    if !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:@+".contains(c))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_page_hint_keeps_every_filter_and_quotes_the_reference() {
        let args =
            Args { status: Some("in_transit".into()), service: Some(5), after: None, limit: 10 };
        assert_eq!(
            next_page(&args, "PO 7's"),
            "waybill orders list --status in_transit --service 5 --limit 10 --after 'PO 7'\\''s'"
        );
        let plain = Args { status: None, service: None, after: Some("PO-1".into()), limit: 50 };
        assert_eq!(next_page(&plain, "PO-9"), "waybill orders list --after PO-9");
    }
}

//! `waybill orders list`: stored orders, newest first (or by reference), filtered and paged.
//! Needs only the store.

use waybill_domain::{ServiceId, TrackingStatus};
use waybill_store::{OrderBook, OrderFilter, OrderSort};

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
    /// Start after this order: the `--after` the previous page's hint printed
    /// (`@ACCOUNT:REFERENCE`), or a reference.
    #[arg(long)]
    pub after: Option<String>,
    /// Page size, 1 to 1000.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=MAX_PAGE))]
    pub limit: u32,
    /// `newest` (when first stored, newest first) or `reference` (text order).
    #[arg(long, value_enum, default_value_t = Sort::Newest)]
    pub sort: Sort,
}

/// The order of `waybill orders list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Sort {
    /// Newest first.
    Newest,
    /// By reference.
    Reference,
}

impl From<Sort> for OrderSort {
    fn from(s: Sort) -> Self {
        match s {
            Sort::Newest => OrderSort::Newest,
            Sort::Reference => OrderSort::Reference,
        }
    }
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
    let mut filter = OrderFilter {
        status,
        service_id: service,
        limit: args.limit,
        sort: args.sort.into(),
        ..OrderFilter::default()
    };
    if let Some(after) = &args.after {
        filter.set_cursor(after).map_err(|e| Failure::usage(format!("--after: {e}")))?;
    }
    let store = ctx.existing_store().await?;
    let orders = store.list_orders(&filter).await.map_err(Failure::store)?;
    // A full page may be the last: one probe for a single order after it tells.
    let more = match orders.last() {
        Some(last) if orders.len() == args.limit as usize => {
            filter.after = Some(last.reference.clone());
            filter.after_account = Some(last.account.clone());
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
        out.note(format!("more: {}", next_page(args, &OrderFilter::cursor_of(last))));
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
    if args.sort == Sort::Reference {
        cmd.push_str(" --sort reference");
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
        let args = Args {
            status: Some("in_transit".into()),
            service: Some(5),
            after: None,
            limit: 10,
            sort: Sort::Reference,
        };
        assert_eq!(
            next_page(&args, "@main:PO 7's"),
            "waybill orders list --status in_transit --service 5 --limit 10 --sort reference --after '@main:PO 7'\\''s'"
        );
        let plain = Args {
            status: None,
            service: None,
            after: Some("PO-1".into()),
            limit: 50,
            sort: Sort::Newest,
        };
        assert_eq!(next_page(&plain, "@main:PO-9"), "waybill orders list --after @main:PO-9");
    }
}

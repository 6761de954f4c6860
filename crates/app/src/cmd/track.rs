//! `waybill track NUMBER [--order] [--starshipit-account NAME]`: a live first-leg lookup at
//! StarShipIT, with the account that shipped it.

use waybill_domain::{TrackQuery, Tracker, TrackingNumber};

use crate::{
    carriers,
    context::Context,
    exit::Failure,
    output::{Clock, Output, TIMELINE_HEADER, TzArg, timeline_rows, views::ShipmentView},
};

/// `waybill track` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// A tracking number (or an order number with --order).
    pub number: String,
    /// Treat the argument as StarShipIT's order number.
    #[arg(long)]
    pub order: bool,
    /// Ask only this StarShipIT account (a `[[starshipit.accounts]]` name); by default every
    /// account is asked until the one that shipped it answers.
    #[arg(long, value_name = "NAME")]
    pub starshipit_account: Option<String>,
    /// The view's zone.
    #[command(flatten)]
    pub tz: TzArg,
}

/// Looks the number up and prints each shipment with its events.
///
/// # Errors
/// Usage, configuration (StarShipIT not configured), carrier, or not found.
pub async fn run(ctx: &Context, args: &Args, out: &mut Output) -> Result<(), Failure> {
    let query = if args.order {
        TrackQuery::OrderNumber(args.number.clone())
    } else {
        TrackQuery::TrackingNumber(
            TrackingNumber::parse(args.number.clone())
                .map_err(|e| Failure::usage(e.to_string()))?,
        )
    };
    let clock = Clock::from_arg(&args.tz)?;
    let config = ctx.require_starshipit()?;
    let accounts = carriers::starshipit(&config)?;
    let tracker: &dyn Tracker = match &args.starshipit_account {
        None => &accounts,
        Some(name) => accounts.client(name).ok_or_else(|| {
            Failure::usage(format!(
                "no StarShipIT account named {name:?}; configured: {}",
                accounts.names().join(", ")
            ))
        })?,
    };
    let shipments = tracker
        .track(&query)
        .await
        .map_err(|e| Failure::carrier(waybill_starshipit::CARRIER_ID.as_str(), &e))?;
    if out.json {
        let views: Vec<ShipmentView> = shipments.iter().map(ShipmentView::from).collect();
        out.json_value(&views);
    } else {
        for s in &shipments {
            out.line(format!(
                "{} ({} {}) — {}",
                s.tracking_number,
                s.carrier_name.as_deref().unwrap_or("unknown carrier"),
                s.carrier_service.as_deref().unwrap_or(""),
                s.status
            ));
            let mut t = waybill_domain::Timeline::from_events(s.events.clone());
            if let Some(zone) = &config.timezone {
                t.set_local_zone(&waybill_starshipit::CARRIER_ID, zone);
            }
            out.line(clock.legend());
            out.table(&TIMELINE_HEADER, timeline_rows(&t, &clock));
        }
    }
    Ok(())
}

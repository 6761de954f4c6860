//! `waybill timeline NUMBER`: a parcel's merged timeline from the store, by any number
//! waybill knows for it. Needs only the store (`--db` or `store.path`): no carrier, no secret.

use waybill_domain::TrackingNumber;
use waybill_store::TimelineReader;

use crate::{
    context::Context,
    exit::Failure,
    output::{Clock, Output, TIMELINE_HEADER, TzArg, timeline_rows, views::TimelineView},
};

/// `waybill timeline` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Merchant tracking number, Starmile tracking number, or order reference.
    pub parcel: String,
    /// The view's zone.
    #[command(flatten)]
    pub tz: TzArg,
}

/// Prints the timeline.
///
/// # Errors
/// Store failures, or not found.
pub async fn run(ctx: &Context, args: &Args, out: &mut Output) -> Result<(), Failure> {
    let clock = Clock::from_arg(&args.tz)?;
    if args.parcel.trim().is_empty() {
        return Err(Failure::usage(
            "the parcel number is empty: give a merchant or Starmile tracking number, or an order reference",
        ));
    }
    let zone = ctx.starshipit_zone()?;
    let store = ctx.existing_store().await?;
    let found = store.parcel_timeline(args.parcel.trim()).await.map_err(Failure::store)?;
    let Some(mut p) = found else {
        return Err(Failure::not_found(format!(
            "no parcel known by {:?}; run `waybill sync` or check the number",
            args.parcel
        )));
    };
    if let Some(zone) = zone {
        p.timeline.set_local_zone(&waybill_starshipit::CARRIER_ID, &zone);
    }
    if out.json {
        out.json_value(&TimelineView::from(&p));
    } else {
        out.line(format!(
            "{} · order {} · Starmile {} · {}",
            p.parcel.merchant_tracking_number,
            p.reference,
            p.parcel.tracking_number.as_ref().map_or("-", TrackingNumber::as_str),
            p.timeline.current_status()
        ));
        out.line(format!("{} · {}", p.timeline.current_milestone().label(), clock.legend()));
        out.table(&TIMELINE_HEADER, timeline_rows(&p.timeline, &clock));
    }
    Ok(())
}

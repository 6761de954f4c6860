//! `waybill quote --service 5 --weight 1.5kg`: the price of one parcel. `--json` answers
//! what `GET /v1/rates?service=5&weight=1.5kg` answers: the matching rate cards, each with
//! its `quote`.

use waybill_domain::{Catalog, RateCard, ServiceId, Weight};

use crate::{
    carriers, cmd::rates::corridor, context::Context, exit::Failure, output::Output,
    output::views::RateCardView,
};

/// `waybill quote` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Service id.
    #[arg(long)]
    pub service: u32,
    /// Weight: grams (`1500`) or with a unit (`1.5kg`).
    #[arg(long)]
    pub weight: String,
}

/// Prices the parcel on every card of the service.
///
/// # Errors
/// Usage (bad service or weight, or a weight above every tier), configuration, carrier, or
/// not found (no card).
pub async fn run(ctx: &Context, args: &Args, out: &mut Output) -> Result<(), Failure> {
    let service = ServiceId::new(args.service).map_err(|e| Failure::usage(e.to_string()))?;
    let weight: Weight = args
        .weight
        .parse()
        .map_err(|e: waybill_domain::ParseError| Failure::usage(e.to_string()))?;
    let account = ctx.account()?;
    let client = carriers::starmile(&account)?;
    let rates = Catalog::rates(&client)
        .await
        .map_err(|e| Failure::carrier(&carriers::who(&account), &e))?;
    let cards: Vec<&RateCard> = rates.iter().filter(|c| c.service_id() == service).collect();
    if cards.is_empty() {
        return Err(Failure::not_found(format!(
            "service {service} has no rate card for this account; see `waybill rates`"
        )));
    }
    // A weight no card prices is the user's to fix (split the parcel, another service):
    // say which tier is the heaviest instead of printing a table of refusals.
    if cards.iter().all(|c| c.quote(weight).is_err()) {
        let heaviest = cards
            .iter()
            .filter_map(|c| c.tiers().last().map(|t| (t.max_weight, corridor(c))))
            .max_by_key(|(max, _)| *max);
        return Err(Failure::usage(match heaviest {
            Some((max, on)) => format!(
                "--weight {weight} is above every tier of service {service}: the heaviest is {max} ({on}); give a weight up to {max}, split the parcel, or choose another service (`waybill rates`)"
            ),
            None => format!("service {service} has no priced tier; see `waybill rates`"),
        }));
    }
    if out.json {
        let views: Vec<RateCardView> =
            cards.iter().map(|c| RateCardView::new(c, Some(weight))).collect();
        out.json_value(&views);
    } else {
        let rows = cards
            .iter()
            .map(|c| {
                vec![
                    service.to_string(),
                    corridor(c),
                    weight.to_string(),
                    c.quote(weight).map_or_else(|e| e.to_string(), |p| p.to_string()),
                ]
            })
            .collect();
        out.table(&["service", "corridor", "weight", "price"], rows);
    }
    Ok(())
}

//! `waybill rates`: the rate cards of the account's services.

use waybill_domain::{Catalog, RateCard};

use crate::{
    carriers, context::Context, exit::Failure, output::Output, output::views::RateCardView,
};

/// `waybill rates` takes no arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {}

/// Lists the rate cards.
///
/// # Errors
/// Configuration or carrier failures.
pub async fn run(ctx: &Context, _args: &Args, out: &mut Output) -> Result<(), Failure> {
    let account = ctx.account()?;
    let client = carriers::starmile(&account)?;
    let rates = Catalog::rates(&client)
        .await
        .map_err(|e| Failure::carrier(&carriers::who(&account), &e))?;
    if out.json {
        let views: Vec<RateCardView> = rates.iter().map(|c| RateCardView::new(c, None)).collect();
        out.json_value(&views);
    } else {
        out.table(
            &["service", "corridor", "currency", "tiers"],
            rates.iter().map(rate_row).collect(),
        );
    }
    Ok(())
}

/// "AU → NZ", or "AU → any".
#[must_use]
pub fn corridor(c: &RateCard) -> String {
    format!(
        "{} → {}",
        c.origin(),
        c.destination().map_or_else(|| "any".to_string(), |d| d.to_string())
    )
}

fn rate_row(c: &RateCard) -> Vec<String> {
    let tiers: Vec<String> =
        c.tiers().iter().map(|t| format!("≤{}: {:.2}", t.max_weight, t.price.amount())).collect();
    vec![c.service_id().to_string(), corridor(c), c.currency().to_string(), tiers.join(", ")]
}

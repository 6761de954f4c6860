//! `waybill services`: the Starmile services the account may order.

use waybill_domain::Catalog;

use crate::{
    carriers, context::Context, exit::Failure, output::Output, output::views::ServiceView,
};

/// `waybill services` takes no arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {}

/// Lists the services.
///
/// # Errors
/// Configuration or carrier failures.
pub async fn run(ctx: &Context, _args: &Args, out: &mut Output) -> Result<(), Failure> {
    let account = ctx.account()?;
    let client = carriers::starmile(&account)?;
    let services = Catalog::services(&client)
        .await
        .map_err(|e| Failure::carrier(&carriers::who(&account), &e))?;
    if out.json {
        let views: Vec<ServiceView> = services.iter().map(ServiceView::from).collect();
        out.json_value(&views);
    } else {
        let rows = services
            .iter()
            .map(|s| {
                vec![
                    s.id.to_string(),
                    s.name.clone(),
                    s.family.clone().unwrap_or_default(),
                    s.flow_key.clone().unwrap_or_default(),
                ]
            })
            .collect();
        out.table(&["id", "name", "family", "flow"], rows);
    }
    Ok(())
}

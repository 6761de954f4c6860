//! Tracks one parcel and prints its shipments as JSON.
//!
//! ```text
//! STARSHIPIT_BASE_URL=https://api.starshipit.com \
//! STARSHIPIT_API_KEY=… STARSHIPIT_SUBSCRIPTION_KEY=… \
//! cargo run -p waybill-starshipit --example track -- 0000000000
//! ```
//!
//! `--order` looks the argument up as an order number instead of a tracking number.
//! Against the sandbox, use the values its example prints.

use waybill_domain::{TrackQuery, TrackingNumber};
use waybill_starshipit::StarshipitClient;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env = |name: &str| {
        std::env::var(name).map_err(|_| format!("set {name} (see the example's header)"))
    };
    let base_url = std::env::var("STARSHIPIT_BASE_URL")
        .unwrap_or_else(|_| "https://api.starshipit.com".to_owned());
    let client = StarshipitClient::builder(
        &base_url,
        env("STARSHIPIT_API_KEY")?.into(),
        env("STARSHIPIT_SUBSCRIPTION_KEY")?.into(),
    )
    .build()?;

    let args: Vec<String> = std::env::args().skip(1).collect();
    let by_order = args.iter().any(|a| a == "--order");
    let Some(value) = args.iter().find(|a| !a.starts_with("--")) else {
        return Err("usage: track [--order] <tracking number | order number>".into());
    };
    let query = if by_order {
        TrackQuery::OrderNumber(value.clone())
    } else {
        TrackQuery::TrackingNumber(TrackingNumber::parse(value.as_str())?)
    };
    let shipments = client.track_details(&query).await?;
    println!("{}", serde_json::to_string_pretty(&shipments)?);
    Ok(())
}

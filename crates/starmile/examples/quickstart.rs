//! The spec's three steps with the client: a token (implicit), the services, an order.
//!
//! Against a real or running sandbox:
//! `STARMILE_BASE_URL=… STARMILE_CLIENT_ID=… STARMILE_CLIENT_SECRET=… cargo run -p
//! waybill-starmile --example quickstart`. Without those variables and with the `sandbox`
//! feature, it starts an in-process sandbox first.

use waybill_domain::{MerchantTrackingNumber, OrderItem, OrderRequest, PartnerOrderRef, ServiceId};
use waybill_starmile::StarmileClient;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env = |k: &str| std::env::var(k).ok();
    #[cfg(feature = "sandbox")]
    let mut local = None;
    let (base_url, client_id, secret) = match (
        env("STARMILE_BASE_URL"),
        env("STARMILE_CLIENT_ID"),
        env("STARMILE_CLIENT_SECRET"),
    ) {
        (Some(url), Some(id), Some(secret)) => (url, id, secret),
        #[cfg(feature = "sandbox")]
        _ => {
            use waybill_starmile::sandbox::{Sandbox, SandboxConfig};
            let sandbox = Sandbox::start(SandboxConfig::default()).await?;
            let p = sandbox.partners()[0].clone();
            let url = sandbox.base_url();
            local = Some(sandbox);
            (url, p.client_id, p.client_secret)
        }
        #[cfg(not(feature = "sandbox"))]
        _ => {
            return Err("set STARMILE_BASE_URL, STARMILE_CLIENT_ID and STARMILE_CLIENT_SECRET \
                        (or build with --features sandbox)"
                .into());
        }
    };

    // 1. The token is fetched on first use and cached.
    let client = StarmileClient::builder(&base_url, client_id, secret.into()).build()?;
    // 2. The services you may order.
    let services = client.services().await?;
    for s in &services {
        println!("service {} {}", s.id, s.name);
    }
    // 3. An order, the spec's example.
    let request = OrderRequest::new(
        ServiceId::new(5)?,
        PartnerOrderRef::parse("PO-10294")?,
        vec![OrderItem::new(MerchantTrackingNumber::parse("TRK-1")?)],
    )?;
    let order = client.create_order(&request).await?;
    println!(
        "order {} → {} (duplicate: {})",
        order.reference, order.tracking_number, order.duplicate
    );

    #[cfg(feature = "sandbox")]
    if let Some(sandbox) = local {
        sandbox.shutdown().await;
    }
    Ok(())
}

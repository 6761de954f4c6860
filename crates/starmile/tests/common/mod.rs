//! Shared helpers of the loopback tests: a deterministic sandbox and a client for it.

#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use waybill_domain::{MerchantTrackingNumber, OrderItem, OrderRequest, PartnerOrderRef, ServiceId};
use waybill_starmile::{
    RetryPolicy, StarmileClient,
    sandbox::{PartnerCredential, Sandbox, SandboxConfig},
};

/// A frozen-clock sandbox config: fixed seed and epoch, time does not move.
pub fn config() -> SandboxConfig {
    SandboxConfig {
        seed: 7,
        epoch: "2026-06-20T00:00:00Z".parse().expect("epoch"),
        time_scale: 0.0,
        partners: vec![
            PartnerCredential::new("partner-a", "Partner A"),
            PartnerCredential::new("partner-b", "Partner B"),
        ],
        ..SandboxConfig::default()
    }
}

pub async fn start(config: SandboxConfig) -> Sandbox {
    Sandbox::start(config).await.expect("sandbox starts")
}

/// A client for partner `index` of the sandbox, quick retries so tests stay short.
pub fn client(sandbox: &Sandbox, index: usize) -> StarmileClient {
    builder(sandbox, index).build().expect("client builds")
}

pub fn builder(sandbox: &Sandbox, index: usize) -> waybill_starmile::ClientBuilder {
    let p = &sandbox.partners()[index];
    StarmileClient::builder(&sandbox.base_url(), &p.client_id, p.client_secret.clone().into())
        .timeout(Duration::from_secs(10))
        .retry_policy(fast_retries())
}

pub fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        ..RetryPolicy::default()
    }
}

pub fn order(reference: &str, merchants: &[&str]) -> OrderRequest {
    let items = merchants
        .iter()
        .map(|m| OrderItem::new(MerchantTrackingNumber::parse(*m).expect("merchant number")))
        .collect();
    OrderRequest::new(
        ServiceId::new(5).expect("service"),
        PartnerOrderRef::parse(reference).expect("reference"),
        items,
    )
    .expect("order request")
}

//! Scenario 3, tracking refresh: N parcels (created at a Starmile sandbox and saved in a
//! fresh store, their first legs registered at a StarShipIT sandbox) refreshed by the sync
//! engine's `refresh_tracking` in one round through a production key (20 requests/s), the
//! client's limiter set to that limit. Measures the achieved request rate at the sandbox
//! (arrivals of that key) against the limit, the 429s it sent, and the busiest second.

use std::{num::NonZeroU32, sync::Arc, time::Duration};

use anyhow::Context;
use futures::{StreamExt, stream};
use secrecy::SecretString;
use waybill_domain::{MerchantTrackingNumber, OrderItem, OrderRequest, PartnerOrderRef, ServiceId};
use waybill_engine::sync::{SyncEngine, SyncOptions};
use waybill_starmile::StarmileClient;
use waybill_starshipit::StarshipitClient;
use waybill_store::{SqliteStore, Store};

use crate::{
    measure::{self, ScenarioResult},
    options::Options,
};

/// The production key's limit, requests per second.
const LIMIT: u32 = 20;

/// Runs the scenario.
pub(crate) async fn run(options: &Options) -> anyhow::Result<ScenarioResult> {
    let parcels: usize = if options.quick { 200 } else { 2_000 };
    let mut result = ScenarioResult::new("tracking");
    result.set("parcels", parcels as f64);
    result.set("limit_per_s", f64::from(LIMIT));

    // The store's parcels: real orders from the Starmile sandbox.
    let starmile = waybill_starmile::sandbox::Sandbox::start(Default::default()).await?;
    let partner = starmile.partners()[0].clone();
    let secret: SecretString = partner.client_secret.clone().into();
    let client =
        StarmileClient::builder(&starmile.base_url(), &partner.client_id, secret).build()?;
    let dir = options.out.join("tracking");
    std::fs::create_dir_all(&dir)?;
    let db = dir.join("tracking.db");
    measure::remove_db(&db);
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&db).await?);
    let numbers: Vec<String> = (0..parcels).map(|i| format!("TRK-{i:07}")).collect();
    let saved: Vec<anyhow::Result<()>> = stream::iter(numbers.clone())
        .map(|n| {
            let (client, store) = (client.clone(), Arc::clone(&store));
            async move {
                let req = OrderRequest::new(
                    ServiceId::new(5)?,
                    PartnerOrderRef::parse(format!("PO-{n}"))?,
                    vec![OrderItem::new(MerchantTrackingNumber::parse(n)?)],
                )?;
                let order = client.create_order(&req).await?;
                store.save_order("bench", &req, &order).await?;
                Ok(())
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    saved.into_iter().collect::<anyhow::Result<Vec<()>>>()?;
    starmile.shutdown().await;

    // Their first legs, started two days ago (simulated) so every lookup has scans.
    let starshipit = waybill_starshipit::sandbox::Sandbox::start(Default::default()).await?;
    let created = starshipit.simulated_now() - jiff::SignedDuration::from_hours(48);
    for n in &numbers {
        starshipit.register_shipment(n, &format!("SO-{n}"), created);
    }
    let key = starshipit.production_subscription_key().to_owned();
    let tracker = StarshipitClient::builder(
        &starshipit.base_url(),
        starshipit.api_key().to_owned().into(),
        key.clone().into(),
    )
    .rate_limit_per_second(NonZeroU32::new(LIMIT).context("limit")?)
    .build()?;
    let sync_options = SyncOptions {
        refresh_batch: u32::try_from(parcels)?,
        poll_interval: Duration::from_secs(1),
        ..SyncOptions::default()
    };
    result.note(format!(
        "{parcels} parcels in one refresh round, {} lookups in flight, client limiter {LIMIT}/s on a {LIMIT}/s production key",
        sync_options.refresh_concurrency
    ));
    let engine = SyncEngine::new(
        store.clone(),
        vec![],
        Some(waybill::carriers::first_leg(Arc::new(tracker))),
        sync_options,
    );
    eprintln!("tracking: refreshing {parcels} parcels at {LIMIT}/s");
    let started = std::time::Instant::now();
    let report = engine.refresh_tracking().await?;
    let seconds = started.elapsed().as_secs_f64();
    let counters = starshipit.counters();
    starshipit.shutdown().await;

    let arrivals = counters.arrivals.get(&key).cloned().unwrap_or_default();
    let steady = match (arrivals.first(), arrivals.last()) {
        (Some(first), Some(last)) if arrivals.len() > 1 => {
            measure::rate((arrivals.len() - 1) as f64, last.duration_since(*first).as_secs_f64())
        }
        _ => 0.0,
    };
    result.set("refreshed", report.refreshed as f64);
    result.set("refresh_errors", report.refresh_errors as f64);
    result.set("requests", counters.requests as f64);
    result.set("achieved_per_s", steady);
    result.set("parcels_per_s", measure::rate(report.refreshed as f64, seconds));
    result.set("rate_limited_429", counters.rate_limited as f64);
    result.set(
        "max_in_one_second",
        counters.max_arrivals_in_window(&key, Duration::from_secs(1)) as f64,
    );
    Ok(result)
}

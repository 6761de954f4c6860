//! Scenario `latency`, realistic latency: a Starmile sandbox that adds 50 ms to every API
//! request (its `latency` fault), 10,000 one-parcel orders through `waybill orders import`
//! at concurrency 32. With every request taking one round trip, Little's law bounds the rate
//! at `concurrency / RTT`; the RTT is measured in the same run by a sequential client (one
//! request at a time, as the official PHP SDK works), whose own rate is the reference.

use std::time::Duration;

use waybill_starmile::sandbox::{Faults, Sandbox, SandboxConfig};

use crate::{
    intake::{self, CONCURRENCY},
    measure::{self, ScenarioResult},
    options::Options,
};

/// Latency injected at the sandbox, per request.
const LATENCY: Duration = Duration::from_millis(50);

/// Runs the scenario.
pub(crate) async fn run(options: &Options) -> anyhow::Result<ScenarioResult> {
    let orders: usize = if options.quick { 1_000 } else { 10_000 };
    let sequential: usize = if options.quick { 40 } else { 200 };
    let mut result = ScenarioResult::new("latency");
    result.set("orders", orders as f64);
    result.set("concurrency", CONCURRENCY as f64);
    result.set("injected_latency_ms", LATENCY.as_secs_f64() * 1e3);
    result.note(format!(
        "{} ms added to every Starmile API request; {orders} one-parcel orders through `waybill orders import` at concurrency {CONCURRENCY}; RTT from {sequential} orders sent one at a time by StarmileClient; ceiling = concurrency / RTT",
        LATENCY.as_millis()
    ));
    let sandbox = Sandbox::start(SandboxConfig::default()).await?;
    sandbox.set_faults(Faults { latency: LATENCY, ..Faults::default() });
    let partner = sandbox.partners()[0].clone();

    // 1. The sequential client: its time per order is the round trip.
    eprintln!("latency: {sequential} orders through StarmileClient, one at a time");
    let answer = measure::run_child(
        "intake-client",
        &[
            "--base-url".into(),
            sandbox.base_url(),
            "--client-id".into(),
            partner.client_id.clone(),
            "--secret".into(),
            partner.client_secret.clone(),
            "--orders".into(),
            sequential.to_string(),
            "--concurrency".into(),
            "1".into(),
        ],
    )
    .await?;
    let ok = measure::num(&answer, "ok")?;
    let seconds = measure::num(&answer, "seconds")?;
    let sequential_rate = measure::rate(ok, seconds);
    result.set("sequential_orders_per_s", sequential_rate);
    if sequential_rate > 0.0 {
        let rtt = 1.0 / sequential_rate;
        result.set("rtt_ms", rtt * 1e3);
        result.set("ceiling_orders_per_s", CONCURRENCY as f64 / rtt);
    }

    // 2. The import at the same concurrency as Little's law's `c`.
    if options.waybill.exists() {
        eprintln!("latency: {orders} orders through `waybill orders import`");
        let import = intake::run_import(options, &sandbox, "latency", orders, CONCURRENCY).await?;
        if let Some(problem) = import.problem {
            result.note(problem);
        }
        result.set("import_orders_per_s", measure::rate(import.created, import.seconds));
    } else {
        result.note(format!(
            "{} not found: build it with `cargo build --release -p waybill`",
            options.waybill.display()
        ));
    }
    sandbox.shutdown().await;
    Ok(result)
}

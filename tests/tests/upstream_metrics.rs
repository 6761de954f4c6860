//! `/metrics` shows what carriers' rate limits did to each account: both sandboxes answer
//! part of their requests 429 and StarShipIT's key is paced at 1 request/s, so a running
//! `waybill serve` (sync on) must export limiter wait seconds and 429 answers per carrier and
//! account, for Starmile's account `main` and StarShipIT's default account.

mod serve_support;

use std::time::Duration;

use serde_json::json;
use serve_support::{sample, start};
use waybill_e2e::{AppOptions, spawn_app};
use waybill_starmile::sandbox as sm;
use waybill_starshipit::sandbox as ss;

const BIN: &str = env!("CARGO_BIN_EXE_waybill-e2e");
const WAIT: Duration = Duration::from_secs(90);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limiter_waits_and_429s_are_exported_per_carrier_and_account() {
    let mut options = AppOptions::default();
    options.starmile.faults = sm::Faults { rate_429: 0.3, ..sm::Faults::default() };
    options.starshipit.faults = ss::Faults { rate_429: 0.3, ..ss::Faults::default() };
    let app = spawn_app(BIN, options).await;
    let s = start(&app, &[("WAYBILL_STARSHIPIT__RATE_LIMIT_PER_SECOND", "1")]).await;

    let before = s.metrics().await;
    for (metric, labels) in [
        ("waybill_upstream_throttled_total", ["carrier=\"starmile\"", "account=\"main\""]),
        ("waybill_limiter_wait_seconds_total", ["carrier=\"starshipit\"", "account=\"default\""]),
    ] {
        // Every account's series exists from the start, at zero.
        assert_eq!(sample(&before, metric, &labels), Some(0.0), "{metric} {labels:?}: {before}");
    }

    // Orders with several parcels: the first-leg lookups queue behind the 1/s limiter.
    for i in 0..3 {
        let items: Vec<_> =
            (0..3).map(|p| json!({"merchant_tracking_number": format!("UM-{i}-{p}")})).collect();
        let body = json!({"reference": format!("PO-UM{i}"), "service_id": 5, "items": items});
        // A 429 on the create may end in an error answer after the retries; the lookups
        // below need only some parcels.
        let _ = s.post_json("/v1/orders", &body).await;
    }
    let after = s
        .wait_for("limiter waits and 429s from both carriers in /metrics", WAIT, || async {
            let m = s.metrics().await;
            let waited = sample(
                &m,
                "waybill_limiter_wait_seconds_total",
                &["carrier=\"starshipit\"", "account=\"default\""],
            )?;
            let starmile_429 = sample(
                &m,
                "waybill_upstream_throttled_total",
                &["carrier=\"starmile\"", "account=\"main\""],
            )?;
            let starshipit_429 = sample(
                &m,
                "waybill_upstream_throttled_total",
                &["carrier=\"starshipit\"", "account=\"default\""],
            )?;
            (waited > 0.0 && starmile_429 > 0.0 && starshipit_429 > 0.0).then_some(m)
        })
        .await;
    assert!(after.contains("# TYPE waybill_limiter_wait_seconds counter"), "{after}");
    assert!(after.contains("# TYPE waybill_upstream_throttled counter"), "{after}");
    // The sandboxes' own counts bound what waybill saw: it cannot count more 429s than
    // the StarShipIT sandbox sent.
    let sent = app.starshipit.counters().rate_limited;
    let seen = sample(
        &after,
        "waybill_upstream_throttled_total",
        &["carrier=\"starshipit\"", "account=\"default\""],
    )
    .unwrap_or(0.0);
    assert!(seen <= sent as f64, "waybill counted {seen} 429s, the sandbox sent {sent}");
    let _ = s.terminate().await;
}

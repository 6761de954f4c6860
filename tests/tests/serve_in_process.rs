//! `waybill serve` started inside the test process through `waybill_server::bind` (the
//! build/run split): the same wiring as the binary, no child process — so these tests can
//! reach into the server's store and stop it deterministically.

use serde_json::{Value, json};
use waybill_e2e::{AppOptions, IN_PROCESS_API_KEY, IN_PROCESS_WEBHOOK_SECRET, spawn_app};

const BIN: &str = env!("CARGO_BIN_EXE_waybill-e2e");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_process_server_creates_syncs_receives_webhooks_and_stops_gracefully() {
    let app = spawn_app(BIN, AppOptions::default()).await;
    let server = app.serve_in_process(true).await;
    let http = reqwest::Client::new();

    // The API needs the key; an order is created at the Starmile sandbox and stored.
    let unauth = http.get(server.url("/v1/services")).send().await.unwrap();
    assert_eq!(unauth.status(), 401);
    let order = json!({"reference": "PO-IP1", "service_id": 5, "items": [{"merchant_tracking_number": "IP-1"}]});
    let created = http
        .post(server.url("/v1/orders"))
        .bearer_auth(IN_PROCESS_API_KEY)
        .json(&order)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());

    // A signed StarShipIT webhook lands on the generic route and joins the parcel's timeline
    // as a first-leg hand-over.
    let body = json!({
        "order_number": "PO-IP1",
        "tracking_number": "IP-1",
        "tracking_status": "Delivered",
        "last_updated_date": "2026-06-20T04:43:42.1543701Z"
    })
    .to_string();
    let secret = secrecy::SecretString::from(IN_PROCESS_WEBHOOK_SECRET);
    let signature = waybill_starshipit::webhook::sign(&secret, body.as_bytes());
    let hook = http
        .post(server.url("/webhooks/starshipit"))
        .header("content-type", "application/json")
        .header("X-Starshipit-Signature", signature)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(hook.status(), 200, "{}", hook.text().await.unwrap());
    let unknown = http.post(server.url("/webhooks/nobody")).body("{}").send().await.unwrap();
    assert_eq!(unknown.status(), 404);

    let timeline: Value = http
        .get(server.url("/v1/parcels/IP-1/timeline"))
        .bearer_auth(IN_PROCESS_API_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let first_leg: Vec<_> = timeline["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["carrier"] == "starshipit")
        .collect();
    assert_eq!(first_leg.len(), 1, "{timeline}");
    assert_eq!(first_leg[0]["status"], "in_transit", "{timeline}");

    // The tracking page names the first-leg carrier from its adapter's metadata.
    let page = http.get(server.url("/track/IP-1")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("StarShipIT (first leg)"), "{page}");

    // Background sync runs and is observed by the server's metrics.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let m = http.get(server.url("/metrics")).send().await.unwrap().text().await.unwrap();
        let rounds = m
            .lines()
            .find_map(|l| l.strip_prefix("waybill_sync_rounds_total "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0);
        if rounds >= 1.0 {
            assert!(m.contains("waybill_limiter_waits_total{carrier=\"starshipit\"}"), "{m}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "sync never finished a round: {m}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    // Graceful stop: the run future returns once sync has committed its page.
    server.stop().await;
}

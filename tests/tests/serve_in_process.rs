//! `waybill serve` started inside the test process through `waybill_server::bind` (the
//! build/run split): the same wiring as the binary, no child process — so these tests can
//! reach into the server's store and stop it deterministically.

use serde_json::{Value, json};
use waybill_e2e::{
    AppOptions, IN_PROCESS_API_KEY, IN_PROCESS_WEBHOOK_SECRET, IN_PROCESS_WEBHOOK_TOKEN, spawn_app,
};

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

/// Every StarShipIT webhook body among the fixtures (the shared ones and the real-world
/// captures), posted through the server: each one that carries a tracking number and a status
/// is stored with every field it carries; signed in base64 or hex, or sent unsigned to the
/// secret URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_webhook_fixture_is_stored_with_all_its_fields() {
    let app = spawn_app(BIN, AppOptions::default()).await;
    let server = app.serve_in_process(false).await;
    let http = reqwest::Client::new();
    let secret = secrecy::SecretString::from(IN_PROCESS_WEBHOOK_SECRET);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/starshipit/tests/fixtures");
    let mut names: Vec<std::path::PathBuf> = Vec::new();
    for sub in ["", "real-world"] {
        for entry in std::fs::read_dir(dir.join(sub)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with("webhook-") && name.ends_with(".json") {
                names.push(path);
            }
        }
    }
    names.sort();
    assert!(names.len() >= 8, "{names:?}");
    // The parcels are known (an order holds them), so their timelines can be read back.
    let mut numbers = std::collections::BTreeSet::new();
    for path in &names {
        let raw: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let payloads = raw.get("events").and_then(Value::as_array).cloned().unwrap_or(vec![raw]);
        for p in payloads {
            numbers.insert(p["tracking_number"].as_str().unwrap().to_owned());
        }
    }
    let items: Vec<Value> =
        numbers.iter().map(|n| json!({ "merchant_tracking_number": n })).collect();
    let created = http
        .post(server.url("/v1/orders"))
        .bearer_auth(IN_PROCESS_API_KEY)
        .json(&json!({"reference": "PO-HOOKS", "service_id": 5, "items": items}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());
    for (i, path) in names.iter().enumerate() {
        let body = std::fs::read_to_string(path).unwrap();
        let mut request = http.post(server.url("/webhooks/starshipit")).body(body.clone());
        request = match i % 3 {
            0 => request.header(
                "X-Starshipit-Signature",
                waybill_starshipit::webhook::sign(&secret, body.as_bytes()),
            ),
            1 => request.header(
                "X-StarShipIT-Hmac-SHA256",
                format!(
                    "sha256={}",
                    waybill_starshipit::webhook::sign_hex(&secret, body.as_bytes())
                ),
            ),
            _ => http
                .post(server.url(&format!("/webhooks/starshipit/{IN_PROCESS_WEBHOOK_TOKEN}")))
                .body(body.clone()),
        };
        let answer = request.send().await.unwrap();
        assert_eq!(answer.status(), 200, "{}", path.display());
        let stored_now = answer.json::<Value>().await.unwrap()["stored"] == true;

        let raw: Value = serde_json::from_str(&body).unwrap();
        let payloads = match raw.get("events") {
            Some(Value::Array(items)) => items.clone(),
            _ => vec![raw],
        };
        for payload in payloads {
            let number = payload["tracking_number"].as_str().unwrap();
            // The stored events themselves (the API's view shows only some of their fields).
            let store = app.store().await;
            let found = waybill_store::TimelineReader::parcel_timeline(&store, number)
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("{number} has a timeline"));
            store.close().await;
            let stored = serde_json::to_string(found.timeline.events()).unwrap();
            for (key, value) in payload.as_object().unwrap() {
                let text = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
                // A redelivery of an event already stored (same number, time and status) is
                // a duplicate: the first copy's fields are the ones kept.
                if !stored_now && key == "order_reference" {
                    continue;
                }
                assert!(
                    stored.contains(&text),
                    "{}: {key}={text} not stored: {stored}",
                    path.display()
                );
            }
        }
    }

    // A wrong token is refused; an authentic body without a tracking event is acknowledged.
    let wrong = http
        .post(server.url("/webhooks/starshipit/not-the-token-at-all"))
        .body(r#"{"tracking_number":"X1","tracking_status":"Delivered"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(!wrong.text().await.unwrap().contains("not-the-token"), "the token is never echoed");
    let no_event = r#"{"order_number":"1004","order_status":"Printed"}"#;
    let ack = http
        .post(server.url("/webhooks/starshipit"))
        .header(
            "X-Starshipit-Signature",
            waybill_starshipit::webhook::sign(&secret, no_event.as_bytes()),
        )
        .body(no_event)
        .send()
        .await
        .unwrap();
    assert_eq!(ack.status(), 200);
    assert_eq!(ack.json::<Value>().await.unwrap()["stored"], false);
    let metrics = http.get(server.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("waybill_webhooks_total{outcome=\"no_event\"} 1"), "{metrics}");

    // A payload without a time is kept as "time unknown" (never a carrier time); a redelivery
    // received later is the same event and stores nothing new.
    let timeless =
        std::fs::read_to_string(dir.join("real-world/webhook-express-comment.json")).unwrap();
    let again = http
        .post(server.url(&format!("/webhooks/starshipit/{IN_PROCESS_WEBHOOK_TOKEN}")))
        .body(timeless)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap()["stored"], false, "deduplicated");
    let timeline: Value = http
        .get(server.url("/v1/parcels/PLACEHOLDER123/timeline"))
        .bearer_auth(IN_PROCESS_API_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let events = timeline["events"].as_array().expect("events");
    assert_eq!(events.len(), 1, "{timeline}");
    let time = &events[0]["time"];
    assert_eq!(
        (
            time["kind"].as_str(),
            &time["at"],
            time["display"].as_str(),
            time["zone_source"].as_str()
        ),
        (Some("unknown"), &Value::Null, Some("time unknown"), Some("no_time")),
        "{timeline}"
    );
    let page = http.get(server.url("/track/PLACEHOLDER123")).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains("time unknown"), "{page}");
}

//! `waybill serve` end to end over loopback: the real binary against both sandboxes — API-key
//! enforcement, every endpoint's happy path and main error, pagination, signed webhooks
//! (valid, tampered, duplicate), the tracking page with its 404 and rate limit, metrics that
//! move when sync runs, readiness, and graceful shutdown committing the cursor.

mod serve_support;

use std::time::Duration;

use serde_json::{Value, json};
use serve_support::{API_KEY, OTHER_KEY, WEBHOOK_SECRET, sample, start};
use sqlx::Row;
use waybill_e2e::{AppOptions, spawn_app};

const BIN: &str = env!("CARGO_BIN_EXE_waybill-e2e");
const WAIT: Duration = Duration::from_secs(90);

fn order(reference: &str, service: u32, items: &[&str]) -> Value {
    json!({
        "reference": reference,
        "service_id": service,
        "items": items.iter().map(|i| json!({"merchant_tracking_number": i})).collect::<Vec<_>>(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_are_required_on_v1_and_request_ids_are_echoed() {
    let app = spawn_app(BIN, AppOptions::default()).await;
    let s = start(&app, &[("WAYBILL_SERVE__SYNC", "false")]).await;

    let none = s.http.get(s.url("/v1/orders")).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert_eq!(none.headers()["www-authenticate"], "Bearer");
    assert!(none.headers().contains_key("x-request-id"), "every answer carries a request id");
    let body: Value = none.json().await.unwrap();
    assert_eq!(body["code"], "unauthorized");

    let wrong = s.http.get(s.url("/v1/orders")).bearer_auth("not-a-key").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let wrong = s.http.get(s.url("/v1/services")).header("x-api-key", "nope").send().await.unwrap();
    assert_eq!(wrong.status(), 401);

    let bearer = s.http.get(s.url("/v1/orders")).bearer_auth(API_KEY).send().await.unwrap();
    assert_eq!(bearer.status(), 200);
    let header = s
        .http
        .get(s.url("/v1/orders"))
        .header("x-api-key", OTHER_KEY)
        .header("x-request-id", "req-42")
        .send()
        .await
        .unwrap();
    assert_eq!(header.status(), 200);
    assert_eq!(header.headers()["x-request-id"], "req-42", "a given request id is echoed");

    // Operations endpoints and the page are public.
    assert_eq!(s.http.get(s.url("/healthz")).send().await.unwrap().status(), 200);
    assert_eq!(s.http.get(s.url("/readyz")).send().await.unwrap().status(), 200);
    assert_eq!(s.http.get(s.url("/metrics")).send().await.unwrap().status(), 200);
    let unknown_api = s.get("/v1/nothing-here").await;
    assert_eq!(unknown_api.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_are_created_fetched_listed_and_paginated() {
    let app = spawn_app(BIN, AppOptions::default()).await;
    let s = start(
        &app,
        &[("WAYBILL_SERVE__SYNC", "false"), ("WAYBILL_SERVE__BODY_LIMIT_BYTES", "4096")],
    )
    .await;

    // Create, then replay: 201 then 200 with duplicate = true.
    let created = s.post_json("/v1/orders", &order("PO-100", 5, &["A-1", "A-2"])).await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["reference"], "PO-100");
    assert_eq!(created["duplicate"], false);
    assert_eq!(created["parcels"].as_array().unwrap().len(), 2);
    let replay = s.post_json("/v1/orders", &order("PO-100", 5, &["A-1", "A-2"])).await;
    assert_eq!(replay.status(), 200);
    assert_eq!(replay.json::<Value>().await.unwrap()["duplicate"], true);

    // Main errors: invalid fields (all at once), malformed JSON, a body over the limit, and
    // a service Starmile refuses.
    let bad =
        s.post_json("/v1/orders", &json!({"reference": "", "service_id": 0, "items": []})).await;
    assert_eq!(bad.status(), 422);
    let bad: Value = bad.json().await.unwrap();
    assert_eq!(bad["code"], "validation_failed");
    for field in ["reference", "service_id", "items"] {
        assert!(bad["fields"][field].is_array(), "{field} reported: {bad}");
    }
    let malformed = s
        .http
        .post(s.url("/v1/orders"))
        .bearer_auth(API_KEY)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    assert_eq!(malformed.json::<Value>().await.unwrap()["code"], "invalid_request");
    let huge = order("PO-HUGE", 5, &[&"X".repeat(5000)]);
    let huge = s.post_json("/v1/orders", &huge).await;
    assert_eq!(huge.status(), 413);
    assert_eq!(huge.json::<Value>().await.unwrap()["code"], "payload_too_large");
    let refused = s.post_json("/v1/orders", &order("PO-REFUSED", 999, &["R-1"])).await;
    assert_eq!(refused.status(), 422, "Starmile refuses an unknown service");
    assert_eq!(refused.json::<Value>().await.unwrap()["code"], "carrier_rejected");

    // Get by reference.
    let got = s.get_json("/v1/orders/PO-100").await;
    assert_eq!(got["reference"], "PO-100");
    assert_eq!(got["service_id"], 5);
    assert_eq!(got["parcels"][0]["merchant_tracking_number"], "A-1");
    let missing = s.get("/v1/orders/PO-NOPE").await;
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.json::<Value>().await.unwrap()["code"], "not_found");

    // Pagination: four more orders (two of service 7), pages of two.
    for (r, svc) in [("PO-101", 7), ("PO-102", 5), ("PO-103", 7), ("PO-104", 5)] {
        let resp = s.post_json("/v1/orders", &order(r, svc, &[&format!("{r}-P")])).await;
        assert_eq!(resp.status(), 201, "{r}");
    }
    // Newest first by default, by reference on request; pages of two either way.
    for (sort, expected) in [
        ("", ["PO-104", "PO-103", "PO-102", "PO-101", "PO-100"]),
        ("&sort=reference", ["PO-100", "PO-101", "PO-102", "PO-103", "PO-104"]),
    ] {
        let mut seen = Vec::new();
        let mut pages = 0;
        let mut path = format!("/v1/orders?limit=2{sort}");
        loop {
            let page = s.get_json(&path).await;
            pages += 1;
            let orders = page["orders"].as_array().unwrap();
            assert!(orders.len() <= 2);
            seen.extend(orders.iter().map(|o| o["reference"].as_str().unwrap().to_owned()));
            match page["next"].as_str() {
                Some(next) => path = format!("/v1/orders?limit=2{sort}&after={next}"),
                None => break,
            }
            assert!(pages < 10, "pagination ends");
        }
        assert_eq!(seen, expected, "sort {sort:?}");
        assert_eq!(pages, 3);
    }
    let exact = s.get_json("/v1/orders?limit=5").await;
    assert!(exact["next"].is_null(), "no next page when the last page is exactly full");

    // Filters.
    let svc7 = s.get_json("/v1/orders?service=7").await;
    let refs: Vec<&str> = svc7["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["reference"].as_str().unwrap())
        .collect();
    assert_eq!(refs, ["PO-103", "PO-101"], "newest first");
    let pending = s.get_json("/v1/orders?status=delivered").await;
    assert_eq!(pending["orders"].as_array().unwrap().len(), 0, "nothing delivered yet");
    let bad_status = s.get("/v1/orders?status=lost").await;
    assert_eq!(bad_status.status(), 400);
    let bad_status: Value = bad_status.json().await.unwrap();
    assert!(bad_status["fields"]["status"].is_array(), "{bad_status}");
    assert_eq!(s.get("/v1/orders?limit=0").await.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timelines_tracking_services_and_rates_answer_from_store_and_carrier() {
    let app = spawn_app(BIN, AppOptions::default()).await;
    let s = start(&app, &[]).await;
    let created = s.post_json("/v1/orders", &order("PO-T1", 5, &["TL-1"])).await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let starmile_number = created["parcels"][0]["tracking_number"].as_str().unwrap().to_owned();

    // Background sync brings the pool row in.
    let timeline = s
        .wait_for("the parcel's first pool event", WAIT, || async {
            let r = s.get("/v1/parcels/TL-1/timeline").await;
            let v: Value = r.json().await.ok()?;
            (!v["events"].as_array()?.is_empty()).then_some(v)
        })
        .await;
    assert_eq!(timeline["merchant_tracking_number"], "TL-1");
    assert_eq!(timeline["reference"], "PO-T1");
    // The first leg's offset-less times are read in the zone of the hub's events, so which
    // carrier comes first depends on the sandboxes' zones: find Starmile's event.
    let event = timeline["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["carrier"] == "starmile")
        .expect("a Starmile event");
    assert!(event["milestone"].is_string(), "{event}");
    assert!(event["time"]["display"].as_str().unwrap().len() > 10, "{event}");
    let missing = s.get("/v1/parcels/NOPE-1/timeline").await;
    assert_eq!(missing.status(), 404);

    // Tracking lookup by any known number.
    let by_merchant = s.get_json("/v1/track/TL-1").await;
    assert_eq!(by_merchant["matched"], "merchant_tracking_number");
    assert_eq!(by_merchant["merchant_tracking_number"], "TL-1");
    let by_starmile = s.get_json(&format!("/v1/track/{starmile_number}")).await;
    assert_eq!(by_starmile["matched"], "tracking_number");
    assert_eq!(by_starmile["merchant_tracking_number"], "TL-1");
    let by_reference = s.get_json("/v1/track/PO-T1").await;
    assert_eq!(by_reference["merchant_tracking_number"], "TL-1");
    let unknown = s.get("/v1/track/UNKNOWN-9").await;
    assert_eq!(unknown.status(), 404);
    assert_eq!(unknown.json::<Value>().await.unwrap()["code"], "not_found");

    // Catalogue, live from Starmile.
    let services = s.get_json("/v1/services").await;
    let ids: Vec<u64> =
        services.as_array().unwrap().iter().map(|v| v["id"].as_u64().unwrap()).collect();
    assert!(ids.contains(&5) && ids.contains(&7), "{services}");
    let rates = s.get_json("/v1/rates?service=5&weight=1.2kg").await;
    let rates = rates.as_array().unwrap();
    assert!(!rates.is_empty());
    assert!(rates.iter().all(|c| c["service_id"] == 5));
    assert!(rates.iter().any(|c| c["quote"].is_string()), "a tier covers 1.2 kg: {rates:?}");
    let bad_weight = s.get("/v1/rates?weight=heavy").await;
    assert_eq!(bad_weight.status(), 400);
    assert!(bad_weight.json::<Value>().await.unwrap()["fields"]["weight"].is_array());
}

fn webhook_body(number: &str, status: &str) -> String {
    json!({
        "order_number": "SO-1",
        "carrier_name": "DHL Express",
        "carrier_service": "P1",
        "shipment_date": "2026-06-20T01:00:00.0000000Z",
        "tracking_number": number,
        "tracking_status": status,
        "last_updated_date": "2026-06-21T04:43:42.1543701Z",
    })
    .to_string()
}

async fn event_count(app: &waybill_e2e::TestApp) -> i64 {
    let store = app.store().await;
    let n: i64 = sqlx::query("SELECT count(*) AS n FROM events")
        .fetch_one(store.pool())
        .await
        .expect("events counted")
        .get("n");
    store.close().await;
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_verified_stored_once_and_join_the_timeline() {
    let app = spawn_app(BIN, AppOptions::default()).await;
    // No background sync: every stored event below comes from a webhook.
    let s = start(&app, &[("WAYBILL_SERVE__SYNC", "false")]).await;
    assert_eq!(s.post_json("/v1/orders", &order("PO-W1", 5, &["WH-1"])).await.status(), 201);
    let secret = secrecy::SecretString::from(WEBHOOK_SECRET);
    let body = webhook_body("WH-1", "Delivered");
    let signature = waybill_starshipit::webhook::sign(&secret, body.as_bytes());
    let post = |body: String, signature: Option<String>| {
        let mut req = s
            .http
            .post(s.url("/webhooks/starshipit"))
            .header("content-type", "application/json")
            .body(body);
        if let Some(sig) = signature {
            req = req.header("X-Starshipit-Signature", sig);
        }
        req.send()
    };
    assert_eq!(event_count(&app).await, 0);

    // Tampered (signature of another body) and unsigned: 401, nothing stored.
    let tampered = post(webhook_body("WH-1", "Returned"), Some(signature.clone())).await.unwrap();
    assert_eq!(tampered.status(), 401);
    assert_eq!(tampered.json::<Value>().await.unwrap()["code"], "bad_signature");
    let unsigned = post(body.clone(), None).await.unwrap();
    assert_eq!(unsigned.status(), 401);
    assert_eq!(event_count(&app).await, 0, "a refused webhook stores nothing");

    // Valid: stored; the same delivery again: 200, stored once.
    let first = post(body.clone(), Some(signature.clone())).await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.json::<Value>().await.unwrap()["stored"], true);
    let again = post(body.clone(), Some(signature.clone())).await.unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap()["stored"], false);
    assert_eq!(event_count(&app).await, 1, "a duplicate delivery is stored once");

    // It joined the parcel's timeline and moved its status: a first-leg "Delivered" is the
    // hand-over to Starmile, so the parcel is in transit (raw status kept), not delivered.
    let timeline = s.get_json("/v1/parcels/WH-1/timeline").await;
    assert_eq!(timeline["status"], "in_transit", "{timeline}");
    let events = timeline["events"].as_array().unwrap();
    let first_leg: Vec<_> = events.iter().filter(|e| e["carrier"] == "starshipit").collect();
    assert_eq!(first_leg.len(), 1, "{timeline}");
    assert_eq!(first_leg[0]["raw_status"], "Delivered", "{timeline}");

    // A signed body that is not JSON: 400. A signed JSON body without a tracking event:
    // acknowledged (StarShipIT retries anything but a 2xx), nothing stored, counted.
    let junk = "not json".to_owned();
    let junk_sig = waybill_starshipit::webhook::sign(&secret, junk.as_bytes());
    assert_eq!(post(junk, Some(junk_sig)).await.unwrap().status(), 400);
    let bare = r#"{"tracking_number":"WH-1"}"#.to_owned();
    let bare_sig = waybill_starshipit::webhook::sign(&secret, bare.as_bytes());
    let ack = post(bare, Some(bare_sig)).await.unwrap();
    assert_eq!(ack.status(), 200);
    assert_eq!(ack.json::<Value>().await.unwrap()["stored"], false);
    assert_eq!(event_count(&app).await, 1, "nothing stored for it");

    let metrics = s.metrics().await;
    assert_eq!(
        sample(&metrics, "waybill_webhooks_total", &["outcome=\"stored\""]),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(sample(&metrics, "waybill_webhooks_total", &["outcome=\"duplicate\""]), Some(1.0));
    assert_eq!(sample(&metrics, "waybill_webhooks_total", &["outcome=\"no_event\""]), Some(1.0));
    assert_eq!(
        sample(&metrics, "waybill_webhooks_total", &["outcome=\"bad_signature\""]),
        Some(2.0)
    );
    assert_eq!(
        sample(&metrics, "waybill_events_ingested_total", &["source=\"webhook\""]),
        Some(1.0)
    );
    drop(s);

    // Without a configured secret, webhooks are refused rather than accepted unsigned.
    let open =
        start(&app, &[("WAYBILL_SERVE__SYNC", "false"), ("WAYBILL_STARSHIPIT_WEBHOOK_SECRET", "")])
            .await;
    let refused = open
        .http
        .post(open.url("/webhooks/starshipit"))
        .body(webhook_body("WH-2", "InTransit"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.json::<Value>().await.unwrap()["code"], "webhook_not_configured");
    assert_eq!(event_count(&app).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tracking_page_renders_404s_unknown_numbers_and_limits_each_client() {
    let app = spawn_app(BIN, AppOptions::default()).await;
    let s = start(
        &app,
        &[("WAYBILL_SERVE__PAGE_BURST", "3"), ("WAYBILL_SERVE__PAGE_REQUESTS_PER_MINUTE", "1")],
    )
    .await;
    assert_eq!(s.post_json("/v1/orders", &order("PO-P1", 5, &["PG-1"])).await.status(), 201);
    s.wait_for("the parcel's first pool event", WAIT, || async {
        let v: Value = s.get("/v1/parcels/PG-1/timeline").await.json().await.ok()?;
        (!v["events"].as_array()?.is_empty()).then_some(())
    })
    .await;

    let found = s.http.get(s.url("/track/PG-1")).send().await.unwrap();
    assert_eq!(found.status(), 200);
    assert!(found.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = found.text().await.unwrap();
    assert!(
        html.contains("<html lang=\"en\">") && html.contains("<main") && html.contains("<ol"),
        "{html}"
    );
    assert!(html.contains("Parcel PG-1") && html.contains("Starmile"), "{html}");
    assert!(!html.contains("PO-P1"), "the page shows no order data");
    assert!(!html.contains("<script"), "no JavaScript");

    let unknown = s.http.get(s.url("/track/NOT-A-PARCEL")).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    assert!(unknown.text().await.unwrap().contains("find that parcel"));

    // Burst of 3 used: the next lookup from this client is refused with a 429 page.
    let limited = s.http.get(s.url("/track/PG-1")).send().await.unwrap();
    let limited = if limited.status() == 200 {
        // The burst replenishes one lookup per minute; a slow machine may have earned one.
        s.http.get(s.url("/track/PG-1")).send().await.unwrap()
    } else {
        limited
    };
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().contains_key("retry-after"));
    assert!(limited.text().await.unwrap().contains("Too many lookups"));
    // The API is not limited by the page's limiter.
    assert_eq!(s.get("/v1/track/PG-1").await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_move_when_sync_runs_and_readiness_follows_sync() {
    let app = spawn_app(BIN, AppOptions::default()).await;
    let s = start(&app, &[]).await;
    let before = s.metrics().await;
    let pool_before = sample(&before, "waybill_events_ingested_total", &["source=\"pool\""]);
    assert_eq!(pool_before.unwrap_or(0.0), 0.0, "the sandbox's pool starts empty: {before}");

    assert_eq!(
        s.post_json("/v1/orders", &order("PO-M1", 5, &["MX-1", "MX-2"])).await.status(),
        201
    );
    let after = s
        .wait_for("pool rows and a finished round in /metrics", WAIT, || async {
            let m = s.metrics().await;
            let pool = sample(&m, "waybill_events_ingested_total", &["source=\"pool\""])?;
            let rounds = sample(&m, "waybill_sync_rounds_total", &[])?;
            (pool > 0.0 && rounds >= 1.0).then_some(m)
        })
        .await;
    let cursor = sample(&after, "waybill_sync_cursor", &["account=\"main\""]).unwrap();
    assert!(cursor > 0.0, "{after}");
    assert!(sample(&after, "waybill_sync_lag_seconds", &["account=\"main\""]).is_some());
    assert!(
        sample(&after, "waybill_limiter_waits_total", &["carrier=\"starshipit\""]).is_some(),
        "{after}"
    );
    assert_eq!(
        sample(
            &after,
            "waybill_http_requests_total",
            &["route=\"/v1/orders\"", "method=\"POST\"", "status=\"201\""]
        ),
        Some(1.0),
        "{after}"
    );
    // A refused order counts as a remote error by carrier and kind.
    assert_eq!(s.post_json("/v1/orders", &order("PO-M2", 999, &["MX-3"])).await.status(), 422);
    let m = s.metrics().await;
    assert_eq!(
        sample(&m, "waybill_remote_errors_total", &["carrier=\"starmile\"", "kind=\"validation\""]),
        Some(1.0),
        "{m}"
    );

    let ready = s.http.get(s.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(ready["sync"], "running");
    assert_eq!(ready["store"], "ok");
    let strict = s.http.get(s.url("/readyz?strict=sync")).send().await.unwrap();
    assert_eq!(strict.status(), 200, "running sync passes the strict probe too");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_fails_when_sync_stops_on_a_refused_credential() {
    let app = spawn_app(BIN, AppOptions::default()).await;
    let s = start(&app, &[("WAYBILL_STARMILE_MAIN_CLIENT_SECRET", "wrong-secret")]).await;
    // A sync worker's strict probe goes unready with the reason...
    let ready = s
        .wait_for("/readyz?strict=sync to report the stopped sync", WAIT, || async {
            let r = s.http.get(s.url("/readyz?strict=sync")).send().await.ok()?;
            (r.status() == 503).then_some(r)
        })
        .await;
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(ready["ready"], false);
    assert!(ready["sync"].as_str().unwrap().starts_with("stopped: "), "{ready}");
    let sync = &ready["components"][1];
    assert_eq!((sync["name"].as_str(), sync["ok"].as_bool()), (Some("sync"), Some(false)));
    assert!(sync["reason"].as_str().unwrap().starts_with("stopped: "), "{ready}");
    assert!(!ready.to_string().contains("wrong-secret"), "secrets never print");
    // ...while the default probe keeps the page and the API in service through the outage.
    let default = s.http.get(s.url("/readyz")).send().await.unwrap();
    assert_eq!(default.status(), 200, "an upstream failure does not take the page offline");
    let default: Value = default.json().await.unwrap();
    assert_eq!(default["components"][1]["required"], false, "{default}");
    assert_eq!(default["components"][1]["ok"], false, "{default}");
    let typo = s.http.get(s.url("/readyz?strict=synk")).send().await.unwrap();
    assert_eq!(typo.status(), 400);
    assert_eq!(s.http.get(s.url("/healthz")).send().await.unwrap().status(), 200, "still alive");
    let m = s.metrics().await;
    assert!(
        sample(&m, "waybill_remote_errors_total", &["carrier=\"starmile\"", "kind=\"auth\""])
            .is_some(),
        "{m}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_gracefully_and_the_cursor_matches_the_rows() {
    let mut options = AppOptions::default();
    options.starmile.preload_orders = 1_500;
    let app = spawn_app(BIN, options).await;
    let total = app.starmile.counters().pool_rows as i64;
    let s = start(&app, &[]).await;
    // Wait until sync has committed at least one page, then stop it (mid-drain or not).
    s.wait_for("a committed page", WAIT, || async {
        let m = s.metrics().await;
        (sample(&m, "waybill_sync_cursor", &["account=\"main\""])? > 0.0).then_some(())
    })
    .await;
    let (code, rest) = s.terminate().await;
    assert_eq!(code, Some(0), "serve exits 0 on SIGTERM; printed {rest:?}");
    assert!(rest.contains("stopped"), "{rest:?}");

    let store = app.store().await;
    let cursor: i64 = sqlx::query("SELECT cursor FROM cursors WHERE account = 'main'")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get("cursor");
    let (rows, max): (i64, i64) = sqlx::query_as(
        "SELECT count(*), coalesce(max(cursor), 0) FROM pool_rows WHERE account = 'main'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    store.close().await;
    assert!(rows > 0 && rows <= total, "{rows} of {total}");
    assert_eq!(cursor, max, "the committed cursor is the last stored row's");

    // Restarting resumes from that cursor: one more round stores exactly the rest.
    let rerun = app.run(&["sync", "--once"]).await;
    assert_eq!(rerun.code, 0, "{}", rerun.stderr);
    let store = app.store().await;
    let (rows,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM pool_rows").fetch_one(store.pool()).await.unwrap();
    store.close().await;
    assert_eq!(rows, total, "no row lost or doubled across the shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_over_the_timeout_gets_a_json_408() {
    let mut options = AppOptions::default();
    // Every Starmile call takes at least 3 s; the server gives a request 1 s.
    options.starmile.faults.latency = Duration::from_secs(3);
    let app = spawn_app(BIN, options).await;
    let s = start(
        &app,
        &[("WAYBILL_SERVE__SYNC", "false"), ("WAYBILL_SERVE__REQUEST_TIMEOUT_SECONDS", "1")],
    )
    .await;
    let slow = s.get("/v1/services").await;
    assert_eq!(slow.status(), 408);
    assert!(slow.headers().contains_key("x-request-id"));
    assert_eq!(slow.json::<Value>().await.unwrap()["code"], "timeout");
    let m = s.metrics().await;
    assert_eq!(
        sample(&m, "waybill_http_requests_total", &["route=\"/v1/services\"", "status=\"408\""]),
        Some(1.0),
        "{m}"
    );
}

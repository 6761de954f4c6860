//! Outbound webhooks end to end: `waybill sync` notifies a receiver of every parcel status
//! change, signed, in each parcel's order, through receiver failures and a SIGKILL of the
//! sender, and the delivery log and redelivery work from the CLI.
//!
//! The receiver checks each signature with its own HMAC (not waybill's `verify`), fails every
//! fourth request with 503 (so retries happen), and records every body. At the end, every
//! delivery the store wrote was received, and for each parcel the received changes chain
//! from `pending` to the parcel's final status with no gap: nothing was lost.

use std::{
    collections::{BTreeMap, BTreeSet},
    process::Stdio,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{Router, body::Bytes, http::HeaderMap, http::StatusCode, routing::post};
use hmac::{Hmac, Mac};
use sqlx::Row;
use waybill_domain::TrackingStatus;
use waybill_e2e::{AppOptions, TestApp, spawn_app};

mod serve_support;

const BIN: &str = env!("CARGO_BIN_EXE_waybill-e2e");
const SECRET: &str = "whsec_e2e_0123456789";
const SECRET_VAR: &str = "WAYBILL_OUTBOUND_WEBHOOK_ERP_SECRET";

#[derive(Default)]
struct Received {
    /// (delivery id, body) of every request whose signature held, in arrival order.
    bodies: Vec<(u64, serde_json::Value)>,
    /// Requests refused for a bad signature or header.
    forged: Vec<String>,
    requests: u64,
}

async fn receiver() -> (Arc<Mutex<Received>>, String) {
    let seen = Arc::new(Mutex::new(Received::default()));
    let state = Arc::clone(&seen);
    let app = Router::new().route(
        "/hooks/waybill",
        post(move |headers: HeaderMap, body: Bytes| {
            let state = Arc::clone(&state);
            async move {
                let mut r = state.lock().expect("lock");
                r.requests += 1;
                let header = headers
                    .get("waybill-signature")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                if let Err(why) = check_signature(&header, &body) {
                    r.forged.push(why);
                    return StatusCode::BAD_REQUEST;
                }
                if r.requests % 4 == 3 {
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                let json: serde_json::Value = serde_json::from_slice(&body).expect("json body");
                let id = json["id"].as_u64().expect("id");
                let header_id = headers.get("waybill-webhook-id").and_then(|v| v.to_str().ok());
                assert_eq!(
                    header_id,
                    Some(id.to_string().as_str()),
                    "the id header is the body's id"
                );
                r.bodies.push((id, json));
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hooks/waybill", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (seen, url)
}

/// `t=<seconds>,v1=<hex>`: HMAC-SHA256 over "<t>.<body>", the timestamp within 5 minutes.
fn check_signature(header: &str, body: &[u8]) -> Result<(), String> {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = Some(value.to_owned()),
            Some(("v1", value)) => v1 = Some(value.to_owned()),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else { return Err(format!("malformed: {header:?}")) };
    let sent: i64 = t.parse().map_err(|_| format!("bad t: {t:?}"))?;
    if (jiff::Timestamp::now().as_second() - sent).abs() > 300 {
        return Err(format!("stale t: {t}"));
    }
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    let want: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    if want == v1 { Ok(()) } else { Err(format!("mismatch for t={t}")) }
}

/// Subscribes `erp` at `url` (retrying after 1 s, 2 s attempts) in the app's configuration.
fn subscribe(app: &TestApp, url: &str) {
    let mut config = std::fs::read_to_string(&app.config).expect("config");
    config.push_str(&format!(
        "\n[[outbound_webhooks]]\nname = \"erp\"\nurl = {url:?}\nfirst_retry_seconds = 1\ntimeout_seconds = 2\n"
    ));
    std::fs::write(&app.config, config).expect("config written");
}

fn sync(app: &TestApp) -> std::process::Child {
    app.command(&["sync"])
        .env(SECRET_VAR, SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sync starts")
}

/// Runs the binary with the subscription's secret, off the runtime's threads (the receiver
/// answers on them).
async fn with_secret(app: &TestApp, args: &[&str]) -> std::process::Output {
    let mut cmd = app.command(args);
    cmd.env(SECRET_VAR, SECRET);
    tokio::task::spawn_blocking(move || cmd.output().expect("runs")).await.expect("join")
}

async fn stored(app: &TestApp) -> (Vec<(u64, String)>, Vec<(String, String)>) {
    let store = app.store().await;
    let deliveries = sqlx::query("SELECT id, state FROM webhook_deliveries ORDER BY id")
        .fetch_all(store.pool())
        .await
        .expect("deliveries")
        .iter()
        .map(|r| (r.get::<i64, _>("id") as u64, r.get::<String, _>("state")))
        .collect();
    let parcels = sqlx::query("SELECT merchant_tracking_number, status FROM parcels")
        .fetch_all(store.pool())
        .await
        .expect("parcels")
        .iter()
        .map(|r| (r.get("merchant_tracking_number"), r.get("status")))
        .collect();
    store.close().await;
    (deliveries, parcels)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_status_change_is_delivered_signed_and_in_order_across_a_sigkill() {
    let (received, url) = receiver().await;
    let mut options = AppOptions::default();
    options.starmile.time_scale = 20_000.0;
    options.starshipit.time_scale = 20_000.0;
    let app = spawn_app(BIN, options).await;
    subscribe(&app, &url);
    for (reference, items) in [("PO-W1", ["W1-A", "W1-B"]), ("PO-W2", ["W2-A", "W2-B"])] {
        let mut args = vec!["orders", "create", "--service", "5", "--reference", reference];
        for item in &items {
            args.extend(["--item", item]);
        }
        let created = app.run(&args).await;
        assert_eq!(created.code, 0, "{}", created.stderr);
    }

    // First run: killed once some deliveries arrived.
    let mut child = sync(&app);
    let deadline = Instant::now() + Duration::from_secs(60);
    while received.lock().expect("lock").bodies.len() < 3 {
        assert!(Instant::now() < deadline, "no delivery within 60 s");
        assert!(child.try_wait().expect("wait").is_none(), "sync exited early");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    let at_kill = received.lock().expect("lock").bodies.len();

    // Second run: until every parcel is final and every delivery is delivered.
    let mut child = sync(&app);
    let deadline = Instant::now() + Duration::from_secs(150);
    let (deliveries, parcels) = loop {
        let (deliveries, parcels) = stored(&app).await;
        let final_ = parcels
            .iter()
            .all(|(_, s)| s.parse::<TrackingStatus>().is_ok_and(TrackingStatus::is_terminal));
        let sent = deliveries.iter().all(|(_, state)| state == "delivered");
        if final_ && sent && !deliveries.is_empty() {
            break (deliveries, parcels);
        }
        assert!(
            Instant::now() < deadline,
            "not settled in 150 s: parcels {parcels:?}, deliveries {:?}",
            deliveries.iter().filter(|(_, s)| s != "delivered").collect::<Vec<_>>()
        );
        assert!(child.try_wait().expect("wait").is_none(), "sync exited early");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let _ = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let status = child.wait().expect("sync exits");
    assert_eq!(status.code(), Some(0), "SIGTERM is an orderly stop");

    let last_id = deliveries.last().expect("a delivery").0;
    {
        let r = received.lock().expect("lock");
        assert!(r.forged.is_empty(), "every signature held: {:?}", r.forged);
        assert!(
            r.requests > r.bodies.len() as u64,
            "some requests were refused with 503 and retried"
        );
        // No loss: every delivery the store wrote was received.
        let ids: BTreeSet<u64> = r.bodies.iter().map(|(id, _)| *id).collect();
        let missing: Vec<_> = deliveries.iter().filter(|(id, _)| !ids.contains(id)).collect();
        assert!(
            missing.is_empty(),
            "received every delivery (killed after {at_kill}): missing {missing:?}"
        );

        // Per parcel, first receipts come in id order and chain pending → … → its final status.
        let mut chains: BTreeMap<String, Vec<(u64, String, String)>> = BTreeMap::new();
        let mut first_seen = BTreeSet::new();
        for (id, body) in &r.bodies {
            if !first_seen.insert(*id) {
                continue; // a redelivery after the kill: at least once, deduplicated by id
            }
            let data = &body["data"];
            assert_eq!(body["subscription"], "erp");
            assert!(body["type"].as_str().is_some_and(|t| t.starts_with("parcel.")), "{body}");
            chains
                .entry(data["merchant_tracking_number"].as_str().expect("mtn").to_owned())
                .or_default()
                .push((
                    *id,
                    data["previous_status"].as_str().expect("previous").to_owned(),
                    data["status"].as_str().expect("status").to_owned(),
                ));
        }
        assert_eq!(chains.len(), parcels.len(), "every parcel was notified: {chains:?}");
        for (parcel, final_status) in &parcels {
            let chain = &chains[parcel];
            assert!(chain.windows(2).all(|w| w[0].0 < w[1].0), "{parcel}: in id order {chain:?}");
            assert_eq!(chain[0].1, "pending", "{parcel}: starts from pending {chain:?}");
            for w in chain.windows(2) {
                assert_eq!(w[0].2, w[1].1, "{parcel}: no change lost between {w:?}");
            }
            assert_eq!(&chain[chain.len() - 1].2, final_status, "{parcel}: ends at its status");
        }
        eprintln!(
            "{} deliveries for {} parcels; {} requests, {} accepted (killed after {at_kill})",
            deliveries.len(),
            parcels.len(),
            r.requests,
            r.bodies.len()
        );
    }

    // The delivery log, and a redelivery from the CLI.
    let listed =
        with_secret(&app, &["webhooks", "deliveries", "--state", "delivered", "--json"]).await;
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("json");
    assert_eq!(listed.as_array().map(Vec::len), Some(deliveries.len().min(50)));
    assert_eq!(listed[0]["id"], last_id, "newest first");
    let table = app.run(&["webhooks", "deliveries", "--limit", "2"]).await;
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(
        table.stdout.contains("SUBSCRIPTION") && table.stdout.contains("delivered"),
        "{}",
        table.stdout
    );
    assert!(
        table.stdout.contains(&format!("--before {}", last_id - 1)),
        "a next-page hint: {}",
        table.stdout
    );

    let before = received.lock().expect("lock").requests;
    let again = with_secret(&app, &["webhooks", "redeliver", &last_id.to_string()]).await;
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(again.status.success(), "{stdout}{}", String::from_utf8_lossy(&again.stderr));
    assert!(received.lock().expect("lock").requests > before, "sent again");
    assert!(stdout.contains(&format!("delivery {last_id}")), "{stdout}");

    let unknown = with_secret(&app, &["webhooks", "redeliver", "999999"]).await;
    assert_eq!(
        unknown.status.code(),
        Some(3),
        "not found: {}",
        String::from_utf8_lossy(&unknown.stderr)
    );
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no webhook delivery has id 999999"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_notifies_as_it_syncs_and_metrics_count_the_deliveries() {
    let (received, url) = receiver().await;
    let mut options = AppOptions::default();
    options.starmile.time_scale = 20_000.0;
    options.starshipit.time_scale = 20_000.0;
    let app = spawn_app(BIN, options).await;
    subscribe(&app, &url);
    let server =
        serve_support::start(&app, &[(SECRET_VAR, SECRET), ("WAYBILL_SERVE__SYNC", "true")]).await;
    let order = serde_json::json!({
        "reference": "PO-SERVE-1",
        "service_id": 5,
        "items": [{"merchant_tracking_number": "SV-1"}],
    });
    let created = server.post_json("/v1/orders", &order).await;
    assert_eq!(created.status(), 201);

    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let delivered = received.lock().expect("lock").bodies.len();
        let metrics = server.metrics().await;
        let counted = metrics.lines().any(|l| {
            l.starts_with("waybill_webhook_deliveries{subscription=\"erp\",state=\"delivered\"}")
                && !l.ends_with(" 0")
        });
        if delivered >= 2 && counted {
            break;
        }
        assert!(Instant::now() < deadline, "serve sent {delivered} deliveries in 60 s:\n{metrics}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    {
        let r = received.lock().expect("lock");
        assert!(r.forged.is_empty(), "{:?}", r.forged);
        assert_eq!(r.bodies[0].1["data"]["order_reference"], "PO-SERVE-1");
        assert_eq!(r.bodies[0].1["data"]["previous_status"], "pending");
    }
    let (code, _) = server.terminate().await;
    assert_eq!(code, Some(0));
}

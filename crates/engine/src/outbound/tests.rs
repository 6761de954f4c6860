//! The sender against a real SQLite store and a loopback receiver that answers as scripted.

use std::sync::{Arc, Mutex};

use axum::{Router, body::Bytes, http::HeaderMap, http::StatusCode, routing::post};
use proptest::prelude::*;
use waybill_domain::{
    CarrierId, CarrierInfo, EventTime, Leg, MerchantTrackingNumber, Order, OrderItem, OrderParcel,
    OrderRequest, PartnerOrderRef, RegionStatus, ServiceId, TrackingEvent, TrackingNumber,
    TrackingStatus,
};
use waybill_store::{DeliveryFilter, SqliteStore};

use super::*;

const SECRET: &str = "whsec_test";

#[test]
fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
    // Computed independently: python3 -c "import hmac,hashlib;
    // print(hmac.new(b'whsec_test', b'1796180000.{\"id\":1}', hashlib.sha256).hexdigest())"
    assert_eq!(
        signature(SECRET.as_bytes(), 1_796_180_000, br#"{"id":1}"#),
        "t=1796180000,v1=aad03b513a06b83a078fe2d2a8ef5dfa732b1f871272241112f3a8bba6c8eee9"
    );
}

#[test]
fn verify_refuses_stale_malformed_and_forged_requests() {
    let body = br#"{"id":1}"#;
    let header = signature(SECRET.as_bytes(), 1_000_000, body);
    assert_eq!(verify(SECRET.as_bytes(), &header, body, 1_000_299), Ok(()));
    assert_eq!(verify(SECRET.as_bytes(), &header, body, 1_000_301), Err(VerifyError::Stale(301)));
    assert_eq!(verify(b"other", &header, body, 1_000_000), Err(VerifyError::Mismatch));
    assert_eq!(
        verify(SECRET.as_bytes(), &header, b"{\"id\":2}", 1_000_000),
        Err(VerifyError::Mismatch)
    );
    assert_eq!(verify(SECRET.as_bytes(), "v1=abc", body, 1_000_000), Err(VerifyError::Malformed));
    // During a secret rotation a request may carry two signatures: one matching is enough.
    let rotated = format!("{header},v1={}", "00".repeat(32));
    assert_eq!(verify(SECRET.as_bytes(), &rotated, body, 1_000_000), Ok(()));
}

proptest! {
    #[test]
    fn any_signed_body_verifies_and_any_changed_byte_does_not(
        secret in proptest::collection::vec(any::<u8>(), 0..64),
        body in proptest::collection::vec(any::<u8>(), 1..256),
        t in 0i64..4_000_000_000,
        flip in any::<prop::sample::Index>(),
    ) {
        let header = signature(&secret, t, &body);
        prop_assert_eq!(verify(&secret, &header, &body, t), Ok(()));
        let mut forged = body.clone();
        let i = flip.index(forged.len());
        forged[i] ^= 0x01;
        prop_assert_eq!(verify(&secret, &header, &forged, t), Err(VerifyError::Mismatch));
    }

    #[test]
    fn backoff_doubles_within_its_jitter_and_never_passes_the_cap(
        first_ms in 1u64..60_000,
        max_ms in 1u64..7_200_000,
        attempts in 1u32..64,
        sample in 0.0f64..1.0,
    ) {
        let b = Backoff { first: Duration::from_millis(first_ms), max: Duration::from_millis(max_ms) };
        let d = b.delay(attempts, sample);
        prop_assert!(d <= b.max);
        let base = b.first.saturating_mul(1 << attempts.saturating_sub(1).min(30)).min(b.max);
        prop_assert!(d >= base.mul_f64(0.8) - Duration::from_micros(1), "{d:?} < 0.8 × {base:?}");
        // The same sample never waits less after more failures.
        prop_assert!(b.delay(attempts + 1, sample) >= d);
    }
}

/// What the receiver saw, and how it answers next.
#[derive(Default)]
struct Receiver {
    requests: Mutex<Vec<(HeaderMap, Bytes)>>,
    /// Statuses to answer, first to last; then 204.
    script: Mutex<Vec<StatusCode>>,
}

async fn receiver(script: &[StatusCode]) -> (Arc<Receiver>, String) {
    let state = Arc::new(Receiver {
        requests: Mutex::default(),
        script: Mutex::new(script.iter().rev().copied().collect()),
    });
    let seen = Arc::clone(&state);
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: Bytes| {
            let seen = Arc::clone(&seen);
            async move {
                seen.requests.lock().expect("lock").push((headers, body));
                seen.script.lock().expect("lock").pop().unwrap_or(StatusCode::NO_CONTENT)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (state, url)
}

fn mtn(s: &str) -> MerchantTrackingNumber {
    MerchantTrackingNumber::parse(s).expect("merchant number")
}

fn tn(s: &str) -> TrackingNumber {
    TrackingNumber::parse(s).expect("tracking number")
}

/// A store with order PO-1 (parcels M-1, M-2) and a subscription to every change at `url`.
async fn store_with_subscription(
    url: &str,
    backoff: Backoff,
) -> (Arc<dyn Store>, WebhookSender, tempfile::TempDir) {
    let (store, dir) = SqliteStore::open_temporary().await.expect("store");
    let store: Arc<dyn Store> = Arc::new(store);
    let reference = PartnerOrderRef::parse("PO-1").expect("reference");
    let request = OrderRequest::new(
        ServiceId::new(5).expect("service"),
        reference.clone(),
        vec![OrderItem::new(mtn("M-1")), OrderItem::new(mtn("M-2"))],
    )
    .expect("request");
    let order = Order {
        reference,
        tracking_number: tn("STM-O1"),
        duplicate: false,
        region_status: RegionStatus::Mapped,
        parcels: ["M-1", "M-2"]
            .iter()
            .map(|m| OrderParcel {
                item_id: None,
                merchant_tracking_number: Some(mtn(m)),
                tracking_number: tn(&format!("STM-{m}")),
            })
            .collect(),
    };
    store.save_order("main", &request, &order).await.expect("save");
    let endpoint = Endpoint {
        name: "erp".into(),
        url: url.into(),
        secret: SecretString::from(SECRET),
        statuses: Vec::new(),
        retry_for: Duration::from_secs(3600),
        timeout: Duration::from_millis(500),
        backoff,
    };
    let options = SenderOptions::default();
    let sender = WebhookSender::new(Arc::clone(&store), vec![endpoint], options).expect("sender");
    sender.subscribe().await.expect("subscribe");
    (store, sender, dir)
}

/// A first-leg scan of parcel `m`, `minute` minutes into the day.
async fn scan(store: &dyn Store, m: &str, minute: i64, status: TrackingStatus) {
    let first = CarrierInfo::new(CarrierId::from_static("courier"), "Courier", Leg::First);
    let at = jiff::Timestamp::from_second(1_780_000_000 + minute * 60).expect("time");
    let event = TrackingEvent::new(
        first.id.clone(),
        tn(m),
        EventTime::exact(at, Some("UTC".into())),
        status.as_str(),
        status,
    );
    store.record_events(&[first.join(event)]).await.expect("events");
}

async fn all_deliveries(store: &dyn Store) -> Vec<Delivery> {
    let filter = DeliveryFilter { limit: 10, ..DeliveryFilter::default() };
    store.deliveries(&filter).await.expect("list")
}

/// Retries due at once.
const INSTANT: Backoff = Backoff { first: Duration::ZERO, max: Duration::ZERO };

#[tokio::test]
async fn changes_arrive_signed_in_each_parcels_order_and_failures_are_retried() {
    let (seen, url) = receiver(&[StatusCode::SERVICE_UNAVAILABLE]).await;
    let (store, sender, _dir) = store_with_subscription(&url, INSTANT).await;
    scan(&*store, "M-1", 1, TrackingStatus::InfoReceived).await;
    scan(&*store, "M-1", 2, TrackingStatus::InTransit).await;
    scan(&*store, "M-2", 3, TrackingStatus::InfoReceived).await;

    let mut passes = Vec::new();
    for _ in 0..10 {
        let report = sender.deliver_due().await.expect("pass");
        if report.attempted == 0 {
            break;
        }
        passes.push(report);
    }
    // Pass 1: M-1's first change (503) and M-2's; pass 2: M-1's first again; pass 3: its second.
    let attempted: Vec<u32> = passes.iter().map(|p| p.attempted).collect();
    assert_eq!(attempted, [2, 1, 1], "{passes:?}");
    assert_eq!(passes[0].retrying, 1);

    let requests = seen.requests.lock().expect("lock").clone();
    assert_eq!(requests.len(), 4);
    let now = jiff::Timestamp::now().as_second();
    let mut by_parcel: HashMap<String, Vec<(u64, String)>> = HashMap::new();
    for (headers, body) in &requests {
        let header = headers[SIGNATURE_HEADER].to_str().expect("ascii");
        assert_eq!(verify(SECRET.as_bytes(), header, body, now), Ok(()), "signed");
        assert_eq!(headers["content-type"], "application/json");
        let json: serde_json::Value = serde_json::from_slice(body).expect("json");
        assert_eq!(headers[ID_HEADER].to_str().expect("ascii"), json["id"].to_string());
        assert_eq!(json["type"], "parcel.status_changed");
        assert_eq!(json["subscription"], "erp");
        assert_eq!(json["data"]["order_reference"], "PO-1");
        assert_eq!(json["data"]["event"]["carrier"], "courier");
        let parcel = json["data"]["merchant_tracking_number"].as_str().expect("mtn").to_owned();
        let status = json["data"]["status"].as_str().expect("status").to_owned();
        by_parcel.entry(parcel).or_default().push((json["id"].as_u64().expect("id"), status));
    }
    // M-1: the 503'd first change, sent again, then the second; never the second first.
    let m1: Vec<&str> = by_parcel["M-1"].iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(m1, ["info_received", "info_received", "in_transit"]);
    assert!(by_parcel["M-1"].windows(2).all(|w| w[0].0 <= w[1].0), "ids in order");
    // The retry is the same body, byte for byte.
    let first_two: Vec<&Bytes> = requests
        .iter()
        .filter(|(_, b)| {
            serde_json::from_slice::<serde_json::Value>(b).expect("json")["data"]["status"]
                == "info_received"
                && b.windows(3).any(|w| w == b"M-1")
        })
        .map(|(_, b)| b)
        .collect();
    assert_eq!(first_two.len(), 2);
    assert_eq!(first_two[0], first_two[1]);

    let all = all_deliveries(&*store).await;
    assert!(all.iter().all(|d| d.state == DeliveryState::Delivered), "{all:?}");
    let retried = all.iter().find(|d| d.attempts == 2).expect("one needed two attempts");
    assert_eq!(retried.last_status_code, Some(204));
}

#[tokio::test]
async fn gone_gives_up_at_once_and_a_redelivery_sends_it_again() {
    let (seen, url) = receiver(&[StatusCode::GONE]).await;
    let (store, sender, _dir) = store_with_subscription(&url, INSTANT).await;
    scan(&*store, "M-1", 1, TrackingStatus::InfoReceived).await;
    let report = sender.deliver_due().await.expect("pass");
    assert_eq!((report.attempted, report.given_up), (1, 1));
    let [gone] = all_deliveries(&*store).await.try_into().expect("one delivery");
    assert_eq!(gone.state, DeliveryState::Failed);
    assert!(gone.last_error.as_deref().is_some_and(|e| e.contains("410")), "{gone:?}");

    let again = sender.redeliver(gone.id).await.expect("redeliver");
    assert_eq!((again.state, again.attempts), (DeliveryState::Delivered, 2));
    assert_eq!(seen.requests.lock().expect("lock").len(), 2);
    assert!(matches!(sender.redeliver(999).await, Err(RedeliverError::NotFound(999))));
}

#[tokio::test]
async fn an_unreachable_or_slow_receiver_is_retried_later_with_the_reason() {
    // Nothing listens on this port once the listener is dropped.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let minute = Backoff { first: Duration::from_secs(60), max: Duration::from_secs(60) };
    let url = format!("http://127.0.0.1:{port}/hook");
    let (store, sender, _dir) = store_with_subscription(&url, minute).await;
    scan(&*store, "M-1", 1, TrackingStatus::InfoReceived).await;
    let report = sender.deliver_due().await.expect("pass");
    assert_eq!((report.attempted, report.retrying), (1, 1));
    let [d] = all_deliveries(&*store).await.try_into().expect("one delivery");
    assert_eq!(d.state, DeliveryState::Pending);
    assert!(d.last_error.as_deref().is_some_and(|e| e.contains("could not connect")), "{d:?}");
    let wait = d.next_attempt_at.duration_since(jiff::Timestamp::now());
    assert!(wait.as_secs_f64() > 40.0, "backed off: {wait:?}");
    // Not due yet: the next pass sends nothing.
    assert_eq!(sender.deliver_due().await.expect("pass").attempted, 0);
}

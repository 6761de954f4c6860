//! The tracking page in every state a parcel can be in, in a real browser: headless Chromium
//! over WebDriver opens delivered, in-transit, customs-hold, failed-attempt, returned and
//! not-found pages at a phone's and a desktop's size, asserts the progress stepper, the
//! first-leg carrier's name and tracking link (from the data), the outcome colour class and
//! the security headers, and saves one screenshot per page and size to
//! `target/browser-artifacts/` (`{state}-{phone|desktop}.png`).
//!
//! The parcels are domain fixtures written through the store's ports — Starmile's raw statuses
//! mapped by its generated table, StarShipIT's first leg with offset-less carrier-local times —
//! and served by the real server (`waybill_server::startup`), so every state is there at once.
//! Needs `chromium` and `chromium-driver`; without them this test fails, it never skips.

mod browser_support;

use std::{sync::Arc, time::Duration};

use browser_support::{artifacts, session, start_driver};
use fantoccini::Locator;
use serde_json::Value;
use waybill_domain::{EventTime, Reason, TrackingEvent, TrackingNumber};
use waybill_store::{
    FeedSink, OrderBook, SqliteStore,
    testing::conformance::{answer, request},
};

const ACCOUNT: &str = "main";
const AUSPOST: &str = "https://auspost.com.au/mypost/track/details/";

/// A Starmile event of parcel `number` (Starmile `STM-{number}`), `hours` after the start, at
/// a hub in Sydney, mapped by Starmile's own table.
fn starmile(number: &str, hours: i64, raw: &str, reason: Option<&str>) -> TrackingEvent {
    let at = jiff::Timestamp::from_second(1_781_000_000 + hours * 3600).expect("test fixture");
    let mut e = TrackingEvent::new(
        waybill_starmile::CARRIER_ID,
        TrackingNumber::parse(format!("STM-{number}")).expect("test fixture"),
        EventTime::exact(at, Some("Australia/Sydney".into())),
        raw,
        waybill_starmile::status_map::unified(raw),
    );
    e.milestone = Some(waybill_starmile::status_map::milestone(raw));
    e.merchant_tracking_number = waybill_domain::MerchantTrackingNumber::parse(number).ok();
    e.location = Some(if hours < 30 { "Sydney hub" } else { "Auckland" }.into());
    e.reason = reason.map(|code| Reason { code: code.into(), detail: None });
    e
}

/// A StarShipIT first-leg scan: an offset-less Sydney wall-clock time, Australia Post's name
/// and tracking page, joined as the engine joins it.
fn first_leg(number: &str, hours: i64, raw: &str, details: &str) -> TrackingEvent {
    let at = jiff::Timestamp::from_second(1_781_000_000 + hours * 3600).expect("test fixture");
    let sydney = jiff::tz::TimeZone::get("Australia/Sydney").expect("test fixture");
    let mut e = TrackingEvent::new(
        waybill_starshipit::CARRIER_ID,
        TrackingNumber::parse(number).expect("test fixture"),
        EventTime::Local { at: at.to_zoned(sydney).datetime() },
        raw,
        waybill_starshipit::status_map::unified(raw),
    );
    e.milestone = Some(waybill_starshipit::status_map::milestone(raw));
    e.description = Some(details.into());
    e.carrier_name = Some("Australia Post".into());
    e.tracking_url = Some(format!("{AUSPOST}{number}"));
    waybill_starshipit::carrier().join(e)
}

/// The journey of each state's parcel.
fn journeys() -> Vec<(&'static str, &'static str, Vec<TrackingEvent>)> {
    let start = |n: &str| {
        vec![
            first_leg(n, 0, "Printed", "Shipping label printed"),
            first_leg(n, 2, "Dispatched", "Shipment picked up (PU)"),
            first_leg(n, 6, "In Transit", "Departed Facility in SYDNEY - AUSTRALIA (DF)"),
            first_leg(n, 13, "Delivered", "Delivered to Starmile warehouse"),
            starmile(n, 12, "received_at_hub", None),
            starmile(n, 14, "sorted", None),
            starmile(n, 15, "bag_closed", None),
            starmile(n, 18, "dispatched-from_hub", None),
            starmile(n, 20, "in_transit", None),
        ]
    };
    let with = |n: &str, rest: &[(i64, &str, Option<&str>)]| {
        let mut events = start(n);
        events.extend(rest.iter().map(|(h, raw, reason)| starmile(n, *h, raw, *reason)));
        events
    };
    vec![
        (
            "delivered",
            "BR-DELIVERED",
            with(
                "BR-DELIVERED",
                &[
                    (30, "arrived_at_terminal", None),
                    (31, "customs_released", None),
                    (40, "out_for_delivery", None),
                    (43, "delivered", None),
                ],
            ),
        ),
        ("in-transit", "BR-TRANSIT", start("BR-TRANSIT")),
        (
            "customs-hold",
            "BR-CUSTOMS",
            with(
                "BR-CUSTOMS",
                &[
                    (30, "arrived_at_terminal", None),
                    (31, "customs_in_progress", None),
                    (33, "customs_hold", Some("missing_declaration")),
                ],
            ),
        ),
        (
            "failed-attempt",
            "BR-FAILED",
            with(
                "BR-FAILED",
                &[
                    (30, "arrived_at_terminal", None),
                    (31, "customs_released", None),
                    (40, "out_for_delivery", None),
                    (42, "delivery_failed", Some("customer_absent")),
                ],
            ),
        ),
        (
            "returned",
            "BR-RETURNED",
            with(
                "BR-RETURNED",
                &[
                    (30, "arrived_at_terminal", None),
                    (31, "customs_released", None),
                    (40, "out_for_delivery", None),
                    (42, "delivery_failed", Some("address_not_found")),
                    (60, "out_for_delivery", None),
                    (62, "delivery_failed", Some("address_not_found")),
                    (64, "undelivered", None),
                    (120, "returned", None),
                ],
            ),
        ),
    ]
}

/// (state, expected outcome class, expected current step, status label).
const EXPECTED: [(&str, &str, &str, &str); 5] = [
    ("delivered", "outcome-delivered", "Delivered", "Delivered"),
    ("in-transit", "outcome-progress", "In linehaul", "In transit"),
    ("customs-hold", "outcome-attention", "Customs", "Held at customs"),
    ("failed-attempt", "outcome-attention", "Out for delivery", "Delivery attempted"),
    ("returned", "outcome-ended", "Returned to sender", "Returned to sender"),
];

async fn serve(store: Arc<SqliteStore>) -> (String, tokio::sync::oneshot::Sender<()>) {
    let deps = waybill_server::startup::Deps {
        store,
        accounts: Vec::new(),
        carriers: vec![waybill_starmile::carrier(), waybill_starshipit::carrier()],
        webhooks: Vec::new(),
        engine: None,
        limiter_waits: Vec::new(),
        upstream: waybill_server::metrics::UpstreamMetrics::default(),
    };
    let settings = waybill_server::Settings {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        api_keys: waybill_server::auth::ApiKeys::from_plaintext(["browser-test-key"]),
        request_timeout: Duration::from_secs(30),
        body_limit_bytes: 256 * 1024,
        page_requests_per_minute: std::num::NonZeroU32::new(6000).expect("test fixture"),
        page_burst: std::num::NonZeroU32::new(6000).expect("test fixture"),
        sync_stalled_after: Duration::from_secs(600),
        header_read_timeout: Duration::from_secs(10),
        max_connections: 4096,
    };
    let bound = waybill_server::startup::bind(deps, settings).await.expect("the server binds");
    let url = format!("http://{}", bound.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(bound.run(async move {
        let _ = stopped.await;
    }));
    (url, stop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_state_of_the_tracking_page_at_phone_and_desktop_sizes() {
    let (store, _dir) = SqliteStore::open_temporary().await.expect("a store");
    for (_, number, events) in journeys() {
        let reference = format!("PO-{number}");
        let starmile_number = format!("STM-{number}");
        store
            .save_order(
                ACCOUNT,
                &request(&reference, 5, &[number]),
                &answer(
                    &reference,
                    &format!("STM-O-{number}"),
                    &[(Some(number), None, &starmile_number)],
                ),
            )
            .await
            .expect("save");
        store.record_events(&events).await.expect("events");
    }
    // An order with two parcels, found by its reference: the page lists them.
    store
        .save_order(
            ACCOUNT,
            &request("PO-TWO", 5, &["BR-TWO-A", "BR-TWO-B"]),
            &answer(
                "PO-TWO",
                "STM-O-TWO",
                &[(Some("BR-TWO-A"), None, "STM-TA"), (Some("BR-TWO-B"), None, "STM-TB")],
            ),
        )
        .await
        .expect("save");
    let (base, stop) = serve(Arc::new(store)).await;

    // The security headers, on the page and on its stylesheet.
    let http = reqwest::Client::new();
    for path in ["/track/BR-DELIVERED", "/assets/track.css", "/track/NOPE"] {
        let r = http.get(format!("{base}{path}")).send().await.expect("test fixture");
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().expect("test fixture");
        assert!(
            csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["x-frame-options"], "DENY");
    }

    let driver = start_driver().await;
    for (size, phone) in [("phone", true), ("desktop", false)] {
        let profile = tempfile::tempdir().expect("test fixture");
        let browser = session(&driver, phone, profile.path()).await;
        let result = async {
            for (state, class, step, label) in EXPECTED {
                let number = journeys().into_iter().find(|j| j.0 == state).expect("test fixture").1;
                // Lookups ignore case and surrounding spaces (the search form's path).
                let typed = format!("  {}  ", number.to_ascii_lowercase());
                browser.goto(&format!("{base}/track?number={}", typed.replace(' ', "+"))).await?;
                let h1 = browser.find(Locator::Css("main h1")).await?;
                assert_eq!(h1.text().await?, format!("Parcel {}", number.to_ascii_lowercase()));
                let summary = browser.find(Locator::Css("section.summary")).await?;
                let classes = summary.attr("class").await?.unwrap_or_default();
                assert!(classes.contains(class), "{state}: {classes}");
                let status = browser.find(Locator::Css("section.summary .status")).await?;
                assert_eq!(status.text().await?, label, "{state}");
                let current = browser.find(Locator::Css("ol.stepper li.current")).await?;
                assert!(current.is_displayed().await?);
                assert_eq!(current.text().await?, step, "{state}");
                let done = browser.find_all(Locator::Css("ol.stepper li.done")).await?;
                assert!(done.len() >= 3, "{state}: {} steps done", done.len());
                let link = browser.find(Locator::Css("a.carrier")).await?;
                assert_eq!(link.attr("href").await?, Some(format!("{AUSPOST}{number}")));
                assert_eq!(link.text().await?, "Australia Post");
                let page = browser.find(Locator::Css("main")).await?.text().await?;
                assert!(page.contains("zone inferred: Australia/Sydney"), "{page}");
                assert!(!page.contains("StarShipIT (first leg)"), "{page}");
                if state == "customs-hold" {
                    assert!(
                        page.contains("the sender must provide it"),
                        "the reason's sentence: {page}"
                    );
                }
                if state == "failed-attempt" {
                    assert!(page.contains("Nobody was home"), "{page}");
                }
                let overflow = browser
                    .execute(
                        "return document.documentElement.scrollWidth <= window.innerWidth;",
                        vec![],
                    )
                    .await?;
                assert_eq!(overflow, Value::Bool(true), "{state} fits the {size} width");
                let png = browser.screenshot().await?;
                std::fs::write(artifacts().join(format!("{state}-{size}.png")), &png)
                    .expect("saved");
            }
            browser.goto(&format!("{base}/track/PO-TWO")).await?;
            let links = browser.find_all(Locator::Css("main ul a")).await?;
            assert_eq!(links.len(), 2, "an order with two parcels lists them");
            browser.goto(&format!("{base}/track/NO-SUCH-PARCEL")).await?;
            let h1 = browser.find(Locator::Css("main h1")).await?;
            assert_eq!(h1.text().await?, "We can't find that parcel");
            let png = browser.screenshot().await?;
            std::fs::write(artifacts().join(format!("not-found-{size}.png")), &png).expect("saved");
            Ok::<(), fantoccini::error::CmdError>(())
        }
        .await;
        let _ = browser.close().await;
        result.expect("browser commands succeed");
    }
    drop(driver);
    let _ = stop.send(());
}

//! A real browser on the tracking page: headless Chromium (Debian's `chromium`) driven over
//! WebDriver (`chromedriver`, via fantoccini) opens the page of a demo parcel that both
//! carriers have reported on, checks the status and every timeline entry are visible at a
//! phone's width, saves screenshots to `target/browser-artifacts/`, and checks the 404 page.
//!
//! Needs `chromium` and `chromium-driver` (`apt-get install chromium chromium-driver`, which
//! `bash .ci/run` does); without them this test fails, it never skips.

mod browser_support;
mod serve_support;

use std::time::Duration;

use browser_support::{artifacts, session, start_driver};
use fantoccini::Locator;
use serde_json::{Value, json};
use serve_support::start;
use waybill_e2e::{AppOptions, spawn_app};

const BIN: &str = env!("CARGO_BIN_EXE_waybill-e2e");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_sized_browser_shows_the_tracking_page_and_the_404_page() {
    let driver = start_driver().await;

    // A demo parcel both carriers report on: accelerated sandboxes, an order created through
    // the API, its first leg booked at StarShipIT, background sync merging both.
    let mut options = AppOptions::default();
    options.starmile.time_scale = 20_000.0;
    options.starshipit.time_scale = 20_000.0;
    let app = spawn_app(BIN, options).await;
    let s = start(&app, &[]).await;
    let created = s
        .post_json(
            "/v1/orders",
            &json!({"reference": "PO-BROWSER", "service_id": 5, "items": [{"merchant_tracking_number": "BR-1"}]}),
        )
        .await;
    assert_eq!(created.status(), 201);
    app.starshipit.register_shipment("BR-1", "PO-BROWSER", app.starshipit.simulated_now());
    let timeline = s
        .wait_for(
            "a final status and events from both carriers",
            Duration::from_secs(240),
            || async {
                let v: Value = s.get("/v1/parcels/BR-1/timeline").await.json().await.ok()?;
                let events = v["events"].as_array()?;
                let carriers: std::collections::BTreeSet<_> =
                    events.iter().filter_map(|e| e["carrier"].as_str()).collect();
                let last = matches!(v["status"].as_str()?, "delivered" | "returned" | "cancelled");
                // Final: no carrier adds events any more, so the page shows exactly these.
                (carriers.len() == 2 && last).then_some(v)
            },
        )
        .await;
    let track: Value = s.get_json("/v1/track/BR-1").await;
    let events = timeline["events"].as_array().unwrap().len();

    let user_data = tempfile::tempdir().unwrap();
    let browser = session(&driver, true, user_data.path()).await;

    let result = async {
        browser.goto(&s.url("/track/BR-1")).await?;
        let lang = browser.find(Locator::Css("html")).await?.attr("lang").await?;
        assert_eq!(lang.as_deref(), Some("en"));
        let h1 = browser.find(Locator::Css("main h1")).await?;
        assert!(h1.is_displayed().await?);
        assert_eq!(h1.text().await?, "Parcel BR-1");
        let status = browser.find(Locator::Css("main .status")).await?;
        assert!(status.is_displayed().await?, "the current status is visible");
        let label = status.text().await?;
        assert!(!label.is_empty());
        let expected = match track["status"].as_str() {
            Some("delivered") => "Delivered",
            Some("returned") => "Returned to sender",
            _ => "Cancelled",
        };
        assert_eq!(label, expected);
        // One card per run of events at one milestone; older events of a run are collapsed
        // under `<details>`, so every merged event is on the page once.
        let items = browser.find_all(Locator::Css("main ol.timeline > li")).await?;
        let collapsed = browser.find_all(Locator::Css("main ol.timeline ol.events > li")).await?;
        assert_eq!(items.len() + collapsed.len(), events, "every merged event is listed once");
        let mut texts = Vec::new();
        for item in &items {
            assert!(item.is_displayed().await?, "every milestone card is visible");
            texts.push(item.text().await?);
        }
        let stepper = browser.find(Locator::Css("main ol.stepper li.current")).await?;
        assert!(stepper.is_displayed().await?, "the progress stepper shows where the parcel is");
        let all = browser.find(Locator::Css("main")).await?.html(true).await?;
        assert!(all.contains("Reported by <span class=\"carrier\">Starmile"), "{all}");
        assert!(all.contains("StarShipIT"), "the first leg is listed: {all}");
        // Nothing overflows a phone's width.
        let overflow = browser
            .execute("return document.documentElement.scrollWidth <= window.innerWidth;", vec![])
            .await?;
        assert_eq!(overflow, Value::Bool(true), "the page fits 390 px without sideways scrolling");
        browser.execute("window.scrollTo(0, 0);", vec![]).await?;
        let png = browser.screenshot().await?;
        std::fs::write(artifacts().join("track-page.png"), &png).expect("screenshot saved");

        browser.goto(&s.url("/track/NO-SUCH-PARCEL")).await?;
        let h1 = browser.find(Locator::Css("main h1")).await?;
        assert_eq!(h1.text().await?, "We can't find that parcel");
        let body = browser.find(Locator::Css("main")).await?.text().await?;
        assert!(body.contains("NO-SUCH-PARCEL"), "{body}");
        let png = browser.screenshot().await?;
        std::fs::write(artifacts().join("track-page-404.png"), &png).expect("screenshot saved");
        Ok::<(), fantoccini::error::CmdError>(())
    }
    .await;
    let _ = browser.close().await;
    result.expect("browser commands succeed");
    drop(driver);
}

/// `/docs` renders every operation from `/openapi.json` with no network beyond this server
/// (the assets are vendored) and under its own Content-Security-Policy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_interactive_api_page_renders_offline_under_its_csp() {
    let driver = start_driver().await;
    let app = spawn_app(BIN, AppOptions::default()).await;
    let s = start(&app, &[("WAYBILL_SERVE__SYNC", "false")]).await;
    let user_data = tempfile::tempdir().unwrap();
    let browser = session(&driver, true, user_data.path()).await;
    let result = async {
        browser.goto(&s.url("/docs/")).await?;
        browser
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::Css(".opblock-summary-path"))
            .await?;
        let mut paths = Vec::new();
        for e in browser.find_all(Locator::Css(".opblock-summary-path")).await? {
            paths.push(e.text().await?);
        }
        let shot = browser.screenshot().await?;
        std::fs::write(artifacts().join("docs.png"), shot).expect("screenshot saved");
        Ok::<_, fantoccini::error::CmdError>(paths)
    }
    .await;
    let _ = browser.close().await;
    let paths = result.expect("the docs page renders its operations");
    for wanted in ["/v1/orders", "/v1/parcels/{number}/timeline", "/v1/track/{number}"] {
        assert!(paths.iter().any(|p| p.contains(wanted)), "{wanted} missing from {paths:?}");
    }
}

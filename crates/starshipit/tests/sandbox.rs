//! The client against the sandbox over loopback HTTP: the spec's sample, XML, the
//! gateway's checks, both answer shapes, simulated first legs, faults and webhooks.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use support::{by_number, by_order, fast, fixture};
use waybill_domain::{EventTime, TrackingStatus};
use waybill_starshipit::{
    Error, Format,
    retry::RetryPolicy,
    sandbox::{DEFAULT_WALL_CLOCK_ZONE, Faults, Sandbox, SandboxConfig, WebhookTarget},
    webhook,
};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};

fn epoch() -> Timestamp {
    "2026-06-01T00:00:00Z".parse().unwrap()
}

async fn sandbox(config: SandboxConfig) -> Sandbox {
    Sandbox::start(SandboxConfig { epoch: epoch(), ..config }).await.unwrap()
}

/// A client on the production key, paced at its 20 requests/s.
fn client(s: &Sandbox) -> waybill_starshipit::ClientBuilder {
    fast(&s.base_url(), s.api_key(), s.production_subscription_key())
        .rate_limit_per_second(std::num::NonZeroU32::new(20).unwrap())
}

async fn raw_get(url: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut r = reqwest::Client::new().get(url);
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    let response = r.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn the_sample_parcel_answers_the_spec_sample_in_json_and_xml() {
    let s = sandbox(SandboxConfig::default()).await;
    let url = format!("{}/api/track?tracking_number=0000000000", s.base_url());
    let (status, body) = raw_get(
        &url,
        &[
            ("StarShipIT-Api-Key", s.api_key()),
            ("Ocp-Apim-Subscription-Key", s.developer_subscription_key()),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body, fixture("track-sample-spec.json").trim_end(), "byte-for-byte the spec sample");

    let json = client(&s).build().unwrap().track_details(&by_order("17062")).await.unwrap();
    let xml = client(&s).format(Format::Xml).build().unwrap();
    let from_xml = xml.track_details(&by_number("0000000000")).await.unwrap();
    assert_eq!(json, from_xml, "XML decodes to the same values as JSON");
    assert_eq!(from_xml[0].shipment.events.len(), 6);

    let (_, body) = raw_get(
        &url,
        &[
            ("StarShipIT-Api-Key", s.api_key()),
            ("Ocp-Apim-Subscription-Key", s.production_subscription_key()),
            ("Accept", "text/xml"),
        ],
    )
    .await;
    assert!(
        body.starts_with("<GetTrackingResponse><results><order_number>17062</order_number>"),
        "{body}"
    );
    assert_eq!(body.matches("<tracking_events>").count(), 6);
    s.shutdown().await;
}

#[tokio::test]
async fn gateway_checks_come_in_order() {
    let s = sandbox(SandboxConfig::default()).await;
    let url = format!("{}/api/track?tracking_number=0000000000", s.base_url());
    let (status, body) = raw_get(&url, &[("StarShipIT-Api-Key", s.api_key())]).await;
    assert_eq!(
        (status, body.as_str()),
        (401, fixture("error-gateway-401-missing-key.json").trim_end())
    );
    let (status, body) =
        raw_get(&url, &[("StarShipIT-Api-Key", "nope"), ("Ocp-Apim-Subscription-Key", "nope")])
            .await;
    assert_eq!(status, 401);
    assert!(body.contains("invalid subscription key"), "{body}");
    let (status, body) = raw_get(
        &url,
        &[
            ("StarShipIT-Api-Key", "nope"),
            ("Ocp-Apim-Subscription-Key", s.production_subscription_key()),
        ],
    )
    .await;
    assert_eq!(status, 401);
    assert!(body.contains(r#""success":false"#), "{body}");
    let bad =
        fast(&s.base_url(), "wrong-api-key", s.production_subscription_key()).build().unwrap();
    assert!(matches!(
        bad.track(&by_number("0000000000")).await,
        Err(Error::Auth { status: 401, .. })
    ));
    let (status, body) = raw_get(
        &format!("{}/api/track", s.base_url()),
        &[
            ("StarShipIT-Api-Key", s.api_key()),
            ("Ocp-Apim-Subscription-Key", s.production_subscription_key()),
        ],
    )
    .await;
    assert_eq!(status, 400, "{body}");
    s.shutdown().await;
}

#[tokio::test]
async fn the_developer_key_answers_429_with_retry_after_beyond_two_per_second() {
    let s = sandbox(SandboxConfig::default()).await;
    let url = format!("{}/api/track?tracking_number=0000000000", s.base_url());
    let headers = [
        ("StarShipIT-Api-Key", s.api_key()),
        ("Ocp-Apim-Subscription-Key", s.developer_subscription_key()),
    ];
    let mut statuses = Vec::new();
    let http = reqwest::Client::new();
    let mut limited = None;
    for _ in 0..3 {
        let mut r = http.get(&url);
        for (k, v) in headers {
            r = r.header(k, v);
        }
        let response = r.send().await.unwrap();
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            let retry = response.headers()["retry-after"].to_str().unwrap().to_owned();
            limited = Some((retry, response.text().await.unwrap()));
        }
    }
    // Three back-to-back requests fit in one second unless the machine stalls for a whole
    // second; only then may the third pass.
    let (retry, body) = limited.expect("the third request inside one second is refused");
    assert_eq!(statuses[..2], [200, 200]);
    assert_eq!(retry, "1");
    assert_eq!(body, fixture("error-gateway-429.json").trim_end());
    assert_eq!(s.counters().rate_limited, 1);
    s.shutdown().await;
}

#[tokio::test]
async fn results_as_array_and_not_found_switches() {
    let s = sandbox(SandboxConfig {
        results_as_array: true,
        not_found_as_404: true,
        plan_unknown: false,
        ..SandboxConfig::default()
    })
    .await;
    let (_, body) = raw_get(
        &format!("{}/api/track?order_number=17062", s.base_url()),
        &[
            ("StarShipIT-Api-Key", s.api_key()),
            ("Ocp-Apim-Subscription-Key", s.production_subscription_key()),
        ],
    )
    .await;
    assert!(body.starts_with(r#"{"results":[{"order_number":"17062""#), "{body}");
    let c = client(&s).build().unwrap();
    assert_eq!(c.track(&by_number("0000000000")).await.unwrap()[0].events.len(), 6);
    let e = c.track(&by_number("NOPE1")).await.unwrap_err();
    assert!(matches!(&e, Error::NotFound { message } if message.contains("NOPE1")), "{e}");
    let url = format!("{}/api/track?tracking_number=NOPE1", s.base_url());
    let (status, _) = raw_get(
        &url,
        &[
            ("StarShipIT-Api-Key", s.api_key()),
            ("Ocp-Apim-Subscription-Key", s.production_subscription_key()),
        ],
    )
    .await;
    assert_eq!(status, 404);
    let xml = client(&s).format(Format::Xml).build().unwrap();
    let e = xml.track(&by_number("NOPE1")).await.unwrap_err();
    assert!(
        matches!(&e, Error::NotFound { message } if message.contains("Tracking details not found")),
        "{e}"
    );
    assert_eq!(xml.track(&by_number("0000000000")).await.unwrap()[0].events.len(), 6);
    assert_eq!(s.counters().rate_limited, 0);
    s.shutdown().await;

    let s = sandbox(SandboxConfig { plan_unknown: false, ..SandboxConfig::default() }).await;
    let (status, body) = raw_get(
        &format!("{}/api/track?tracking_number=NOPE1", s.base_url()),
        &[
            ("StarShipIT-Api-Key", s.api_key()),
            ("Ocp-Apim-Subscription-Key", s.production_subscription_key()),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.contains(r#""success":false"#), "{body}");
    let e = client(&s).build().unwrap().track(&by_order("NO-ORDER")).await.unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
    s.shutdown().await;
}

#[tokio::test]
async fn a_registered_first_leg_is_realistic_deterministic_and_revealed_over_time() {
    let s = sandbox(SandboxConfig { seed: 7, ..SandboxConfig::default() }).await;
    s.register_shipment("MTN-DONE", "PO-1", epoch() - SignedDuration::from_hours(40));
    s.register_shipment("MTN-NEW", "PO-2", epoch());
    s.register_shipment("MTN-LATER", "PO-3", epoch() + SignedDuration::from_hours(5));
    let c = client(&s).build().unwrap();

    let done = c.track_details(&by_order("PO-1")).await.unwrap().remove(0);
    let d = &done.shipment;
    assert_eq!(d.tracking_number.as_str(), "MTN-DONE");
    assert_eq!(d.status, TrackingStatus::Delivered);
    assert_eq!(done.order_status.as_deref(), Some("Delivered"));
    let raw: Vec<&str> = d.events.iter().map(|e| e.raw_status.as_str()).collect();
    assert_eq!(raw[..2], ["Printed", "Dispatched"]);
    assert_eq!(
        d.events.last().unwrap().description.as_deref(),
        Some("Delivered to Starmile warehouse")
    );
    assert!(d.events.iter().all(|e| e.status != TrackingStatus::Unknown));
    assert!(d.events.iter().any(|e| e.description.as_deref().unwrap().contains(" - AUSTRALIA (")));
    assert!(d.events.iter().all(|e| matches!(e.occurred_at, EventTime::Local { .. })));
    let span = d
        .events
        .last()
        .unwrap()
        .occurred_at
        .sort_key()
        .duration_since(d.events[0].occurred_at.sort_key());
    assert!(
        span >= SignedDuration::from_hours(6) && span <= SignedDuration::from_hours(31),
        "{span}"
    );

    let new = c.track(&by_number("MTN-NEW")).await.unwrap().remove(0);
    assert_eq!(new.events.len(), 1, "only the label exists at the start");
    assert_eq!(new.status, TrackingStatus::InfoReceived);
    assert!(matches!(c.track(&by_number("MTN-LATER")).await, Err(Error::NotFound { .. })));
    // Both parameters: the tracking number wins.
    let url = format!("{}/api/track?tracking_number=MTN-NEW&order_number=PO-1", s.base_url());
    let (_, body) = raw_get(
        &url,
        &[
            ("StarShipIT-Api-Key", s.api_key()),
            ("Ocp-Apim-Subscription-Key", s.production_subscription_key()),
        ],
    )
    .await;
    assert!(body.contains(r#""tracking_number":"MTN-NEW""#), "{body}");

    // Same seed, same parcel, same plan.
    let twin = sandbox(SandboxConfig { seed: 7, ..SandboxConfig::default() }).await;
    twin.register_shipment("MTN-DONE", "PO-1", epoch() - SignedDuration::from_hours(40));
    let again = client(&twin).build().unwrap().track_details(&by_number("MTN-DONE")).await.unwrap();
    assert_eq!(again[0], done);
    twin.shutdown().await;
    s.shutdown().await;
}

#[tokio::test]
async fn registered_parcels_carry_shipment_date_from_the_start_and_tracking_url_once_dispatched() {
    let s = sandbox(SandboxConfig { time_scale: 1.0, ..SandboxConfig::default() }).await;
    let start = s.simulated_now();
    let mut digits = std::collections::BTreeSet::new();
    let c = client(&s).build().unwrap();
    for n in 0..40 {
        let number = format!("AUTO{n}");
        s.register_shipment(&number, &format!("O{n}"), start - SignedDuration::from_hours(48));
        let found = c.track_details(&by_number(&number)).await.unwrap().remove(0);
        let raw = found.shipment_date.unwrap().raw;
        let count = raw.split_once('.').map_or(0, |(_, f)| f.len());
        assert!(count <= 7, "{raw}");
        digits.insert(count);
        let url = found.shipment.tracking_url.expect("a dispatched parcel has a tracking page");
        assert!(url.starts_with("https://") && url.contains(&number), "{url}");
        let event = found.shipment.events.last().unwrap();
        assert_eq!(event.tracking_url.as_deref(), Some(url.as_str()), "events carry it too");
        assert_eq!(event.extra.get("order_number"), Some(&format!("O{n}")));
        assert!(event.extra.contains_key("shipment_date"));
    }
    assert!(digits.len() >= 3, "digit counts vary: {digits:?}");
    // Just booked: label printed, not with the carrier yet; the shipment date is already there.
    s.register_shipment("FRESH-1", "O-FRESH", s.simulated_now());
    let fresh = c.track_details(&by_number("FRESH-1")).await.unwrap().remove(0);
    assert_eq!(fresh.shipment.raw_status.as_deref(), Some("Printed"));
    assert!(fresh.shipment_date.is_some(), "shipment_date before Dispatched");
    assert_eq!(fresh.shipment.tracking_url, None, "no carrier page before Dispatched");
    s.shutdown().await;
}

#[tokio::test]
async fn unknown_numbers_are_not_found_unless_planning_is_switched_on() {
    let s = sandbox(SandboxConfig::default()).await;
    let c = client(&s).build().unwrap();
    let e = c.track(&by_number("NOPE123")).await.unwrap_err();
    assert!(matches!(&e, Error::NotFound { message } if message.contains("NOPE123")), "{e}");
    let (status, body) = raw_get(
        &format!("{}/api/track?tracking_number=NOPE123", s.base_url()),
        &[
            ("StarShipIT-Api-Key", s.api_key()),
            ("Ocp-Apim-Subscription-Key", s.production_subscription_key()),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.contains(r#""success":false"#) && body.contains(r#""errors":["#), "{body}");
    s.shutdown().await;

    let s = sandbox(SandboxConfig { plan_unknown: true, ..SandboxConfig::default() }).await;
    let fresh = client(&s).build().unwrap().track(&by_number("NEVER-SEEN-1")).await.unwrap();
    assert_eq!(fresh[0].raw_status.as_deref(), Some("Printed"));
    s.shutdown().await;
}

#[tokio::test]
async fn each_account_sees_only_the_parcels_it_shipped() {
    let s = sandbox(SandboxConfig {
        accounts: 3,
        api_key: Some("first-account-key".into()),
        ..SandboxConfig::default()
    })
    .await;
    let keys = s.api_keys();
    assert_eq!(keys.len(), 3);
    assert_eq!(keys[0], "first-account-key");
    assert_eq!(s.api_key(), keys[0]);
    s.register_shipment_for(1, "ACC-B-1", "PO-B", epoch() - SignedDuration::from_hours(40));
    let with = |key: &str| {
        support::fast(&s.base_url(), key, s.production_subscription_key()).build().unwrap()
    };
    assert!(with(keys[1]).track(&by_number("ACC-B-1")).await.is_ok());
    assert!(with(keys[1]).track(&by_order("PO-B")).await.is_ok());
    for other in [keys[0], keys[2]] {
        let e = with(other).track(&by_number("ACC-B-1")).await.unwrap_err();
        assert!(matches!(e, Error::NotFound { .. }), "{e}");
    }
    // The spec's sample is every account's; an unknown key is refused.
    assert!(with(keys[2]).track(&by_number("0000000000")).await.is_ok());
    let e = with("no-such-account").track(&by_number("0000000000")).await.unwrap_err();
    assert!(matches!(e, Error::Auth { status: 401, .. }), "{e}");
    s.shutdown().await;
}

#[tokio::test]
async fn faults_are_injected_and_handled() {
    let s = sandbox(SandboxConfig::default()).await;
    let c = client(&s).build().unwrap();
    s.set_faults(Faults { rate_500: 1.0, ..Faults::default() });
    let e = c.track(&by_number("0000000000")).await.unwrap_err();
    assert!(
        matches!(&e, Error::Unavailable { status: 500, message } if message.starts_with("General Exception")),
        "{e}"
    );
    assert_eq!(s.counters().faults_injected, 3, "three attempts");

    s.set_faults(Faults { rate_html_502: 1.0, ..Faults::default() });
    let e = c.track(&by_number("0000000000")).await.unwrap_err();
    assert!(
        matches!(&e, Error::Unavailable { status: 502, message } if message.contains("<h1>502 Bad Gateway</h1>")),
        "{e}"
    );

    s.set_faults(Faults { rate_429: 1.0, ..Faults::default() });
    let c2 = client(&s)
        .retry_policy(RetryPolicy { max_attempts: 2, ..support::quick_retries() })
        .build()
        .unwrap();
    let e = c2.track(&by_number("0000000000")).await.unwrap_err();
    assert_eq!(
        e,
        Error::RateLimited {
            retry_after: Some(Duration::from_secs(1)),
            message: "Rate limit is exceeded. Try again in 1 seconds.".into()
        }
    );

    s.set_faults(Faults { latency: Duration::from_millis(20), ..Faults::default() });
    assert_eq!(c.track(&by_number("0000000000")).await.unwrap().len(), 1);
    let counters = s.counters();
    assert_eq!(counters.faults_injected, 3 + 3 + 2);
    assert_eq!(counters.rate_limited, 2);
    s.shutdown().await;
}

#[tokio::test]
async fn webhooks_are_signed_retried_until_acknowledged_and_verifiable() {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&receiver)
        .await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&receiver).await;
    let secret = "whsec-test-1";
    let s = sandbox(SandboxConfig {
        time_scale: 36_000.0, // ten simulated hours per second
        webhook: Some(WebhookTarget {
            url: format!("{}/hooks", receiver.uri()),
            secret: Some(secret.into()),
        }),
        plan_unknown: false,
        ..SandboxConfig::default()
    })
    .await;
    s.register_shipment("HOOK-1", "PO-H1", s.simulated_now());
    let c = client(&s).build().unwrap();

    // Wait (bounded) until the leg is delivered and every event acknowledged.
    let deadline = Instant::now() + Duration::from_secs(60);
    let events = loop {
        let found = c.track(&by_number("HOOK-1")).await.unwrap().remove(0);
        if found.status == TrackingStatus::Delivered
            && s.counters().webhooks_acked == found.events.len() as u64
        {
            break found.events;
        }
        assert!(Instant::now() < deadline, "webhooks not all acknowledged: {:?}", s.counters());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let counters = s.counters();
    assert_eq!(counters.webhooks_sent, events.len() as u64);
    assert_eq!(counters.webhook_attempts, counters.webhooks_sent + 1, "one retry after the 503");

    let secret = secrecy::SecretString::from(secret);
    let received = receiver.received_requests().await.unwrap();
    let mut statuses = Vec::new();
    for r in received.iter().skip(1) {
        let sig = r.headers.get(webhook::SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
        webhook::verify(Some(&secret), &r.body, sig).unwrap();
        let event = webhook::parse(&r.body).unwrap()[0].to_event(Timestamp::now()).unwrap();
        assert!(event.occurred_at.is_exact());
        statuses.push(event.raw_status);
    }
    let expected: Vec<String> = events.iter().map(|e| e.raw_status.replace(' ', "")).collect();
    assert_eq!(statuses, expected, "PascalCase statuses, in order");
    assert_eq!(received[0].body, received[1].body, "the refused payload is sent again");
    s.shutdown().await;
}

#[tokio::test]
async fn wall_clock_zone_is_configurable_and_checked() {
    let e = Sandbox::start(SandboxConfig {
        wall_clock_zone: "Mars/Olympus".into(),
        ..SandboxConfig::default()
    })
    .await
    .unwrap_err();
    assert!(e.to_string().contains("wall_clock_zone"), "{e}");
    let utc =
        sandbox(SandboxConfig { wall_clock_zone: "UTC".into(), ..SandboxConfig::default() }).await;
    let plus10 =
        sandbox(SandboxConfig { wall_clock_zone: "Etc/GMT-10".into(), ..SandboxConfig::default() })
            .await;
    let default = sandbox(SandboxConfig::default()).await;
    let mut last = Vec::new();
    for s in [&utc, &plus10, &default] {
        s.register_shipment("ZONE-1", "PO-Z", epoch() - SignedDuration::from_hours(40));
        let found = client(s).build().unwrap().track(&by_number("ZONE-1")).await.unwrap().remove(0);
        last.push(found.events[0].occurred_at.sort_key());
    }
    // The same instant rendered as wall-clock time ten hours ahead.
    assert_eq!(last[1].duration_since(last[0]), SignedDuration::from_hours(10));
    // The default is carrier-local (Sydney, UTC+10 in May), not UTC.
    assert_eq!(last[2], last[1], "default zone is {DEFAULT_WALL_CLOCK_ZONE}");
    default.shutdown().await;
    utc.shutdown().await;
    plus10.shutdown().await;
}

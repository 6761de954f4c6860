//! The client against `wiremock`: the exact request it sends, every fixture decoded into
//! domain values (insta snapshots), both error shapes, and the retry policy in action.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use support::{by_number, by_order, fast, fixture, unique_key};
use waybill_domain::{CarrierError, EventTime, Tracker, TrackingStatus};
use waybill_starshipit::{Error, Format, StarshipitClient, retry::RetryPolicy};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{header, method, path, query_param, query_param_is_missing},
};

const API_KEY: &str = "wire-api-key-123";

fn json(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.to_owned(), "application/json; charset=utf-8")
}

/// A mock answering `body` to exactly the request the client must send for `number`.
async fn serve_tracking(
    server: &MockServer,
    sub: &str,
    number: &str,
    accept: &str,
    body: ResponseTemplate,
) {
    Mock::given(method("GET"))
        .and(path("/api/track"))
        .and(query_param("tracking_number", number))
        .and(query_param_is_missing("order_number"))
        .and(header("StarShipIT-Api-Key", API_KEY))
        .and(header("Ocp-Apim-Subscription-Key", sub))
        .and(header("accept", accept))
        .respond_with(body)
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn sends_exactly_one_parameter_and_both_headers() {
    let server = MockServer::start().await;
    let sub = unique_key("wire-exact");
    serve_tracking(
        &server,
        &sub,
        "0000000000",
        "application/json",
        json(&fixture("track-sample-spec.json")),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/api/track"))
        .and(query_param("order_number", "17062"))
        .and(query_param_is_missing("tracking_number"))
        .and(header("StarShipIT-Api-Key", API_KEY))
        .and(header("Ocp-Apim-Subscription-Key", sub.as_str()))
        .respond_with(json(&fixture("track-sample-spec.json")))
        .expect(1)
        .mount(&server)
        .await;

    let client = fast(&server.uri(), API_KEY, &sub).user_agent("waybill-test/1").build().unwrap();
    assert_eq!(client.track(&by_number("0000000000")).await.unwrap().len(), 1);
    assert_eq!(client.track(&by_order("17062")).await.unwrap().len(), 1);

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    for r in &requests {
        assert_eq!(r.url.path(), "/api/track");
        assert_eq!(r.url.query_pairs().count(), 1, "exactly one query parameter: {}", r.url);
        assert_eq!(r.headers.get("user-agent").unwrap(), "waybill-test/1");
        assert!(r.body.is_empty());
    }
}

#[tokio::test]
async fn xml_is_requested_and_decoded_like_json() {
    let server = MockServer::start().await;
    let sub = unique_key("wire-xml");
    let xml = "<GetTrackingResponse><results><order_number>17062</order_number>\
        <order_status>Delivered</order_status><carrier_name>DHL</carrier_name>\
        <carrier_service>P</carrier_service><tracking_number>0000000000</tracking_number>\
        <shipment_date>2017-04-12T13:17:40.5931835</shipment_date>\
        <tracking_status>Delivered</tracking_status><last_updated_date>2017-04-18T14:59:00</last_updated_date>\
        <tracking_events><event_datetime>2017-04-12T15:22:45</event_datetime><status>Dispatched</status><details>Shipment picked up (PU)</details></tracking_events>\
        <tracking_events><event_datetime>2017-04-18T14:59:00</event_datetime><status>Delivered</status><details>Delivered - Signed for by (OK)</details></tracking_events>\
        </results><success>true</success></GetTrackingResponse>";
    serve_tracking(
        &server,
        &sub,
        "0000000000",
        "application/xml",
        ResponseTemplate::new(200).set_body_raw(xml, "application/xml; charset=utf-8"),
    )
    .await;
    let client = fast(&server.uri(), API_KEY, &sub).format(Format::Xml).build().unwrap();
    let found = client.track_details(&by_number("0000000000")).await.unwrap();
    let s = &found[0].shipment;
    assert_eq!(s.status, TrackingStatus::Delivered);
    assert_eq!(s.carrier_name.as_deref(), Some("DHL"));
    let statuses: Vec<_> = s.events.iter().map(|e| e.status).collect();
    assert_eq!(statuses, [TrackingStatus::InTransit, TrackingStatus::Delivered]);
    assert_eq!(found[0].shipment_date.as_ref().unwrap().raw, "2017-04-12T13:17:40.5931835");
}

#[tokio::test]
async fn every_tracking_fixture_decodes_to_domain_values() {
    for (name, number) in [
        ("track-sample-spec.json", "0000000000"),
        ("track-in-transit-with-url.json", "2XD198209601000935102"),
        ("track-results-array.json", "T1"),
        ("real-world/track-spec-sample.json", "0000000000"),
        ("real-world/track-dartapi-results-array.json", "T2"),
        ("real-world/track-dartapi-results-object.json", "T1"),
    ] {
        let server = MockServer::start().await;
        let sub = unique_key("wire-fixture");
        serve_tracking(&server, &sub, number, "application/json", json(&fixture(name))).await;
        let client = fast(&server.uri(), API_KEY, &sub).build().unwrap();
        let found = client.track_details(&by_number(number)).await.unwrap();
        // Only the shipment asked for, even when the answer holds several.
        assert!(found.iter().all(|t| t.shipment.tracking_number.as_str() == number), "{name}");
        insta::assert_json_snapshot!(snapshot_name(name), found);
    }
}

#[tokio::test]
async fn the_spec_sample_keeps_every_detail() {
    let server = MockServer::start().await;
    let sub = unique_key("wire-sample");
    serve_tracking(
        &server,
        &sub,
        "0000000000",
        "application/json",
        json(&fixture("track-sample-spec.json")),
    )
    .await;
    let client = fast(&server.uri(), API_KEY, &sub).build().unwrap();
    let found = client.track_details(&by_number("0000000000")).await.unwrap();
    assert_eq!(found.len(), 1);
    let s = &found[0].shipment;
    assert_eq!(s.events.len(), 6);
    let statuses: Vec<_> = s.events.iter().map(|e| e.status).collect();
    use TrackingStatus::*;
    assert_eq!(statuses, [InTransit, InTransit, InTransit, InTransit, AttemptFailed, Delivered]);
    assert_eq!(s.events[0].raw_status, "Dispatched");
    // Local wall-clock times, to the second, never turned into instants.
    assert_eq!(
        s.events[0].occurred_at,
        EventTime::Local { at: "2017-04-12T15:22:45".parse().unwrap() }
    );
    assert_eq!(s.events[5].raw_time.as_deref(), Some("2017-04-18T14:59:00"));
    assert!(s.events.iter().all(|e| !e.occurred_at.is_exact()));
    let date = found[0].shipment_date.as_ref().unwrap();
    assert_eq!(date.raw, "2017-04-12T13:17:40.5931835");
    let Some(EventTime::Local { at }) = &date.time else { panic!("shipment_date must stay local") };
    assert_eq!(at.subsec_nanosecond(), 593_183_500);
    assert_eq!(found[0].order_status.as_deref(), Some("Delivered"));
}

#[tokio::test]
async fn error_fixtures_map_to_errors() {
    let cases: [(&str, u16, Option<&str>); 6] = [
        ("error-gateway-401-missing-key.json", 401, None),
        ("error-gateway-429.json", 429, Some("1")),
        ("error-general-exception.json", 500, None),
        ("real-world/error-dart-mock-error-object-404.json", 404, None),
        ("real-world/error-dartapi-errors-only-401.json", 401, None),
        ("real-world/error-dartapi-gateway-502.txt", 502, None),
    ];
    for (name, status, retry_after) in cases {
        let server = MockServer::start().await;
        let sub = unique_key("wire-error");
        let mut response =
            ResponseTemplate::new(status).set_body_raw(fixture(name), "application/json");
        if let Some(v) = retry_after {
            response = response.insert_header("Retry-After", v);
        }
        Mock::given(method("GET")).respond_with(response).mount(&server).await;
        let client = fast(&server.uri(), API_KEY, &sub)
            .retry_policy(RetryPolicy { max_attempts: 1, ..RetryPolicy::default() })
            .build()
            .unwrap();
        let e = client.track(&by_number("X1")).await.unwrap_err();
        insta::assert_snapshot!(snapshot_name(name), format!("{e:?}\n{e}"));
    }
}

#[tokio::test]
async fn auth_and_not_found_shapes() {
    let server = MockServer::start().await;
    let sub = unique_key("wire-shapes");
    let not_found =
        r#"{"success":false,"errors":[{"message":"Tracking details not found","details":"none"}]}"#;
    for (number, status, body) in [
        ("A403", 403, r#"{"success":false,"errors":[{"message":"Forbidden"}]}"#),
        (
            "A401",
            401,
            r#"{"statusCode":401,"message":"Access denied due to invalid subscription key."}"#,
        ),
        ("N404", 404, not_found),
        ("N200", 200, not_found),
        ("E200", 200, r#"{"success":true,"results":[]}"#),
    ] {
        Mock::given(query_param("tracking_number", number))
            .respond_with(ResponseTemplate::new(status).set_body_raw(body, "application/json"))
            .mount(&server)
            .await;
    }
    let client = fast(&server.uri(), API_KEY, &sub).build().unwrap();
    let err = |n: &'static str| {
        let client = client.clone();
        async move { client.track(&by_number(n)).await.unwrap_err() }
    };
    assert!(
        matches!(err("A403").await, Error::Auth { status: 403, message } if message == "Forbidden")
    );
    assert!(matches!(err("A401").await, Error::Auth { status: 401, .. }));
    assert!(matches!(err("N404").await, Error::NotFound { .. }));
    let e = err("N200").await;
    assert!(
        matches!(&e, Error::NotFound { message } if message.contains("Tracking details not found")),
        "{e}"
    );
    assert!(matches!(err("E200").await, Error::NotFound { .. }));
    // Through the domain port too.
    let port: &dyn Tracker = &client;
    assert_eq!(port.track(&by_number("N404")).await.unwrap_err().kind(), "not_found");
    assert!(matches!(port.track(&by_number("A401")).await.unwrap_err(), CarrierError::Auth { .. }));
    // 4xx answers are not retried: one request each.
    assert_eq!(server.received_requests().await.unwrap().len(), 7);
}

#[tokio::test]
async fn server_errors_are_retried_three_times_and_keep_raw_html() {
    let server = MockServer::start().await;
    let sub = unique_key("wire-502");
    let html = "<html><body><h1>502 Bad Gateway</h1></body></html>";
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(502).set_body_raw(html, "text/html"))
        .expect(3)
        .mount(&server)
        .await;
    let client = fast(&server.uri(), API_KEY, &sub).build().unwrap();
    let e = client.track(&by_number("X1")).await.unwrap_err();
    assert_eq!(e, Error::Unavailable { status: 502, message: html.into() });
    assert!(e.is_transient());
}

#[tokio::test]
async fn a_500_then_success_recovers() {
    let server = MockServer::start().await;
    let sub = unique_key("wire-500");
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_raw(fixture("error-general-exception.json"), "application/json"),
        )
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(json(&fixture("track-in-transit-with-url.json")))
        .expect(1)
        .mount(&server)
        .await;
    let client = fast(&server.uri(), API_KEY, &sub).build().unwrap();
    let found = client.track(&by_number("2XD198209601000935102")).await.unwrap();
    assert_eq!(found[0].status, TrackingStatus::InTransit);
}

#[tokio::test]
async fn a_429_waits_retry_after_then_succeeds() {
    let server = MockServer::start().await;
    let sub = unique_key("wire-429");
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(429)
                .set_body_raw(fixture("error-gateway-429.json"), "application/json")
                .insert_header("Retry-After", "1"),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(json(&fixture("track-sample-spec.json")))
        .expect(1)
        .mount(&server)
        .await;
    let client = fast(&server.uri(), API_KEY, &sub).build().unwrap();
    let before = std::time::Instant::now();
    client.track(&by_number("0000000000")).await.unwrap();
    // A lower bound only: the client must have slept the gateway's Retry-After.
    assert!(before.elapsed() >= Duration::from_secs(1));
}

#[tokio::test]
async fn malformed_success_bodies_are_decode_errors_with_the_body() {
    let server = MockServer::start().await;
    let sub = unique_key("wire-decode");
    Mock::given(query_param("tracking_number", "BAD1"))
        .respond_with(json("this is not json"))
        .mount(&server)
        .await;
    Mock::given(query_param("tracking_number", "BAD2"))
        .respond_with(json(
            r#"{"success":true,"results":{"tracking_number":"BAD2","tracking_events":[{"event_datetime":"yesterday","status":"Delivered"}]}}"#,
        ))
        .mount(&server)
        .await;
    let client = fast(&server.uri(), API_KEY, &sub).build().unwrap();
    let Error::Decode { body, .. } = client.track(&by_number("BAD1")).await.unwrap_err() else {
        panic!("expected a decode error")
    };
    assert_eq!(body, "this is not json");
    // One unreadable time does not reject the answer: the scan is kept, its time unknown
    // (the text as sent), placed at the answer's receipt.
    let before = jiff::Timestamp::now();
    let found = client.track_details(&by_number("BAD2")).await.unwrap().remove(0);
    let [scan] = &found.shipment.events[..] else { panic!("{:?}", found.shipment.events) };
    assert_eq!(scan.raw_status, "Delivered");
    assert_eq!(scan.raw_time.as_deref(), Some("yesterday"));
    let waybill_domain::EventTime::Unknown { raw, received } = &scan.occurred_at else {
        panic!("{:?}", scan.occurred_at)
    };
    assert_eq!(raw.as_deref(), Some("yesterday"));
    assert!(*received >= before && *received <= jiff::Timestamp::now());
    assert_eq!(scan.status, waybill_domain::TrackingStatus::Delivered);
}

/// `real-world/x.json` → `real-world__x`.
fn snapshot_name(fixture: &str) -> String {
    fixture.trim_end_matches(".json").trim_end_matches(".txt").replace('/', "__")
}

#[tokio::test]
async fn unreachable_host_is_a_transport_error_after_retries() {
    // Bind then drop a listener: the port is very likely closed for the next moment.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let client = fast(&format!("http://127.0.0.1:{port}"), API_KEY, &unique_key("wire-down"))
        .build()
        .unwrap();
    let e = client.track(&by_number("X1")).await.unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
}

#[test]
fn builder_requires_https_except_loopback_and_never_leaks_keys() {
    let build = |url: &str| {
        StarshipitClient::builder(
            url,
            "api-secret-1".to_owned().into(),
            "sub-secret-2".to_owned().into(),
        )
        .build()
    };
    let e = build("http://api.starshipit.com").unwrap_err();
    assert!(e.to_string().contains("use https"), "{e}");
    assert!(build("ftp://api.starshipit.com").is_err());
    assert!(build("not a url").unwrap_err().to_string().contains("not a valid URL"));
    for with_password in ["https://me:pw-77@api.starshipit.com", "https://me:pw-77@api star"] {
        let e = build(with_password).unwrap_err().to_string();
        assert!(!e.contains("pw-77"), "a password in the URL is never printed: {e}");
    }
    let e = build("https://me:pw-77@api.starshipit.com").unwrap_err().to_string();
    assert!(e.contains("user name or password"), "{e}");
    for ok in
        ["https://api.starshipit.com", "http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9"]
    {
        let client = build(ok).unwrap();
        let debug = format!("{client:?}");
        assert!(!debug.contains("api-secret-1") && !debug.contains("sub-secret-2"), "{debug}");
        assert!(debug.contains("[REDACTED]"));
    }
    let e =
        StarshipitClient::builder("https://x.test", "  ".to_owned().into(), "k".to_owned().into())
            .build()
            .unwrap_err();
    assert!(e.to_string().contains("api key is empty"), "{e}");
    let e = StarshipitClient::builder(
        "https://x.test",
        "bad\nkey-secret".to_owned().into(),
        "k".to_owned().into(),
    )
    .build()
    .unwrap_err();
    assert!(!e.to_string().contains("key-secret"), "{e}");
}

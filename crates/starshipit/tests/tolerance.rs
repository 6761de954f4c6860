//! Field-level tolerance of the `/track` decoder: what real accounts and public clients send
//! (loose `success`, several error shapes under 200, answers holding other shipments, an
//! order with no scans yet) reads as what it means, and a gateway failure served under 200
//! is retried like the status it names.
#![allow(clippy::unwrap_used)]

mod support;

use support::{by_number, by_order, fast, unique_key};
use waybill_domain::{TrackQuery, TrackingStatus};
use waybill_starshipit::{Error, decode_track_json};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};

fn decode(query: &TrackQuery, body: &str) -> Result<Vec<waybill_domain::Shipment>, Error> {
    decode_track_json(query, body.as_bytes())
}

#[test]
fn success_is_read_as_public_clients_read_it() {
    for success in ["true", "1", "\"true\"", "\"1\"", "\"TRUE\"", "\"yes\""] {
        let body = format!(
            r#"{{"success":{success},"results":{{"tracking_number":"T1","tracking_status":"In Transit"}}}}"#
        );
        let found = decode(&by_number("T1"), &body).unwrap();
        assert_eq!(found[0].status, TrackingStatus::InTransit, "success {success}");
    }
    for success in ["false", "0", "\"false\"", "\"0\""] {
        let body = format!(r#"{{"success":{success},"errors":[{{"message":"Not found"}}]}}"#);
        assert!(
            matches!(decode(&by_number("T1"), &body), Err(Error::NotFound { .. })),
            "{success}"
        );
    }
}

#[test]
fn a_200_with_success_false_is_classified_by_its_errors() {
    let q = by_number("T1");
    let general = r#"{"success":false,"errors":[{"message":"General Exception","details":"Object reference not set"}]}"#;
    let e = decode(&q, general).unwrap_err();
    assert!(
        matches!(&e, Error::Unavailable { status: 200, message } if message.contains("General Exception")),
        "{e:?}"
    );
    assert!(e.is_transient());
    let not_found = r#"{"success":false,"errors":[{"message":"Tracking details not found"}]}"#;
    assert!(matches!(decode(&q, not_found), Err(Error::NotFound { .. })));
    let silent = r#"{"success":false}"#;
    assert!(matches!(decode(&q, silent), Err(Error::NotFound { .. })));
    let key = r#"{"success":false,"errors":[{"message":"Invalid key","details":"auth"}]}"#;
    assert!(matches!(decode(&q, key), Err(Error::Auth { .. })));
    let other = r#"{"success":false,"errors":[{"message":"Bad tracking_number format"}]}"#;
    assert!(matches!(decode(&q, other), Err(Error::Rejected { status: 200, .. })));
}

#[test]
fn gateway_and_error_object_bodies_under_200_mean_their_status() {
    let q = by_number("T1");
    let e = decode(
        &q,
        r#"{"statusCode":429,"message":"Rate limit is exceeded. Try again in 1 seconds."}"#,
    )
    .unwrap_err();
    assert!(matches!(e, Error::RateLimited { .. }), "{e:?}");
    let e =
        decode(&q, r#"{"statusCode":"403","message":"Out of call volume quota."}"#).unwrap_err();
    assert!(matches!(e, Error::Auth { status: 403, .. }), "{e:?}");
    let e = decode(
        &q,
        r#"{"error":{"code":404,"message":"Not Found","details":"Invalid endpoint: /api/trackx."}}"#,
    )
    .unwrap_err();
    assert!(
        matches!(&e, Error::NotFound { message } if message.contains("Invalid endpoint")),
        "{e:?}"
    );
    let e = decode(&q, r#"{"error":{"message":"General Exception"}}"#).unwrap_err();
    assert!(matches!(e, Error::Unavailable { .. }), "{e:?}");
}

#[test]
fn results_are_filtered_to_the_number_asked() {
    let body = r#"{"success":true,"results":[
        {"order_number":"A","tracking_number":"T1","tracking_status":"Delivered"},
        {"order_number":"B","tracking_number":"T2","tracking_status":"In Transit"}]}"#;
    let one = decode(&by_number("T1"), body).unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].order_number.as_deref(), Some("A"));
    assert_eq!(decode(&by_order("B"), body).unwrap()[0].tracking_number.as_str(), "T2");
    let e = decode(&by_number("T3"), body).unwrap_err();
    assert!(matches!(&e, Error::NotFound { message } if message.contains("T3")), "{e:?}");
}

#[test]
fn the_order_status_is_the_raw_status_until_there_are_scans() {
    let body = r#"{"success":true,"results":{"order_number":"O1","tracking_number":"T1","order_status":"Printed"}}"#;
    let s = decode(&by_number("T1"), body).unwrap().remove(0);
    assert_eq!(s.raw_status.as_deref(), Some("Printed"));
    assert!(s.events.is_empty());
    let body = r#"{"success":true,"results":{"tracking_number":"T1","order_status":"Shipped",
        "tracking_events":[{"event_datetime":"2024-04-17T13:20:18","status":"In Transit"}]}}"#;
    let s = decode(&by_number("T1"), body).unwrap().remove(0);
    assert_eq!(s.raw_status, None, "with scans, the shipment status comes from them");
    assert_eq!(s.status, TrackingStatus::InTransit);
}

#[test]
fn every_field_reaches_the_events_and_unknown_ones_are_kept() {
    let body = r#"{"success":true,"results":{"order_number":17062,"carrier_name":"DHL","carrier_service":"P",
        "carrier_service_code":"PX","tracking_number":"T1","shipment_date":"2017-04-12T13:17:40.5931835",
        "tracking_url":"https://example.test/T1","future_field":{"a":1},
        "tracking_events":[{"event_datetime":"2017-04-12T15:22:45","status":"Dispatched","details":"Picked up","location":"MELBOURNE"}]}}"#;
    let s = decode(&by_number("T1"), body).unwrap().remove(0);
    let e = &s.events[0];
    assert_eq!(e.carrier_name.as_deref(), Some("DHL"));
    assert_eq!(e.tracking_url.as_deref(), Some("https://example.test/T1"));
    let extra: Vec<(&str, &str)> = e.extra.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(
        extra,
        [
            ("carrier_service", "P"),
            ("carrier_service_code", "PX"),
            ("future_field", r#"{"a":1}"#),
            ("location", "MELBOURNE"),
            ("order_number", "17062"),
            ("shipment_date", "2017-04-12T13:17:40.5931835"),
        ]
    );
}

#[test]
fn xml_is_held_to_the_same_rules() {
    // Not via decode_track_json (JSON only): through a mock serving XML.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let server = MockServer::start().await;
        let xml = "<GetTrackingResponse><results><tracking_number>T1</tracking_number>\
            <tracking_status>In Transit</tracking_status><carrier_service_code>PX</carrier_service_code>\
            <tracking_events><event_datetime>someday</event_datetime><status>Dispatched</status></tracking_events>\
            <tracking_events><event_datetime>2024-04-17T13:20:18</event_datetime><status>In Transit</status></tracking_events>\
            </results><results><tracking_number>T2</tracking_number></results>\
            <success>1</success></GetTrackingResponse>";
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(xml, "application/xml"))
            .mount(&server)
            .await;
        let client = fast(&server.uri(), "k", &unique_key("tolerance-xml"))
            .format(waybill_starshipit::Format::Xml)
            .build()
            .unwrap();
        let found = client.track_details(&by_number("T1")).await.unwrap();
        assert_eq!(found.len(), 1, "T2 is not what was asked");
        let events = &found[0].shipment.events;
        assert_eq!(events.len(), 2, "the scan with an unreadable time is kept");
        assert_eq!(events[0].extra.get("carrier_service_code").unwrap(), "PX");
        assert_eq!(events[0].raw_status, "In Transit");
        let unknown = &events[1];
        assert_eq!(unknown.raw_status, "Dispatched");
        assert_eq!(unknown.raw_time.as_deref(), Some("someday"));
        assert!(
            matches!(&unknown.occurred_at, waybill_domain::EventTime::Unknown { raw: Some(r), .. } if r == "someday"),
            "{:?}",
            unknown.occurred_at
        );
    });
}

#[tokio::test]
async fn a_gateway_429_served_under_200_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"statusCode":429,"message":"Rate limit is exceeded. Try again in 1 seconds."}"#,
            "application/json",
        ))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"success":true,"results":{"tracking_number":"T1","tracking_status":"Delivered"}}"#,
            "application/json",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let client = fast(&server.uri(), "k", &unique_key("tolerance-429")).build().unwrap();
    let found = client.track(&by_number("T1")).await.unwrap();
    assert_eq!(found[0].status, TrackingStatus::Delivered);
}

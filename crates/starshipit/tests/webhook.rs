//! Webhook payloads: the fixtures parse into domain events, and signatures are checked:
//! valid accepted, tampered body or signature rejected, missing rejected with a secret.
#![allow(clippy::unwrap_used)]

mod support;

use jiff::Timestamp;
use proptest::prelude::*;
use secrecy::SecretString;
use support::fixture;
use waybill_domain::{EventTime, TrackingStatus};
use waybill_starshipit::webhook::{self, WebhookError};

/// Every webhook body among the fixtures.
const WEBHOOK_FIXTURES: &[&str] = &[
    "webhook-captured.json",
    "webhook-documented.json",
    "real-world/webhook-bedrock-sample-AUS.json",
    "real-world/webhook-bedrock-sample-REF.json",
    "real-world/webhook-bushpop-events-delivered.json",
    "real-world/webhook-bushpop-events-intransit-ms.json",
    "real-world/webhook-docs-sample.json",
    "real-world/webhook-express-comment.json",
];

/// The pinned receipt time of these tests.
fn received() -> Timestamp {
    "2026-06-12T00:00:00Z".parse().unwrap()
}

#[test]
fn fixtures_become_domain_events_with_every_field() {
    for name in WEBHOOK_FIXTURES {
        let body = fixture(name);
        let parsed = webhook::parse(body.as_bytes()).unwrap();
        let events: Vec<_> = parsed.iter().map(|p| p.to_event(received()).unwrap()).collect();
        let snapshot = name.trim_end_matches(".json").replace('/', "__");
        insta::assert_json_snapshot!(snapshot, (&parsed, &events));
        // Every field of the body is somewhere in the stored event.
        let raw: serde_json::Value = serde_json::from_str(&body).unwrap();
        let payloads = match raw.get("events") {
            Some(serde_json::Value::Array(items)) => items.clone(),
            _ => vec![raw],
        };
        for (payload, event) in payloads.iter().zip(&events) {
            assert_eq!(event.carrier, waybill_starshipit::CARRIER_ID);
            let stored = serde_json::to_string(event).unwrap();
            for (key, value) in payload.as_object().unwrap() {
                let text = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
                assert!(stored.contains(&text), "{name}: {key}={text} not in {stored}");
            }
        }
    }
    let captured = webhook::parse(fixture("webhook-captured.json").as_bytes()).unwrap().remove(0);
    let event = captured.to_event(received()).unwrap();
    assert_eq!(event.status, TrackingStatus::InTransit);
    assert_eq!(event.raw_time.as_deref(), Some("2026-06-11T04:43:42.1543701Z"));
    assert_eq!(
        event.occurred_at,
        EventTime::exact("2026-06-11T04:43:42.1543701Z".parse().unwrap(), None)
    );
    assert_eq!(event.carrier_name.as_deref(), Some("DHL Express"));
    assert_eq!(event.extra["order_reference"], "AUS123456");
    assert_eq!(event.extra["shipment_date"], "2026-06-10T12:03:42.1543701Z");
    // No time in the body: "time unknown", placed at receipt, never given a carrier time.
    let timeless = webhook::parse(fixture("real-world/webhook-express-comment.json").as_bytes())
        .unwrap()
        .remove(0)
        .to_event(received())
        .unwrap();
    assert_eq!(timeless.raw_time, None);
    assert_eq!(timeless.occurred_at, EventTime::unknown(None, received()));
    assert!(!timeless.extra.contains_key("received_at"), "the receipt is the time's, not a field");
    assert_eq!(timeless.extra["reference"], "ORD-123");
}

#[test]
fn a_numeric_order_number_is_text() {
    let body = br#"{"order_number":5567476,"tracking_number":"Q1","tracking_status":"Dispatched","last_updated_date":"2018-08-09T02:56:07.3453198Z"}"#;
    let event = webhook::parse(body).unwrap()[0].to_event(received()).unwrap();
    assert_eq!(event.extra["order_number"], "5567476");
}

#[test]
fn signatures_are_enforced_when_a_secret_is_set() {
    let secret = SecretString::from("whsec-5f3a");
    let body = fixture("webhook-captured.json");
    let body = body.as_bytes();
    let signature = webhook::sign(&secret, body);

    assert_eq!(webhook::verify(Some(&secret), body, Some(&signature)), Ok(()));

    let mut tampered = body.to_vec();
    let pos = tampered.iter().position(|b| *b == b'7').unwrap();
    tampered[pos] = b'8';
    assert_eq!(
        webhook::verify(Some(&secret), &tampered, Some(&signature)),
        Err(WebhookError::BadSignature)
    );

    let mut bad_sig = signature.clone().into_bytes();
    bad_sig[0] = if bad_sig[0] == b'A' { b'B' } else { b'A' };
    let bad_sig = String::from_utf8(bad_sig).unwrap();
    assert_eq!(
        webhook::verify(Some(&secret), body, Some(&bad_sig)),
        Err(WebhookError::BadSignature)
    );
    let other = webhook::sign(&SecretString::from("another-secret"), body);
    assert_eq!(webhook::verify(Some(&secret), body, Some(&other)), Err(WebhookError::BadSignature));

    assert_eq!(webhook::verify(Some(&secret), body, None), Err(WebhookError::MissingSignature));
    assert_eq!(webhook::verify(Some(&secret), body, Some("")), Err(WebhookError::MissingSignature));
    assert_eq!(webhook::verify(None, body, None), Ok(()), "no secret configured: nothing to check");

    let e = WebhookError::BadSignature.to_string();
    assert!(!e.contains("whsec-5f3a"));
}

#[test]
fn malformed_payloads_are_reported() {
    assert!(matches!(webhook::parse(b"<xml/>"), Err(WebhookError::Malformed { .. })));
    assert!(matches!(webhook::parse(b"42"), Err(WebhookError::Malformed { .. })));
    // An unreadable time is kept raw as "time unknown", placed at its receipt; a redelivery
    // received later is the same event.
    let late = webhook::parse(
        br#"{"tracking_number":"T1","tracking_status":"Delivered","last_updated_date":"soon"}"#,
    )
    .unwrap()[0]
        .to_event(received())
        .unwrap();
    assert_eq!(late.raw_time.as_deref(), Some("soon"));
    assert_eq!(
        late.occurred_at,
        waybill_domain::EventTime::unknown(Some("soon".into()), received())
    );
    let again = webhook::parse(
        br#"{"tracking_number":"T1","tracking_status":"Delivered","last_updated_date":"soon"}"#,
    )
    .unwrap()[0]
        .to_event(received() + jiff::SignedDuration::from_hours(1))
        .unwrap();
    assert_eq!(waybill_domain::EventKey::of(&late), waybill_domain::EventKey::of(&again));
    let unknown = webhook::parse(
        br#"{"tracking_number":"T1","tracking_status":"Teleported","last_updated_date":"2026-06-11T04:43:42Z"}"#,
    )
    .unwrap()[0]
        .to_event(received())
        .unwrap();
    assert_eq!(
        (unknown.status, unknown.raw_status.as_str()),
        (TrackingStatus::Unknown, "Teleported")
    );
    let no_number = webhook::parse(br#"{"order_number":"1","order_status":"Printed"}"#).unwrap();
    assert_eq!(
        no_number[0].to_event(received()),
        Err(WebhookError::Missing { field: "tracking_number" })
    );
}

proptest! {
    #[test]
    fn any_change_to_the_body_breaks_the_signature(
        secret in "[ -~]{1,40}",
        body in proptest::collection::vec(any::<u8>(), 1..200),
        index in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let secret = SecretString::from(secret);
        let signature = webhook::sign(&secret, &body);
        prop_assert_eq!(webhook::verify(Some(&secret), &body, Some(&signature)), Ok(()));
        let mut changed = body.clone();
        let i = index.index(changed.len());
        changed[i] ^= flip;
        prop_assert_eq!(
            webhook::verify(Some(&secret), &changed, Some(&signature)),
            Err(WebhookError::BadSignature)
        );
    }
}

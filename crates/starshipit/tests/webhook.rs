//! Webhook payloads: the fixtures parse into domain events, and signatures are checked:
//! valid accepted, tampered body or signature rejected, missing rejected with a secret.
#![allow(clippy::unwrap_used)]

mod support;

use proptest::prelude::*;
use secrecy::SecretString;
use support::fixture;
use waybill_domain::{EventTime, TrackingStatus};
use waybill_starshipit::webhook::{self, WebhookError};

#[test]
fn fixtures_become_domain_events() {
    for name in ["webhook-captured.json", "webhook-documented.json"] {
        let body = fixture(name);
        let parsed = webhook::parse(body.as_bytes()).unwrap();
        let event = parsed.to_event().unwrap();
        insta::assert_json_snapshot!(name.trim_end_matches(".json"), (&parsed, &event));
        assert_eq!(event.carrier, waybill_starshipit::CARRIER_ID);
        assert!(event.occurred_at.is_exact(), "webhook times carry Z");
    }
    let captured = webhook::parse(fixture("webhook-captured.json").as_bytes()).unwrap();
    let event = captured.to_event().unwrap();
    assert_eq!(event.status, TrackingStatus::InTransit);
    assert_eq!(event.raw_time.as_deref(), Some("2026-06-11T04:43:42.1543701Z"));
    assert_eq!(
        event.occurred_at,
        EventTime::exact("2026-06-11T04:43:42.1543701Z".parse().unwrap(), None)
    );
    assert_eq!(captured.order_reference.as_deref(), Some("AUS123456"));
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
    let e = webhook::parse(
        br#"{"tracking_number":"T1","tracking_status":"Delivered","last_updated_date":"soon"}"#,
    )
    .unwrap()
    .to_event()
    .unwrap_err();
    assert!(matches!(e, WebhookError::Invalid { field: "last_updated_date", .. }), "{e}");
    let unknown = webhook::parse(
        br#"{"tracking_number":"T1","tracking_status":"Teleported","last_updated_date":"2026-06-11T04:43:42Z"}"#,
    )
    .unwrap()
    .to_event()
    .unwrap();
    assert_eq!(
        (unknown.status, unknown.raw_status.as_str()),
        (TrackingStatus::Unknown, "Teleported")
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

//! Every row of the contract's error table, end to end over loopback, plus what the retry
//! policy does with each (counted by the sandbox, never timed).

mod common;

use std::time::Duration;

use waybill_domain::{CarrierError, PartnerOrderRef};
use waybill_starmile::{
    Error, RetryPolicy, StarmileClient,
    sandbox::{Faults, PartnerCredential, SandboxConfig},
};

#[tokio::test]
async fn http_401_bad_credentials() {
    let sandbox = common::start(common::config()).await;
    let client =
        StarmileClient::builder(&sandbox.base_url(), "partner-a", "wrong".to_owned().into())
            .build()
            .unwrap();
    let e = client.services().await.unwrap_err();
    assert!(
        matches!(&e, Error::Unauthenticated { message } if message == "Unauthenticated."),
        "{e:?}"
    );
    assert!(e.to_string().contains("client_secret"), "names what to fix: {e}");
    assert!(matches!(CarrierError::from(e), CarrierError::Auth { .. }));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn http_403_missing_scope() {
    let mut config = common::config();
    config
        .partners
        .push(PartnerCredential::new("reader", "Reader").with_scopes(&["catalogue:read"]));
    let sandbox = common::start(config).await;
    let client = common::client(&sandbox, 2);
    assert_eq!(client.services().await.unwrap().len(), 4);
    let e = client.create_order(&common::order("PO-1", &["T-1"])).await.unwrap_err();
    assert!(
        matches!(&e, Error::Forbidden { message } if message.contains("orders:create")),
        "{e:?}"
    );
    assert_eq!(sandbox.counters().requests_to("/api/v1/orders", 403), 1, "4xx is not retried");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn http_404_another_partners_order() {
    let sandbox = common::start(common::config()).await;
    let a = common::client(&sandbox, 0);
    let b = common::client(&sandbox, 1);
    a.create_order(&common::order("PO-A", &["A-1"])).await.unwrap();
    let reference = PartnerOrderRef::parse("PO-A").unwrap();
    let e = b.cancel_order(&reference, None).await.unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
    // The same reference is free for partner B: partners are isolated.
    let order = b.create_order(&common::order("PO-A", &["A-1"])).await.unwrap();
    assert!(!order.duplicate);
    a.cancel_order(&reference, Some("customer changed their mind")).await.unwrap();
    sandbox.shutdown().await;
}

#[tokio::test]
async fn http_409_cancel_in_custody() {
    // One real second is about 11.6 simulated days: the parcel reaches the hub (12–36 h)
    // within 12 real milliseconds.
    let config = SandboxConfig { time_scale: 1_000_000.0, ..common::config() };
    let sandbox = common::start(config).await;
    let client = common::client(&sandbox, 0);
    client.create_order(&common::order("PO-409", &["C-1"])).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let e =
        client.cancel_order(&PartnerOrderRef::parse("PO-409").unwrap(), None).await.unwrap_err();
    assert!(
        matches!(&e, Error::Conflict { message } if message == "Order is already in custody."),
        "{e:?}"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn http_422_keeps_field_errors() {
    let sandbox = common::start(common::config()).await;
    let client = common::client(&sandbox, 0);
    client.create_order(&common::order("PO-1", &["DUP-1"])).await.unwrap();
    let e = client.create_order(&common::order("PO-2", &["NEW-1", "DUP-1"])).await.unwrap_err();
    let Error::Validation { message, fields } = &e else { panic!("{e:?}") };
    assert_eq!(message, "The given data was invalid.");
    assert_eq!(
        fields.get("items.1.merchant_tracking_number").map(Vec::as_slice),
        Some(&["The merchant tracking number has already been taken.".to_owned()][..])
    );
    assert!(
        matches!(CarrierError::from(e), CarrierError::Validation { fields, .. } if fields.len() == 1)
    );
    // An unknown service is named field by field too.
    let bad = waybill_domain::OrderRequest::new(
        waybill_domain::ServiceId::new(99).unwrap(),
        PartnerOrderRef::parse("PO-3").unwrap(),
        vec![waybill_domain::OrderItem::new(
            waybill_domain::MerchantTrackingNumber::parse("Z").unwrap(),
        )],
    )
    .unwrap();
    let e = client.create_order(&bad).await.unwrap_err();
    assert!(
        matches!(&e, Error::Validation { fields, .. } if fields.contains_key("service_id")),
        "{e:?}"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn http_429_parses_retry_after() {
    let faults = Faults { rate_429: 1.0, retry_after: Duration::from_secs(2), ..Faults::default() };
    let sandbox = common::start(SandboxConfig { faults, ..common::config() }).await;
    let once = common::builder(&sandbox, 0).retry_policy(RetryPolicy::never()).build().unwrap();
    let e = once.services().await.unwrap_err();
    assert!(
        matches!(&e, Error::RateLimited { retry_after: Some(d), message } if *d == Duration::from_secs(2) && message == "Too Many Requests."),
        "{e:?}"
    );
    assert_eq!(sandbox.counters().requests_to("/api/v1/services", 429), 1);
    // With Retry-After ignored as too long, the default policy gives up at once.
    let capped = RetryPolicy { max_retry_after: Duration::from_secs(1), ..common::fast_retries() };
    let client = common::builder(&sandbox, 0).retry_policy(capped).build().unwrap();
    assert!(matches!(client.rates().await, Err(Error::RateLimited { .. })));
    assert_eq!(sandbox.counters().requests_to("/api/v1/rates", 429), 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn http_5xx_json_is_retried_then_surfaces() {
    let faults = Faults { rate_503: 1.0, ..Faults::default() };
    let sandbox = common::start(SandboxConfig { faults, ..common::config() }).await;
    let client = common::client(&sandbox, 0);
    let e = client.services().await.unwrap_err();
    assert!(
        matches!(&e, Error::Server { status: 503, message, raw_body: None } if message == "Service Unavailable."),
        "{e:?}"
    );
    assert_eq!(sandbox.counters().requests_to("/api/v1/services", 503), 3, "three attempts");
    // A cancellation is a plain write: never retried.
    let e = client.cancel_order(&PartnerOrderRef::parse("PO-1").unwrap(), None).await.unwrap_err();
    assert!(matches!(e, Error::Server { status: 503, .. }));
    assert_eq!(sandbox.counters().requests_to("/api/v1/orders/{order}/cancel", 503), 1);
    assert!(matches!(CarrierError::from(e), CarrierError::Unavailable { status: 503, .. }));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn html_502_keeps_the_raw_body() {
    let faults = Faults { rate_html_502: 1.0, ..Faults::default() };
    let sandbox = common::start(SandboxConfig { faults, ..common::config() }).await;
    let client = common::client(&sandbox, 0);
    let e = client.rates().await.unwrap_err();
    let Error::Server { status: 502, message, raw_body: Some(raw) } = &e else { panic!("{e:?}") };
    assert!(raw.contains("<h1>502 Bad Gateway</h1>"), "{raw}");
    assert!(message.contains("502 Bad Gateway"), "{message}");
    assert_eq!(sandbox.counters().requests_to("/api/v1/rates", 502), 3);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn transient_faults_are_absorbed_and_dropped_connections_retried() {
    let faults = Faults { drop_rate: 1.0, ..Faults::default() };
    let sandbox = common::start(SandboxConfig { faults, ..common::config() }).await;
    let client = common::client(&sandbox, 0);
    let e = client.services().await.unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    assert_eq!(sandbox.counters().requests_to("/api/v1/services", 0), 3);
    // With a share of faults, retries carry the calls through.
    sandbox.set_faults(Faults {
        rate_503: 0.2,
        rate_429: 0.1,
        retry_after: Duration::ZERO,
        ..Faults::default()
    });
    let mut ok = 0;
    for _ in 0..30 {
        if client.services().await.is_ok() {
            ok += 1;
        }
    }
    assert!(ok >= 27, "{ok}/30 succeeded");
    assert!(sandbox.counters().requests_to("/api/v1/services", 503) > 0, "faults were injected");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_remote_http_base_url_is_refused() {
    let e = StarmileClient::builder("http://api.starmile.io", "id", "secret".to_owned().into())
        .build()
        .unwrap_err();
    assert!(matches!(&e, Error::Config(m) if m.contains("https") && m.contains("loopback")), "{e}");
    assert!(
        StarmileClient::builder("http://127.0.0.1:9", "id", "s".to_owned().into()).build().is_ok()
    );
}

//! The token manager against the sandbox: refresh-and-resend once on 401, single flight,
//! and secrets never printed.

mod common;

use std::time::Duration;

use waybill_starmile::{Error, StarmileClient, sandbox::SandboxConfig};

#[tokio::test]
async fn an_expired_token_is_refreshed_and_the_call_resent_once() {
    let sandbox = common::start(common::config()).await;
    let client = common::client(&sandbox, 0);
    client.services().await.unwrap();
    assert_eq!(client.token_requests(), 1);
    sandbox.expire_tokens();
    client.services().await.unwrap();
    let c = sandbox.counters();
    assert_eq!(c.token_requests, 2);
    assert_eq!(client.token_requests(), 2);
    assert_eq!(c.requests_to("/api/v1/services", 401), 1);
    assert_eq!(c.requests_to("/api/v1/services", 200), 2);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_second_401_is_final() {
    // Tokens that are dead on arrival: every API call answers 401.
    let config = SandboxConfig { token_lifetime: Duration::ZERO, ..common::config() };
    let sandbox = common::start(config).await;
    let client = common::client(&sandbox, 0);
    let e = client.services().await.unwrap_err();
    assert!(matches!(e, Error::Unauthenticated { .. }), "{e:?}");
    let c = sandbox.counters();
    assert_eq!(c.requests_to("/api/v1/services", 401), 2, "sent, refreshed, re-sent once");
    assert_eq!(c.token_requests, 2);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_hundred_concurrent_calls_on_an_expired_token_cause_one_token_request() {
    let sandbox = common::start(common::config()).await;
    let client = common::client(&sandbox, 0);
    client.services().await.unwrap();
    sandbox.expire_tokens();
    let before = sandbox.counters().token_requests;
    let calls = (0..100).map(|_| {
        let c = client.clone();
        tokio::spawn(async move { c.services().await })
    });
    for r in futures::future::join_all(calls).await {
        r.unwrap().unwrap();
    }
    assert_eq!(sandbox.counters().token_requests - before, 1);
    assert_eq!(sandbox.counters().requests_to("/api/v1/services", 200), 101);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_hundred_concurrent_first_calls_cause_one_token_request() {
    let sandbox = common::start(common::config()).await;
    let client = common::client(&sandbox, 0);
    let calls = (0..100).map(|_| client.rates());
    for r in futures::future::join_all(calls).await {
        r.unwrap();
    }
    assert_eq!(sandbox.counters().token_requests, 1);
    assert_eq!(client.token_requests(), 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_client_side_expired_token_is_refreshed_before_use() {
    // A 2 s token is treated as expired after 1 s (half its life, below the 30 s margin).
    let config = SandboxConfig { token_lifetime: Duration::from_secs(2), ..common::config() };
    let sandbox = common::start(config).await;
    let client = common::client(&sandbox, 0);
    client.services().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    futures::future::join_all((0..20).map(|_| client.services())).await;
    assert_eq!(sandbox.counters().token_requests, 2);
    assert_eq!(sandbox.counters().requests_to("/api/v1/services", 401), 0, "refreshed before use");
    sandbox.shutdown().await;
}

#[test]
fn debug_output_never_contains_the_secret() {
    let secret = "s3cr3t-value-123";
    let builder =
        StarmileClient::builder("https://api.starmile.io", "id", secret.to_owned().into());
    let shown = format!("{builder:?}");
    assert!(!shown.contains(secret) && shown.contains("REDACTED"), "{shown}");
    let client = builder.build().unwrap();
    let shown = format!("{client:?}");
    assert!(!shown.contains(secret) && shown.contains("REDACTED"), "{shown}");
    let partner = waybill_starmile::sandbox::PartnerCredential::demo();
    assert!(!format!("{partner:?}").contains(&partner.client_secret));
}

//! The spec's three curl commands, byte for byte (host replaced, credentials filled in),
//! and a token request the way standard OAuth2 libraries send it.

mod common;

use base64::Engine;
use serde_json::{Value, json};

#[tokio::test]
async fn the_three_spec_curls_work_unchanged() {
    let sandbox = common::start(common::config()).await;
    let p = &sandbox.partners()[0];
    let http = reqwest::Client::new();
    let base = sandbox.base_url();

    // 1. curl -X POST …/oauth/token -H 'Content-Type: application/json' -d '{…}'
    let body = format!(
        "{{\n\"grant_type\": \"client_credentials\",\n\"client_id\": \"{}\",\n\"client_secret\": \"{}\"\n}}",
        p.client_id, p.client_secret
    );
    let r = http
        .post(format!("{base}/oauth/token"))
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let token: Value = r.json().await.unwrap();
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["expires_in"], 3600);
    let access = token["access_token"].as_str().unwrap().to_owned();

    // 2. curl …/api/v1/services -H 'Authorization: Bearer <access_token>'
    let r = http
        .get(format!("{base}/api/v1/services"))
        .header("Authorization", format!("Bearer {access}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let services: Value = r.json().await.unwrap();
    let ids: Vec<u64> =
        services["data"].as_array().unwrap().iter().map(|s| s["id"].as_u64().unwrap()).collect();
    assert!(ids.contains(&5), "{ids:?}");

    // 3. curl -X POST …/api/v1/orders -H 'Authorization: …' -H 'Content-Type: …' -d '{…}'
    let body = "{\n\"service_id\": 5,\n\"external_parent_id\": \"PO-10294\",\n\"items\": [{ \"merchant_tracking_number\": \"TRK-1\" }]\n}";
    let send = || {
        http.post(format!("{base}/api/v1/orders"))
            .header("Authorization", format!("Bearer {access}"))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };
    let r = send().await.unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["data"]["duplicate"], false);
    // No item_id was sent, so none is made up (the SDK reads `item_id` as "what you sent, or null").
    assert_eq!(created["data"]["items"][0]["item_id"], Value::Null);
    // And the same curl again is an idempotent replay.
    let r = send().await.unwrap();
    assert_eq!(r.status(), 200);
    let replay: Value = r.json().await.unwrap();
    assert_eq!(replay["data"]["duplicate"], true);
    assert_eq!(replay["data"]["order_id"], created["data"]["order_id"]);
    assert_eq!(sandbox.counters().orders_created, 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_standard_oauth2_token_request_works() {
    let sandbox = common::start(common::config()).await;
    let p = &sandbox.partners()[1];
    let http = reqwest::Client::new();
    // RFC 6749 §2.3.1: form body, credentials url-encoded then Basic-encoded.
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", p.client_id, p.client_secret));
    let r = http
        .post(format!("{}/oauth/token", sandbox.base_url()))
        .header("Authorization", format!("Basic {basic}"))
        .header("Accept", "application/json")
        .form(&[("grant_type", "client_credentials"), ("scope", "status:read catalogue:read")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let token: Value = r.json().await.unwrap();
    let access = token["access_token"].as_str().unwrap();
    let r = http
        .get(format!("{}/api/v1/rates", sandbox.base_url()))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The narrowed token lacks orders:create.
    let r = http
        .post(format!("{}/api/v1/orders", sandbox.base_url()))
        .bearer_auth(access)
        .json(&json!({"service_id": 5, "external_parent_id": "X", "items": [{"merchant_tracking_number": "Y"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // The SDK's form body with credentials in it works too.
    let r = http
        .post(format!("{}/oauth/token", sandbox.base_url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", p.client_id.as_str()),
            ("client_secret", p.client_secret.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(sandbox.counters().token_requests, 2);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn token_endpoint_errors_follow_rfc_6749() {
    let sandbox = common::start(common::config()).await;
    let p = &sandbox.partners()[0];
    let http = reqwest::Client::new();
    let url = format!("{}/oauth/token", sandbox.base_url());
    let r = http
        .post(&url)
        .json(&json!({"grant_type": "password", "client_id": p.client_id, "client_secret": p.client_secret}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "unsupported_grant_type");
    let r = http
        .post(&url)
        .json(&json!({"grant_type": "client_credentials", "client_id": p.client_id, "client_secret": "wrong"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["message"], "Unauthenticated.");
    let r = http.get(format!("{}/api/v1/services", sandbox.base_url())).send().await.unwrap();
    assert_eq!(r.status(), 401, "no token");
    sandbox.shutdown().await;
}

//! `wiremock` pins the exact request of every call: method, path, query, headers, body.

use std::time::Duration;

use serde_json::json;
use waybill_domain::{
    Cursor, MerchantTrackingNumber, OrderItem, OrderRequest, PartnerOrderRef, ServiceId,
    TrackingNumber, Weight,
};
use waybill_starmile::{ChangesQuery, Error, RetryPolicy, StarmileClient, USER_AGENT};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{body_json, body_string, header, method, path, query_param},
};

const TOKEN: &str = "tok-123";

async fn server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header("content-type", "application/json"))
        .and(header("accept", "application/json"))
        .and(header("user-agent", USER_AGENT))
        .and(body_json(json!({
            "grant_type": "client_credentials",
            "client_id": "cid",
            "client_secret": "csecret"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"token_type": "Bearer", "access_token": TOKEN, "expires_in": 3600}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    server
}

fn client(server: &MockServer) -> StarmileClient {
    StarmileClient::builder(&server.uri(), "cid", "csecret".to_owned().into())
        .retry_policy(RetryPolicy {
            base_delay: Duration::from_millis(1),
            ..RetryPolicy::default()
        })
        .build()
        .expect("client builds")
}

fn api(verb: &str, route: &str) -> wiremock::MockBuilder {
    Mock::given(method(verb))
        .and(path(route))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header("accept", "application/json"))
        .and(header("user-agent", USER_AGENT))
}

#[tokio::test]
async fn services_and_rates_are_plain_authenticated_gets() {
    let server = server().await;
    api("GET", "/api/v1/services")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [
            {"id": 5, "name": "Standard", "flow_key": "cb3_cross_border_terminal_hd", "family": "cross_border", "brand_new_field": [1]},
            {"id": 8, "name": "Bare", "flow_key": null}
        ]})))
        .expect(1)
        .mount(&server)
        .await;
    api("GET", "/api/v1/rates")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [
            {"service_id": 5, "origin": "AU", "destination": "NZ", "currency": "AUD",
             "tiers": [{"max_weight_grams": 500, "price": "9.50"}, {"max_weight_grams": 2000, "price": "18.00"}]}
        ]})))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let services = client.services().await.unwrap();
    assert_eq!(services.len(), 2);
    assert_eq!(services[1].flow_key, None);
    let rates = client.rates().await.unwrap();
    assert_eq!(rates[0].quote(Weight::from_grams(600).unwrap()).unwrap().to_string(), "18.00 AUD");
    // GET requests carry no Content-Type.
    for r in server.received_requests().await.unwrap().iter().filter(|r| r.method.as_str() == "GET")
    {
        assert!(r.headers.get("content-type").is_none());
        assert!(r.body.is_empty());
    }
}

#[tokio::test]
async fn create_sends_the_spec_body_with_item_ids_and_weights() {
    let server = server().await;
    api("POST", "/api/v1/orders")
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "service_id": 5,
            "external_parent_id": "PO-10294",
            "items": [
                {"merchant_tracking_number": "TRK-1", "item_id": "TRK-1"},
                {"merchant_tracking_number": "TRK-2", "item_id": "TRK-2", "weight_grams": 750}
            ]
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"data": {
            "order_id": "STM000123", "duplicate": false, "region_status": "pending_mapping",
            "items": [{"item_id": "TRK-1", "parcel_id": "STM000124"}, {"item_id": "TRK-2", "parcel_id": "STM000125"}]
        }})))
        .expect(1)
        .mount(&server)
        .await;
    let mut heavy = OrderItem::new(MerchantTrackingNumber::parse("TRK-2").unwrap());
    heavy.weight = Some(Weight::from_grams(750).unwrap());
    let request = OrderRequest::new(
        ServiceId::new(5).unwrap(),
        PartnerOrderRef::parse("PO-10294").unwrap(),
        vec![OrderItem::new(MerchantTrackingNumber::parse("TRK-1").unwrap()), heavy],
    )
    .unwrap();
    let order = client(&server).create_order(&request).await.unwrap();
    assert_eq!(order.tracking_number.as_str(), "STM000123");
    assert_eq!(order.parcels[1].tracking_number.as_str(), "STM000125");
}

#[tokio::test]
async fn create_is_retried_on_5xx_and_understands_the_replay() {
    let server = server().await;
    api("POST", "/api/v1/orders")
        .respond_with(
            ResponseTemplate::new(503).set_body_json(json!({"message": "Service Unavailable."})),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    api("POST", "/api/v1/orders")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {
            "order_id": "STM000123", "duplicate": true, "region_status": "mapped",
            "items": [{"item_id": "TRK-1", "parcel_id": "STM000124"}]
        }})))
        .expect(1)
        .mount(&server)
        .await;
    let request = OrderRequest::new(
        ServiceId::new(5).unwrap(),
        PartnerOrderRef::parse("PO-1").unwrap(),
        vec![OrderItem::new(MerchantTrackingNumber::parse("TRK-1").unwrap())],
    )
    .unwrap();
    let order = client(&server).create_order(&request).await.unwrap();
    assert!(order.duplicate);
}

#[tokio::test]
async fn cancel_percent_encodes_the_reference_and_sends_the_reason() {
    let server = server().await;
    api("POST", "/api/v1/orders/ORD%2F1/cancel")
        .and(header("content-type", "application/json"))
        .and(body_json(json!({"reason": "customer request"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {}})))
        .expect(1)
        .mount(&server)
        .await;
    api("POST", "/api/v1/orders/PO%20X/cancel")
        .and(body_string("{}"))
        .respond_with(
            ResponseTemplate::new(409)
                .set_body_json(json!({"message": "Order is already in custody."})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    client
        .cancel_order(&PartnerOrderRef::parse("ORD/1").unwrap(), Some("customer request"))
        .await
        .unwrap();
    let e = client.cancel_order(&PartnerOrderRef::parse("PO X").unwrap(), None).await.unwrap_err();
    assert!(matches!(e, Error::Conflict { .. }), "{e:?}");
}

#[tokio::test]
async fn changes_sends_cursor_limit_and_filters_as_query_params() {
    let server = server().await;
    let page = json!({"data": [], "next_cursor": 42, "has_more": false});
    api("GET", "/api/v1/partner/changes")
        .and(query_param("since", "42"))
        .and(query_param("limit", "200"))
        .and(query_param("tracking_number", "STM000124"))
        .and(query_param("external_parent_id", "ORD/1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&page))
        .expect(1)
        .mount(&server)
        .await;
    api("GET", "/api/v1/partner/changes")
        .and(query_param("since", "0"))
        .and(query_param("limit", "1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": [], "next_cursor": 0, "has_more": false})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let query = ChangesQuery {
        since: Cursor(42),
        limit: 500,
        tracking_number: Some(TrackingNumber::parse("STM000124").unwrap()),
        reference: Some(PartnerOrderRef::parse("ORD/1").unwrap()),
    };
    assert_eq!(client.changes(&query).await.unwrap().next_cursor, Cursor(42));
    let first = ChangesQuery { limit: 0, ..ChangesQuery::since(Cursor(0)) };
    client.changes(&first).await.unwrap();
    let received = server.received_requests().await.unwrap();
    let exact =
        received.iter().find(|r| r.url.query().is_some_and(|q| q.contains("tracking"))).unwrap();
    assert_eq!(
        exact.url.query(),
        Some("since=42&limit=200&tracking_number=STM000124&external_parent_id=ORD%2F1")
    );
}

#[tokio::test]
async fn a_401_refreshes_the_token_and_resends_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "old", "expires_in": 3600})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "new", "expires_in": 3600})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/services"))
        .and(header("authorization", "Bearer old"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"message": "Unauthenticated."})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/services"))
        .and(header("authorization", "Bearer new"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": []})))
        .expect(2)
        .mount(&server)
        .await;
    let client =
        StarmileClient::builder(&server.uri(), "cid", "s".to_owned().into()).build().unwrap();
    assert!(client.services().await.unwrap().is_empty());
    assert!(client.services().await.unwrap().is_empty());
    assert_eq!(client.token_requests(), 2);
}

#[tokio::test]
async fn scope_is_sent_when_configured_and_secrets_stay_out_of_errors() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_json(json!({
            "grant_type": "client_credentials", "client_id": "cid",
            "client_secret": "top-secret", "scope": "status:read"
        })))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"message": "Unauthenticated."})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = StarmileClient::builder(&server.uri(), "cid", "top-secret".to_owned().into())
        .scope("status:read")
        .build()
        .unwrap();
    let e = client.changes(&ChangesQuery::since(Cursor(0))).await.unwrap_err();
    assert!(matches!(e, Error::Unauthenticated { .. }), "{e:?}");
    assert!(!format!("{e} {e:?}").contains("top-secret"));
}

#[tokio::test]
async fn a_malformed_success_body_is_a_decode_error_with_the_body() {
    let server = server().await;
    api("GET", "/api/v1/services")
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>maintenance</html>"))
        .mount(&server)
        .await;
    let e = client(&server).services().await.unwrap_err();
    assert!(matches!(&e, Error::Decode { body, .. } if body.contains("maintenance")), "{e:?}");
}

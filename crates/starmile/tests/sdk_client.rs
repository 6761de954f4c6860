//! `wiremock` pins the exact requests of the calls the official SDK makes beyond the spec
//! (full order body, parcel routes, labels, inbound events) and how the client reads each
//! answer, plus the opt-in per-call retry of writes (the SDK's `retry()`).

use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::json;
use waybill_domain::{
    AddressLine, Currency, Destination, Dimensions, Email, GovId, HomeAddress, HsCode, LabelTarget,
    MerchantTrackingNumber, Money, OrderItem, OrderRequest, PackageType, ParcelChanges,
    PartnerOrderRef, Phone, PointId, PostalCode, Product, ProductName, Recipient, RecipientName,
    Region, ServiceId, TrackingNumber, Weight,
};
use waybill_starmile::{
    Error, EventType, InboundEvent, Outcome, Retry, RetryPolicy, StarmileClient, USER_AGENT,
};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{body_json, header, method, path, query_param},
};

const TOKEN: &str = "tok-123";

async fn server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"token_type": "Bearer", "access_token": TOKEN, "expires_in": 3600}),
        ))
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
        .and(header("user-agent", USER_AGENT))
}

fn mtn(s: &str) -> MerchantTrackingNumber {
    MerchantTrackingNumber::parse(s).expect("merchant tracking number")
}

fn reference(s: &str) -> PartnerOrderRef {
    PartnerOrderRef::parse(s).expect("order reference")
}

fn shoes() -> Product {
    Product::new(ProductName::parse("Running shoes").expect("name"))
        .with_hs_code(HsCode::parse("640299").expect("hs code"))
        .with_declared_value(
            Money::new(Decimal::new(5999, 2), Currency::parse("USD").expect("currency"))
                .expect("money"),
        )
}

fn parcel_answer(parcel_id: &str) -> serde_json::Value {
    json!({"data": {"order_id": "STM000000124", "item": {"item_id": "BC-1", "parcel_id": parcel_id, "merchant_tracking": "BC-1"}}})
}

#[tokio::test]
async fn a_full_order_sends_recipient_destination_and_customs_data() {
    let server = server().await;
    api("POST", "/api/v1/orders")
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "service_id": 5,
            "external_parent_id": "ORD-1001",
            "customer_name": "Jane Doe",
            "customer_phone": "+64211234567",
            "customer_email": "jane@example.com",
            "gov_id": "5AB12C3",
            "parent_region": "North Island",
            "region": "Auckland",
            "address_first": "12 Queen Street",
            "zip": "1010",
            "shipping_cost": "9.90",
            "items": [{
                "merchant_tracking_number": "BC-1",
                "item_id": "BC-1",
                "package_type": "fragile",
                "weight_grams": 1200,
                "length_mm": 300, "width_mm": 200, "height_mm": 100,
                "products": [{"name": "Running shoes", "hs_code": "640299", "declared_value": "59.99", "currency": "USD", "quantity": 2}]
            }]
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"data": {
            "order_id": "STM000000124", "duplicate": false, "region_status": "pending_mapping",
            "items": [{"item_id": "BC-1", "parcel_id": "STM000000125"}]}})))
        .expect(1)
        .mount(&server)
        .await;
    let item = OrderItem::new(mtn("BC-1"))
        .with_weight(Weight::from_grams(1200).unwrap())
        .with_package_type(PackageType::Fragile)
        .with_dimensions(Dimensions::new(300, 200, 100).unwrap())
        .with_product(shoes().with_quantity(waybill_domain::Quantity::new(2).unwrap()));
    let recipient = Recipient::new(
        Some(RecipientName::parse("Jane Doe").unwrap()),
        Some(Phone::parse("+64211234567").unwrap()),
        Some(Email::parse("jane@example.com").unwrap()),
    )
    .unwrap()
    .with_gov_id(GovId::parse("5AB12C3").unwrap());
    let home = Destination::Home(HomeAddress {
        parent_region: Some(Region::parse("North Island").unwrap()),
        region: Region::parse("Auckland").unwrap(),
        address_first: AddressLine::parse("12 Queen Street").unwrap(),
        address_second: None,
        zip: Some(PostalCode::parse("1010").unwrap()),
    });
    let request = OrderRequest::new(ServiceId::new(5).unwrap(), reference("ORD-1001"), vec![item])
        .unwrap()
        .with_shipment(recipient, home)
        .unwrap()
        .with_shipping_cost(
            Money::new(Decimal::new(990, 2), Currency::parse("AUD").unwrap()).unwrap(),
        );
    let order = client(&server).create_order(&request).await.unwrap();
    assert_eq!(order.region_status, waybill_domain::RegionStatus::PendingMapping);
    assert_eq!(order.parcels[0].tracking_number.as_str(), "STM000000125");
}

#[tokio::test]
async fn parcel_routes_send_the_sdk_shapes_with_encoded_references() {
    let server = server().await;
    api("PATCH", "/api/v1/orders/ORD%2F1/parcels/ITEM%2F2")
        .and(body_json(json!({"weight_grams": 1500, "products": [{"name": "Running shoes", "hs_code": "640299", "declared_value": "59.99", "currency": "USD", "quantity": 1}]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(parcel_answer("STM000000125")))
        .expect(1)
        .mount(&server)
        .await;
    api("POST", "/api/v1/orders/ORD%2F1/parcels")
        .and(body_json(json!({"item_id": "BC-2", "merchant_tracking": "BC-2", "products": [{"name": "Running shoes", "hs_code": "640299", "declared_value": "59.99", "currency": "USD", "quantity": 1}]})))
        .respond_with(ResponseTemplate::new(201).set_body_json(parcel_answer("STM000000126")))
        .expect(1)
        .mount(&server)
        .await;
    api("POST", "/api/v1/orders/ORD%2F1/parcels/BC-1/cancel")
        .and(body_json(json!({"reason": "damaged"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {
            "order_id": "STM000000124", "order_status": "cancelled",
            "item": {"item_id": "BC-1", "parcel_id": "STM000000125", "status": "cancelled"}}})))
        .expect(1)
        .mount(&server)
        .await;
    api("POST", "/api/v1/orders/ORD%2F1/parcels/BC-1/split")
        .and(body_json(json!({"new_order_id": "ORD/1-B"})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"data": {
            "order_id": "STM000000130", "new_order_id": "ORD/1-B", "source_order_id": "ORD/1",
            "item": {"item_id": "BC-1", "parcel_id": "STM000000125"}}})))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let order = reference("ORD/1");
    let changes =
        ParcelChanges::new().weight(Weight::from_grams(1500).unwrap()).products(vec![shoes()]);
    let p = client.update_parcel(&order, &mtn("ITEM/2"), &changes).await.unwrap();
    assert_eq!(p.tracking_number.as_str(), "STM000000125");
    let added = client
        .add_parcel(&order, &OrderItem::new(mtn("BC-2")).with_product(shoes()))
        .await
        .unwrap();
    assert_eq!(added.tracking_number.as_str(), "STM000000126");
    let cancelled = client.cancel_parcel(&order, &mtn("BC-1"), Some("damaged")).await.unwrap();
    assert!(cancelled.order_cancelled);
    let split =
        client.split_parcel(&order, &mtn("BC-1"), &reference("ORD/1-B"), None).await.unwrap();
    assert_eq!(split.tracking_number.as_str(), "STM000000130");
    assert_eq!(split.parcel.tracking_number.as_str(), "STM000000125");
    // Refused locally, nothing sent: an empty change, a bare parcel, a split onto itself.
    let e = client.update_parcel(&order, &mtn("BC-1"), &ParcelChanges::new()).await.unwrap_err();
    assert!(matches!(e, Error::Config(m) if m.contains("changes nothing")));
    let e = client.add_parcel(&order, &OrderItem::new(mtn("BC-3"))).await.unwrap_err();
    assert!(matches!(e, Error::Config(m) if m.contains("declares no products")));
    let e = client.split_parcel(&order, &mtn("BC-1"), &order, None).await.unwrap_err();
    assert!(matches!(e, Error::Config(_)));
}

#[tokio::test]
async fn labels_are_fetched_as_pdf_and_anything_else_is_refused() {
    let server = server().await;
    api("GET", "/api/v1/orders/label")
        .and(header("accept", "application/pdf"))
        .and(query_param("parcel_id", "STM000000125"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(b"%PDF-1.7\n%fake".to_vec(), "application/pdf"),
        )
        .expect(1)
        .mount(&server)
        .await;
    api("GET", "/api/v1/orders/label")
        .and(query_param("order_id", "STM000000124"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("<html>login</html>", "text/html"))
        .mount(&server)
        .await;
    api("GET", "/api/v1/orders/label")
        .and(query_param("merchant_tracking", "GONE"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"message": "Parcel not found."})),
        )
        .mount(&server)
        .await;
    let client = client(&server);
    let pdf = client
        .label(&LabelTarget::Parcel(TrackingNumber::parse("STM000000125").unwrap()))
        .await
        .unwrap();
    assert!(pdf.as_bytes().starts_with(b"%PDF-"));
    let e = client
        .label(&LabelTarget::Order(TrackingNumber::parse("STM000000124").unwrap()))
        .await
        .unwrap_err();
    assert!(matches!(&e, Error::Decode { message, .. } if message.contains("text/html")), "{e:?}");
    let e = client.label(&LabelTarget::MerchantTracking(mtn("GONE"))).await.unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }));
}

#[tokio::test]
async fn events_send_the_contract_and_surface_the_hint() {
    let server = server().await;
    api("POST", "/api/v1/partner/events")
        .and(body_json(json!({
            "event_id": "evt-1", "type": "shipment.delivered", "tracking_number": "SM-TRACK-1",
            "occurred_at": "2026-06-27T10:00:00Z", "data": {"note": "left at door", "recipient_name": "Jane"}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"result": "applied", "order_status": "delivered"})))
        .expect(1)
        .mount(&server)
        .await;
    api("POST", "/api/v1/partner/events")
        .and(body_json(
            json!({"event_id": "evt-2", "type": "shipment.delivered", "tracking_number": "SM-1"}),
        ))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({
            "result": "rejected",
            "error": "shipment.delivered is not a legal next step from received_at_hub.",
            "hint": "Report shipment.out_for_delivery first."})))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let event = InboundEvent::new(
        EventType::ShipmentDelivered,
        TrackingNumber::parse("SM-TRACK-1").unwrap(),
        "evt-1",
    )
    .unwrap()
    .with("recipient_name", "Jane")
    .unwrap()
    .with("note", "left at door")
    .unwrap()
    .occurred_at("2026-06-27T10:00:00Z".parse().unwrap());
    let outcome = client.report_event(&event).await.unwrap();
    assert_eq!(
        (outcome.result.as_str(), outcome.order_status.as_deref()),
        ("applied", Some("delivered"))
    );
    let event = InboundEvent::new(
        EventType::ShipmentDelivered,
        TrackingNumber::parse("SM-1").unwrap(),
        "evt-2",
    )
    .unwrap();
    let e = client.report_event(&event).await.unwrap_err();
    let Error::Rejected { message, hint } = &e else { panic!("{e:?}") };
    assert!(message.contains("not a legal next step"));
    assert_eq!(hint.as_deref(), Some("Report shipment.out_for_delivery first."));
    assert!(e.to_string().contains("hint: Report shipment.out_for_delivery first."), "{e}");
    // Validated locally: an unknown field never reaches the network.
    let bad = InboundEvent::new(
        EventType::ParcelTimeout,
        TrackingNumber::parse("SM-1").unwrap(),
        "evt-3",
    )
    .unwrap()
    .with("reason", "nope");
    assert!(bad.is_err());
}

#[tokio::test]
async fn writes_are_retried_only_when_the_caller_opts_in() {
    let server = server().await;
    // Two 503s, then success: the default client sends the write once and gives up.
    api("POST", "/api/v1/orders/ORD-1/cancel")
        .respond_with(
            ResponseTemplate::new(503).set_body_json(json!({"message": "Service Unavailable"})),
        )
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    api("POST", "/api/v1/orders/ORD-1/cancel")
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": {"status": "cancelled"}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let order = reference("ORD-1");
    let e = client.cancel_order(&order, None).await.unwrap_err();
    assert!(matches!(e, Error::Server { status: 503, .. }));
    // Opted in: the second 503 is retried, then the 200 lands.
    client.retry(Retry::new(3, Duration::from_millis(1))).cancel_order(&order, None).await.unwrap();

    // A custom decision also retries a 409 (the SDK's RetryTest).
    api("POST", "/api/v1/orders/ORD-2/cancel")
        .respond_with(
            ResponseTemplate::new(409).set_body_json(json!({"message": "Locked, try again"})),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    api("POST", "/api/v1/orders/ORD-2/cancel")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {}})))
        .expect(1)
        .mount(&server)
        .await;
    let conflict = Retry::new(3, Duration::from_millis(1))
        .when(|o, _| matches!(o, Outcome::Status { status: 409, .. }));
    client.retry(conflict).cancel_order(&reference("ORD-2"), None).await.unwrap();
}

#[tokio::test]
async fn pickup_points_and_lockers_send_their_ids() {
    let server = server().await;
    api("POST", "/api/v1/orders")
        .and(body_json(json!({
            "service_id": 9, "external_parent_id": "ORD-P", "customer_email": "jane@example.com", "locker_id": 9,
            "items": [{"merchant_tracking_number": "BC-9", "item_id": "BC-9", "products": [{"name": "Running shoes", "hs_code": "640299", "declared_value": "59.99", "currency": "USD", "quantity": 1}]}]
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"data": {
            "order_id": "STM000000200", "duplicate": false, "region_status": "not_applicable",
            "items": [{"item_id": "BC-9", "parcel_id": "STM000000201"}]}})))
        .expect(1)
        .mount(&server)
        .await;
    let recipient =
        Recipient::new(None, None, Some(Email::parse("jane@example.com").unwrap())).unwrap();
    let request = OrderRequest::new(
        ServiceId::new(9).unwrap(),
        reference("ORD-P"),
        vec![OrderItem::new(mtn("BC-9")).with_product(shoes())],
    )
    .unwrap()
    .with_shipment(recipient, Destination::Locker { id: PointId::new(9).unwrap() })
    .unwrap();
    client(&server).create_order(&request).await.unwrap();
}

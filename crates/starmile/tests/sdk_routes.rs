//! The official PHP SDK's documented behaviours (README, CHANGELOG, `tests/Unit/`), driven
//! over plain HTTP against the sandbox with the SDK's own body shapes: every route the SDK
//! calls, its answer and status code, and the validation rules it documents.

mod common;

use std::time::Duration;

use serde_json::{Value, json};
use waybill_starmile::sandbox::{PartnerCredential, Sandbox, SandboxConfig};

/// A partner's raw HTTP session: token once, then JSON calls.
struct Session {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Session {
    async fn open(sandbox: &Sandbox, index: usize) -> Self {
        let http = reqwest::Client::new();
        let p = &sandbox.partners()[index];
        // The SDK's token request: form-encoded client credentials.
        let token: Value = http
            .post(format!("{}/oauth/token", sandbox.base_url()))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", p.client_id.as_str()),
                ("client_secret", p.client_secret.as_str()),
            ])
            .send()
            .await
            .expect("token request")
            .json()
            .await
            .expect("token answer");
        let token = token["access_token"].as_str().expect("access_token").to_owned();
        Self { http, base: sandbox.base_url(), token }
    }

    async fn send(&self, verb: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut r = self
            .http
            .request(verb, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("Accept", "application/json");
        if let Some(body) = body {
            r = r.json(&body);
        }
        let r = r.send().await.expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::PATCH, path, Some(body)).await
    }

    async fn label(&self, query: &str) -> (u16, Option<String>, Vec<u8>) {
        let r = self
            .http
            .get(format!("{}/api/v1/orders/label?{query}", self.base))
            .bearer_auth(&self.token)
            .header("Accept", "application/pdf")
            .send()
            .await
            .expect("label request");
        let ct =
            r.headers().get("content-type").map(|v| v.to_str().expect("content type").to_owned());
        (r.status().as_u16(), ct, r.bytes().await.expect("label body").to_vec())
    }
}

/// The README's order: service 9 (pickup point), recipient with gov_id, one parcel with
/// a product declared in USD.
fn sdk_order(order_id: &str, item_id: &str, merchant: &str) -> Value {
    json!({
        "service_id": 9,
        "order_id": order_id,
        "customer_name": "Jane Doe",
        "customer_phone": "+994500000000",
        "customer_email": "jane@example.com",
        "gov_id": "5AB12C3",
        "pudo_id": 42,
        "shipping_cost": 9.9,
        "parcels": [{
            "item_id": item_id,
            "merchant_tracking": merchant,
            "weight_grams": 1200,
            "products": [{"name": "Running shoes", "hs_code": "640299", "declared_value": 59.99, "currency": "USD", "quantity": 1}]
        }]
    })
}

fn two_parcels(order_id: &str) -> Value {
    let mut body = sdk_order(order_id, &format!("{order_id}-A"), &format!("{order_id}-MA"));
    let second = json!({"item_id": format!("{order_id}-B"), "products": [{"name": "Socks"}]});
    body["parcels"].as_array_mut().expect("parcels").push(second);
    body
}

#[tokio::test]
async fn create_answers_201_then_replays_200_duplicate_with_the_original_ids() {
    let sandbox = common::start(common::config()).await;
    let s = Session::open(&sandbox, 0).await;
    let (status, created) =
        s.post("/api/v1/orders", sdk_order("ORD-1001", "ITEM-1", "BARCODE-1")).await;
    assert_eq!(status, 201, "{created}");
    let data = &created["data"];
    assert_eq!(data["duplicate"], false);
    assert_eq!(data["region_status"], "not_applicable", "a pickup point has no home region");
    assert!(data["order_id"].as_str().unwrap().starts_with("STM"));
    assert_eq!(data["items"][0]["item_id"], "ITEM-1");
    assert!(data["items"][0]["parcel_id"].as_str().unwrap().starts_with("STM"));
    // The rest of the body is ignored on a replay.
    let mut changed = sdk_order("ORD-1001", "OTHER", "OTHER");
    changed["service_id"] = json!(5);
    let (status, replay) = s.post("/api/v1/orders", changed).await;
    assert_eq!(status, 200);
    assert_eq!(replay["data"]["duplicate"], true);
    assert_eq!(replay["data"]["order_id"], data["order_id"]);
    assert_eq!(replay["data"]["items"], data["items"]);
    assert_eq!(sandbox.counters().orders_created, 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn region_status_follows_the_destination() {
    let sandbox = common::start(common::config()).await;
    let s = Session::open(&sandbox, 0).await;
    let home = |order_id: &str, region: &str| {
        let mut b = sdk_order(order_id, &format!("{order_id}-1"), &format!("{order_id}-M"));
        let o = b.as_object_mut().unwrap();
        o.remove("pudo_id");
        o.insert("service_id".into(), json!(5));
        o.insert("region".into(), json!(region));
        o.insert("address_first".into(), json!("12 Queen Street"));
        o.insert("zip".into(), json!("1010"));
        b
    };
    let (status, mapped) = s.post("/api/v1/orders", home("H-1", "Auckland")).await;
    assert_eq!((status, mapped["data"]["region_status"].as_str()), (201, Some("mapped")));
    let (status, pending) = s.post("/api/v1/orders", home("H-2", "Abşeron")).await;
    assert_eq!((status, pending["data"]["region_status"].as_str()), (201, Some("pending_mapping")));
    let mut locker = sdk_order("L-1", "L-1-1", "L-1-M");
    locker.as_object_mut().unwrap().remove("pudo_id");
    locker["locker_id"] = json!(7);
    let (status, l) = s.post("/api/v1/orders", locker).await;
    assert_eq!((status, l["data"]["region_status"].as_str()), (201, Some("not_applicable")));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn validation_errors_name_the_sdk_fields_with_its_rules() {
    let sandbox = common::start(common::config()).await;
    let s = Session::open(&sandbox, 0).await;
    // The SDK's unit test: `{"order_id":"X"}` → 422, service_id required.
    let (status, e) = s.post("/api/v1/orders", json!({"order_id": "X"})).await;
    assert_eq!(status, 422);
    assert_eq!(e["message"], "The given data was invalid.");
    assert_eq!(e["errors"]["service_id"], json!(["The service id field is required."]));
    assert!(e["errors"]["parcels"].is_array(), "{e}");
    assert!(e["errors"].get("external_parent_id").is_none() && e["errors"].get("items").is_none());
    let (_, e) = s.post("/api/v1/orders", json!({"service_id": 9, "parcels": []})).await;
    assert_eq!(e["errors"]["order_id"], json!(["The order id field is required."]));

    // products required (at least one); merchant_tracking optional.
    let mut body = sdk_order("V-1", "V-ITEM", "V-M");
    body["parcels"][0].as_object_mut().unwrap().remove("products");
    body["parcels"][0].as_object_mut().unwrap().remove("merchant_tracking");
    let (status, e) = s.post("/api/v1/orders", body).await;
    assert_eq!(status, 422);
    assert_eq!(
        e["errors"]["parcels.0.products"],
        json!(["The parcels.0.products field is required."])
    );
    assert!(e["errors"].get("parcels.0.merchant_tracking").is_none(), "{e}");

    // Since 6.8 a phone or an email is required.
    let mut body = sdk_order("V-2", "V2-ITEM", "V2-M");
    body.as_object_mut().unwrap().remove("customer_phone");
    body.as_object_mut().unwrap().remove("customer_email");
    let (status, e) = s.post("/api/v1/orders", body).await;
    assert_eq!(status, 422);
    assert!(e["errors"]["customer_phone"][0].as_str().unwrap().contains("customer email"));
    // An email alone is enough; no merchant_tracking is fine and none is made up.
    let mut body = sdk_order("V-3", "V3-ITEM", "unused");
    body.as_object_mut().unwrap().remove("customer_phone");
    body["parcels"][0].as_object_mut().unwrap().remove("merchant_tracking");
    let (status, ok) = s.post("/api/v1/orders", body).await;
    assert_eq!(status, 201, "{ok}");

    // An item_id is unique per partner across orders; the sticker code too.
    let (status, e) = s.post("/api/v1/orders", sdk_order("V-4", "V3-ITEM", "V4-M")).await;
    assert_eq!(status, 422);
    assert_eq!(e["errors"]["parcels.0.item_id"], json!(["The item id has already been taken."]));
    s.post("/api/v1/orders", sdk_order("V-5", "V5-ITEM", "V5-M")).await;
    let (_, e) = s.post("/api/v1/orders", sdk_order("V-6", "V6-ITEM", "V5-M")).await;
    assert!(e["errors"]["parcels.0.merchant_tracking"].is_array(), "{e}");

    // A Home Delivery service needs a region (CHANGELOG 1.3's message).
    let mut body = sdk_order("V-7", "V7-ITEM", "V7-M");
    body["service_id"] = json!(5);
    body.as_object_mut().unwrap().remove("pudo_id");
    let (_, e) = s.post("/api/v1/orders", body).await;
    assert_eq!(e["errors"]["region"], json!(["region is required for a Home Delivery service."]));
    // Product fields are checked where they sit.
    let mut body = sdk_order("V-8", "V8-ITEM", "V8-M");
    body["parcels"][0]["products"][0]["currency"] = json!("usd");
    body["parcels"][0]["package_type"] = json!("wet");
    let (_, e) = s.post("/api/v1/orders", body).await;
    assert!(e["errors"]["parcels.0.products.0.currency"].is_array(), "{e}");
    assert_eq!(
        e["errors"]["parcels.0.package_type"],
        json!(["The selected parcels.0.package_type is invalid."])
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn update_parcel_is_partial_encodes_references_and_replaces_products() {
    let sandbox = common::start(common::config()).await;
    let s = Session::open(&sandbox, 0).await;
    let (status, _) = s.post("/api/v1/orders", sdk_order("ORD/1", "ITEM 2", "BC-1")).await;
    assert_eq!(status, 201);
    // The SDK's unit test path: both references percent-encoded.
    let (status, r) =
        s.patch("/api/v1/orders/ORD%2F1/parcels/ITEM%202", json!({"weight_grams": 1500})).await;
    assert_eq!(status, 200, "{r}");
    let item = &r["data"]["item"];
    assert_eq!(item["weight_grams"], 1500);
    assert_eq!(item["merchant_tracking"], "BC-1");
    assert_eq!(item["products"][0]["name"], "Running shoes", "untouched");
    let (_, r) = s
        .patch(
            "/api/v1/orders/ORD%2F1/parcels/ITEM%202",
            json!({"merchant_tracking": "BARCODE-1B", "products": [{"name": "Sandals"}, {"name": "Laces"}]}),
        )
        .await;
    let item = &r["data"]["item"];
    assert_eq!(item["merchant_tracking"], "BARCODE-1B");
    let names: Vec<&str> =
        item["products"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Sandals", "Laces"], "products replaces the list");
    let (status, _) =
        s.patch("/api/v1/orders/ORD%2F1/parcels/NOPE", json!({"weight_grams": 1})).await;
    assert_eq!(status, 404);
    let (status, e) =
        s.patch("/api/v1/orders/ORD%2F1/parcels/ITEM%202", json!({"weight_grams": 0})).await;
    assert_eq!((status, e["errors"]["weight_grams"].is_array()), (422, true));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn parcels_are_frozen_once_received() {
    // A day of simulated time per real second: the first leg (12–36 h) ends within 2 s.
    let config = SandboxConfig { time_scale: 86_400.0, ..common::config() };
    let sandbox = common::start(config).await;
    let s = Session::open(&sandbox, 0).await;
    s.post("/api/v1/orders", two_parcels("F-1")).await;
    tokio::time::sleep(Duration::from_millis(1800)).await;
    let (status, e) =
        s.patch("/api/v1/orders/F-1/parcels/F-1-A", json!({"weight_grams": 900})).await;
    assert_eq!((status, e["message"].as_str()), (409, Some("Parcel is already in custody.")));
    let (status, _) = s.post("/api/v1/orders/F-1/parcels/F-1-A/cancel", json!({})).await;
    assert_eq!(status, 409);
    let (status, e) = s.post("/api/v1/orders/F-1/cancel", json!({"reason": "changed mind"})).await;
    assert_eq!((status, e["message"].as_str()), (409, Some("Order is already in custody.")));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn add_parcel_needs_products_and_unused_references() {
    let sandbox = common::start(common::config()).await;
    let s = Session::open(&sandbox, 0).await;
    let (_, created) = s.post("/api/v1/orders", sdk_order("A-1", "A-1-1", "A-1-M")).await;
    let parcel = json!({"item_id": "A-1-2", "merchant_tracking": "A-1-M2", "weight_grams": 300, "products": [{"name": "Cap"}]});
    let (status, r) = s.post("/api/v1/orders/A-1/parcels", parcel.clone()).await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["data"]["order_id"], created["data"]["order_id"]);
    assert_eq!(r["data"]["item"]["item_id"], "A-1-2");
    let new_id = r["data"]["item"]["parcel_id"].as_str().unwrap().to_owned();
    assert_ne!(Value::from(new_id.as_str()), created["data"]["items"][0]["parcel_id"]);
    assert_eq!(r["data"]["item"]["status"], "waiting_for_arrival");
    // The replayed create now lists both parcels.
    let (_, replay) = s.post("/api/v1/orders", sdk_order("A-1", "x", "y")).await;
    assert_eq!(replay["data"]["items"].as_array().unwrap().len(), 2);
    let (status, e) = s.post("/api/v1/orders/A-1/parcels", parcel).await;
    assert_eq!(status, 422);
    assert_eq!(e["errors"]["item_id"], json!(["The item id has already been taken."]));
    let (status, e) = s.post("/api/v1/orders/A-1/parcels", json!({"item_id": "A-1-3"})).await;
    assert_eq!((status, e["errors"]["products"].is_array()), (422, true));
    let (status, _) =
        s.post("/api/v1/orders/NOPE/parcels", json!({"products": [{"name": "x"}]})).await;
    assert_eq!(status, 404);
    s.post("/api/v1/orders/A-1/cancel", json!({})).await;
    let (status, e) =
        s.post("/api/v1/orders/A-1/parcels", json!({"products": [{"name": "x"}]})).await;
    assert_eq!((status, e["message"].as_str()), (409, Some("Order is already cancelled.")));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn cancelling_the_last_active_parcel_cancels_the_order() {
    let sandbox = common::start(common::config()).await;
    let s = Session::open(&sandbox, 0).await;
    s.post("/api/v1/orders", two_parcels("C-1")).await;
    let (status, r) =
        s.post("/api/v1/orders/C-1/parcels/C-1-A/cancel", json!({"reason": "damaged"})).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["data"]["item"]["status"], "cancelled");
    assert_eq!(r["data"]["order_status"], "waiting_for_arrival");
    let (status, _) = s.post("/api/v1/orders/C-1/parcels/C-1-A/cancel", json!({})).await;
    assert_eq!(status, 409, "already cancelled");
    let (_, r) = s.post("/api/v1/orders/C-1/parcels/C-1-B/cancel", json!({})).await;
    assert_eq!(r["data"]["order_status"], "cancelled");
    let (_, pool) =
        s.send(reqwest::Method::GET, "/api/v1/partner/changes?external_parent_id=C-1", None).await;
    let statuses: Vec<&str> =
        pool["data"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["waiting_for_arrival", "cancelled", "cancelled", "cancelled"]);
    let (status, _) = s.post("/api/v1/orders/C-1/cancel", json!({})).await;
    assert_eq!(status, 409);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn split_moves_a_parcel_onto_a_new_order_named_by_the_partner() {
    let sandbox = common::start(common::config()).await;
    let s = Session::open(&sandbox, 0).await;
    let (_, created) = s.post("/api/v1/orders", two_parcels("S-1")).await;
    let moved_id = created["data"]["items"][1]["parcel_id"].clone();
    let (status, e) =
        s.post("/api/v1/orders/S-1/parcels/S-1-B/split", json!({"new_order_id": "S-1"})).await;
    assert_eq!((status, e["errors"]["new_order_id"].is_array()), (422, true));
    let (status, r) = s
        .post(
            "/api/v1/orders/S-1/parcels/S-1-B/split",
            json!({"new_order_id": "S-1-B", "reason": "ships later"}),
        )
        .await;
    assert_eq!(status, 201, "{r}");
    let data = &r["data"];
    assert_eq!(data["new_order_id"], "S-1-B");
    assert_eq!(data["source_order_id"], "S-1");
    assert_ne!(data["order_id"], created["data"]["order_id"]);
    assert_eq!(data["item"]["parcel_id"], moved_id, "the parcel keeps its tracking number");
    // Both orders now answer by their own references.
    let (_, new) = s.post("/api/v1/orders", sdk_order("S-1-B", "z", "z")).await;
    assert_eq!(new["data"]["items"].as_array().unwrap().len(), 1);
    let (_, old) = s.post("/api/v1/orders", sdk_order("S-1", "z", "z")).await;
    assert_eq!(old["data"]["items"].as_array().unwrap().len(), 1);
    let (status, e) =
        s.post("/api/v1/orders/S-1/parcels/S-1-A/split", json!({"new_order_id": "S-1-C"})).await;
    assert_eq!(
        (status, e["message"].as_str()),
        (409, Some("An order with a single parcel cannot be split."))
    );
    s.post("/api/v1/orders", two_parcels("S-2")).await;
    let (status, e) =
        s.post("/api/v1/orders/S-2/parcels/S-2-B/split", json!({"new_order_id": "S-1-B"})).await;
    assert_eq!(status, 422);
    assert_eq!(e["errors"]["new_order_id"], json!(["The new order id has already been taken."]));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn labels_are_pdfs_by_merchant_tracking_parcel_id_or_order_id() {
    let sandbox = common::start(common::config()).await;
    let s = Session::open(&sandbox, 0).await;
    let (_, created) = s.post("/api/v1/orders", two_parcels("LB-1")).await;
    let parcel = created["data"]["items"][0]["parcel_id"].as_str().unwrap().to_owned();
    let order = created["data"]["order_id"].as_str().unwrap().to_owned();
    for query in [
        "merchant_tracking=LB-1-MA".to_owned(),
        format!("parcel_id={parcel}"),
        format!("order_id={order}"),
    ] {
        let (status, ct, pdf) = s.label(&query).await;
        assert_eq!((status, ct.as_deref()), (200, Some("application/pdf")), "{query}");
        assert!(pdf.starts_with(b"%PDF-"), "{query}");
    }
    let (status, _, _) = s.label("merchant_tracking=UNKNOWN").await;
    assert_eq!(status, 404);
    let (status, _, _) = s.label("parcel_id=STM1&order_id=STM2").await;
    assert_eq!(status, 422);
    let (status, _, _) = s.label(&format!("order_id={parcel}")).await;
    assert_eq!(status, 404, "a parcel's number is not an order's");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn inbound_events_follow_the_legal_next_steps() {
    let sandbox = common::start(common::config()).await;
    let s = Session::open(&sandbox, 0).await;
    let (_, created) = s.post("/api/v1/orders", sdk_order("E-1", "E-1-1", "E-1-M")).await;
    let parcel = created["data"]["items"][0]["parcel_id"].as_str().unwrap().to_owned();
    // The SDK's rejection test: delivered before out for delivery → 422 error + hint.
    let (status, r) = s
        .post("/api/v1/partner/events", json!({"event_id": "evt-1", "type": "shipment.delivered", "tracking_number": parcel,
               "occurred_at": "2026-06-27T10:00:00Z", "data": {"recipient_name": "Jane", "note": "left at door"}}))
        .await;
    assert_eq!(status, 422);
    assert_eq!(r["result"], "rejected");
    assert!(r["error"].as_str().unwrap().contains("not a legal next step"), "{r}");
    assert!(r["hint"].as_str().unwrap().contains("shipment.out_for_delivery"), "{r}");
    // A legal step applies and shows in the pool.
    let event = json!({"event_id": "evt-2", "type": "parcel.dropoff_cancelled", "tracking_number": parcel, "data": {"reason": "customer_no_show"}});
    let (status, r) = s.post("/api/v1/partner/events", event.clone()).await;
    assert_eq!(
        (status, r),
        (200, json!({"result": "applied", "order_status": "dropoff_cancelled"}))
    );
    let (status, r) = s.post("/api/v1/partner/events", event).await;
    assert_eq!((status, r["result"].as_str()), (200, Some("duplicate")), "idempotent on event_id");
    let (_, pool) = s
        .send(
            reqwest::Method::GET,
            &format!("/api/v1/partner/changes?tracking_number={parcel}"),
            None,
        )
        .await;
    let rows = pool["data"].as_array().unwrap();
    assert_eq!(rows.last().unwrap()["status"], "dropoff_cancelled");
    assert_eq!(rows.last().unwrap()["previous_status"], "waiting_for_arrival");
    // Nothing follows a final status.
    let (status, r) = s
        .post(
            "/api/v1/partner/events",
            json!({"event_id": "evt-3", "type": "parcel.received", "tracking_number": parcel}),
        )
        .await;
    assert_eq!(status, 422);
    assert!(r["hint"].as_str().unwrap().contains("already dropoff_cancelled"), "{r}");
    // Field checks, by the type's contract.
    let (status, r) = s
        .post("/api/v1/partner/events", json!({"event_id": "evt-4", "type": "parcel.timeout", "tracking_number": parcel, "data": {"reason": "x"}}))
        .await;
    assert_eq!(status, 422);
    assert!(r["errors"]["data.reason"].is_array(), "{r}");
    let (_, r) = s
        .post(
            "/api/v1/partner/events",
            json!({"event_id": "evt-5", "type": "shipment.teleported", "tracking_number": parcel}),
        )
        .await;
    assert_eq!(r["errors"]["type"], json!(["The selected type is invalid."]));
    let (_, r) = s.post("/api/v1/partner/events", json!({"type": "parcel.timeout"})).await;
    assert!(r["errors"]["event_id"].is_array() && r["errors"]["tracking_number"].is_array(), "{r}");
    let (status, _) = s.post("/api/v1/partner/events", json!({"event_id": "evt-6", "type": "parcel.timeout", "tracking_number": "STM999999999"})).await;
    assert_eq!(status, 404);
    sandbox.shutdown().await;
}

/// The parcel's latest pool status.
async fn latest_status(s: &Session, parcel: &str) -> String {
    let path = format!("/api/v1/partner/changes?tracking_number={parcel}");
    let (_, pool) = s.send(reqwest::Method::GET, &path, None).await;
    let rows = pool["data"].as_array().expect("pool rows");
    rows.last().map_or_else(String::new, |r| r["status"].as_str().unwrap_or_default().to_owned())
}

/// Reports `kind` for `parcel`.
async fn report(s: &Session, id: &str, kind: &str, parcel: &str) -> (u16, Value) {
    let body = json!({"event_id": id, "type": kind, "tracking_number": parcel});
    s.post("/api/v1/partner/events", body).await
}

/// Reports each step of `chain` for `parcel` (which is at `start`), asserting where it goes;
/// in a longer chain the last step is tried first, out of order, and must be refused with a
/// hint.
async fn drive(s: &Session, n: usize, parcel: &str, start: &str, chain: &[(&str, &str)]) {
    if let [_, .., (last_kind, _)] = chain {
        let (status, r) = report(s, &format!("early-{n}"), last_kind, parcel).await;
        assert_eq!(status, 422, "{last_kind} straight from {start}: {r}");
        assert!(
            r["hint"].as_str().expect("hint").starts_with("Report it once the package is"),
            "{r}"
        );
        assert_eq!(latest_status(s, parcel).await, start, "a refused event moves nothing");
    }
    for (i, (kind, to)) in chain.iter().enumerate() {
        let (status, r) = report(s, &format!("ch-{n}-{i}"), kind, parcel).await;
        assert_eq!((status, r["order_status"].as_str()), (200, Some(*to)), "{kind}: {r}");
        assert_eq!(latest_status(s, parcel).await, *to, "{kind} is published at once");
    }
}

#[tokio::test]
async fn inbound_events_drive_a_parcel_through_every_legal_chain_to_its_end() {
    type Chain = (&'static str, &'static [(&'static str, &'static str)]);
    // The partner takes over at the hub: from then on only its events move the parcel.
    const CHAINS: [Chain; 4] = [
        (
            "ready_for_dispatch",
            &[
                ("shipment.accepted_by_carrier", "in_transit"),
                ("shipment.arrived_at_terminal", "arrived_at_terminal"),
                ("leg.received", "forwarded_to_destination"),
                ("shipment.out_for_delivery", "out_for_delivery"),
                ("shipment.delivery_failed", "delivery_failed"),
                ("leg.out_for_delivery", "out_for_delivery"),
                ("leg.delivered", "delivered"),
            ],
        ),
        (
            "ready_for_dispatch",
            &[
                ("shipment.accepted_by_carrier", "in_transit"),
                ("leg.received", "forwarded_to_destination"),
                ("parcel.received", "received_at_pudo"),
                ("parcel.accepted", "accepted_at_pudo"),
                ("parcel.timeout", "undelivered"),
                ("leg.returned", "returned"),
            ],
        ),
        ("received_at_hub", &[("parcel.parcel_racked_at_hub", "parcel_racked_at_hub")]),
        (
            "ready_for_dispatch",
            &[
                ("shipment.accepted_by_carrier", "in_transit"),
                ("shipment.arrived_at_terminal", "arrived_at_terminal"),
                ("customs.held", "customs_hold"),
            ],
        ),
    ];
    let sandbox = common::start(common::config()).await;
    let s = Session::open(&sandbox, 0).await;
    let mut parcels = Vec::new();
    for id in ["CH-1", "CH-2", "CH-3", "CH-4"] {
        let (status, created) =
            s.post("/api/v1/orders", sdk_order(id, &format!("{id}-1"), &format!("{id}-M"))).await;
        assert_eq!(status, 201, "{created}");
        parcels.push(created["data"]["items"][0]["parcel_id"].as_str().unwrap().to_owned());
    }
    // Walk the simulated clock a minute at a time; each parcel is driven the moment it
    // reaches its chain's start.
    let mut driven = [false; 4];
    let mut seen: [Vec<String>; 4] = Default::default();
    for _ in 0..(5 * 24 * 60) {
        for (n, (start, chain)) in CHAINS.iter().enumerate() {
            if driven[n] {
                continue;
            }
            let now = latest_status(&s, &parcels[n]).await;
            if now == *start {
                drive(&s, n, &parcels[n], start, chain).await;
                driven[n] = true;
            } else if seen[n].last() != Some(&now) {
                seen[n].push(now);
            }
        }
        if driven.iter().all(|d| *d) {
            break;
        }
        sandbox.advance(Duration::from_secs(60));
    }
    assert_eq!(driven, [true; 4], "some parcel never reached its chain's start: {seen:?}");
    // The clock no longer moves a driven parcel on its own, and final statuses accept nothing.
    sandbox.advance(Duration::from_secs(3 * 24 * 3600));
    for (n, (_, chain)) in CHAINS.iter().enumerate() {
        let (_, end) = chain[chain.len() - 1];
        assert_eq!(latest_status(&s, &parcels[n]).await, end, "parcel {n} stayed put");
    }
    for (n, end) in [(0, "delivered"), (1, "returned")] {
        let (status, r) =
            report(&s, &format!("after-{n}"), "shipment.out_for_delivery", &parcels[n]).await;
        assert_eq!(status, 422);
        assert!(r["hint"].as_str().unwrap().contains(&format!("already {end}")), "{r}");
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn every_route_enforces_its_scope_and_isolates_partners() {
    let mut config = common::config();
    config.partners.push(
        PartnerCredential::new("partner-c", "Partner C")
            .with_scopes(&["orders:create", "status:read"]),
    );
    let sandbox = common::start(config).await;
    let owner = Session::open(&sandbox, 0).await;
    let (_, created) = owner.post("/api/v1/orders", two_parcels("P-1")).await;
    let parcel = created["data"]["items"][0]["parcel_id"].as_str().unwrap().to_owned();
    let narrow = Session::open(&sandbox, 2).await;
    narrow.post("/api/v1/orders", two_parcels("P-2")).await;
    let cases: Vec<(u16, Value)> = vec![
        narrow.patch("/api/v1/orders/P-2/parcels/P-2-A", json!({"weight_grams": 1})).await,
        narrow.post("/api/v1/orders/P-2/parcels", json!({"products": [{"name": "x"}]})).await,
        narrow.post("/api/v1/orders/P-2/parcels/P-2-A/cancel", json!({})).await,
        narrow.post("/api/v1/orders/P-2/parcels/P-2-A/split", json!({"new_order_id": "P-3"})).await,
        narrow
            .post(
                "/api/v1/partner/events",
                json!({"event_id": "e", "type": "customs.held", "tracking_number": parcel}),
            )
            .await,
    ];
    for (i, (status, body)) in cases.iter().enumerate() {
        assert_eq!(*status, 403, "case {i}: {body}");
    }
    assert_eq!(narrow.label("merchant_tracking=P-2-MA").await.0, 403);
    // Another partner's references are unknown (404, never 403).
    let other = Session::open(&sandbox, 1).await;
    assert_eq!(
        other.patch("/api/v1/orders/P-1/parcels/P-1-A", json!({"weight_grams": 1})).await.0,
        404
    );
    assert_eq!(other.label("merchant_tracking=P-1-MA").await.0, 404);
    let (status, _) = other
        .post(
            "/api/v1/partner/events",
            json!({"event_id": "e", "type": "parcel.dropoff_cancelled", "tracking_number": parcel}),
        )
        .await;
    assert_eq!(status, 404);
    sandbox.shutdown().await;
}

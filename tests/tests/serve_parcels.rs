//! The parcel API of `waybill serve` against the embedded Starmile sandbox:
//! `PATCH /v1/orders/{ref}/parcels/{n}`, `POST /v1/orders/{ref}/parcels`,
//! `POST …/parcels/{n}/cancel`, `POST …/parcels/{n}/split` and
//! `GET /v1/parcels/{n}/label` (application/pdf), each with its error answers.

use serde_json::{Value, json};
use waybill_e2e::{AppOptions, IN_PROCESS_API_KEY, spawn_app};

const BIN: &str = env!("CARGO_BIN_EXE_waybill-e2e");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_parcel_api_updates_adds_cancels_splits_and_prints_labels() {
    let app = spawn_app(BIN, AppOptions::default()).await;
    let server = app.serve_in_process(false).await;
    let http = reqwest::Client::new();
    let send = |verb: reqwest::Method, path: &str, body: Option<Value>| {
        let mut r = http.request(verb, server.url(path)).bearer_auth(IN_PROCESS_API_KEY);
        if let Some(b) = body {
            r = r.json(&b);
        }
        async move {
            let r = r.send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let order = json!({"reference": "PO-API1", "service_id": 5, "items": [
        {"merchant_tracking_number": "API-1"}, {"merchant_tracking_number": "API-2"}]});
    let (status, _) = send(reqwest::Method::POST, "/v1/orders", Some(order)).await;
    assert_eq!(status, 201);

    // A whole order is cancelled over the API as with `waybill orders cancel`.
    let other = json!({"reference": "PO-API-X", "service_id": 5, "items": [{"merchant_tracking_number": "API-X1"}]});
    assert_eq!(send(reqwest::Method::POST, "/v1/orders", Some(other)).await.0, 201);
    let cancel = |path: &str| {
        send(reqwest::Method::POST, path, Some(json!({"reason": "customer changed their mind"})))
    };
    let (status, body) = cancel("/v1/orders/PO-API-X/cancel").await;
    assert_eq!((status, &body), (200, &json!({"reference": "PO-API-X", "cancelled": true})));
    let (status, body) = cancel("/v1/orders/PO-API-X/cancel").await;
    assert_eq!(status, 409, "already cancelled: {body}");
    let (status, body) = cancel("/v1/orders/PO-NEVER/cancel").await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = cancel("/v1/orders/PO-API-X/cancel?account=nope").await;
    assert_eq!(status, 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains("use one of:"), "{body}");
    let (status, body) =
        send(reqwest::Method::POST, "/v1/orders/PO-API-X/cancel", Some(json!({"why": 1}))).await;
    assert_eq!(status, 422, "unknown fields are refused: {body}");

    let change = json!({"weight_grams": 1500, "package_type": "fragile",
        "dimensions": {"length_mm": 300, "width_mm": 200, "height_mm": 100},
        "products": [{"name": "Running shoes", "hs_code": "640299", "declared_value": "59.99", "currency": "USD"}]});
    let (status, body) =
        send(reqwest::Method::PATCH, "/v1/orders/PO-API1/parcels/API-1", Some(change)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["merchant_tracking_number"], "API-1");
    let (status, body) =
        send(reqwest::Method::PATCH, "/v1/orders/PO-API1/parcels/API-1", Some(json!({}))).await;
    assert_eq!(status, 422, "nothing to change: {body}");
    let (status, body) = send(
        reqwest::Method::PATCH,
        "/v1/orders/PO-API1/parcels/API-1",
        Some(json!({"products": [{"name": "x", "hs_code": "64.02"}]})),
    )
    .await;
    assert_eq!(status, 422);
    assert!(body["fields"]["products[0].hs_code"].is_array(), "{body}");
    let (status, _) = send(
        reqwest::Method::PATCH,
        "/v1/orders/PO-NONE/parcels/API-1",
        Some(json!({"weight_grams": 5})),
    )
    .await;
    assert_eq!(status, 404);

    let add = json!({"merchant_tracking_number": "API-3", "products": [{"name": "Cap"}]});
    let (status, body) = send(reqwest::Method::POST, "/v1/orders/PO-API1/parcels", Some(add)).await;
    assert_eq!(status, 201, "{body}");
    assert!(body["tracking_number"].as_str().unwrap().starts_with("STM"));
    let (status, _) = send(
        reqwest::Method::POST,
        "/v1/orders/PO-API1/parcels",
        Some(json!({"merchant_tracking_number": "API-4", "products": []})),
    )
    .await;
    assert_eq!(status, 422, "products are required");

    let (status, body) = send(
        reqwest::Method::POST,
        "/v1/orders/PO-API1/parcels/API-2/split",
        Some(json!({"new_reference": "PO-API1-B"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        (body["reference"].as_str(), body["source"].as_str()),
        (Some("PO-API1-B"), Some("PO-API1"))
    );

    // The order book holds both changes at once, before any pool round.
    let numbers = |body: &serde_json::Value| -> Vec<String> {
        body["parcels"]
            .as_array()
            .expect("parcels")
            .iter()
            .map(|p| p["merchant_tracking_number"].as_str().expect("number").to_owned())
            .collect()
    };
    let (status, body) = send(reqwest::Method::GET, "/v1/orders/PO-API1", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(numbers(&body), ["API-1", "API-3"], "{body}");
    let (status, body) = send(reqwest::Method::GET, "/v1/orders/PO-API1-B", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(numbers(&body), ["API-2"], "{body}");

    let (status, body) = send(
        reqwest::Method::POST,
        "/v1/orders/PO-API1/parcels/API-3/cancel",
        Some(json!({"reason": "damaged"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["order_cancelled"], false);
    let (status, _) =
        send(reqwest::Method::POST, "/v1/orders/PO-API1/parcels/API-3/cancel", Some(json!({})))
            .await;
    assert_eq!(status, 409);

    let label = http
        .get(server.url("/v1/parcels/API-1/label"))
        .bearer_auth(IN_PROCESS_API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(label.status(), 200);
    assert_eq!(label.headers()["content-type"], "application/pdf");
    assert!(label.bytes().await.unwrap().starts_with(b"%PDF-"));
    let missing = http
        .get(server.url("/v1/parcels/NOPE/label"))
        .bearer_auth(IN_PROCESS_API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let unauth = http.get(server.url("/v1/parcels/API-1/label")).send().await.unwrap();
    assert_eq!(unauth.status(), 401);
}

//! The OpenAPI document `waybill serve` publishes at `/openapi.json`: it parses as OpenAPI 3
//! (with the `oas3` crate, which models 3.1), every `$ref` resolves, every documented `/v1`
//! path is really routed behind the API key, and it is byte-for-byte `docs/openapi.json`
//! (regenerate with `cargo xtask codegen`).

mod serve_support;

use std::collections::BTreeSet;

use serde_json::Value;
use serve_support::start;
use waybill_e2e::{AppOptions, spawn_app};

const BIN: &str = env!("CARGO_BIN_EXE_waybill-e2e");

fn refs(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => {
                        out.insert(r.clone());
                    }
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_document_is_valid_openapi_3_and_matches_docs() {
    let app = spawn_app(BIN, AppOptions::default()).await;
    let s = start(&app, &[("WAYBILL_SERVE__SYNC", "false")]).await;
    let served = s.http.get(s.url("/openapi.json")).send().await.unwrap();
    assert_eq!(served.status(), 200, "public, no key needed");
    assert_eq!(served.headers()["content-type"], "application/json");
    let text = served.text().await.unwrap();

    let spec = oas3::from_json(&text).expect("the document parses as OpenAPI 3");
    assert!(spec.openapi.starts_with("3."), "OpenAPI 3, got {}", spec.openapi);
    let version = spec.validate_version().expect("a supported OpenAPI version");
    assert_eq!(version.major, 3);
    let paths = spec.paths.as_ref().expect("paths");
    for path in [
        "/v1/orders",
        "/v1/orders/{reference}",
        "/v1/parcels/{number}/timeline",
        "/v1/track/{number}",
        "/v1/services",
        "/v1/rates",
        "/webhooks/{carrier}",
        "/healthz",
        "/readyz",
    ] {
        assert!(paths.contains_key(path), "{path} is documented");
    }
    let create = paths["/v1/orders"].post.as_ref().expect("POST /v1/orders");
    assert!(create.request_body.is_some());
    assert!(
        create.responses.as_ref().is_some_and(|r| r.contains_key("201") && r.contains_key("422"))
    );

    // Every reference points at a defined schema.
    let doc: Value = serde_json::from_str(&text).unwrap();
    let mut all = BTreeSet::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in &all {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected $ref {r}"));
        assert!(doc["components"]["schemas"][name].is_object(), "{r} resolves");
    }
    for code in
        ["unauthorized", "not_found", "validation_failed", "bad_signature", "payload_too_large"]
    {
        let codes = doc["components"]["schemas"]["ErrorCode"]["enum"].as_array().unwrap();
        assert!(codes.iter().any(|c| c == code), "error code {code} documented");
    }

    // Documented API paths are routed and guarded by the key.
    for path in paths.keys().filter(|p| p.starts_with("/v1/")) {
        let concrete = path.replace("{reference}", "PO-1").replace("{number}", "N-1");
        let r = s.http.get(s.url(&concrete)).send().await.unwrap();
        assert_eq!(r.status(), 401, "GET {concrete} without a key");
    }

    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json"))
            .expect("docs/openapi.json exists: run `cargo xtask codegen`");
    assert!(docs == text, "docs/openapi.json is stale: run `cargo xtask codegen`");
}

//! HTTP API conventions an integrator relies on, through an in-process server: JSON errors for
//! unknown `/v1` routes and wrong methods (never the HTML page or an empty body), and a
//! `Location` on 201.

use serde_json::{Value, json};
use waybill_e2e::{AppOptions, IN_PROCESS_API_KEY, spawn_app};

const BIN: &str = env!("CARGO_BIN_EXE_waybill-e2e");

async fn json_of(response: reqwest::Response) -> (u16, Value, reqwest::header::HeaderMap) {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}"));
    (status, body, headers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_and_wrong_methods_answer_json_and_201_has_a_location() {
    let app = spawn_app(BIN, AppOptions::default()).await;
    let server = app.serve_in_process(false).await;
    let http = reqwest::Client::new();

    for path in ["/v1/nothing-here", "/v1", "/v1/orders/PO-1/nothing"] {
        let r = http.get(server.url(path)).bearer_auth(IN_PROCESS_API_KEY).send().await.unwrap();
        let (status, body, headers) = json_of(r).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(body["code"], "not_found", "{path}: {body}");
        assert!(body["message"].as_str().unwrap().contains("/openapi.json"), "{body}");
        assert!(headers["content-type"].to_str().unwrap().starts_with("application/json"));
    }
    // Outside the API an unknown path is still the page's friendly HTML 404.
    let page = http.get(server.url("/nothing-here")).send().await.unwrap();
    assert_eq!(page.status(), 404);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));

    let wrong = http.delete(server.url("/v1/orders")).bearer_auth(IN_PROCESS_API_KEY).send();
    let (status, body, headers) = json_of(wrong.await.unwrap()).await;
    assert_eq!(status, 405, "{body}");
    assert_eq!(body["code"], "method_not_allowed");
    let allow = headers["allow"].to_str().unwrap();
    assert!(allow.contains("GET") && allow.contains("POST"), "Allow lists the methods: {allow}");
    assert!(body["message"].as_str().unwrap().contains("GET"), "{body}");

    let order = json!({"reference": "PO-LOC/1", "service_id": 5,
        "items": [{"merchant_tracking_number": "LOC-1"}]});
    let post = || http.post(server.url("/v1/orders")).bearer_auth(IN_PROCESS_API_KEY).json(&order);
    let created = post().send().await.unwrap();
    assert_eq!(created.status(), 201);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, "/v1/orders/PO-LOC%2F1", "one escaped path segment");
    let fetched = http.get(server.url(&location)).bearer_auth(IN_PROCESS_API_KEY).send();
    let (status, body, _) = json_of(fetched.await.unwrap()).await;
    assert_eq!((status, body["reference"].as_str()), (200, Some("PO-LOC/1")), "{body}");
    let replay = post().send().await.unwrap();
    assert_eq!(replay.status(), 200, "a replay creates nothing, so it has no Location");
    assert!(replay.headers().get("location").is_none());

    // Body errors name the field; a non-JSON body names the media type to send.
    let bad = |body: &'static str, content_type: &'static str| {
        http.post(server.url("/v1/orders"))
            .bearer_auth(IN_PROCESS_API_KEY)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let typed = bad(
        r#"{"reference":"PO-T","service_id":5,"items":[{"merchant_tracking_number":"T-1","weight_grams":"heavy"}]}"#,
        "application/json",
    );
    let (status, body, _) = json_of(typed.await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("validation_failed")), "{body}");
    let problem = body["fields"]["items[0].weight_grams"][0].as_str().unwrap_or_default();
    assert!(problem.contains("invalid type"), "the field and serde's reason: {body}");
    let (status, body, _) =
        json_of(bad("{\"reference\": ", "application/json").await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_request")), "{body}");
    assert!(body["fields"]["body"][0].as_str().unwrap().contains("line 1"), "{body}");
    let (status, body, _) = json_of(bad("reference=PO-1", "text/plain").await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (415, Some("unsupported_media_type")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("application/json"), "{body}");
    server.stop().await;
}

/// `/docs` is Swagger UI with vendored assets: nothing it loads leaves this server, and it has
/// its own Content-Security-Policy (scripts from here only); every other route keeps the strict
/// one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_page_is_self_contained() {
    let app = spawn_app(BIN, AppOptions::default()).await;
    let server = app.serve_in_process(false).await;
    let http =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = http.get(server.url("/docs")).send().await.unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let page = http.get(server.url("/docs/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert_eq!(csp, waybill_server::router::DOCS_CONTENT_SECURITY_POLICY);
    assert!(csp.contains("script-src 'self'") && !csp.contains("http"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(!html.contains("http://") && !html.contains("https://"), "external assets: {html}");
    let init = http.get(server.url("/docs/swagger-initializer.js")).send().await.unwrap();
    let init = init.text().await.unwrap();
    assert!(
        init.contains("/openapi.json") && init.contains("\"validatorUrl\": \"none\""),
        "{init}"
    );
    let bundle = http.get(server.url("/docs/swagger-ui-bundle.js")).send().await.unwrap();
    assert_eq!(bundle.status(), 200);
    assert!(bundle.bytes().await.unwrap().len() > 100_000, "the vendored bundle is served");
    let strict = http.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(
        strict.headers()["content-security-policy"],
        waybill_server::router::CONTENT_SECURITY_POLICY
    );
}

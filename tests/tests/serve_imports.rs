//! `POST /v1/imports`: a CSV or JSONL body imported as `waybill orders import` does, answering
//! the same report; a re-posted file skips what is done.

use serde_json::{Value, json};
use waybill_e2e::{AppOptions, IN_PROCESS_API_KEY, spawn_app};

const BIN: &str = env!("CARGO_BIN_EXE_waybill-e2e");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_over_http_answers_the_cli_report_and_resumes() {
    let app = spawn_app(BIN, AppOptions::default()).await;
    let server = app.serve_in_process(false).await;
    let http = reqwest::Client::new();
    let post = |media: &'static str, body: &'static str| {
        http.post(server.url("/v1/imports"))
            .bearer_auth(IN_PROCESS_API_KEY)
            .header("content-type", media)
            .body(body)
            .send()
    };
    let csv = "reference,service_id,merchant_tracking_number,weight\n\
               PO-H1,5,H1-A,1kg\nPO-H1,5,H1-B,2kg\nPO-H2,5,H2-A,500g\nPO-H3,5,H3-A,heavy\n";
    let r = post("text/csv", csv).await.unwrap();
    assert_eq!(r.status(), 200);
    let report: Value = r.json().await.unwrap();
    assert_eq!(
        (report["rows"].as_u64(), report["created"].as_u64()),
        (Some(4), Some(2)),
        "{report}"
    );
    let bad = &report["bad_rows"][0];
    assert_eq!(bad["line"], 5, "{report}");
    assert!(bad["reason"].as_str().unwrap().contains("heavy"), "{report}");

    // The same file again: what was created is done; the bad order is still refused.
    let again: Value = post("text/csv", csv).await.unwrap().json().await.unwrap();
    assert_eq!(
        (again["created"].as_u64(), again["already_done"].as_u64()),
        (Some(0), Some(2)),
        "{again}"
    );

    let order: Value = http
        .get(server.url("/v1/orders/PO-H1"))
        .bearer_auth(IN_PROCESS_API_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(order["parcels"].as_array().map(Vec::len), Some(2), "{order}");

    let jsonl =
        "{\"reference\":\"PO-H4\",\"service_id\":5,\"merchant_tracking_number\":\"H4-A\"}\n";
    let r: Value = post("application/x-ndjson", jsonl).await.unwrap().json().await.unwrap();
    assert_eq!(r["created"], 1, "{r}");

    let wrong = post("application/json", "{}").await.unwrap();
    assert_eq!(wrong.status(), 415);
    let misspelt = post(
        "text/csv",
        "reference,service_id,merchant_tracking_number,weigth\nPO-H5,5,H5-A,1kg\n",
    )
    .await
    .unwrap();
    assert_eq!(misspelt.status(), 400);
    let body: Value = misspelt.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("weigth"), "{body}");
    assert_eq!(body["code"], json!("invalid_request"));
    let anonymous = http
        .post(server.url("/v1/imports"))
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

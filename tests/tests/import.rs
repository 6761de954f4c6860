//! Bulk import end to end: 1,000 CSV rows with 10 malformed ones against the Starmile sandbox;
//! a second run creates nothing. Then the integrity rules through the real binary and API: an
//! order with a bad row is not created until its fixed rows are imported (through the rejects
//! file), unknown columns are refused naming the closest known one, and a reference reused
//! for a different order is refused by `orders create` (exit 2), the import (a refused row)
//! and `POST /v1/orders` (409 `idempotency_conflict`) without changing anything.

use waybill_e2e::{AppOptions, IN_PROCESS_API_KEY, spawn_app};

const BIN: &str = env!("CARGO_BIN_EXE_waybill-e2e");

fn csv_with_bad_rows() -> (String, Vec<u64>) {
    let mut csv = String::from("reference,service_id,merchant_tracking_number,weight\n");
    let mut bad_lines = Vec::new();
    for i in 1..=1000u64 {
        let line = i + 1; // the header is line 1
        let row = match i % 100 {
            // Ten malformed rows, each a different mistake.
            17 => match i / 100 {
                0 => format!(",5,M{i:04},\n"),
                1 => format!("PO-{i:04},five,M{i:04},\n"),
                2 => format!("PO-{i:04},5,M {i:04},\n"),
                3 => format!("PO-{i:04},5,,\n"),
                4 => format!("PO-{i:04},5,M{i:04},heavy\n"),
                5 => format!("PO-{i:04},0,M{i:04},\n"),
                6 => format!("PO-{i:04},5,M{i:04},0g\n"),
                7 => format!("PO-{i:04},,M{i:04},\n"),
                8 => format!("PO-{i:04},5,{},\n", "X".repeat(80)),
                _ => format!("PO-{i:04},-3,M{i:04},\n"),
            },
            _ => format!("PO-{i:04},5,M{i:04},{}g\n", 200 + i),
        };
        if i % 100 == 17 {
            bad_lines.push(line);
        }
        csv.push_str(&row);
    }
    (csv, bad_lines)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_creates_good_rows_reports_bad_ones_and_is_idempotent() {
    let app = spawn_app(BIN, AppOptions::default()).await;
    let (csv, bad_lines) = csv_with_bad_rows();
    assert_eq!(bad_lines.len(), 10);
    let file = app.write_file("orders.csv", &csv);
    let file = file.to_str().unwrap();

    let first = app.run(&["orders", "import", file, "--concurrency", "16"]).await;
    assert_eq!(first.code, 4, "partial success exit code\n{}\n{}", first.stdout, first.stderr);
    assert!(first.stdout.contains("1000 rows: 990 orders created"), "{}", first.stdout);
    for line in &bad_lines {
        assert!(
            first.stdout.contains(&format!("line {line}:")),
            "line {line} not reported:\n{}",
            first.stdout
        );
    }
    assert_eq!(app.starmile.counters().orders_created, 990);

    let second = app.run(&["orders", "import", file, "--json"]).await;
    assert_eq!(second.code, 4, "{}", second.stderr);
    let report: serde_json::Value = serde_json::from_str(&second.stdout).unwrap();
    assert_eq!(report["created"], 0, "{report}");
    assert_eq!(report["already_done"], 990, "{report}");
    assert_eq!(report["bad_rows"].as_array().unwrap().len(), 10);
    assert_eq!(report["refused"].as_array().unwrap().len(), 0);
    assert_eq!(report["not_yet"].as_array().unwrap().len(), 0);
    assert_eq!(app.starmile.counters().orders_created, 990, "the re-run created nothing");

    let listed = app.run(&["orders", "list", "--limit", "1000", "--json"]).await;
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let orders: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(orders.as_array().unwrap().len(), 990);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_row_holds_its_whole_order_back_until_the_fixed_rejects_file_is_imported() {
    let app = spawn_app(BIN, AppOptions::default()).await;
    let file = app.write_file(
        "orders.csv",
        "reference,service_id,merchant_tracking_number,weight\n\
         PO-1,5,TRK-1,1kg\n\
         PO-1,5,TRK-2,heavy\n\
         PO-2,5,TRK-3,\n",
    );
    let rejects = app.path().join("rejects.csv");
    let (file, rejects_arg) = (file.to_str().unwrap(), rejects.to_str().unwrap());
    let first = app.run(&["orders", "import", file, "--rejects", rejects_arg]).await;
    assert_eq!(first.code, 4, "{}\n{}", first.stdout, first.stderr);
    assert!(
        first.stdout.contains("line 2: order PO-1 is not created: its row on line 3 is invalid"),
        "{}",
        first.stdout
    );
    assert!(first.stderr.contains("rejects.csv"), "{}", first.stderr);
    assert_eq!(app.starmile.counters().orders_created, 1, "only PO-2");
    let show = app.run(&["orders", "show", "PO-1"]).await;
    assert_eq!(show.code, 3, "PO-1 was not created partially: {}", show.stdout);

    let written = std::fs::read_to_string(&rejects).unwrap();
    assert_eq!(written.lines().count(), 3, "{written}");
    std::fs::write(&rejects, written.replace("TRK-2,heavy", "TRK-2,2kg")).unwrap();
    let fixed = app.run(&["orders", "import", rejects_arg]).await;
    assert_eq!(fixed.code, 0, "{}\n{}", fixed.stdout, fixed.stderr);
    let show = app.run(&["orders", "show", "PO-1", "--json"]).await;
    let order: serde_json::Value = serde_json::from_str(&show.stdout).unwrap();
    assert_eq!(order["parcels"].as_array().unwrap().len(), 2, "created whole: {order}");
    assert_eq!(app.starmile.counters().orders_created, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_columns_bom_and_bad_utf8_lines() {
    let app = spawn_app(BIN, AppOptions::default()).await;
    let file = app.write_file(
        "typo.csv",
        "reference,service_id,merchant_tracking_number,weigth\nPO-1,5,TRK-1,1kg\n",
    );
    let run = app.run(&["orders", "import", file.to_str().unwrap()]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("unknown column \"weigth\" (did you mean \"weight\"?)"),
        "{}",
        run.stderr
    );
    assert_eq!(app.starmile.counters().orders_created, 0, "nothing imported without the weight");

    let mut jsonl = b"\xEF\xBB\xBF{\"reference\":\"PO-1\",\"service_id\":5,\"merchant_tracking_number\":\"TRK-1\"}\n".to_vec();
    jsonl.extend_from_slice(
        b"{\"reference\":\"PO-2\",\"service_id\":5,\"merchant_tracking_number\":\"TRK-\xff\"}\n",
    );
    jsonl.extend_from_slice(
        b"{\"reference\":\"PO-3\",\"service_id\":5,\"merchant_tracking_number\":\"TRK-3\"}\n",
    );
    let path = app.path().join("orders.jsonl");
    std::fs::write(&path, jsonl).unwrap();
    let run = app.run(&["orders", "import", path.to_str().unwrap()]).await;
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("line 2: line 2 is not valid UTF-8"), "{}", run.stdout);
    assert_eq!(app.starmile.counters().orders_created, 2, "the BOM line and line 3 are imported");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_reference_with_a_different_order_is_refused_everywhere_and_changes_nothing() {
    let app = spawn_app(BIN, AppOptions::default()).await;
    let first = app
        .run(&["orders", "create", "--reference", "PO-1", "--service", "5", "--item", "A"])
        .await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    let same = app
        .run(&["orders", "create", "--reference", "PO-1", "--service", "5", "--item", "A"])
        .await;
    assert_eq!(same.code, 0, "{}", same.stderr);
    assert!(same.stdout.contains("already existed (replay)"), "{}", same.stdout);

    // The replay: another item via another service.
    let other = app
        .run(&["orders", "create", "--reference", "PO-1", "--service", "7", "--item", "B"])
        .await;
    assert_eq!(other.code, 2, "{}\n{}", other.stdout, other.stderr);
    assert!(
        other.stderr.contains("order PO-1 was created with item A via service 5; this request has item B via service 7 — use a new reference"),
        "{}",
        other.stderr
    );
    let requests = app.starmile.counters().requests_on("/api/v1/orders");
    assert_eq!(requests, 2, "the conflicting replay was never sent");

    // Whitespace around a reference is refused at parse time (no phantom order).
    let padded = app
        .run(&["orders", "create", "--reference", " PO-1 ", "--service", "5", "--item", "A"])
        .await;
    assert_eq!(padded.code, 2);
    assert!(
        padded.stderr.contains("remove the leading or trailing whitespace"),
        "{}",
        padded.stderr
    );

    // The import: a refused row, exit 4.
    let file = app.write_file("o.csv", "reference,service_id,merchant_tracking_number\nPO-1,5,B\n");
    let run = app.run(&["orders", "import", file.to_str().unwrap()]).await;
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("line 2: refused: order PO-1 was created with item A via service 5; this request has item B via service 5"), "{}", run.stdout);

    // The API: 409 idempotency_conflict with the differences as fields; 200 for a true replay.
    let server = app.serve_in_process(false).await;
    let http = reqwest::Client::new();
    let post = |body: serde_json::Value| {
        http.post(server.url("/v1/orders")).bearer_auth(IN_PROCESS_API_KEY).json(&body).send()
    };
    let conflict = post(serde_json::json!({"reference": "PO-1", "service_id": 7, "items": [{"merchant_tracking_number": "B"}]})).await.unwrap();
    assert_eq!(conflict.status(), 409);
    let body: serde_json::Value = conflict.json().await.unwrap();
    assert_eq!(body["code"], "idempotency_conflict", "{body}");
    assert!(body["message"].as_str().unwrap().contains("item A via service 5"), "{body}");
    assert!(
        body["fields"]["service_id"].is_array() && body["fields"]["items"].is_array(),
        "{body}"
    );
    let replay = post(serde_json::json!({"reference": "PO-1", "service_id": 5, "items": [{"merchant_tracking_number": "A"}]})).await.unwrap();
    assert_eq!(replay.status(), 200);
    let body: serde_json::Value = replay.json().await.unwrap();
    assert_eq!(body["duplicate"], true, "{body}");
    let padded = post(serde_json::json!({"reference": " PO-1 ", "service_id": 5, "items": [{"merchant_tracking_number": "A"}]})).await.unwrap();
    assert_eq!(padded.status(), 422);
    let body: serde_json::Value = padded.json().await.unwrap();
    assert!(
        body["fields"]["reference"][0]
            .as_str()
            .unwrap()
            .contains("remove the leading or trailing whitespace"),
        "{body}"
    );
    server.stop().await;

    let show = app.run(&["orders", "show", "PO-1", "--json"]).await;
    let order: serde_json::Value = serde_json::from_str(&show.stdout).unwrap();
    let parcels: Vec<&str> = order["parcels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["merchant_tracking_number"].as_str().unwrap())
        .collect();
    assert_eq!(parcels, ["A"], "B was never sent and is not stored: {order}");
    assert_eq!(order["service_id"], 5, "{order}");
    assert_eq!(app.starmile.counters().orders_created, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_longer_than_the_retry_budget_is_not_yet_exit_75_and_the_re_run_finishes() {
    let app = spawn_app(BIN, AppOptions::default()).await;
    let file = app.write_file(
        "orders.csv",
        "reference,service_id,merchant_tracking_number\nPO-1,5,TRK-1\nPO-2,5,TRK-2\n",
    );
    let file = file.to_str().unwrap();
    app.starmile.set_faults(waybill_starmile::sandbox::Faults {
        rate_503: 1.0,
        ..waybill_starmile::sandbox::Faults::default()
    });
    let down = app.run(&["orders", "import", file, "--retry-for", "1"]).await;
    assert_eq!(down.code, 75, "{}\n{}", down.stdout, down.stderr);
    assert!(down.stdout.contains("0 refused, 2 not yet, 0 bad rows"), "{}", down.stdout);
    assert!(down.stdout.contains("line 2: not yet: not created yet after"), "{}", down.stdout);
    assert!(
        down.stderr.contains("nothing needs fixing, run the same command again"),
        "{}",
        down.stderr
    );
    app.starmile.set_faults(waybill_starmile::sandbox::Faults::default());
    let up = app.run(&["orders", "import", file]).await;
    assert_eq!(up.code, 0, "{}\n{}", up.stdout, up.stderr);
    assert!(up.stdout.contains("2 orders created"), "{}", up.stdout);
    assert_eq!(app.starmile.counters().orders_created, 2);
}

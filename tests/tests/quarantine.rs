//! One undecodable status-pool row never stops sync: the sandbox serves the row at cursor 1
//! with an empty `occurred_at` (as one real Starmile row was); `waybill sync` exits 0, stores
//! every other row, keeps that one raw in quarantine and lists it; `serve` stays ready and
//! reports it in `/readyz` and `/metrics`.

use std::time::{Duration, Instant};

use serde_json::Value;
use waybill_e2e::{AppOptions, TestApp, spawn_app};
use waybill_starmile::sandbox as sm;
use waybill_store::{FeedSink, TimelineReader};

const BIN: &str = env!("CARGO_BIN_EXE_waybill-e2e");

/// Three preloaded orders whose pool row at cursor 1 cannot be decoded.
async fn app_with_a_bad_first_row() -> TestApp {
    let mut options = AppOptions::default();
    options.starmile =
        sm::SandboxConfig { preload_orders: 3, undecodable_rows: [1].into(), ..options.starmile };
    spawn_app(BIN, options).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_goes_past_an_undecodable_row_keeps_it_raw_and_lists_it() {
    let app = app_with_a_bad_first_row().await;
    let total = app.starmile.counters().pool_rows;
    assert!(total > 3, "the sandbox serves rows: {total}");

    let run = app.run(&["sync", "--once"]).await;
    assert_eq!(run.code, 0, "sync exits 0: {run:?}");
    assert!(run.stdout.contains("1 pool row(s) could not be decoded"), "{run:?}");
    assert!(run.stdout.contains("waybill quarantine list"), "says how to see it: {run:?}");

    let store = app.store().await;
    let counts = store.counts().await.unwrap();
    assert_eq!(counts.pool_rows, total - 1, "every other row is stored");
    assert_eq!(counts.quarantined, 1);
    assert_eq!(store.cursor("main").await.unwrap().0, total, "the cursor moved past the row");
    store.close().await;

    // Listed for people: account, cursor, the error, the start of the raw row.
    let list = app.run(&["quarantine", "list"]).await;
    assert_eq!(list.code, 0, "{list:?}");
    for needle in
        ["ACCOUNT", "CURSOR", "main", "occurred_at", "\"cursor\":1", "1 of 1 row(s) shown"]
    {
        assert!(list.stdout.contains(needle), "{needle} in {}", list.stdout);
    }
    // And for machines: the whole raw row, exactly as the sandbox served it.
    let json = app.run(&["quarantine", "list", "--json"]).await;
    assert_eq!(json.code, 0, "{json:?}");
    let rows: Value = serde_json::from_str(&json.stdout).unwrap();
    let [row] = rows.as_array().unwrap().as_slice() else { panic!("one row: {rows}") };
    assert_eq!((row["account"].as_str(), row["cursor"].as_u64()), (Some("main"), Some(1)));
    let raw: Value = serde_json::from_str(row["raw"].as_str().unwrap()).unwrap();
    assert_eq!((raw["cursor"].as_u64(), raw["occurred_at"].as_str()), (Some(1), Some("")));
    assert!(row["error"].as_str().unwrap().contains("cursor 1"), "{row}");

    // `store status` counts it.
    let status = app.run(&["store", "status", "--json"]).await;
    let status: Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(status["counts"]["quarantined"], 1, "{status}");
    let human = app.run(&["store", "status"]).await;
    assert!(human.stdout.contains("1 rows in quarantine"), "{human:?}");

    // Running again from the stored cursor adds nothing; replaying the row (a fresh store
    // cursor is not needed: the key is the row's text) would not double it either.
    let again = app.run(&["sync", "--once"]).await;
    assert_eq!(again.code, 0, "{again:?}");
    let store = app.store().await;
    assert_eq!(store.counts().await.unwrap().quarantined, 1);
    store.close().await;

    // A limit outside 1–1000 is refused, naming the flag.
    let bad = app.run(&["quarantine", "list", "--limit", "0"]).await;
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("--limit"), "{bad:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_stays_ready_and_reports_the_quarantined_row() {
    let app = app_with_a_bad_first_row().await;
    let total = app.starmile.counters().pool_rows;
    let server = app.serve_in_process(true).await;
    let http = reqwest::Client::new();

    // Background sync drains the pool past the bad row and keeps running.
    let deadline = Instant::now() + Duration::from_secs(30);
    let ready = loop {
        let r = http.get(server.url("/readyz?strict=sync")).send().await.unwrap();
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        let quarantine = body["components"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["name"] == "quarantine").cloned());
        if quarantine.as_ref().is_some_and(|q| q["count"] == 1) {
            assert_eq!(status, 200, "still ready, sync included: {body}");
            break body;
        }
        assert!(Instant::now() < deadline, "sync never quarantined the row: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(ready["ready"], true);
    assert_eq!(ready["sync"], "running", "{ready}");
    let q = ready["components"].as_array().unwrap().iter().find(|c| c["name"] == "quarantine");
    let q = q.unwrap();
    assert_eq!((q["ok"].as_bool(), q["required"].as_bool()), (Some(false), Some(false)), "{q}");
    let reason = q["reason"].as_str().unwrap();
    assert!(
        reason.contains("1 status-pool row") && reason.contains("waybill quarantine list"),
        "{reason}"
    );
    // The default probe too.
    assert_eq!(http.get(server.url("/readyz")).send().await.unwrap().status(), 200);

    let metrics = http.get(server.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("# TYPE waybill_quarantined_rows gauge"), "{metrics}");
    assert!(metrics.contains("waybill_quarantined_rows{account=\"main\"} 1"), "{metrics}");
    let cursor = format!("waybill_sync_cursor{{account=\"main\"}} {total}");
    assert!(metrics.contains(&cursor), "sync went past the row to {total}: {metrics}");
    server.stop().await;
}

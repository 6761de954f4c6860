//! Bulk import end to end: 1,000 CSV rows with 10 malformed ones against the Starmile sandbox;
//! a second run creates nothing.

use waybill_e2e::{AppOptions, spawn_app};

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
    assert_eq!(app.starmile.counters().orders_created, 990, "the re-run created nothing");

    let listed = app.run(&["orders", "list", "--limit", "1000", "--json"]).await;
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let orders: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(orders.as_array().unwrap().len(), 990);
}

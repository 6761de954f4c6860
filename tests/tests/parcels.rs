//! `waybill orders update-parcel|add-parcel|cancel-parcel|split` and `waybill label` against
//! the embedded Starmile sandbox: each command's effect, its JSON output, and a usage error
//! refused before anything is sent.

use waybill_e2e::{AppOptions, spawn_app};

const BIN: &str = env!("CARGO_BIN_EXE_waybill-e2e");

fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parcel_commands_change_the_order_at_starmile() {
    let app = spawn_app(BIN, AppOptions::default()).await;
    let run = app
        .run(&[
            "orders",
            "create",
            "--service",
            "5",
            "--reference",
            "PO-P1",
            "--item",
            "TRK-1",
            "--item",
            "TRK-2",
        ])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let run = app
        .run(&[
            "orders",
            "update-parcel",
            "PO-P1",
            "TRK-1",
            "--weight",
            "1.5kg",
            "--dimensions",
            "300x200x100",
            "--package-type",
            "fragile",
            "--product",
            "Running shoes;640299;59.99 USD;2",
            "--json",
        ])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let updated = json(&run.stdout);
    assert_eq!(updated["merchant_tracking_number"], "TRK-1");
    assert!(updated["tracking_number"].as_str().unwrap().starts_with("STM"));

    let run = app.run(&["orders", "update-parcel", "PO-P1", "TRK-1"]).await;
    assert_eq!(run.code, 2, "nothing to change is a usage error: {}", run.stderr);
    assert!(run.stderr.contains("changes nothing"), "{}", run.stderr);

    let run = app.run(&["orders", "add-parcel", "PO-P1", "TRK-3"]).await;
    assert_eq!(run.code, 2, "a parcel without products is refused locally: {}", run.stderr);
    let run = app
        .run(&["orders", "add-parcel", "PO-P1", "TRK-3", "--product", "Cap", "--weight", "200"])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("parcel TRK-3 added to order PO-P1"), "{}", run.stdout);

    let run = app.run(&["orders", "split", "PO-P1", "TRK-2", "PO-P1-B", "--json"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let split = json(&run.stdout);
    assert_eq!(split["reference"], "PO-P1-B");
    assert_eq!(split["source"], "PO-P1");

    // The store records the added parcel and the split at once, before any pool round.
    let parcels_of = |stdout: &str| -> Vec<String> {
        json(stdout)["parcels"]
            .as_array()
            .expect("parcels")
            .iter()
            .map(|p| p["merchant_tracking_number"].as_str().expect("number").to_owned())
            .collect()
    };
    let run = app.run(&["orders", "show", "PO-P1", "--json"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(parcels_of(&run.stdout), ["TRK-1", "TRK-3"], "{}", run.stdout);
    let run = app.run(&["orders", "show", "PO-P1-B", "--json"]).await;
    assert_eq!(run.code, 0, "the split-off order is stored: {}", run.stderr);
    assert_eq!(parcels_of(&run.stdout), ["TRK-2"], "{}", run.stdout);
    assert_eq!(json(&run.stdout)["tracking_number"], split["tracking_number"], "{}", run.stdout);

    let run = app.run(&["orders", "cancel-parcel", "PO-P1", "TRK-3", "--reason", "damaged"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("parcel TRK-3 of order PO-P1 cancelled"), "{}", run.stdout);
    let run = app.run(&["orders", "cancel-parcel", "PO-P1", "TRK-3"]).await;
    assert_eq!(
        run.code, 1,
        "already cancelled is Starmile's 409, a carrier failure: {}",
        run.stderr
    );
    assert!(run.stderr.contains("already cancelled"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn label_writes_pdfs_for_one_parcel_or_a_whole_order() {
    let app = spawn_app(BIN, AppOptions::default()).await;
    let run = app
        .run(&[
            "orders",
            "create",
            "--service",
            "5",
            "--reference",
            "PO-L1",
            "--item",
            "TRK-L1",
            "--item",
            "TRK-L2",
            "--json",
        ])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let order = json(&run.stdout);
    let file = app.path().join("label.pdf");
    let file_arg = file.display().to_string();
    let run = app.run(&["label", "TRK-L1", "-o", &file_arg]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(std::fs::read(&file).unwrap().starts_with(b"%PDF-"));

    let parcel = order["parcels"][1]["tracking_number"].as_str().unwrap().to_owned();
    let run = app.run(&["label", &parcel, "--parcel-id", "-o", &file_arg, "--json"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(json(&run.stdout)["labels"][0]["bytes"].as_u64().unwrap() > 500);

    // A parcel added later is in the order book at once, so `--all` covers it too.
    let run = app.run(&["orders", "add-parcel", "PO-L1", "TRK-L3", "--product", "Cap"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let dir = app.path().join("labels");
    let dir_arg = dir.display().to_string();
    let run = app.run(&["label", "PO-L1", "--all", "-o", &dir_arg]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    for name in ["TRK-L1.pdf", "TRK-L2.pdf", "TRK-L3.pdf"] {
        assert!(std::fs::read(dir.join(name)).unwrap().starts_with(b"%PDF-"), "{name}");
    }
    let run = app.run(&["label", "NOPE", "-o", &file_arg]).await;
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("not found") || run.stderr.contains("no such"), "{}", run.stderr);
}

//! `waybill demo` end to end: a small, fast run prints a merged timeline for every parcel and
//! exits 0; with `--json` stdout is exactly one JSON document; and the store it keeps with
//! `--db` is readable right after by the store-only commands, with no `waybill.toml` and no
//! secret.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_waybill-e2e");

/// The binary in `dir`, with nothing from the environment that could configure it.
fn waybill(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args).current_dir(dir).env_remove("WAYBILL_CONFIG");
    for (k, _) in std::env::vars() {
        if k.starts_with("WAYBILL_") {
            cmd.env_remove(k);
        }
    }
    cmd.output().expect("the binary runs")
}

#[test]
fn the_demo_prints_merged_timelines_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let out = waybill(dir.path(), &["demo", "--orders", "4", "--speed", "200000", "--json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}\n{}", stdout, String::from_utf8_lossy(&out.stderr));
    // stdout is exactly one JSON document (progress went to stderr): the API's timeline views.
    let timelines: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let timelines = timelines.as_array().unwrap();
    assert_eq!(timelines.len(), 6, "4 orders, two of them with 2 parcels");
    assert!(String::from_utf8_lossy(&out.stderr).contains("waybill demo"), "progress on stderr");
    for p in timelines {
        let events = p["events"].as_array().unwrap();
        let carriers: std::collections::BTreeSet<_> =
            events.iter().map(|e| e["carrier"].as_str().unwrap()).collect();
        assert_eq!(carriers.len(), 2, "both carriers merged for {}", p["merchant_tracking_number"]);
        assert!(!p["status"].as_str().unwrap().is_empty());
    }
}

#[test]
fn a_kept_demo_store_is_read_back_without_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let out =
        waybill(dir.path(), &["demo", "--orders", "2", "--speed", "200000", "--db", "demo.db"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("waybill timeline <number> --db demo.db"), "{stdout}");
    assert!(!dir.path().join("waybill.toml").exists());

    let list = waybill(dir.path(), &["orders", "list", "--db", "demo.db", "--json"]);
    assert!(list.status.success(), "{}", String::from_utf8_lossy(&list.stderr));
    let orders: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(orders.as_array().unwrap().len(), 2);
    assert_eq!(orders[0]["reference"], "DEMO-0002", "newest first");

    let show = waybill(dir.path(), &["orders", "show", "DEMO-0001", "--db", "demo.db"]);
    assert!(show.status.success(), "{}", String::from_utf8_lossy(&show.stderr));
    assert!(String::from_utf8_lossy(&show.stdout).contains("WB0001A"));

    let timeline = waybill(dir.path(), &["timeline", "WB0001A", "--db", "demo.db", "--json"]);
    assert!(timeline.status.success(), "{}", String::from_utf8_lossy(&timeline.stderr));
    let t: serde_json::Value = serde_json::from_slice(&timeline.stdout).unwrap();
    assert_eq!(t["merchant_tracking_number"], "WB0001A");
    assert!(!t["events"].as_array().unwrap().is_empty());

    // A command that needs a carrier says which setting is missing, as JSON with --json.
    let services = waybill(dir.path(), &["services", "--json"]);
    assert_eq!(services.status.code(), Some(2));
    let err: serde_json::Value = serde_json::from_slice(&services.stdout).unwrap();
    assert_eq!(err["error"]["code"], "config");
    let message = err["error"]["message"].as_str().unwrap();
    assert!(message.contains("[[starmile.accounts]]"), "{message}");
    assert!(message.contains("waybill.toml does not exist"), "{message}");

    // Not found: a stable code and exit 3.
    let missing = waybill(dir.path(), &["timeline", "NOPE", "--db", "demo.db", "--json"]);
    assert_eq!(missing.status.code(), Some(3));
    let err: serde_json::Value = serde_json::from_slice(&missing.stdout).unwrap();
    assert_eq!(err["error"]["code"], "not_found");
}

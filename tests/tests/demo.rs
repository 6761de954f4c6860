//! `waybill demo` end to end: a small, fast run prints a merged timeline for every parcel and
//! exits 0.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_waybill-e2e");

#[test]
fn the_demo_prints_merged_timelines_and_exits_zero() {
    let out = Command::new(BIN)
        .args(["demo", "--orders", "4", "--speed", "200000", "--json"])
        .env_remove("WAYBILL_CONFIG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}\n{}", stdout, String::from_utf8_lossy(&out.stderr));
    // The JSON document is the last thing printed: every parcel's merged timeline.
    let start = stdout.find("\n[").map_or(0, |i| i + 1);
    let timelines: serde_json::Value = serde_json::from_str(&stdout[start..]).unwrap();
    let timelines = timelines.as_array().unwrap();
    assert_eq!(timelines.len(), 6, "4 orders, two of them with 2 parcels");
    for p in timelines {
        let events = p["timeline"]["events"].as_array().unwrap();
        let carriers: std::collections::BTreeSet<_> =
            events.iter().map(|e| e["carrier"].as_str().unwrap()).collect();
        assert_eq!(
            carriers.len(),
            2,
            "both carriers merged for {}",
            p["parcel"]["merchant_tracking_number"]
        );
        let status = p["timeline"]["events"].as_array().unwrap().last().unwrap()["status"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(!status.is_empty());
    }
}

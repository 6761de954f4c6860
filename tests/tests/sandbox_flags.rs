//! `waybill sandbox`'s flags through the real binary: faults switched on from the command line
//! are injected and reported by each sandbox's `GET /_sandbox/counters`; preloaded orders and
//! an undecodable pool row are served; bad values are refused naming the flag.

use std::{process::Stdio, time::Duration};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

const BIN: &str = env!("CARGO_BIN_EXE_waybill-e2e");

/// A running `waybill sandbox --json`, killed on drop, and the document it printed.
struct Running {
    _child: tokio::process::Child,
    info: Value,
}

fn command(args: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(BIN);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("WAYBILL_")) {
        cmd.env_remove(k);
    }
    cmd.args(args);
    cmd
}

/// Starts the sandboxes on free ports with `flags` and reads the JSON document they print
/// before serving.
async fn start(flags: &[&str]) -> Running {
    let mut args = vec!["sandbox", "--json", "--starmile-port", "0", "--starshipit-port", "0"];
    args.extend_from_slice(flags);
    let mut child = command(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("binary starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut text = String::new();
    let info = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let line = lines.next_line().await.expect("stdout readable").expect("a document");
            text.push_str(&line);
            text.push('\n');
            if let Ok(v) = serde_json::from_str::<Value>(&text) {
                return v;
            }
        }
    })
    .await
    .expect("the sandbox printed its document");
    Running { _child: child, info }
}

async fn json(http: &reqwest::Client, url: &str) -> Value {
    http.get(url).send().await.expect("answer").json().await.expect("JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_from_the_command_line_are_injected_and_counted() {
    let sandbox = start(&[
        "--starmile-rate-429",
        "1",
        "--starmile-latency-ms",
        "5",
        "--starshipit-rate-500",
        "1",
        "--preload-orders",
        "2",
    ])
    .await;
    let http = reqwest::Client::new();
    let sm = &sandbox.info["starmile"];
    let base = sm["base_url"].as_str().unwrap();
    for _ in 0..3 {
        let r = http.get(format!("{base}/api/v1/services")).send().await.unwrap();
        assert_eq!(r.status(), 429);
        assert!(r.headers().contains_key("retry-after"));
    }
    let counters = json(&http, sm["counters_url"].as_str().unwrap()).await;
    assert_eq!(
        counters["requests"],
        serde_json::json!([{"route": "/api/v1/services", "status": 429, "count": 3}]),
        "{counters}"
    );
    assert_eq!(counters["faults"]["rate_429"], 1.0, "{counters}");
    assert_eq!(counters["faults"]["latency_ms"], 5, "{counters}");
    assert_eq!(counters["orders_held"], 2, "preloaded: {counters}");
    assert!(counters["pool_rows"].as_u64().unwrap() >= 2, "{counters}");

    let ss = &sandbox.info["starshipit"];
    let r = http
        .get(format!("{}/api/track?tracking_number=0000000000", ss["base_url"].as_str().unwrap()))
        .header("Ocp-Apim-Subscription-Key", ss["production_subscription_key"].as_str().unwrap())
        .header("StarShipIT-Api-Key", ss["api_key"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    let counters = json(&http, ss["counters_url"].as_str().unwrap()).await;
    assert_eq!(
        (counters["requests"].as_u64(), counters["faults_injected"].as_u64()),
        (Some(1), Some(1)),
        "{counters}"
    );
    assert_eq!(counters["faults"]["rate_500"], 1.0, "{counters}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pool_serves_the_undecodable_row_asked_for() {
    let sandbox = start(&["--preload-orders", "2", "--starmile-undecodable-row", "2"]).await;
    let sm = &sandbox.info["starmile"];
    let base = sm["base_url"].as_str().unwrap();
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("{base}/oauth/token"))
        .json(&serde_json::json!({
            "grant_type": "client_credentials",
            "client_id": sm["client_id"],
            "client_secret": sm["client_secret"],
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let page: Value = http
        .get(format!("{base}/api/v1/partner/changes?since=0&limit=5"))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rows = page["data"].as_array().unwrap();
    let times: Vec<_> =
        rows.iter().map(|r| r["occurred_at"].as_str().unwrap().is_empty()).collect();
    assert_eq!(&times[..3], [false, true, false], "only cursor 2 is broken: {page}");
    let counters = json(&http, sm["counters_url"].as_str().unwrap()).await;
    assert_eq!(counters["undecodable_rows"], serde_json::json!([2]), "{counters}");
}

#[tokio::test]
async fn bad_flag_values_are_refused_naming_the_flag() {
    let cases: &[(&[&str], &str)] = &[
        (&["--starmile-rate-429", "NaN"], "--starmile-rate-429"),
        (&["--starmile-rate-503", "1.5"], "--starmile-rate-503"),
        (&["--starmile-rate-502", "-0.1"], "--starmile-rate-502"),
        (&["--starmile-drop-rate", "inf"], "--starmile-drop-rate"),
        (&["--starmile-commit-then-timeout-rate", "2"], "--starmile-commit-then-timeout-rate"),
        (&["--starshipit-rate-500", "NaN"], "--starshipit-rate-500"),
        (&["--starmile-rate-429", "0.6", "--starmile-drop-rate", "0.5"], "add up to"),
        (&["--starmile-latency-ms", "70000"], "--starmile-latency-ms"),
        (&["--starmile-undecodable-row", "0"], "--starmile-undecodable-row"),
        (&["--preload-orders", "2000000"], "--preload-orders"),
        (&["--speed", "1e300"], "--speed 1e300"),
        (&["--speed", "0"], "--speed 0"),
    ];
    for (flags, named) in cases {
        let mut args = vec!["sandbox", "--starmile-port", "0", "--starshipit-port", "0"];
        args.extend_from_slice(flags);
        let out = command(&args).output().await.expect("binary runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {stderr}");
        assert!(stderr.contains(named), "{flags:?} names {named}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

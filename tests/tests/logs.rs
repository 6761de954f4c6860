//! `waybill serve`'s log: `RUST_LOG` (and its alias `WAYBILL_LOG`) choose what is logged, one
//! access line per request carries method, route, status, latency and request id, `--log-format
//! json` writes one object per line, and text written to a pipe carries no colour codes.

mod serve_support;

use std::{fs::File, process::Stdio};

use serde_json::Value;
use serve_support::start_with_stderr;
use waybill_e2e::{AppOptions, TestApp, spawn_app};

const BIN: &str = env!("CARGO_BIN_EXE_waybill-e2e");

/// Runs `serve` with `env`, sends one `/healthz` and one `/v1/orders` request with known request
/// ids, stops it, and returns everything it logged.
async fn serve_log(app: &TestApp, name: &str, env: &[(&str, &str)]) -> String {
    let path = app.path().join(name);
    let file = File::create(&path).expect("log file");
    let s = start_with_stderr(app, env, Stdio::from(file)).await;
    let health = s.http.get(s.url("/healthz")).header("x-request-id", "req-health-1");
    assert_eq!(health.send().await.expect("healthz").status(), 200);
    let orders = s.http.get(s.url("/v1/orders/PO-NOPE")).header("x-request-id", "req-orders-2");
    assert_eq!(orders.send().await.expect("orders").status(), 401);
    let (code, _) = s.terminate().await;
    assert_eq!(code, Some(0));
    std::fs::read_to_string(&path).expect("log readable")
}

const QUIET_DEFAULTS: [(&str, &str); 3] =
    [("WAYBILL_SERVE__SYNC", "false"), ("WAYBILL_LOG", ""), ("RUST_LOG", "")];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_access_lines_name_route_status_latency_and_request_id() {
    let app = spawn_app(BIN, AppOptions::default()).await;
    let mut env = QUIET_DEFAULTS.to_vec();
    env.push(("WAYBILL_LOG_FORMAT", "json"));
    let log = serve_log(&app, "json.log", &env).await;
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}")))
        .collect();
    let access = |id: &str| {
        lines
            .iter()
            .find(|l| l["request_id"] == id)
            .unwrap_or_else(|| panic!("no access line for {id} in:\n{log}"))
    };
    let health = access("req-health-1");
    assert_eq!(health["level"], "INFO");
    assert_eq!(health["method"], "GET");
    assert_eq!(health["route"], "/healthz");
    assert_eq!(health["status"], 200);
    assert!(health["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{health}");
    let orders = access("req-orders-2");
    assert_eq!(orders["status"], 401);
    assert_eq!(orders["route"], "/v1/orders/{reference}", "routes, not paths: {orders}");
    assert!(!log.contains("PO-NOPE"), "paths with references stay out of the log:\n{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_to_a_pipe_has_no_colour_and_rust_log_chooses_what_is_logged() {
    let app = spawn_app(BIN, AppOptions::default()).await;
    let log = serve_log(&app, "text.log", &QUIET_DEFAULTS).await;
    assert!(
        log.contains("request_id=\"req-health-1\"") || log.contains("request_id=req-health-1"),
        "{log}"
    );
    assert!(log.contains("/healthz"), "{log}");
    assert!(!log.contains('\u{1b}'), "no ANSI escapes when stderr is not a terminal:\n{log:?}");

    let mut env = QUIET_DEFAULTS.to_vec();
    env.push(("RUST_LOG", "warn"));
    let quiet = serve_log(&app, "warn.log", &env).await;
    assert!(!quiet.contains("req-health-1"), "RUST_LOG=warn leaves access lines out:\n{quiet}");

    let mut env = QUIET_DEFAULTS.to_vec();
    env.push(("WAYBILL_LOG", "waybill_server::access=info,warn"));
    let alias = serve_log(&app, "alias.log", &env).await;
    assert!(alias.contains("req-health-1"), "WAYBILL_LOG is still honoured:\n{alias}");

    let mut env = QUIET_DEFAULTS.to_vec();
    env.push(("RUST_LOG", "waybill=[[[nonsense"));
    let bad = serve_log(&app, "bad.log", &env).await;
    assert!(
        bad.contains("ignoring RUST_LOG"),
        "a bad filter is named, not silently dropped:\n{bad}"
    );
    assert!(bad.contains("req-health-1"), "and the default filter applies:\n{bad}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_starts_with_one_block_naming_store_accounts_sync_webhooks_and_urls() {
    let app = spawn_app(BIN, AppOptions::default()).await;
    // An outbound subscription whose URL path carries a token: only its host is printed.
    let mut config = std::fs::read_to_string(&app.config).expect("config");
    config.push_str(
        "\n[[outbound_webhooks]]\nname = \"erp\"\nurl = \"https://erp.example.com/hooks/path-token-123\"\n",
    );
    std::fs::write(&app.config, config).expect("config written");
    let mut env = QUIET_DEFAULTS.to_vec();
    env.push(("WAYBILL_OUTBOUND_WEBHOOK_ERP_SECRET", "outbound-secret-456"));
    let s = serve_support::start(&app, &env).await;
    let base = s.base.clone();
    let (code, rest) = s.terminate().await;
    assert_eq!(code, Some(0));
    let block: Vec<&str> = rest.lines().take_while(|l| l.starts_with("  ")).collect();
    let line = |label: &str| {
        block
            .iter()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("no {label} line in:\n{rest}"))
            .to_string()
    };
    assert!(line("store:").contains("sqlite at ") && line("store:").contains("schema "), "{rest}");
    assert!(line("starmile:").contains("(cursor 0)"), "{rest}");
    assert!(line("sync:").contains("off"), "sync is off in this test: {rest}");
    assert!(
        line("webhooks:").contains(&format!("signed, at {base}/webhooks/starshipit")),
        "{rest}"
    );
    assert!(line("page:").contains(&format!("{base}/track/<number>")), "{rest}");
    assert!(line("api:").contains(&format!("{base}/openapi.json")), "{rest}");
    assert!(line("metrics:").contains(&format!("{base}/readyz")), "{rest}");
    assert!(line("outbound:").contains("erp → https://erp.example.com ("), "{rest}");
    for secret in [
        serve_support::API_KEY,
        serve_support::OTHER_KEY,
        serve_support::WEBHOOK_SECRET,
        "outbound-secret-456",
        "path-token-123",
    ] {
        assert!(!rest.contains(secret), "a secret in the startup block:\n{rest}");
    }
}

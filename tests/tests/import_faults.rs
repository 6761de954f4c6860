//! Bulk import under faults, through the real `waybill orders import` against the Starmile
//! sandbox with about 20 % of requests failing in every way it can fail (429 with
//! `Retry-After`, 503, a gateway's HTML 502, a dropped connection, an order committed whose
//! answer never comes, added latency):
//! - one run ends with exactly the file's orders at the sandbox and in the store, no
//!   duplicate, nothing reported "not yet";
//! - the same import SIGKILLed at five random moments and resumed each time ends the same.
//!
//! Each test prints its figures (orders, faults by kind, retries, kills, run time).

use std::{
    collections::{BTreeMap, BTreeSet},
    process::Stdio,
    time::{Duration, Instant},
};

use sqlx::{Row, sqlite::SqliteConnectOptions};
use waybill_e2e::{AppOptions, TestApp, spawn_app};
use waybill_starmile::sandbox::Faults;

const BIN: &str = env!("CARGO_BIN_EXE_waybill-e2e");
const ORDERS: usize = 2_000;
const ROUTE: &str = "/api/v1/orders";

/// About 20 % of order requests fail, each kind about 4 %.
fn faults() -> Faults {
    Faults {
        rate_429: 0.04,
        rate_503: 0.04,
        rate_html_502: 0.04,
        drop_rate: 0.04,
        commit_then_timeout_rate: 0.04,
        latency: Duration::from_millis(2),
        retry_after: Duration::from_secs(1),
        hang: Duration::from_secs(5),
    }
}

/// The file: 2,000 orders, every fifth with two parcels. Returns it and each reference's
/// merchant tracking numbers.
fn orders_csv() -> (String, BTreeMap<String, BTreeSet<String>>) {
    let mut csv = String::from("reference,service_id,merchant_tracking_number,weight\n");
    let mut expected: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for i in 0..ORDERS {
        let reference = format!("F-{i:05}");
        let parcels = if i % 5 == 0 { 2 } else { 1 };
        for p in 0..parcels {
            let number = format!("FM{i:05}-{p}");
            csv.push_str(&format!("{reference},5,{number},{}g\n", 300 + i));
            expected.entry(reference.clone()).or_default().insert(number);
        }
    }
    (csv, expected)
}

async fn faulty_app() -> TestApp {
    let mut options = AppOptions::default();
    options.starmile.faults = faults();
    spawn_app(BIN, options).await
}

/// The import command every run uses: the attempt timeout is short so an order whose answer
/// never comes is retried (and recognised as a replay) quickly.
fn import_args(file: &str) -> Vec<&str> {
    vec!["orders", "import", file, "--concurrency", "32", "--attempt-timeout", "2", "--json"]
}

/// What the store holds: each reference's parcels, and the number of order rows.
async fn stored(app: &TestApp) -> (BTreeMap<String, BTreeSet<String>>, i64) {
    let store = app.store().await;
    let rows = sqlx::query(
        "SELECT reference, merchant_tracking_number FROM parcels WHERE account = 'main'",
    )
    .fetch_all(store.pool())
    .await
    .expect("parcels read");
    let mut parcels: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut count = 0;
    for row in rows {
        count += 1;
        parcels
            .entry(row.get("reference"))
            .or_default()
            .insert(row.get("merchant_tracking_number"));
    }
    let orders: i64 = sqlx::query("SELECT COUNT(*) AS n FROM orders")
        .fetch_one(store.pool())
        .await
        .expect("orders counted")
        .get("n");
    assert_eq!(count, parcels.values().map(BTreeSet::len).sum::<usize>(), "no parcel twice");
    (parcels, orders)
}

/// Orders journaled done so far (read-only, while an import runs).
async fn journaled(db: &std::path::Path) -> Option<i64> {
    let opts = SqliteConnectOptions::new().filename(db).read_only(true);
    let pool = sqlx::SqlitePool::connect_with(opts).await.ok()?;
    let n = sqlx::query("SELECT COUNT(*) AS n FROM import_journal WHERE outcome = 'done'")
        .fetch_one(&pool)
        .await
        .ok()?
        .get("n");
    pool.close().await;
    Some(n)
}

/// Checks the end state and prints the figures.
async fn check_and_report(
    app: &TestApp,
    expected: &BTreeMap<String, BTreeSet<String>>,
    what: &str,
    started: Instant,
    retries: &BTreeMap<String, u64>,
    kills: usize,
) {
    let counters = app.starmile.counters();
    assert_eq!(counters.orders_created, ORDERS as u64, "exactly the file's orders at the sandbox");
    assert_eq!(counters.orders_held, ORDERS as u64, "no order twice at the sandbox");
    let (parcels, orders) = stored(app).await;
    assert_eq!(orders, ORDERS as i64, "exactly the file's orders in the store");
    assert_eq!(&parcels, expected, "every order with exactly its parcels");
    let faults: Vec<(&str, u64)> = vec![
        ("429", counters.requests_to(ROUTE, 429)),
        ("503", counters.requests_to(ROUTE, 503)),
        ("html 502", counters.requests_to(ROUTE, 502)),
        ("dropped", counters.requests_to(ROUTE, 0)),
        (
            "replayed (200 duplicate: committed then timed out, or killed in flight)",
            counters.requests_to(ROUTE, 200),
        ),
    ];
    let requests = counters.requests_on(ROUTE);
    let failed: u64 = faults.iter().take(4).map(|(_, n)| n).sum();
    for (kind, n) in &faults {
        assert!(*n > 0, "{what}: the sandbox injected no {kind} fault");
    }
    let faulted = failed + faults[4].1;
    println!(
        "{what}: {ORDERS} orders ({} parcels) in {:.1} s, {kills} SIGKILLs; sandbox: {} created, {} held, 0 duplicates; {requests} order requests ({} beyond one per order), {faulted} faulted ({:.1} %): {}; retries by the (last) import run beyond the client's own: {retries:?}",
        expected.values().map(BTreeSet::len).sum::<usize>(),
        started.elapsed().as_secs_f64(),
        counters.orders_created,
        counters.orders_held,
        requests.saturating_sub(ORDERS as u64),
        100.0 * faulted as f64 / requests.max(1) as f64,
        faults.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", "),
    );
}

fn retries_of(report: &serde_json::Value, into: &mut BTreeMap<String, u64>) {
    if let Some(kinds) = report["retries"]["by_kind"].as_object() {
        for (k, n) in kinds {
            *into.entry(k.clone()).or_default() += n.as_u64().unwrap_or(0);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_percent_faults_end_with_every_order_created_in_one_run() {
    let app = faulty_app().await;
    let (csv, expected) = orders_csv();
    let file = app.write_file("orders.csv", &csv);
    let started = Instant::now();
    let run = app.run(&import_args(file.to_str().unwrap())).await;
    assert_eq!(run.code, 0, "one run creates everything\n{}\n{}", run.stdout, run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        report["created"].as_u64().unwrap() + report["duplicates"].as_u64().unwrap(),
        ORDERS as u64,
        "{report}"
    );
    assert_eq!(report["not_yet"].as_array().map(Vec::len), Some(0), "{report}");
    assert_eq!(report["refused"].as_array().map(Vec::len), Some(0), "{report}");
    let mut retries = BTreeMap::new();
    retries_of(&report, &mut retries);
    check_and_report(&app, &expected, "one run", started, &retries, 0).await;
}

/// A random number below `n` (no RNG crate: the std hasher's random keys).
fn random_below(n: u64) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(n);
    h.finish() % n.max(1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_sigkills_and_resumes_end_with_every_order_once() {
    let app = faulty_app().await;
    let (csv, expected) = orders_csv();
    let file = app.write_file("orders.csv", &csv);
    let file = file.to_str().unwrap().to_owned();
    // Five kill points spread over the run: each one after a random number of further
    // orders are done (between 100 and 350), so every kill lands mid-import.
    let mut thresholds = Vec::new();
    let mut at = 0;
    for _ in 0..5 {
        at += 100 + random_below(250) as i64;
        thresholds.push(at);
    }
    let started = Instant::now();
    let mut retries = BTreeMap::new();
    for threshold in &thresholds {
        let mut child = app
            .command(&import_args(&file))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if journaled(&app.db).await.is_some_and(|n| n >= *threshold) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the import did not reach {threshold} orders in 60 s"
            );
            assert!(
                child.try_wait().unwrap().is_none(),
                "the import ended before its kill at {threshold}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        child.kill().unwrap(); // SIGKILL on unix
        child.wait().unwrap();
    }
    let done_at_kills = journaled(&app.db).await.unwrap_or(0);
    assert!(done_at_kills < ORDERS as i64, "the last kill landed mid-import ({done_at_kills})");
    let run = app.run(&import_args(&file)).await;
    assert_eq!(run.code, 0, "the resumed run finishes\n{}\n{}", run.stdout, run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let finished = report["created"].as_u64().unwrap()
        + report["duplicates"].as_u64().unwrap()
        + report["already_done"].as_u64().unwrap();
    assert_eq!(finished, ORDERS as u64, "{report}");
    assert!(report["already_done"].as_u64().unwrap() >= done_at_kills as u64, "{report}");
    retries_of(&report, &mut retries);
    println!("kill points (orders journaled done): {thresholds:?}");
    check_and_report(&app, &expected, "5 SIGKILLs + resume", started, &retries, thresholds.len())
        .await;
}

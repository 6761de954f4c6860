//! Several `waybill sync` processes against one PostgreSQL (`$WAYBILL_TEST_DATABASE_URL`):
//!
//! - three workers drain three accounts' large status pools while a random worker is
//!   SIGKILLed at five random moments (and restarted each time), and the database ends with
//!   exactly the sandboxes' rows — same count, same content, no duplicates, each cursor at its
//!   account's last row;
//! - three workers refresh 1,000 parcels through one 20/s production key: the StarShipIT
//!   sandbox answers no 429 and sees no one-second window above 20 arrivals, and a recording
//!   proxy in front of it sees no parcel looked up by two workers at once.
//!
//! The pool's size is `$WAYBILL_E2E_POOL_ORDERS` orders per account (each order yields about
//! 17 rows); the default, 4,000, is the ≥ 200,000-row run.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures::TryStreamExt;
use secrecy::SecretString;
use waybill_domain::{Cursor, FeedItem};
use waybill_e2e::{EPOCH, fresh_database};
use waybill_starmile::{StarmileClient, sandbox as sm};
use waybill_starshipit::sandbox as ss;
use waybill_store::{OrderBook, PgSettings, PostgresStore, TimelineReader};

const BIN: &str = env!("CARGO_BIN_EXE_waybill-e2e");

/// Orders per account by default: about 17 pool rows each, 3 × 4,000 → ≥ 200,000 rows (about
/// 45 s here).
const CI_POOL_ORDERS: usize = 4_000;

/// A small deterministic generator, seeded from the clock and printed, so a failing run's
/// kill moments can be replayed with `WAYBILL_E2E_SEED`.
struct Rng(u64);

impl Rng {
    fn seeded() -> Self {
        let seed = std::env::var("WAYBILL_E2E_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(7, |d| d.as_nanos() as u64)
            });
        eprintln!("kill schedule seed: WAYBILL_E2E_SEED={seed}");
        Rng(seed | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The workers' shared configuration and environment.
struct Deployment {
    dir: tempfile::TempDir,
    config: PathBuf,
    env: Vec<(String, String)>,
}

impl Deployment {
    fn new(toml: &str, env: Vec<(String, String)>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("waybill.toml");
        std::fs::write(&config, toml).expect("config written");
        Self { dir, config, env }
    }

    /// `waybill <args>` with only this deployment's `WAYBILL_` variables.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("WAYBILL_")) {
            cmd.env_remove(k);
        }
        cmd.arg("--config").arg(&self.config).args(args);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Starts worker `n` (`waybill sync`, continuous), its stderr in `worker-n.log`.
    fn spawn_worker(&self, n: usize) -> Child {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log(n))
            .expect("log file");
        self.command(&["sync"]).stdout(Stdio::null()).stderr(log).spawn().expect("worker starts")
    }

    fn log(&self, n: usize) -> PathBuf {
        self.dir.path().join(format!("worker-{n}.log"))
    }

    fn logs(&self, workers: usize) -> String {
        (0..workers)
            .map(|n| {
                format!(
                    "--- worker {n}\n{}",
                    std::fs::read_to_string(self.log(n)).unwrap_or_default()
                )
            })
            .collect()
    }
}

/// SIGTERM (graceful: the current page commits), then the exit status.
fn terminate(mut child: Child) -> std::process::ExitStatus {
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return child.wait().expect("wait");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

async fn pg(url: &str) -> PostgresStore {
    PostgresStore::connect(url, PgSettings { pool_size: 2, ..PgSettings::default() })
        .await
        .expect("test database opens")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_drain_three_pools_through_five_sigkills_exactly_once() {
    let orders: usize = std::env::var("WAYBILL_E2E_POOL_ORDERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(CI_POOL_ORDERS);
    let epoch: jiff::Timestamp = EPOCH.parse().expect("epoch");
    let mut sandboxes = Vec::new();
    for seed in 0..3u64 {
        let config = sm::SandboxConfig {
            seed: 42 + seed,
            epoch,
            preload_orders: orders,
            ..sm::SandboxConfig::default()
        };
        sandboxes.push(sm::Sandbox::start(config).await.expect("starmile sandbox starts"));
    }
    let totals: Vec<u64> = sandboxes.iter().map(|s| s.counters().pool_rows).collect();
    let total: u64 = totals.iter().sum();
    eprintln!("pool: {total} rows over 3 accounts ({orders} orders each)");

    let url = fresh_database().await;
    let mut toml = format!(
        "[store]\nurl = {url:?}\npool_size = 4\n\n[sync]\npoll_interval_seconds = 1\nlease_seconds = 2\ncommit_rows = 2000\n"
    );
    let mut env = Vec::new();
    for (i, sandbox) in sandboxes.iter().enumerate() {
        let partner = &sandbox.partners()[0];
        toml.push_str(&format!(
            "\n[[starmile.accounts]]\nname = \"a{i}\"\nbase_url = {:?}\nclient_id = {:?}\n",
            sandbox.base_url(),
            partner.client_id
        ));
        env.push((format!("WAYBILL_STARMILE_A{i}_CLIENT_SECRET"), partner.client_secret.clone()));
    }
    let deployment = Deployment::new(&toml, env);
    let migrate = deployment.command(&["store", "migrate"]).output().expect("migrate runs");
    assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));
    let store = pg(&url).await;

    let mut rng = Rng::seeded();
    // Five kill moments, as fractions of the pool stored.
    let mut moments: Vec<u64> = (0..5).map(|_| total * (5 + rng.below(85)) / 100).collect();
    moments.sort_unstable();
    let mut workers: Vec<Child> = (0..3).map(|n| deployment.spawn_worker(n)).collect();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(900);
    let mut kills = Vec::new();
    loop {
        let stored = store.counts().await.expect("counts").pool_rows;
        if let Some(&moment) = moments.first()
            && stored >= moment
        {
            moments.remove(0);
            let victim = rng.below(3) as usize;
            workers[victim].kill().expect("SIGKILL");
            workers[victim].wait().expect("reaped");
            kills.push((victim, stored));
            workers[victim] = deployment.spawn_worker(victim);
        }
        if moments.is_empty() && stored == total {
            let status = store.status().await.expect("status");
            let at_end = status.accounts.iter().zip(&sandboxes).all(|(a, _)| a.cursor > 0)
                && status.accounts.len() == 3;
            if at_end {
                break;
            }
        }
        for (n, w) in workers.iter_mut().enumerate() {
            assert!(
                w.try_wait().expect("poll").is_none(),
                "worker {n} exited early\n{}",
                deployment.logs(3)
            );
        }
        assert!(
            Instant::now() < deadline,
            "not drained in time: {stored} of {total}\n{}",
            deployment.logs(3)
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let elapsed = started.elapsed();
    eprintln!("drained {total} rows in {elapsed:.1?} with kills at {kills:?}");
    assert_eq!(kills.len(), 5, "five workers were killed mid-drain");
    assert!(kills.iter().all(|(_, at)| *at < total), "every kill landed mid-drain: {kills:?}");
    for (n, w) in workers.into_iter().enumerate() {
        let status = terminate(w);
        assert!(status.success(), "worker {n} stopped with {status}\n{}", deployment.logs(3));
    }

    // Same count, same content, no duplicates, each cursor at its account's last row.
    let status = store.status().await.expect("status");
    for (i, sandbox) in sandboxes.iter().enumerate() {
        let account = format!("a{i}");
        let partner = &sandbox.partners()[0];
        let client = StarmileClient::builder(
            &sandbox.base_url(),
            partner.client_id.clone(),
            SecretString::from(partner.client_secret.clone()),
        )
        .build()
        .expect("client");
        let expected: Vec<FeedItem> =
            client.change_stream(Cursor(0)).try_collect().await.expect("sandbox pool");
        assert_eq!(expected.len() as u64, totals[i]);
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT cursor, item::text FROM pool_rows WHERE account = $1 ORDER BY cursor",
        )
        .bind(&account)
        .fetch_all(store.pool())
        .await
        .expect("rows");
        assert_eq!(rows.len(), expected.len(), "{account}: row count matches the sandbox");
        for ((cursor, raw), want) in rows.iter().zip(&expected) {
            let got: FeedItem = serde_json::from_str(raw).expect("stored JSON");
            assert_eq!(*cursor as u64, want.cursor.0);
            assert_eq!(&got, want, "{account}: row {cursor} matches");
        }
        let cursor = status.accounts.iter().find(|a| a.account == account).expect("cursor").cursor;
        assert_eq!(
            cursor,
            expected.last().expect("rows").cursor.0,
            "{account}: cursor at the last row"
        );
    }
    let duplicates: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) - count(DISTINCT (account, cursor)) FROM pool_rows),
                (SELECT count(*) - count(DISTINCT (merchant_tracking_number, account)) FROM parcels)",
    )
    .fetch_one(store.pool())
    .await
    .expect("duplicates");
    assert_eq!(duplicates, (0, 0));
    // `waybill store status` reports the same, without the URL's credentials.
    let out = deployment.command(&["--json", "store", "status"]).output().expect("status runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(report["backend"], "postgres");
    assert_eq!(report["schema_version"], 7);
    assert_eq!(report["counts"]["pool_rows"], total);
    assert_eq!(report["accounts"].as_array().map(Vec::len), Some(3));
    assert!(
        report["accounts"].as_array().into_iter().flatten().all(|a| a["lease_holder"].is_null()),
        "every lease was released: {report}"
    );
    // Derived statuses survived the concurrent writers.
    for t in store.all_timelines().await.expect("timelines") {
        assert_eq!(
            t.parcel.status,
            t.timeline.current_status(),
            "{}",
            t.parcel.merchant_tracking_number
        );
    }
    for sandbox in sandboxes {
        sandbox.shutdown().await;
    }
}

/// One lookup seen by the proxy: tracking number, when it left for the sandbox, when the
/// answer came back.
type Seen = (String, Instant, Instant);

/// A recording proxy in front of the StarShipIT sandbox: forwards every request unchanged and
/// remembers each lookup's number and interval.
async fn recording_proxy(upstream: String) -> (String, Arc<Mutex<Vec<Seen>>>) {
    use axum::{
        body::Bytes,
        extract::State,
        http::{HeaderMap, StatusCode, Uri},
        response::IntoResponse,
    };
    #[derive(Clone)]
    struct Proxy {
        upstream: String,
        http: reqwest::Client,
        seen: Arc<Mutex<Vec<Seen>>>,
    }
    async fn forward(State(p): State<Proxy>, uri: Uri, headers: HeaderMap) -> impl IntoResponse {
        let number = uri
            .query()
            .and_then(|q| {
                q.split('&').find_map(|kv| {
                    kv.split_once('=')
                        .filter(|(k, _)| k.eq_ignore_ascii_case("tracking_number"))
                        .map(|(_, v)| v.to_owned())
                })
            })
            .unwrap_or_default();
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        let mut request = p.http.get(format!("{}{}", p.upstream.trim_end_matches('/'), path));
        for (name, value) in &headers {
            if name != "host" {
                request = request.header(name.as_str(), value.as_bytes());
            }
        }
        let sent = Instant::now();
        let response = request.send().await;
        let back = Instant::now();
        p.seen.lock().expect("lock").push((number, sent, back));
        let Ok(response) = response else {
            return (StatusCode::BAD_GATEWAY, HeaderMap::new(), Bytes::new());
        };
        let status =
            StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
        let mut out = HeaderMap::new();
        for name in ["content-type", "retry-after"] {
            if let Some(v) = response
                .headers()
                .get(name)
                .and_then(|v| axum::http::HeaderValue::from_bytes(v.as_bytes()).ok())
            {
                out.insert(name, v);
            }
        }
        (status, out, response.bytes().await.unwrap_or_default())
    }
    let seen = Arc::new(Mutex::new(Vec::new()));
    let proxy = Proxy { upstream, http: reqwest::Client::new(), seen: Arc::clone(&seen) };
    let app = axum::Router::new().fallback(forward).with_state(proxy);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_share_one_keys_rate_and_never_look_a_parcel_up_twice_at_once() {
    const PARCELS: usize = 1_000;
    let epoch: jiff::Timestamp = EPOCH.parse().expect("epoch");
    let starmile = sm::Sandbox::start(sm::SandboxConfig { epoch, ..sm::SandboxConfig::default() })
        .await
        .expect("starmile sandbox starts");
    let starshipit =
        ss::Sandbox::start(ss::SandboxConfig { epoch, ..ss::SandboxConfig::default() })
            .await
            .expect("starshipit sandbox starts");
    let (proxy, seen) = recording_proxy(starshipit.base_url()).await;

    let url = fresh_database().await;
    let store = pg(&url).await;
    for i in 0..PARCELS {
        let reference = format!("PO-{i:04}");
        let number = format!("WB{i:06}");
        let request = waybill_store::testing::conformance::request(&reference, 5, &[&number]);
        let answer = waybill_store::testing::conformance::answer(
            &reference,
            &format!("STM-O{i}"),
            &[(Some(&number), None, &format!("STM-P{i}"))],
        );
        store.save_order("main", &request, &answer).await.expect("parcel saved");
    }

    let partner = &starmile.partners()[0];
    let toml = format!(
        "[store]\nurl = {url:?}\npool_size = 4\n\n[[starmile.accounts]]\nname = \"main\"\nbase_url = {:?}\nclient_id = {:?}\n\n[starshipit]\nbase_url = {proxy:?}\nrate_limit_per_second = 20\n\n[sync]\npoll_interval_seconds = 1\nrefresh_batch = 40\n",
        starmile.base_url(),
        partner.client_id,
    );
    let key = starshipit.production_subscription_key().to_string();
    let env = vec![
        ("WAYBILL_STARMILE_MAIN_CLIENT_SECRET".into(), partner.client_secret.clone()),
        ("WAYBILL_STARSHIPIT_API_KEY".into(), starshipit.api_key().to_string()),
        ("WAYBILL_STARSHIPIT_SUBSCRIPTION_KEY".into(), key.clone()),
    ];
    let deployment = Deployment::new(&toml, env);
    let started = Instant::now();
    let workers: Vec<Child> = (0..3).map(|n| deployment.spawn_worker(n)).collect();
    let deadline = started + Duration::from_secs(300);
    loop {
        let waiting: i64 =
            sqlx::query_scalar("SELECT count(*) FROM parcels WHERE last_refreshed_at IS NULL")
                .fetch_one(store.pool())
                .await
                .expect("count");
        if waiting == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{waiting} parcels never refreshed\n{}",
            deployment.logs(3)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (n, w) in workers.into_iter().enumerate() {
        let status = terminate(w);
        assert!(status.success(), "worker {n} stopped with {status}\n{}", deployment.logs(3));
    }
    // Measured once the workers stopped: a round in progress finishes its lookups.
    let elapsed = started.elapsed();

    let counters = starshipit.counters();
    let arrivals = counters.arrivals.get(&key).map_or(0, Vec::len);
    let busiest = counters.max_arrivals_in_window(&key, Duration::from_secs(1));
    eprintln!(
        "{arrivals} lookups in {elapsed:.1?} ({:.1}/s), busiest second {busiest}, 429s {}",
        arrivals as f64 / elapsed.as_secs_f64(),
        counters.rate_limited
    );
    assert!(arrivals >= PARCELS, "every parcel was looked up: {arrivals}");
    assert_eq!(counters.rate_limited, 0, "the sandbox answered 429");
    assert!(busiest <= 20, "{busiest} arrivals in one second");

    // No parcel looked up by two workers at once: per number, the proxy's intervals never
    // overlap.
    let seen = seen.lock().expect("lock").clone();
    let mut by_number: HashMap<&str, Vec<(Instant, Instant)>> = HashMap::new();
    for (number, sent, back) in &seen {
        by_number.entry(number.as_str()).or_default().push((*sent, *back));
    }
    assert_eq!(by_number.len(), PARCELS, "the proxy saw every parcel");
    for (number, mut intervals) in by_number {
        intervals.sort();
        for pair in intervals.windows(2) {
            assert!(pair[0].1 <= pair[1].0, "{number} was looked up twice at once: {pair:?}");
        }
    }
    starshipit.shutdown().await;
    starmile.shutdown().await;
}

#[test]
fn an_unreachable_store_is_named_by_host_and_port_never_by_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let deployment = Deployment::new(
        &format!("[store]\nurl = \"postgres://waybill:hunter2-pw@127.0.0.1:{port}/waybill\"\n"),
        Vec::new(),
    );
    let out = deployment.command(&["store", "status"]).output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
    assert!(!stderr.contains("hunter2-pw"), "{stderr}");
    let _ = Path::new(&deployment.config);
}

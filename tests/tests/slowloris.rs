//! `waybill serve` under a slowloris attack, over loopback against the real binary: 1,100
//! connections drip a request's headers a byte at a time while `/healthz` must keep answering
//! quickly, the server closes each dripping connection once its header-read timeout passes,
//! and `serve.max_connections` bounds how many connections are served at once.
//!
//! Open files: the test process needs a descriptor per attacking connection, and the server
//! (a child, inheriting the limit) one per accepted connection. The test reads its soft limit
//! from `/proc/self/limits` and fails, naming `ulimit -n`, when it is too low; it never skips.

mod serve_support;

use std::time::{Duration, Instant};

use serve_support::start;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use waybill_e2e::{AppOptions, spawn_app};

const BIN: &str = env!("CARGO_BIN_EXE_waybill-e2e");
const ATTACKERS: usize = 1_100;

/// The soft open-file limit of this process.
fn open_file_limit() -> u64 {
    let limits = std::fs::read_to_string("/proc/self/limits").expect("/proc/self/limits");
    let line = limits.lines().find(|l| l.starts_with("Max open files")).expect("open files line");
    line.split_whitespace().nth(3).and_then(|v| v.parse().ok()).unwrap_or(u64::MAX)
}

fn assert_enough_files(needed: usize) {
    let limit = open_file_limit();
    assert!(
        limit >= needed as u64,
        "this test needs about {needed} open files but the soft limit is {limit}: raise it with `ulimit -n {needed}`"
    );
}

/// Opens `n` connections that each send the start of a request and then stop.
async fn slow_clients(addr: &str, n: usize) -> Vec<TcpStream> {
    let mut clients = Vec::with_capacity(n);
    for _ in 0..n {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ").await.expect("write");
        clients.push(s);
    }
    clients
}

/// One byte on each connection, as a slowloris client keeps its connections alive.
async fn drip(clients: &mut [TcpStream]) -> usize {
    let mut alive = 0;
    for c in clients.iter_mut() {
        if c.write_all(b"a").await.is_ok() {
            alive += 1;
        }
    }
    alive
}

/// A fresh `/healthz` request on a new connection; its latency, or `None` past `limit`.
async fn healthz(http: &reqwest::Client, url: &str, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    match tokio::time::timeout(limit, http.get(url).send()).await {
        Ok(Ok(r)) if r.status() == 200 => Some(started.elapsed()),
        _ => None,
    }
}

/// Whether the server closed `c` (EOF, a reset, or its 408 answer followed by EOF).
async fn closed_by_server(c: &mut TcpStream) -> bool {
    let mut buf = [0u8; 512];
    loop {
        match tokio::time::timeout(Duration::from_millis(200), c.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
            Err(_) => return false,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_during_a_1100_connection_slowloris_and_drippers_are_cut_off() {
    assert_enough_files(ATTACKERS + 300);
    let app = spawn_app(BIN, AppOptions::default()).await;
    let s = start(
        &app,
        &[("WAYBILL_SERVE__SYNC", "false"), ("WAYBILL_SERVE__HEADER_READ_TIMEOUT_SECONDS", "6")],
    )
    .await;
    let addr = s.base.trim_start_matches("http://").to_owned();
    let url = s.url("/healthz");
    // A fresh connection per request: a pooled one would dodge the attack.
    let http = reqwest::Client::builder().pool_max_idle_per_host(0).build().expect("client");

    let started = Instant::now();
    let mut clients = slow_clients(&addr, ATTACKERS).await;
    let mut worst = Duration::ZERO;
    let mut checks = 0;
    // Keep dripping for at least 3 s and 5 probes (inside the 6 s header timeout; each probe
    // waits for a drip over every connection first, slower on a loaded machine).
    while started.elapsed() < Duration::from_secs(3)
        || (checks < 5 && started.elapsed() < Duration::from_secs(5))
    {
        let alive = drip(&mut clients).await;
        let latency = healthz(&http, &url, Duration::from_secs(2)).await.unwrap_or_else(|| {
            panic!("/healthz did not answer within 2 s with {alive} slow connections open")
        });
        worst = worst.max(latency);
        checks += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(checks >= 5, "only {checks} probes");
    assert!(worst < Duration::from_secs(1), "the slowest /healthz took {worst:?}");
    eprintln!("{checks} /healthz probes during the slowloris, slowest {worst:?}");

    // Past the header-read timeout the server has closed every dripping connection.
    tokio::time::sleep(
        Duration::from_secs(6).saturating_sub(started.elapsed()) + Duration::from_secs(2),
    )
    .await;
    let mut closed = 0;
    for c in &mut clients {
        if closed_by_server(c).await {
            closed += 1;
        }
    }
    assert_eq!(closed, ATTACKERS, "connections still open after the header-read timeout");
    assert!(healthz(&http, &url, Duration::from_secs(2)).await.is_some());
    s.terminate().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_connections_bounds_the_connections_served_at_once() {
    assert_enough_files(400);
    let app = spawn_app(BIN, AppOptions::default()).await;
    let s = start(
        &app,
        &[
            ("WAYBILL_SERVE__SYNC", "false"),
            ("WAYBILL_SERVE__MAX_CONNECTIONS", "50"),
            ("WAYBILL_SERVE__HEADER_READ_TIMEOUT_SECONDS", "60"),
        ],
    )
    .await;
    let addr = s.base.trim_start_matches("http://").to_owned();
    let url = s.url("/healthz");
    let http = reqwest::Client::builder().pool_max_idle_per_host(0).build().expect("client");
    assert!(healthz(&http, &url, Duration::from_secs(2)).await.is_some());

    // 50 slow connections take every slot: a new client waits in the backlog, unserved.
    let clients = slow_clients(&addr, 50).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        healthz(&http, &url, Duration::from_secs(1)).await,
        None,
        "a 51st connection was served although serve.max_connections is 50"
    );
    // Once they go, the slots come back.
    drop(clients);
    let back = healthz(&http, &url, Duration::from_secs(5)).await;
    assert!(back.is_some(), "/healthz did not answer after the slow connections closed");
    s.terminate().await;
}

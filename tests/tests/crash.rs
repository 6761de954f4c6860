//! Crash safety: `waybill sync` is killed with SIGKILL while draining a large pool, restarted,
//! and the store then holds exactly the sandbox's rows — same count, same content, no duplicates.

use std::time::{Duration, Instant};

use futures::TryStreamExt;
use secrecy::SecretString;
use sqlx::{Row, sqlite::SqliteConnectOptions};
use waybill_domain::FeedItem;
use waybill_e2e::{AppOptions, spawn_app};
use waybill_starmile::StarmileClient;

const BIN: &str = env!("CARGO_BIN_EXE_waybill-e2e");

async fn stored_rows(db: &std::path::Path) -> Option<i64> {
    let opts = SqliteConnectOptions::new().filename(db).read_only(true);
    let pool = sqlx::SqlitePool::connect_with(opts).await.ok()?;
    let n =
        sqlx::query("SELECT COUNT(*) AS n FROM pool_rows").fetch_one(&pool).await.ok()?.get("n");
    pool.close().await;
    Some(n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_drain_then_restart_neither_loses_nor_doubles() {
    let mut options = AppOptions::default();
    options.starmile.preload_orders = 6_000;
    let app = spawn_app(BIN, options).await;
    let total = app.starmile.counters().pool_rows as i64;
    assert!(total > 100_000, "preloaded pool is large: {total}");

    let mut child =
        app.command(&["sync", "--once"]).stdout(std::process::Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let at_kill = loop {
        if let Some(n) = stored_rows(&app.db).await.filter(|n| *n > 1_000) {
            break n;
        }
        assert!(Instant::now() < deadline, "sync stored nothing within 120 s");
        assert!(child.try_wait().unwrap().is_none(), "sync exited before it could be killed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    child.kill().unwrap(); // SIGKILL on unix
    child.wait().unwrap();
    assert!(at_kill < total, "the kill landed mid-drain ({at_kill} of {total})");

    let rerun = app.run(&["sync", "--once"]).await;
    assert_eq!(rerun.code, 0, "{}", rerun.stderr);

    // Same count, same content, no duplicates.
    let partner = &app.starmile.partners()[0];
    let client = StarmileClient::builder(
        &app.starmile.base_url(),
        partner.client_id.clone(),
        SecretString::from(partner.client_secret.clone()),
    )
    .build()
    .unwrap();
    let expected: Vec<FeedItem> =
        client.change_stream(waybill_domain::Cursor(0)).try_collect().await.unwrap();
    assert_eq!(expected.len() as i64, total);

    let store = app.store().await;
    let rows =
        sqlx::query("SELECT cursor, item FROM pool_rows WHERE account = 'main' ORDER BY cursor")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(rows.len(), expected.len(), "row count matches the sandbox");
    for (row, want) in rows.iter().zip(&expected) {
        let raw: String = row.get("item");
        let got: FeedItem = serde_json::from_str(&raw).unwrap();
        assert_eq!(&got, want);
    }
    let cursor = sqlx::query("SELECT cursor FROM cursors WHERE account = 'main'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(cursor.get::<i64, _>("cursor") as u64, expected.last().unwrap().cursor.0);
}

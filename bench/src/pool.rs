//! Scenario 2, pool ingest: a Starmile sandbox in this process preloaded with finished
//! orders (55,000 orders ≈ 1,000,000 pool rows), drained by the sync engine into a fresh
//! SQLite store in a child process (so its peak RSS is the ingest's alone, not the
//! sandbox's); then the storage ceiling in another child: the same raw rows, read back from
//! that store, bulk-inserted into a fresh SQLite file (same pragmas, same table) in one
//! transaction by a minimal multi-row insert loop. With a PostgreSQL server
//! (`WAYBILL_BENCH_DATABASE_URL`), the same drain into a fresh PostgreSQL database too.

use std::{path::Path, sync::Arc, time::Instant};

use anyhow::Context;
use secrecy::SecretString;
use serde_json::json;
use sqlx::{
    ConnectOptions, Connection, QueryBuilder, Sqlite,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous},
};
use tokio::sync::watch;
use waybill_domain::Cursor;
use waybill_engine::sync::{FeedAccount, SyncEngine, SyncOptions};
use waybill_starmile::{
    ChangesQuery, StarmileClient,
    sandbox::{Sandbox, SandboxConfig},
};
use waybill_store::{AnyStore, Store};

use crate::{
    measure::{self, ScenarioResult},
    options::{Options, arg},
};

/// Rows per multi-row statement in the ceiling loop (3 columns each).
const CEILING_CHUNK: usize = 500;

/// A sandbox preloaded with `orders` finished orders, faults off.
pub(crate) async fn preloaded_sandbox(orders: usize) -> anyhow::Result<Sandbox> {
    let config = SandboxConfig {
        preload_orders: orders,
        unknown_vocabulary_rate: 0.0,
        ..SandboxConfig::default()
    };
    Ok(Sandbox::start(config).await?)
}

/// Runs the scenario.
pub(crate) async fn run(options: &Options) -> anyhow::Result<ScenarioResult> {
    let orders: usize = if options.quick { 5_500 } else { 55_000 };
    let mut result = ScenarioResult::new("pool");
    eprintln!("pool: preloading {orders} orders into the sandbox");
    let sandbox = preloaded_sandbox(orders).await?;
    let rows = sandbox.counters().pool_rows;
    result.set("pool_rows", rows as f64);
    result.note(format!(
        "{orders} preloaded orders = {rows} pool rows, pages of 200, sync engine in a child process"
    ));
    let partner = sandbox.partners()[0].clone();
    let dir = options.out.join("pool");
    std::fs::create_dir_all(&dir)?;
    let db = dir.join("ingest.db");
    measure::remove_db(&db);

    eprintln!("pool: draining {rows} rows through the sync engine");
    let ingest = measure::run_child(
        "pool-ingest",
        &[
            "--base-url".into(),
            sandbox.base_url(),
            "--client-id".into(),
            partner.client_id.clone(),
            "--secret".into(),
            partner.client_secret.clone(),
            "--db".into(),
            db.display().to_string(),
        ],
    )
    .await?;
    eprintln!("pool: the feed alone, pages fetched and decoded, nothing stored");
    let fetch = measure::run_child(
        "pool-fetch",
        &[
            "--base-url".into(),
            sandbox.base_url(),
            "--client-id".into(),
            partner.client_id.clone(),
            "--secret".into(),
            partner.client_secret.clone(),
        ],
    )
    .await?;
    result.set(
        "feed_rows_per_s",
        measure::rate(measure::num(&fetch, "rows")?, measure::num(&fetch, "seconds")?),
    );
    sandbox.shutdown().await;
    let stored = measure::num(&ingest, "rows")?;
    if stored < rows as f64 {
        result.note(format!("only {stored} of {rows} rows were stored"));
    }
    result.set("ingest_rows_per_s", measure::rate(stored, measure::num(&ingest, "seconds")?));
    result.set("ingest_peak_rss_mb", measure::num(&ingest, "peak_rss_mib")?);
    result.note(format!(
        "SQLite ingest resident set at the end: {:.1} MiB heap and stacks, {:.1} MiB mapped files",
        measure::num(&ingest, "rss_anon_mib")?,
        measure::num(&ingest, "rss_file_mib")?,
    ));

    match measure::postgres_server() {
        None => result.note(
            "no PostgreSQL server (WAYBILL_BENCH_DATABASE_URL): PostgreSQL ingest not measured",
        ),
        Some(server) => {
            eprintln!("pool: the same drain into PostgreSQL");
            let url = measure::fresh_postgres(&server, "waybill_bench_pool").await?;
            let sandbox = preloaded_sandbox(orders).await?;
            let partner = sandbox.partners()[0].clone();
            let pg = measure::run_child(
                "pool-ingest",
                &[
                    "--base-url".into(),
                    sandbox.base_url(),
                    "--client-id".into(),
                    partner.client_id.clone(),
                    "--secret".into(),
                    partner.client_secret.clone(),
                    "--db".into(),
                    url,
                ],
            )
            .await?;
            sandbox.shutdown().await;
            let stored = measure::num(&pg, "rows")?;
            result
                .set("pg_ingest_rows_per_s", measure::rate(stored, measure::num(&pg, "seconds")?));
            result.set("pg_ingest_peak_rss_mb", measure::num(&pg, "peak_rss_mib")?);
        }
    }

    eprintln!("pool: ceiling, the same rows in one transaction");
    let ceiling_db = dir.join("ceiling.db");
    measure::remove_db(&ceiling_db);
    let ceiling = measure::run_child(
        "pool-ceiling",
        &[
            "--from".into(),
            db.display().to_string(),
            "--db".into(),
            ceiling_db.display().to_string(),
        ],
    )
    .await?;
    result.set(
        "ceiling_rows_per_s",
        measure::rate(measure::num(&ceiling, "rows")?, measure::num(&ceiling, "seconds")?),
    );
    measure::remove_db(&ceiling_db);
    Ok(result)
}

/// The child: the sync engine drains the sandbox's pool into a fresh store (a SQLite file or
/// a PostgreSQL URL).
pub(crate) async fn child_ingest(args: &[String]) -> anyhow::Result<serde_json::Value> {
    let secret: SecretString = arg(args, "--secret")?.to_owned().into();
    let client =
        StarmileClient::builder(arg(args, "--base-url")?, arg(args, "--client-id")?, secret)
            .build()?;
    let started = Instant::now();
    let store: Arc<dyn Store> =
        Arc::new(AnyStore::open(&measure::location(arg(args, "--db")?)).await?);
    let account = FeedAccount {
        name: "bench".into(),
        carrier: waybill_starmile::CARRIER_ID,
        feed: Arc::new(client),
    };
    let engine =
        SyncEngine::new(store.clone(), vec![account.clone()], None, SyncOptions::default());
    let (_stop, stopped) = watch::channel(false);
    let report = engine.drain(&account, &stopped).await?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(json!({
        "rows": report.pool_rows,
        "pages": report.pages,
        "seconds": seconds,
        "peak_rss_mib": measure::peak_rss_mib(),
        // What the resident set is made of at the end: heap and stacks, and file pages
        // mapped (the readers' mmap of the store).
        "rss_anon_mib": measure::proc_status_mib("RssAnon"),
        "rss_file_mib": measure::proc_status_mib("RssFile"),
    }))
}

/// The child: the feed alone (every page fetched and decoded by the client, not stored),
/// to tell the sandbox's and the client's share from the store's.
pub(crate) async fn child_fetch(args: &[String]) -> anyhow::Result<serde_json::Value> {
    let secret: SecretString = arg(args, "--secret")?.to_owned().into();
    let client =
        StarmileClient::builder(arg(args, "--base-url")?, arg(args, "--client-id")?, secret)
            .build()?;
    let started = Instant::now();
    let (mut cursor, mut rows) = (Cursor(0), 0usize);
    loop {
        let page = client.changes(&ChangesQuery::since(cursor)).await?;
        rows += page.items.len();
        cursor = page.next_cursor;
        if !page.has_more || page.items.is_empty() {
            break;
        }
    }
    Ok(json!({ "rows": rows, "seconds": started.elapsed().as_secs_f64() }))
}

/// The child: the storage ceiling (read untimed, insert timed).
pub(crate) async fn child_ceiling(args: &[String]) -> anyhow::Result<serde_json::Value> {
    let mut source = SqliteConnectOptions::new().filename(arg(args, "--from")?).connect().await?;
    let rows: Vec<(String, i64, String)> =
        sqlx::query_as("SELECT account, cursor, item FROM pool_rows ORDER BY account, cursor")
            .fetch_all(&mut source)
            .await?;
    source.close().await?;
    let started = Instant::now();
    let mut conn = SqliteConnectOptions::new()
        .filename(arg(args, "--db")?)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .connect()
        .await?;
    sqlx::query(
        "CREATE TABLE pool_rows (account TEXT NOT NULL, cursor INTEGER NOT NULL, \
         item TEXT NOT NULL, PRIMARY KEY (account, cursor)) STRICT",
    )
    .execute(&mut conn)
    .await?;
    let mut tx = conn.begin().await?;
    for chunk in rows.chunks(CEILING_CHUNK) {
        let mut insert: QueryBuilder<Sqlite> =
            QueryBuilder::new("INSERT INTO pool_rows (account, cursor, item) ");
        insert.push_values(chunk, |mut b, (account, cursor, item)| {
            b.push_bind(account).push_bind(cursor).push_bind(item);
        });
        insert.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    conn.close().await?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(json!({ "rows": rows.len(), "seconds": seconds }))
}

/// Writes one 200-row page of a preloaded sandbox's pool, as served, to `path` (the
/// parsing benchmark's fixture).
pub(crate) async fn write_fixture(path: &Path) -> anyhow::Result<()> {
    let sandbox = preloaded_sandbox(200).await?;
    let partner = &sandbox.partners()[0];
    let token = reqwest::Client::new()
        .post(format!("{}/oauth/token", sandbox.base_url()))
        .json(&json!({"grant_type":"client_credentials","client_id":partner.client_id,"client_secret":partner.client_secret}))
        .send()
        .await?
        .json::<serde_json::Value>()
        .await?;
    let token = token["access_token"].as_str().context("no token")?.to_owned();
    let body = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/partner/changes?since={}&limit={}",
            sandbox.base_url(),
            Cursor(0).0,
            ChangesQuery::MAX_LIMIT
        ))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    std::fs::write(path, &body).with_context(|| format!("cannot write {}", path.display()))?;
    sandbox.shutdown().await;
    eprintln!("wrote {} ({} bytes)", path.display(), body.len());
    Ok(())
}

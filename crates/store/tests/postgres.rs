//! The PostgreSQL backend: the whole conformance suite, each case in its own schema of the
//! database `$WAYBILL_TEST_DATABASE_URL` names (`cargo xtask ci` starts a throwaway cluster
//! and sets it), and what only a shared database has: leases, refresh claims, the shared
//! rate budget, and connection errors that name the host but never the password.

use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use waybill_domain::{Cursor, TrackingStatus};
use waybill_store::{
    BudgetGrant, FeedSink, Lease, Leases, NextRefresh, OrderBook, PgSettings, PostgresStore,
    RateBudget, RefreshSelection, Refreshed, Store, StoreError, TimelineReader,
    testing::conformance::{
        ACCOUNT, Backend, answer, mtn, parcel_row, reference, request, undecoded,
    },
};

/// The test database's URL; the suite never skips, so a missing one is a failure that says
/// how to get one.
fn database_url() -> String {
    std::env::var("WAYBILL_TEST_DATABASE_URL").unwrap_or_else(|_| {
        panic!(
            "WAYBILL_TEST_DATABASE_URL is not set: run the tests through `cargo xtask ci` \
             (it starts a throwaway PostgreSQL), or `cargo xtask test-db` and export the URL it prints"
        )
    })
}

/// A store in a new, empty schema; dropping the guard drops the schema.
async fn fresh_store() -> (PostgresStore, SchemaGuard) {
    let schema = format!("t_{:016x}", rand_u64());
    let base: PgConnectOptions = database_url().parse().expect("a postgres:// test URL");
    let admin = sqlx::PgPool::connect_with(base.clone()).await.expect("test database reachable");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await
        .expect("schema created");
    admin.close().await;
    let options = base.options([("search_path", schema.as_str())]);
    let settings = PgSettings { pool_size: 4, ..PgSettings::default() };
    let store = PostgresStore::connect_with(options, settings).await.expect("store opens");
    (store, SchemaGuard { schema })
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish()
}

/// Drops its schema when dropped, over a connection of its own on a thread of its own (a
/// drop cannot await, and the test's runtime is blocked meanwhile).
struct SchemaGuard {
    schema: String,
}

impl Drop for SchemaGuard {
    fn drop(&mut self) {
        let schema = self.schema.clone();
        let joined = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            rt.block_on(async {
                let base: PgConnectOptions = database_url().parse().ok()?;
                let admin = sqlx::PgPool::connect_with(base).await.ok()?;
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                    .execute(&admin)
                    .await
                    .ok()?;
                admin.close().await;
                Some(())
            })
        })
        .join();
        let _ = joined;
    }
}

/// Fresh PostgreSQL stores, one schema each.
struct Postgres;

#[async_trait::async_trait]
impl Backend for Postgres {
    async fn fresh(&self) -> (Box<dyn Store>, Box<dyn std::any::Any + Send>) {
        let (store, guard) = fresh_store().await;
        (Box::new(store), Box::new(guard))
    }
}

waybill_store::conformance_suite!(Postgres);

fn lease(holder: &str, ttl_ms: u64) -> Lease {
    Lease::pool(ACCOUNT, holder, Duration::from_millis(ttl_ms))
}

#[tokio::test]
async fn a_pool_lease_has_one_holder_until_it_expires_or_is_released() {
    let (store, _guard) = fresh_store().await;
    assert!(store.acquire(&lease("a", 60_000)).await.expect("acquire"));
    assert!(store.acquire(&lease("a", 60_000)).await.expect("renew"), "the holder renews");
    assert!(!store.acquire(&lease("b", 60_000)).await.expect("acquire"), "held by a");
    store.release(&lease("b", 60_000)).await.expect("not b's to release");
    assert!(!store.acquire(&lease("b", 60_000)).await.expect("acquire"));
    store.release(&lease("a", 60_000)).await.expect("release");
    assert!(store.acquire(&lease("b", 200)).await.expect("free after release"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(store.acquire(&lease("a", 60_000)).await.expect("expired: taken over"));
    let status = store.status().await.expect("status");
    assert_eq!(status.accounts[0].lease_holder.as_deref(), Some("a"));
}

#[tokio::test]
async fn a_page_whose_lease_was_lost_commits_nothing() {
    let (store, _guard) = fresh_store().await;
    let page = [parcel_row(1, "PO-1", "M-1", "STM-P1", 0, TrackingStatus::InTransit)];
    let a = lease("a", 200);
    assert!(store.acquire(&a).await.expect("acquire"));
    assert_eq!(
        store
            .record_pool_page_leased(&a, ACCOUNT, &page, &[], Cursor(1))
            .await
            .expect("page")
            .items,
        1
    );

    // a stalls past its lease; b takes the account over.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let b = lease("b", 60_000);
    assert!(store.acquire(&b).await.expect("take over"));
    let late = [parcel_row(2, "PO-1", "M-1", "STM-P1", 5, TrackingStatus::Delivered)];
    let bad = [undecoded(Some(2), r#"{"cursor":2,"occurred_at":""}"#)];
    let err =
        store.record_pool_page_leased(&a, ACCOUNT, &late, &bad, Cursor(2)).await.expect_err("lost");
    assert!(
        matches!(&err, StoreError::LeaseLost { name, holder } if name == "pool:sydney" && holder == "a"),
        "{err:?}"
    );
    assert!(err.to_string().contains("another worker took the work over"), "{err}");
    assert_eq!(store.cursor(ACCOUNT).await.expect("cursor"), Cursor(1), "the cursor did not move");
    let counts = store.counts().await.expect("counts");
    assert_eq!((counts.pool_rows, counts.quarantined), (1, 0), "no row was written");
    assert_eq!(
        store.record_pool_page_leased(&b, ACCOUNT, &late, &bad, Cursor(2)).await.expect("page"),
        waybill_store::PoolCommit { items: 1, quarantined: 1 }
    );
    assert_eq!(store.cursor(ACCOUNT).await.expect("cursor"), Cursor(2));
}

#[tokio::test]
async fn refresh_claims_never_hand_one_parcel_to_two_workers() {
    let (store, _guard) = fresh_store().await;
    let numbers: Vec<String> = (0..40).map(|i| format!("M-{i:02}")).collect();
    for (i, number) in numbers.iter().enumerate() {
        let r = format!("PO-{i}");
        store
            .save_order(
                ACCOUNT,
                &request(&r, 5, &[number]),
                &answer(&r, &format!("O{i}"), &[(Some(number), None, &format!("P{i}"))]),
            )
            .await
            .expect("save");
    }
    // The same merchant number in a second account is one lookup, claimed once.
    store
        .save_order(
            "melbourne",
            &request("PO-X", 5, &["M-00"]),
            &answer("PO-X", "OX", &[(Some("M-00"), None, "PX")]),
        )
        .await
        .expect("save");
    let ttl = Duration::from_secs(60);
    let claims = futures_join(&store, ttl).await;
    let mut all: Vec<String> = claims.iter().flatten().cloned().collect();
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), total, "a number was claimed twice: {claims:?}");
    assert_eq!(all, numbers, "every parcel was claimed by someone");

    // Held leases are skipped; a renewal by the holder works, by another does not.
    assert!(store.claim_refreshes("w9", &batch(100), ttl).await.expect("claim").is_empty());
    let first = claims.iter().position(|c| !c.is_empty()).expect("someone claimed");
    let theirs = mtn(&claims[first][0]);
    assert!(store.keep_refresh(&format!("w{first}"), &theirs, ttl).await.expect("keep"));
    assert!(!store.keep_refresh("w9", &theirs, ttl).await.expect("keep"));
    // Released or refreshed parcels can be claimed again.
    store.release_refresh(&format!("w{first}"), &theirs).await.expect("release");
    let again = store.claim_refreshes("w9", &batch(100), ttl).await.expect("claim");
    assert_eq!(
        again.iter().map(|c| c.merchant_tracking_number.to_string()).collect::<Vec<_>>(),
        [theirs.to_string()]
    );
    let due_now = Refreshed { news: false, next: NextRefresh::After(Duration::ZERO) };
    store.mark_refreshed(&theirs, &due_now).await.expect("mark");
    assert!(!store.keep_refresh("w9", &theirs, ttl).await.expect("keep"), "marking ends the lease");
}

/// Up to `limit` candidates, webhooks covering for an hour.
fn batch(limit: u32) -> RefreshSelection {
    RefreshSelection { limit, pushed_within: Duration::from_secs(3600) }
}

/// Four workers claim batches of 7 at the same moment, until nothing is left.
async fn futures_join(store: &PostgresStore, ttl: Duration) -> Vec<Vec<String>> {
    let workers = (0..4).map(|w| {
        let store = store.clone();
        tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch =
                    store.claim_refreshes(&format!("w{w}"), &batch(7), ttl).await.expect("claim");
                if batch.is_empty() {
                    break mine;
                }
                mine.extend(batch.into_iter().map(|c| c.merchant_tracking_number.to_string()));
            }
        })
    });
    let mut out = Vec::new();
    for w in workers.collect::<Vec<_>>() {
        out.push(w.await.expect("worker"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_rate_budget_never_grants_more_than_its_slots_in_any_window() {
    let (store, _guard) = fresh_store().await;
    let window = Duration::from_millis(300);
    let started = std::time::Instant::now();
    let tasks = (0..6).map(|_| {
        let store = store.clone();
        tokio::spawn(async move {
            let mut grants = Vec::new();
            while started.elapsed() < Duration::from_millis(1_500) {
                match store.try_take("budget-digest", 5, window).await.expect("take") {
                    BudgetGrant::Granted => grants.push(std::time::Instant::now()),
                    BudgetGrant::Wait(wait) => {
                        assert!(wait <= window, "waits at most a window: {wait:?}");
                        tokio::time::sleep(wait).await;
                    }
                }
            }
            grants
        })
    });
    let mut grants = Vec::new();
    for t in tasks.collect::<Vec<_>>() {
        grants.extend(t.await.expect("task"));
    }
    grants.sort();
    // The grants were stamped by the database; seen here a little later, so allow the
    // round trip as slack on the window.
    let slack = Duration::from_millis(30);
    for (i, t) in grants.iter().enumerate() {
        let in_window =
            grants[i..].iter().take_while(|u| u.duration_since(*t) + slack < window).count();
        assert!(in_window <= 5, "{in_window} grants within {window:?} at grant {i}");
    }
    // And the budget is used: about 5 per 300 ms over 1.5 s.
    assert!(grants.len() >= 20, "only {} grants", grants.len());
    // Another budget is independent.
    assert_eq!(store.try_take("other", 1, window).await.expect("take"), BudgetGrant::Granted);
}

#[tokio::test]
async fn an_unreachable_database_is_named_by_host_and_port_never_by_password() {
    // A closed loopback port: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let url = format!("postgres://waybill:s3cret-pw@127.0.0.1:{port}/waybill");
    let settings = PgSettings { connect_timeout: Duration::from_secs(2), ..PgSettings::default() };
    let err = PostgresStore::connect(&url, settings).await.expect_err("unreachable");
    let message = err.to_string();
    assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
    assert!(message.contains("cannot connect to PostgreSQL"), "{message}");
    assert!(!message.contains("s3cret-pw"), "{message}");
    assert!(!format!("{err:?}").contains("s3cret-pw"));

    let err = PostgresStore::connect("postgres://u:s3cret-pw@host:notaport/db", settings)
        .await
        .expect_err("bad url");
    assert!(err.to_string().contains("not a valid postgres:// URL"), "{err}");
    assert!(!err.to_string().contains("s3cret-pw"), "{err}");
}

#[tokio::test]
async fn status_reports_the_backend_schema_counts_and_cursors() {
    let (store, _guard) = fresh_store().await;
    store
        .record_pool_page(
            ACCOUNT,
            &[parcel_row(3, "PO-1", "M-1", "STM-P1", 0, TrackingStatus::InTransit)],
            Cursor(3),
        )
        .await
        .expect("page");
    let status = store.status().await.expect("status");
    assert_eq!((status.backend, status.schema_version), ("postgres", 7));
    assert_eq!(status.counts.pool_rows, 1);
    assert_eq!(status.accounts.len(), 1);
    assert_eq!((status.accounts[0].account.as_str(), status.accounts[0].cursor), (ACCOUNT, 3));
    assert_eq!(status.accounts[0].lease_holder, None);
    assert!(!status.location.contains('@'), "{}", status.location);
    assert!(store.parcel_timeline("M-1").await.expect("lookup").is_some());
    assert!(store.order(None, &reference("PO-1")).await.expect("order").is_some());
}

/// Orders stored before migration 0003 have no fingerprint: the stored request (jsonb, keys
/// reordered by PostgreSQL) stands in for it, and the first matching save fills it in.
#[tokio::test]
async fn orders_without_a_fingerprint_are_checked_by_their_stored_request() {
    use waybill_store::{
        OrderBook, Replay,
        testing::conformance::{answer, request},
    };
    let (store, _guard) = fresh_store().await;
    let first = request("PO-1", 5, &["M-1"]);
    let created = answer("PO-1", "STM-O1", &[(Some("M-1"), None, "STM-P1")]);
    store.save_order(ACCOUNT, &first, &created).await.expect("save");
    sqlx::query("UPDATE orders SET fingerprint = NULL").execute(store.pool()).await.expect("edit");
    assert_eq!(store.check_replay(ACCOUNT, &first).await.expect("check"), Replay::Same);
    let other = request("PO-1", 5, &["M-2"]);
    assert!(matches!(
        store.check_replay(ACCOUNT, &other).await.expect("check"),
        Replay::Conflict(_)
    ));
    store.save_order(ACCOUNT, &first, &created).await.expect("a matching replay saves");
    let (filled,): (Option<String>,) = sqlx::query_as("SELECT fingerprint FROM orders")
        .fetch_one(store.pool())
        .await
        .expect("read");
    assert_eq!(filled.map(|f| f.len()), Some(64), "the replay filled the fingerprint in");
}

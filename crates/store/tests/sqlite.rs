//! The SQLite backend: the whole conformance suite on temporary database files, and what only
//! SQLite has (the file survives a reopen in WAL mode; rows edited by hand are reported with
//! table and key).

use waybill_domain::{Cursor, TrackingStatus};
use waybill_store::{
    FeedSink, ImportJournal, JournalEntry, OrderBook, SqliteStore, Store, StoreError,
    TimelineReader,
    testing::conformance::{ACCOUNT, Backend, order_row, parcel_row, reference, scan, tn},
};

/// Fresh SQLite stores in temporary directories.
struct Sqlite;

#[async_trait::async_trait]
impl Backend for Sqlite {
    async fn fresh(&self) -> (Box<dyn Store>, Box<dyn std::any::Any + Send>) {
        let (store, dir) = SqliteStore::open_temporary().await.expect("temporary store");
        (Box::new(store), Box::new(dir))
    }
}

waybill_store::conformance_suite!(Sqlite);

async fn store() -> (SqliteStore, tempfile::TempDir) {
    SqliteStore::open_temporary().await.expect("temporary store")
}

#[tokio::test]
async fn reopening_the_file_keeps_everything() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("nested/dir/waybill.sqlite");
    let page = [
        order_row(7, "PO-1", "STM-O1", 0, TrackingStatus::Pending),
        parcel_row(8, "PO-1", "M-1", "STM-P1", 1, TrackingStatus::InTransit),
    ];
    let (counts, timelines) = {
        let store = SqliteStore::open(&path).await.expect("open");
        store.record_pool_page(ACCOUNT, &page, Cursor(8)).await.expect("page");
        store
            .journal_put(
                ACCOUNT,
                &reference("PO-1"),
                &JournalEntry::Done { tracking_number: tn("STM-O1") },
            )
            .await
            .expect("put");
        let out = (
            store.counts().await.expect("counts"),
            store.all_timelines().await.expect("timelines"),
        );
        store.close().await;
        out
    };
    let store = SqliteStore::open(&path).await.expect("reopen");
    assert_eq!(store.cursor(ACCOUNT).await.expect("cursor"), Cursor(8));
    assert_eq!(store.counts().await.expect("counts"), counts);
    assert_eq!(store.all_timelines().await.expect("timelines"), timelines);
    assert!(store.journal_get(ACCOUNT, &reference("PO-1")).await.expect("get").is_some());
    let journal: String =
        sqlx::query_scalar("PRAGMA journal_mode").fetch_one(store.pool()).await.expect("pragma");
    assert_eq!(journal, "wal");
}

#[tokio::test]
async fn corrupt_rows_are_reported_with_table_and_key() {
    let (store, _dir) = store().await;
    store
        .record_pool_page(
            ACCOUNT,
            &[parcel_row(1, "PO-1", "M-1", "STM-P1", 0, TrackingStatus::InTransit)],
            Cursor(1),
        )
        .await
        .expect("page");
    sqlx::query("UPDATE pool_rows SET item = '{not json'")
        .execute(store.pool())
        .await
        .expect("edit");
    let err = store.parcel_timeline("M-1").await.expect_err("corrupt pool row");
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
    assert!(err.to_string().contains("events row 1: column pool row item"), "{err}");
    sqlx::query("DELETE FROM pool_rows").execute(store.pool()).await.expect("edit");
    let err = store.all_timelines().await.expect_err("missing pool row");
    assert!(err.to_string().contains("events row 1: has no event JSON"), "{err}");
    sqlx::query("DELETE FROM events").execute(store.pool()).await.expect("edit");

    store
        .record_events(&[scan("M-1", 9, "In Transit", TrackingStatus::InTransit)])
        .await
        .expect("events");
    sqlx::query("UPDATE events SET event = '{\"carrier\": 7}' WHERE event IS NOT NULL")
        .execute(store.pool())
        .await
        .expect("edit");
    let err = store.all_timelines().await.expect_err("corrupt event");
    assert!(err.to_string().contains("column event is not valid JSON"), "{err}");

    sqlx::query("UPDATE parcels SET head_status = 'teleported'")
        .execute(store.pool())
        .await
        .expect("edit");
    let err = store.order(None, &reference("PO-1")).await.expect_err("corrupt status");
    assert!(
        err.to_string().contains("parcels row sydney/M-1: column status \"teleported\""),
        "{err}"
    );

    sqlx::query("UPDATE cursors SET cursor = -4").execute(store.pool()).await.expect("edit");
    assert!(matches!(store.cursor(ACCOUNT).await, Err(StoreError::Corrupt(_))));
}

/// Orders stored before migration 0003 have no fingerprint: the stored request stands in for
/// it, and the first matching save fills it in.
#[tokio::test]
async fn orders_without_a_fingerprint_are_checked_by_their_stored_request() {
    use waybill_store::{
        Replay,
        testing::conformance::{answer, request},
    };
    let (store, _dir) = store().await;
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

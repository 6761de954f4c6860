//! Conformance cases of the quarantine: undecodable feed rows are kept raw with their page,
//! the cursor moves past them, and redelivery never doubles them.

use waybill_domain::{Cursor, TrackingStatus, UndecodedRow};

use super::{ACCOUNT, parcel_row};
use crate::{PoolCommit, QuarantineCount, QuarantineFilter, Store};

/// An undecodable row as an adapter hands it on.
pub fn undecoded(cursor: Option<u64>, raw: &str) -> UndecodedRow {
    UndecodedRow {
        cursor: cursor.map(Cursor),
        raw: raw.to_owned(),
        error: format!("row at cursor {cursor:?}: occurred_at \"\": invalid date"),
    }
}

fn all() -> QuarantineFilter {
    QuarantineFilter { account: None, limit: 100 }
}

/// A conformance case (see the module docs).
pub async fn undecodable_rows_are_quarantined_with_their_page_and_the_cursor_moves_on(
    store: &dyn Store,
) {
    let bad = r#"{"cursor":1,"tracking_number":"STM-O1","occurred_at":""}"#;
    let items = [
        parcel_row(2, "PO-1", "M-1", "STM-P1", 5, TrackingStatus::InfoReceived),
        parcel_row(3, "PO-1", "M-2", "STM-P2", 6, TrackingStatus::InTransit),
    ];
    let commit = store
        .record_pool_rows(ACCOUNT, &items, &[undecoded(Some(1), bad)], Cursor(3))
        .await
        .expect("page");
    assert_eq!(commit, PoolCommit { items: 2, quarantined: 1 });
    assert_eq!(store.cursor(ACCOUNT).await.expect("cursor"), Cursor(3), "the cursor moved on");
    let counts = store.counts().await.expect("counts");
    assert_eq!((counts.pool_rows, counts.quarantined, counts.parcels), (2, 1, 2));

    let rows = store.quarantined(&all()).await.expect("list");
    let [row] = rows.as_slice() else { panic!("one quarantined row: {rows:?}") };
    assert_eq!((row.account.as_str(), row.cursor, row.raw.as_str()), (ACCOUNT, Some(1), bad));
    assert!(row.error.contains("occurred_at"), "{}", row.error);
    assert_eq!(row.quarantined_at.len(), "2026-06-20T09:14:00.000000Z".len(), "{row:?}");
    assert!(row.quarantined_at.ends_with('Z'), "{row:?}");
    assert_eq!(
        store.quarantine_counts().await.expect("counts"),
        [QuarantineCount { account: ACCOUNT.into(), rows: 1 }]
    );

    // A page of nothing but bad rows still moves the cursor.
    let commit = store
        .record_pool_rows(ACCOUNT, &[], &[undecoded(Some(4), "{\"cursor\":4}")], Cursor(4))
        .await
        .expect("page");
    assert_eq!(commit, PoolCommit { items: 0, quarantined: 1 });
    assert_eq!(store.cursor(ACCOUNT).await.expect("cursor"), Cursor(4));
}

/// A conformance case (see the module docs).
pub async fn a_redelivered_undecodable_row_is_kept_once(store: &dyn Store) {
    let page = [
        undecoded(Some(7), r#"{"cursor":7,"occurred_at":""}"#),
        undecoded(None, "17"),
        undecoded(Some(2), r#"{"cursor":2,"occurred_at":null}"#),
        // The same text twice in one page is one row.
        undecoded(None, "17"),
    ];
    let first = store.record_pool_rows(ACCOUNT, &[], &page, Cursor(7)).await.expect("page");
    assert_eq!(first.quarantined, 3);
    // Redelivered whole (a crash before the commit was acknowledged), and in part: nothing new.
    let again = store.record_pool_rows(ACCOUNT, &[], &page, Cursor(7)).await.expect("replay");
    assert_eq!(again, PoolCommit::default());
    let part = store.record_pool_rows(ACCOUNT, &[], &page[2..], Cursor(7)).await.expect("part");
    assert_eq!(part, PoolCommit::default());
    // The same cursor with different text was received too: kept beside the first.
    let changed = undecoded(Some(7), r#"{"cursor":7,"occurred_at":" "}"#);
    let commit = store.record_pool_rows(ACCOUNT, &[], &[changed], Cursor(7)).await.expect("page");
    assert_eq!(commit.quarantined, 1);
    // Another account's identical row is that account's.
    let other =
        store.record_pool_rows("melbourne", &[], &page[..1], Cursor(7)).await.expect("page");
    assert_eq!(other.quarantined, 1);

    let rows = store.quarantined(&all()).await.expect("list");
    let order: Vec<_> = rows.iter().map(|r| (r.account.as_str(), r.cursor)).collect();
    assert_eq!(
        order,
        [
            ("melbourne", Some(7)),
            (ACCOUNT, Some(2)),
            (ACCOUNT, Some(7)),
            (ACCOUNT, Some(7)),
            (ACCOUNT, None)
        ],
        "by account, then cursor, rows without one last"
    );
    let mine = QuarantineFilter { account: Some(ACCOUNT.into()), limit: 2 };
    let listed = store.quarantined(&mine).await.expect("list");
    assert_eq!(listed.iter().map(|r| r.cursor).collect::<Vec<_>>(), [Some(2), Some(7)]);
    assert_eq!(
        store.quarantine_counts().await.expect("counts"),
        [
            QuarantineCount { account: "melbourne".into(), rows: 1 },
            QuarantineCount { account: ACCOUNT.into(), rows: 4 },
        ]
    );
    assert_eq!(store.counts().await.expect("counts").quarantined, 5);
}

/// The property: whatever pages the undecodable rows come in, and however often each page is
/// redelivered, the quarantine ends up holding each distinct row once, the sum of the
/// commits' `quarantined` equals that number, and the cursor is at the last page's end.
///
/// # Panics
/// When the property fails (with proptest's minimal counter-example).
pub fn every_distinct_undecodable_row_is_kept_once_whatever_the_pages(
    backend: &dyn super::Backend,
) {
    use proptest::prelude::*;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let config = ProptestConfig { cases: 16, ..ProptestConfig::default() };
    // Pages of rows drawn from a small set (so rows repeat across and within pages), each
    // page delivered 1–3 times.
    let row = (0u64..6, any::<bool>()).prop_map(|(n, with_cursor)| {
        undecoded(
            with_cursor.then_some(n + 1),
            &format!(r#"{{"cursor":{},"occurred_at":""}}"#, n + 1),
        )
    });
    let pages = prop::collection::vec((prop::collection::vec(row, 0..5), 1usize..4), 1..6);
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let result = runner.run(&pages, |pages| {
        rt.block_on(async {
            let (store, _guard) = backend.fresh().await;
            let mut kept = 0;
            for (i, (rows, deliveries)) in pages.iter().enumerate() {
                for _ in 0..*deliveries {
                    let next = Cursor(i as u64 + 1);
                    let commit =
                        store.record_pool_rows(ACCOUNT, &[], rows, next).await.expect("page");
                    kept += commit.quarantined;
                }
            }
            let distinct: std::collections::BTreeSet<&str> =
                pages.iter().flat_map(|(rows, _)| rows.iter().map(|r| r.raw.as_str())).collect();
            let listed = store.quarantined(&all()).await.expect("list");
            prop_assert_eq!(kept, distinct.len());
            prop_assert_eq!(listed.len(), distinct.len());
            let raws: std::collections::BTreeSet<&str> =
                listed.iter().map(|r| r.raw.as_str()).collect();
            prop_assert_eq!(raws, distinct);
            prop_assert_eq!(
                store.cursor(ACCOUNT).await.expect("cursor"),
                Cursor(pages.len() as u64)
            );
            Ok(())
        })
    });
    if let Err(e) = result {
        panic!("redelivered undecodable rows were not kept exactly once: {e}");
    }
}

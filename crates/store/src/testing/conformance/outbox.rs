//! Conformance cases of the outbox: a parcel's status or milestone change writes one delivery
//! per matching subscription in the transaction that made it (never for a replay), claims
//! keep each parcel's order and exclude other workers, and failed attempts back off, expire
//! and can be redelivered.

use std::time::Duration;

use waybill_domain::{Cursor, TrackingStatus};

use super::{ACCOUNT, answer, parcel_row, request, scan};
use crate::{
    Attempt, Delivery, DeliveryCount, DeliveryFilter, DeliveryState, Redelivery, Store,
    Subscription,
};

fn subscription(name: &str, statuses: &[TrackingStatus], retry_for: Duration) -> Subscription {
    Subscription {
        name: name.into(),
        url: format!("http://127.0.0.1:9/{name}"),
        statuses: statuses.to_vec(),
        retry_for,
    }
}

fn every(store_limit: u32) -> DeliveryFilter {
    DeliveryFilter { limit: store_limit, ..DeliveryFilter::default() }
}

const DAY: Duration = Duration::from_secs(86_400);
const LOCK: Duration = Duration::from_secs(60);

fn changes(deliveries: &[Delivery]) -> Vec<(&str, &str, TrackingStatus, TrackingStatus)> {
    deliveries
        .iter()
        .map(|d| {
            (
                d.subscription.as_str(),
                d.change.merchant_tracking_number.as_str(),
                d.change.previous_status,
                d.change.status,
            )
        })
        .collect()
}

/// A conformance case (see the module docs).
pub async fn status_changes_write_one_delivery_per_matching_subscription(store: &dyn Store) {
    let req = request("PO-1", 5, &["M-1", "M-2"]);
    let ans =
        answer("PO-1", "STM-O1", &[(Some("M-1"), None, "STM-P1"), (Some("M-2"), None, "STM-P2")]);
    store.save_order(ACCOUNT, &req, &ans).await.expect("save");
    // Without a subscription nothing is written.
    store
        .record_events(&[scan("M-1", 1, "Printed", TrackingStatus::InfoReceived)])
        .await
        .expect("scan");
    assert!(store.deliveries(&every(100)).await.expect("list").is_empty());

    store
        .set_subscriptions(&[
            subscription("erp", &[], DAY),
            subscription("shop", &[TrackingStatus::Delivered], DAY),
        ])
        .await
        .expect("subscribe");
    let page = [
        parcel_row(1, "PO-1", "M-1", "STM-P1", 5, TrackingStatus::InTransit),
        parcel_row(2, "PO-1", "M-2", "STM-P2", 6, TrackingStatus::Delivered),
    ];
    store.record_pool_page(ACCOUNT, &page, Cursor(2)).await.expect("page");
    // A replayed page and an older event move nothing, so they notify nothing.
    store.record_pool_page(ACCOUNT, &page, Cursor(2)).await.expect("replay");
    store
        .record_events(&[scan("M-1", 0, "Booked", TrackingStatus::InfoReceived)])
        .await
        .expect("old");

    let mut listed = store.deliveries(&every(100)).await.expect("list");
    listed.reverse(); // oldest first
    assert!(listed.windows(2).all(|w| w[0].id < w[1].id), "ids increase");
    // Parcels one statement changed are written in whatever order the backend updates them:
    // compare by parcel and subscription.
    listed.sort_by(|a, b| {
        let key = |d: &Delivery| {
            (d.change.merchant_tracking_number.as_str().to_owned(), d.subscription.clone())
        };
        key(a).cmp(&key(b))
    });
    use TrackingStatus as S;
    assert_eq!(
        changes(&listed),
        [
            ("erp", "M-1", S::InfoReceived, S::InTransit),
            ("erp", "M-2", S::Pending, S::Delivered),
            ("shop", "M-2", S::Pending, S::Delivered),
        ]
    );
    let d = &listed[0];
    assert_eq!(d.state, DeliveryState::Pending);
    assert_eq!(
        (d.attempts, d.change.account.as_str(), d.change.reference.as_str()),
        (0, ACCOUNT, "PO-1")
    );
    assert_eq!(
        d.change.tracking_number.as_ref().map(waybill_domain::TrackingNumber::as_str),
        Some("STM-P1")
    );
    assert_eq!(d.change.raw_status.as_deref(), Some(S::InTransit.as_str()));
    assert!(
        d.expires_at > d.change.changed_at && d.next_attempt_at >= d.change.changed_at,
        "{d:?}"
    );

    let only_shop = DeliveryFilter { subscription: Some("shop".into()), ..every(100) };
    assert_eq!(store.deliveries(&only_shop).await.expect("list").len(), 1);
    let pending = |subscription: &str, deliveries| DeliveryCount {
        subscription: subscription.into(),
        state: DeliveryState::Pending,
        deliveries,
    };
    assert_eq!(
        store.delivery_counts().await.expect("counts"),
        [pending("erp", 2), pending("shop", 1)]
    );

    // A subscription removed from the configuration gives its pending deliveries up.
    store.set_subscriptions(&[subscription("erp", &[], DAY)]).await.expect("unsubscribe");
    let shop = store.deliveries(&only_shop).await.expect("list");
    assert_eq!(shop[0].state, DeliveryState::Failed);
    assert!(shop[0].last_error.as_deref().is_some_and(|e| e.contains("removed")), "{shop:?}");
    assert_eq!(
        store.redeliver(shop[0].id).await.expect("redeliver"),
        Redelivery::SubscriptionRemoved("shop".into())
    );
    assert_eq!(store.redeliver(999_999).await.expect("redeliver"), Redelivery::NotFound);
}

/// A conformance case (see the module docs).
pub async fn claims_keep_each_parcels_order_and_failures_back_off_then_give_up(store: &dyn Store) {
    let req = request("PO-1", 5, &["M-1", "M-2"]);
    let ans =
        answer("PO-1", "STM-O1", &[(Some("M-1"), None, "STM-P1"), (Some("M-2"), None, "STM-P2")]);
    store.save_order(ACCOUNT, &req, &ans).await.expect("save");
    store.set_subscriptions(&[subscription("erp", &[], DAY)]).await.expect("subscribe");
    for (cursor, status) in [(1, TrackingStatus::InfoReceived), (2, TrackingStatus::InTransit)] {
        let row = parcel_row(cursor, "PO-1", "M-1", "STM-P1", 5 + cursor as i64, status);
        store.record_pool_page(ACCOUNT, &[row], Cursor(cursor)).await.expect("page");
    }
    let row = parcel_row(3, "PO-1", "M-2", "STM-P2", 9, TrackingStatus::InTransit);
    store.record_pool_page(ACCOUNT, &[row], Cursor(3)).await.expect("page");
    let names = ["erp".to_owned()];

    // Only each parcel's oldest pending delivery is due; other subscriptions' are not asked.
    let claimed = store.claim_deliveries(&names, 10, LOCK).await.expect("claim");
    use TrackingStatus as S;
    assert_eq!(
        changes(&claimed),
        [("erp", "M-1", S::Pending, S::InfoReceived), ("erp", "M-2", S::Pending, S::InTransit)]
    );
    assert!(
        store.claim_deliveries(&["other".to_owned()], 10, LOCK).await.expect("claim").is_empty()
    );
    // Claimed deliveries are nobody else's until the claim ends.
    assert!(store.claim_deliveries(&names, 10, LOCK).await.expect("claim").is_empty());
    assert_eq!(store.claim_delivery(claimed[0].id, LOCK).await.expect("claim one"), None);

    // A failure with a retry keeps it first in its parcel's line; the retry is due at once.
    let failed = Attempt::Failed {
        status_code: Some(503),
        error: "the receiver answered 503".into(),
        retry_in: Some(Duration::ZERO),
    };
    let after =
        store.finish_delivery(claimed[0].id, &failed).await.expect("finish").expect("pending");
    assert_eq!(
        (after.state, after.attempts, after.last_status_code),
        (DeliveryState::Pending, 1, Some(503))
    );
    let delivered = Attempt::Delivered { status_code: 204 };
    let done =
        store.finish_delivery(claimed[1].id, &delivered).await.expect("finish").expect("row");
    assert_eq!(
        (done.state, done.attempts, done.last_error.as_deref()),
        (DeliveryState::Delivered, 1, None)
    );
    assert!(done.finished_at.is_some());
    // Finishing twice changes nothing.
    assert_eq!(store.finish_delivery(claimed[1].id, &delivered).await.expect("finish"), None);

    let again = store.claim_deliveries(&names, 10, LOCK).await.expect("claim");
    assert_eq!(again.iter().map(|d| d.id).collect::<Vec<_>>(), [claimed[0].id]);
    store.finish_delivery(again[0].id, &delivered).await.expect("finish");
    let next = store.claim_deliveries(&names, 10, LOCK).await.expect("claim");
    assert_eq!(changes(&next), [("erp", "M-1", S::InfoReceived, S::InTransit)]);

    // A retry later than the delivery's expiry gives it up; so does no retry at all.
    let too_late = Attempt::Failed {
        status_code: None,
        error: "connection refused".into(),
        retry_in: Some(DAY * 2),
    };
    let gone = store.finish_delivery(next[0].id, &too_late).await.expect("finish").expect("row");
    assert_eq!(gone.state, DeliveryState::Failed);
    assert_eq!(gone.last_error.as_deref(), Some("connection refused"));
    assert!(store.claim_deliveries(&names, 10, LOCK).await.expect("claim").is_empty());

    // Redelivery queues any delivery again, due now, and an operator may claim it directly.
    let Redelivery::Queued(queued) = store.redeliver(gone.id).await.expect("redeliver") else {
        panic!("queued")
    };
    assert_eq!((queued.state, queued.attempts), (DeliveryState::Pending, 1));
    let mine = store.claim_delivery(gone.id, LOCK).await.expect("claim one").expect("claimed");
    assert_eq!(mine.id, gone.id);
    let unwanted = Attempt::Failed { status_code: Some(410), error: "gone".into(), retry_in: None };
    let given_up = store.finish_delivery(mine.id, &unwanted).await.expect("finish").expect("row");
    assert_eq!((given_up.state, given_up.attempts), (DeliveryState::Failed, 2));
    let counts = store.delivery_counts().await.expect("counts");
    let count = |state| counts.iter().find(|c| c.state == state).map_or(0, |c| c.deliveries);
    assert_eq!((count(DeliveryState::Delivered), count(DeliveryState::Failed)), (2, 1));
}

/// A conformance case (see the module docs).
pub async fn concurrent_claims_never_hand_one_delivery_to_two_workers(store: &dyn Store) {
    let parcels: Vec<String> = (0..40).map(|i| format!("M-{i}")).collect();
    let items: Vec<&str> = parcels.iter().map(String::as_str).collect();
    let req = request("PO-1", 5, &items);
    let numbers: Vec<String> = (0..40).map(|i| format!("STM-P{i}")).collect();
    let answered: Vec<(Option<&str>, Option<&str>, &str)> =
        items.iter().zip(&numbers).map(|(m, n)| (Some(*m), None, n.as_str())).collect();
    store.save_order(ACCOUNT, &req, &answer("PO-1", "STM-O1", &answered)).await.expect("save");
    store.set_subscriptions(&[subscription("erp", &[], DAY)]).await.expect("subscribe");
    let page: Vec<_> = items
        .iter()
        .zip(&numbers)
        .enumerate()
        .map(|(i, (m, n))| parcel_row(i as u64 + 1, "PO-1", m, n, 5, TrackingStatus::InTransit))
        .collect();
    store.record_pool_page(ACCOUNT, &page, Cursor(40)).await.expect("page");

    let names = ["erp".to_owned()];
    let claim = || store.claim_deliveries(&names, 15, LOCK);
    let (a, b, c, d) = tokio::join!(claim(), claim(), claim(), claim());
    let mut ids: Vec<u64> =
        [a, b, c, d].into_iter().flat_map(|c| c.expect("claim")).map(|d| d.id).collect();
    let claimed = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), claimed, "no delivery was claimed twice");
    assert_eq!(claimed, 40, "four workers of 15 claimed all 40 between them");
}
